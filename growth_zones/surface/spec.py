"""Surface specification and the output grid (cell size, extent, tiles).

The grid is north-up, EPSG:27700, with square cells of ``resolution_m`` metres whose edges sit on
multiples of the resolution (so 250 m and 1 km grids nest). Rows count from the top (north).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from affine import Affine
from rasterio.windows import Window

from ..errors import InvalidInputError
from ..policy import PROTECTED_DESIGNATIONS

#: Score written for cells that a profile exclusion (or a designation) rules out.
EXCLUDED_SCORE = -1.0
#: Nodata (sea, outside GB) in every band. float32 NaN, declared as the GeoTIFF nodata value.
NODATA = float("nan")

#: Exclusion-state band values.
STATE_CLEAR, STATE_EXCLUDED, STATE_UNKNOWN = 0, 1, 2

#: Designations that make a cell protected: the one list the region and site indicators use too
#: (``growth_zones.indicators.policy``); flood zone 3 is its own indicator.
DEFAULT_PROTECTED = PROTECTED_DESIGNATIONS


@dataclass(frozen=True)
class SurfaceSpec:
    """What to build.

    ``bounds``: (minx, miny, maxx, maxy) in EPSG:27700 metres; ``None`` = the GB land bounds
    (England, Scotland, Wales from the countries layer) snapped outwards to the grid.
    ``tile_size``: cells per tile side; every tile is computed independently.
    ``indicator_bands``: cell indicators to write as extra bands after score and exclusion state.
    ``protected_designations``: designations that make ``protected_share`` 1; a cell is 0 only where
    every one of them has coverage, else NaN (not checked).
    ``extra_exclusions``: (indicator, op, value) rules applied on top of the profile's own exclusions
    (the profile's cell-mappable exclusions are always used).
    ``reference_resolution_m``: lattice used as the fixed national reference distribution for
    data-dependent value functions (percentile, linear without bounds) and the ``median`` rule, so a
    tile never depends on other tiles.
    ``kd_workers``: ``workers`` for cKDTree queries (-1 = all cores; the dask path uses 1).
    ``nodata``: the file's nodata value for sea / outside GB (default NaN; a finite float such as
    -9999 is written in place of NaN and declared as nodata). ``excluded_value`` must differ from it.
    """

    resolution_m: float = 250.0
    bounds: tuple[float, float, float, float] | None = None
    tile_size: int = 1024
    profile: str = "aigz_sites"
    nodata: float = NODATA
    excluded_value: float = EXCLUDED_SCORE
    indicator_bands: tuple[str, ...] = ()
    protected_designations: tuple[str, ...] = DEFAULT_PROTECTED
    extra_exclusions: tuple[tuple[str, str, float], ...] = ()
    reference_resolution_m: float = 5000.0
    route_factor: float = 1.5
    fibre_km_per_ms: float = 200.0
    kd_workers: int = -1
    compress: str = "ZSTD"
    compress_level: int = 1
    line_spacing_fraction: float = 0.25
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not (self.resolution_m > 0 and math.isfinite(self.resolution_m)):
            raise InvalidInputError(f"resolution_m must be a positive number (got {self.resolution_m!r})")
        if self.tile_size < 1:
            raise InvalidInputError(f"tile_size must be >= 1 (got {self.tile_size})")
        if self.nodata == self.excluded_value:
            raise InvalidInputError("nodata and excluded_value must differ")
        if not 0 < self.line_spacing_fraction <= 0.25:
            raise InvalidInputError("line_spacing_fraction must be in (0, 0.25] (densify at <= resolution/4)")


@dataclass(frozen=True)
class Grid:
    """A north-up grid: ``width`` x ``height`` cells of ``res`` m with top-left corner (x0, y0)."""

    x0: float
    y0: float
    res: float
    width: int
    height: int

    @classmethod
    def from_bounds(cls, bounds: tuple[float, float, float, float], res: float, *, snap: bool = True) -> Grid:
        minx, miny, maxx, maxy = bounds
        if snap:
            minx, miny = math.floor(minx / res) * res, math.floor(miny / res) * res
            maxx, maxy = math.ceil(maxx / res) * res, math.ceil(maxy / res) * res
        width = max(1, int(round((maxx - minx) / res)))
        height = max(1, int(round((maxy - miny) / res)))
        return cls(float(minx), float(maxy), float(res), width, height)

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.x0, 0.0, -self.res, self.y0)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0 - self.height * self.res, self.x0 + self.width * self.res, self.y0)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def window_transform(self, win: Window) -> Affine:
        # computed directly (rasterio.windows.transform uses the deprecated Affine `*` product)
        return Affine(
            self.res, 0.0, self.x0 + win.col_off * self.res, 0.0, -self.res, self.y0 - win.row_off * self.res
        )

    def window_bounds(self, win: Window) -> tuple[float, float, float, float]:
        x0 = self.x0 + win.col_off * self.res
        y1 = self.y0 - win.row_off * self.res
        return (x0, y1 - win.height * self.res, x0 + win.width * self.res, y1)

    def centres(self, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (per column) and y (per row) of a window, float64 metres."""
        xs = self.x0 + (win.col_off + np.arange(win.width, dtype=np.float64) + 0.5) * self.res
        ys = self.y0 - (win.row_off + np.arange(win.height, dtype=np.float64) + 0.5) * self.res
        return xs, ys

    def tiles(self, tile_size: int) -> Iterator[Window]:
        """Row-major windows of at most ``tile_size`` cells covering the grid exactly once."""
        for r in range(0, self.height, tile_size):
            for c in range(0, self.width, tile_size):
                yield Window(c, r, min(tile_size, self.width - c), min(tile_size, self.height - r))

    @property
    def full_window(self) -> Window:
        return Window(0, 0, self.width, self.height)

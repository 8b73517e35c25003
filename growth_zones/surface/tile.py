"""The per-tile computation. Everything here is tile-local given the global inputs in
:class:`SurfaceInputs`, so tiles can run in any order, in threads, or on Dask workers, and the
mosaic of tiles equals a single whole-grid computation bit for bit.

Rules used (and tested against plain shapely/numpy oracles in ``tests/test_surface_*.py``):

* **Masks** (land, designations, coverage, discount area) use ``rasterio.features.rasterize`` with
  ``all_touched=False``: GDAL's *cell-centre rule*, a cell is inside a polygon when its centre is.
  Each tile is rasterised on its own ``out_shape``/window transform, from only the geometries whose
  bounding box meets the tile (a shapely STRtree query).
* **Distances to points** are exact Euclidean distances from cell centres. The tile is cut into
  blocks; for each block the global ``cKDTree`` gives the nearest point to the block centre (d0) and
  every point within ``d0 + 2h`` of it (h = half the block diagonal). That candidate set provably
  contains the nearest point of every cell in the block, so a brute-force minimum over it is exact;
  blocks with many candidates query the cKDTree per cell instead. Either way the distance is then
  evaluated as ``sqrt((y - py)**2 + (x - px)**2)`` in float64 from the chosen point, so results do
  not depend on the tiling.
* **Distances to lines** densify each line to vertices at most ``s = resolution/4`` apart
  (``shapely.segmentize``) and use the point method. The distance to the nearest vertex overestimates
  the true distance by at most ``s/2`` (= resolution/8) and never underestimates it.
* **Population within R km**: the 1 km population raster is convolved once with a disc kernel
  (cells whose centre is within R of the kernel centre, ``scipy.signal.fftconvolve``) and each cell
  takes the value of the 1 km cell its centre falls in (nearest 1 km cell). Outside the population
  raster: NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window
from scipy.spatial import cKDTree

from .criteria import CriteriaPlan, score_cells
from .spec import STATE_CLEAR, STATE_EXCLUDED, STATE_UNKNOWN, Grid

POINT_INDICATORS = {
    "dist_substation_km": "substation",
    "dist_transmission_node_km": "transmission",
    "dist_ix_km": "ix",
    "dist_landing_km": "landing",
    "dist_circuit_km": "circuit",
    "rtt_london_ms": "london_ix",
}

NODE_VALUES = {
    "substation_voltage_kv": ("substation", "voltage_kv"),
    "tec_contracted_mw_node": ("transmission", "tec_contracted_mw"),
}
"""Cell indicators read off the nearest grid node: (point set, node column). The same node the site
indicators read for an application (the nearest transmission site or GSP for the voltage, the nearest
transmission node for its contracted TEC)."""

BLOCK = 128  # cells per side of a distance block
MAX_CANDIDATES = 48  # above this, a block queries the cKDTree per cell


@dataclass
class SurfaceInputs:
    """Global, picklable inputs of the per-tile function (scatter once to Dask workers).

    Geometries are shapely arrays; points are (n, 2) float64 arrays of EPSG:27700 metres. Spatial
    indexes (STRtree, cKDTree) are rebuilt lazily on each process and never pickled.
    """

    grid: Grid
    plan: CriteriaPlan
    needed: tuple[str, ...]
    band_names: tuple[str, ...]
    land: np.ndarray
    points: dict[str, np.ndarray] = field(default_factory=dict)
    point_values: dict[str, np.ndarray] = field(default_factory=dict)
    """Per cell indicator of ``NODE_VALUES``: the node value at each point of its point set (same
    order as ``points[key]``; NaN where the node has none)."""
    designated: dict[str, np.ndarray] = field(default_factory=dict)
    covered: dict[str, np.ndarray] = field(default_factory=dict)
    flood: np.ndarray | None = None
    flood_covered: np.ndarray | None = None
    discount: np.ndarray | None = None
    deprivation: tuple[np.ndarray, np.ndarray] | None = None
    """LAD polygon parts and the within-nation deprivation percentile of each (NaN: no data)."""
    pop: dict[str, tuple[np.ndarray, float, float, float]] = field(default_factory=dict)
    route_factor: float = 1.5
    fibre_km_per_ms: float = 200.0
    kd_workers: int = -1
    excluded_value: float = -1.0
    protected: tuple[str, ...] = ()  # the designations of protected_share (empty: every one given)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def geometry_groups(self) -> dict[str, np.ndarray]:
        """Every geometry array a tile may rasterise, by cache key."""
        groups: dict[str, np.ndarray] = {"land": self.land}
        for d, g in self.designated.items():
            groups[f"des:{d}"] = g
        for d, g in self.covered.items():
            groups[f"cov:{d}"] = g
        for key, g in (("flood", self.flood), ("flood_cov", self.flood_covered), ("discount", self.discount)):
            if g is not None:
                groups[key] = g
        if self.deprivation is not None:
            groups["deprivation"] = self.deprivation[0]
        return {k: g for k, g in groups.items() if len(g)}

    def warm(self) -> SurfaceInputs:
        """Build every spatial index now (before tiles run on several threads)."""
        for key, g in self.geometry_groups().items():
            self.strtree(key, g)
        for key in self.points:
            self.kdtree(key)
        return self

    def strtree(self, key: str, geoms: np.ndarray) -> shapely.STRtree:
        t = self._cache.get(("str", key))
        if t is None:
            shapely.prepare(geoms)
            t = self._cache[("str", key)] = shapely.STRtree(geoms)
        return t

    def kdtree(self, key: str) -> cKDTree | None:
        pts = self.points.get(key)
        if pts is None or len(pts) == 0:
            return None
        t = self._cache.get(("kd", key))
        if t is None:
            t = self._cache[("kd", key)] = cKDTree(pts)
        return t


# ------------------------------------------------------------------------------ masks
SPLIT_VERTICES = 4000  # a window whose clipped geometry has more vertices is split in four
MIN_SPLIT = 64  # ... unless it is smaller than this many cells on a side


def burn(geoms: np.ndarray | None, tree: shapely.STRtree | None, grid: Grid, win: Window) -> np.ndarray:
    """Boolean mask of cells whose centre is inside any of ``geoms`` (cell-centre rule).

    ``rasterio.features.rasterize(all_touched=False)`` decides every cell, on the window's own
    ``out_shape`` and transform. To keep GDAL's scanline work (rows x edges) small the window is
    handled as a quadtree: only geometries whose bounding box meets it are used (STRtree); a
    (sub)window inside one geometry is all True and one meeting none is all False without
    rasterising; geometries are clipped to the (sub)window grown by one cell (``clip_by_rect`` leaves
    them unchanged there, so the centre rule picks the same cells); a (sub)window whose clipped
    geometry still has many vertices is split in four.
    """
    shape = (int(win.height), int(win.width))
    out = np.zeros(shape, dtype=bool)
    if geoms is None or len(geoms) == 0:
        return out
    wbox = shapely.box(*grid.window_bounds(win))
    idx = np.sort(tree.query(wbox)) if tree is not None else np.arange(len(geoms))
    if len(idx) == 0:
        return out
    sel = geoms[idx]
    _burn_into(out, sel, sel, grid, int(win.row_off), int(win.col_off), 0, 0, shape[0], shape[1])
    return out


def _burn_into(
    out: np.ndarray,
    orig: np.ndarray,
    parts: np.ndarray,
    grid: Grid,
    row0: int,
    col0: int,
    r: int,
    c: int,
    h: int,
    w: int,
) -> None:
    sub = Window(col0 + c, row0 + r, w, h)
    x0, y0, x1, y1 = grid.window_bounds(sub)
    wbox = shapely.box(x0, y0, x1, y1)
    if shapely.contains(orig, wbox).any():  # prepared originals: cheap and robust
        out[r : r + h, c : c + w] = True
        return
    m = grid.res
    clipped = shapely.clip_by_rect(parts, x0 - m, y0 - m, x1 + m, y1 + m)
    keep = ~shapely.is_empty(clipped)
    if not keep.any():
        return
    clipped, orig = clipped[keep], orig[keep]
    if shapely.get_num_coordinates(clipped).sum() > SPLIT_VERTICES and min(h, w) >= 2 * MIN_SPLIT:
        h2, w2 = h // 2, w // 2
        for rr, hh in ((r, h2), (r + h2, h - h2)):
            for cc, ww in ((c, w2), (c + w2, w - w2)):
                _burn_into(out, orig, clipped, grid, row0, col0, rr, cc, hh, ww)
        return
    out[r : r + h, c : c + w] = rasterize(
        ((g, 1) for g in clipped),
        out_shape=(h, w),
        transform=grid.window_transform(sub),
        fill=0,
        all_touched=False,
        dtype="uint8",
    ).astype(bool)


def _burn_key(inp: SurfaceInputs, key: str, geoms: np.ndarray | None, win: Window, grid: Grid) -> np.ndarray:
    tree = inp.strtree(key, geoms) if geoms is not None and len(geoms) else None
    return burn(geoms, tree, grid, win)


def burn_values(
    geoms: np.ndarray, values: np.ndarray, tree: shapely.STRtree, grid: Grid, win: Window
) -> np.ndarray:
    """Float64 raster of ``values[i]`` where the cell centre lies in ``geoms[i]`` (cell-centre rule,
    non-overlapping polygons such as LADs); NaN elsewhere. Polygons are burnt as integer ids (1-based
    positions of the geometries meeting the window) and the ids looked up in ``values``."""
    shape = (int(win.height), int(win.width))
    idx = np.sort(tree.query(shapely.box(*grid.window_bounds(win))))
    if len(idx) == 0:
        return np.full(shape, np.nan)
    ids = rasterize(
        ((g, i + 1) for i, g in enumerate(geoms[idx])),
        out_shape=shape,
        transform=grid.window_transform(win),
        fill=0,
        all_touched=False,
        dtype="int32",
    )
    lut = np.concatenate([[np.nan], np.asarray(values, dtype=np.float64)[idx]])
    return lut[ids]


# -------------------------------------------------------------------------- distances
def nearest_distance(
    tree: cKDTree,
    xs: np.ndarray,
    ys: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    block: int = BLOCK,
    max_candidates: int = MAX_CANDIDATES,
    workers: int = -1,
) -> np.ndarray:
    """Exact Euclidean distance (m, float64) from each cell centre (ys[row], xs[col]) to the nearest
    point of ``tree``; NaN where ``mask`` is False. See the module docstring for the method."""
    pts = tree.data
    h, w = len(ys), len(xs)
    out = np.full((h, w), np.nan, dtype=np.float64)
    for r0 in range(0, h, block):
        for c0 in range(0, w, block):
            by, bx = ys[r0 : r0 + block], xs[c0 : c0 + block]
            m = None if mask is None else mask[r0 : r0 + block, c0 : c0 + block]
            if m is not None and not m.any():
                continue
            cx, cy = 0.5 * (bx[0] + bx[-1]), 0.5 * (by[0] + by[-1])
            half = 0.5 * float(np.hypot(bx[-1] - bx[0], by[0] - by[-1]))
            d0, _ = tree.query((cx, cy))
            r = d0 + 2.0 * half
            cand = tree.query_ball_point((cx, cy), r * (1 + 1e-9) + 1e-6)
            sub = out[r0 : r0 + block, c0 : c0 + block]
            if len(cand) <= max_candidates:
                p = pts[np.sort(np.asarray(cand, dtype=np.int64))]
                dx2 = (bx[None, :] - p[:, 0:1]) ** 2
                dy2 = (by[None, :] - p[:, 1:2]) ** 2
                best = dy2[0][:, None] + dx2[0][None, :]
                for k in range(1, len(p)):
                    np.minimum(best, dy2[k][:, None] + dx2[k][None, :], out=best)
                d = np.sqrt(best)
                if m is None:
                    sub[...] = d
                else:
                    sub[m] = d[m]
            else:
                rr, cc = np.nonzero(m) if m is not None else np.nonzero(np.ones((len(by), len(bx)), bool))
                qx, qy = bx[cc], by[rr]
                _, i = tree.query(np.column_stack([qx, qy]), workers=workers)
                p = pts[i]
                sub[rr, cc] = np.sqrt((qy - p[:, 1]) ** 2 + (qx - p[:, 0]) ** 2)
    return out


# -------------------------------------------------------------------------- population
def sample_grid(
    arr: np.ndarray, x0: float, y0: float, res: float, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Value of the raster cell containing each point (x, y); NaN outside the raster."""
    col = np.floor((x - x0) / res).astype(np.int64)
    row = np.floor((y0 - y) / res).astype(np.int64)
    ok = (col >= 0) & (col < arr.shape[1]) & (row >= 0) & (row < arr.shape[0])
    out = np.full(x.shape, np.nan, dtype=np.float64)
    out[ok] = arr[row[ok], col[ok]]
    return out


# ------------------------------------------------------------------------ indicators
def compute_indicators(
    inp: SurfaceInputs, grid: Grid, win: Window
) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """Land mask of the window and each needed indicator for its land cells (1-D, row-major).

    Returns ``None`` when no land cell centre falls in the window (sea tile: nothing computed).
    """
    land_tree = inp.strtree("land", inp.land)
    if len(land_tree.query(shapely.box(*grid.window_bounds(win)))) == 0:
        return None
    land = burn(inp.land, land_tree, grid, win)
    if not land.any():
        return None
    xs, ys = grid.centres(win)
    rr, cc = np.nonzero(land)
    x, y = xs[cc], ys[rr]
    ind: dict[str, np.ndarray] = {}
    dist_cache: dict[str, np.ndarray] = {}

    def dist_km(key: str) -> np.ndarray:
        if key not in dist_cache:
            tree = inp.kdtree(key)
            if tree is None:
                dist_cache[key] = np.full(len(x), np.nan)
            else:
                d = nearest_distance(tree, xs, ys, land, workers=inp.kd_workers)
                dist_cache[key] = d[rr, cc] / 1000.0
        return dist_cache[key]

    for name in inp.needed:
        if name == "rtt_london_ms":
            ind[name] = 2.0 * dist_km("london_ix") * inp.route_factor / inp.fibre_km_per_ms
        elif name in POINT_INDICATORS:
            ind[name] = dist_km(POINT_INDICATORS[name])
        elif name in NODE_VALUES:
            tree = inp.kdtree(NODE_VALUES[name][0])
            vals = inp.point_values.get(name)
            if tree is None or vals is None or len(x) == 0:
                ind[name] = np.full(len(x), np.nan)
            else:  # exact nearest point (cKDTree, eps=0): the node the distance is measured to
                _, i = tree.query(np.column_stack([x, y]), workers=inp.kd_workers)
                ind[name] = np.asarray(vals, dtype=np.float64)[i]
        elif name in inp.pop:
            arr, px0, py0, pres = inp.pop[name]
            ind[name] = sample_grid(arr, px0, py0, pres, x, y)
        elif name in ("population_30km", "population_50km"):
            ind[name] = np.full(len(x), np.nan)
        elif name == "in_discount_area":
            if inp.discount is None:
                ind[name] = np.full(len(x), np.nan)
            else:
                ind[name] = _burn_key(inp, "discount", inp.discount, win, grid)[rr, cc].astype(np.float64)
        elif name == "deprivation_percentile":
            if inp.deprivation is None:
                ind[name] = np.full(len(x), np.nan)
            else:
                geoms, vals = inp.deprivation
                tree = inp.strtree("deprivation", geoms)
                ind[name] = burn_values(geoms, vals, tree, grid, win)[rr, cc]
        elif name == "protected_share":
            designated = np.zeros(land.shape, dtype=bool)
            all_covered = np.ones(land.shape, dtype=bool)
            for d in inp.protected or sorted(set(inp.designated) | set(inp.covered)):
                designated |= _burn_key(inp, f"des:{d}", inp.designated.get(d), win, grid)
                all_covered &= _burn_key(inp, f"cov:{d}", inp.covered.get(d), win, grid)
            val = np.where(designated, 1.0, np.where(all_covered, 0.0, np.nan))
            ind[name] = val[rr, cc]
        elif name.startswith("share_") and name[len("share_") :] in inp.covered:
            d = name[len("share_") :]
            inside = _burn_key(inp, f"des:{d}", inp.designated.get(d), win, grid)
            checked = _burn_key(inp, f"cov:{d}", inp.covered.get(d), win, grid)
            ind[name] = np.where(inside, 1.0, np.where(checked, 0.0, np.nan))[rr, cc]
        elif name.startswith("share_"):
            ind[name] = np.full(len(x), np.nan)  # no layer for this designation: not checked
        elif name == "in_flood_zone_3":
            fz = _burn_key(inp, "flood", inp.flood, win, grid)
            cov = _burn_key(inp, "flood_cov", inp.flood_covered, win, grid)
            ind[name] = np.where(fz, 1.0, np.where(cov, 0.0, np.nan))[rr, cc]
        else:
            raise KeyError(f"unknown cell indicator {name!r}")
    return land, ind


def compute_tile(inp: SurfaceInputs, win: Window) -> tuple[Window, np.ndarray | None]:
    """All output bands of one window as float32 ``(bands, rows, cols)``; ``None`` for sea tiles.

    Band 1 score (exclusions -> ``excluded_value``), band 2 exclusion state (0 clear, 1 excluded,
    2 unknown), then ``inp.band_names[2:]`` indicator bands. Sea / outside GB: NaN.
    """
    res = compute_indicators(inp, inp.grid, win)
    if res is None:
        return win, None
    land, ind = res
    score, excluded, unknown = score_cells(inp.plan, ind)
    unknown |= np.isnan(score) & ~excluded
    score = np.where(excluded, inp.excluded_value, score)
    state = np.where(excluded, STATE_EXCLUDED, np.where(unknown, STATE_UNKNOWN, STATE_CLEAR))
    out = np.full((len(inp.band_names), int(win.height), int(win.width)), np.nan, dtype=np.float32)
    out[0][land] = score
    out[1][land] = state
    for b, name in enumerate(inp.band_names[2:], start=2):
        out[b][land] = ind[name]
    return win, out

"""The set of canonical layers the indicators read, and where each designation is known."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalogue import Dataset, datasets_for_layer
from ..errors import DataSourceError
from ..loaders import RasterData
from ..settings import BNG

log = logging.getLogger(__name__)

DISCOUNT_AREA_LAD_CODES: frozenset[str] = frozenset(
    [
        # Cumbria: the 2023 unitaries and the six pre-April-2023 districts.
        "E06000063",  # Cumberland
        "E06000064",  # Westmorland and Furness
        "E07000026", "E07000027", "E07000028", "E07000029", "E07000030", "E07000031",
        # North East England region (E12000001): Hartlepool, Middlesbrough, Redcar and Cleveland,
        # Stockton-on-Tees, Darlington, County Durham, Northumberland, Newcastle, North Tyneside,
        # South Tyneside, Sunderland, Gateshead.
        "E06000001", "E06000002", "E06000003", "E06000004", "E06000005", "E06000047", "E06000057",
        "E08000021", "E08000022", "E08000023", "E08000024", "E08000037",
    ]
)
"""English LADs in the constraint-cost electricity discount area. DOMAIN.md section 1: "Delivering AI
Growth Zones" (CP 1440, 13 Nov 2025) offers the discount in **Scotland, Cumbria and the North East**
(cms.law). All of Scotland qualifies by nation; these are the English districts. The exact
boundary (region vs. DNO area) is not stated in the sources; the ONS North East region is assumed."""

DISCOUNT_AREA_NATIONS: frozenset[str] = frozenset({"Scotland"})


def in_discount_area(codes: pd.Series, nations: pd.Series) -> pd.Series:
    """Vectorised membership of the discount area from LAD code and nation."""
    return (codes.isin(DISCOUNT_AREA_LAD_CODES) | nations.isin(DISCOUNT_AREA_NATIONS)).astype("boolean")


@dataclass
class LayerSet:
    """Canonical layers (EPSG:27700). Any layer may be ``None``: indicators that need it are then
    missing with the reason ``"layer <x> not available"``."""

    regions: gpd.GeoDataFrame | None = None
    countries: gpd.GeoDataFrame | None = None
    substations: gpd.GeoDataFrame | None = None
    circuits: gpd.GeoDataFrame | None = None
    tec_projects: pd.DataFrame | None = None
    renewables: gpd.GeoDataFrame | None = None
    landing_points: gpd.GeoDataFrame | None = None
    internet_exchanges: gpd.GeoDataFrame | None = None
    protected_areas: gpd.GeoDataFrame | None = None
    designation_coverage: gpd.GeoDataFrame | None = None
    broadband_by_region: pd.DataFrame | None = None
    population_by_region: pd.DataFrame | None = None
    population_grid: RasterData | None = None
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Derived intermediates (transmission sets, TEC matches, raster convolutions, subdivided
    coverages). Cleared whenever a layer attribute is reassigned; after mutating a frame in place,
    call :meth:`clear_cache`."""

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if not name.startswith("_") and "_cache" in self.__dict__:
            self.__dict__["_cache"].clear()

    def clear_cache(self) -> None:
        self._cache.clear()

    def __repr__(self) -> str:
        parts = []
        for name in self.layer_names():
            v = getattr(self, name)
            if v is None:
                parts.append(f"{name}=None")
            elif isinstance(v, RasterData):
                parts.append(f"{name}=raster{tuple(v.array.shape)}")
            else:
                parts.append(f"{name}={len(v)} rows")
        return "LayerSet(" + ", ".join(parts) + ")"

    @classmethod
    def layer_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if not f.name.startswith("_"))

    @classmethod
    def from_store(cls, store: Any, *, include_northern_ireland: bool = False) -> "LayerSet":
        """Read every layer from a ``growth_zones.store.Store``; a layer the store cannot provide
        (``DataSourceError``) becomes ``None``. ``designation_coverage`` is built from the catalogue
        (see :func:`build_designation_coverage`)."""
        got: dict[str, Any] = {}
        for name in cls.layer_names():
            if name == "designation_coverage":
                continue
            try:
                got[name] = store.read_raster(name) if name == "population_grid" else store.read_layer(name)
            except DataSourceError as err:
                log.warning("layer %s not available: %s", name, err)
                got[name] = None
        coverage_areas = None
        try:
            coverage_areas = store.read_layer("coverage_areas")
        except DataSourceError as err:
            log.warning("layer coverage_areas not available: %s", err)
        layers = cls(**got)
        if not include_northern_ireland:
            layers = layers.gb_only()
        if layers.protected_areas is not None:
            layers.designation_coverage = build_designation_coverage(
                layers.protected_areas, coverage_areas, layers.regions, layers.countries,
                catalogue=getattr(store, "catalogue", None),
            )
        return layers

    def gb_only(self) -> "LayerSet":
        """Drop Northern Ireland rows from regions and countries (returns self, modified)."""
        for name in ("regions", "countries"):
            frame = getattr(self, name)
            if frame is not None and "nation" in frame:
                setattr(self, name, frame[frame["nation"] != "Northern Ireland"])
        return self


def _union(geoms: Any) -> shapely.Geometry:
    return shapely.union_all(shapely.make_valid(np.asarray(geoms)))


def build_designation_coverage(
    protected_areas: gpd.GeoDataFrame,
    coverage_areas: gpd.GeoDataFrame | None,
    regions: gpd.GeoDataFrame | None,
    countries: gpd.GeoDataFrame | None,
    catalogue: dict[str, Dataset] | None = None,
) -> gpd.GeoDataFrame:
    """Where each designation dataset is complete: one row per (designation, dataset).

    Each catalogue entry of the ``protected_areas`` layer carries ``designation`` and
    ``coverage_area``:

    * ``"gb"``: the union of the GB countries (regions if no countries layer);
    * an area name, e.g. ``"north_east"``: the ``coverage_areas`` rows with that ``area``;
    * ``"lad:<code>"``: that LAD's polygon from ``regions``;
    * ``"extent"``: the envelope of the dataset's own features (the extract was a rectangular
      user-area download; a union would call every gap between polygons 'not checked').

    Only datasets present in ``protected_areas`` (by its ``dataset`` column) are used: a dataset
    that was not loaded must not turn 'not checked' into 'absent'. A coverage that cannot be
    resolved (e.g. a LAD code absent from this boundary vintage) is skipped with a warning.
    """
    if catalogue is None:
        entries = datasets_for_layer("protected_areas")
    else:
        entries = [d for d in catalogue.values() if d.layer == "protected_areas"]
    present = set(protected_areas["dataset"]) if "dataset" in protected_areas else set()
    rows: list[tuple[str, str, shapely.Geometry]] = []
    gb_geom: shapely.Geometry | None = None
    for ds in entries:
        if ds.key not in present or not ds.designation or not ds.coverage_area:
            continue
        area = ds.coverage_area
        geom: shapely.Geometry | None = None
        if area == "gb":
            if gb_geom is None:
                src = countries if countries is not None else regions
                if src is not None:
                    src = src[src["nation"] != "Northern Ireland"] if "nation" in src else src
                    gb_geom = _union(src.geometry.values)
            geom = gb_geom
        elif area == "extent":
            feats = protected_areas.geometry[protected_areas["dataset"] == ds.key]
            geom = shapely.box(*feats.total_bounds)
        elif area.startswith("lad:"):
            code = area.split(":", 1)[1]
            if regions is not None:
                hit = regions[regions["code"] == code]
                if len(hit):
                    geom = _union(hit.geometry.values)
        elif coverage_areas is not None:
            hit = coverage_areas[coverage_areas["area"] == area]
            if len(hit):
                geom = _union(hit.geometry.values)
        if geom is None or geom.is_empty:
            log.warning("coverage %r of dataset %s could not be resolved; %s treated as not checked",
                        area, ds.key, ds.designation)
            continue
        rows.append((ds.designation, ds.key, geom))
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["designation", "dataset", "geometry"]), geometry="geometry", crs=BNG
    )


def layers_from_mirror(mirror: Any, *, include_northern_ireland: bool = False) -> LayerSet:
    """Build a :class:`LayerSet` by running the normalisers directly on a folder of raw files laid
    out by catalogue ``mirror_path`` (e.g. ``../shared/data``), without the store. Used by the
    real-data tests and the benchmark; every default dataset of each layer is concatenated."""
    from pathlib import Path

    from ..catalogue import load_catalogue
    from ..loaders import RawInput, get_normaliser

    mirror = Path(mirror)
    cat = load_catalogue()
    done: dict[str, Any] = {}

    def run(key: str) -> Any:
        if key not in done:
            ds = cat[key]
            deps = {dep: run(dep).frame for dep in ds.requires}
            raw = RawInput(ds, [mirror / p for p in ds.mirror_paths], deps)
            done[key] = get_normaliser(ds.normaliser)(raw)
        return done[key]

    got: dict[str, Any] = {}
    for name in [*LayerSet.layer_names(), "coverage_areas"]:
        if name == "designation_coverage":
            continue
        entries = datasets_for_layer(name, cat)
        if not entries:
            continue
        if name == "population_grid":
            got[name] = run(entries[0].key).raster
            continue
        parts = [run(ds.key).frame for ds in entries]
        parts = [p for p in parts if p is not None]
        if not parts:
            continue
        frame = pd.concat(parts, ignore_index=True)
        if isinstance(parts[0], gpd.GeoDataFrame):
            frame = gpd.GeoDataFrame(frame, geometry=parts[0].geometry.name, crs=parts[0].crs)
        got[name] = frame
    coverage_areas = got.pop("coverage_areas", None)
    layers = LayerSet(**got)
    if not include_northern_ireland:
        layers.gb_only()
    if layers.protected_areas is not None:
        layers.designation_coverage = build_designation_coverage(
            layers.protected_areas, coverage_areas, layers.regions, layers.countries, catalogue=cat
        )
    return layers

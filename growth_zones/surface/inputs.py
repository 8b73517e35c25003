"""Turn canonical layers (a ``LayerSet`` or any object / mapping with the layer names) into the
global, picklable :class:`~growth_zones.surface.tile.SurfaceInputs` of the per-tile function."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..data.schemas import GB_NATIONS
from ..errors import DataSourceError, SchemaError
from ..policy import in_discount_area
from .criteria import CriteriaPlan
from .spec import Grid, SurfaceSpec
from .tile import NODE_VALUES, POINT_INDICATORS, SurfaceInputs

POP_RADII = {"population_30km": 30_000.0, "population_50km": 50_000.0}


def site_nodes(layers: Any, which: str = "site") -> gpd.GeoDataFrame | None:
    """Grid nodes that are transmission sites or GSPs (``which="site"``: one point per physical site,
    the set the site indicators measure ``dist_substation_km`` to) or transmission sites only;
    None without a substations layer."""
    from ..data.layers import LayerSet
    from ..indicators import grid_nodes

    if layer(layers, "substations") is None:
        return None
    if not isinstance(layers, LayerSet):
        layers = LayerSet(**{n: layer(layers, n) for n in LayerSet.layer_names()})
    return grid_nodes(layers).placed(which)


def checked_lines(layers: Any) -> gpd.GeoDataFrame | None:
    """The circuits layer without ETYS lines drawn from a rejected position
    (``growth_zones.indicators.checked_circuits``); as it is without a substations layer."""
    from ..data.layers import LayerSet
    from ..indicators import checked_circuits

    if layer(layers, "circuits") is None or layer(layers, "substations") is None:
        return layer(layers, "circuits")
    if not isinstance(layers, LayerSet):
        layers = LayerSet(**{n: layer(layers, n) for n in LayerSet.layer_names()})
    return checked_circuits(layers)


def layer(layers: Any, name: str) -> Any:
    """A layer from a LayerSet-like object or a mapping; ``None`` if absent."""
    if isinstance(layers, dict):
        return layers.get(name)
    return getattr(layers, name, None)


def default_discount_areas(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Scotland, Cumbria and North East LAD polygons from a regions layer (code/nation columns),
    by the same definition the region and site indicators use (``indicators.policy``)."""
    sel = in_discount_area(regions["code"].astype(str), regions["nation"].astype(str)).fillna(False)
    return regions.loc[sel.to_numpy(dtype=bool)]


def deprivation_parts(layers: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Polygon parts of every LAD with its within-nation deprivation percentile (the same join the
    region and site indicators use); ``None`` without a regions layer."""
    from ..indicators.deprivation import deprivation_by_code

    regions = layer(layers, "regions")
    if regions is None or len(regions) == 0:
        return None
    table = layer(layers, "deprivation_by_region")
    values, _, _ = deprivation_by_code(regions["code"].astype(str).to_numpy(), _Shim(table))
    g = regions.geometry.to_numpy()
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    g, values = g[ok], values[ok]
    bad = ~shapely.is_valid(g)
    if bad.any():
        g = g.copy()
        g[bad] = shapely.make_valid(g[bad])
    parts, owner = shapely.get_parts(g, return_index=True)  # (multi)polygons, collections
    parts, inner = shapely.get_parts(parts, return_index=True)  # ... and what collections held
    owner = owner[inner]
    poly = shapely.get_type_id(parts) == 3
    return parts[poly], values[owner[poly]]


class _Shim:
    """The one attribute :func:`deprivation_by_code` reads (layers may be a LayerSet, a mapping or
    any object with layer attributes)."""

    def __init__(self, table: Any) -> None:
        self.deprivation_by_region = table


def _geoms(gdf: gpd.GeoDataFrame | None) -> np.ndarray:
    if gdf is None or len(gdf) == 0:
        return np.empty(0, dtype=object)
    g = gdf.geometry.to_numpy()
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    bad = ~shapely.is_valid(g)
    if bad.any():
        g = g.copy()
        g[bad] = shapely.make_valid(g[bad])
    # explode (multi)polygons / collections so the STRtree prunes on parts (islands etc.)
    parts = shapely.get_parts(shapely.get_parts(g))
    keep = shapely.get_type_id(parts) == 3  # Polygon
    return parts[keep]


def _points(gdf: gpd.GeoDataFrame | None) -> np.ndarray:
    if gdf is None or len(gdf) == 0:
        return np.empty((0, 2), dtype=np.float64)
    g = gdf.geometry.to_numpy()
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    xy = shapely.get_coordinates(g)  # points: one row each; multipoints: every part
    return np.unique(xy.astype(np.float64), axis=0)


def point_values(gdf: gpd.GeoDataFrame | None, column: str) -> np.ndarray:
    """``column`` at each point of :func:`_points` (same order); where several features share a
    position, the largest value (NaN when none has one)."""
    if gdf is None or len(gdf) == 0:
        return np.empty(0, dtype=np.float64)
    g = gdf.geometry.to_numpy()
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    vals = (
        pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=np.float64)[ok]
        if column in gdf.columns
        else np.full(int(ok.sum()), np.nan)
    )
    xy, idx = shapely.get_coordinates(g[ok], return_index=True)
    _, inverse = np.unique(xy.astype(np.float64), axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    out = np.full(int(inverse.max()) + 1 if len(inverse) else 0, -np.inf)
    v = vals[idx]
    np.maximum.at(out, inverse, np.where(np.isnan(v), -np.inf, v))
    out[np.isneginf(out)] = np.nan
    return out


def densify_lines(gdf: gpd.GeoDataFrame | None, spacing: float) -> np.ndarray:
    """Vertices of every line with consecutive vertices at most ``spacing`` metres apart."""
    if gdf is None or len(gdf) == 0:
        return np.empty((0, 2), dtype=np.float64)
    g = gdf.geometry.to_numpy()
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    return np.unique(shapely.get_coordinates(shapely.segmentize(g, spacing)), axis=0)


def disc_kernel(radius_m: float, cell_m: float) -> np.ndarray:
    """1 for cells whose centre lies within ``radius_m`` of the centre cell's centre."""
    n = int(np.floor(radius_m / cell_m))
    off = np.arange(-n, n + 1, dtype=np.float64) * cell_m
    return ((off[:, None] ** 2 + off[None, :] ** 2) <= radius_m**2).astype(np.float64)


def population_within(pop: Any, radius_m: float) -> tuple[np.ndarray, float, float, float]:
    """Convolve a population RasterData (north-up, square cells) with a disc: residents within R."""
    arr = np.asarray(pop.array, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[0]
    nodata = pop.profile.get("nodata")
    bad = ~np.isfinite(arr)
    if nodata is not None and np.isfinite(nodata):
        bad |= arr == nodata
    arr = np.where(bad | (arr < 0), 0.0, arr)
    t = pop.profile["transform"]
    if t.b != 0 or t.d != 0 or abs(t.a) != abs(t.e):
        raise SchemaError("the population grid must be north-up with square cells")
    from scipy.signal import fftconvolve  # lazy: slow to import, only the driver needs it

    conv = fftconvolve(arr, disc_kernel(radius_m, t.a), mode="same")
    conv = np.where(conv < 0.5, 0.0, conv)  # FFT round-off around zero
    return conv.astype(np.float32), float(t.c), float(t.f), float(t.a)


def gb_land(countries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "nation" in countries.columns:
        return countries.loc[countries["nation"].isin(GB_NATIONS)]
    return countries


def surface_grid(layers: Any, spec: SurfaceSpec) -> Grid:
    if spec.bounds is not None:
        return Grid.from_bounds(spec.bounds, spec.resolution_m)
    countries = layer(layers, "countries")
    if countries is None or len(countries) == 0:
        raise DataSourceError("surface bounds: give SurfaceSpec.bounds or a countries layer")
    return Grid.from_bounds(tuple(gb_land(countries).total_bounds), spec.resolution_m)


def _by_designation(gdf: gpd.GeoDataFrame | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    out = {d: np.empty(0, dtype=object) for d in names}
    if gdf is None or len(gdf) == 0 or "designation" not in gdf.columns:
        return out
    for d in names:
        out[d] = _geoms(gdf.loc[gdf["designation"] == d])
    return out


def _datasets(gdf: Any) -> list[str]:
    if isinstance(gdf, pd.DataFrame) and "dataset" in gdf.columns:
        return sorted(set(gdf["dataset"].dropna().astype(str)))
    return []


def prepare_inputs(
    layers: Any,
    spec: SurfaceSpec,
    plan: CriteriaPlan,
    *,
    discount_areas: gpd.GeoDataFrame | None = None,
    grid: Grid | None = None,
) -> tuple[SurfaceInputs, dict[str, str]]:
    """Global inputs plus provenance notes (source datasets per input)."""
    grid = grid or surface_grid(layers, spec)
    needed = tuple(dict.fromkeys(plan.indicators + list(spec.indicator_bands)))
    notes: dict[str, list[str]] = {}

    countries = layer(layers, "countries")
    if countries is None:
        raise DataSourceError(
            "the surface needs the countries layer (its land mask); run `growth-zones data pull`"
        )
    land = gb_land(countries)
    notes["land"] = _datasets(land)

    points: dict[str, np.ndarray] = {}
    want = {POINT_INDICATORS[n] for n in needed if n in POINT_INDICATORS}
    want |= {NODE_VALUES[n][0] for n in needed if n in NODE_VALUES}
    values: dict[str, np.ndarray] = {}
    if "transmission" in want:
        tx = site_nodes(layers, "transmission")
        points["transmission"] = _points(tx)
        notes["transmission_nodes"] = ["grid_nodes: transmission sites"]
        if "tec_contracted_mw_node" in needed:
            values["tec_contracted_mw_node"] = point_values(tx, NODE_VALUES["tec_contracted_mw_node"][1])
    if "substation" in want:
        nodes = site_nodes(layers)
        points["substation"] = _points(nodes)
        used = sorted(set(";".join(nodes["sources"]).split(";")) - {""}) if nodes is not None else []
        notes["substations"] = ["grid_nodes: transmission or GSP sites from", *used]
        if "substation_voltage_kv" in needed:
            values["substation_voltage_kv"] = point_values(nodes, NODE_VALUES["substation_voltage_kv"][1])
    ix = layer(layers, "internet_exchanges")
    if "ix" in want:
        points["ix"] = _points(ix)
        notes["internet_exchanges"] = _datasets(ix)
    if "london_ix" in want:
        lon = None
        if ix is not None and len(ix):
            lon = ix.loc[ix["metro"].astype(str).str.contains("london", case=False, na=False)]
        points["london_ix"] = _points(lon)
    if "landing" in want:
        lp = layer(layers, "landing_points")
        points["landing"] = _points(lp)
        notes["landing_points"] = _datasets(lp)
    if "circuit" in want:
        circ = checked_lines(layers)
        if circ is not None and "voltage_kv" in circ.columns:
            circ = circ.loc[circ["voltage_kv"] >= 275]
        points["circuit"] = densify_lines(circ, spec.resolution_m * spec.line_spacing_fraction)
        notes["circuits"] = _datasets(circ)

    pa = layer(layers, "protected_areas")
    cov = layer(layers, "designation_coverage")
    tiered = tuple(n[len("share_") :] for n in needed if n.startswith("share_"))
    wanted = tuple(
        dict.fromkeys((spec.protected_designations if "protected_share" in needed else ()) + tiered)
    )
    designated = _by_designation(pa, wanted)
    covered = _by_designation(cov, wanted)
    flood = flood_cov = None
    if "in_flood_zone_3" in needed:
        flood = _by_designation(pa, ("flood_zone_3",))["flood_zone_3"]
        flood_cov = _by_designation(cov, ("flood_zone_3",))["flood_zone_3"]
    if wanted or "in_flood_zone_3" in needed:
        notes["protected_areas"] = _datasets(pa)
        notes["designation_coverage"] = _datasets(cov)

    discount = None
    if "in_discount_area" in needed:
        if discount_areas is None and layer(layers, "regions") is not None:
            discount_areas = default_discount_areas(layer(layers, "regions"))
            notes["discount_area"] = ["regions: Scotland + Cumbria + North East LADs"]
        if discount_areas is not None:
            discount = _geoms(discount_areas)

    deprivation = None
    if "deprivation_percentile" in needed:
        deprivation = deprivation_parts(layers)
        if deprivation is not None:
            notes["deprivation"] = _datasets(layer(layers, "deprivation_by_region")) + _datasets(
                layer(layers, "regions")
            )

    pop: dict[str, tuple[np.ndarray, float, float, float]] = {}
    pg = layer(layers, "population_grid")
    for name, radius in POP_RADII.items():
        if name in needed and pg is not None:
            pop[name] = population_within(pg, radius)
    if pg is not None and any(n in needed for n in POP_RADII):
        notes["population_grid"] = [str(pg.profile.get("dataset", "population_grid"))]

    inputs = SurfaceInputs(
        grid=grid,
        plan=plan,
        needed=needed,
        band_names=("score", "exclusion_state") + tuple(spec.indicator_bands),
        land=_geoms(land),
        points=points,
        point_values=values,
        designated=designated,
        covered=covered,
        flood=flood,
        flood_covered=flood_cov,
        discount=discount,
        deprivation=deprivation,
        pop=pop,
        route_factor=spec.route_factor,
        fibre_km_per_ms=spec.fibre_km_per_ms,
        kd_workers=spec.kd_workers,
        excluded_value=spec.excluded_value,
        protected=tuple(spec.protected_designations) if "protected_share" in needed else (),
    )
    return inputs, {k: ";".join(v) for k, v in notes.items()}

"""Indicators for every local authority district (region)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from ..data.layers import LayerSet
from ..policy import in_discount_area
from . import _geo
from .deprivation import deprivation_by_code
from .designations import designation_share
from .nodes import grid_nodes
from .specs import REGION_INDICATORS, IndicatorSettings, IndicatorTable

_KM = 1000.0


def region_indicators(layers: LayerSet, settings: IndicatorSettings | None = None) -> IndicatorTable:
    """Raw indicators for every region in ``layers.regions`` (index = region code).

    Every column of :data:`REGION_INDICATORS` is present; a missing value carries a reason.
    """
    settings = settings or IndicatorSettings()
    if layers.regions is None:
        raise ValueError("region_indicators needs layers.regions")
    regions = layers.regions
    index = pd.Index(regions["code"].astype(str), name="code")
    cols = list(REGION_INDICATORS)
    values, reasons = _geo.empty_like(index, cols)
    g = _geo.geoms(regions)
    rep = _geo.representative_points(g)
    names = regions["name"].astype(str).to_numpy() if "name" in regions else None
    nations = regions["nation"].astype(str).to_numpy() if "nation" in regions else _geo.nation_of(g, layers)
    extra = pd.DataFrame({"name": names if names is not None else "", "nation": nations}, index=index)

    rec = _geo.Recorder(values, reasons, layers, REGION_INDICATORS)
    fill, unavailable = rec.fill, rec.unavailable

    values["area_km2"] = shapely.area(g) / 1e6

    # ---- grid: nodes (one per physical site, resolved across FES, ETYS, NGED, OSM: grid_nodes)
    if not unavailable("dist_gsp_km"):
        gsp = grid_nodes(layers).placed("gsp").reset_index()
        pos = rec.nearest("dist_gsp_km", g, gsp, "no grid supply point node")
        extra["nearest_gsp_id"] = _geo.pick(gsp, "node_id", pos)
        extra["nearest_gsp_name"] = _geo.pick(gsp, "name", pos)
    if not unavailable("dist_transmission_km"):
        tx = grid_nodes(layers).placed("transmission").reset_index()
        pos = rec.nearest("dist_transmission_km", g, tx, "no transmission node")
        extra["nearest_transmission_id"] = _geo.pick(tx, "node_id", pos)
        extra["nearest_transmission_name"] = _geo.pick(tx, "name", pos)
        extra["nearest_transmission_voltage_kv"] = _geo.at(tx, "voltage_kv", pos)

    # ---- grid: circuits
    if not unavailable("share_within_10km_transmission"):
        lines = _geo.geoms(_geo.transmission_circuits(layers))
        # buffer each line, then union: buffering the noded union of lines is ~30x slower
        buffer_m = settings.transmission_buffer_km * _KM
        zone = shapely.union_all(shapely.buffer(lines, buffer_m)) if len(lines) else None
        share = np.zeros(len(g))
        if zone is not None and not zone.is_empty:
            shapely.prepare(zone)
            inside = shapely.contains(zone, g)
            share[inside] = 1.0
            part = np.flatnonzero(~inside & shapely.intersects(zone, g))
            share[part] = shapely.area(shapely.intersection(g[part], zone)) / shapely.area(g[part])
        fill("share_within_10km_transmission", np.clip(share, 0, 1))
    if not unavailable("tx_line_km_30km"):
        tx = _geo.transmission_circuits(layers)
        osm = tx[tx["dataset"].astype(str).str.startswith("osm_")] if "dataset" in tx else tx
        # measured in a disc around the representative point (like population_50km): buffering whole
        # island-rich regions by 30 km costs seconds and would reward sheer region size
        fill(
            "tx_line_km_30km",
            _geo.length_within(rep, _geo.geoms(osm), settings.nearby_km * _KM) / _KM,
            "no OpenStreetMap transmission lines in the circuits layer",
        )
    if not unavailable("tx_capacity_mva_30km"):
        c = _geo.checked_circuits(layers)
        fill(
            "tx_capacity_mva_30km",
            _geo.sum_within(g, _geo.geoms(c), _geo.usable_rating(c, settings), settings.nearby_km * _KM),
        )
    if not unavailable("tec_contracted_mw_30km"):
        placed = grid_nodes(layers).placed("all")
        fill(
            "tec_contracted_mw_30km",
            _geo.sum_within(
                g, _geo.geoms(placed), placed["tec_contracted_mw"].to_numpy(float), settings.nearby_km * _KM
            ),
        )

    values["in_discount_area"] = in_discount_area(pd.Series(index.to_numpy()), pd.Series(nations)).to_numpy()

    # ---- land
    for col, des in (
        ("protected_share", settings.region_protected_designations),
        ("national_park_share", ("national_park",)),
    ):
        v, why = designation_share(
            g, tuple(des), layers, settings, names, nations, tolerance_m=settings.region_boundary_tolerance_m
        )
        values[col] = v
        reasons[col] = why

    # ---- connectivity
    for col, layer_name, prefix, why in _geo.NEAREST_FEATURES:
        if not unavailable(col):
            feats = getattr(layers, layer_name)
            extra[f"nearest_{prefix}_name"] = _geo.pick(feats, "name", rec.nearest(col, g, feats, why))
    if not unavailable("rtt_london_ms"):
        _, d = _geo.nearest(rep, _geo.geoms(_geo.london_exchanges(layers)))
        fill("rtt_london_ms", _geo.rtt_ms(d, settings), "no London internet exchange in the layer")
    if not unavailable("full_fibre_pct"):
        bb = layers.broadband_by_region.drop_duplicates("code").set_index("code")["full_fibre_pct"]
        v = pd.to_numeric(index.to_series().map(bb), errors="coerce").to_numpy()
        fill("full_fibre_pct", v, _per_code("no Ofcom row for {} (boundary vintage mismatch)", index))

    # ---- people
    if not unavailable("population"):
        pop = layers.population_by_region.drop_duplicates("code").set_index("code")["population"]
        v = pd.to_numeric(index.to_series().map(pop), errors="coerce").to_numpy()
        fill("population", v, _per_code("no population row for {} (boundary vintage mismatch)", index))
    if not unavailable("population_50km"):
        fill(
            "population_50km",
            _geo.population_within(layers, rep, 50.0),
            "representative point outside the population raster",
        )
    if not unavailable("deprivation_percentile"):
        v, why, dep = deprivation_by_code(index.to_numpy(), layers)
        fill("deprivation_percentile", v, why)
        for col in dep.columns:
            extra[col] = dep[col].to_numpy()
    if not unavailable("renewables_operational_mw_30km"):
        r = layers.renewables
        r = r[r["status"].astype(str).str.strip().str.lower().eq("operational")]
        fill(
            "renewables_operational_mw_30km",
            _geo.sum_within(g, _geo.geoms(r), r["capacity_mw"].to_numpy(), settings.nearby_km * _KM),
        )

    values["in_discount_area"] = values["in_discount_area"].astype("boolean")
    return IndicatorTable(
        values=values, reasons=reasons, specs=dict(REGION_INDICATORS), extra=extra, settings=settings
    )


def _per_code(template: str, index: pd.Index) -> np.ndarray:
    return np.array([template.format(c) for c in index], dtype=object)

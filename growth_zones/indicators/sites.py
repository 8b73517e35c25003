"""Indicators for candidate sites (AI Growth Zone applications)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..data.layers import LayerSet
from ..data.schemas import DESIGNATIONS
from ..policy import DESIGNATION_LABELS, in_discount_area
from . import _geo
from .designations import designation_share
from .specs import (
    SITE_INDICATORS,
    IndicatorSettings,
    IndicatorSpec,
    IndicatorTable,
)

_KM = 1000.0
_LA_SNAP_M = 20_000.0
EVIDENCE_COLUMNS = ("evidence_grid", "evidence_water", "evidence_land_control", "evidence_planning")


def _site_geoms(sites: gpd.GeoDataFrame) -> np.ndarray:
    if sites.crs is not None and sites.crs.to_epsg() != 27700:
        raise ValueError(f"sites must be in EPSG:27700, got {sites.crs}")
    return _geo.geoms(sites)


def locate_sites(sites: gpd.GeoDataFrame, layers: LayerSet) -> pd.DataFrame:
    """Local authority (code, name) and nation of each site's representative point: the region
    containing it, else the nearest region within 20 km (sites on a generalised coastline)."""
    g = _site_geoms(sites)
    rep = _geo.representative_points(g)
    out = pd.DataFrame(index=sites.index)
    out["la_code"] = pd.array([None] * len(sites), dtype="string")
    out["la_name"] = pd.array([None] * len(sites), dtype="string")
    if layers.regions is not None and len(layers.regions):
        pos, d = _geo.nearest(rep, _geo.geoms(layers.regions))
        ok = (pos >= 0) & (d <= _LA_SNAP_M)
        out.loc[ok, "la_code"] = layers.regions["code"].astype(str).to_numpy()[pos[ok]]
        out.loc[ok, "la_name"] = layers.regions["name"].astype(str).to_numpy()[pos[ok]]
        nat = layers.regions["nation"].astype(str).to_numpy()[pos] if "nation" in layers.regions else None
        out["nation"] = np.where(ok, nat, "") if nat is not None else _geo.nation_of(rep, layers)
    else:
        out["nation"] = _geo.nation_of(rep, layers)
    return out


def _column(sites: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name not in sites:
        return np.full(n, np.nan)
    return pd.to_numeric(sites[name], errors="coerce").to_numpy(dtype=float)


def _specs(settings: IndicatorSettings) -> dict[str, IndicatorSpec]:
    specs = dict(SITE_INDICATORS)
    for r in settings.population_radii_km:
        name = f"population_{r:g}km"
        if name not in specs:
            specs[name] = IndicatorSpec(
                name,
                "people",
                "higher",
                ("sites", "population_grid"),
                f"Residents in 1 km cells whose centres lie within {r:g} km of the cell holding the site.",
            )
    return specs


def site_indicators(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    settings: IndicatorSettings | None = None,
    region_percentile: pd.Series | None = None,
) -> IndicatorTable:
    """Raw indicators for each site (index = application id).

    ``sites``: EPSG:27700 polygons with columns ``mw`` (float), ``target_year`` (int) and
    optionally ``evidence_grid``/``evidence_water``/``evidence_land_control``/``evidence_planning``
    (1/0/NaN). ``region_percentile``: a Series indexed by LAD code (e.g. the region ranking's
    percentile), copied to ``la_percentile``.
    """
    settings = settings or IndicatorSettings()
    specs = _specs(settings)
    cols = list(specs)
    index = sites.index
    values, reasons = _geo.empty_like(index, cols)
    g = _site_geoms(sites)
    rep = _geo.representative_points(g)
    n = len(sites)
    loc = locate_sites(sites, layers)
    extra = loc.copy()
    la_names = loc["la_name"].fillna("").astype(str).to_numpy()
    nations = loc["nation"].astype(str).to_numpy()

    rec = _geo.Recorder(values, reasons, layers, specs, ignore_sources=("sites",))
    fill, unavailable = rec.fill, rec.unavailable

    mw = _column(sites, "mw", n)
    year = _column(sites, "target_year", n)
    area_ha = shapely.area(g) / 1e4
    values["site_area_ha"] = area_ha
    fill("claimed_mw", mw, "no MW claimed")

    # ---- power: nearest grid node (transmission substation or GSP; co-located records merged)
    if not unavailable("dist_substation_km"):
        nodes = _geo.grid_nodes(layers, settings)
        node, d = _geo.nearest_node(layers, settings, g)
        has = node >= 0
        pos = np.where(has, nodes.index.get_indexer(node), -1)  # row of the node in ``nodes``
        fill("dist_substation_km", d / _KM, "no transmission substation or GSP in the substations layer")
        for col, src in (("substation_id", "id"), ("substation_name", "name"), ("substation_kind", "kind")):
            extra[col] = _geo.pick(nodes, src, pos)
        unnamed = extra["substation_name"].fillna("").astype(str).str.strip() == ""
        extra.loc[unnamed, "substation_name"] = (  # some OSM/ETYS records carry no name: say what it is
            "unnamed "
            + extra.loc[unnamed, "substation_kind"].fillna("grid").astype(str)
            + " node "
            + extra.loc[unnamed, "substation_id"].fillna("").astype(str)
        )
        volt = np.full(n, np.nan)
        volt[has] = nodes["voltage_kv"].to_numpy(dtype=float)[pos[has]]
        fill("substation_voltage_kv", volt, "voltage not published for this node")
        extra["node"] = node
        extra["substation_x"], extra["substation_y"] = _geo.nearest_record_xy(layers, settings, g)
        node_ids = pd.Series(node)

        # TEC queue at the node: matched TEC points within node_merge_km of a node
        if layers.tec_projects is not None:
            tec = _geo.tec_points(layers, settings)
            tec = tec[tec["x"].notna()]
            tec_pts = shapely.points(tec["x"].to_numpy(), tec["y"].to_numpy())
            tnode, td = _geo.nearest_node(layers, settings, tec_pts)
            keep = (tnode >= 0) & (td <= settings.node_merge_km * _KM)
            per_node = (
                pd.Series(np.nan_to_num(tec["mw"].to_numpy(float)[keep]), index=tnode[keep])
                .groupby(level=0)
                .sum()
            )
            queued = node_ids.map(per_node).fillna(0.0).to_numpy()
            fill("tec_contracted_mw_node", np.where(has, queued, np.nan), "no grid node")
        else:
            reasons["tec_contracted_mw_node"] = "layer tec_projects not available"

        # competing bids at the same node and the pro-rata share of the node's capacity
        mw0 = np.nan_to_num(mw, nan=0.0)
        total = pd.Series(mw0).groupby(node).transform("sum").to_numpy()
        fill("competing_mw_node", np.where(has, total - mw0, np.nan), "no grid node")
        if layers.circuits is not None and len(nodes):
            used = np.unique(node[has])
            c = layers.circuits
            rating = _geo.usable_rating(c, settings)
            node_g, circ_g, reach = _geo.geoms(nodes.loc[used]), _geo.geoms(c), settings.node_circuit_km * _KM
            cap = _geo.sum_within(node_g, circ_g, rating, reach)
            rated = _geo.sum_within(node_g, circ_g, np.isfinite(rating).astype(float), reach)
            node_cap = pd.Series(np.where(rated > 0, cap, np.nan), index=used)
            site_cap = node_ids.map(node_cap).to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(total > 0, site_cap * mw0 / total, 0.0)
            share = np.where(np.isnan(mw) | ~has, np.nan, share)
            reach_txt = f"{settings.node_circuit_km:g} km"
            no_rating = np.array(
                [
                    f"no circuit with a published rating within {reach_txt} of node {nm}"
                    for nm in extra["substation_name"].fillna("?")
                ],
                dtype=object,
            )
            why = np.where(~has, "no grid node", np.where(np.isnan(mw), "no MW claimed", no_rating))
            fill("headroom_share_mw", share, why)
            extra["node_capacity_mva"] = site_cap
        else:
            reasons["headroom_share_mw"] = "layer circuits not available"
    else:
        for col in (
            "substation_voltage_kv",
            "tec_contracted_mw_node",
            "competing_mw_node",
            "headroom_share_mw",
        ):
            reasons[col] = reasons["dist_substation_km"]

    # ---- bid arithmetic
    miss = np.isnan(mw) | np.isnan(year)
    values["meets_500mw_by_2030"] = _geo.as_boolean((mw >= 500.0) & (year <= 2030), miss)
    reasons.loc[miss, "meets_500mw_by_2030"] = "MW or target year missing"
    need_ha = mw / 100.0 * settings.ha_per_100mw
    values["land_sufficient"] = _geo.as_boolean(
        area_ha >= need_ha * (1.0 - settings.land_tolerance), np.isnan(mw)
    )
    reasons.loc[np.isnan(mw), "land_sufficient"] = "no MW claimed"
    extra["land_needed_ha"] = need_ha
    for col in EVIDENCE_COLUMNS:
        if col in sites:
            fill(col, _column(sites, col, n), "not stated in the application")
        else:
            reasons[col] = "not stated in the application"

    # ---- land
    v, why = designation_share(
        g,
        tuple(settings.exclusion_designations),
        layers,
        settings,
        la_names,
        nations,
        tolerance_m=settings.site_coverage_tolerance_m,
    )
    values["protected_share"] = v
    reasons["protected_share"] = why
    fz = flood_zone_3(g, layers, settings, la_names, nations)
    values["in_flood_zone_3"] = fz[0]
    reasons["in_flood_zone_3"] = fz[1]

    # ---- connectivity
    for col, layer_name, prefix, why in _geo.NEAREST_FEATURES:
        if not unavailable(col):
            feats = getattr(layers, layer_name)
            pos = rec.nearest(col, g, feats, why)
            extra[f"nearest_{prefix}_name"] = _geo.pick(feats, "name", pos)
            extra[f"{prefix}_x"], extra[f"{prefix}_y"] = _geo.xy_at(
                _geo.geoms(feats), pos
            )  # for report lines
    if not unavailable("rtt_london_ms"):
        _, d = _geo.nearest(rep, _geo.geoms(_geo.london_exchanges(layers)))
        fill("rtt_london_ms", _geo.rtt_ms(d, settings), "no London internet exchange in the layer")

    # ---- people
    for r in settings.population_radii_km:
        col = f"population_{r:g}km"
        if not unavailable(col):
            fill(col, _geo.population_within(layers, rep, r), "site outside the population raster")

    # ---- place
    values["in_discount_area"] = in_discount_area(loc["la_code"].fillna(""), loc["nation"]).to_numpy()
    if region_percentile is not None:
        fill(
            "la_percentile",
            loc["la_code"].map(region_percentile).to_numpy(dtype=float),
            np.array(
                [f"no ranking for local authority {c}" for c in loc["la_code"].fillna("?")], dtype=object
            ),
        )
    else:
        reasons["la_percentile"] = "region ranking not given"

    for col, spec in specs.items():
        if spec.unit == "bool" and col not in EVIDENCE_COLUMNS:
            values[col] = values[col].astype("boolean")
    return IndicatorTable(values=values, reasons=reasons, specs=specs, extra=extra, settings=settings)


def flood_zone_3(
    g: np.ndarray,
    layers: LayerSet,
    settings: IndicatorSettings,
    names: np.ndarray | None = None,
    nations: np.ndarray | None = None,
) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
    """True where a site touches Flood Zone 3 (certain even where coverage is partial), False
    where FZ3 data covers the whole site and none is touched, NA (with reason) otherwise."""
    status = _presence(g, "flood_zone_3", layers, settings, names, nations)
    known = status["status"] != "not checked"
    present = _geo.as_boolean(status["status"].eq("present").to_numpy(), ~known.to_numpy())
    return present, status["reason"].to_numpy()


def _presence(
    g: np.ndarray,
    designation: str,
    layers: LayerSet,
    settings: IndicatorSettings,
    names: np.ndarray | None,
    nations: np.ndarray | None,
) -> pd.DataFrame:
    n = len(g)
    label = DESIGNATION_LABELS.get(designation, designation)
    status = np.full(n, "not checked", dtype=object)
    share = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    reason = np.full(n, "", dtype=object)
    if layers.protected_areas is None:
        reason[:] = "layer protected_areas not available"
        return pd.DataFrame({"status": status, "share": share, "distance_km": dist, "reason": reason})
    cover = _geo.covered(
        g,
        _geo.coverage_tiles(layers, designation, settings.site_coverage_tolerance_m),
        settings.coverage_slack,
    )
    feats = _geo.designation_features(layers, (designation,))
    touching = np.zeros(n, dtype=bool)
    if len(feats):
        ti, _ = _geo.designation_tree(layers, (designation,)).query(g, predicate="intersects")
        touching[ti] = True
        if touching.any():
            share[touching] = _geo.designation_overlap_area(
                layers, (designation,), g[touching]
            ) / shapely.area(g[touching])
        absent = cover & ~touching
        if absent.any():
            _, d = _geo.nearest(g[absent], _geo.designation_segments(layers, (designation,)))
            dist[absent] = d / _KM
    else:
        absent = cover
    status[touching] = "present"
    status[absent] = "absent"
    partial = touching & ~cover
    reason[partial] = f"{label} data covers only part of the site: share is a lower bound"
    for i in np.flatnonzero(~touching & ~cover):
        name = str(names[i]) if names is not None and names[i] else ""
        nation = str(nations[i]) if nations is not None and nations[i] else ""
        where = f"{name} ({nation})" if name and nation else (name or nation or "this location")
        gap = layers._gaps.get((designation, nation)) if nation else None
        reason[i] = f"not checked: no {label} layer for {where}" + (f": {gap}" if gap else "")
    return pd.DataFrame({"status": status, "share": share, "distance_km": dist, "reason": reason})


def site_designation_checks(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    settings: IndicatorSettings | None = None,
    designations: tuple[str, ...] = DESIGNATIONS,
) -> pd.DataFrame:
    """One row per (site, designation): ``status`` is "present" (``share`` of site area; a lower
    bound where the data covers only part of the site), "absent" (``distance_km`` to the nearest
    feature of that designation, NaN if the dataset has none) or "not checked" (``reason``, e.g.
    "not checked: no SSSI layer for Highland (Scotland)")."""
    settings = settings or IndicatorSettings()
    g = _site_geoms(sites)
    loc = locate_sites(sites, layers)
    names = loc["la_name"].fillna("").astype(str).to_numpy()
    nations = loc["nation"].astype(str).to_numpy()
    parts = []
    for d in designations:
        p = _presence(g, d, layers, settings, names, nations)
        p.insert(0, "designation", d)
        p.insert(0, "site_id", sites.index.to_numpy())
        parts.append(p)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["site_id", "designation"], kind="stable").reset_index(drop=True)

"""Indicators for candidate sites (AI Growth Zone applications)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..data.layers import LayerSet
from ..data.loaders.land import NATIONAL_PARK_CURRENT_NAME
from ..data.schemas import DESIGNATIONS
from ..policy import DESIGNATION_LABELS, TIER_DESIGNATIONS, in_discount_area
from . import _geo
from .deprivation import deprivation_by_code
from .designations import designation_share
from .nodes import grid_nodes
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
        regions = _geo.geoms(layers.regions)
        pos = _geo.containing(rep, regions)  # inside a council: distance 0 (prepared, cheap)
        d = np.where(pos >= 0, 0.0, np.nan)
        out_of = np.flatnonzero(pos < 0)  # on a generalised coastline: the nearest council
        if len(out_of):
            pos[out_of], d[out_of] = _geo.nearest(rep[out_of], regions)
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

    # ---- power: grid nodes (one per physical site: grid_nodes)
    if not unavailable("dist_substation_km"):
        _site_power(rec, extra, g, mw, layers)
    else:
        for col in POWER_COLUMNS:
            reasons[col] = reasons["dist_substation_km"]

    # ---- bid arithmetic
    below = (mw < DSIT_MW) | (year > DSIT_YEAR)  # either alone is below the bar (NaN: not known)
    miss = ~below & (np.isnan(mw) | np.isnan(year))
    values["meets_500mw_by_2030"] = _geo.as_boolean((mw >= DSIT_MW) & (year <= DSIT_YEAR), miss)
    reasons.loc[miss, "meets_500mw_by_2030"] = "MW or target year missing"
    extra["dsit_minimum"] = dsit_minimum_text(mw, year)
    status, detail = dsit_power_test(mw, year, values, extra, settings)
    fill("dsit_power_test", np.where(status == "pass", 1.0, np.where(status == "fail", 0.0, np.nan)))
    reasons["dsit_power_test"] = np.where(status == "unverified", "unverified: " + detail, "")
    extra["dsit_power_status"] = status
    extra["dsit_power_detail"] = detail
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
    presence: dict[str, pd.DataFrame] = {}
    for d in TIER_DESIGNATIONS:
        p = presence[d] = _presence(g, d, layers, settings, la_names, nations)
        col = f"share_{d}"
        share = np.where(p["status"] == "absent", 0.0, p["share"].to_numpy(float))
        values[col] = share
        reasons[col] = np.where(np.isnan(share), p["reason"].to_numpy(object), "")
        extra[f"{d}_feature"] = designated_feature(g, d, layers, p["status"].eq("present").to_numpy())
    if "flood_zone_3" not in presence:  # a profile may tier it already
        presence["flood_zone_3"] = _presence(g, "flood_zone_3", layers, settings, la_names, nations)
    fz = _flood_zone_3(presence["flood_zone_3"])
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
    if not unavailable("deprivation_percentile"):
        v, why, dep = deprivation_by_code(loc["la_code"].to_numpy(), layers)
        fill("deprivation_percentile", v, why)
        for col in dep.columns:
            extra[col] = dep[col].to_numpy()
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
    # a reason is one of a few texts repeated over many sites: categories hold each text once
    # (100,000 sites: about 0.3 GB of per-row text otherwise)
    reasons = reasons.astype("category")
    return IndicatorTable(
        values=values, reasons=reasons, specs=specs, extra=extra, settings=settings, presence=presence
    )


POWER_COLUMNS = (
    "substation_voltage_kv",
    "dist_transmission_node_km",
    "tec_contracted_mw_node",
    "competing_mw_node",
    "firm_capacity_share_mva",
    "firm_capacity_cover",
)
DSIT_MW = 500.0
DSIT_YEAR = 2030
"""DSIT's power bar: at least 500 MW by 2030 (AI Growth Zones: open for applications, 2025)."""


def dsit_minimum_text(mw: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Whether each application's own claim reaches DSIT's minimum (at least 500 MW by 2030), in
    words for tables: "meets", "below (300 MW)", "below (2033)", "below (300 MW, 2033)" or
    "unknown (no MW or year claimed)"."""
    out = np.empty(len(mw), dtype=object)
    for i, (m, y) in enumerate(zip(mw, year, strict=True)):  # one short phrase per application
        short = []
        if m < DSIT_MW:
            short.append(f"{m:,.0f} MW")
        if y > DSIT_YEAR:
            short.append(f"{y:.0f}")
        if short:
            out[i] = f"below ({', '.join(short)})"
        elif np.isfinite(m) and np.isfinite(y):
            out[i] = "meets"
        else:
            out[i] = "unknown (no MW or year claimed)"
    return out


def _site_power(
    rec: _geo.Recorder, extra: pd.DataFrame, g: np.ndarray, mw: np.ndarray, layers: LayerSet
) -> None:
    """Nearest site node (transmission or GSP) and nearest transmission node of each site, and the
    quantities at the transmission node a 500 MW campus would connect to: contracted TEC, the other
    bids there, its firm circuit capacity (N-1 on published ETYS ratings, MVA: what its circuits
    can carry with one lost, not spare capacity) and what the other bids leave of it."""
    gn = grid_nodes(layers)
    site = gn.placed("site").reset_index()
    pos = rec.nearest("dist_substation_km", g, site, "no transmission or GSP node")
    for col, src in (("substation_id", "node_id"), ("substation_name", "name"), ("substation_kind", "kind")):
        extra[col] = _geo.pick(site, src, pos)
    extra["substation_x"], extra["substation_y"] = _geo.at(site, "x", pos), _geo.at(site, "y", pos)
    extra["node"] = _geo.pick(site, "node_id", pos)
    rec.fill(
        "substation_voltage_kv", _geo.at(site, "voltage_kv", pos), "no source states a voltage for this node"
    )

    tx = gn.placed("transmission").reset_index()
    tpos = rec.nearest("dist_transmission_node_km", g, tx, "no transmission node")
    has = tpos >= 0
    for col, src in (("transmission_node_id", "node_id"), ("transmission_node_name", "name")):
        extra[col] = _geo.pick(tx, src, tpos)
    extra["transmission_node_voltage_kv"] = _geo.at(tx, "voltage_kv", tpos)
    extra["transmission_node_xy_source"] = _geo.pick(tx, "xy_source", tpos)
    extra["transmission_node_xy_check"] = _geo.pick(tx, "xy_check", tpos)
    extra["transmission_node_x"], extra["transmission_node_y"] = (
        _geo.at(tx, "x", tpos),
        _geo.at(tx, "y", tpos),
    )
    rec.fill("tec_contracted_mw_node", _geo.at(tx, "tec_contracted_mw", tpos), "no transmission node")

    # other bids at the same transmission node, and the node's firm capacity shared between them
    mw0 = np.nan_to_num(mw, nan=0.0)
    total = pd.Series(mw0).groupby(tpos).transform("sum").to_numpy()
    competing = np.where(has, total - mw0, np.nan)
    rec.fill("competing_mw_node", competing, "no transmission node")
    firm = _geo.at(tx, "firm_capacity_mva", tpos)
    extra["firm_capacity_mva"] = firm
    extra["firm_capacity_after_bids_mva"] = firm - competing
    names = extra["transmission_node_name"].fillna("?").astype(str).to_numpy()
    codes = _geo.pick(tx, "etys_code", tpos).fillna("").astype(str).to_numpy()
    no_cap = np.array(
        [
            f"no published ETYS circuit rating at node {nm}"
            if c
            else f"node {nm} has no ETYS site code (no ratings)"
            for nm, c in zip(names, codes, strict=True)
        ],
        dtype=object,
    )
    why = np.where(~has, "no transmission node", np.where(np.isnan(mw), "no MW claimed", no_cap))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, firm * mw0 / total, np.nan)
        cover = (firm - competing) / mw
    share = np.where(np.isnan(mw) | ~has, np.nan, share)
    rec.fill("firm_capacity_share_mva", share, why)
    rec.fill("firm_capacity_cover", np.where(mw > 0, cover, np.nan), why)
    extra["transmission_node_sources"] = _geo.pick(tx, "sources", tpos)


def dsit_power_test(
    mw: np.ndarray, year: np.ndarray, values: pd.DataFrame, extra: pd.DataFrame, settings: IndicatorSettings
) -> tuple[np.ndarray, np.ndarray]:
    """DSIT's power test (at least 500 MW by 2030), judged on grid evidence rather than read from
    the claim: ``pass`` when the claim meets the bar, a transmission node lies within
    ``settings.dsit_node_km`` and its firm capacity left after the other bids there covers the
    claimed MW; ``fail`` when the claim is below the bar, the node is farther, or the published
    capacity left is smaller than the claim; ``unverified`` otherwise (a claim the published data
    can neither confirm nor refute, e.g. no circuit rating at the node). The capacity is firm
    circuit capacity (MVA), not spare capacity: a pass means the claim is not ruled out, and the
    detail says so and gives the contracted TEC beside it. Returns (status, detail)."""
    n = len(mw)
    d = _col(values, "dist_transmission_node_km", n)
    after = _col(extra, "firm_capacity_after_bids_mva", n)
    tec = _col(values, "tec_contracted_mw_node", n)
    kv = _col(extra, "transmission_node_voltage_kv", n)
    names = (
        extra["transmission_node_name"].fillna("").astype(str).to_numpy()
        if "transmission_node_name" in extra
        else np.full(n, "")
    )
    where = (
        extra["transmission_node_xy_source"].fillna("").astype(str).to_numpy()
        if "transmission_node_xy_source" in extra
        else np.full(n, "")
    )
    check = (
        extra["transmission_node_xy_check"].fillna("").astype(str).to_numpy()
        if "transmission_node_xy_check" in extra
        else np.full(n, "")
    )
    claim_ok = (mw >= DSIT_MW) & (year <= DSIT_YEAR)
    claim_bad = (mw < DSIT_MW) | (year > DSIT_YEAR)
    near = d <= settings.dsit_node_km
    far = d > settings.dsit_node_km
    enough = after >= mw
    short = after < mw
    status = np.full(n, "unverified", dtype=object)
    status[claim_ok & near & enough] = "pass"
    status[claim_bad | far | (claim_ok & near & short)] = "fail"
    detail = np.empty(n, dtype=object)
    for i in range(n):  # one sentence per application
        parts = [
            "no MW or target year claimed"
            if np.isnan(mw[i]) or np.isnan(year[i])
            else f"claimed {mw[i]:,.0f} MW by {int(year[i])}"
        ]
        if np.isfinite(d[i]):
            volt = f"{kv[i]:g} kV " if np.isfinite(kv[i]) else ""
            node = names[i] if names[i].startswith("unnamed") else f"{volt}node {names[i]}"
            located = ""
            if where[i] == "etys geocode":
                how = (
                    "consistent with its ETYS circuits"
                    if check[i] == "consistent"
                    else "which no ETYS circuit can check"
                )
                located = f" (placed only by a community geocode of its name, {how})"
            parts.append(
                f"nearest {node} {d[i]:,.1f} km{located} (evidence needs one within "
                f"{settings.dsit_node_km:g} km)"
            )
        else:
            parts.append("no transmission node found")
        parts.append(
            f"firm circuit capacity (N-1) after competing bids {after[i]:,.0f} MVA (not spare capacity)"
            if np.isfinite(after[i])
            else "no published circuit rating at the node"
        )
        if np.isfinite(tec[i]):
            parts.append(f"contracted TEC {tec[i]:,.0f} MW")
        detail[i] = "; ".join(parts)
    return status, detail


def _col(frame: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name not in frame:
        return np.full(n, np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def designated_feature(
    g: np.ndarray, designation: str, layers: LayerSet, touching: np.ndarray
) -> pd.arrays.StringArray:
    """The name of the ``designation`` feature covering most of each site (e.g. "Peak District
    National Park"; a renamed park by its current name, "Eryri National Park (Snowdonia)", from
    ``NATIONAL_PARK_CURRENT_NAME``; the plain label where the dataset names none); <NA> where the
    site touches none."""
    out = np.full(len(g), None, dtype=object)
    pa = layers.protected_areas
    rows = np.flatnonzero(touching)
    if pa is None or not len(rows):
        return pd.array(out, dtype="string")
    feats = pa[pa["designation"] == designation]
    fg = shapely.make_valid(_geo.geoms(feats))
    si, fi = shapely.STRtree(fg).query(g[rows], predicate="intersects")
    if len(si):
        area = shapely.area(shapely.intersection(g[rows][si], fg[fi]))
        best = pd.DataFrame({"s": si, "f": fi, "a": area}).sort_values("a").groupby("s").tail(1)
        label = DESIGNATION_LABELS.get(designation, designation)
        names = feats["name"].fillna("").astype(str).to_numpy()
        for s_, f_ in zip(best["s"], best["f"], strict=True):
            nm = names[f_].strip()
            if designation == "national_park":
                nm = NATIONAL_PARK_CURRENT_NAME.get(nm, nm)
            out[rows[s_]] = nm if nm and label.lower() in nm.lower() else (f"{nm} {label}" if nm else label)
    return pd.array(out, dtype="string")


def flood_zone_3(
    g: np.ndarray,
    layers: LayerSet,
    settings: IndicatorSettings,
    names: np.ndarray | None = None,
    nations: np.ndarray | None = None,
) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
    """True where a site touches Flood Zone 3 (certain even where coverage is partial), False
    where FZ3 data covers the whole site and none is touched, NA (with reason) otherwise."""
    return _flood_zone_3(_presence(g, "flood_zone_3", layers, settings, names, nations))


def _flood_zone_3(status: pd.DataFrame) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
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
        if touching.any():  # a share is in [0, 1]: the overlap's own area can exceed the site's
            overlap = _geo.designation_overlap_area(layers, (designation,), g[touching])  # by 1e-16
            share[touching] = np.clip(overlap / shapely.area(g[touching]), 0.0, 1.0)
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
    gaps = layers.gaps
    for i in np.flatnonzero(~touching & ~cover):
        name = str(names[i]) if names is not None and names[i] else ""
        nation = str(nations[i]) if nations is not None and nations[i] else ""
        where = f"{name} ({nation})" if name and nation else (name or nation or "this location")
        gap = gaps.get((designation, nation)) if nation else None
        reason[i] = f"not checked: no {label} layer for {where}" + (f": {gap.reason}" if gap else "")
    return pd.DataFrame({"status": status, "share": share, "distance_km": dist, "reason": reason})


def site_designation_checks(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    settings: IndicatorSettings | None = None,
    designations: tuple[str, ...] = DESIGNATIONS,
    presence: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per (site, designation): ``status`` is "present" (``share`` of site area; a lower
    bound where the data covers only part of the site), "absent" (``distance_km`` to the nearest
    feature of that designation, NaN if the dataset has none) or "not checked" (``reason``, e.g.
    "not checked: no SSSI layer for Highland (Scotland)"). ``presence``: the per-designation checks
    :func:`site_indicators` already made for these sites (``IndicatorTable.presence``), reused."""
    settings = settings or IndicatorSettings()
    g = _site_geoms(sites)
    known = dict(presence or {})
    if any(d not in known for d in designations):
        loc = locate_sites(sites, layers)
        names = loc["la_name"].fillna("").astype(str).to_numpy()
        nations = loc["nation"].astype(str).to_numpy()
    parts = []
    for d in designations:
        p = known[d].copy() if d in known else _presence(g, d, layers, settings, names, nations)
        p.insert(0, "designation", d)
        p.insert(0, "site_id", sites.index.to_numpy())
        parts.append(p)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["site_id", "designation"], kind="stable").reset_index(drop=True)

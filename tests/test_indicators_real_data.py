"""Indicators on the real public datasets (../shared/data), checked against independent
computations: brute-force shapely loops, pyproj geodesics (WGS84) and plain raster sums.

Layers are built by calling the normalisers directly (no store). Skips locally when the data is
absent; fails on CI (CI=true) via the ``shared_data`` fixture in conftest.py.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box

from growth_zones.data.crs import bng_to_lonlat
from growth_zones.data.store import Store
from growth_zones.indicators import (
    PROTECTED_DESIGNATIONS,
    IndicatorSettings,
    LayerSet,
    grid_nodes,
    region_indicators,
    site_designation_checks,
    site_indicators,
)
from growth_zones.indicators.tec import contracted_not_built

pytestmark = pytest.mark.data

GEOD = Geod(ellps="WGS84")
NORTH_EAST = [
    "E06000001",
    "E06000002",
    "E06000003",
    "E06000004",
    "E06000005",
    "E06000047",
    "E06000057",
    "E08000021",
    "E08000022",
    "E08000023",
    "E08000024",
    "E08000037",
]


@pytest.fixture(scope="session")
def real_layers(mirror_cache):
    return LayerSet.load(Store(mirror_cache))


@pytest.fixture(scope="session")
def real_regions(real_layers):
    return region_indicators(real_layers)


def _lonlat(geom):
    return shapely.transform(geom, lambda c: np.column_stack(bng_to_lonlat(c[:, 0], c[:, 1])))


# ---------------------------------------------------------------- distances
SCOTTISH_TOS = ("SP Transmission", "SHE Transmission")


def _reference_nodes(layers):
    """(transmission points, GSP points) re-derived with plain loops from the grid nodes' voltages,
    operators and members (not from their is_transmission / is_gsp flags): >= 275 kV, or >= 132 kV
    where the node is Scottish (a Scottish TO in ETYS, or the point in or within 20 km of Scotland
    and nearest to it); GSPs are nodes with a FES GSP or an NGED Super Grid record."""
    gn = grid_nodes(layers)
    countries = layers.countries
    scotland = countries.loc[countries["nation"] == "Scotland", "geometry"].iloc[0]
    subs = layers.substations
    super_grid = set(
        subs.loc[
            subs.get("substation_type", pd.Series("", index=subs.index)) == "Super Grid Substation", "id"
        ]
    )
    gsp_nodes = set()
    for node, source, rid in zip(
        gn.members["node_id"], gn.members["source"], gn.members["record_id"], strict=True
    ):
        if source == "fes" or (source == "nged" and rid in super_grid):
            gsp_nodes.add(node)
    tx, gsp = [], []
    for node, r in gn.nodes.iterrows():
        if not r["placed"]:
            continue
        pt = r.geometry
        v = float(r["voltage_kv"]) if not pd.isna(r["voltage_kv"]) else float("nan")
        ops = str(r["operator"]).split("|")
        nearest = min(
            (c.distance(pt), n) for n, c in zip(countries["nation"], countries.geometry, strict=True)
        )
        scottish = (
            any(o in SCOTTISH_TOS for o in ops)
            or scotland.contains(pt)
            or (scotland.distance(pt) <= 20_000 and nearest[1] == "Scotland")
        )
        if v >= 275 or (v >= 132 and scottish):
            tx.append(pt)
        if node in gsp_nodes:
            gsp.append(pt)
    return tx, gsp


def test_dist_transmission_matches_brute_force(real_layers, real_regions):
    tx_points, gsps = _reference_nodes(real_layers)
    assert len(tx_points) > 500 and len(gsps) > 300  # 549 since 48 positions failed the circuit check
    regions = real_layers.regions
    sample = regions.sample(20, random_state=3)
    for code, geom in zip(sample["code"], sample.geometry, strict=True):
        want = min(shapely.distance(geom, p) for p in tx_points) / 1000.0
        assert real_regions.values.at[code, "dist_transmission_km"] == pytest.approx(want, abs=1e-6), code
    for code, geom in zip(sample["code"][:8], sample.geometry[:8], strict=True):
        want = min(shapely.distance(geom, p) for p in gsps) / 1000.0
        assert real_regions.values.at[code, "dist_gsp_km"] == pytest.approx(want, abs=1e-6), code


@pytest.mark.parametrize(
    "code", ["E07000177", "E08000021", "E06000052", "E09000033", "W06000015", "S12000036"]
)
def test_bng_distances_agree_with_wgs84_geodesics(real_layers, real_regions, code):
    """rtt_london_ms is derived from a BNG straight-line distance; recover it and compare with the
    ellipsoidal distance from pyproj Geod (scale error of BNG is about +-0.04% plus convergence)."""
    region = real_layers.regions.set_index("code").loc[code, "geometry"]
    rep = shapely.point_on_surface(region)
    ix = real_layers.internet_exchanges
    london = ix[ix["metro"].str.contains("london", case=False)]
    rlon, rlat = bng_to_lonlat(np.array([rep.x]), np.array([rep.y]))
    best = math.inf
    for pt in london.geometry:
        lon, lat = bng_to_lonlat(np.array([pt.x]), np.array([pt.y]))
        best = min(best, GEOD.inv(rlon[0], rlat[0], lon[0], lat[0])[2])
    s = real_regions.settings
    bng_m = real_regions.values.at[code, "rtt_london_ms"] / (2 * s.fibre_route_factor / 200.0) * 1000.0
    assert bng_m == pytest.approx(best, rel=1e-3)


@pytest.mark.parametrize(
    "code", ["E07000177", "E08000021", "E06000057", "E06000052", "W06000015", "E06000009"]
)
def test_bng_area_agrees_with_geodesic_area(real_layers, real_regions, code):
    geom = real_layers.regions.set_index("code").loc[code, "geometry"]
    area_m2, _ = GEOD.geometry_area_perimeter(_lonlat(geom))
    assert real_regions.values.at[code, "area_km2"] == pytest.approx(abs(area_m2) / 1e6, rel=1e-3)


# ---------------------------------------------------------------- population
def test_population_50km_matches_raster_sum(real_layers, real_regions):
    r = real_layers.population_grid
    arr = np.asarray(r.array, dtype=float)
    t = r.profile["transform"]
    for code in ["E09000033", "E06000057", "S12000017"]:
        geom = real_layers.regions.set_index("code").loc[code, "geometry"]
        rep = shapely.point_on_surface(geom)
        col = math.floor((rep.x - t.c) / t.a)
        row = math.floor((rep.y - t.f) / t.e)
        cx, cy = t.c + (col + 0.5) * t.a, t.f + (row + 0.5) * t.e
        total = 0.0
        for rr in range(max(0, row - 51), min(arr.shape[0], row + 52)):
            for cc in range(max(0, col - 51), min(arr.shape[1], col + 52)):
                v = arr[rr, cc]
                px, py = t.c + (cc + 0.5) * t.a, t.f + (rr + 0.5) * t.e
                if np.isfinite(v) and (px - cx) ** 2 + (py - cy) ** 2 <= 50_000.0**2:
                    total += v
        assert real_regions.values.at[code, "population_50km"] == pytest.approx(total, rel=1e-6), code
    # London boroughs see most of London: well over 8 million within 50 km
    assert real_regions.values.at["E09000033", "population_50km"] > 8e6


# ---------------------------------------------------------------- designations
def test_protected_share_three_valued_on_real_data(real_layers, real_regions):
    v, why = real_regions.values, real_regions.reasons
    # Scotland: none of the English extracts apply
    assert np.isnan(v.at["S12000017", "protected_share"])
    reason = why.at["S12000017", "protected_share"]
    assert "SSSI" in reason and "Scotland" in reason
    # the North East: every statutory designation of the region share is covered (Green Belt is
    # a per-site check), so exactly the 12 North East councils have a value in [0, 1]
    assert sorted(v["protected_share"].dropna().index) == sorted(NORTH_EAST)
    assert v.loc[NORTH_EAST, "protected_share"].between(0, 1).all()
    assert (why.loc[NORTH_EAST, "protected_share"] == "").all()
    # with Green Belt required too, nothing is fully checked anywhere: only Trafford has that layer
    strict = region_indicators(
        real_layers, IndicatorSettings(region_protected_designations=PROTECTED_DESIGNATIONS)
    )
    assert strict.values["protected_share"].notna().sum() == 0
    for code in NORTH_EAST:
        assert strict.reasons.at[code, "protected_share"].startswith(
            "not checked: Green Belt not available for"
        ), code
    # national parks are GB-wide: always computed
    assert v["national_park_share"].notna().all()


def test_protected_share_without_green_belt_matches_brute_force(real_layers):
    des = tuple(d for d in PROTECTED_DESIGNATIONS if d != "green_belt")
    t = region_indicators(real_layers, IndicatorSettings(region_protected_designations=des))
    v = t.values["protected_share"]
    assert sorted(v.dropna().index) == sorted(NORTH_EAST)  # exactly the North East is checked
    pa = real_layers.protected_areas
    feats = list(pa.loc[pa["designation"].isin(des), "geometry"])
    regions = real_layers.regions.set_index("code")
    for code in ["E06000057", "E08000021", "E06000003"]:
        geom = regions.loc[code, "geometry"]
        touching = [f for f in feats if f.intersects(geom)]
        want = shapely.union_all(touching).intersection(geom).area / geom.area
        assert v[code] == pytest.approx(want, rel=1e-6, abs=1e-9), code
        assert 0.0 <= v[code] <= 1.0
    # Northumberland: national park + AONB + SSSI etc. cover a large share
    assert 0.25 < v["E06000057"] < 0.6


def test_national_park_share_brute_force(real_layers, real_regions):
    pa = real_layers.protected_areas
    parks = list(pa.loc[pa["designation"] == "national_park", "geometry"])
    regions = real_layers.regions.set_index("code")
    for code in ["E06000057", "E07000026" if "E07000026" in regions.index else "E06000063", "E09000033"]:
        geom = regions.loc[code, "geometry"]
        want = sum(p.intersection(geom).area for p in parks) / geom.area  # parks do not overlap
        assert real_regions.values.at[code, "national_park_share"] == pytest.approx(want, rel=1e-6, abs=1e-9)


# ---------------------------------------------------------------- joins, flags
def test_discount_area_and_vintage_gaps(real_layers, real_regions):
    v, why = real_regions.values, real_regions.reasons
    nations = real_layers.regions.set_index("code")["nation"]
    flagged = set(v.index[v["in_discount_area"].fillna(False).to_numpy(bool)])
    expected = set(nations.index[nations == "Scotland"]) | set(NORTH_EAST) | {"E06000063", "E06000064"}
    assert flagged == expected
    assert len(flagged) == 32 + 12 + 2
    # Ofcom 2021 uses pre-2023 codes: the new Cumbria / North Yorkshire / Somerset unitaries are missing
    assert why.at["E06000063", "full_fibre_pct"] == "no Ofcom row for E06000063 (boundary vintage mismatch)"
    assert v["full_fibre_pct"].isna().sum() == 4
    # ONS mid-2022 population uses 2023 codes: all present; GB total of LADs is the GB estimate
    assert v["population"].notna().all()
    assert v["population"].sum() == pytest.approx(65_685_738, rel=1e-9)


def test_tec_queue_on_grid_nodes(real_layers):
    """TEC projects not yet Built land on grid nodes by their connection-site name; the per-node
    sums add up to the matched rows (an independent groupby over the members table)."""
    gn = grid_nodes(real_layers)
    pending = contracted_not_built(real_layers.tec_projects)
    site_node = gn.members[gn.members["source"] == "tec"].set_index("record_id")["node_id"]
    node = pending["connection_site"].astype(str).str.strip().map(site_node)
    on_node = node.notna()
    mw_share = pending.loc[on_node, "mw"].sum() / pending["mw"].sum()
    print(f"not-built TEC projects on a node: {on_node.mean():.1%} ({mw_share:.1%} of MW)")
    assert pending.loc[on_node, "mw"].sum() / pending["mw"].sum() > 0.6
    want = pending.assign(node=node).dropna(subset=["node"]).groupby("node")["mw"].sum()
    got = gn.nodes["tec_contracted_mw"]
    assert got[got > 0].sort_index().round(6).to_dict() == want[want > 0].sort_index().round(6).to_dict()
    names = gn.nodes["name"]
    assert names[site_node["Berkswell GSP"]].lower().startswith("berkswell")
    assert names[site_node["Wylfa 400kV Substation"]] == "Wylfa"
    # planned NESO connection nodes are never placed on an existing site
    planned = gn.unresolved[gn.unresolved["record"].str.contains("Connection Node", case=False)]
    assert len(planned) >= 90 and not site_node.index.str.contains("Connection Node", case=False).any()


# ---------------------------------------------------------------- sites
def _real_sites() -> gpd.GeoDataFrame:
    def sq(x, y, ha):
        h = math.sqrt(ha * 1e4) / 2
        return box(x - h, y - h, x + h, y + h)

    return gpd.GeoDataFrame(
        {"mw": [500.0, 800.0, 300.0, 1000.0], "target_year": [2030, 2029, 2031, 2030]},
        geometry=[
            sq(428_000, 565_000, 60.0),  # Newcastle upon Tyne (North East extracts cover it)
            sq(280_000, 840_000, 100.0),  # Highland (Scotland): no SSSI data
            sq(375_000, 393_000, 30.0),  # Trafford (green belt extract)
            sq(428_500, 565_500, 80.0),
        ],  # a second Newcastle bid, same node as the first
        index=pd.Index(["NE1", "HI1", "TR1", "NE2"], name="id"),
        crs="EPSG:27700",
    )


def test_site_indicators_on_real_layers(real_layers, real_regions):
    sites = _real_sites()
    t = site_indicators(sites, real_layers, region_percentile=pd.Series({"E08000021": 0.8}))
    v, e = t.values, t.extra
    assert e.at["NE1", "la_code"] == "E08000021" and e.at["HI1", "nation"] == "Scotland"
    assert e.at["TR1", "la_code"] == "E08000009"
    # brute force: nearest transmission-or-GSP node, and nearest transmission node
    tx, gsp = _reference_nodes(real_layers)
    for sid in ("NE1", "HI1", "TR1"):
        want = min(shapely.distance(sites.geometry[sid], p) for p in tx + gsp) / 1000.0
        assert v.at[sid, "dist_substation_km"] == pytest.approx(want, abs=1e-6), sid
        want = min(shapely.distance(sites.geometry[sid], p) for p in tx) / 1000.0
        assert v.at[sid, "dist_transmission_node_km"] == pytest.approx(want, abs=1e-6), sid
    assert e.at["NE1", "substation_id"] == e.at["NE2", "substation_id"]
    assert e.at["NE1", "transmission_node_id"] == e.at["NE2", "transmission_node_id"]
    assert v.at["NE1", "competing_mw_node"] == 1000.0 and v.at["NE2", "competing_mw_node"] == 500.0
    assert bool(v.at["NE1", "meets_500mw_by_2030"]) and not bool(v.at["TR1", "meets_500mw_by_2030"])
    assert bool(v.at["NE1", "in_discount_area"]) and bool(v.at["HI1", "in_discount_area"])
    assert not bool(v.at["TR1", "in_discount_area"])
    assert v.at["NE1", "la_percentile"] == 0.8 and np.isnan(v.at["HI1", "la_percentile"])
    assert np.isnan(v.at["HI1", "protected_share"]) and "SSSI" in t.reasons.at["HI1", "protected_share"]
    assert v["population_50km"].notna().all() and v.at["NE1", "population_50km"] > 1e6


def test_site_designation_checks_on_real_layers(real_layers):
    c = site_designation_checks(_real_sites(), real_layers).set_index(["site_id", "designation"])
    for d in ("sssi", "sac", "spa", "ramsar", "aonb"):
        assert c.at[("NE1", d), "status"] in ("present", "absent")
        assert c.at[("HI1", d), "status"] == "not checked"
    assert c.at[("HI1", "sssi"), "reason"] == (
        "not checked: no SSSI layer for Highland (Scotland): dataset naturescot_sssi_scotland (Sites of "
        "Special Scientific Interest (Scotland)) could not be had: not stored (`growth-zones data pull` "
        "fetches it)"
    )
    assert c.at[("HI1", "green_belt"), "reason"] == (
        "not checked: no Green Belt layer for Highland (Scotland): no machine-readable national dataset "
        "for Scotland (Green Belt (Scotland, local development plans), spatialhub_green_belt_scotland: "
        "the Spatial Hub serves Scotland's Green Belt (WFS layer sh_grnblt:pub_grnblt) only with an "
        "authkey issued to registered users; used when a mirror holds a copy)"
    )
    ne_sssi = c.loc[("NE1", "sssi")]
    if ne_sssi["status"] == "absent":
        pa = real_layers.protected_areas
        feats = pa.loc[pa["designation"] == "sssi", "geometry"]
        want = min(shapely.distance(_real_sites().geometry["NE1"], f) for f in feats) / 1000.0
        assert ne_sssi["distance_km"] == pytest.approx(want, abs=1e-6)
    # Trafford: green belt is checked there, SSSI is not
    assert c.at[("TR1", "green_belt"), "status"] in ("present", "absent")
    assert c.at[("TR1", "sssi"), "status"] == "not checked"
    assert (c.xs("national_park", level="designation")["status"] != "not checked").all()


def test_store_round_trip_matches_normalisers(mirror_cache, shared_data):
    """What the store gives back (pull -> GeoParquet -> LayerSet.load) is what the normalisers
    produced from the real files, row for row."""
    from growth_zones.data.catalogue import load_catalogue
    from growth_zones.data.loaders import RawInput, get_normaliser

    cat = load_catalogue()
    store = Store(mirror_cache)
    for key in ("ons_lad_may2024_buc", "neso_fes2024_gsp_info"):
        ds = cat[key]
        direct = get_normaliser(ds.normaliser)(
            RawInput(ds, [shared_data / p for p in ds.mirror_paths], {}, mirror_copy=True)
        ).frame
        stored = store.read_dataset(key)
        assert list(stored.columns) == list(direct.columns)
        pd.testing.assert_frame_equal(
            pd.DataFrame(stored.drop(columns="geometry")),
            pd.DataFrame(direct.drop(columns="geometry")),
            check_dtype=False,
        )
        assert stored.geometry.geom_equals_exact(direct.geometry.reset_index(drop=True), tolerance=1e-6).all()
    layers = LayerSet.load(store)
    assert "Northern Ireland" not in set(layers.regions["nation"])
    assert sorted(layers.designation_coverage["designation"]) == [
        "aonb",
        "flood_zone_3",
        "green_belt",
        "national_park",
        "ramsar",
        "sac",
        "spa",
        "sssi",
    ]

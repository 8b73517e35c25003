"""Indicators on tiny hand-built layers, checked against analytic values and brute-force loops
(never against the indicator code itself)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from growth_zones.data.catalogue import Dataset
from growth_zones.data.loaders import RasterData
from growth_zones.errors import DataSourceError
from growth_zones.indicators import (
    DISCOUNT_AREA_LAD_CODES,
    PROTECTED_DESIGNATIONS,
    REGION_INDICATORS,
    SITE_INDICATORS,
    IndicatorSettings,
    LayerSet,
    _geo,
    build_designation_coverage,
    region_indicators,
    site_designation_checks,
    site_indicators,
)
from growth_zones.indicators.tec import contracted_not_built

KM = 1000.0
CRS = "EPSG:27700"


def gdf(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)


def _dataset(key: str, designation: str, coverage_area: str) -> Dataset:
    return Dataset(
        key=key,
        title=key,
        publisher="test",
        layer="protected_areas",
        normaliser="land:x",
        url="u",
        format="geojson",
        mirror_paths=(f"{key}.geojson",),
        licence="OGL",
        attribution="a",
        vintage="v",
        designation=designation,
        coverage_area=coverage_area,
    )


# A toy GB: England is x 0..200 km, y 0..100 km; Scotland is y 100..200 km.
ENGLAND = box(0, 0, 200 * KM, 100 * KM)
SCOTLAND = box(0, 100 * KM, 200 * KM, 200 * KM)


def toy_layers(**overrides) -> LayerSet:
    countries = gdf(
        [
            {
                "code": "E92000001",
                "name": "England",
                "nation": "England",
                "dataset": "t",
                "geometry": ENGLAND,
            },
            {
                "code": "S92000003",
                "name": "Scotland",
                "nation": "Scotland",
                "dataset": "t",
                "geometry": SCOTLAND,
            },
        ]
    )
    regions = gdf(
        [
            # a North East LAD (discount area) covering x 0..20, y 0..20 km
            {
                "code": "E06000001",
                "name": "Hartlepool",
                "nation": "England",
                "dataset": "t",
                "geometry": box(0, 0, 20 * KM, 20 * KM),
            },
            {
                "code": "E07000100",
                "name": "Midshire",
                "nation": "England",
                "dataset": "t",
                "geometry": box(100 * KM, 0, 200 * KM, 100 * KM),
            },
            {
                "code": "S12000017",
                "name": "Highland",
                "nation": "Scotland",
                "dataset": "t",
                "geometry": box(0, 120 * KM, 20 * KM, 140 * KM),
            },
        ]
    )
    substations = gdf(
        [
            {
                "id": "GSP1",
                "name": "Alpha",
                "voltage_kv": np.nan,
                "operator": "",
                "kind": "gsp",
                "dataset": "t",
                "geometry": Point(10 * KM, 10 * KM),
            },  # inside E06000001
            {
                "id": "TX1",
                "name": "ALPHA",
                "voltage_kv": 400.0,
                "operator": "",
                "kind": "transmission",
                "dataset": "t",
                "geometry": Point(10 * KM + 300, 10 * KM),
            },  # same site, 300 m away: one node
            {
                "id": "TX2",
                "name": "Bravo",
                "voltage_kv": 275.0,
                "operator": "",
                "kind": "other",
                "dataset": "t",
                "geometry": Point(60 * KM, 10 * KM),
            },  # >= 275 kV: transmission by voltage
            {
                "id": "SC1",
                "name": "Charlie",
                "voltage_kv": 132.0,
                "operator": "",
                "kind": "other",
                "dataset": "t",
                "geometry": Point(10 * KM, 150 * KM),
            },  # 132 kV in Scotland: transmission
            {
                "id": "EN132",
                "name": "Delta",
                "voltage_kv": 132.0,
                "operator": "",
                "kind": "bsp",
                "dataset": "t",
                "geometry": Point(30 * KM, 10 * KM),
            },  # 132 kV in England: not transmission
        ]
    )
    circuits = gdf(
        [
            # 400 kV line along y = 5 km, well beyond the 20 km square on both sides
            {
                "id": "L1",
                "voltage_kv": 400.0,
                "rating_mva": 1000.0,
                "length_km": 120.0,
                "operator": "",
                "dataset": "t",
                "geometry": LineString([(-50 * KM, 5 * KM), (70 * KM, 5 * KM)]),
            },
            # a 132 kV line in England (not transmission) through the same square at y = 18 km
            {
                "id": "L2",
                "voltage_kv": 132.0,
                "rating_mva": 200.0,
                "length_km": 120.0,
                "operator": "",
                "dataset": "t",
                "geometry": LineString([(-50 * KM, 18 * KM), (70 * KM, 18 * KM)]),
            },
            # a 132 kV line in Scotland along x = 30 km (transmission there)
            {
                "id": "L3",
                "voltage_kv": 132.0,
                "rating_mva": np.nan,
                "length_km": 100.0,
                "operator": "",
                "dataset": "t",
                "geometry": LineString([(30 * KM, 105 * KM), (30 * KM, 195 * KM)]),
            },
            # an ETYS coupler placeholder at the Alpha node (voltage unknown): must not count as capacity
            {
                "id": "L4",
                "voltage_kv": np.nan,
                "rating_mva": 9999.0,
                "length_km": 0.1,
                "operator": "",
                "dataset": "t",
                "geometry": LineString([(10 * KM, 10 * KM), (10 * KM + 100, 10 * KM)]),
            },
        ]
    )
    tec = pd.DataFrame(
        [
            {
                "project_id": "P1",
                "project": "A",
                "customer": "c",
                "connection_site": "Alpha 400kV Substation",
                "mw": 300.0,
                "mw_connected": 0.0,
                "status": "Scoping",
                "plant_type": "x",
                "host_to": "NGET",
                "dataset": "t",
            },
            {
                "project_id": "P2",
                "project": "B",
                "customer": "c",
                "connection_site": "Alpha GSP",
                "mw": 100.0,
                "mw_connected": 100.0,
                "status": "Built",
                "plant_type": "x",
                "host_to": "NGET",
                "dataset": "t",
            },
            {
                "project_id": "P3",
                "project": "C",
                "customer": "c",
                "connection_site": "Bravo 275kV",
                "mw": 50.0,
                "mw_connected": 0.0,
                "status": "Awaiting Consents",
                "plant_type": "x",
                "host_to": "NGET",
                "dataset": "t",
            },
        ]
    )
    protected = gdf(
        [
            # SSSI covering x 0..5 km of the NE square (a quarter of it: 100 of 400 km2)
            {
                "designation": "sssi",
                "name": "s",
                "nation": "England",
                "dataset": "sssi_ne",
                "geometry": box(0, 0, 5 * KM, 20 * KM),
            },
            # an overlapping SAC: x 0..10, y 0..2 km (20 km2, of which 10 km2 already SSSI)
            {
                "designation": "sac",
                "name": "s",
                "nation": "England",
                "dataset": "sac_ne",
                "geometry": box(0, 0, 10 * KM, 2 * KM),
            },
            {
                "designation": "national_park",
                "name": "np",
                "nation": "England",
                "dataset": "np_gb",
                "geometry": box(150 * KM, 50 * KM, 200 * KM, 100 * KM),
            },
        ]
    )
    ne = box(0, 0, 50 * KM, 50 * KM)
    coverage = gpd.GeoDataFrame(
        {"designation": ["sssi", "sac", "national_park"], "dataset": ["sssi_ne", "sac_ne", "np_gb"]},
        geometry=[ne, ne, shapely.union(ENGLAND, SCOTLAND)],
        crs=CRS,
    )
    ix = gdf(
        [
            {
                "id": "1",
                "name": "Docklands",
                "metro": "London",
                "exchanges": "LINX",
                "dataset": "t",
                "geometry": Point(200 * KM, 0),
            },
            {
                "id": "2",
                "name": "Manchester",
                "metro": "Manchester",
                "exchanges": "IXM",
                "dataset": "t",
                "geometry": Point(50 * KM, 50 * KM),
            },
        ]
    )
    landing = gdf([{"id": "1", "name": "Bude", "dataset": "t", "geometry": Point(0, 50 * KM)}])
    base = dict(
        regions=regions,
        countries=countries,
        substations=substations,
        circuits=circuits,
        tec_projects=tec,
        internet_exchanges=ix,
        landing_points=landing,
        protected_areas=protected,
        designation_coverage=coverage,
    )
    base.update(overrides)
    return LayerSet(**base)


def square_site(cx: float, cy: float, area_ha: float) -> shapely.Polygon:
    """A 1 km wide rectangle of exactly ``area_ha`` (for whole-metre heights)."""
    h = area_ha * 10.0
    return box(cx - 500.0, cy - h / 2, cx + 500.0, cy + h / 2)


def sites_frame(rows: list[dict]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows).set_index("id")
    return gpd.GeoDataFrame(df, geometry="geometry", crs=CRS)


# ---------------------------------------------------------------- region indicators
def test_region_table_has_exactly_the_contract_columns():
    t = region_indicators(toy_layers())
    assert list(t.values.columns) == list(REGION_INDICATORS)
    assert t.values.shape == t.reasons.shape
    assert list(t.values.index) == ["E06000001", "E07000100", "S12000017"]
    assert {
        "name",
        "nation",
        "nearest_gsp_name",
        "nearest_transmission_name",
        "nearest_transmission_voltage_kv",
    } <= set(t.extra.columns)
    # a present value never has a reason; a missing one always has
    for col in t.values.columns:
        missing = t.values[col].isna()
        assert (t.reasons.loc[missing, col] != "").all(), col
        assert (t.reasons.loc[~missing, col] == "").all(), col


def test_share_within_10km_transmission_analytic():
    t = region_indicators(toy_layers())
    # 400 kV line at y = 5 km: its 10 km band covers y -5..15 of the 0..20 km square -> 15/20.
    # The 132 kV English line (y = 18 km) must not count.
    assert t.values.at["E06000001", "share_within_10km_transmission"] == pytest.approx(0.75, abs=1e-9)
    # Highland square x 0..20, y 120..140: the Scottish 132 kV line at x = 30 counts: band x 20..40
    # only touches the edge -> 0; the far English region is 60+ km away from any line -> 0
    assert t.values.at["S12000017", "share_within_10km_transmission"] == pytest.approx(0.0, abs=1e-9)
    moved = toy_layers()
    moved.circuits = moved.circuits.copy()
    moved.circuits.loc[2, "geometry"] = LineString([(25 * KM, 105 * KM), (25 * KM, 195 * KM)])
    # now the band is x 15..35: 5 of 20 km of the Highland square
    assert region_indicators(moved).values.at["S12000017", "share_within_10km_transmission"] == pytest.approx(
        0.25, abs=1e-9
    )


def test_region_distances_and_transmission_rule():
    t = region_indicators(toy_layers())
    v, e = t.values, t.extra
    assert v.at["E06000001", "dist_gsp_km"] == 0.0  # GSP inside
    assert v.at["E06000001", "dist_transmission_km"] == 0.0
    # Midshire (x >= 100 km): nearest transmission is Bravo (275 kV, kind 'other') at (60, 10): 40 km;
    # the 132 kV English BSP at (30, 10) is not transmission
    assert v.at["E07000100", "dist_transmission_km"] == pytest.approx(40.0)
    assert e.at["E07000100", "nearest_transmission_name"] == "Bravo"
    # Highland: the Scottish 132 kV site at (10, 150) is transmission: 10 km north of y = 140
    assert v.at["S12000017", "dist_transmission_km"] == pytest.approx(10.0)
    assert e.at["S12000017", "nearest_transmission_voltage_kv"] == 132.0
    # area and discount area
    assert v.at["E06000001", "area_km2"] == pytest.approx(400.0)
    assert v["in_discount_area"].tolist() == [True, False, True]
    # connectivity: Midshire touches the London IX point (200, 0) -> 0 km; RTT from its
    # representative point
    rep = shapely.point_on_surface(box(100 * KM, 0, 200 * KM, 100 * KM))
    d_km = rep.distance(Point(200 * KM, 0)) / KM
    assert v.at["E07000100", "rtt_london_ms"] == pytest.approx(2 * d_km * 1.5 / 200)
    assert v.at["E06000001", "dist_landing_km"] == pytest.approx(30.0)  # (0,50) to the square's top edge


def test_rtt_is_one_ms_per_100km_of_route():
    s = IndicatorSettings(fibre_route_factor=1.0)
    assert _geo.rtt_ms(np.array([100 * KM]), s)[0] == pytest.approx(1.0)
    assert _geo.rtt_ms(np.array([100 * KM]), IndicatorSettings())[0] == pytest.approx(1.5)


def test_capacity_and_tec_within_30km():
    t = region_indicators(toy_layers())
    # NE square: L1 (1000 MVA) and L2 (200 MVA) pass through it; L4 is a 9999 placeholder (0);
    # L3 (Scotland, NaN rating) is 85 km away
    assert t.values.at["E06000001", "tx_capacity_mva_30km"] == pytest.approx(1200.0)
    # TEC: P1 (300 MW, Scoping) at Alpha and P3 (50 MW) at Bravo (x 60 km: 40 km from the square -> out);
    # P2 is Built
    assert t.values.at["E06000001", "tec_contracted_mw_30km"] == pytest.approx(300.0)
    # Midshire is 40 km from Bravo -> nothing within 30 km
    assert t.values.at["E07000100", "tec_contracted_mw_30km"] == 0.0


def test_protected_share_three_valued_regions():
    t = region_indicators(
        toy_layers(), IndicatorSettings(region_protected_designations=("sssi", "sac", "national_park"))
    )
    # NE square is inside the NE coverage of sssi/sac and GB coverage of parks:
    # SSSI 100 km2 + SAC 20 km2 - overlap 10 km2 = 110 of 400 km2
    assert t.values.at["E06000001", "protected_share"] == pytest.approx(110 / 400)
    # Highland is outside the NE coverage: not checked, naming what is missing and where
    assert np.isnan(t.values.at["S12000017", "protected_share"])
    reason = t.reasons.at["S12000017", "protected_share"]
    assert "SSSI" in reason and "SAC" in reason and "Scotland" in reason and "National Park" not in reason
    # national parks are GB-wide: always computed; Midshire is a quarter park
    assert t.values.at["E07000100", "national_park_share"] == pytest.approx(0.25)
    assert t.values.at["S12000017", "national_park_share"] == 0.0
    # requiring Green Belt too (no coverage at all here) leaves every region not checked
    d = region_indicators(
        toy_layers(), IndicatorSettings(region_protected_designations=PROTECTED_DESIGNATIONS)
    )
    assert d.values["protected_share"].isna().all()
    assert "Green Belt" in d.reasons.at["E06000001", "protected_share"]


def test_missing_layers_give_reasons_not_errors():
    t = region_indicators(toy_layers(broadband_by_region=None, population_grid=None, renewables=None))
    assert t.values["full_fibre_pct"].isna().all()
    assert (t.reasons["full_fibre_pct"] == "layer broadband_by_region not available").all()
    assert (t.reasons["population_50km"] == "layer population_grid not available").all()
    assert (t.reasons["renewables_operational_mw_30km"] == "layer renewables not available").all()
    missing = t.missing()
    assert list(missing.columns) == ["id", "indicator", "reason"]
    assert len(missing) == int(t.values.isna().sum().sum())
    assert ("E06000001", "full_fibre_pct", "layer broadband_by_region not available") in set(
        map(tuple, missing.to_numpy())
    )


def test_broadband_and_population_joins_explain_vintage_gaps():
    bb = pd.DataFrame(
        {
            "code": ["E06000001", "S12000017"],
            "premises": [1.0, 1.0],
            "full_fibre_pct": [12.5, 40.0],
            "gigabit_pct": [1.0, 1.0],
            "sfbb_pct": [1.0, 1.0],
            "dataset": "t",
        }
    )
    pop = pd.DataFrame(
        {"code": ["E06000001"], "name": ["Hartlepool"], "population": [92_000.0], "dataset": "t"}
    )
    t = region_indicators(toy_layers(broadband_by_region=bb, population_by_region=pop))
    assert t.values.at["E06000001", "full_fibre_pct"] == 12.5
    assert np.isnan(t.values.at["E07000100", "full_fibre_pct"])
    assert (
        t.reasons.at["E07000100", "full_fibre_pct"]
        == "no Ofcom row for E07000100 (boundary vintage mismatch)"
    )
    assert t.values.at["E06000001", "population"] == 92_000.0


def test_renewables_only_operational_within_30km():
    ren = gdf(
        [
            {
                "id": "1",
                "name": "a",
                "technology": "Wind",
                "capacity_mw": 10.0,
                "status": "Operational",
                "country": "E",
                "dataset": "t",
                "geometry": Point(45 * KM, 10 * KM),
            },  # 25 km from the NE square
            {
                "id": "2",
                "name": "b",
                "technology": "Wind",
                "capacity_mw": 99.0,
                "status": "Awaiting Construction",
                "country": "E",
                "dataset": "t",
                "geometry": Point(10 * KM, 10 * KM),
            },
            {
                "id": "3",
                "name": "c",
                "technology": "Wind",
                "capacity_mw": 7.0,
                "status": "Operational",
                "country": "E",
                "dataset": "t",
                "geometry": Point(55 * KM, 10 * KM),
            },  # 35 km: out
        ]
    )
    t = region_indicators(toy_layers(renewables=ren))
    assert t.values.at["E06000001", "renewables_operational_mw_30km"] == pytest.approx(10.0)


# ---------------------------------------------------------------- population raster
def _brute_population(arr: np.ndarray, transform: Affine, x: float, y: float, radius_m: float) -> float:
    # plain arithmetic for a north-up grid (independent of the affine helpers)
    col = int(math.floor((x - transform.c) / transform.a))
    row = int(math.floor((y - transform.f) / transform.e))
    cx, cy = transform.c + (col + 0.5) * transform.a, transform.f + (row + 0.5) * transform.e
    total = 0.0
    for r in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            v = arr[r, c]
            if not np.isfinite(v):
                continue
            px, py = transform.c + (c + 0.5) * transform.a, transform.f + (r + 0.5) * transform.e
            if (px - cx) ** 2 + (py - cy) ** 2 <= radius_m**2:
                total += float(v)
    return total


def test_population_within_matches_brute_force():
    rng = np.random.default_rng(7)
    arr = rng.gamma(2.0, 50.0, size=(60, 80)).astype("float32")
    arr[rng.random(arr.shape) < 0.1] = np.nan
    transform = Affine(1000.0, 0, 100_000.0, 0, -1000.0, 500_000.0)
    layers = toy_layers(population_grid=RasterData(arr, {"transform": transform, "nodata": np.nan}))
    xs = rng.uniform(100_000, 180_000, 12)
    ys = rng.uniform(440_000, 500_000, 12)
    pts = shapely.points(xs, ys)
    for radius_km in (5.0, 12.5):
        got = _geo.population_within(layers, pts, radius_km)
        want = [
            _brute_population(arr.astype(float), transform, x, y, radius_km * KM)
            for x, y in zip(xs, ys, strict=True)
        ]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    # outside the raster -> NaN
    assert np.isnan(_geo.population_within(layers, shapely.points([0.0], [0.0]), 5.0)[0])


# ---------------------------------------------------------------- overlap_area (property)
boxes = st.tuples(st.floats(0, 90), st.floats(0, 90), st.floats(1, 30), st.floats(1, 30)).map(
    lambda t: box(t[0], t[1], t[0] + t[2], t[1] + t[3])
)


@hsettings(max_examples=60, deadline=None)
@given(targets=st.lists(boxes, min_size=1, max_size=5), features=st.lists(boxes, min_size=0, max_size=6))
def test_overlap_area_equals_area_of_union_intersection(targets, features):
    got = _geo.overlap_area(np.array(targets, dtype=object), np.array(features, dtype=object))
    union = shapely.union_all(features) if features else shapely.Polygon()
    want = [t.intersection(union).area for t in targets]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_subdivide_preserves_area():
    circle = Point(0, 0).buffer(10 * KM, quad_segs=256)  # 1025 vertices
    pieces = _geo.subdivide(np.array([circle], dtype=object), max_vertices=64)
    assert len(pieces) > 4
    assert (shapely.get_num_coordinates(pieces) <= 64).all()
    assert shapely.area(pieces).sum() == pytest.approx(circle.area, rel=1e-9)


# ---------------------------------------------------------------- sites
def _two_sites_same_node() -> gpd.GeoDataFrame:
    return sites_frame(
        [
            {"id": "A", "mw": 600.0, "target_year": 2029, "geometry": square_site(12 * KM, 12 * KM, 60.0)},
            {"id": "B", "mw": 400.0, "target_year": 2030, "geometry": square_site(8 * KM, 8 * KM, 40.0)},
            {"id": "C", "mw": 500.0, "target_year": 2031, "geometry": square_site(62 * KM, 12 * KM, 49.99)},
        ]
    )


def test_site_table_contract_columns():
    t = site_indicators(_two_sites_same_node(), toy_layers())
    assert list(t.values.columns) == list(SITE_INDICATORS)
    assert {
        "la_code",
        "la_name",
        "nation",
        "substation_id",
        "substation_name",
        "substation_kind",
        "nearest_ix_name",
        "nearest_landing_name",
    } <= set(t.extra.columns)
    for col in t.values.columns:
        missing = t.values[col].isna()
        assert (t.reasons.loc[missing, col] != "").all(), col
        assert (t.reasons.loc[~missing, col] == "").all(), col


def _etys_alpha(rating: float = 2000.0, largest: float = 1100.0) -> pd.DataFrame:
    """An ETYS site table holding ALPH 'ALPHA' (400 kV, not geocoded) with two rated circuits."""
    return pd.DataFrame(
        {
            "site_code": ["ALPH"],
            "name": ["ALPHA"],
            "names": ["ALPHA"],
            "operator": ["NGET"],
            "voltages_kv": ["400;132"],
            "voltage_kv": [400.0],
            "circuit_voltages_kv": ["400"],
            "circuit_rating_mva": [rating],
            "largest_circuit_mva": [largest],
            "rated_circuits": [2.0],
            "role": ["site"],
            "x": [np.nan],
            "y": [np.nan],
            "geocode_source": [""],
            "dataset": ["etys"],
        }
    )


def test_competing_mw_and_firm_capacity_share_at_one_node():
    t = site_indicators(_two_sites_same_node(), toy_layers())
    v, e = t.values, t.extra
    # A and B both take the Alpha node (GSP and 400 kV record 300 m apart, same name: one node)
    assert e.at["A", "substation_id"] == e.at["B", "substation_id"]
    assert e.at["A", "transmission_node_id"] == e.at["A", "substation_id"]
    assert e.at["A", "substation_kind"] == "transmission" and e.at["A", "substation_name"] == "Alpha"
    assert v.at["A", "competing_mw_node"] == 400.0
    assert v.at["B", "competing_mw_node"] == 600.0
    assert v.at["C", "competing_mw_node"] == 0.0
    # node capacity comes from ETYS circuit ratings by site code: without the ETYS site table the
    # node has none -> NaN with a reason, and the capacity gate's indicator is missing too
    assert np.isnan(v.at["A", "firm_capacity_share_mva"]) and np.isnan(v.at["A", "firm_capacity_cover"])
    assert "has no ETYS site code" in t.reasons.at["A", "firm_capacity_share_mva"]
    # with the ETYS site ALPH (unplaced) and the GSP as a FES record ALPH_1 (code + name join it to
    # ALPH): firm capacity = 2000 - 1100 (the largest circuit lost) = 900 MW; A gets 600/1000 of
    # it, B 400/1000
    subs = toy_layers().substations.copy()
    subs.loc[subs["id"] == "GSP1", ["id", "dataset"]] = ["ALPH_1", "neso_fes2024_gsp_info"]
    t2 = site_indicators(_two_sites_same_node(), toy_layers(grid_sites=_etys_alpha(), substations=subs))
    assert t2.extra.at["A", "transmission_node_id"] == "etys:ALPH"
    assert t2.extra.at["A", "firm_capacity_mva"] == pytest.approx(900.0)
    assert t2.values.at["A", "firm_capacity_share_mva"] == pytest.approx(900.0 * 600 / 1000)
    assert t2.values.at["B", "firm_capacity_share_mva"] == pytest.approx(900.0 * 400 / 1000)
    assert (t2.values.loc[["A", "B"], "firm_capacity_share_mva"].sum()) == pytest.approx(
        900.0
    )  # no double count
    # cover = (firm - the other bids) / own claim: A (900 - 400) / 600, B (900 - 600) / 400
    assert t2.values.at["A", "firm_capacity_cover"] == pytest.approx(500 / 600)
    assert t2.values.at["B", "firm_capacity_cover"] == pytest.approx(300 / 400)
    # TEC at the node: P1 300 MW (Scoping) matched to Alpha by name; P2 is Built
    assert v.at["A", "tec_contracted_mw_node"] == 300.0
    assert v.at["C", "tec_contracted_mw_node"] == 50.0  # Bravo 275 kV
    assert v.at["C", "substation_voltage_kv"] == 275.0


def test_meets_500mw_by_2030_edges_and_land_sufficient():
    sites = sites_frame(
        [
            {"id": "ok", "mw": 500.0, "target_year": 2030, "geometry": square_site(12 * KM, 12 * KM, 50.0)},
            {
                "id": "small",
                "mw": 499.0,
                "target_year": 2030,
                "geometry": square_site(12 * KM, 14 * KM, 49.0),
            },
            {"id": "late", "mw": 500.0, "target_year": 2031, "geometry": square_site(14 * KM, 12 * KM, 49.9)},
            {
                "id": "nomw",
                "mw": np.nan,
                "target_year": 2030,
                "geometry": square_site(14 * KM, 14 * KM, 10.0),
            },
        ]
    )
    t = site_indicators(sites, toy_layers())
    m = t.values["meets_500mw_by_2030"]
    assert m["ok"] is True or m["ok"] == True  # noqa: E712 - nullable boolean
    assert not m["small"] and not m["late"]
    assert pd.isna(m["nomw"]) and t.reasons.at["nomw", "meets_500mw_by_2030"] != ""
    land = t.values["land_sufficient"]
    # 10 ha per 100 MW: 500 MW needs 50 ha; 499 MW needs 49.9 ha
    assert bool(land["ok"]) is True  # 50 ha for 500 MW
    assert bool(land["small"]) is False  # 49 ha < 49.9 ha
    assert bool(land["late"]) is False  # 49.9 ha < 50 ha
    assert pd.isna(land["nomw"])
    wide = site_indicators(sites, toy_layers(), IndicatorSettings(ha_per_100mw=5.0))
    assert bool(wide.values.at["late", "land_sufficient"]) is True  # needs 25 ha
    assert t.values.at["ok", "site_area_ha"] == pytest.approx(50.0)


def test_evidence_pass_through_and_discount_and_percentile():
    sites = sites_frame(
        [
            {
                "id": "ne",
                "mw": 500.0,
                "target_year": 2030,
                "evidence_grid": 1.0,
                "evidence_water": np.nan,
                "geometry": square_site(12 * KM, 12 * KM, 50.0),
            },
            {
                "id": "mid",
                "mw": 500.0,
                "target_year": 2030,
                "evidence_grid": 0.0,
                "evidence_water": 1.0,
                "geometry": square_site(150 * KM, 20 * KM, 50.0),
            },
        ]
    )
    pct = pd.Series({"E06000001": 0.9})
    t = site_indicators(sites, toy_layers(), region_percentile=pct)
    v = t.values
    assert v.at["ne", "evidence_grid"] == 1.0 and v.at["mid", "evidence_grid"] == 0.0
    assert np.isnan(v.at["ne", "evidence_water"])
    assert (t.reasons["evidence_planning"] == "not stated in the application").all()
    assert list(v["in_discount_area"]) == [True, False]
    assert v.at["ne", "la_percentile"] == 0.9 and np.isnan(v.at["mid", "la_percentile"])
    assert t.extra.at["ne", "la_code"] == "E06000001" and t.extra.at["mid", "la_name"] == "Midshire"


def test_site_designation_checks_three_valued():
    sites = sites_frame(
        [
            # straddles the SSSI edge x = 5 km: half inside (x 4..6 km, y 9..11)
            {"id": "in", "mw": 100.0, "target_year": 2030, "geometry": box(4 * KM, 9 * KM, 6 * KM, 11 * KM)},
            # in NE coverage, clear of SSSI: 3 km east of x = 5 km
            {"id": "out", "mw": 100.0, "target_year": 2030, "geometry": box(8 * KM, 9 * KM, 9 * KM, 10 * KM)},
            # Scotland: no SSSI data there
            {
                "id": "scot",
                "mw": 100.0,
                "target_year": 2030,
                "geometry": box(5 * KM, 125 * KM, 6 * KM, 126 * KM),
            },
        ]
    )
    c = site_designation_checks(sites, toy_layers()).set_index(["site_id", "designation"])
    assert c.at[("in", "sssi"), "status"] == "present"
    assert c.at[("in", "sssi"), "share"] == pytest.approx(0.5)
    assert c.at[("out", "sssi"), "status"] == "absent"
    assert c.at[("out", "sssi"), "distance_km"] == pytest.approx(3.0)
    # SAC (y 0..2 km) is 7 km below 'out'
    assert c.at[("out", "sac"), "distance_km"] == pytest.approx(7.0)
    assert c.at[("scot", "sssi"), "status"] == "not checked"
    assert c.at[("scot", "sssi"), "reason"] == (
        "not checked: no SSSI layer for Highland (Scotland): dataset naturescot_sssi_scotland (Sites of "
        "Special Scientific Interest (Scotland)) could not be had: not stored (`growth-zones data pull` "
        "fetches it)"
    )
    assert np.isnan(c.at[("scot", "sssi"), "distance_km"])
    # national parks are GB-wide: absent everywhere here, with a distance
    assert c.at[("scot", "national_park"), "status"] == "absent"
    # designations with no dataset at all are never 'absent'
    assert (c.xs("flood_zone_3", level="designation")["status"] == "not checked").all()
    assert (c.xs("green_belt", level="designation")["status"] == "not checked").all()

    t = site_indicators(sites, toy_layers(), IndicatorSettings(exclusion_designations=("sssi", "sac")))
    assert t.values.at["in", "protected_share"] == pytest.approx(0.5)
    assert t.values.at["out", "protected_share"] == 0.0
    assert np.isnan(t.values.at["scot", "protected_share"])
    assert "SSSI" in t.reasons.at["scot", "protected_share"]
    assert t.values["in_flood_zone_3"].isna().all()


def test_flood_zone_3_three_valued():
    layers = toy_layers()
    fz = gdf(
        [
            {
                "designation": "flood_zone_3",
                "name": "",
                "nation": "England",
                "dataset": "fz",
                "geometry": box(10 * KM, 10 * KM, 11 * KM, 11 * KM),
            }
        ]
    )
    layers.protected_areas = pd.concat([layers.protected_areas, fz], ignore_index=True)
    layers.designation_coverage = pd.concat(
        [
            layers.designation_coverage,
            gpd.GeoDataFrame(
                {"designation": ["flood_zone_3"], "dataset": ["fz"]},
                geometry=[box(5 * KM, 5 * KM, 15 * KM, 15 * KM)],
                crs=CRS,
            ),
        ],
        ignore_index=True,
    )
    sites = sites_frame(
        [
            {
                "id": "wet",
                "mw": 1.0,
                "target_year": 2030,
                "geometry": box(10.5 * KM, 10.5 * KM, 12 * KM, 12 * KM),
            },
            {"id": "dry", "mw": 1.0, "target_year": 2030, "geometry": box(6 * KM, 6 * KM, 7 * KM, 7 * KM)},
            {"id": "edge", "mw": 1.0, "target_year": 2030, "geometry": box(14 * KM, 6 * KM, 16 * KM, 7 * KM)},
        ]
    )
    t = site_indicators(sites, layers)
    f = t.values["in_flood_zone_3"]
    assert bool(f["wet"]) is True and bool(f["dry"]) is False and pd.isna(f["edge"])
    assert "Flood Zone 3" in t.reasons.at["edge", "in_flood_zone_3"]


# ---------------------------------------------------------------- TEC
def test_contracted_not_built_keeps_one_cumulative_row_per_project():
    tec = pd.DataFrame(
        {
            "project_id": ["p", "p", "p", "q", "r"],
            "project": ["Flash", "Flash", "Flash", "Q", "R"],
            "customer": "c",
            "connection_site": ["Staythorpe", "Staythorpe", "Staythorpe", "X", "Y"],
            "mw": [360.0, 800.0, 800.0, 50.0, 70.0],
            "status": ["Consents Approved"] * 3 + ["Built", "Scoping"],
            "dataset": "t",
        }
    )
    out = contracted_not_built(tec)
    assert sorted(out["mw"]) == [70.0, 800.0]


# ---------------------------------------------------------------- coverage and LayerSet
def test_build_designation_coverage_resolves_each_kind():
    countries = gdf(
        [
            {"code": "E", "name": "England", "nation": "England", "dataset": "t", "geometry": ENGLAND},
            {"code": "S", "name": "Scotland", "nation": "Scotland", "dataset": "t", "geometry": SCOTLAND},
            {
                "code": "N",
                "name": "NI",
                "nation": "Northern Ireland",
                "dataset": "t",
                "geometry": box(-100 * KM, 0, -50 * KM, 50 * KM),
            },
        ]
    )
    regions = gdf(
        [
            {
                "code": "E08000009",
                "name": "Trafford",
                "nation": "England",
                "dataset": "t",
                "geometry": box(0, 0, 10 * KM, 10 * KM),
            }
        ]
    )
    areas = gpd.GeoDataFrame(
        {"area": ["north_east"], "dataset": ["t"]}, geometry=[box(0, 0, 50 * KM, 50 * KM)], crs=CRS
    )
    pa = gdf(
        [
            {
                "designation": "national_park",
                "name": "",
                "nation": "",
                "dataset": "np",
                "geometry": box(0, 0, 1, 1),
            },
            {"designation": "sssi", "name": "", "nation": "", "dataset": "sssi", "geometry": box(0, 0, 1, 1)},
            {
                "designation": "green_belt",
                "name": "",
                "nation": "",
                "dataset": "gb",
                "geometry": box(0, 0, 1, 1),
            },
            {
                "designation": "flood_zone_3",
                "name": "",
                "nation": "",
                "dataset": "fz",
                "geometry": box(1 * KM, 1 * KM, 2 * KM, 2 * KM),
            },
            {
                "designation": "flood_zone_3",
                "name": "",
                "nation": "",
                "dataset": "fz",
                "geometry": box(5 * KM, 3 * KM, 6 * KM, 4 * KM),
            },
        ]
    )
    cat = {
        k: _dataset(k, d, a)
        for k, d, a in [
            ("np", "national_park", "gb"),
            ("sssi", "sssi", "north_east"),
            ("gb", "green_belt", "lad:E08000009"),
            ("fz", "flood_zone_3", "extent"),
            ("missing", "spa", "north_east"),  # not loaded -> no coverage
            ("lost", "aonb", "lad:E09999999"),
        ]
    }  # LAD not in this vintage -> skipped
    pa = pd.concat(
        [
            pa,
            gdf(
                [
                    {
                        "designation": "aonb",
                        "name": "",
                        "nation": "",
                        "dataset": "lost",
                        "geometry": box(0, 0, 1, 1),
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    cov = build_designation_coverage(pa, areas, regions, countries, catalogue=cat).set_index("dataset")
    assert sorted(cov.index) == ["fz", "gb", "np", "sssi"]
    assert cov.at["np", "geometry"].area == pytest.approx(ENGLAND.area + SCOTLAND.area)  # NI excluded
    assert cov.at["sssi", "geometry"].area == pytest.approx((50 * KM) ** 2)
    assert cov.at["gb", "geometry"].area == pytest.approx((10 * KM) ** 2)
    assert cov.at["fz", "geometry"].bounds == (1 * KM, 1 * KM, 6 * KM, 4 * KM)  # envelope
    assert cov.crs.to_epsg() == 27700


def _national(key: str, nations: tuple[str, ...], *, sample: str | None = None, **kw) -> Dataset:
    from growth_zones.data.catalogue import MirrorCopy

    mc = (
        MirrorCopy(coverage_area=sample, designations=kw.pop("sample_designations", None)) if sample else None
    )
    return Dataset(
        key=key,
        title=key,
        publisher="test",
        layer="protected_areas",
        normaliser="land:normalise_designation",
        url="u",
        format="geojson",
        mirror_paths=(f"{key}.geojson",) if sample else (),
        licence="OGL",
        attribution="a",
        vintage="v",
        nations=nations,
        mirror_copy=mc,
        coverage_area=sample,
        **kw,
    )


def test_national_pull_is_checked_in_its_nation_and_a_sample_only_in_its_extent():
    """The same catalogue entry gives different coverage for its two copies: the official release
    covers its nation (England here), the pinned sample only its own extent and designations."""
    countries = gdf(
        [
            {"code": "E", "name": "England", "nation": "England", "dataset": "t", "geometry": ENGLAND},
            {"code": "S", "name": "Scotland", "nation": "Scotland", "dataset": "t", "geometry": SCOTLAND},
        ]
    )
    flood = _national(
        "ea",
        ("England",),
        sample="extent",
        sample_designations=("flood_zone_3",),
        designation_column=("flood_zone",),
        designation_values={"FZ2": "flood_zone_2", "FZ3": "flood_zone_3"},
    )
    sssi_s = _national("ns", ("Scotland",), designation="sssi")
    pa = gdf(
        [
            {
                "designation": "flood_zone_3",
                "name": "",
                "nation": "England",
                "dataset": "ea",
                "geometry": box(1 * KM, 1 * KM, 2 * KM, 2 * KM),
            },
            {
                "designation": "flood_zone_3",
                "name": "",
                "nation": "England",
                "dataset": "ea",
                "geometry": box(5 * KM, 3 * KM, 6 * KM, 4 * KM),
            },
            {
                "designation": "sssi",
                "name": "x",
                "nation": "Scotland",
                "dataset": "ns",
                "geometry": box(10 * KM, 110 * KM, 11 * KM, 111 * KM),
            },
        ]
    )
    cat = {"ea": flood, "ns": sssi_s}
    official = {
        "ea": {"copy": "official release", "designations": ["flood_zone_2", "flood_zone_3"]},
        "ns": {"copy": "official release", "designations": ["sssi"]},
    }
    cov = build_designation_coverage(pa, None, None, countries, catalogue=cat, copies=official)
    rows = {(r.designation, r.dataset): r.geometry for r in cov.itertuples()}
    assert set(rows) == {("flood_zone_2", "ea"), ("flood_zone_3", "ea"), ("sssi", "ns")}
    assert rows[("flood_zone_2", "ea")].equals(ENGLAND) and rows[("flood_zone_3", "ea")].equals(ENGLAND)
    assert rows[("sssi", "ns")].equals(SCOTLAND)
    sample = {
        "ea": {"copy": "sample", "coverage_area": "extent", "designations": ["flood_zone_3"]},
        "ns": official["ns"],
    }
    cov = build_designation_coverage(pa, None, None, countries, catalogue=cat, copies=sample)
    rows = {(r.designation, r.dataset): r.geometry for r in cov.itertuples()}
    assert set(rows) == {("flood_zone_3", "ea"), ("sssi", "ns")}  # FZ2 not checked from the sample
    assert rows[("flood_zone_3", "ea")].bounds == (1 * KM, 1 * KM, 6 * KM, 4 * KM)
    # without provenance (an old store) the entry that declares a sample is read as the sample
    cov = build_designation_coverage(pa, None, None, countries, catalogue=cat)
    assert sorted(cov["designation"]) == ["flood_zone_3", "sssi"]


def test_designation_gaps_say_why_a_nation_is_not_checked():
    from growth_zones.data.layers import designation_gaps

    cat = {
        "gb_s": _national(
            "gb_s",
            ("Scotland",),
            designation="green_belt",
            manual="the Spatial Hub needs an authkey; download it after registering",
        ),
        "aw_w": _national("aw_w", ("Wales",), designation="ancient_woodland"),
        "np": _national("np", ("England", "Scotland", "Wales"), designation="national_park"),
    }
    pa = gdf(
        [
            {
                "designation": "national_park",
                "name": "",
                "nation": "England",
                "dataset": "np",
                "geometry": box(0, 0, 1, 1),
            }
        ]
    )
    gaps = designation_gaps(
        pa, cat, absent={"aw_w": "skipped: the mirror holds no copy (mirror has no file x)"}
    )
    # an optional dataset (no machine-readable national source): a documented coverage gap
    gb = gaps[("green_belt", "Scotland")]
    assert gb.kind == "coverage gap" and not gb.blocking and gb.datasets == ("gb_s",)
    assert gb.reason == (
        "no machine-readable national dataset for Scotland (gb_s, gb_s: the Spatial Hub needs an authkey; "
        "used when a mirror holds a copy)"
    )
    # a default dataset this run did not have: its checks could not run (exit 4)
    aw = gaps[("ancient_woodland", "Wales")]
    assert aw.kind == "unavailable" and aw.blocking and aw.datasets == ("aw_w",)
    assert aw.reason == "dataset aw_w (aw_w) could not be had: the mirror holds no copy"
    # stored and official: no gap; nothing catalogued for a nation: a coverage gap naming it
    assert ("national_park", "England") not in gaps and ("national_park", "Wales") not in gaps
    assert gaps[("sssi", "England")] == designation_gaps(pa, cat)[("sssi", "England")]
    assert gaps[("sssi", "England")].reason == "no national SSSI dataset for England is catalogued"
    assert gaps[("sssi", "England")].kind == "coverage gap"
    # never pulled at all: not stored
    assert designation_gaps(pa, cat)[("ancient_woodland", "Wales")].reason == (
        "dataset aw_w (aw_w) could not be had: not stored (`growth-zones data pull` fetches it)"
    )
    # a stored sample is complete only within its area: outside it the check could not run
    sample = designation_gaps(pa, cat, copies={"np": {"copy": "sample", "coverage_area": "north_east"}})[
        ("national_park", "Scotland")
    ]
    assert sample.blocking and sample.reason == (
        "only a sample of dataset np (np) is stored, complete within the north east area only"
    )


class _FakeStore:
    def __init__(self, layers: LayerSet, missing: set[str]):
        self.layers, self.missing = layers, missing
        self.calls: list[str] = []

    def read_layer(self, name: str):
        self.calls.append(name)
        if name in self.missing or getattr(self.layers, name, None) is None and name != "coverage_areas":
            raise DataSourceError(f"layer {name} not in the cache")
        if name == "coverage_areas":
            return gpd.GeoDataFrame(
                {"area": ["north_east"], "dataset": ["t"]}, geometry=[box(0, 0, 50 * KM, 50 * KM)], crs=CRS
            )
        frame = getattr(self.layers, name)
        if name in ("regions", "countries"):
            ni = gdf(
                [
                    {
                        "code": "N09000001",
                        "name": "Antrim",
                        "nation": "Northern Ireland",
                        "dataset": "t",
                        "geometry": box(-90 * KM, 0, -80 * KM, 10 * KM),
                    }
                ]
            )
            frame = pd.concat([frame, ni], ignore_index=True)
        return frame

    def read_raster(self, name: str):
        raise DataSourceError(f"raster {name} not in the cache")


def test_layerset_load_tolerates_missing_layers_and_drops_ni(monkeypatch):
    toy = toy_layers()
    store = _FakeStore(toy, missing={"broadband_by_region"})
    cat = {
        "sssi_ne": _dataset("sssi_ne", "sssi", "north_east"),
        "sac_ne": _dataset("sac_ne", "sac", "north_east"),
        "np_gb": _dataset("np_gb", "national_park", "gb"),
    }
    monkeypatch.setattr(
        "growth_zones.data.layers.datasets_for_layer",
        lambda layer, catalogue=None: [d for d in cat.values() if d.layer == layer],
    )
    ls = LayerSet.load(store)
    assert ls.broadband_by_region is None and ls.population_grid is None
    assert "Northern Ireland" not in set(ls.regions["nation"]) and len(ls.regions) == 3
    assert sorted(ls.designation_coverage["designation"]) == ["national_park", "sac", "sssi"]
    t = region_indicators(ls)
    assert (t.reasons["full_fibre_pct"] == "layer broadband_by_region not available").all()
    with_ni = LayerSet.load(store, include_northern_ireland=True)
    assert len(with_ni.regions) == 4


def test_discount_area_constant_is_the_documented_list():
    cumbria = {"E06000063", "E06000064"} | {f"E0700002{i}" for i in range(6, 10)} | {"E07000030", "E07000031"}
    north_east = {
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
    }
    assert DISCOUNT_AREA_LAD_CODES == frozenset(cumbria | north_east)


def test_sites_must_be_bng():
    s = sites_frame([{"id": "a", "mw": 1.0, "target_year": 2030, "geometry": box(0, 0, 1, 1)}]).set_crs(
        4326, allow_override=True
    )
    with pytest.raises(ValueError, match="EPSG:27700"):
        site_indicators(s, toy_layers())


def test_layerset_cache_is_invalidated_when_a_layer_changes():
    layers = toy_layers()
    before = region_indicators(layers).values.at["E07000100", "dist_transmission_km"]
    assert before == pytest.approx(40.0) and layers._cache
    # remove Bravo (the 275 kV site): the cached transmission set must not survive the change
    layers.substations = layers.substations[layers.substations["id"] != "TX2"]
    assert not layers._cache
    after = region_indicators(layers).values.at["E07000100", "dist_transmission_km"]
    # now the Alpha node: one point per site, placed at its GSP record (10 km, 10 km)
    assert after == pytest.approx(100.0 - 10.0)
    assert "substations=4 rows" in repr(layers)


def test_protected_share_known_when_covered_designations_already_cover_the_site():
    """A site wholly inside a National Park is 100% protected whatever the (absent) SSSI data
    would say; a site only partly inside one stays 'not checked'."""
    sites = sites_frame(
        [
            {
                "id": "park",
                "mw": 100.0,
                "target_year": 2030,
                "geometry": box(160 * KM, 60 * KM, 161 * KM, 61 * KM),
            },
            {
                "id": "edge",
                "mw": 100.0,
                "target_year": 2030,
                "geometry": box(149.5 * KM, 60 * KM, 150.5 * KM, 61 * KM),
            },
        ]
    )
    t = site_indicators(sites, toy_layers())  # default list: SSSI etc. have no coverage down there
    assert t.values.at["park", "protected_share"] == pytest.approx(1.0)
    assert t.reasons.at["park", "protected_share"] == ""
    assert np.isnan(t.values.at["edge", "protected_share"])
    assert "SSSI" in t.reasons.at["edge", "protected_share"]


def test_osm_transmission_line_km_within_30km():
    layers = toy_layers()
    layers.circuits = layers.circuits.assign(dataset=["osm_lines", "osm_lines", "osm_lines", "etys"])
    t = region_indicators(layers)
    # measured in a 30 km disc around the region's representative point: an independent chord
    # computation for the straight 400 kV line L1 (y = 5 km); L2 is 132 kV in England (not
    # transmission) and L3 (Scotland) is far away
    rep = layers.regions.set_index("code").geometry["E06000001"].representative_point()
    dy = abs(rep.y - 5 * KM)
    chord_km = 2 * np.sqrt((30 * KM) ** 2 - dy**2) / KM
    # the disc is a 64-gon (quad_segs=16): its chords are at most 0.5% short of the circle's
    assert t.values.at["E06000001", "tx_line_km_30km"] == pytest.approx(chord_km, rel=5e-3)
    # only OSM lines count (GB-even coverage): an ETYS-only layer gives 0
    assert region_indicators(toy_layers()).values.at["E06000001", "tx_line_km_30km"] == 0.0


# ---------------------------------------------------------------- DSIT power test, judged
def test_dsit_power_test_is_judged_on_evidence_not_read_from_the_claim():
    from growth_zones.indicators.sites import dsit_power_test

    cases = {
        # id: (mw, year, km to the transmission node, capacity after competing bids, expected)
        "evidenced": (500.0, 2029, 14.4, 1250.0, "pass"),
        "claim_below_bar": (300.0, 2028, 1.0, 5000.0, "fail"),
        "too_late": (600.0, 2031, 1.0, 5000.0, "fail"),
        "node_too_far": (800.0, 2030, 20.0, 5000.0, "fail"),
        "node_too_small": (1000.0, 2030, 0.5, 611.0, "fail"),
        "capacity_unpublished": (500.0, 2030, 0.3, np.nan, "unverified"),
        "claim_only": (500.0, 2030, np.nan, np.nan, "unverified"),
        "nothing_claimed": (np.nan, np.nan, 2.0, 900.0, "unverified"),
    }
    ids = list(cases)
    mw = np.array([cases[i][0] for i in ids])
    year = np.array([cases[i][1] for i in ids], dtype=float)
    values = pd.DataFrame(
        {"dist_transmission_node_km": [cases[i][2] for i in ids], "tec_contracted_mw_node": 3100.0}, index=ids
    )
    extra = pd.DataFrame(
        {
            "firm_capacity_after_bids_mva": [cases[i][3] for i in ids],
            "transmission_node_name": "Wylfa",
            "transmission_node_voltage_kv": 400.0,
        },
        index=ids,
    )
    status, detail = dsit_power_test(mw, year, values, extra, IndicatorSettings())
    assert dict(zip(ids, status, strict=True)) == {i: c[4] for i, c in cases.items()}
    assert detail[0] == (
        "claimed 500 MW by 2029; nearest 400 kV node Wylfa 14.4 km (evidence needs one within 15 km); "
        "firm circuit capacity (N-1) after competing bids 1,250 MVA (not spare capacity); "
        "contracted TEC 3,100 MW"
    )
    assert "no published circuit rating at the node" in detail[ids.index("capacity_unpublished")]
    assert "no transmission node found" in detail[ids.index("claim_only")]
    assert detail[ids.index("nothing_claimed")].startswith("no MW or target year claimed")
    # the threshold is a setting: at 25 km the far node is evidence enough
    status25, _ = dsit_power_test(mw, year, values, extra, IndicatorSettings(dsit_node_km=25.0))
    assert status25[ids.index("node_too_far")] == "pass"
    # a node placed only by a community geocode says so, and whether ETYS circuits could check it
    extra["transmission_node_xy_source"] = ["etys geocode", "fes"] + ["etys geocode"] * (len(ids) - 2)
    extra["transmission_node_xy_check"] = ["unchecked", "consistent"] + ["consistent"] * (len(ids) - 2)
    _, detail = dsit_power_test(mw, year, values, extra, IndicatorSettings())
    assert "Wylfa 14.4 km (placed only by a community geocode of its name, which no ETYS circuit" in detail[0]
    assert "geocode" not in detail[1]
    assert "geocode of its name, consistent with its ETYS circuits" in detail[2]


def test_dsit_minimum_is_read_from_the_claim_alone():
    """Below DSIT's minimum (500 MW by 2030) is certain from either half of the claim: 300 MW with
    no year is below; 600 MW with no year is unknown."""
    from growth_zones.indicators.sites import dsit_minimum_text

    mw = np.array([600.0, 300.0, 250.0, 600.0, 300.0, np.nan, 600.0, 500.0])
    year = np.array([2029, 2028, 2032, 2033, np.nan, 2031, np.nan, 2030], dtype=float)
    assert list(dsit_minimum_text(mw, year)) == [
        "meets",
        "below (300 MW)",
        "below (250 MW, 2032)",
        "below (2033)",
        "below (300 MW)",
        "below (2031)",
        "unknown (no MW or year claimed)",
        "meets",
    ]
    sites = gpd.GeoDataFrame(
        {"mw": mw, "target_year": year},
        geometry=[shapely.box(400_000 + i * 5000, 300_000, 400_500 + i * 5000, 300_500) for i in range(8)],
        index=pd.Index([f"S{i}" for i in range(8)], name="id"),
        crs="EPSG:27700",
    )
    t = site_indicators(sites, toy_layers())
    meets = t.values["meets_500mw_by_2030"]
    assert [None if pd.isna(v) else bool(v) for v in meets] == [
        True,
        False,
        False,
        False,
        False,
        False,
        None,
        True,
    ]
    assert t.reasons.at["S6", "meets_500mw_by_2030"] == "MW or target year missing"
    assert t.extra.at["S1", "dsit_minimum"] == "below (300 MW)"


def test_site_indicator_dsit_values_and_reasons():
    """On toy layers: pass = 1, fail = 0, unverified = missing with the reason (capacity unknown)."""
    t = site_indicators(_two_sites_same_node(), toy_layers())
    v = t.values["dsit_power_test"]
    # A: 600 MW by 2029 at Alpha, no ETYS ratings -> unverified; C: claims 2031 -> fail
    assert pd.isna(v["A"]) and t.reasons.at["A", "dsit_power_test"].startswith(
        "unverified: claimed 600 MW by 2029"
    )
    assert bool(v["C"]) is False and t.extra.at["C", "dsit_power_status"] == "fail"
    subs = toy_layers().substations.copy()
    subs.loc[subs["id"] == "GSP1", ["id", "dataset"]] = ["ALPH_1", "neso_fes2024_gsp_info"]
    t2 = site_indicators(
        _two_sites_same_node(), toy_layers(grid_sites=_etys_alpha(rating=4000.0), substations=subs)
    )
    # firm 4000 - 1100 = 2900; A: 2900 - 400 (B) >= 600 -> pass; B claims 400 MW -> fail
    assert t2.extra.at["A", "dsit_power_status"] == "pass" and bool(t2.values.at["A", "dsit_power_test"])
    assert t2.extra.at["B", "dsit_power_status"] == "fail"

"""Normalisers on the real public files in ../shared/data, checked against the numbers recorded in
SOURCES.md (counts, areas, sums, spot values) and against independent coordinate checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from rasterio.transform import rowcol

from growth_zones.data.catalogue import load_catalogue
from growth_zones.data.loaders import Normalised, RawInput, get_normaliser

pytestmark = pytest.mark.data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data mirror: the $GROWTH_ZONES_MIRROR location holding it (the variable may name
    several, e.g. the npm tarballs too), else ../shared/data beside the repo. Absent: skip locally,
    fail on CI (CI=true) so the data tests can never silently vanish."""
    from tests.conftest import require_shared_data

    return require_shared_data()


_CACHE: dict[str, Normalised] = {}


@pytest.fixture(scope="session")
def normalise(shared_data: Path):
    """Run a catalogue entry's normaliser (and its ``requires``) on the real files, cached."""

    def run(key: str) -> Normalised:
        if key not in _CACHE:
            ds = load_catalogue()[key]
            deps = {dep: run(dep).frame for dep in ds.requires}
            raw = RawInput(
                dataset=ds, paths=[shared_data / p for p in ds.mirror_paths], deps=deps, mirror_copy=True
            )
            _CACHE[key] = get_normaliser(ds.normaliser)(raw)
        return _CACHE[key]

    return run


def _parquet_roundtrip(frame: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "layer.parquet"
    frame.to_parquet(out)
    assert out.stat().st_size > 0


# ----------------------------------------------------------------------------- boundaries
def test_lad_may2023(normalise, tmp_path):
    res = normalise("ons_lad_may2023_buc")
    f = res.frame
    assert len(f) == 361
    assert f["nation"].value_counts().to_dict() == {
        "England": 296,
        "Scotland": 32,
        "Wales": 22,
        "Northern Ireland": 11,
    }
    assert f["code"].is_unique and f.crs.to_epsg() == 27700
    assert res.notes["repaired_geometries"] == 1  # North Somerset is invalid in the source
    assert f.geometry.is_valid.all()
    assert "OSTN15" in res.transform.method
    _parquet_roundtrip(f, tmp_path)


def test_lad_may2024_is_the_default_vintage_and_joins_every_dataset(normalise, shared_data):
    """LAD May 2024 (the default boundary vintage) has the same 361 codes as May 2023 and the same
    polygons up to the re-generalisation of the 500 m ultra-generalised lines (median symmetric
    difference 0.03% of a district's area; 4.7% for small Norwich); every LAD-keyed dataset joins
    it as well as it joined May 2023:
    population (all 361), Ofcom 2021 (its 2022 codes: 357 as before), and the English IoD 2025
    (LAD24 codes: all 296 English districts)."""
    from growth_zones.data.catalogue import load_catalogue

    cat = load_catalogue()
    assert cat["ons_lad_may2024_buc"].default and not cat["ons_lad_may2023_buc"].default
    assert [d.key for d in cat.values() if d.layer == "regions" and d.default] == ["ons_lad_may2024_buc"]
    res = normalise("ons_lad_may2024_buc")
    f24, f23 = res.frame.set_index("code"), normalise("ons_lad_may2023_buc").frame.set_index("code")
    assert res.notes["code_column"] == "ltla24_code" and len(f24) == 361
    assert set(f24.index) == set(f23.index)
    assert (f24["name"] == f23.loc[f24.index, "name"]).mean() > 0.99  # names may differ in accents only
    assert f24.loc["E06000001"].geometry.area / 1e6 == pytest.approx(
        96.61, abs=0.05
    )  # Hartlepool (SOURCES.md)
    sym = f24.geometry.symmetric_difference(f23.geometry.reindex(f24.index))
    ratio = sym.area / f24.area
    assert ratio.median() < 0.001 and ratio.max() < 0.05
    pop = normalise("ons_mye_mid2022_lad").frame
    assert set(pop["code"]) == set(f24.index)
    ofcom = normalise("ofcom_connected_nations_2021_05_laua").frame
    assert ofcom["code"].isin(f24.index).sum() == ofcom["code"].isin(f23.index).sum() == 357
    iod = pd.read_csv(shared_data / "social/england_iod2025_lad24_file10_summaries.csv")
    code_col = next(c for c in iod.columns if "code" in c.lower())
    assert len(iod) == 296 and iod[code_col].isin(f24.index).all()


def test_lad_dec2022_vintage_detected(normalise):
    res = normalise("ons_lad_dec2022_buc")
    assert len(res.frame) == 374 and res.notes["code_column"] == "LAD22CD"
    assert (res.frame["nation"] == "England").sum() == 309


def test_countries(normalise):
    f = normalise("ons_countries_dec2022_buc").frame
    assert sorted(f["code"]) == ["E92000001", "N92000002", "S92000003", "W92000004"]
    assert set(f["nation"]) == {"England", "Scotland", "Wales", "Northern Ireland"}


# ----------------------------------------------------------------------------- grid
def test_tec_register(normalise, tmp_path):
    f = normalise("neso_tec_register_2025_09").frame
    assert len(f) == 2264
    assert f["host_to"].value_counts().to_dict() == {"NGET": 1327, "SPT": 472, "SHET": 450, "OFTO": 15}
    assert f["status"].value_counts()["Scoping"] == 1557
    assert str(f["effective_from"].dtype).startswith("datetime64")
    assert f["mw"].dtype == "float64" and f["project_id"].ne("").all()
    _parquet_roundtrip(f, tmp_path)


def test_interconnector_register(normalise):
    f = normalise("neso_interconnector_register").frame
    assert len(f) == 33 and (f["plant_type"] == "Interconnector").all()
    aquind = f[f["project"] == "Aquind Interconnector"].iloc[0]
    assert aquind["mw"] == 2075 and aquind["effective_from"] == pd.Timestamp("2030-06-30")


def test_fes_gsps(normalise):
    f = normalise("neso_fes2024_gsp_info").frame
    assert len(f) == 373 and (f["kind"] == "gsp").all()
    assert f["voltage_kv"].isna().all()
    # split busbars name their ETYS code in Comments (G_EXTRA_1..11 'GSP "DUMF" modelled as 3 parts')
    dumf = f[f["comments"].str.contains('GSP "DUMF"', regex=False)]
    assert len(dumf) == 3 and dumf["id"].str.startswith("G_EXTRA_").all()
    x, y = f.geometry.x, f.geometry.y
    assert x.between(0, 700_000).all() and y.between(0, 1_250_000).all()


def test_site_coordinates(normalise):
    f = normalise("pypsa_gb_etys_site_coordinates").frame
    assert len(f) == 310 and f["site_code"].str.len().eq(4).all()


def test_etys_substations(normalise):
    res = normalise("neso_etys2024_substations")
    f = res.frame
    assert f["site_code"].is_unique
    assert res.notes["sites"] == 885  # distinct site codes in App. B
    assert len(f) == 306  # those PyPSA-GB could geocode
    assert res.notes["dropped"]["no coordinates"] == 885 - 306
    assert set(f["kind"]) <= {"transmission", "other"}
    # max voltage per site, and the Scottish 132 kV rule
    assert (f.loc[f["voltage_kv"] >= 275, "kind"] == "transmission").all()
    scot132 = f[f["operator"].isin(["SP Transmission", "SHE Transmission"]) & (f["voltage_kv"] == 132)]
    assert len(scot132) and (scot132["kind"] == "transmission").all()


def test_etys_site_index_keeps_every_code(normalise, shared_data):
    """Every App. B site code, placed or not (the substations layer keeps only the 306 geocoded),
    plus the 4 codes that appear only as circuit ends."""
    res = normalise("neso_etys2024_site_index")
    f = res.frame.set_index("site_code")
    assert f.index.is_unique and len(f) == 885 + 4
    assert res.notes["circuit_only_codes"] == ["BRST", "CLTO", "LAZE", "SALL"]
    assert res.notes["roles"] == {"site": 813, "offshore": 60, "virtual": 12, "circuit_only": 4}
    assert f["x"].notna().sum() == res.notes["geocoded"] and res.notes["geocoded"] >= 306
    wylf = f.loc["WYLF"]  # Wylfa: not geocoded by PyPSA-GB, so absent from the substations layer
    assert np.isnan(wylf["x"]) and wylf["voltages_kv"] == "400;132" and wylf["voltage_kv"] == 400
    # ABHA's 400 kV row is labelled ABERTHAW in the index, but the name that spells the code wins
    assert f.loc["ABHA", "name"] == "ABHAM" and f.loc["ABHA", "names"] == "ABHAM|ABERTHAW"
    assert f.loc["GLRB", "role"] == "virtual"
    # SALL (Sheringham Shoal OFTO): voltage and ratings from the circuits only (2 x 132 kV cables)
    sall = f.loc["SALL"]
    assert (
        sall["circuit_voltages_kv"] == "132"
        and sall["circuit_rating_mva"] == 356
        and sall["rated_circuits"] == 2
    )
    # an independent sum over the raw circuits for WYLF: two 400 kV circuits to Pentir
    raw = pd.read_csv(shared_data / "grid/etys2024_appB_circuits_2024-25.csv", encoding="utf-8-sig")
    touches = raw["Node 1"].str[:4].eq("WYLF") ^ raw["Node 2"].str[:4].eq("WYLF")
    ratings = raw.loc[touches, "Winter Rating (MVA)"]
    assert f.loc["WYLF", "circuit_rating_mva"] == ratings.sum()
    assert f.loc["WYLF", "largest_circuit_mva"] == ratings.max()


def test_etys_circuits(normalise):
    res = normalise("neso_etys2024_circuits")
    f = res.frame
    assert res.notes["rows_in"] == 1558
    assert res.notes["dropped"]["same site (transformer/coupler)"] > 0
    assert (f["site_1"] != f["site_2"]).all() and f["id"].is_unique
    assert len(f) == 1558 - sum(res.notes["dropped"].values())
    assert (shapely.get_num_coordinates(f.geometry.values) == 2).all()
    assert f["rating_mva"].dropna().lt(9999).all()
    assert set(f["voltage_kv"].dropna()) <= {132.0, 150.0, 155.0, 220.0, 275.0, 320.0, 400.0, 66.0}


def test_etys_boundaries(normalise):
    f = normalise("neso_etys_boundaries_mar25").frame
    assert len(f) == 34 and {"B6", "B4"} <= set(f["name"])
    assert f.crs.to_epsg() == 27700


def test_nged_substations_and_coordinate_columns(normalise, shared_data):
    f = normalise("nged_substation_locations").frame
    assert len(f) == 2042
    assert f["kind"].value_counts().to_dict() == {
        "primary": 1036,
        "switching": 559 + 31,
        "bsp": 364,
        "transmission": 52,
    }
    madeley = f[f["name"] == "Madeley 33/11kv"]
    assert madeley["voltage_kv"].iloc[0] == 33
    assert f.loc[f["name"] == "Ruskington 33 11kv S Stn", "voltage_kv"].iloc[0] == 33
    assert f.loc[f["name"] == "Sawles Road", "voltage_kv"].isna().all()
    # Independent check that Easting/Northing (used) are the BNG twin of Latitude/Longitude (unused):
    # pyproj (Helmert, a few m) on the raw lat/lon. Lat/lon are rounded to 4 dp in some rows (up to
    # ~11 m), so: every row within 20 m, 90 % within 10 m.
    from pyproj import Transformer

    raw = pd.read_csv(shared_data / "grid/nged_substation_locations.csv", encoding="utf-8-sig")
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        raw["Longitude"].to_numpy(), raw["Latitude"].to_numpy()
    )
    d = np.hypot(f.geometry.x.to_numpy() - x, f.geometry.y.to_numpy() - y)
    assert d.max() < 20
    assert np.quantile(d, 0.9) < 10


def test_osm_vertices(normalise):
    res = normalise("osm_gb_highvoltage_substations_2016")
    f = res.frame
    assert len(f) == 243 + 18 + 106  # substation, sub_station and SciGRID merges
    assert res.notes["dropped"] == {"typ joint": 131, "typ plant": 6}
    assert f["osm_type"].value_counts().to_dict() == {"substation": 243, "merge": 106, "sub_station": 18}
    wylfa = f[f["id"] == "24570"].iloc[0]  # a merge: Wylfa, 400 kV
    assert wylfa["osm_type"] == "merge" and wylfa["voltage_kv"] == 400
    assert (f["name"] == "St John's Wood substation").sum() == 1  # SQL quoting undone
    assert set(f.loc[f["ref"] != "", "ref"]) >= {"UPPB", "IMPP", "FAWL"}
    assert (f.loc[f["voltage_kv"] >= 275, "kind"] == "transmission").all()
    assert (f.loc[~(f["voltage_kv"] >= 275), "kind"] == "other").all()


def test_osm_links(normalise, shared_data, tmp_path):
    f = normalise("osm_gb_highvoltage_lines_2016").frame
    assert len(f) == 642 and f["rating_mva"].isna().all()
    assert set(f["voltage_kv"].dropna()) <= {66.0, 110.0, 132.0, 275.0, 330.0, 400.0}
    raw = pd.read_csv(shared_data / "grid/osm_gb_highvoltage_links_2016.csv", sep="#")
    assert (f["id"] == raw["l_id"].astype(str)).all()
    # The SciGRID WKT is a 2-vertex chord between the end nodes, while length_m is the mapped route,
    # so they cannot agree per row within 1 %. They do agree in the aggregate and typical case:
    assert (shapely.get_num_coordinates(f.geometry.values) == 2).all()
    ratio = f["length_km"].to_numpy() * 1000 / raw["length_m"].to_numpy()
    assert 0.9 < np.median(ratio) <= 1.0
    assert 0.85 < f["length_km"].sum() * 1000 / raw["length_m"].sum() < 1.0
    _parquet_roundtrip(f, tmp_path)


def test_repd(normalise):
    res = normalise("desnz_repd_2024_q2")
    f = res.frame
    # SOURCES.md: 11,147 rows parse with plain pd.to_numeric; 5 more carry a trailing NBSP
    # ("357108\xa0") and are recovered by stripping it. 4 rows have no coordinates at all.
    assert len(f) == 11_152
    assert res.notes["dropped"] == {"unparseable coordinates": 4}
    assert f["capacity_mw"].dtype == "float64" and f["id"].is_unique
    assert f.geometry.x.between(4_942, 708_047).all() and f.geometry.y.between(20_706, 1_202_671).all()


# ----------------------------------------------------------------------------- connectivity
def test_landing_points(normalise):
    res = normalise("telegeography_landing_points_2021_06")
    f = res.frame
    assert len(f) == 90  # 91 UK names, Bude listed twice under one id
    assert res.notes["dropped"]["duplicate id"] == 1
    assert f["id"].is_unique and f["name"].str.endswith(", United Kingdom").all()


def test_cables(normalise):
    f = normalise("telegeography_cables_2021_06").frame
    assert 30 < len(f) < 120 and f["id"].is_unique
    assert set(f.geometry.geom_type) <= {"LineString", "MultiLineString"}


def test_ix_buildings(normalise, tmp_path):
    f = normalise("telegeography_ix_buildings_2020_10").frame
    assert len(f) == 29
    assert f["metro"].value_counts()["london"] == 17
    hanbury = f[f["name"].str.startswith("11 Hanbury Street")].iloc[0]
    assert "LINX London (London, United Kingdom)" in hanbury["exchanges"].split("; ")
    assert f["exchanges"].map(type).eq(str).all()
    _parquet_roundtrip(f, tmp_path)


def test_ofcom(normalise):
    f = normalise("ofcom_connected_nations_2021_05_laua").frame
    assert len(f) == 374 and f["premises"].sum() == 31_216_300
    assert f["full_fibre_pct"].median() == pytest.approx(15.8, abs=0.1)


# ----------------------------------------------------------------------------- land
def test_national_parks(normalise):
    res = normalise("ons_national_parks_dec2021_bgc")
    f = res.frame
    assert len(f) == 15 and (f["designation"] == "national_park").all()
    assert f["nation"].value_counts().to_dict() == {"England": 10, "Scotland": 2, "Wales": 3}
    area_ha = f.set_index("name").area / 1e4
    assert area_ha["Cairngorms"] == pytest.approx(452_809, rel=0.005)
    assert area_ha.sum() == pytest.approx(2_309_575, rel=0.005)
    assert res.notes["repaired_geometries"] == 1


@pytest.mark.parametrize(
    "key,designation,n,ha",
    [
        ("planning_data_aonb_england", "aonb", 2, 142_239),
        ("planning_data_sssi_england", "sssi", 249, 107_317),
        ("planning_data_sac_england", "sac", 19, 80_727),
        ("planning_data_spa_england", "spa", 9, 73_359),
        ("planning_data_ramsar_england", "ramsar", 5, 2_272),
    ],
)
def test_planning_data(normalise, key, designation, n, ha):
    f = normalise(key).frame
    assert len(f) == n and (f["designation"] == designation).all() and (f["nation"] == "England").all()
    assert f.area.sum() / 1e4 == pytest.approx(ha, rel=0.005)


def test_coverage_area(normalise):
    f = normalise("planning_data_north_east_region").frame
    assert list(f["area"]) == ["north_east"]
    assert f.area.sum() / 1e4 == pytest.approx(859_844, rel=0.005)


def test_green_belt(normalise):
    res = normalise("planning_data_green_belt_england")
    f = res.frame
    assert res.notes["repaired_geometries"] == 1
    assert not shapely.has_z(f.geometry.values).any()
    assert f.area.sum() / 1e4 == pytest.approx(3_986.6, rel=0.005)


def test_flood_zone(normalise):
    res = normalise("ea_flood_map_for_planning_england")  # the mirror's Calderdale sample, old schema
    assert res.transform.method.startswith("none")
    assert (res.frame["designation"] == "flood_zone_3").all()
    assert res.frame.area.sum() / 1e4 == pytest.approx(225.1, abs=0.05)


def test_alc(normalise):
    f = normalise("ne_provisional_alc_england").frame
    ha = (f.area.groupby(f["grade"]).sum() / 1e4).to_dict()
    expected = {
        "1": 1_895,
        "2": 3_056,
        "3": 25_972,
        "4": 25_427,
        "5": 12_895,
        "non_agricultural": 1_431,
        "urban": 56_923,
    }
    assert set(ha) == set(expected)
    for grade, want in expected.items():
        assert ha[grade] == pytest.approx(want, rel=0.01), grade


def test_brownfield(normalise):
    f = normalise("mhclg_brownfield_land_england").frame
    assert len(f) == 347 and f["area_ha"].sum() == pytest.approx(772.1, abs=0.1)
    g = normalise("mhclg_brownfield_by_msoa_2022_03").frame
    assert len(g) == 4801 and g["brownfield_ha"].sum() == pytest.approx(31_771, rel=0.001)


# ----------------------------------------------------------------------------- population
def test_population(normalise, shared_data):
    f = normalise("ons_mye_mid2022_lad").frame
    assert len(f) == 361 and f["code"].is_unique and f["population"].dtype == "float64"
    lad = normalise("ons_lad_may2024_buc").frame
    assert set(lad["code"]) == set(f["code"])
    assert f["population"].sum() == 67_596_281


def _cell(res: Normalised, x: float, y: float) -> float:
    r, c = rowcol(res.raster.profile["transform"], x, y)
    return float(res.raster.array[r, c])


def test_population_raster(normalise):
    res = normalise("ukceh_gridded_population_2021_1km")
    assert res.raster.array.dtype == np.float32 and res.raster.profile["crs"] == "EPSG:27700"
    assert res.notes["valid_cells"] == 187_103
    assert res.notes["sum"] == pytest.approx(66_941_200, rel=1e-4)


def test_land_cover_raster(normalise):
    res = normalise("ukceh_lcm_1km_dominant")
    p = res.raster.profile
    assert (p["width"], p["height"], p["count"], p["dtype"]) == (700, 1300, 1, "float32")
    assert np.isnan(p["nodata"]) and res.notes["valid_cells"] == 242_664
    assert "assigned" in res.transform.method
    assert _cell(res, 530_500, 180_500) == 20  # central London: urban
    assert _cell(res, 300_500, 800_500) == 12  # Cairngorm plateau: inland rock
    assert _cell(res, 520_500, 370_500) == 3  # Lincolnshire: arable
    assert np.nanmin(res.raster.array) >= 1


def test_elevation_raster(normalise):
    res = normalise("spceh_altitude_1km")
    assert res.notes["valid_cells"] == 256_725
    assert _cell(res, 216_666, 771_288) == pytest.approx(1_036, abs=1)  # Ben Nevis
    assert np.nanmin(res.raster.array) == pytest.approx(-3.0)

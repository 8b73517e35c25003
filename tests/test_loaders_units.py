"""Normalisers on tiny fixtures written in code: the failure modes (missing column, wrong CRS,
non-BNG raster), parsing rules (voltage lists, kV in names, dates) and geometry repair."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from growth_zones.data.catalogue import load_catalogue
from growth_zones.data.crs import lonlat_to_bng
from growth_zones.data.loaders import RawInput, get_normaliser
from growth_zones.data.loaders._common import max_kv_from_name, max_kv_from_volts
from growth_zones.errors import SchemaError


def _run(key: str, paths: list[Path], deps: dict | None = None, **changes: object):
    ds = load_catalogue()[key]
    if changes:
        ds = dataclasses.replace(ds, **changes)
    return get_normaliser(ds.normaliser)(RawInput(dataset=ds, paths=paths, deps=deps or {}))


def _geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc))
    return path


def _square(x0: float, y0: float, d: float) -> list:
    return [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]]


def _lad_features(code_col: str = "LAD23CD") -> list[dict]:
    return [
        {
            "type": "Feature",
            "properties": {code_col: code, code_col[:-2] + "NM": name},
            "geometry": {"type": "Polygon", "coordinates": _square(lon, 52.0, 0.05)},
        }
        for code, name, lon in [
            ("E06000001", "Hartlepool", -1.3),
            ("W06000001", "Anglesey", -4.3),
            ("N09000001", "Antrim", -2.0),
        ]
    ]


# ----------------------------------------------------------------------------- coordinates
def test_culham_ostn15():
    """DOMAIN.md: Culham lon -1.229 lat 51.657 -> E 453429.75 N 195637.87 with OSTN15."""
    x, y, fallback = lonlat_to_bng(np.array([-1.229]), np.array([51.657]))
    assert fallback == 0
    assert x[0] == pytest.approx(453_429.75, abs=0.1)
    assert y[0] == pytest.approx(195_637.87, abs=0.1)


# ----------------------------------------------------------------------------- schema failures
def test_missing_column_names_dataset_and_column(tmp_path):
    csv = tmp_path / "gsp.csv"
    pd.DataFrame({"GSP ID": ["A", "B", "C"], "Name": ["a", "b", "c"], "Latitude": [51.0, 52.0, 53.0]}).to_csv(
        csv, index=False
    )
    with pytest.raises(SchemaError) as err:
        _run("neso_fes2024_gsp_info", [csv])
    assert "neso_fes2024_gsp_info" in str(err.value) and "Longitude" in str(err.value)


def test_missing_vintage_column(tmp_path):
    path = _geojson(tmp_path / "lad.geojson", _lad_features("CTRY22CD"))
    with pytest.raises(SchemaError, match="ons_lad_may2023_buc.*LAD23CD"):
        _run("ons_lad_may2023_buc", [path])


def test_wrong_crs(tmp_path):
    path = _geojson(
        tmp_path / "lad.geojson",
        [
            {
                "type": "Feature",
                "properties": {"LAD23CD": "E06000001", "LAD23NM": "x"},
                "geometry": {"type": "Polygon", "coordinates": _square(450000, 500000, 1000)},
            }
        ],
        crs="urn:ogc:def:crs:EPSG::27700",
    )
    with pytest.raises(SchemaError, match="ons_lad_may2023_buc.*expected CRS EPSG:4326"):
        _run("ons_lad_may2023_buc", [path])


def test_wrong_wkt_srid(tmp_path):
    csv = tmp_path / "links.csv"
    csv.write_text(
        "l_id#voltage#name#operator#length_m#wkt_srid_4326\n"
        "1#400000#a#NG#100#SRID=27700;LINESTRING(450000 200000,450100 200000)\n"
    )
    with pytest.raises(SchemaError, match="osm_gb_highvoltage_lines_2016.*SRID"):
        _run("osm_gb_highvoltage_lines_2016", [csv])


def test_geographic_raster_refused(tmp_path):
    path = tmp_path / "geo.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=3,
        height=3,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(0.01, 0, -2, 0, -0.01, 53),
    ) as dst:
        dst.write(np.ones((1, 3, 3), dtype="float32"))
    with pytest.raises(SchemaError, match="ukceh_lcm_1km_dominant.*British National Grid"):
        _run("ukceh_lcm_1km_dominant", [path])


def test_raster_sentinel_to_nan(tmp_path):
    path = tmp_path / "bng.tif"
    data = np.array([[[1, 2, -3.4e38], [4, np.nan, 6]]], dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=3,
        height=2,
        count=1,
        dtype="float32",
        crs="EPSG:27700",
        nodata=-3.4e38,
        transform=Affine(1000, 0, 0, 0, -1000, 2000),
    ) as dst:
        dst.write(data)
    res = _run("spceh_altitude_1km", [path])
    assert res.notes["valid_cells"] == 4 and res.notes["sum"] == 13
    assert np.isnan(res.raster.profile["nodata"]) and res.raster.profile["crs"] == "EPSG:27700"


# ----------------------------------------------------------------------------- parsing
def test_voltage_list_parsing():
    s = pd.Series(["400000;275000", "132000", None, "275000;abc", ""])
    out = max_kv_from_volts(s)
    assert out.iloc[0] == 400 and out.iloc[1] == 132 and out.iloc[3] == 275
    assert np.isnan(out.iloc[2]) and np.isnan(out.iloc[4])


def test_kv_from_name():
    names = pd.Series(
        [
            "Ruskington 33 11kv S Stn",
            "Madeley 33/11kv",
            "Ironbridge 400/132kv",
            "Corby No2 11kv S Stn",
            "Osmaston Road 33/6.6kv",
            "Sawles Road",
        ]
    )
    assert max_kv_from_name(names).tolist()[:5] == [33, 33, 400, 11, 33]
    assert np.isnan(max_kv_from_name(names).iloc[5])


def test_tec_dates_and_id_fallback(tmp_path):
    csv = tmp_path / "tec.csv"
    cols = [
        "Project Name",
        "Customer Name",
        "Connection Site",
        "Cumulative Total Capacity (MW)",
        "MW Connected",
        "Project Status",
        "MW Effective From",
        "HOST TO",
        "Plant Type",
        "Project ID",
        "Project Number",
    ]
    rows = [
        ["A", "c", "Site 1", 10, 0, "Scoping", "2030/01/31", "NGET", "Wind Onshore", "id1", "PRO-1"],
        ["B", "c", "Site 2", 20.5, 5, "Built", "", "SPT", "Demand", "", "PRO-2"],
        ["C", "c", "Site 3", None, 0, "Built", "not a date", "SHET", "Demand", "id3", "PRO-3"],
    ]
    pd.DataFrame(rows, columns=cols).to_csv(csv, index=False, encoding="utf-8-sig")
    res = _run("neso_tec_register_2025_09", [csv])
    f = res.frame
    assert f["project_id"].tolist() == ["id1", "PRO-2", "id3"]
    assert f["effective_from"].iloc[0] == pd.Timestamp("2030-01-31") and f["effective_from"].isna().sum() == 2
    assert f["mw"].iloc[1] == 20.5 and np.isnan(f["mw"].iloc[2])
    assert res.notes["effective_from_unparsed"] == 2


# ----------------------------------------------------------------------------- geometry repair
def test_invalid_polygon_repaired_and_counted(tmp_path):
    bowtie = [[[-1.0, 52.0], [-0.9, 52.1], [-0.9, 52.0], [-1.0, 52.1], [-1.0, 52.0]]]
    feats = _lad_features()
    feats[0]["geometry"]["coordinates"] = bowtie
    res = _run("ons_lad_may2023_buc", [_geojson(tmp_path / "lad.geojson", feats)])
    f = res.frame
    assert res.notes["repaired_geometries"] == 1
    assert f.geometry.is_valid.all() and set(f.geom_type) <= {"Polygon", "MultiPolygon"}
    assert f["nation"].tolist() == ["England", "Wales", "Northern Ireland"]  # NI kept
    assert res.notes["rows_in"] == res.notes["rows_out"] == 3


def test_unknown_nation_prefix(tmp_path):
    feats = _lad_features()
    feats[2]["properties"]["LAD23CD"] = "K02000001"
    with pytest.raises(SchemaError, match="K02000001"):
        _run("ons_lad_may2023_buc", [_geojson(tmp_path / "lad.geojson", feats)])


def test_unknown_national_park(tmp_path):
    feats = [
        {
            "type": "Feature",
            "properties": {"name": "Atlantis"},
            "geometry": {"type": "Polygon", "coordinates": _square(-1.0, 52.0, 0.1)},
        }
    ]
    with pytest.raises(SchemaError, match="Atlantis"):
        _run("ons_national_parks_dec2021_bgc", [_geojson(tmp_path / "np.geojson", feats)])


# ----------------------------------------------------------------------------- ETYS join
def _coords() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_code": ["AAAA", "BBBB", "CCCC"],
            "site_name": ["a", "b", "c"],
            "lon": [-1.0, -3.5, -2.0],
            "lat": [52.0, 56.0, 53.0],
            "dataset": "x",
        }
    )


def test_etys_substations_max_voltage_and_kind(tmp_path):
    csv = tmp_path / "subs.csv"
    pd.DataFrame(
        {
            "TO": ["NGET", "NGET", "SP Transmission", "NGET", "NGET"],
            "source_table": "B-1-1",
            "Site Code": ["AAAA", "AAAA", "BBBB", "CCCC", "DDDD"],
            "Site Name": ["A 132", "A 400", "B", "C", "D unplaced"],
            "Voltage (kV)": ["132", "400", "132", "TBC", "400"],
        }
    ).to_csv(csv, index=False)
    res = _run("neso_etys2024_substations", [csv], deps={"pypsa_gb_etys_site_coordinates": _coords()})
    f = res.frame.set_index("site_code")
    assert f.loc["AAAA", "voltage_kv"] == 400 and f.loc["AAAA", "kind"] == "transmission"
    assert f.loc["AAAA", "name"] == "A 400"
    assert f.loc["BBBB", "kind"] == "transmission"  # 132 kV on a Scottish TO
    assert np.isnan(f.loc["CCCC", "voltage_kv"]) and f.loc["CCCC", "kind"] == "other"
    assert res.notes["dropped"]["no coordinates"] == 1


def test_etys_circuits_self_loops_and_ratings(tmp_path):
    csv = tmp_path / "circ.csv"
    pd.DataFrame(
        {
            "TO": ["NGET", "NGET", "NGET", "OFTO"],
            "Node 1": ["AAAA4A", "AAAA4A", "AAAA1A", "CCCC2A"],
            "Node 2": ["BBBB4A", "AAAA1B", "ZZZZ1A", "AAAA2A"],
            "OHL Length (km)": [10.0, 0.0, 1.0, 0.0],
            "Cable Length (km)": [0.0, 0.0, 0.0, 0.0],
            "Winter Rating (MVA)": [2000.0, 9999.0, 100.0, None],
            "Rating (MVA)": [None, None, None, 9999.0],
            "Voltage (kV)": [None, None, None, "±320"],
            "OFTO": [None, None, None, "Some OFTO Ltd"],
        }
    ).to_csv(csv, index=False)
    res = _run("neso_etys2024_circuits", [csv], deps={"pypsa_gb_etys_site_coordinates": _coords()})
    f = res.frame.set_index("id")
    assert res.notes["dropped"] == {"same site (transformer/coupler)": 1, "no coordinates": 1}
    assert f.loc["AAAA4A-BBBB4A", "voltage_kv"] == 400 and f.loc["AAAA4A-BBBB4A", "rating_mva"] == 2000
    assert f.loc["AAAA4A-BBBB4A", "length_km"] == 10
    ofto = f.loc["CCCC2A-AAAA2A"]
    assert ofto["voltage_kv"] == 320 and np.isnan(ofto["rating_mva"]) and ofto["operator"] == "Some OFTO Ltd"
    assert ofto["length_km"] == pytest.approx(f.geometry["CCCC2A-AAAA2A"].length / 1000)


def test_etys_site_index_every_code_voltages_ratings(tmp_path):
    subs = tmp_path / "subs.csv"
    pd.DataFrame(
        {
            "TO": ["NGET", "NGET", "NGET", "SP Transmission", "NGET", "NGET"],
            "Site Code": ["AAAA", "AAAA", "DDDD", "BBBB", "EEEB", "OFFS"],
            "Site Name": [
                "ELSEWHERE",
                "AAAA TOWN",
                "D unplaced",
                "B",
                "E BORDER NODE",
                "X OFFSHORE PLATFORM",
            ],
            "Voltage (kV)": ["400", "132", "275", "132", "400", "TBC"],
        }
    ).to_csv(subs, index=False)
    circ = tmp_path / "circ.csv"
    pd.DataFrame(
        {
            "TO": ["NGET", "NGET", "NGET", "OFTO", "NGET"],
            "Node 1": ["AAAA4A", "AAAA4B", "AAAA4A", "ZZZZ1A", "DDDD2A"],
            "Node 2": ["DDDD4A", "DDDD4B", "AAAA1B", "AAAA1C", "DDDD6A"],
            "Winter Rating (MVA)": [2000.0, 1500.0, 9999.0, None, 500.0],
            "Rating (MVA)": [None, None, None, 100.0, None],
            "OFTO": [None, None, None, "Some OFTO Ltd", None],
            "OHL Length (km)": [10.0, 10.0, 0.0, None, 0.0],
            "Cable Length (km)": [0.5, None, 0.1, 44.8, 0.0],
        }
    ).to_csv(circ, index=False)
    table = _run("neso_etys2024_circuit_table", [circ])
    t = table.frame
    # route length = overhead line + cable; none published (blank or 0 + 0) is NaN, never 0 km
    assert t["length_km"].tolist()[:4] == [10.5, 10.0, 0.1, 44.8] and np.isnan(t.loc[4, "length_km"])
    assert table.notes["no_published_length"] == 1
    assert t["site_1"].tolist() == ["AAAA", "AAAA", "AAAA", "ZZZZ", "DDDD"]
    assert t["kv_2"].tolist()[:4] == [400.0, 400.0, 132.0, 132.0] and np.isnan(t.loc[2, "rating_mva"])
    assert t.loc[3, "operator"] == "Some OFTO Ltd" and table.notes["rating_9999_as_nan"] == 1
    res = _run(
        "neso_etys2024_site_index",
        [subs],
        deps={"pypsa_gb_etys_site_coordinates": _coords(), "neso_etys2024_circuit_table": t},
    )
    f = res.frame.set_index("site_code")
    assert sorted(f.index) == ["AAAA", "BBBB", "DDDD", "EEEB", "OFFS", "ZZZZ"]
    # the name that spells the code wins; every voltage level kept; circuit digits 4/1/2/6
    assert f.loc["AAAA", "name"] == "AAAA TOWN" and f.loc["AAAA", "voltages_kv"] == "400;132"
    assert f.loc["AAAA", "circuit_voltages_kv"] == "400;132"
    # AAAA: 2000 + 1500 to DDDD and 100 (OFTO Rating) from ZZZZ; the 9999 coupler is inside the site
    assert f.loc["AAAA", "circuit_rating_mva"] == 3600 and f.loc["AAAA", "largest_circuit_mva"] == 2000
    assert f.loc["DDDD", "circuit_rating_mva"] == 3500 and f.loc["DDDD", "rated_circuits"] == 2
    assert f.loc["DDDD", "circuit_voltages_kv"] == "400;275;66"
    assert np.isnan(f.loc["BBBB", "circuit_rating_mva"])  # no circuits: unknown, not 0
    assert f.loc["ZZZZ", "role"] == "circuit_only" and np.isnan(f.loc["ZZZZ", "voltage_kv"])
    assert f.loc["EEEB", "role"] == "virtual" and f.loc["OFFS", "role"] == "offshore"
    assert np.isnan(f.loc["OFFS", "voltage_kv"])  # "TBC"
    placed = f["x"].notna()
    assert set(f.index[placed]) == {"AAAA", "BBBB"} & set(_coords()["site_code"])


def test_missing_dependency(tmp_path):
    csv = tmp_path / "subs.csv"
    pd.DataFrame({"TO": ["NGET"], "Site Code": ["AAAA"], "Site Name": ["a"], "Voltage (kV)": [400]}).to_csv(
        csv, index=False
    )
    with pytest.raises(SchemaError, match="pypsa_gb_etys_site_coordinates"):
        _run("neso_etys2024_substations", [csv])


def test_osm_vertices_filter_and_kind(tmp_path):
    csv = tmp_path / "v.csv"
    csv.write_text(
        "v_id#lon#lat#typ#voltage#name#operator#ref\n"
        "1#-1.0#52.0#substation#400000;132000#A#National Grid#WXYZ\n"
        "2#-3.5#56.0#sub_station#132000#B#\n"
        "3#-1.0#52.1#joint#400000##\n"
        "4#-1.0#52.2#merge#400000#'St John''s Wood'#\n"
        "5#-1.0#52.3#plant#400000#P#\n"
    )
    res = _run("osm_gb_highvoltage_substations_2016", [csv])
    f = res.frame
    assert f["kind"].tolist() == ["transmission", "other", "transmission"]
    assert f["voltage_kv"].tolist() == [400, 132, 400]
    assert res.notes["dropped"] == {"typ joint": 1, "typ plant": 1}
    assert f["operator"].tolist() == ["National Grid", "", ""]
    assert f["osm_type"].tolist() == ["substation", "sub_station", "merge"]
    assert f["ref"].tolist() == ["WXYZ", "", ""] and f["name"].tolist()[2] == "St John's Wood"


def test_ix_exchanges_joined(tmp_path):
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-0.07, 51.52]},
            "properties": {
                "building_id": 1,
                "address": ["1 Street", "London, United Kingdom"],
                "country": "united-kingdom",
                "metro_area": "london",
                "slug": "one",
                "exchanges": [{"address": ["IX A (London)"], "slug": "ix-a"}, {"slug": "ix-b"}],
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
            "properties": {
                "building_id": 2,
                "address": ["Paris"],
                "country": "france",
                "metro_area": "paris",
                "slug": "two",
                "exchanges": [],
            },
        },
    ]
    res = _run("telegeography_ix_buildings_2020_10", [_geojson(tmp_path / "ix.geojson", feats)])
    f = res.frame
    assert f["exchanges"].tolist() == ["IX A (London); ix-b"]
    assert f["name"].tolist() == ["1 Street, London, United Kingdom"]
    assert res.notes["dropped"] == {"not in the United Kingdom": 1}

"""Unit tests for growth_zones.workflows.applications: every format, every rejection kind, tiny files in tmp_path."""

from __future__ import annotations

import json
import math
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from growth_zones.data.crs import bng_to_lonlat, lonlat_to_bng
from growth_zones.errors import InvalidInputError
from growth_zones.workflows.applications import (
    APPLICATION_SCHEMA,
    ApplicationBatch,
    parse_evidence,
    read_applications,
)

# A crude "GB" for the land checks: a box from the Welsh coast to East Anglia, Cornwall to Caithness.
LAND = gpd.GeoDataFrame(
    {"name": ["GB"]}, geometry=[shapely.box(200_000, 50_000, 650_000, 950_000)], crs="EPSG:27700"
)
CULHAM = (-1.229, 51.657)
HOSTILE = "<img src=x onerror=alert(1)> & \"quotes\" 'single' </script> ✓ 数据"


def bng_square(x: float, y: float, ha: float) -> shapely.Polygon:
    half = math.sqrt(ha * 10_000) / 2
    return shapely.box(x - half, y - half, x + half, y + half)


def lonlat_square(lon: float, lat: float, ha: float) -> shapely.Polygon:
    """A square of about ``ha`` hectares (measured in BNG) around lon/lat, in lon/lat."""
    x, y, _ = lonlat_to_bng(np.array([lon]), np.array([lat]))
    sq = bng_square(float(x[0]), float(y[0]), ha)

    def inv(c: np.ndarray) -> np.ndarray:
        lo, la = bng_to_lonlat(c[:, 0], c[:, 1])
        return np.column_stack([lo, la])

    return shapely.transform(sq, inv)


def props(i: object = "A", **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": i,
        "name": f"Site {i}",
        "applicant": "Example Ltd",
        "mw": 600,
        "target_year": 2029,
        "evidence_grid": "yes",
        "evidence_water": "no",
        "evidence_land_control": "unknown",
        "evidence_planning": "",
    }
    base.update(kw)
    return base


def write_geojson(
    path: Path, rows: list[tuple[dict[str, object], object]], crs: str | None = "CRS84"
) -> Path:
    feats = []
    for p, g in rows:
        geom = g if (g is None or isinstance(g, dict)) else json.loads(shapely.to_geojson(g))
        feats.append({"type": "Feature", "properties": p, "geometry": geom})
    doc: dict[str, object] = {"type": "FeatureCollection", "features": feats}
    if crs == "CRS84":
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    elif crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def check_invariant(b: ApplicationBatch) -> None:
    assert len(b.sites) + len(b.rejected) == b.input_count
    rows = sorted([*b.sites["row"].tolist(), *b.rejected["row"].tolist()])
    assert rows == list(range(1, b.input_count + 1))


def reason(b: ApplicationBatch, row: int) -> str:
    r = b.rejected.loc[b.rejected["row"] == row, "reason"]
    assert len(r) == 1, f"row {row} not rejected: {b.rejected}"
    return str(r.iloc[0])


# ------------------------------------------------------------------------------------------------
# the happy path and the output contract


def test_valid_geojson_contract(tmp_path: Path) -> None:
    f = write_geojson(
        tmp_path / "a.geojson",
        [
            (props("A"), lonlat_square(*CULHAM, 50)),
            (props(7, evidence_grid=True, evidence_water=0), lonlat_square(-1.5, 53, 30)),
        ],
    )
    b = read_applications(f, land=LAND)
    check_invariant(b)
    assert b.ok and b.input_count == 2 and len(b.warnings) == 0
    s = b.sites
    assert s.crs.to_epsg() == 27700
    assert s.index.name == "id" and list(s.index) == ["A", "7"] and s.index.dtype == "str"
    for col in (
        "row",
        "name",
        "applicant",
        "mw",
        "target_year",
        "evidence_grid",
        "evidence_water",
        "evidence_land_control",
        "evidence_planning",
        "site_area_ha",
        "geometry",
    ):
        assert col in s.columns
    assert str(s["target_year"].dtype) == "Int64" and s["mw"].dtype == "float64"
    assert s.loc["A", "evidence_grid"] == 1.0 and s.loc["A", "evidence_water"] == 0.0
    assert np.isnan(s.loc["A", "evidence_land_control"]) and np.isnan(s.loc["A", "evidence_planning"])
    assert s.loc["7", "evidence_grid"] == 1.0 and s.loc["7", "evidence_water"] == 0.0
    assert s["row"].tolist() == [1, 2]
    assert np.isnan(s.loc["A", "site_area_ha"])  # as given: not stated
    assert s.loc["A", "area_ha"] == pytest.approx(50, rel=0.002)
    x, y = s.loc["A", "geometry"].centroid.coords[0]
    assert abs(x - 453_430) < 300 and abs(y - 195_638) < 300
    assert not any("land" in n for n in b.notes)
    assert isinstance(b.rejected, pd.DataFrame) and list(b.rejected.columns) == [
        "row",
        "id",
        "name",
        "reason",
    ]
    assert list(b.warnings.columns) == ["row", "id", "warning"]


@pytest.mark.parametrize("lonlat", [CULHAM, (-1.11, 54.59), (-4.46, 57.468), (1.2, 52.6)])
def test_area_matches_geodesic_area(tmp_path: Path, lonlat: tuple[float, float]) -> None:
    """BNG area vs the ellipsoidal area of the lon/lat polygon (pyproj Geod), within 0.1%."""
    poly = lonlat_square(*lonlat, 80)
    geod_area, _ = Geod(ellps="WGS84").geometry_area_perimeter(poly)
    b = read_applications(write_geojson(tmp_path / "a.geojson", [(props(), poly)]))
    assert abs(b.sites.geometry.iloc[0].area - abs(geod_area)) / abs(geod_area) < 0.001


def test_hostile_text_survives_unchanged_and_controls_are_stripped(tmp_path: Path) -> None:
    rows = [
        (
            props("A", name=HOSTILE, applicant="Robert'); DROP TABLE bids;--", notes='=HYPERLINK("x")'),
            lonlat_square(*CULHAM, 50),
        ),
        (
            props("B\x00", name="Tab\there\x07 and\nnewline\x1b", applicant="\x7f"),
            lonlat_square(-1.5, 53, 30),
        ),
    ]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows))
    assert b.sites.loc["A", "name"] == HOSTILE
    assert b.sites.loc["A", "applicant"] == "Robert'); DROP TABLE bids;--"
    assert b.sites.loc["A", "notes"] == '=HYPERLINK("x")'
    assert b.sites.loc["B", "name"] == "Tab here and newline"
    assert pd.isna(b.sites.loc["B", "applicant"])


def test_schema_documents_every_field() -> None:
    for name in (
        "id",
        "name",
        "applicant",
        "geometry",
        "mw",
        "target_year",
        "evidence_grid",
        "evidence_water",
        "evidence_land_control",
        "evidence_planning",
        "site_area_ha",
        "notes",
    ):
        assert name in APPLICATION_SCHEMA and APPLICATION_SCHEMA[name].description
    assert APPLICATION_SCHEMA["id"].required and APPLICATION_SCHEMA["mw"].required


@pytest.mark.parametrize(
    "value,expected",
    [
        (True, 1.0),
        (False, 0.0),
        (1, 1.0),
        (0, 0.0),
        ("YES", 1.0),
        ("y", 1.0),
        ("True", 1.0),
        ("1", 1.0),
        ("No", 0.0),
        ("n", 0.0),
        ("FALSE", 0.0),
        ("0", 0.0),
        ("unknown", None),
        ("", None),
        (None, None),
        (" ", None),
    ],
)
def test_parse_evidence(value: object, expected: float | None) -> None:
    got, understood = parse_evidence(value)
    assert understood
    assert math.isnan(got) if expected is None else got == expected


# ------------------------------------------------------------------------------------------------
# row rejections, one kind at a time


def test_missing_and_duplicate_ids(tmp_path: Path) -> None:
    g = lonlat_square(*CULHAM, 50)
    rows = [
        (props("A"), g),
        (props(None), g),
        (props(""), g),
        (props("   "), g),
        (props("A"), g),
        (props(" A "), g),
        (props("B"), g),
    ]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows))
    check_invariant(b)
    for r in (2, 3, 4):
        assert reason(b, r) == "missing id"
    assert reason(b, 5) == "duplicate id 'A' (first at row 1)"
    assert reason(b, 6) == "duplicate id 'A' (first at row 1)"
    assert list(b.sites.index) == ["A", "B"]
    assert pd.isna(b.rejected.loc[b.rejected["row"] == 2, "id"].iloc[0])


def test_feature_level_geojson_id_is_used(tmp_path: Path) -> None:
    p = props()
    del p["id"]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 42,
                "properties": p,
                "geometry": json.loads(shapely.to_geojson(lonlat_square(*CULHAM, 50))),
            }
        ],
    }
    f = tmp_path / "a.geojson"
    f.write_text(json.dumps(doc))
    assert list(read_applications(f).sites.index) == ["42"]


def test_empty_geometry(tmp_path: Path) -> None:
    rows = [
        (props("A"), None),
        (props("B"), {"type": "Polygon", "coordinates": []}),
        (props("C"), {"type": "MultiPolygon", "coordinates": []}),
    ]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows))
    check_invariant(b)
    assert [reason(b, r) for r in (1, 2, 3)] == ["empty geometry"] * 3


def test_invalid_geometry_repaired_or_rejected(tmp_path: Path) -> None:
    x, y, _ = lonlat_to_bng(np.array([CULHAM[0]]), np.array([CULHAM[1]]))
    x0, y0 = float(x[0]), float(y[0])
    bowtie = shapely.Polygon([(x0, y0), (x0 + 800, y0 + 800), (x0 + 800, y0), (x0, y0 + 800)])
    spike = shapely.Polygon([(x0, y0), (x0 + 500, y0 + 300), (x0 + 1000, y0), (x0 + 500, y0 + 300), (x0, y0)])
    short = {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + 10, y0], [x0, y0]]]}
    rows = [(props("BOW"), bowtie), (props("SPIKE"), spike), (props("SHORT"), short)]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows, crs="EPSG:27700"), land=LAND)
    check_invariant(b)
    assert list(b.sites.index) == ["BOW"]
    assert b.sites.loc["BOW", "geometry"].is_valid
    assert b.sites.loc["BOW", "area_ha"] == pytest.approx(32, rel=1e-6)  # two 16 ha triangles
    w = b.warnings.loc[b.warnings["id"] == "BOW", "warning"].tolist()
    assert len(w) == 1 and w[0].startswith("geometry repaired: Self-intersection")
    assert reason(b, 2).startswith("invalid geometry that cannot be repaired: ")
    assert reason(b, 3).startswith("invalid geometry that cannot be repaired: ")


def test_non_polygon_geometries(tmp_path: Path) -> None:
    line = shapely.LineString([CULHAM, (-1.2, 51.7)])
    rows = [
        (props("L"), line),
        (props("P"), shapely.Point(CULHAM)),
        (props("Q", site_area_ha=25), shapely.Point(CULHAM)),
    ]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows), land=LAND)
    check_invariant(b)
    assert "geometry type LineString is not a site boundary" in reason(b, 1)
    assert "needs site_area_ha" in reason(b, 2)
    assert b.sites.loc["Q", "area_ha"] == pytest.approx(25, rel=1e-9)
    assert b.sites.loc["Q", "site_area_ha"] == 25
    assert b.warnings["warning"].tolist() == ["site boundary approximated by a circle of 25 ha"]


def test_wrong_crs_rows(tmp_path: Path) -> None:
    bng = bng_square(450_000, 200_000, 50)
    ll = lonlat_square(*CULHAM, 50)
    b = read_applications(write_geojson(tmp_path / "a.geojson", [(props("A"), ll), (props("B"), bng)]))
    assert (
        reason(b, 2) == "coordinates look like British National Grid metres but the file declares EPSG:4326"
    )
    b = read_applications(
        write_geojson(
            tmp_path / "b.geojson", [(props("A"), bng), (props("B"), ll)], crs="urn:ogc:def:crs:EPSG::27700"
        )
    )
    assert reason(b, 2) == (
        "coordinates look like longitude/latitude but the file declares EPSG:27700 (British National Grid)"
    )
    assert list(b.sites.index) == ["A"] and b.sites.loc["A", "area_ha"] == pytest.approx(50)


def test_missing_crs_is_detected_with_a_note(tmp_path: Path) -> None:
    ll = lonlat_square(*CULHAM, 50)
    b = read_applications(write_geojson(tmp_path / "a.geojson", [(props("A"), ll)], crs=None))
    assert b.ok and any("EPSG:4326" in n and "assumed" in n for n in b.notes)
    gdf = gpd.GeoDataFrame(
        {"id": ["A", "B"], "mw": [600, 700]},
        geometry=[bng_square(450_000, 200_000, 50), bng_square(460_000, 210_000, 50)],
    )
    with pytest.warns(UserWarning, match="crs"):  # pyogrio warns that the output has no CRS: the point here
        gdf.to_file(tmp_path / "nocrs.gpkg")
    b = read_applications(tmp_path / "nocrs.gpkg")
    assert b.ok and any("EPSG:27700" in n and "assumed" in n for n in b.notes)
    # the minority in the other CRS is rejected row by row
    write_geojson(
        tmp_path / "mix.geojson",
        [
            (props("A"), ll),
            (props("B"), lonlat_square(-1.5, 53, 20)),
            (props("C"), bng_square(450_000, 200_000, 50)),
        ],
        crs=None,
    )
    b = read_applications(tmp_path / "mix.geojson")
    assert "look like British National Grid metres" in reason(b, 3)
    # neither lon/lat nor BNG: the file is unusable without input_crs
    write_geojson(tmp_path / "merc.geojson", [(props("A"), bng_square(-136_000, 6_740_000, 50))], crs=None)
    with pytest.raises(InvalidInputError, match="input_crs"):
        read_applications(tmp_path / "merc.geojson")
    b = read_applications(tmp_path / "merc.geojson", input_crs="EPSG:3857")
    assert b.ok and len(b.sites) == 1


def test_outside_great_britain_and_in_the_sea(tmp_path: Path) -> None:
    rows = [
        (props("DUB"), lonlat_square(-6.26, 53.35, 40)),
        (props("PAR"), shapely.box(2.35, 48.86, 2.36, 48.865)),
        (props("BEL"), lonlat_square(-5.93, 54.60, 40)),
    ]
    sea = bng_square(660_000, 300_000, 20)  # 10 km east of the box
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows), land=LAND)
    check_invariant(b)
    for r in (1, 2, 3):
        assert reason(b, r).startswith("outside Great Britain (nearest GB land is ")
    assert "nearest GB land is 83 km away" in reason(b, 1)
    b = read_applications(
        write_geojson(tmp_path / "s.geojson", [(props("S"), sea)], crs="EPSG:27700"), land=LAND
    )
    assert reason(b, 1) == "in the sea, 9.8 km offshore"
    # a site partly on land is accepted
    coast = bng_square(650_000, 300_000, 20)
    b = read_applications(
        write_geojson(tmp_path / "c.geojson", [(props("C"), coast)], crs="EPSG:27700"), land=LAND
    )
    assert b.ok


def test_no_land_layer_skips_the_check_with_a_note(tmp_path: Path) -> None:
    b = read_applications(
        write_geojson(tmp_path / "a.geojson", [(props("DUB"), lonlat_square(-6.26, 53.35, 40))])
    )
    assert b.ok
    assert any("no GB land layer" in n for n in b.notes)


def test_site_area_bounds(tmp_path: Path) -> None:
    rows = [
        (props("TINY"), lonlat_square(*CULHAM, 0.5)),
        (props("HUGE"), lonlat_square(-1.5, 53, 6_000)),
        (props("OK1"), lonlat_square(-1.5, 52, 1.2)),
        (props("OK2"), lonlat_square(-1.5, 54, 4_500)),
    ]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows), land=LAND)
    check_invariant(b)
    assert reason(b, 1) == "site area 0.5 ha is implausibly small for a data-centre campus (< 1 ha)"
    assert reason(b, 2) == "site area 6,000 ha is implausibly large for a data-centre campus (> 5,000 ha)"
    assert set(b.sites.index) == {"OK1", "OK2"}


def test_stated_area_far_from_boundary_area_warns(tmp_path: Path) -> None:
    b = read_applications(
        write_geojson(tmp_path / "a.geojson", [(props("A", site_area_ha=200), lonlat_square(*CULHAM, 50))])
    )
    assert b.ok and "differs from the boundary area" in b.warnings["warning"].iloc[0]


def test_capacity_and_year_checks(tmp_path: Path) -> None:
    g = lonlat_square(*CULHAM, 50)
    cases = [
        ({"mw": "abc"}, "capacity 'abc' is not a number"),
        ({"mw": None}, "missing capacity (mw)"),
        ({"mw": 0}, "capacity 0 MW must be greater than 0"),
        ({"mw": -5}, "must be greater than 0"),
        ({"mw": 20_000}, "capacity 20,000 MW is implausibly large (> 10,000 MW)"),
        ({"mw": "NaN"}, "is not a number"),
        ({"target_year": 2015}, "target year 2015 is outside 2024..2060"),
        ({"target_year": 2061}, "target year 2061 is outside 2024..2060"),
        ({"target_year": "soon"}, "target year 'soon' is not a whole year"),
        ({"target_year": 2029.5}, "is not a whole year"),
        ({"site_area_ha": "big"}, "site_area_ha 'big' is not a number"),
        ({"mw": "1,5"}, "capacity '1,5' is not a number"),  # a decimal comma is refused, not read as 15
    ]
    rows = [(props(f"R{i}", **kw), g) for i, (kw, _) in enumerate(cases)]
    rows += [
        (props("OK", mw="1,200", target_year="2030"), g),
        (props("OK2", mw="750 MW", target_year=2031.0), g),
        (props("OK3", target_year=None), g),
    ]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows))
    check_invariant(b)
    for i, (_, expected) in enumerate(cases):
        assert expected in reason(b, i + 1)
    assert b.sites.loc["OK", "mw"] == 1200 and b.sites.loc["OK", "target_year"] == 2030
    assert b.sites.loc["OK2", "mw"] == 750 and b.sites.loc["OK2", "target_year"] == 2031
    assert pd.isna(b.sites.loc["OK3", "target_year"])


def test_several_problems_are_joined(tmp_path: Path) -> None:
    b = read_applications(
        write_geojson(tmp_path / "a.geojson", [(props(None, mw="x", target_year=1990), None)])
    )
    assert reason(b, 1) == (
        "missing id; capacity 'x' is not a number; target year 1990 is outside 2024..2060; empty geometry"
    )


def test_unknown_evidence_value_warns_not_rejects(tmp_path: Path) -> None:
    rows = [(props("A", evidence_grid="maybe", evidence_water="Pending letter"), lonlat_square(*CULHAM, 50))]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows))
    assert b.ok
    assert np.isnan(b.sites.loc["A", "evidence_grid"]) and np.isnan(b.sites.loc["A", "evidence_water"])
    assert b.warnings["warning"].tolist() == [
        "evidence_grid value 'maybe' not understood (expected yes/no/unknown); treated as unknown",
        "evidence_water value 'Pending letter' not understood (expected yes/no/unknown); treated as unknown",
    ]


# ------------------------------------------------------------------------------------------------
# formats


def _frame(crs: str = "EPSG:27700") -> gpd.GeoDataFrame:
    geoms = [bng_square(450_000, 200_000, 50), bng_square(460_000, 210_000, 30), None]
    gdf = gpd.GeoDataFrame(
        {
            "id": ["A", "B", "C"],
            "name": ["Alpha £", "Beta", "Gamma"],
            "mw": [600.0, 700.0, 800.0],
            "target_year": [2029, 2030, 2031],
            "evidence_grid": ["yes", "no", "y"],
            "evidence_water": ["1", "0", "unknown"],
            "evidence_land_control": ["yes"] * 3,
            "evidence_planning": ["no"] * 3,
            "site_area_ha": [50.0, 30.0, 10.0],
        },
        geometry=geoms,
        crs="EPSG:27700",
    )
    return gdf.to_crs(crs) if crs != "EPSG:27700" else gdf


def _check_frame_result(b: ApplicationBatch) -> None:
    check_invariant(b)
    assert list(b.sites.index) == ["A", "B"]
    assert reason(b, 3) == "empty geometry"
    assert b.sites.loc["A", "name"] == "Alpha £"
    assert b.sites.loc["A", "evidence_grid"] == 1.0 and b.sites.loc["B", "evidence_water"] == 0.0
    assert b.sites.loc["A", "target_year"] == 2029 and b.sites.loc["B", "site_area_ha"] == 30
    assert b.sites.loc["A", "area_ha"] == pytest.approx(50, rel=1e-3)


def test_geopackage_and_layers(tmp_path: Path) -> None:
    f = tmp_path / "a.gpkg"
    _frame().to_file(f, layer="bids")
    _check_frame_result(read_applications(f))
    _frame("EPSG:4326").to_file(f, layer="other")
    with pytest.raises(InvalidInputError, match="layer"):
        read_applications(f)
    _check_frame_result(read_applications(f, layer="bids"))
    _check_frame_result(read_applications(f, layer="other"))


def test_shapefile_and_zipped_shapefile(tmp_path: Path) -> None:
    f = tmp_path / "bids.shp"
    with warnings.catch_warnings():  # GDAL warns that names are truncated: the reader maps them back
        warnings.simplefilter("ignore")
        _frame().to_file(f, engine="pyogrio")
    _check_frame_result(read_applications(f))
    z = tmp_path / "bids.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for part in tmp_path.glob("bids.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    _check_frame_result(read_applications(z))


def test_csv_wkt_with_declared_and_detected_crs(tmp_path: Path) -> None:
    gdf = _frame()
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["wkt"] = [g.wkt if g is not None else "" for g in gdf.geometry]
    df.to_csv(tmp_path / "a.csv", index=False)
    b = read_applications(tmp_path / "a.csv")
    _check_frame_result(b)
    assert any("EPSG:27700" in n for n in b.notes)
    _check_frame_result(read_applications(tmp_path / "a.csv", input_crs="EPSG:27700"))
    df.loc[1, "wkt"] = "POLYGON((1 2, 3"
    df.to_csv(tmp_path / "bad.csv", index=False)
    assert reason(read_applications(tmp_path / "bad.csv"), 2).startswith("geometry is not valid WKT")


def test_csv_lat_lon_and_aliases(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(
        "ID,Name,Lat,Lng,Site_Area_HA,MW,target_year,evidence_grid\n"
        "A,Culham,51.657,-1.229,40,600,2029,yes\n"
        "B,Swapped,-1.229,51.657,40,600,2029,yes\n"
        "C,No area,51.657,-1.229,,600,2029,yes\n"
        "D,Bad lat,abc,-1.229,40,600,2029,yes\n"
        "E,Blank,,,40,600,2029,yes\n"
        "F,BNG in latlon,195637,453429,40,600,2029,yes\n"
        "G,Dublin,53.35,-6.26,40,600,2029,yes\n"
        "\n"
        "H,Short row,51.657\n",
        encoding="utf-8",
    )
    b = read_applications(f, land=LAND)
    check_invariant(b)
    assert b.input_count == 8 and list(b.sites.index) == ["A"]
    assert b.sites.loc["A", "area_ha"] == pytest.approx(40, rel=1e-9)
    x, y = b.sites.loc["A", "geometry"].centroid.coords[0]
    assert (x, y) == pytest.approx((453_429.75, 195_637.87), abs=0.05)  # OSTN15 (DOMAIN.md)
    assert reason(b, 2) == "latitude and longitude look swapped"
    assert "needs site_area_ha" in reason(b, 3)
    assert reason(b, 4) == "latitude 'abc' is not a number"
    assert reason(b, 5) == "empty geometry"
    assert "look like British National Grid metres" in reason(b, 6)
    assert reason(b, 7).startswith("outside Great Britain")
    assert "has 3 fields but the header has 8" in reason(b, 8)
    assert any("blank line" in n for n in b.notes)


def test_csv_easting_northing(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("id,easting,northing,site_area_ha,mw\nA,453430,195638,60,500\nB,-1.229,51.657,60,500\n")
    b = read_applications(f, land=LAND)
    check_invariant(b)
    assert list(b.sites.index) == ["A"] and b.sites.loc["A", "area_ha"] == pytest.approx(60)
    assert reason(b, 2).startswith(
        "coordinates look like longitude/latitude but the file declares EPSG:27700"
    )


def test_cp1252_csv_with_pound_sign(tmp_path: Path) -> None:
    f = tmp_path / "excel.csv"
    text = "id,name,notes,latitude,longitude,site_area_ha,mw\nA,Café Park,costs £2bn – est.,51.657,-1.229,40,600\n"
    f.write_bytes(text.encode("cp1252"))
    b = read_applications(f)
    assert b.ok
    assert b.sites.loc["A", "name"] == "Café Park" and b.sites.loc["A", "notes"] == "costs £2bn – est."
    assert any("cp1252" in n for n in b.notes)
    f.write_bytes(text.encode("utf-8-sig"))  # Excel "CSV UTF-8" with a BOM: no note
    b = read_applications(f)
    assert b.sites.loc["A", "notes"] == "costs £2bn – est." and not any("cp1252" in n for n in b.notes)


def test_semicolon_csv(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("id;latitude;longitude;site_area_ha;mw\nA;51.657;-1.229;40;600\n")
    assert read_applications(f).ok


# ------------------------------------------------------------------------------------------------
# unusable files raise InvalidInputError with the path


@pytest.mark.parametrize(
    "name,content,match",
    [
        ("missing.geojson", None, "not found"),
        ("a.xlsx", b"PK\x03\x04", "unsupported file type"),
        ("empty.csv", b"", "empty"),
        ("header.csv", b"id,latitude,longitude,mw\n", "no applications"),
        ("nogeom.csv", b"id,name,mw\nA,x,500\n", "no geometry or coordinate columns"),
        ("bad.geojson", b"{not json", "not valid GeoJSON"),
        ("list.geojson", b"[1, 2]", "FeatureCollection"),
        ("nofeat.geojson", b'{"type": "FeatureCollection", "features": []}', "no applications"),
        ("binary.csv", b"id,x\x00\x00\x01", "NUL"),
        ("garbage.gpkg", b"this is not a geopackage", "cannot open"),
    ],
)
def test_unusable_files_raise(tmp_path: Path, name: str, content: bytes | None, match: str) -> None:
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(InvalidInputError, match=match) as err:
        read_applications(f)
    assert name in str(err.value)


def test_summary_and_ok(tmp_path: Path) -> None:
    rows = [(props("A"), lonlat_square(*CULHAM, 50)), (props("A"), lonlat_square(*CULHAM, 50))]
    b = read_applications(write_geojson(tmp_path / "a.geojson", rows))
    assert not b.ok
    assert b.summary() == "2 rows read: 1 accepted, 1 rejected, 0 warnings"

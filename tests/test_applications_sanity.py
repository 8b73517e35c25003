"""Reading applications, nothing silently wrong (issue 12, failures 1, 3, 9 and 10).

Each test reproduces one failure of the issue: sites assessed on data from the wrong place (parts far
apart, mostly off GB land), old OSGB36 coordinates taken as WGS84, tracebacks on odd GeoJSON, and
wrong reasons or weak limits (encodings, mixed keys, shapefile zips, vertical CRSs, huge fields,
ids that differ only by case or invisible characters). Every distance and share is checked against
an independent computation (a brute-force vertex/segment loop, point counting, pyproj, the OS's
published OSTN15 test points).
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from growth_zones.errors import InvalidInputError
from growth_zones.workflows.applications import ApplicationRules, read_applications
from tests.test_applications import LAND, bng_square, check_invariant, props, reason, write_geojson


def _bng_geojson(path: Path, rows: list[tuple[dict[str, object], object]]) -> Path:
    return write_geojson(path, rows, crs="EPSG:27700")


def warnings_of(b, row: int) -> list[str]:
    return list(b.warnings.loc[b.warnings["row"] == row, "warning"])


# ------------------------------------------------------------------------------------------------
# failure 1: sites assessed on data from the wrong place


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def brute_gap(a: shapely.Polygon, b: shapely.Polygon) -> float:
    """Distance between two disjoint polygons: every vertex of one against every edge of the other."""
    ra, rb = list(a.exterior.coords), list(b.exterior.coords)
    best = math.inf
    for ring_p, ring_s in ((ra, rb), (rb, ra)):
        for p in ring_p:
            for s0, s1 in zip(ring_s[:-1], ring_s[1:], strict=True):
                best = min(best, _segment_distance(p, s0, s1))
    return best


LONDON = (530_000.0, 180_000.0)
EDINBURGH = (325_000.0, 673_000.0)


def test_parts_far_apart_are_rejected_with_the_gap(tmp_path):
    """A MultiPolygon with one part in London and one in Edinburgh took its council from one part
    and its substation from the other, and ranked first."""
    a, b = bng_square(*LONDON, 30), bng_square(*EDINBURGH, 30)
    f = _bng_geojson(tmp_path / "a.geojson", [(props("LONEDI"), shapely.MultiPolygon([a, b]))])
    batch = read_applications(f, land=LAND)
    check_invariant(batch)
    gap_km = brute_gap(a, b) / 1000
    assert 530 < gap_km < 540
    assert reason(batch, 1) == (
        f"parts {gap_km:,.0f} km apart: submit one application per site "
        "(parts of one site may be at most 5 km apart)"
    )


def test_the_gap_is_the_largest_between_any_two_parts(tmp_path):
    x, y = 400_000.0, 400_000.0
    a = bng_square(x, y, 20)
    b = bng_square(x + 3_000, y, 20)  # 3 km east of a
    c = bng_square(x + 7_000, y, 20)  # 4 km east of b, 7 km east of a
    near = shapely.MultiPolygon([a, b])
    far = shapely.MultiPolygon([a, b, c])
    f = _bng_geojson(tmp_path / "a.geojson", [(props("NEAR"), near), (props("FAR"), far)])
    batch = read_applications(f, land=LAND)
    check_invariant(batch)
    assert list(batch.sites.index) == ["NEAR"] and len(batch.warnings) == 0
    want = max(brute_gap(p, q) for p, q in ((a, b), (a, c), (b, c))) / 1000
    assert reason(batch, 2).startswith(f"parts {want:.1f} km apart: submit one application per site")
    loose = read_applications(f, land=LAND, rules=ApplicationRules(max_part_gap_km=10))
    assert sorted(loose.sites.index) == ["FAR", "NEAR"]


def _share_by_points(site: shapely.Geometry, land: shapely.Geometry, within_m: float, n: int = 160) -> float:
    """Independent share on land: the fraction of a fine grid of points in the site lying within
    ``within_m`` of the land (point counting, not polygon overlay)."""
    minx, miny, maxx, maxy = site.bounds
    xs, ys = np.meshgrid(np.linspace(minx, maxx, n), np.linspace(miny, maxy, n))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains(site, pts)]
    return float(np.mean(shapely.dwithin(land, pts, within_m)))


@pytest.mark.parametrize("tolerance", [0.0, 500.0])
def test_share_on_land_rejects_below_the_threshold_and_warns_above(tmp_path, tolerance):
    """LAND's west coast is the line x = 200,000: sites straddling it have a known share."""
    land = LAND.geometry.iloc[0]
    rows = [
        (props("HALF"), shapely.box(199_000, 500_000, 201_000, 500_500)),  # 50% (75% within 500 m)
        (props("MOST"), shapely.box(199_950, 600_000, 201_950, 600_500)),  # 97.5% (100% within 500 m)
        (props("INLAND"), shapely.box(300_000, 600_000, 302_000, 600_500)),  # 100%
    ]
    f = _bng_geojson(tmp_path / "a.geojson", rows)
    rules = ApplicationRules(land_tolerance_m=tolerance)
    batch = read_applications(f, land=LAND, rules=rules)
    check_invariant(batch)
    half = _share_by_points(rows[0][1], land, tolerance)
    most = _share_by_points(rows[1][1], land, tolerance)
    assert half == pytest.approx(0.5 + tolerance / 2000, abs=0.01)
    assert reason(batch, 1).startswith("only ")
    got_half = float(reason(batch, 1).split("only ")[1].split("%")[0]) / 100
    assert got_half == pytest.approx(half, abs=0.01)
    assert "at least 90% is needed" in reason(batch, 1)
    assert "MOST" in batch.sites.index and "INLAND" in batch.sites.index
    if tolerance == 0:
        (w,) = warnings_of(batch, 2)
        assert float(w.split("%")[0]) / 100 == pytest.approx(most, abs=0.01)
        assert w.endswith("of the site is on GB land (the rest is sea or another country)")
    else:
        assert most == 1.0 and warnings_of(batch, 2) == []
    assert warnings_of(batch, 3) == []
    # SF11: the share is a column of the accepted sites (assessment.csv, the GeoPackage), not only a
    # warning, checked against the independent point count
    assert batch.sites.at["MOST", "gb_land_share"] == pytest.approx(most, abs=0.01)
    assert batch.sites.at["INLAND", "gb_land_share"] == 1.0


@pytest.mark.data
def test_real_coast_france_and_the_irish_sea(tmp_path, shared_data):
    """A site 99.9% in France with one corner in Kent, and one 97% in the sea off Blackpool, were
    accepted: the land check only asked whether a site touched GB land."""
    from tests.support.synthetic_applications import bng_land_from_countries

    land = bng_land_from_countries(gpd.read_file(shared_data / "boundaries/countries_dec2022_uk_buc.geojson"))
    union = shapely.union_all(land.geometry.values)
    # Kent: a corner on land at Dover, the rest across the Channel in France
    dover = (632_000.0, 141_500.0)
    assert union.contains(shapely.Point(dover))
    france = shapely.Polygon(
        [
            dover,
            (dover[0] + 1_000, dover[1]),
            (dover[0] + 40_000, dover[1] - 40_000),
            (dover[0] + 39_000, dover[1] - 40_000),
        ]
    )
    # Blackpool: a box whose eastern sliver is on land
    coast_x = 330_300.0  # about the BUC coastline at y = 436,000
    sea = shapely.box(coast_x - 5_900, 436_000, coast_x + 200, 436_500)
    f = _bng_geojson(tmp_path / "a.geojson", [(props("FRA"), france), (props("SEA"), sea)])
    batch = read_applications(f, land=land)
    check_invariant(batch)
    assert len(batch.sites) == 0
    for row, site in ((1, france), (2, sea)):
        why = reason(batch, row)
        assert "of the site is on GB land (at least 90% is needed" in why, why
        share = float(why.split("only ")[1].split("%")[0]) / 100
        assert share == pytest.approx(_share_by_points(site, union, 500.0), abs=0.02)
        assert share < 0.2


# ------------------------------------------------------------------------------------------------
# failure 3: datums. OS test points: Ordnance Survey, OSTN15/OSGM15 developer pack test data
# (ETRS89 latitude/longitude -> OSGB36 easting/northing), published at
# https://www.ordnancesurvey.co.uk/geodesy-positioning/coordinate-transformations/resources

OS_TEST_POINTS = [  # id, ETRS89 lat, lon, OSGB36 E, N
    ("TP01", 49.92226393730, -6.29977752014, 91492.146, 11318.804),
    ("TP05", 50.93127937910, -1.45051433700, 438710.920, 114792.250),
    ("TP07", 51.37447025550, 1.44454730409, 639821.835, 169565.858),
    ("TP09", 51.48936564950, -0.11992557180, 530624.974, 178388.464),
    ("TP10", 51.858908964, -4.3085247696, 241124.584, 220332.641),
    ("TP20", 53.8002151963, -1.66379168242, 422242.186, 433818.701),
    ("TP30", 57.4862500072, -4.21926398555, 267056.768, 846176.972),
    ("TP40", 60.1330809166, -2.07382822798, 395999.668, 1138728.951),
]


def _points_geojson(path: Path, crs: str | None, coords: list[tuple[str, float, float]]) -> Path:
    rows = [(props(i, site_area_ha=20), shapely.Point(x, y)) for i, x, y in coords]
    return write_geojson(path, rows, crs=crs)


def _centres(batch) -> dict[str, tuple[float, float]]:
    c = batch.sites.geometry.centroid
    return {i: (float(p.x), float(p.y)) for i, p in c.items()}


@pytest.mark.parametrize("crs", ["EPSG:4258", "EPSG:4326", "CRS84"])
def test_etrs89_and_wgs84_land_on_the_published_os_test_points(tmp_path, crs):
    f = _points_geojson(tmp_path / "a.geojson", crs, [(t, lon, lat) for t, lat, lon, _, _ in OS_TEST_POINTS])
    batch = read_applications(f)
    check_invariant(batch)
    got = _centres(batch)
    for t, _, _, e, n in OS_TEST_POINTS:
        assert got[t][0] == pytest.approx(e, abs=0.002) and got[t][1] == pytest.approx(n, abs=0.002), t


def test_osgb36_lonlat_is_honoured_not_read_as_wgs84(tmp_path):
    """EPSG:4277 used to give the same easting/northing as WGS84: about 110 m out."""
    from pyproj import Geod, Transformer

    to_osgb36 = Transformer.from_crs("EPSG:27700", "EPSG:4277", always_xy=True)
    coords = []
    for t, _, _, e, n in OS_TEST_POINTS:
        lon, lat = to_osgb36.transform(e, n)  # independent: pyproj's inverse projection
        coords.append((t, lon, lat))
    osgb = read_applications(_points_geojson(tmp_path / "o.geojson", "EPSG:4277", coords))
    wgs = read_applications(_points_geojson(tmp_path / "w.geojson", "EPSG:4326", coords))
    got, wrong = _centres(osgb), _centres(wgs)
    geod = Geod(ellps="WGS84")
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    for t, _, _, e, n in OS_TEST_POINTS:
        assert got[t][0] == pytest.approx(e, abs=0.001) and got[t][1] == pytest.approx(n, abs=0.001), t
        off = math.hypot(wrong[t][0] - e, wrong[t][1] - n)
        lon1, lat1 = to_wgs.transform(e, n)
        lon2, lat2 = to_wgs.transform(*wrong[t])
        assert geod.inv(lon1, lat1, lon2, lat2)[2] == pytest.approx(off, rel=0.01)  # a real ground offset
        assert 60 < off < 160, (t, off)  # "about 110 m"


def test_bng_compound_and_utm(tmp_path):
    from pyproj import Transformer

    e, n = 530624.974, 178388.464
    bng = read_applications(_points_geojson(tmp_path / "b.geojson", "EPSG:27700", [("B", e, n)]))
    compound = read_applications(_points_geojson(tmp_path / "c.geojson", "EPSG:7405", [("C", e, n)]))
    assert _centres(bng)["B"] == pytest.approx((e, n), abs=1e-6)
    assert _centres(compound)["C"] == pytest.approx((e, n), abs=1e-6)
    ux, uy = Transformer.from_crs("EPSG:27700", "EPSG:32630", always_xy=True).transform(e, n)
    utm = read_applications(_points_geojson(tmp_path / "u.geojson", "EPSG:32630", [("U", ux, uy)]))
    # pyproj's 27700 <-> 32630 uses a Helmert shift (metres off OSTN15): agree to well under 10 m
    assert math.dist(_centres(utm)["U"], (e, n)) < 10


@pytest.mark.parametrize("crs", ["EPSG:29903", "EPSG:29902", "EPSG:2157"])
def test_irish_grid_is_rejected_as_outside_great_britain(tmp_path, crs):
    f = _points_geojson(
        tmp_path / "a.geojson", crs, [("BELFAST", 333_000, 374_000), ("DUBLIN", 315_000, 234_000)]
    )
    batch = read_applications(f, land=LAND)
    check_invariant(batch)
    assert len(batch.sites) == 0
    for row in (1, 2):
        why = reason(batch, row)
        assert why.startswith("outside Great Britain: the coordinates are in") and "Ireland" in why, why


@pytest.mark.parametrize(
    ("crs", "words"),
    [
        ("EPSG:5701", "Vertical CRS: it gives heights"),
        ("EPSG:4978", "Geocentric CRS"),
        ("EPSG:999999", "cannot understand"),
    ],
)
def test_vertical_geocentric_and_unknown_crs_are_file_errors_naming_it(tmp_path, crs, words):
    """EPSG:5701 (heights above Newlyn) used to give 'nearest GB land is 9,262 km away'."""
    f = _points_geojson(tmp_path / "a.geojson", crs, [("A", 530_000, 180_000)])
    with pytest.raises(InvalidInputError) as err:
        read_applications(f, land=LAND)
    assert crs.split(":")[1] in str(err.value) and words in str(err.value)
    f2 = _points_geojson(tmp_path / "b.geojson", None, [("A", 530_000, 180_000)])
    with pytest.raises(InvalidInputError, match=words):
        read_applications(f2, land=LAND, input_crs=crs)


# ------------------------------------------------------------------------------------------------
# failure 9: odd GeoJSON gave tracebacks


def _raw_geojson(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


GOOD_GEOMETRY = json.loads(shapely.to_geojson(bng_square(450_000, 200_000, 30)))


@pytest.mark.parametrize(
    ("properties", "why"),
    [
        ("abc", "properties is text, not an object of fields"),
        (5, "properties is a number, not an object of fields"),
        ([1, 2], "properties is an array, not an object of fields"),
        (True, "properties is true/false, not an object of fields"),
    ],
)
def test_properties_that_are_not_objects_reject_the_row(tmp_path, properties, why):
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:27700"}},
        "features": [
            {"type": "Feature", "properties": properties, "geometry": GOOD_GEOMETRY},
            {"type": "Feature", "properties": props("OK"), "geometry": GOOD_GEOMETRY},
            "not a feature",
            {"type": "Feature", "properties": {**props("OBJ"), "id": {"a": 1}}, "geometry": GOOD_GEOMETRY},
        ],
    }
    batch = read_applications(_raw_geojson(tmp_path / "a.geojson", doc), land=LAND)
    check_invariant(batch)
    assert list(batch.sites.index) == ["OK"]
    assert why in reason(batch, 1)
    assert "feature is text, not a GeoJSON Feature object" in reason(batch, 3)
    assert "id is an object: give text or a number" in reason(batch, 4)


@pytest.mark.parametrize(
    "crs_member",
    [
        {"type": "name", "properties": "EPSG:27700"},
        "EPSG:27700",
        {"type": "name", "properties": {"name": 27700}},
        [1],
    ],
)
def test_malformed_crs_member_is_a_file_error_saying_what_is_expected(tmp_path, crs_member):
    doc = {
        "type": "FeatureCollection",
        "crs": crs_member,
        "features": [{"type": "Feature", "properties": props("A"), "geometry": GOOD_GEOMETRY}],
    }
    with pytest.raises(InvalidInputError) as err:
        read_applications(_raw_geojson(tmp_path / "a.geojson", doc))
    assert '"crs": {"type": "name", "properties": {"name": "EPSG:27700"}}' in str(err.value)


def test_json_nested_200000_deep_is_a_file_error(tmp_path):
    path = tmp_path / "deep.geojson"
    depth = 200_000
    path.write_text('{"type": "FeatureCollection", "features": [' + "[" * depth + "]" * depth + "]}")
    with pytest.raises(InvalidInputError, match="nested too deeply"):
        read_applications(path)
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "A", "mw": 5}, '
        '"geometry": {"type": "Polygon", "coordinates": ' + "[" * 200 + "]" * 200 + "}}]}"
    )
    batch = read_applications(path)  # deep but parseable: the row is rejected, not the file
    assert reason(batch, 1) == "empty geometry"


# ------------------------------------------------------------------------------------------------
# failure 10: wrong reasons and weak limits


def test_csv_with_a_bom_and_latin1_bytes_reads_its_ids(tmp_path):
    body = (
        "id,name,latitude,longitude,site_area_ha,mw\n"
        "A,Caf\xe9 \xa3,51.657,-1.229,30,500\n"
        "B,Na\xefve,51.75,-1.25,30,500\n"
    )
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("latin-1"))
    batch = read_applications(path, land=LAND)
    check_invariant(batch)
    assert list(batch.sites.index) == ["A", "B"]
    assert batch.sites.loc["A", "name"] == "Café £"
    assert any("Windows-1252" in n for n in batch.notes)


def test_mixed_id_and_ID_keys_read_every_row(tmp_path):
    g = bng_square(450_000, 200_000, 30)
    rows = [
        ({"id": "A", "mw": 500}, g),
        ({"ID": "B", "MW": 500}, bng_square(460_000, 200_000, 30)),
        ({"Id": "C", "id": "C2", "mw": 500}, bng_square(470_000, 200_000, 30)),
    ]
    batch = read_applications(_bng_geojson(tmp_path / "a.geojson", rows), land=LAND)
    check_invariant(batch)
    assert list(batch.sites.index) == ["A", "B", "C"]
    (w,) = warnings_of(batch, 3)
    assert "both 'Id' and 'id' are given for id: used 'Id'" in w


def _shapefile(folder: Path, with_dbf: bool = True) -> list[Path]:
    frame = gpd.GeoDataFrame(
        {"id": ["S1", "S2"], "mw": [500.0, 600.0]},
        geometry=[bng_square(450_000, 200_000, 30), bng_square(460_000, 200_000, 30)],
        crs="EPSG:27700",
    )
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_file(folder / "sites.shp")
    files = sorted(folder.glob("sites.*"))
    if not with_dbf:
        (folder / "sites.dbf").unlink()
        files = [p for p in files if p.suffix != ".dbf"]
    return files


def test_zipped_shapefile_without_dbf_says_so(tmp_path):
    files = _shapefile(tmp_path / "shp", with_dbf=False)
    z = tmp_path / "sites.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in files:
            zf.write(p, p.name)
    with pytest.raises(InvalidInputError) as err:
        read_applications(z, land=LAND)
    assert "sites.shp has no .dbf" in str(err.value) and "attribute table" in str(err.value)
    with pytest.raises(InvalidInputError, match="no .dbf beside it"):
        read_applications(tmp_path / "shp" / "sites.shp", land=LAND)


def test_shapefile_in_a_folder_inside_the_zip_is_found(tmp_path):
    files = _shapefile(tmp_path / "shp")
    z = tmp_path / "sites.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in files:
            zf.write(p, f"export/2025/{p.name}")
        zf.writestr("__MACOSX/export/2025/._sites.shp", b"junk")
    batch = read_applications(z, land=LAND)
    check_invariant(batch)
    assert list(batch.sites.index) == ["S1", "S2"]


def test_one_huge_csv_cell_rejects_its_row_not_the_file(tmp_path):
    big = "x" * 200_000
    path = tmp_path / "a.csv"
    path.write_text(
        "id,name,notes_extra,latitude,longitude,site_area_ha,mw\n"
        f"A,{big},,51.657,-1.229,30,500\n"
        f"B,ok,{big},51.75,-1.25,30,500\n"
        "C,ok,,51.70,-1.30,30,500\n",
        encoding="utf-8",
    )
    batch = read_applications(path, land=LAND)
    check_invariant(batch)
    assert reason(batch, 1) == "name is 200,000 characters long (more than the 10,000 allowed)"
    assert sorted(batch.sites.index) == ["B", "C"]  # a huge cell in an ignored column harms nothing


def test_a_48_mb_name_rejects_its_row_and_never_reaches_an_output(tmp_path):
    name = "A" * 48_000_000
    rows = [
        (props("BIG", name=name), bng_square(450_000, 200_000, 30)),
        (props("OK"), bng_square(460_000, 200_000, 30)),
    ]
    batch = read_applications(_bng_geojson(tmp_path / "a.geojson", rows), land=LAND)
    check_invariant(batch)
    assert reason(batch, 1) == "name is 48,000,000 characters long (more than the 10,000 allowed)"
    assert batch.rejected["name"].isna().all()
    limited = read_applications(
        _bng_geojson(
            tmp_path / "b.geojson", [(props("L", notes="n" * 101), bng_square(450_000, 200_000, 30))]
        ),
        land=LAND,
        rules=ApplicationRules(max_text_chars=100),
    )
    assert reason(limited, 1) == "notes is 101 characters long (more than the 100 allowed)"


def test_ids_differing_only_by_case_or_invisible_characters_collide(tmp_path):
    g = [bng_square(400_000 + 5_000 * k, 200_000, 30) for k in range(6)]
    ids = ["GZ-1", "gz-1", "GZ\u00a0-1".replace("\u00a0-", "-"), "GZ\u200b-1", "GZ-1\u00a0", "GZ\u00a02"]
    ids[2] = "\uff27\uff3a-1"  # full-width GZ: NFKC makes it GZ-1
    batch = read_applications(
        _bng_geojson(tmp_path / "a.geojson", [(props(i), q) for i, q in zip(ids, g, strict=True)]), land=LAND
    )
    check_invariant(batch)
    assert list(batch.sites.index) == ["GZ-1", "GZ 2"]
    assert reason(batch, 2) == (
        "duplicate id 'gz-1' (same as 'GZ-1' at row 1, ignoring case, spacing and invisible characters)"
    )
    for row in (3, 4, 5):
        assert reason(batch, row).startswith("duplicate id 'GZ-1' (first at row 1)"), reason(batch, row)
    assert any(w.endswith("(invisible characters removed)") for w in warnings_of(batch, 4))
    # full-width letters are NFKC width folding, not invisible characters (review nit)
    assert any(
        "full-width characters folded to ordinary ones by Unicode NFKC" in w for w in warnings_of(batch, 3)
    )
    assert not any("invisible" in w for w in warnings_of(batch, 3))
    assert any("non-breaking spaces folded by Unicode NFKC" in w for w in warnings_of(batch, 6))


def test_geojson_with_latitude_first_says_swapped_not_far_away(tmp_path):
    """Review nit: a GeoJSON under urn:ogc:def:crs:EPSG::4326 with (latitude, longitude) pairs used
    to say "nearest GB land is 9,349 km away"; the CSV reader already said what is wrong."""
    lat, lon = 51.657, -1.229  # Culham
    d = 0.003
    swapped = shapely.Polygon([(lat, lon), (lat, lon + d), (lat + d, lon + d), (lat + d, lon)])
    right = shapely.Polygon([(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)])
    path = write_geojson(
        tmp_path / "ll.geojson",
        [(props("SWAP"), swapped), (props("OK"), right)],
        crs="urn:ogc:def:crs:EPSG::4326",
    )
    batch = read_applications(path, land=LAND)
    check_invariant(batch)
    assert reason(batch, 1).startswith("latitude and longitude look swapped")
    assert "km away" not in reason(batch, 1)
    assert list(batch.sites.index) == ["OK"]

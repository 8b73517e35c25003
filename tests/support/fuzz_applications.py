"""A grammar of valid and broken application files, for hypothesis (tests/test_fuzz_applications.py)
and for the deeper run in tools/fuzz_applications.py.

A file is built from parts, each drawn valid or broken:

* GeoJSON: the document shape (FeatureCollection, a bare Feature, garbage), the ``crs`` member
  (absent, WGS84, CRS84, ETRS89, OSGB36 lon/lat, BNG, Irish Grid, vertical, malformed), features
  that are not objects, ``properties`` of every JSON type, keys in mixed case and aliases, values
  of every JSON type (formulas, markup, invisible characters, huge text, nested arrays/objects),
  ids from a small pool so that duplicates differing by case, spacing or invisible characters
  occur, and geometries (sites on GB land, points with and without an area, parts near and far,
  bow-ties, lines, empties, nulls, non-numeric or non-finite or huge coordinates, the sea, France,
  Ireland, BNG metres in a lon/lat file).
* CSV: header columns (mixed case, aliases, duplicates, unknown, huge), a geometry form (WKT,
  latitude/longitude, easting/northing), cells of the same kinds (quotes, delimiters, newlines,
  200 KB), ragged rows, blank lines, and an encoding (UTF-8 with or without BOM, Windows-1252,
  UTF-16) and delimiter.

Nothing here is real: coordinates are real places, every value is made up.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from hypothesis import strategies as st
from pyproj import Transformer

from growth_zones.data.crs import bng_to_lonlat
from growth_zones.errors import InvalidInputError
from growth_zones.workflows.applications import ApplicationBatch, read_applications
from growth_zones.workflows.outputs import read_csv_output, write_csv, write_gpkg

# Inland places on GB land (BNG metres): Oxford, Birmingham, Leeds, Cardiff, Glasgow, Inverness,
# Norwich, Carlisle. A 300 ha site around any of them lies on land.
GB_CENTRES = [
    (451_000, 206_000),
    (407_000, 287_000),
    (430_000, 433_000),
    (318_000, 177_000),
    (259_000, 665_000),
    (266_000, 845_000),
    (623_000, 308_000),
    (340_000, 556_000),
]
SEA_CENTRE = (120_000, 300_000)  # the Celtic Sea, ~60 km off Pembrokeshire
PARIS_LONLAT = (2.35, 48.86)
DUBLIN_LONLAT = (-6.26, 53.35)

FORMULAS = [
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=2",
    '=HYPERLINK("http://x","y")',
]
MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "`${alert(1)}`",
    "</textarea><b>",
]
ODD = [
    "\u200b",
    "\u00a0",
    "\ufeff",
    "\u2060",
    "\u202e",
    "\x00",
    "\x07",
    "🙂",
    "数据",
    "é",
    "£",
    "\\",
    '"',
    "'",
    ",",
    ";",
    "\n",
]
ID_POOL = ["A", "a", " A ", "A\u200b", "\uff21", "A\u00a0", "B", "b", "C-1", "c-1", "D"]
KEYS = {
    "id": ["id", "ID", "Id", "site_id", "SITE_ID"],
    "name": ["name", "NAME", "site_name"],
    "applicant": ["applicant", "Applicant"],
    "mw": ["mw", "MW", "capacity_mw", "Capacity_MW"],
    "target_year": ["target_year", "TARGET_YEAR", "year", "target_yea"],
    "site_area_ha": ["site_area_ha", "area_ha", "site_area_"],
    "evidence_grid": ["evidence_grid", "EVIDENCE_GRID", "evidence_g"],
    "evidence_water": ["evidence_water"],
    "notes": ["notes", "Notes"],
}
UNKNOWN_KEYS = ["colour", "x" * 200, "=cmd", "<b>k</b>", "", " ", "geometry_extra"]
CRS_CHOICES = ["none", "EPSG:4326", "CRS84", "EPSG:4258", "EPSG:4277", "EPSG:27700"]
BAD_CRS = ["EPSG:29903", "EPSG:5701", "EPSG:4978", "EPSG:999999", "not a crs", 27700, {"a": 1}]


def _text(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(FORMULAS + MARKUP + ODD),
        st.builds(lambda a, b: a + b, st.sampled_from(ODD + FORMULAS), st.text(max_size=8)),
    )


def huge_text() -> st.SearchStrategy[str]:
    return st.sampled_from([10_001, 25_000, 200_000]).map(lambda n: "x" * n)


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        _text(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=5,
    )


def field_values(canon: str) -> st.SearchStrategy[Any]:
    common = st.one_of(json_values(), huge_text())
    if canon == "id":
        return st.one_of(st.sampled_from(ID_POOL), st.sampled_from(ID_POOL), st.integers(0, 5), common)
    if canon == "mw":
        return st.one_of(
            st.floats(min_value=1, max_value=3000),
            st.integers(min_value=-5, max_value=20_000),
            st.sampled_from(["500", "1,200", "750 MW", "1,5", "abc", "", "1e400", "NaN", "-0"]),
            common,
        )
    if canon == "target_year":
        return st.one_of(st.integers(2020, 2070), st.sampled_from(["2030", "2030.5", "soon", ""]), common)
    if canon == "site_area_ha":
        return st.one_of(
            st.floats(min_value=0.5, max_value=400), st.sampled_from(["30 ha", "-4", "0"]), common
        )
    if canon.startswith("evidence"):
        return st.one_of(
            st.sampled_from(["yes", "no", "unknown", "Y", "0", "pending", ""]), st.booleans(), common
        )
    return st.one_of(_text(40), common)


@dataclass
class Site:
    """A geometry drawn in BNG metres (or a raw GeoJSON geometry for the broken ones)."""

    kind: str
    bng: shapely.Geometry | None = None
    raw: Any = None
    lonlat_given: shapely.Geometry | None = None  # already lon/lat (foreign places)


def _square(cx: float, cy: float, ha: float) -> shapely.Polygon:
    half = math.sqrt(ha * 10_000) / 2
    return shapely.box(cx - half, cy - half, cx + half, cy + half)


@st.composite
def sites(draw: st.DrawFn) -> Site:
    kind = draw(
        st.sampled_from(
            [
                "polygon",
                "polygon",
                "polygon",
                "point",
                "point_no_area",
                "multi_near",
                "multi_far",
                "bowtie",
                "line",
                "empty",
                "null",
                "garbage",
                "nan",
                "huge_coords",
                "sea",
                "paris",
                "dublin",
                "bng_in_lonlat",
                "tiny",
                "coastal",
            ]
        )
    )
    cx, cy = draw(st.sampled_from(GB_CENTRES))
    cx += draw(st.floats(-2_000, 2_000))
    cy += draw(st.floats(-2_000, 2_000))
    ha = draw(st.floats(2, 300))
    if kind == "polygon":
        return Site(kind, _square(cx, cy, ha))
    if kind in ("point", "point_no_area"):
        return Site(kind, shapely.Point(cx, cy))
    if kind == "multi_near":
        return Site(kind, shapely.MultiPolygon([_square(cx, cy, 20), _square(cx + 1_500, cy, 20)]))
    if kind == "multi_far":
        ox, oy = draw(st.sampled_from(GB_CENTRES))
        return Site(kind, shapely.MultiPolygon([_square(cx, cy, 20), _square(ox + 3_000, oy + 3_000, 20)]))
    if kind == "bowtie":
        s = 400.0
        return Site(
            kind, shapely.Polygon([(cx - s, cy - s), (cx + s, cy + s), (cx + s, cy - s), (cx - s, cy + s)])
        )
    if kind == "line":
        return Site(kind, shapely.LineString([(cx, cy), (cx + 500, cy + 500)]))
    if kind == "empty":
        return Site(kind, shapely.Polygon())
    if kind == "null":
        return Site(kind, None)
    if kind == "garbage":
        raw = draw(
            st.sampled_from(
                [
                    {"type": "Polygon", "coordinates": "abc"},
                    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
                    {"type": "Nonsense", "coordinates": []},
                    {"coordinates": [1, 2]},
                    "POLYGON((0 0, 1 0, 1 1, 0 0))",
                    [1, 2, 3],
                    {"type": "Point", "coordinates": [None, None]},
                    {"type": "Polygon", "coordinates": [[[[[[0]]]]]]},
                ]
            )
        )
        return Site(kind, raw=raw)
    if kind == "nan":
        return Site(kind, raw={"type": "Point", "coordinates": ["NaN", 1]})
    if kind == "huge_coords":
        return Site(
            kind,
            raw={
                "type": "Polygon",
                "coordinates": [[[1e300, 1e300], [1e300, -1e300], [-1e300, 0], [1e300, 1e300]]],
            },
        )
    if kind == "sea":
        return Site(kind, _square(*SEA_CENTRE, ha))
    if kind in ("paris", "dublin"):
        lon, lat = PARIS_LONLAT if kind == "paris" else DUBLIN_LONLAT
        return Site(kind, lonlat_given=shapely.box(lon - 0.004, lat - 0.004, lon + 0.004, lat + 0.004))
    if kind == "bng_in_lonlat":
        return Site(
            kind,
            raw={
                "type": "Polygon",
                "coordinates": [[[cx, cy], [cx + 500, cy], [cx + 500, cy + 500], [cx, cy]]],
            },
        )
    if kind == "tiny":
        return Site(kind, _square(cx, cy, 0.3))
    # coastal: straddling the Norfolk coast at Sea Palling (part on land, part in the sea)
    return Site(kind, shapely.box(643_000, 325_000, 646_000, 326_000))


def _to_crs(geom: shapely.Geometry, crs: str) -> shapely.Geometry:
    if crs == "EPSG:27700":
        return geom
    if crs == "EPSG:4277":
        tr = Transformer.from_crs("EPSG:27700", "EPSG:4277", always_xy=True)
        return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))

    def inv(c: np.ndarray) -> np.ndarray:
        lon, lat = bng_to_lonlat(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, inv)


def _geometry_json(site: Site, crs: str) -> Any:
    if site.raw is not None:
        return site.raw
    if site.lonlat_given is not None:
        g = site.lonlat_given
        if crs not in ("none", "EPSG:4326", "CRS84", "EPSG:4258"):
            g = shapely.transform(g, lambda c: c)  # lon/lat in a BNG file: the wrong-CRS check says so
        return json.loads(shapely.to_geojson(g))
    if site.bng is None:
        return None
    try:
        return json.loads(shapely.to_geojson(_to_crs(site.bng, "EPSG:4326" if crs == "none" else crs)))
    except Exception:  # noqa: BLE001 - an empty geometry transforms to itself
        return json.loads(shapely.to_geojson(site.bng))


@st.composite
def properties(draw: st.DrawFn, site: Site) -> Any:
    if draw(st.integers(0, 19)) == 0:  # properties that are not an object
        return draw(
            st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2), st.booleans())
        )
    props: dict[str, Any] = {}
    for canon, keys in KEYS.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # field left out
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 3)) == 0:
            props[key] = draw(field_values(canon))
        else:  # a plausible value most of the time, so some rows are accepted
            props[key] = {
                "id": draw(st.sampled_from(ID_POOL)),
                "name": draw(_text(30)),
                "applicant": draw(_text(30)),
                "mw": draw(st.integers(10, 2000)),
                "target_year": draw(st.integers(2025, 2040)),
                "site_area_ha": 50,
                "evidence_grid": draw(st.sampled_from(["yes", "no", "unknown"])),
                "evidence_water": draw(st.sampled_from(["yes", "no", ""])),
                "notes": draw(_text(30)),
            }[canon]
    if site.kind == "point_no_area":
        for k in KEYS["site_area_ha"]:
            props.pop(k, None)
    for _ in range(draw(st.integers(0, 2))):
        props[draw(st.sampled_from(UNKNOWN_KEYS))] = draw(json_values())
    return props


@st.composite
def geojson_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """(bytes of a .geojson file, a short description)."""
    crs = draw(st.sampled_from(CRS_CHOICES))
    n = draw(st.integers(1, 8))
    feats: list[Any] = []
    kinds = []
    for _ in range(n):
        site = draw(sites())
        kinds.append(site.kind)
        if draw(st.integers(0, 29)) == 0:
            feats.append(draw(json_values()))  # a feature that is not an object
            continue
        feat: dict[str, Any] = {
            "type": "Feature",
            "properties": draw(properties(site)),
            "geometry": _geometry_json(site, crs),
        }
        if draw(st.integers(0, 9)) == 0:
            feat["id"] = draw(st.sampled_from(ID_POOL))
        feats.append(feat)
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
    shape = draw(st.integers(0, 11))
    if crs != "none":
        doc["crs"] = {
            "type": "name",
            "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84" if crs == "CRS84" else crs},
        }
    if shape == 0:
        doc["crs"] = {"type": "name", "properties": {"name": draw(st.sampled_from(BAD_CRS))}}
    elif shape == 1:
        doc["crs"] = draw(st.sampled_from(["EPSG:27700", {"properties": "EPSG:27700"}, [1]]))
    elif shape == 2 and isinstance(feats[0], dict):
        doc = feats[0]  # a bare Feature
    elif shape == 3:
        doc = draw(st.sampled_from([[], {"type": "FeatureCollection"}, {"features": "x"}, 5]))  # type: ignore[assignment]
    body = json.dumps(doc, ensure_ascii=draw(st.booleans()), allow_nan=True)
    return body.encode("utf-8"), f"geojson crs={crs} kinds={kinds}"


CSV_FORMS = ("wkt", "latlon", "en", "wkt", "latlon", "en", "nogeo")


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """(bytes of a .csv file, a short description)."""
    form = draw(st.sampled_from(CSV_FORMS))
    cols = [draw(st.sampled_from(KEYS[c])) for c in KEYS if draw(st.integers(0, 7)) != 0]
    if draw(st.integers(0, 5)) == 0:
        cols.append(draw(st.sampled_from(UNKNOWN_KEYS)))
    if draw(st.integers(0, 9)) == 0 and cols:
        cols.append(cols[0].upper())  # the same field twice, in another case
    geo = {"wkt": ["wkt"], "latlon": ["latitude", "longitude"], "en": ["easting", "northing"], "nogeo": []}[
        form
    ]
    header = (
        cols + geo + (["site_area_ha"] if form not in ("wkt", "nogeo") and "site_area_ha" not in cols else [])
    )
    n = draw(st.integers(1, 8))
    rows: list[list[str]] = []
    for _ in range(n):
        site = draw(sites())
        row = []
        for c in header:
            canon = next((k for k, v in KEYS.items() if c.lower() in [x.lower() for x in v]), None)
            if c in geo:
                continue
            if canon is None:
                row.append(str(draw(json_values())))
                continue
            value = draw(
                st.one_of(
                    field_values(canon),
                    st.just(
                        {"id": "A", "mw": "600", "target_year": "2030", "site_area_ha": "40"}.get(canon, "x")
                    ),
                )
            )
            row.append("" if value is None else str(value))
        g = site.bng if site.bng is not None else shapely.Point(300_000, 300_000)
        c = g.centroid if not g.is_empty else shapely.Point(400_000, 300_000)
        if form == "nogeo":
            pass
        elif form == "wkt":
            row.append(
                draw(
                    st.sampled_from(
                        [
                            shapely.to_wkt(g),
                            "POLYGON((0 0, 1 1))",
                            "",
                            "not wkt",
                            "SRID=27700;" + shapely.to_wkt(g),
                        ]
                    )
                )
            )
        elif form == "latlon":
            lon, lat = bng_to_lonlat(np.array([c.x]), np.array([c.y]))
            pair = [f"{lat[0]:.6f}", f"{lon[0]:.6f}"]
            if draw(st.integers(0, 9)) == 0:
                pair = pair[::-1]  # swapped
            row.extend(pair)
        else:
            row.extend([f"{c.x:.1f}", draw(st.sampled_from([f"{c.y:.1f}", "north", "", "51.5"]))])
        if form in ("latlon", "en") and "site_area_ha" not in cols:
            row.append(draw(st.sampled_from(["40", "", "-1", "abc"])))
        if draw(st.integers(0, 14)) == 0:
            row = row[:-1] if draw(st.booleans()) else [*row, "extra"]  # ragged
        rows.append(row)
    delim = draw(st.sampled_from([",", ";", "\t"]))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim)
    w.writerow(header)
    for r in rows:
        if draw(st.integers(0, 19)) == 0:
            buf.write("\n")  # a blank line
        w.writerow(r)
    text = buf.getvalue()
    if draw(st.integers(0, 29)) == 0:
        text = draw(st.sampled_from(["", "\n\n", text.split("\n", 1)[0] + "\n"]))  # empty, blank, header only
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "bom+latin-1"]))
    if enc == "bom+latin-1":
        data = b"\xef\xbb\xbf" + text.encode("latin-1", errors="replace")
    else:
        data = text.encode(enc, errors="replace")
    return data, f"csv form={form} enc={enc} delim={delim!r}"


# ------------------------------------------------------------------------------------------------
# what must hold for every file


@dataclass
class Tally:
    """What a fuzz run covered: distinct inputs, how many were bad, and the distinct kinds of
    file-level errors, rejections and warnings (numbers and quoted values folded away)."""

    inputs: set[int] = field(default_factory=set)
    bad_inputs: set[int] = field(default_factory=set)
    file_errors: set[str] = field(default_factory=set)
    rejections: set[str] = field(default_factory=set)
    warnings: set[str] = field(default_factory=set)
    rows: int = 0

    def kinds(self) -> int:
        return len(self.file_errors) + len(self.rejections) + len(self.warnings)


def _shape_of(message: str) -> str:
    """A message with its particulars folded away (quoted values, paths, numbers, parenthesised
    details), so two rejections of the same kind count once."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "Q", message)
    text = re.sub(r"\([^()]*\)", "(…)", text)
    text = re.sub(r"/[^\s:;,)]+", "P", text)
    return re.sub(r"[-+]?\d[\d,.]*(e[-+]?\d+)?", "N", text)[:120]


def check_file(
    path: Path, land: Any, tally: Tally | None = None, out_dir: Path | None = None
) -> ApplicationBatch | None:
    """Read ``path``; assert the contract (a typed one-line file error, or every row assessed or
    rejected with a reason); with ``out_dir``, write the outputs and check they parse back."""
    data = path.read_bytes()
    key = hash(data)
    if tally is not None:
        tally.inputs.add(key)
    try:
        batch = read_applications(path, land=land)
    except InvalidInputError as err:
        msg = str(err)
        assert msg and "\n" not in msg and len(msg) < 3_000, msg[:500]
        if tally is not None:
            tally.bad_inputs.add(key)
            tally.file_errors.add(_shape_of(msg))
        return None
    n = batch.input_count
    assert len(batch.sites) + len(batch.rejected) == n
    assert sorted([*batch.sites["row"], *batch.rejected["row"]]) == list(range(1, n + 1))
    assert all(isinstance(r, str) and r.strip() for r in batch.rejected["reason"])
    assert all(isinstance(w, str) and w.strip() for w in batch.warnings["warning"])
    assert all(len(r) < 3_000 for r in batch.rejected["reason"])
    ids = [str(i) for i in batch.sites.index]
    assert len({i.casefold() for i in ids}) == len(ids) and all(i.strip() == i and i for i in ids)
    if len(batch.sites):
        g = batch.sites.geometry.values
        assert batch.sites.crs.to_epsg() == 27700
        assert shapely.is_valid(g).all() and np.isin(shapely.get_type_id(g), [3, 6]).all()
        b = batch.sites.total_bounds
        assert -50_000 <= b[0] and b[2] <= 750_000 and -50_000 <= b[1] and b[3] <= 1_350_000
    for col in ("name", "applicant", "notes"):
        assert all(len(str(v)) <= 10_000 for v in batch.sites[col].dropna())
    if tally is not None:
        tally.rows += n
        if len(batch.rejected) or len(batch.warnings):
            tally.bad_inputs.add(key)
        tally.rejections.update(_shape_of(p) for r in batch.rejected["reason"] for p in r.split("; "))
        tally.warnings.update(_shape_of(w) for w in batch.warnings["warning"])
    if out_dir is not None:
        check_outputs_parse_back(batch, out_dir)
    return batch


def check_outputs_parse_back(batch: ApplicationBatch, out_dir: Path) -> None:
    """CSV (spreadsheet-safe) and GeoPackage and JSON outputs of a batch read back to the same text."""
    import geopandas as gpd

    out_dir.mkdir(parents=True, exist_ok=True)
    sites = batch.sites.reset_index()
    write_csv(sites, out_dir / "sites.csv")
    write_csv(batch.rejected, out_dir / "rejected.csv")
    write_csv(batch.warnings, out_dir / "warnings.csv")
    back = read_csv_output(out_dir / "sites.csv")
    assert list(back["id"]) == list(sites["id"].astype(str))
    assert list(back["name"]) == [("" if pd.isna(v) else str(v)) for v in sites["name"]]
    rej = read_csv_output(out_dir / "rejected.csv")
    assert list(rej["reason"]) == list(batch.rejected["reason"])
    assert list(rej["id"]) == [("" if pd.isna(v) else str(v)) for v in batch.rejected["id"]]
    with open(out_dir / "rejected.csv", newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            for cell in row:
                assert cell[:1] not in ("=", "+", "@", "\t", "\r") or re.fullmatch(
                    r"[+-]?[\d.]+(e[+-]?\d+)?", cell
                ), cell
    if len(sites):
        write_gpkg(sites, out_dir / "sites.gpkg", layer="sites")
        gp = gpd.read_file(out_dir / "sites.gpkg", layer="sites")
        assert list(gp["id"]) == list(sites["id"].astype(str))
        assert [("" if v is None else v) for v in gp["name"]] == [
            ("" if pd.isna(v) else str(v)) for v in sites["name"]
        ]
    doc = json.loads(batch.rejected.to_json(orient="records", force_ascii=False))
    assert [d["reason"] for d in doc] == list(batch.rejected["reason"])

"""Read, check and normalise a file of AI Growth Zone applications (candidate sites).

The public entry point is :func:`read_applications`. It never raises for a bad *row*: every input
row ends up either in :attr:`ApplicationBatch.sites` (accepted, EPSG:27700, indexed by ``id``) or
in :attr:`ApplicationBatch.rejected` with its row number, id and every reason. Only a file that is
unusable as a whole (missing, unreadable, empty, no geometry or coordinate columns, CRS that cannot
be told) raises :class:`~growth_zones.errors.InvalidInputError`.

The invariant ``len(sites) + len(rejected) == input_count`` always holds.

Text is kept verbatim apart from control characters: escaping for HTML is the report's job.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..data.crs import to_bng
from ..data.validate import _polygonal
from ..errors import InvalidInputError
from ..settings import BNG, WGS84

log = logging.getLogger(__name__)

__all__ = [
    "APPLICATION_SCHEMA",
    "SITE_COLUMNS",
    "ApplicationBatch",
    "FieldSpec",
    "circle_of_area",
    "clean_text",
    "land_parts",
    "parse_evidence",
    "read_applications",
]


@dataclass(frozen=True)
class FieldSpec:
    """One documented column of an applications file."""

    dtype: str
    required: bool
    description: str
    aliases: tuple[str, ...] = ()


EVIDENCE_FIELDS = ("evidence_grid", "evidence_water", "evidence_land_control", "evidence_planning")

APPLICATION_SCHEMA: dict[str, FieldSpec] = {
    "id": FieldSpec("str", True, "Unique identifier of the application (site).", ("site_id",)),
    "name": FieldSpec("str", False, "Site name.", ("site_name",)),
    "applicant": FieldSpec("str", False, "Applicant or consortium."),
    "geometry": FieldSpec(
        "Polygon | MultiPolygon",
        True,
        "Site boundary. A Point (or CSV latitude/longitude or easting/northing) is accepted only with "
        "site_area_ha, and is then approximated by a circle of that area (with a warning).",
    ),
    "mw": FieldSpec("float", True, "Claimed IT/import capacity in MW; > 0 and <= 10,000.", ("capacity_mw",)),
    "target_year": FieldSpec(
        "Int64", False, "Year the capacity is claimed to be available (2024..2060).", ("target_yea", "year")
    ),
    "evidence_grid": FieldSpec(
        "float",
        False,
        "Grid connection letter (National Grid/NESO/TO) or a credible behind-the-meter "
        "plan: yes/no/unknown -> 1.0/0.0/NaN.",
        ("evidence_g",),
    ),
    "evidence_water": FieldSpec("float", False, "Water company letter: yes/no/unknown.", ("evidence_w",)),
    "evidence_land_control": FieldSpec(
        "float", False, "Land control (ownership/option): yes/no/unknown.", ("evidence_l",)
    ),
    "evidence_planning": FieldSpec(
        "float", False, "Planning consent or allocation: yes/no/unknown.", ("evidence_p",)
    ),
    "site_area_ha": FieldSpec(
        "float",
        False,
        "Site area in hectares as stated; required for point input.",
        ("site_area_", "area_ha"),
    ),
    "notes": FieldSpec("str", False, "Free text."),
}
"""Documented fields. Names are matched case-insensitively; ``aliases`` include the 10-character
forms a Shapefile truncates names to. Evidence values accept true/false/1/0/yes/no/y/n/unknown/blank."""

MW_MAX = 10_000.0
AREA_MIN_HA = 1.0
AREA_MAX_HA = 5_000.0
YEAR_MIN, YEAR_MAX = 2024, 2060
SEA_KM = 20.0
"""Sites within this distance of GB land (but not on it) are reported as 'in the sea'."""
LONLAT_BOUNDS = (-9.0, 49.0, 2.5, 61.0)
BNG_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)

SITE_COLUMNS = [
    "row",
    "name",
    "applicant",
    "mw",
    "target_year",
    *EVIDENCE_FIELDS,
    "site_area_ha",
    "area_ha",
    "notes",
]

_TRUE = {"true", "1", "yes", "y", "1.0", "t"}
_FALSE = {"false", "0", "no", "n", "0.0", "f"}
_UNKNOWN = {"", "unknown", "nan", "none", "null"}
_CIRCLE_SEGMENTS = 16  # quadrant segments: 64-gon

_ALIASES: dict[str, str] = {}
for _name, _spec in APPLICATION_SCHEMA.items():
    _ALIASES[_name] = _name
    for _alias in _spec.aliases:
        _ALIASES[_alias] = _name
_LAT = ("latitude", "lat")
_LON = ("longitude", "lon", "lng", "long")
_EAST = ("easting", "eastings", "bng_e", "x_bng")
_NORTH = ("northing", "northings", "bng_n", "y_bng")
_WKT = ("wkt", "geometry", "geom", "the_geom")
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass
class ApplicationBatch:
    """The outcome of reading an applications file.

    Attributes
    ----------
    sites
        Accepted sites, EPSG:27700, indexed by ``id`` (str), columns :data:`SITE_COLUMNS` + geometry.
        ``area_ha`` is the boundary area computed in EPSG:27700; ``site_area_ha`` is as stated.
    rejected
        One row per rejected input row: ``row, id, name, reason`` (several reasons joined by "; ").
    warnings
        ``row, id, warning``: accepted (or rejected) rows with something the user should know.
    input_count
        Number of data rows (features) in the file.
    notes
        File-level remarks (assumed CRS, encoding, skipped checks, ignored columns).
    """

    sites: gpd.GeoDataFrame
    rejected: pd.DataFrame
    warnings: pd.DataFrame
    input_count: int
    notes: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return len(self.rejected) == 0

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"{self.input_count} rows read: {len(self.sites)} accepted, {len(self.rejected)} rejected, "
            f"{len(self.warnings)} warnings"
        )


# --------------------------------------------------------------------------------------------------
# value parsing


def clean_text(value: Any) -> str | None:
    """Text with control characters removed (tabs/newlines become spaces) and outer space stripped.

    Everything else, including markup such as ``<img onerror=...>``, is kept verbatim. Missing -> None.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    text = "".join(
        " " if ch in "\t\n\r" else ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc"
    )
    text = text.strip()
    return text or None


def parse_evidence(value: Any) -> tuple[float, bool]:
    """Evidence flag -> (1.0 | 0.0 | NaN, understood). Unrecognised values give (NaN, False)."""
    if isinstance(value, (bool, np.bool_)):
        return (1.0 if value else 0.0), True
    text = clean_text(value)
    key = (text or "").lower()
    if key in _TRUE:
        return 1.0, True
    if key in _FALSE:
        return 0.0, True
    if key in _UNKNOWN:
        return math.nan, True
    return math.nan, False


def _number(value: Any) -> tuple[float | None, str | None]:
    """(number, None) | (None, None) for blank | (None, original text) when not a number."""
    if isinstance(value, (bool, np.bool_)):
        return None, str(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return (None, None) if math.isnan(f) else (f, None) if math.isfinite(f) else (None, str(value))
    text = clean_text(value)
    if text is None:
        return None, None
    t = re.sub(r"(?i)\s*(mw|ha)\s*$", "", text).strip()
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", t):  # 1,200 (never 1,5: a decimal comma is refused)
        t = t.replace(",", "")
    try:
        f = float(t)
    except ValueError:
        return None, text
    return (f, None) if math.isfinite(f) else (None, text)


def _fmt(x: float) -> str:
    """Human number: 0.042 -> '0.042', 12.34 -> '12.3', 12000 -> '12,000'."""
    if abs(x) < 10:
        return f"{x:.2g}" if abs(x) < 1 else f"{x:.1f}".rstrip("0").rstrip(".")
    if abs(x) < 100:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    return f"{x:,.0f}"


# --------------------------------------------------------------------------------------------------
# raw readers: each returns records (normalised column names), geometries in the source CRS,
# per-row reasons found while reading, and the declared CRS (None = undeclared).


@dataclass
class _Raw:
    records: list[dict[str, Any]]
    geoms: list[shapely.Geometry | None]
    pre_reasons: list[list[str]]
    crs: CRS | None
    crs_declared: bool
    notes: list[str]
    columns: list[str]
    check_crs_rows: bool = True  # False when the reader already checked coordinates (CSV lat/lon, E/N)
    geom_failed: set[int] = field(default_factory=set)  # rows whose geometry problem is in pre_reasons


def _norm_col(name: Any) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower())


def _canonical_records(
    rows: Iterable[dict[str, Any]], columns: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Map columns to canonical names; returns records and the ignored column names."""
    mapping: dict[str, str] = {}
    for col in columns:
        canon = _ALIASES.get(_norm_col(col))
        if canon and canon not in mapping.values():
            mapping[col] = canon
    ignored = [c for c in columns if c not in mapping]
    return [{mapping[k]: v for k, v in r.items() if k in mapping} for r in rows], ignored


def _crs_from_user(value: Any, path: Path) -> CRS:
    try:
        return CRS.from_user_input(value)
    except Exception as err:  # pyproj raises CRSError; keep the message
        raise InvalidInputError(
            f"{path}: cannot understand the CRS {value!r} ({err}); "
            "give it as e.g. 'EPSG:27700' or 'EPSG:4326'"
        ) from err


def _read_geojson(path: Path) -> _Raw:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInputError(
            f"{path} is not valid GeoJSON ({err}); save it as UTF-8 GeoJSON "
            "(RFC 7946) or use a GeoPackage/Shapefile/CSV"
        ) from err
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif (
        isinstance(doc, dict)
        and doc.get("type") == "FeatureCollection"
        and isinstance(doc.get("features"), list)
    ):
        features = doc["features"]
    else:
        raise InvalidInputError(f"{path}: expected a GeoJSON FeatureCollection with a 'features' list")
    crs: CRS | None = None
    crs_member = doc.get("crs") if isinstance(doc, dict) else None
    if isinstance(crs_member, dict):
        name = (crs_member.get("properties") or {}).get("name")
        if name:
            crs = _crs_from_user(name, path)
    records: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry | None] = []
    pre: list[list[str]] = []
    columns: list[str] = []
    failed: set[int] = set()
    for feat in features:
        reasons: list[str] = []
        props = dict(feat.get("properties") or {}) if isinstance(feat, dict) else {}
        has_id = "id" in {_norm_col(k) for k in props}
        if isinstance(feat, dict) and not has_id and feat.get("id") is not None:
            props["id"] = feat["id"]
        for k in props:
            if k not in columns:
                columns.append(k)
        geom = None
        gj = feat.get("geometry") if isinstance(feat, dict) else None
        if gj is not None:
            try:
                geom = shapely.geometry.shape(gj)
            except Exception as err:  # shapely/GEOS: malformed coordinates, short rings
                reasons.append(f"invalid geometry that cannot be repaired: {err}")
                failed.add(len(records))
        records.append(props)
        geoms.append(geom)
        pre.append(reasons)
    records, ignored = _canonical_records(records, columns)
    notes = [f"ignored columns: {', '.join(map(str, ignored))}"] if ignored else []
    return _Raw(records, geoms, pre, crs, crs is not None, notes, columns, geom_failed=failed)


def _read_ogr(path: Path, layer: str | None) -> _Raw:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as err:
        raise InvalidInputError(
            f"cannot open {path} as a vector file ({err}); supported: GeoJSON, "
            "GeoPackage, Shapefile (.shp or .zip) and CSV"
        ) from err
    if layer is None and len(layers) > 1:
        names = ", ".join(str(n) for n in layers[:, 0])
        raise InvalidInputError(
            f"{path} has {len(layers)} layers ({names}); choose one with layer=... (--layer)"
        )
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore")
    except Exception as err:
        raise InvalidInputError(f"cannot read {path}{f' layer {layer!r}' if layer else ''}: {err}") from err
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InvalidInputError(f"{path} has no geometry column: give site boundaries (polygons)")
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    rows = gdf[columns].astype(object).where(gdf[columns].notna(), None).to_dict("records")
    records, ignored = _canonical_records(rows, columns)
    notes = [f"ignored columns: {', '.join(map(str, ignored))}"] if ignored else []
    geoms = list(gdf.geometry.values)
    return _Raw(records, geoms, [[] for _ in geoms], gdf.crs, gdf.crs is not None, notes, columns)


def _decode_text(path: Path, data: bytes) -> tuple[str, str | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "file is UTF-16 (read as such)"
    if b"\x00" in data[:8192]:
        raise InvalidInputError(
            f"{path} does not look like a text CSV file (it contains NUL bytes); export it as 'CSV UTF-8'"
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "file is not UTF-8; read as Windows-1252 (cp1252): check £ and accents"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "file is not UTF-8; read as Latin-1 (ISO-8859-1): check accented text"


def _floats(values: list[Any]) -> tuple[list[float | None], list[str | None]]:
    nums, bad = [], []
    for v in values:
        n, b = _number(v)
        nums.append(n)
        bad.append(b)
    return nums, bad


def _read_csv(path: Path, input_crs: str | None) -> _Raw:
    text, enc_note = _decode_text(path, path.read_bytes())
    first = text.split("\n", 1)[0]
    delim = (
        "\t"
        if path.suffix.lower() == ".tsv" or ("\t" in first and "," not in first)
        else (";" if ";" in first and "," not in first else ",")
    )
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as err:
        raise InvalidInputError(f"cannot parse {path} as CSV: {err}") from err
    if not rows:
        raise InvalidInputError(f"{path} is empty: expected a header row and one row per application")
    header = [_norm_col(h) for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    notes = [enc_note] if enc_note else []
    if len(rows) - 1 - len(body):
        notes.append(f"skipped {len(rows) - 1 - len(body)} blank line(s)")
    pre: list[list[str]] = []
    raw_rows: list[dict[str, Any]] = []
    for r in body:
        reasons = []
        if len(r) != len(header):
            reasons.append(
                f"row has {len(r)} fields but the header has {len(header)} (check quoting of commas)"
            )
        raw_rows.append(dict(zip(header, r + [""] * (len(header) - len(r)), strict=True)))
        pre.append(reasons)
    wkt_col = next((c for c in _WKT if c in header), None)
    lat_col = next((c for c in _LAT if c in header), None)
    lon_col = next((c for c in _LON if c in header), None)
    e_col = next((c for c in _EAST if c in header), None)
    n_col = next((c for c in _NORTH if c in header), None)
    geoms: list[shapely.Geometry | None] = []
    crs: CRS | None = None
    declared = False
    check_rows = True
    geometry_cols: set[str] = set()
    failed: set[int] = set()
    if wkt_col:
        geometry_cols = {wkt_col}
        for rec, reasons in zip(raw_rows, pre, strict=True):
            w = (rec.get(wkt_col) or "").strip()
            w = re.sub(r"(?i)^srid=\d+;", "", w)
            if not w:
                geoms.append(None)
                continue
            try:
                geoms.append(shapely.from_wkt(w))
            except Exception as err:  # GEOS parse error
                reasons.append(f"geometry is not valid WKT ({str(err).splitlines()[0][:120]})")
                failed.add(len(geoms))
                geoms.append(None)
        if input_crs:
            crs, declared = _crs_from_user(input_crs, path), True
        if lat_col or e_col:
            notes.append(f"both a '{wkt_col}' column and coordinate columns: the WKT was used")
    elif (lat_col and lon_col) or (e_col and n_col):
        latlon = bool(lat_col and lon_col)
        a_col, b_col = (lon_col, lat_col) if latlon else (e_col, n_col)
        assert a_col and b_col
        geometry_cols = {a_col, b_col}
        xs, xbad = _floats([r.get(a_col) for r in raw_rows])
        ys, ybad = _floats([r.get(b_col) for r in raw_rows])
        crs, declared, check_rows = CRS.from_user_input(WGS84 if latlon else BNG), True, False
        if input_crs:
            why = "latitude/longitude are EPSG:4326" if latlon else "easting/northing are EPSG:27700"
            notes.append(f"input_crs={input_crs!r} ignored: {why}")
        for x, y, xb, yb, reasons in zip(xs, ys, xbad, ybad, pre, strict=True):
            if xb is not None or yb is not None:
                labels = ("longitude", "latitude") if latlon else ("easting", "northing")
                for label, b in zip(labels, (xb, yb), strict=True):
                    if b is not None:
                        reasons.append(f"{label} {b!r} is not a number")
                failed.add(len(geoms))
                geoms.append(None)
                continue
            if x is None or y is None:
                geoms.append(None)
                continue
            if latlon:
                problems = _lonlat_column_problems(x, y)
            elif _within(LONLAT_BOUNDS, (x, y, x, y)):
                problems = [
                    "coordinates look like longitude/latitude but the file declares EPSG:27700 "
                    "(British National Grid): use latitude/longitude columns"
                ]
            else:
                problems = []
            if problems:
                reasons.extend(problems)
                failed.add(len(geoms))
            geoms.append(shapely.Point(x, y))
    else:
        raise InvalidInputError(
            f"{path}: no geometry or coordinate columns found (columns: {', '.join(header) or 'none'}). "
            "Add a 'wkt' column with the site boundary, or 'latitude'/'longitude' (or 'easting'/'northing') "
            "plus 'site_area_ha'"
        )
    columns = [c for c in header if c not in geometry_cols]
    records, ignored = _canonical_records(
        [{k: v for k, v in r.items() if k in columns} for r in raw_rows], columns
    )
    if ignored:
        notes.append(f"ignored columns: {', '.join(ignored)}")
    return _Raw(
        records, geoms, pre, crs, declared, notes, columns, check_crs_rows=check_rows, geom_failed=failed
    )


def _lonlat_column_problems(lon: float, lat: float) -> list[str]:
    if _within(LONLAT_BOUNDS, (lat, lon, lat, lon)) and not _within(LONLAT_BOUNDS, (lon, lat, lon, lat)):
        return ["latitude and longitude look swapped"]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        if _within(BNG_BOUNDS, (lon, lat, lon, lat)) or _within(BNG_BOUNDS, (lat, lon, lat, lon)):
            return [
                "coordinates look like British National Grid metres but the columns are "
                "latitude/longitude: use easting/northing columns"
            ]
        return [f"latitude {lat} / longitude {lon} out of range"]
    return []


# --------------------------------------------------------------------------------------------------
# coordinate plausibility


def _within(bounds: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return bounds[0] <= b[0] and b[2] <= bounds[2] and bounds[1] <= b[1] and b[3] <= bounds[3]


def _coord_kind(b: tuple[float, float, float, float]) -> str:
    """'lonlat', 'bng' or 'other' from a geometry's bounds."""
    if _within(LONLAT_BOUNDS, b):
        return "lonlat"
    if _within(BNG_BOUNDS, b) and max(abs(v) for v in b) > 1_000:
        return "bng"
    return "other"


def _crs_label(crs: CRS) -> str:
    if crs.to_string().upper().endswith("CRS84"):
        return "EPSG:4326"
    epsg = crs.to_epsg()
    if epsg == 4326:
        return "EPSG:4326"
    return f"EPSG:{epsg}" if epsg else crs.to_string()


# --------------------------------------------------------------------------------------------------
# the shared pipeline


def read_applications(
    path: str | Path,
    *,
    land: gpd.GeoDataFrame | None = None,
    input_crs: str | None = None,
    layer: str | None = None,
) -> ApplicationBatch:
    """Read and check an applications file.

    Parameters
    ----------
    path
        GeoJSON (.geojson/.json), GeoPackage (.gpkg), Shapefile (.shp or zipped .zip) or CSV. A CSV
        holds either a ``wkt`` (or ``geometry``) column with the site boundary, or
        ``latitude``/``longitude`` (aliases lat, lon, lng) or ``easting``/``northing`` with
        ``site_area_ha``. See :data:`APPLICATION_SCHEMA`.
    land
        GB land polygons (England, Scotland, Wales) in EPSG:27700, for the outside-GB / in-the-sea
        checks. When None those checks are skipped and a note says so.
    input_crs
        CRS of the coordinates when the file carries none (CSV WKT) or to override the file's.
        Default: detected from the coordinate ranges (lon/lat or British National Grid), with a note.
    layer
        Layer name for multi-layer files (GeoPackage).

    Returns
    -------
    ApplicationBatch
        Accepted sites in EPSG:27700, rejected rows with reasons, warnings and notes.

    Raises
    ------
    InvalidInputError
        Only when the file as a whole is unusable; bad rows are rejected, never raised.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(
            f"applications file not found: {path} (relative to {Path.cwd()}); check the path"
        )
    if path.is_dir():
        raise InvalidInputError(f"{path} is a directory; give the applications file itself")
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        raw = _read_csv(path, input_crs)
    elif suffix in (".geojson", ".json"):
        raw = _read_geojson(path)
    elif suffix in _VECTOR_SUFFIXES:
        raw = _read_ogr(path, layer)
    else:
        raise InvalidInputError(
            f"{path}: unsupported file type '{suffix}'. Use GeoJSON, GeoPackage, "
            "Shapefile (.shp or .zip) or CSV (for Excel: 'Save as CSV UTF-8')"
        )
    if not raw.records:
        raise InvalidInputError(f"{path} contains no applications (no data rows/features)")
    if input_crs and suffix not in _CSV_SUFFIXES:
        new = _crs_from_user(input_crs, path)
        if raw.crs is not None and not raw.crs.equals(new):
            raw.notes.append(f"input_crs {input_crs} overrides the file's CRS {_crs_label(raw.crs)}")
        raw.crs, raw.crs_declared = new, True
    return _check(raw, path, land)


def _check(raw: _Raw, path: Path, land: gpd.GeoDataFrame | None) -> ApplicationBatch:
    """Run every row check; each problem is appended to that row's reasons (reject) or warnings."""
    n = len(raw.records)
    notes = list(raw.notes)
    reasons = [list(r) for r in raw.pre_reasons]
    warns: list[list[str]] = [[] for _ in range(n)]
    cols = {c for r in raw.records for c in r}
    for required, label in (("id", "id"), ("mw", "mw (capacity)")):
        if required not in cols:
            notes.append(f"no '{label}' column: every row is rejected for it")
    ids, attrs = _parse_attributes(raw.records, reasons, warns)
    geoms, is_point = _source_geometries(raw, attrs["site_area_ha"], reasons, warns)
    crs = _resolve_crs(raw, geoms, path, notes)
    if raw.check_crs_rows:
        _reject_wrong_crs_rows(geoms, crs, raw.crs_declared, reasons)
    sites_bng = _sites_in_bng(geoms, is_point, attrs["site_area_ha"], crs, reasons, warns)
    area_ha = {i: g.area / 10_000 for i, g in sites_bng.items()}
    for i, a in area_ha.items():
        stated = attrs["site_area_ha"][i]
        if a < AREA_MIN_HA:
            reasons[i].append(
                f"site area {_fmt(a)} ha is implausibly small for a data-centre campus (< 1 ha)"
            )
        elif a > AREA_MAX_HA:
            reasons[i].append(
                f"site area {_fmt(a)} ha is implausibly large for a data-centre campus (> 5,000 ha)"
            )
        elif not is_point[i] and not math.isnan(stated) and abs(stated - a) > 0.2 * a:
            warns[i].append(f"stated site_area_ha {_fmt(stated)} differs from the boundary area {_fmt(a)} ha")
    if land is None:
        notes.append("no GB land layer given: the outside-Great-Britain and in-the-sea checks were skipped")
    else:
        keys = list(sites_bng)
        for i, why in zip(keys, _land_problems([sites_bng[i] for i in keys], land), strict=True):
            if why:
                reasons[i].append(why)
    for i in range(n):  # belt and braces for the invariant: nothing is accepted without a geometry
        if not reasons[i] and i not in sites_bng:
            reasons[i].append("empty geometry")
    batch = _assemble(ids, attrs, sites_bng, area_ha, reasons, warns, notes, path)
    log.info("%s: %s", path, batch.summary())
    return batch


def _parse_attributes(
    records: list[dict[str, Any]], reasons: list[list[str]], warns: list[list[str]]
) -> tuple[list[str | None], dict[str, list[Any]]]:
    """ids and parsed attribute columns; problems go to ``reasons``/``warns`` row by row."""
    ids: list[str | None] = []
    out: dict[str, list[Any]] = {
        k: [] for k in ("name", "applicant", "notes", "mw", "target_year", "site_area_ha", *EVIDENCE_FIELDS)
    }
    first_seen: dict[str, int] = {}
    for i, rec in enumerate(records):
        rid = clean_text(rec.get("id"))
        ids.append(rid)
        if rid is None:
            reasons[i].append("missing id")
        elif rid in first_seen:
            reasons[i].append(f"duplicate id '{rid}' (first at row {first_seen[rid] + 1})")
        else:
            first_seen[rid] = i
        for k in ("name", "applicant", "notes"):
            out[k].append(clean_text(rec.get(k)))
        mw, bad = _number(rec.get("mw"))
        if bad is not None:
            reasons[i].append(f"capacity {bad!r} is not a number")
        elif mw is None:
            reasons[i].append("missing capacity (mw)")
        elif mw <= 0:
            reasons[i].append(f"capacity {_fmt(mw)} MW must be greater than 0")
        elif mw > MW_MAX:
            reasons[i].append(f"capacity {_fmt(mw)} MW is implausibly large (> {MW_MAX:,.0f} MW)")
        out["mw"].append(mw if mw is not None else math.nan)
        year, bad = _number(rec.get("target_year"))
        if bad is not None or (year is not None and not float(year).is_integer()):
            reasons[i].append(f"target year {bad if bad is not None else year!r} is not a whole year")
            year = None
        elif year is not None and not YEAR_MIN <= year <= YEAR_MAX:
            reasons[i].append(f"target year {int(year)} is outside {YEAR_MIN}..{YEAR_MAX}")
            year = None
        out["target_year"].append(int(year) if year is not None else pd.NA)
        area, bad = _number(rec.get("site_area_ha"))
        if bad is not None:
            reasons[i].append(f"site_area_ha {bad!r} is not a number")
        elif area is not None and area <= 0:
            reasons[i].append(f"site_area_ha {_fmt(area)} must be greater than 0")
            area = None
        out["site_area_ha"].append(area if area is not None else math.nan)
        for ev in EVIDENCE_FIELDS:
            value, understood = parse_evidence(rec.get(ev))
            if not understood:
                warns[i].append(
                    f"{ev} value {clean_text(rec.get(ev))!r} not understood "
                    "(expected yes/no/unknown); treated as unknown"
                )
            out[ev].append(value)
    return ids, out


def _source_geometries(
    raw: _Raw, site_area_ha: list[float], reasons: list[list[str]], warns: list[list[str]]
) -> tuple[list[shapely.Geometry | None], list[bool]]:
    """2-D polygonal geometries (or points with an area) in the source CRS; None where rejected."""
    geoms: list[shapely.Geometry | None] = [None] * len(raw.geoms)
    is_point = [False] * len(raw.geoms)
    for i, g in enumerate(raw.geoms):
        if i in raw.geom_failed:
            continue
        if g is None or g.is_empty:
            reasons[i].append("empty geometry")
            continue
        g = shapely.force_2d(g)
        if not np.isfinite(shapely.get_coordinates(g)).all():
            reasons[i].append("geometry has non-finite coordinates")
            continue
        gtype = g.geom_type
        if gtype == "MultiPoint" and len(g.geoms) == 1:
            g, gtype = g.geoms[0], "Point"
        if gtype == "Point":
            if math.isnan(site_area_ha[i]):
                reasons[i].append(
                    "a point location needs site_area_ha (or give the site boundary as a polygon)"
                )
                continue
            is_point[i] = True
        elif gtype not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            reasons[i].append(
                f"geometry type {gtype} is not a site boundary (expected Polygon or "
                "MultiPolygon, or a Point with site_area_ha)"
            )
            continue
        elif not g.is_valid or gtype == "GeometryCollection":
            why = shapely.is_valid_reason(g)
            fixed = _polygonal(shapely.make_valid(g))
            if fixed.is_empty:
                reasons[i].append(f"invalid geometry that cannot be repaired: {why}")
                continue
            if why != "Valid Geometry":
                warns[i].append(f"geometry repaired: {why}")
            g = fixed
        geoms[i] = g
    return geoms, is_point


def _resolve_crs(raw: _Raw, geoms: list[shapely.Geometry | None], path: Path, notes: list[str]) -> CRS:
    """The declared CRS, or one decided from the coordinate ranges of most rows (with a note)."""
    if raw.crs is not None:
        return raw.crs
    kinds = [_coord_kind(tuple(g.bounds)) for g in geoms if g is not None]
    n_lonlat, n_bng = kinds.count("lonlat"), kinds.count("bng")
    if not kinds:
        return CRS.from_user_input(BNG)  # nothing to transform: every row is already rejected
    if n_lonlat == n_bng == 0:
        b = shapely.total_bounds([g for g in geoms if g is not None])
        raise InvalidInputError(
            f"{path} declares no CRS and its coordinates ({b[0]:.6g}..{b[2]:.6g}, {b[1]:.6g}..{b[3]:.6g}) "
            "look like neither longitude/latitude in GB nor British National Grid metres; "
            "pass input_crs (--crs), e.g. 'EPSG:4326' or 'EPSG:27700'"
        )
    if n_lonlat >= n_bng:
        notes.append(
            "no CRS declared; coordinates look like longitude/latitude, so EPSG:4326 (WGS84) was assumed"
        )
        return CRS.from_user_input(WGS84)
    notes.append(
        "no CRS declared; coordinates look like British National Grid metres, so EPSG:27700 was assumed"
    )
    return CRS.from_user_input(BNG)


def _reject_wrong_crs_rows(
    geoms: list[shapely.Geometry | None], crs: CRS, declared: bool, reasons: list[list[str]]
) -> None:
    """Reject rows whose coordinates belong to the other CRS (lon/lat in a BNG file and vice versa)."""
    label = _crs_label(crs)
    how = "the file declares" if declared else "the file's CRS was taken as"
    is_bng = crs.to_epsg() == 27700  # once: to_epsg() can take ~50 ms (CRS84 searches the database)
    for i, g in enumerate(geoms):
        if g is None:
            continue
        b = g.bounds
        kind = _coord_kind(b)
        why = None
        if crs.is_geographic and not (-180 <= b[0] and b[2] <= 180 and -90 <= b[1] and b[3] <= 90):
            why = (
                f"coordinates look like British National Grid metres but {how} {label}"
                if kind == "bng"
                else f"coordinates are out of range for {label} (longitude/latitude)"
            )
        elif is_bng and kind == "lonlat":
            why = f"coordinates look like longitude/latitude but {how} EPSG:27700 (British National Grid)"
        elif is_bng and not _within((-50_000, -50_000, 750_000, 1_350_000), b):
            why = "outside Great Britain (coordinates beyond the British National Grid extent)"
        if why:
            reasons[i].append(why)
            geoms[i] = None


def _sites_in_bng(
    geoms: list[shapely.Geometry | None],
    is_point: list[bool],
    site_area_ha: list[float],
    crs: CRS,
    reasons: list[list[str]],
    warns: list[list[str]],
) -> dict[int, shapely.Geometry]:
    """Row position -> site polygon in EPSG:27700 (OSTN15); points become circles of their area."""
    todo = [i for i, g in enumerate(geoms) if g is not None]
    if not todo:
        return {}
    src = gpd.GeoDataFrame({"i": todo}, geometry=[geoms[i] for i in todo], crs=crs)
    with np.errstate(invalid="ignore"):
        moved, _record = to_bng(src)
    out: dict[int, shapely.Geometry] = {}
    for i, g in zip(todo, moved.geometry.values, strict=True):
        if g is None or g.is_empty or not np.isfinite(shapely.get_coordinates(g)).all():
            reasons[i].append(f"coordinates could not be transformed from {crs.to_string()} to EPSG:27700")
            continue
        if is_point[i]:
            g = circle_of_area(g, site_area_ha[i])
            warns[i].append(f"site boundary approximated by a circle of {_fmt(site_area_ha[i])} ha")
        out[i] = g
    return out


def _assemble(
    ids: list[str | None],
    attrs: dict[str, list[Any]],
    sites_bng: dict[int, shapely.Geometry],
    area_ha: dict[int, float],
    reasons: list[list[str]],
    warns: list[list[str]],
    notes: list[str],
    path: Path,
) -> ApplicationBatch:
    n = len(ids)
    acc = [i for i in range(n) if not reasons[i]]
    rej = [i for i in range(n) if reasons[i]]

    def col(values: list[Any], dtype: str) -> Any:
        return pd.array(values, dtype=dtype)

    data = {
        "row": col([i + 1 for i in acc], "int64"),
        **{k: col([attrs[k][i] for i in acc], "str") for k in ("name", "applicant")},
        "mw": col([attrs["mw"][i] for i in acc], "float64"),
        "target_year": col([attrs["target_year"][i] for i in acc], "Int64"),
        **{k: col([attrs[k][i] for i in acc], "float64") for k in (*EVIDENCE_FIELDS, "site_area_ha")},
        "area_ha": col([area_ha[i] for i in acc], "float64"),
        "notes": col([attrs["notes"][i] for i in acc], "str"),
    }
    index = pd.Index([ids[i] for i in acc], name="id", dtype="str")
    geometry = gpd.GeoSeries([sites_bng[i] for i in acc], index=index, crs=BNG)
    sites = gpd.GeoDataFrame(pd.DataFrame(data, index=index), geometry=geometry, crs=BNG)
    rejected = pd.DataFrame(
        {
            "row": col([i + 1 for i in rej], "int64"),
            "id": col([ids[i] for i in rej], "str"),
            "name": col([attrs["name"][i] for i in rej], "str"),
            "reason": col(["; ".join(reasons[i]) for i in rej], "str"),
        }
    )
    wrows = [(i, w) for i in range(n) for w in warns[i]]
    warnings_df = pd.DataFrame(
        {
            "row": col([i + 1 for i, _ in wrows], "int64"),
            "id": col([ids[i] for i, _ in wrows], "str"),
            "warning": col([w for _, w in wrows], "str"),
        }
    )
    batch = ApplicationBatch(sites, rejected, warnings_df, n, notes, str(path))
    assert len(batch.sites) + len(batch.rejected) == batch.input_count
    return batch


def circle_of_area(point: shapely.Point, area_ha: float) -> shapely.Polygon:
    """A regular polygon centred on ``point`` (BNG) whose area is exactly ``area_ha``."""
    k = 4 * _CIRCLE_SEGMENTS
    radius = math.sqrt(area_ha * 10_000 / (k / 2 * math.sin(2 * math.pi / k)))
    return point.buffer(radius, quad_segs=_CIRCLE_SEGMENTS)


def land_parts(land: gpd.GeoDataFrame) -> np.ndarray:
    """Polygon parts of a land layer in EPSG:27700 (reprojected with OSTN15 if needed)."""
    if land.crs is not None and land.crs.to_epsg() != 27700:
        land, _ = to_bng(land)
    geoms = land.geometry.values
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    return parts[np.isin(shapely.get_type_id(parts), [3])]


def _land_problems(geoms: list[shapely.Geometry], land: gpd.GeoDataFrame) -> list[str | None]:
    """None for sites touching GB land, else 'in the sea, X km offshore' / 'outside Great Britain (...)'."""
    if not geoms:
        return []
    parts = land_parts(land)
    arr = np.asarray(geoms, dtype=object)
    if len(parts) == 0:
        return ["outside Great Britain (the land layer is empty)"] * len(geoms)
    tree = shapely.STRtree(parts)
    hit = np.zeros(len(arr), dtype=bool)
    src, _ = tree.query(arr, predicate="intersects")
    hit[src] = True
    result: list[str | None] = [None] * len(arr)
    miss = np.flatnonzero(~hit)
    if len(miss):
        (src, _), dist = tree.query_nearest(arr[miss], return_distance=True, all_matches=False)
        for j, d in zip(src, dist, strict=True):
            km = d / 1000
            result[miss[j]] = (
                f"in the sea, {km:.1f} km offshore"
                if km < SEA_KM
                else f"outside Great Britain (nearest GB land is {km:,.0f} km away)"
            )
    return result

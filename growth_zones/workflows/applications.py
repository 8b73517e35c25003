"""Read, check and normalise a file of AI Growth Zone applications (candidate sites).

The public entry point is :func:`read_applications`. It never raises for a bad *row*: every input
row ends up either in :attr:`ApplicationBatch.sites` (accepted, EPSG:27700, indexed by ``id``) or
in :attr:`ApplicationBatch.rejected` with its row number, id and every reason. Only a file that is
unusable as a whole (missing, unreadable, empty, no geometry or coordinate columns, CRS that cannot
be told) raises :class:`~growth_zones.errors.InvalidInputError`.

The invariant ``len(sites) + len(rejected) == input_count`` always holds.

Text is kept verbatim apart from control characters: escaping for HTML is the report's job, and
escaping formulas for spreadsheets is the CSV writer's. Ids are normalised (Unicode NFKC, invisible
characters removed, outer space stripped, inner space collapsed) and compared without case, so
``GZ-1``, ``gz-1`` and ``GZ\u200b-1`` are one id. A text field longer than
:attr:`ApplicationRules.max_text_chars` rejects its row.

Geometry sanity: a site whose parts lie more than :attr:`ApplicationRules.max_part_gap_km` apart
is rejected (one application per site); so is a site with less than
:attr:`ApplicationRules.min_land_share` of its area on GB land, and one between that and 100% is
assessed with a warning giving the share. Every indicator is then taken for one site: distances and
designation overlaps for the whole boundary, and local authority, nation, population and round-trip
time at its representative point (:func:`shapely.point_on_surface`), which always lies inside it.

CRS: every declared CRS is honoured by its datum (:func:`growth_zones.data.crs.to_bng`: OSGB36
lon/lat, ETRS89, WGS84, BNG, ...); a vertical, geocentric or unknown CRS is an error naming it, and
coordinates in the Irish Grid (or Irish Transverse Mercator) are rejected as outside Great Britain.
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

from ..data.crs import crs_problem, horizontal_crs, is_irish_grid, to_bng
from ..data.validate import _polygonal
from ..errors import InvalidInputError
from ..settings import BNG, WGS84

log = logging.getLogger(__name__)

__all__ = [
    "APPLICATION_SCHEMA",
    "SITE_COLUMNS",
    "ApplicationBatch",
    "ApplicationRules",
    "normalise_id",
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


@dataclass(frozen=True)
class ApplicationRules:
    """Limits and thresholds of the row checks (pass your own to ``read_applications(rules=...)`` /
    ``api.assess(rules=...)``).

    Attributes
    ----------
    max_part_gap_km
        Largest distance allowed between two parts of one site (MultiPolygon). A campus split by a
        road or a river is one site; parts 534 km apart are two bids, and taking one council from
        one part and a substation from the other would assess neither.
    min_land_share
        Smallest share of the site's area on GB land; a site between this and 100% is assessed
        with a warning giving its share.
    land_tolerance_m
        GB land is the ONS ultra-generalised (500 m) country boundary: a site within this distance
        of it counts as on land, so a quayside site is not "in the sea" because the generalised
        coastline cuts the harbour.
    max_text_chars
        Longest text accepted in any field (id, name, applicant, notes, ...): a longer value rejects
        the row (a 48 MB name once produced 1.3 GB of HTML).
    max_vertices
        Most vertices accepted in one site boundary.
    max_geometry_chars
        Longest WKT (CSV) site boundary read; longer is rejected before it is parsed.
    """

    max_part_gap_km: float = 5.0
    min_land_share: float = 0.9
    land_tolerance_m: float = 500.0
    max_text_chars: int = 10_000
    max_vertices: int = 100_000
    max_geometry_chars: int = 5_000_000


DEFAULT_RULES = ApplicationRules()

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
    "gb_land_share",
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
    if isinstance(value, (dict, list)):  # JSON objects/arrays where text was expected: keep them readable
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (ValueError, RecursionError):
            text = "<nested value>"
    else:
        text = str(value)
    text = "".join(
        " " if ch in "\t\n\r" else ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc"
    )
    text = text.strip()
    return text or None


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064"))


def _id_changes(text: str) -> str:
    """What :func:`normalise_id` changed in ``text``, in words (for the row's warning)."""
    what = []
    if text.translate(_INVISIBLE) != text:
        what.append("invisible characters removed")
    visible = text.translate(_INVISIBLE)
    folded = unicodedata.normalize("NFKC", visible)
    if folded != visible:
        if any(unicodedata.east_asian_width(c) == "F" for c in visible):
            what.append("full-width characters folded to ordinary ones by Unicode NFKC")
        else:
            what.append("compatibility characters such as non-breaking spaces folded by Unicode NFKC")
    if " ".join(folded.split()) != folded:
        what.append("spacing normalised")
    return "; ".join(what) or "normalised by Unicode NFKC"


def normalise_id(value: Any) -> str | None:
    """An application id as compared and stored: Unicode NFKC (a non-breaking space becomes a space,
    full-width letters plain ones), zero-width and other invisible characters removed, control
    characters removed, outer space stripped and inner runs of space made one. Missing -> None."""
    text = clean_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = " ".join(text.split())
    return text or None


def _id_key(rid: str) -> str:
    """What two ids must share to be the same application: the normalised id, ignoring case."""
    return rid.casefold()


def _echo(value: Any, limit: int = 60) -> str:
    """A user value quoted inside a message, cut to ``limit`` characters (a message never carries a
    multi-megabyte field)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return f"{text[:limit]!r}… ({len(text):,} characters)"
    return repr(text)


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
    pre_warnings: list[list[str]] = field(default_factory=list)


def _norm_col(name: Any) -> str:
    return re.sub(r"\s+", "_", unicodedata.normalize("NFKC", str(name)).strip().lower())


def _is_blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _canonical_records(
    rows: Iterable[dict[str, Any]], columns: list[str]
) -> tuple[list[dict[str, Any]], list[str], list[list[str]]]:
    """Map columns to canonical names, row by row.

    Every column whose name (case-insensitive) is a field or an alias of one maps to it, so a file
    mixing ``id`` and ``ID`` keys (GeoJSON features need not share keys) reads every row's id. When
    one row fills two columns of the same field with different values, the first column wins and
    the row gets a warning. Returns the records, the ignored column names and per-row warnings.
    """
    mapping: dict[str, str] = {}
    for col in columns:
        canon = _ALIASES.get(_norm_col(col))
        if canon:
            mapping[col] = canon
    ignored = [c for c in columns if c not in mapping]
    multi = {c for c in set(mapping.values()) if list(mapping.values()).count(c) > 1}
    records: list[dict[str, Any]] = []
    warns: list[list[str]] = []
    for r in rows:
        rec: dict[str, Any] = {}
        w: list[str] = []
        source: dict[str, str] = {}
        for k, v in r.items():
            canon = mapping.get(k)
            if canon is None:
                continue
            if canon not in multi:
                rec[canon] = v
                continue
            if _is_blank(v):
                rec.setdefault(canon, v)
                continue
            if canon in rec and not _is_blank(rec[canon]):
                if clean_text(rec[canon]) != clean_text(v):
                    w.append(
                        f"both {_echo(source[canon], 30)} and {_echo(k, 30)} are given for {canon}: "
                        f"used {_echo(source[canon], 30)} ({_echo(clean_text(rec[canon]) or '')})"
                    )
                continue
            rec[canon] = v
            source[canon] = str(k)
        records.append(rec)
        warns.append(w)
    return records, ignored, warns


def _ignored_note(ignored: list[Any]) -> list[str]:
    """A note listing ignored columns (names cut to 40 characters, at most 20 listed)."""
    if not ignored:
        return []
    names = [str(c) if len(str(c)) <= 40 else f"{str(c)[:40]}…" for c in ignored[:20]]
    more = f" and {len(ignored) - 20} more" if len(ignored) > 20 else ""
    return [f"ignored columns: {', '.join(names)}{more}"]


def _crs_from_user(value: Any, path: Path) -> CRS:
    try:
        crs = CRS.from_user_input(value)
    except Exception as err:  # pyproj raises CRSError; keep the message
        raise InvalidInputError(
            f"{path}: cannot understand the CRS {_echo(value, 80)} ({str(err)[:200]}); "
            "give it as e.g. 'EPSG:27700' or 'EPSG:4326'"
        ) from err
    return _usable_crs(crs, path)


def _usable_crs(crs: CRS, path: Path) -> CRS:
    """The horizontal CRS of a file, or an :class:`InvalidInputError` naming a CRS that cannot place
    sites (vertical such as EPSG:5701 heights, geocentric, engineering)."""
    problem = crs_problem(crs)
    if problem:
        raise InvalidInputError(
            f"{path}: the CRS {_crs_label(crs)} ({crs.name}) is a {problem}; declare the CRS of the site "
            "coordinates instead, e.g. EPSG:27700 (British National Grid) or EPSG:4326 (longitude/latitude)"
        )
    return horizontal_crs(crs)  # type: ignore[no-any-return]


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


_CRS_MEMBER = 'give it as "crs": {"type": "name", "properties": {"name": "EPSG:27700"}} or leave it out'


def _geojson_crs(doc: dict[str, Any], path: Path) -> CRS | None:
    member = doc.get("crs")
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    if not isinstance(props, dict):
        raise InvalidInputError(
            f"{path}: the 'crs' member is {_json_kind(member)}"
            + (f" whose 'properties' is {_json_kind(props)}" if isinstance(member, dict) else "")
            + f"; {_CRS_MEMBER}"
        )
    name = props.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        return None
    if not isinstance(name, str):
        raise InvalidInputError(f"{path}: the 'crs' name is {_json_kind(name)}, not text; {_CRS_MEMBER}")
    return _crs_from_user(name, path)


def _read_geojson(path: Path) -> _Raw:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInputError(
            f"{path} is not valid GeoJSON ({str(err)[:200]}); save it as UTF-8 GeoJSON "
            "(RFC 7946) or use a GeoPackage/Shapefile/CSV"
        ) from err
    except RecursionError as err:
        raise InvalidInputError(
            f"{path} is not usable GeoJSON: its JSON is nested too deeply to read (a site boundary needs "
            "at most 4 levels of arrays)"
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
    crs = _geojson_crs(doc, path)
    records: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry | None] = []
    pre: list[list[str]] = []
    columns: dict[str, None] = {}
    failed: set[int] = set()
    for feat in features:
        reasons: list[str] = []
        geom = None
        if not isinstance(feat, dict):
            reasons.append(f"feature is {_json_kind(feat)}, not a GeoJSON Feature object")
            failed.add(len(records))
            props: dict[str, Any] = {}
        else:
            raw_props = feat.get("properties")
            if raw_props is None:
                props = {}
            elif isinstance(raw_props, dict):
                props = dict(raw_props)
            else:
                props = {}
                reasons.append(
                    f"properties is {_json_kind(raw_props)}, not an object of fields (id, name, mw, ...)"
                )
            has_id = "id" in {_norm_col(k) for k in props}
            if not has_id and feat.get("id") is not None:
                props["id"] = feat["id"]
            gj = feat.get("geometry")
            if gj is not None:
                try:
                    geom = shapely.geometry.shape(gj)
                except Exception as err:  # noqa: BLE001 - shapely/GEOS: malformed coordinates, short rings
                    why = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
                    reasons.append(f"invalid geometry that cannot be repaired: {why}")
                    failed.add(len(records))
        for k in props:
            columns.setdefault(k, None)
        records.append(props)
        geoms.append(geom)
        pre.append(reasons)
    cols = list(columns)
    canon, ignored, warns = _canonical_records(records, cols)
    return _Raw(
        canon,
        geoms,
        pre,
        crs,
        crs is not None,
        _ignored_note(ignored),
        cols,
        geom_failed=failed,
        pre_warnings=warns,
    )


_SHP_PARTS = (".shp", ".shx", ".dbf")


def _shapefile_source(path: Path, layer: str | None) -> str:
    """What to hand GDAL for ``path``: a ``.shp`` whose ``.shx`` and ``.dbf`` are present, or the
    ``.shp`` inside a zip (at any folder depth) as a ``/vsizip/`` path. A missing part or an
    ambiguous zip is an :class:`InvalidInputError` naming what is missing."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        siblings = {p.name.lower() for p in path.parent.iterdir()} if path.parent.is_dir() else set()
        missing = [ext for ext in _SHP_PARTS[1:] if f"{path.stem}{ext}".lower() not in siblings]
        if missing:
            raise InvalidInputError(
                f"{path}: the shapefile has no {' or '.join(missing)} beside it ("
                + ("the attribute table with id, mw, ..." if ".dbf" in missing else "the shape index")
                + "); give all of .shp, .shx, .dbf (and .prj), or zip them together"
            )
        return str(path)
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as err:
        raise InvalidInputError(f"{path} is not a readable zip file ({err})") from err
    shps = [n for n in names if n.lower().endswith(".shp")]
    if layer:
        shps = [n for n in shps if Path(n).stem == layer or n == layer]
    if not shps:
        raise InvalidInputError(
            f"{path}: no shapefile (.shp) inside the zip"
            + (f" named {layer!r}" if layer else "")
            + f" (it holds {', '.join(names[:10]) or 'nothing'}); zip the .shp, .shx, .dbf and .prj of the sites"
        )
    if len(shps) > 1:
        raise InvalidInputError(
            f"{path} holds {len(shps)} shapefiles ({', '.join(shps[:10])}); choose one with layer=... (--layer)"
        )
    shp = shps[0]
    stem = shp[: -len(".shp")].lower()
    lower = {n.lower() for n in names}
    missing = [ext for ext in _SHP_PARTS[1:] if f"{stem}{ext}" not in lower]
    if missing:
        raise InvalidInputError(
            f"{path}: {shp} has no {' or '.join(missing)} beside it in the zip ("
            + ("the attribute table with id, mw, ..." if ".dbf" in missing else "the shape index")
            + "); zip all of .shp, .shx, .dbf (and .prj) together"
        )
    return f"/vsizip/{path}/{shp}"


def _read_ogr(path: Path, layer: str | None) -> _Raw:
    import pyogrio

    source = str(path)
    if path.suffix.lower() in (".shp", ".zip"):
        source = _shapefile_source(path, layer)
        layer = None
    try:
        layers = pyogrio.list_layers(source)
    except Exception as err:  # noqa: BLE001 - GDAL errors on an unreadable file, named
        raise InvalidInputError(
            f"cannot open {path} as a vector file ({str(err)[:200]}); supported: GeoJSON, "
            "GeoPackage, Shapefile (.shp or .zip) and CSV"
        ) from err
    if layer is None and len(layers) > 1:
        names = ", ".join(str(n) for n in layers[:, 0])
        raise InvalidInputError(
            f"{path} has {len(layers)} layers ({names}); choose one with layer=... (--layer)"
        )
    try:
        gdf = pyogrio.read_dataframe(source, layer=layer, on_invalid="ignore")
    except Exception as err:  # noqa: BLE001 - GDAL errors, named
        raise InvalidInputError(
            f"cannot read {path}{f' layer {layer!r}' if layer else ''}: {str(err)[:200]}"
        ) from err
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InvalidInputError(f"{path} has no geometry column: give site boundaries (polygons)")
    crs = _usable_crs(gdf.crs, path) if gdf.crs is not None else None
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    rows = gdf[columns].astype(object).where(gdf[columns].notna(), None).to_dict("records")
    records, ignored, warns = _canonical_records(rows, columns)
    geoms = list(gdf.geometry.values)
    return _Raw(
        records,
        geoms,
        [[] for _ in geoms],
        crs,
        crs is not None,
        _ignored_note(ignored),
        columns,
        pre_warnings=warns,
    )


def _decode_text(path: Path, data: bytes) -> tuple[str, str | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "file is UTF-16 (read as such)"
    head = data[:8192]
    if head.count(b"\x00") > len(head) // 10:  # binary, or UTF-16 without its byte-order mark
        raise InvalidInputError(
            f"{path} does not look like a text CSV file (it contains NUL bytes); export it as 'CSV UTF-8'"
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark on a file that is not UTF-8
        data = data[3:]
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


def _read_csv(path: Path, input_crs: str | None, rules: ApplicationRules = DEFAULT_RULES) -> _Raw:
    text, enc_note = _decode_text(path, path.read_bytes())
    first = text.split("\n", 1)[0]
    delim = (
        "\t"
        if path.suffix.lower() == ".tsv" or ("\t" in first and "," not in first)
        else (";" if ";" in first and "," not in first else ",")
    )
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # one huge cell rejects its row, not the file
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as err:
        raise InvalidInputError(f"cannot parse {path} as CSV: {err}") from err
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise InvalidInputError(f"{path} is empty: expected a header row and one row per application")
    names: list[str] = []
    for h in rows[0]:  # the header as written, made unique ("id", "ID" stay two columns of one field)
        name, k = h, 2
        while name in names:
            name, k = f"{h} ({k})", k + 1
        names.append(name)
    first_of: dict[str, str] = {}
    for name in names:
        first_of.setdefault(_norm_col(name), name)
    header = names
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
        raw_rows.append(dict(zip(header, (r + [""] * len(header))[: len(header)], strict=True)))
        pre.append(reasons)

    def find(aliases: tuple[str, ...]) -> str | None:
        return next((first_of[c] for c in aliases if c in first_of), None)

    wkt_col, lat_col, lon_col, e_col, n_col = (find(a) for a in (_WKT, _LAT, _LON, _EAST, _NORTH))
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
            if len(w) > rules.max_geometry_chars:
                reasons.append(
                    f"site boundary is {len(w):,} characters of WKT (more than {rules.max_geometry_chars:,}): "
                    "simplify the boundary"
                )
                failed.add(len(geoms))
                geoms.append(None)
                continue
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
                        reasons.append(f"{label} {_echo(b)} is not a number")
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
        listed = ", ".join(h if len(h) <= 40 else f"{h[:40]}…" for h in header[:30])
        raise InvalidInputError(
            f"{path}: no geometry or coordinate columns found (columns: {listed or 'none'}). "
            "Add a 'wkt' column with the site boundary, or 'latitude'/'longitude' (or 'easting'/'northing') "
            "plus 'site_area_ha'"
        )
    columns = [c for c in header if c not in geometry_cols]
    records, ignored, warns = _canonical_records(
        [{k: v for k, v in r.items() if k in columns} for r in raw_rows], columns
    )
    notes.extend(_ignored_note(ignored))
    return _Raw(
        records,
        geoms,
        pre,
        crs,
        declared,
        notes,
        columns,
        check_crs_rows=check_rows,
        geom_failed=failed,
        pre_warnings=warns,
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
    rules: ApplicationRules | None = None,
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
        and share-on-land checks. When None those checks are skipped and a note says so.
    input_crs
        CRS of the coordinates when the file carries none (CSV WKT) or to override the file's.
        Default: detected from the coordinate ranges (lon/lat or British National Grid), with a note.
    layer
        Layer name for multi-layer files (GeoPackage; the shapefile's name inside a zip).
    rules
        Limits and thresholds (:class:`ApplicationRules`; default: the documented defaults).

    Returns
    -------
    ApplicationBatch
        Accepted sites in EPSG:27700, rejected rows with reasons, warnings and notes.

    Raises
    ------
    InvalidInputError
        Only when the file as a whole is unusable (it names the file and what was expected); bad
        rows are rejected, never raised.
    """
    rules = rules or DEFAULT_RULES
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(
            f"applications file not found: {path} (relative to {Path.cwd()}); check the path"
        )
    if path.is_dir():
        raise InvalidInputError(f"{path} is a directory; give the applications file itself")
    suffix = path.suffix.lower()
    try:
        if suffix in _CSV_SUFFIXES:
            raw = _read_csv(path, input_crs, rules)
        elif suffix in (".geojson", ".json"):
            raw = _read_geojson(path)
        elif suffix in _VECTOR_SUFFIXES:
            raw = _read_ogr(path, layer)
        else:
            raise InvalidInputError(
                f"{path}: unsupported file type '{suffix}'. Use GeoJSON, GeoPackage, "
                "Shapefile (.shp or .zip) or CSV (for Excel: 'Save as CSV UTF-8')"
            )
    except OSError as err:
        raise InvalidInputError(f"cannot read {path}: {err.strerror or err}") from err
    except MemoryError as err:
        raise InvalidInputError(f"{path} is too large to read into memory") from err
    if not raw.records:
        raise InvalidInputError(f"{path} contains no applications (no data rows/features)")
    if input_crs and suffix not in _CSV_SUFFIXES:
        new = _crs_from_user(input_crs, path)
        if raw.crs is not None and not raw.crs.equals(new):
            raw.notes.append(f"input_crs {input_crs} overrides the file's CRS {_crs_label(raw.crs)}")
        raw.crs, raw.crs_declared = new, True
    return _check(raw, path, land, rules)


def _check(raw: _Raw, path: Path, land: gpd.GeoDataFrame | None, rules: ApplicationRules) -> ApplicationBatch:
    """Run every row check; each problem is appended to that row's reasons (reject) or warnings."""
    n = len(raw.records)
    notes = list(raw.notes)
    reasons = [list(r) for r in raw.pre_reasons]
    warns: list[list[str]] = [list(w) for w in raw.pre_warnings] or [[] for _ in range(n)]
    cols = {c for r in raw.records for c in r}
    for required, label in (("id", "id"), ("mw", "mw (capacity)")):
        if required not in cols:
            notes.append(f"no '{label}' column: every row is rejected for it")
    ids, attrs = _parse_attributes(raw.records, reasons, warns, rules)
    geoms, is_point = _source_geometries(raw, attrs["site_area_ha"], reasons, warns, rules)
    crs = _resolve_crs(raw, geoms, path, notes)
    if is_irish_grid(crs):
        why = (
            f"outside Great Britain: the coordinates are in {_crs_label(crs)} ({crs.name}), the grid of "
            "Ireland and Northern Ireland"
        )
        for i, g in enumerate(geoms):
            if g is not None:
                reasons[i].append(why)
                geoms[i] = None
    if raw.check_crs_rows:
        _reject_wrong_crs_rows(geoms, crs, raw.crs_declared, reasons)
    sites_bng = _sites_in_bng(geoms, is_point, attrs["site_area_ha"], crs, reasons, warns)
    _check_parts(sites_bng, rules, reasons)
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
    land_share: dict[int, float] = {}
    if land is None:
        notes.append(
            "no GB land layer given: the outside-Great-Britain, in-the-sea and share-on-land checks were skipped"
        )
    else:
        keys = list(sites_bng)
        problems = _land_problems([sites_bng[i] for i in keys], land, rules, shares=land_share)
        for i, (why, warning) in zip(keys, problems, strict=True):
            if why:
                reasons[i].append(why)
            if warning:
                warns[i].append(warning)
        land_share = {i: land_share[k] for k, i in enumerate(keys) if k in land_share}
    for i in range(n):  # belt and braces for the invariant: nothing is accepted without a geometry
        if not reasons[i] and i not in sites_bng:
            reasons[i].append("empty geometry")
    batch = _assemble(ids, attrs, sites_bng, area_ha, reasons, warns, notes, path, land_share)
    log.info("%s: %s", path, batch.summary())
    return batch


def _text_field(rec: dict[str, Any], key: str, reasons: list[str], rules: ApplicationRules) -> str | None:
    """A text field, or ``None`` with a reason when it is longer than ``rules.max_text_chars``."""
    value = rec.get(key)
    if isinstance(value, str) and len(value) > rules.max_text_chars:  # before any per-character work
        reasons.append(
            f"{key} is {len(value):,} characters long (more than the {rules.max_text_chars:,} allowed)"
        )
        return None
    text = normalise_id(value) if key == "id" else clean_text(value)
    if text is not None and len(text) > rules.max_text_chars:
        reasons.append(
            f"{key} is {len(text):,} characters long (more than the {rules.max_text_chars:,} allowed)"
        )
        return None
    return text


def _parse_attributes(
    records: list[dict[str, Any]],
    reasons: list[list[str]],
    warns: list[list[str]],
    rules: ApplicationRules = DEFAULT_RULES,
) -> tuple[list[str | None], dict[str, list[Any]]]:
    """ids and parsed attribute columns; problems go to ``reasons``/``warns`` row by row.

    Ids are compared after :func:`normalise_id` and without case; every repeat names the row it
    collides with. Every field's text is limited to ``rules.max_text_chars``.
    """
    ids: list[str | None] = []
    out: dict[str, list[Any]] = {
        k: [] for k in ("name", "applicant", "notes", "mw", "target_year", "site_area_ha", *EVIDENCE_FIELDS)
    }
    first_seen: dict[str, tuple[int, str]] = {}
    for i, rec in enumerate(records):
        raw_id = rec.get("id")
        if isinstance(raw_id, (dict, list, bool)):
            reasons[i].append(f"id is {_json_kind(raw_id)}: give text or a number")
            rid = None
        else:
            too_long = len(reasons[i])
            rid = _text_field(rec, "id", reasons[i], rules)
            if rid is None and len(reasons[i]) == too_long:
                reasons[i].append("missing id")
            elif rid is not None and rid != clean_text(raw_id):
                given = clean_text(raw_id) or ""
                warns[i].append(f"id {_echo(given)} read as {_echo(rid)} ({_id_changes(given)})")
        ids.append(rid)
        if rid is not None:
            key = _id_key(rid)
            if key in first_seen:
                row, seen = first_seen[key]
                if seen == rid:
                    reasons[i].append(f"duplicate id {_echo(rid)} (first at row {row + 1})")
                else:
                    reasons[i].append(
                        f"duplicate id {_echo(rid)} (same as {_echo(seen)} at row {row + 1}, ignoring case, "
                        "spacing and invisible characters)"
                    )
            else:
                first_seen[key] = (i, rid)
        for k in ("name", "applicant", "notes"):
            out[k].append(_text_field(rec, k, reasons[i], rules))
        for k in ("mw", "target_year", "site_area_ha", *EVIDENCE_FIELDS):
            text = rec.get(k)
            if isinstance(text, str) and len(text) > rules.max_text_chars:
                reasons[i].append(
                    f"{k} is {len(text):,} characters long (more than the {rules.max_text_chars:,} allowed)"
                )
                rec = {**rec, k: None}
        mw, bad = _number(rec.get("mw"))
        if bad is not None:
            reasons[i].append(f"capacity {_echo(bad)} is not a number")
        elif mw is None:
            reasons[i].append("missing capacity (mw)")
        elif mw <= 0:
            reasons[i].append(f"capacity {_fmt(mw)} MW must be greater than 0")
        elif mw > MW_MAX:
            reasons[i].append(f"capacity {_fmt(mw)} MW is implausibly large (> {MW_MAX:,.0f} MW)")
        out["mw"].append(mw if mw is not None else math.nan)
        year, bad = _number(rec.get("target_year"))
        if bad is not None or (year is not None and not float(year).is_integer()):
            shown = _echo(bad) if bad is not None else repr(year)
            reasons[i].append(f"target year {shown} is not a whole year")
            year = None
        elif year is not None and not YEAR_MIN <= year <= YEAR_MAX:
            shown = str(int(year)) if abs(year) < 1e6 else f"{year:.3g}"
            reasons[i].append(f"target year {shown} is outside {YEAR_MIN}..{YEAR_MAX}")
            year = None
        out["target_year"].append(int(year) if year is not None else pd.NA)
        area, bad = _number(rec.get("site_area_ha"))
        if bad is not None:
            reasons[i].append(f"site_area_ha {_echo(bad)} is not a number")
        elif area is not None and area <= 0:
            reasons[i].append(f"site_area_ha {_fmt(area)} must be greater than 0")
            area = None
        out["site_area_ha"].append(area if area is not None else math.nan)
        for ev in EVIDENCE_FIELDS:
            value, understood = parse_evidence(rec.get(ev))
            if not understood:
                warns[i].append(
                    f"{ev} value {_echo(clean_text(rec.get(ev)) or '')} not understood "
                    "(expected yes/no/unknown); treated as unknown"
                )
            out[ev].append(value)
    return ids, out


def _source_geometries(
    raw: _Raw,
    site_area_ha: list[float],
    reasons: list[list[str]],
    warns: list[list[str]],
    rules: ApplicationRules = DEFAULT_RULES,
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
        nv = int(shapely.get_num_coordinates(g))
        if nv > rules.max_vertices:
            reasons[i].append(
                f"site boundary has {nv:,} vertices (more than {rules.max_vertices:,}): simplify the boundary"
            )
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
        elif crs.is_geographic and _within(LONLAT_BOUNDS, (b[1], b[0], b[3], b[2])) and kind != "lonlat":
            why = (
                "latitude and longitude look swapped: the coordinates read as (latitude, longitude) in "
                f"GB, but {how} {label}, whose GeoJSON coordinates are (longitude, latitude)"
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
    land_share: dict[int, float] | None = None,
) -> ApplicationBatch:
    n = len(ids)
    land_share = land_share or {}
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
        "gb_land_share": col([land_share.get(i, np.nan) for i in acc], "float64"),
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


def _check_parts(
    sites_bng: dict[int, shapely.Geometry], rules: ApplicationRules, reasons: list[list[str]]
) -> None:
    """Reject sites whose parts lie more than ``rules.max_part_gap_km`` apart.

    The gap of a site is the largest distance between two of its polygons (0 for one polygon). Only
    sites whose whole extent exceeds the limit can fail, so the pairwise distances are computed for
    those few; for them it is ``k*(k-1)/2`` polygon distances (vectorised), ``k`` the part count.
    """
    limit = rules.max_part_gap_km * 1000.0
    keys = [i for i, g in sites_bng.items() if g.geom_type == "MultiPolygon"]
    if not keys:
        return
    geoms = np.asarray([sites_bng[i] for i in keys], dtype=object)
    b = shapely.bounds(geoms)
    wide = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) > limit
    for i, g in zip(np.asarray(keys)[wide], geoms[wide], strict=True):
        parts = shapely.get_parts(g)
        a, c = np.triu_indices(len(parts), k=1)
        gap = float(shapely.distance(parts[a], parts[c]).max()) if len(a) else 0.0
        if gap > limit:
            reasons[int(i)].append(
                f"parts {_fmt(gap / 1000)} km apart: submit one application per site "
                f"(parts of one site may be at most {_fmt(rules.max_part_gap_km)} km apart)"
            )


def _land_problems(
    geoms: list[shapely.Geometry],
    land: gpd.GeoDataFrame,
    rules: ApplicationRules = DEFAULT_RULES,
    shares: dict[int, float] | None = None,
) -> list[tuple[str | None, str | None]]:
    """(reason, warning) per site, from its share of area on GB land; ``shares`` receives each
    site's share by position (1.0 wholly on land, 0.0 touching none).

    A site touching no land is "in the sea, X km offshore" or "outside Great Britain (nearest GB
    land is X km away)". A site touching land is measured: the share of its area within
    ``rules.land_tolerance_m`` of the land polygons (they are generalised at about that scale). Below
    ``rules.min_land_share`` it is rejected with the share; between that and 100% it is accepted
    with a warning giving the share. Sites wholly inside a land polygon skip the area computation.
    """
    if not geoms:
        return []
    parts = land_parts(land)
    arr = np.asarray(geoms, dtype=object)
    if len(parts) == 0:
        return [("outside Great Britain (the land layer is empty)", None)] * len(geoms)
    tree = shapely.STRtree(parts)
    near_parts = shapely.buffer(parts, rules.land_tolerance_m) if rules.land_tolerance_m > 0 else parts
    near = shapely.STRtree(near_parts)
    result: list[tuple[str | None, str | None]] = [(None, None)] * len(arr)
    src, _ = near.query(arr, predicate="intersects")
    hit = np.zeros(len(arr), dtype=bool)
    hit[src] = True
    miss = np.flatnonzero(~hit)
    if len(miss):
        (src_m, _), dist = tree.query_nearest(arr[miss], return_distance=True, all_matches=False)
        for j, d in zip(src_m, dist, strict=True):
            km = d / 1000
            result[miss[j]] = (
                f"in the sea, {km:.1f} km offshore"
                if km < SEA_KM
                else f"outside Great Britain (nearest GB land is {km:,.0f} km away)",
                None,
            )
    inside = np.zeros(len(arr), dtype=bool)
    src_in, _ = tree.query(arr, predicate="within")
    inside[src_in] = True
    todo = np.flatnonzero(hit & ~inside)
    if shares is not None:
        shares.update({int(j): 0.0 for j in miss})
        shares.update({int(j): 1.0 for j in np.flatnonzero(inside)})
    if len(todo):
        s_idx, p_idx = near.query(arr[todo], predicate="intersects")
        order = np.argsort(s_idx, kind="stable")
        s_idx, p_idx = s_idx[order], p_idx[order]
        pieces = shapely.intersection(arr[todo][s_idx], near_parts[p_idx])
        starts = np.flatnonzero(np.r_[True, s_idx[1:] != s_idx[:-1]])
        counts = np.diff(np.r_[starts, len(s_idx)])
        on_land = np.zeros(len(todo))
        single = counts == 1
        on_land[s_idx[starts[single]]] = shapely.area(pieces[starts[single]])
        for a, c in zip(starts[~single], counts[~single], strict=True):  # a site on a border or coast:
            on_land[s_idx[a]] = shapely.area(shapely.union_all(pieces[a : a + c]))  # overlaps count once
        share = np.clip(on_land / shapely.area(arr[todo]), 0.0, 1.0)
        if shares is not None:
            shares.update({int(j): float(sh) for j, sh in zip(todo, share, strict=True)})
        for j, sh in zip(todo, share, strict=True):
            pct = _pct(sh)
            if sh < rules.min_land_share:
                result[j] = (
                    f"only {pct} of the site is on GB land (at least {_pct(rules.min_land_share)} is needed; "
                    "the rest is sea or another country)",
                    None,
                )
            elif sh < 1.0 - 1e-9:
                result[j] = (None, f"{pct} of the site is on GB land (the rest is sea or another country)")
    return result


def _pct(share: float) -> str:
    """0.999 -> '99.9%', 0.5 -> '50%', 0.0004 -> '0.04%'."""
    pct = share * 100
    if pct >= 99.95 and share < 1.0:
        return f"{pct:.2f}%"
    if pct < 1:
        return f"{pct:.2g}%"
    return f"{pct:.1f}%".replace(".0%", "%")

"""The dataset catalogue (``data/catalogue.toml``): what each public dataset is, where it lives,
its licence, and which canonical layer it feeds.

An entry with ``kind = "asset"`` is a raw asset rather than a dataset: a file that is fetched,
hash-checked and cached like any dataset (mirror locations, retries, pinned sha256) but never
normalised and never stored as a layer; the verified file in the raw cache is the product. The map
libraries the HTML reports bundle (npm registry tarballs) are assets.

The catalogue is declarative on purpose: adding a dataset is one ``[[dataset]]`` entry plus one
normaliser function, and the provenance of every output is read from here.
"""

from __future__ import annotations

import os
import posixpath
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import CatalogueError
from .schemas import LAYERS

APIS = ("file", "arcgis", "ckan_datastore", "ogc_features", "wfs")
"""How an official endpoint is read: one file (possibly zipped), an ArcGIS FeatureServer/MapServer
``/query`` (paged with ``resultOffset``/``resultRecordCount`` while ``exceededTransferLimit``), a CKAN
``datastore_search`` (``offset``/``limit``, ``result.total``), OGC API Features ``/items`` (following
``next`` links, checked against ``numberMatched``) or WFS 2.0 ``GetFeature`` (``startIndex``/``count``,
checked against ``numberMatched``)."""
FORMATS = ("geojson", "csv", "xlsx", "shapefile", "geotiff", "json", "tgz")
KINDS = ("dataset", "asset")
"""A catalogue entry is a dataset (normalised into a canonical layer) or a raw asset (a file fetched
and verified like a dataset, never normalised: the map libraries the reports bundle)."""
ARCHIVES = ("zip",)
CADENCES = {"monthly": 31, "quarterly": 92, "yearly": 366, "irregular": None, "fixed": None}
"""Release cadence -> days after which a copy counts as stale (None: never, e.g. a dated boundary
vintage or a one-off study)."""
NATION_NAMES = ("England", "Scotland", "Wales", "Northern Ireland")
LATEST_APIS = ("govuk_content", "ckan_package")
_MIRROR_COPY_FIELDS = {
    "vintage",
    "released",
    "note",
    "coverage_area",
    "designations",
    "columns",
    "source_crs",
}
_LATEST_FIELDS = {"api", "url", "id", "match"}
_FIELDS = {
    "key",
    "kind",
    "title",
    "publisher",
    "layer",
    "normaliser",
    "url",
    "api",
    "query",
    "format",
    "archive",
    "member",
    "sheets",
    "sheet_column",
    "header_row",
    "encoding",
    "headers",
    "page_size",
    "mirror_path",
    "sha256",
    "licence",
    "licence_url",
    "attribution",
    "vintage",
    "released",
    "release_cadence",
    "live",
    "latest",
    "coverage",
    "nations",
    "source_crs",
    "columns",
    "non_commercial",
    "default",
    "manual",
    "requires",
    "designation",
    "designation_column",
    "designation_values",
    "name_column",
    "coverage_area",
    "mirror_copy",
    "max_size_mb",
}
_REQUIRED = (
    "key",
    "title",
    "publisher",
    "layer",
    "normaliser",
    "url",
    "format",
    "mirror_path",
    "licence",
    "attribution",
    "vintage",
    "nations",
)
"""Every entry names its mirror path, so a mirror can hold every dataset (a closed network runs
with nothing skipped): the convention for a dataset whose mirror copy is the publisher's file is
``<topic>/<key>.<suffix>``, the file ``data pull`` stores in ``raw/<key>/``."""
_ASSET_REQUIRED = tuple(f for f in _REQUIRED if f not in ("layer", "normaliser", "nations")) + ("sha256",)


@dataclass(frozen=True)
class MirrorCopy:
    """How the copy under ``mirror_path`` differs from the official release, when it does: an older
    release (``vintage``, ``released``) or a *sample* of a national dataset (``coverage_area``: where
    the sample is complete; ``designations``: which designations it holds). Identified by the pinned
    ``sha256``: a stored file with that hash is this copy, anything else is the official release."""

    vintage: str = ""
    released: str = ""
    note: str = ""
    coverage_area: str | None = None
    designations: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    source_crs: str | None = None

    @property
    def is_sample(self) -> bool:
        return self.coverage_area is not None


@dataclass(frozen=True)
class Dataset:
    """One catalogue entry. ``files`` are the raw file names (basename of each mirror path)."""

    key: str
    title: str
    publisher: str
    layer: str
    normaliser: str
    url: str
    format: str
    mirror_paths: tuple[str, ...]
    licence: str
    attribution: str
    vintage: str
    api: str = "file"
    query: dict[str, str] = field(default_factory=dict)
    sha256: tuple[str | None, ...] = ()
    licence_url: str = ""
    coverage: str = ""
    source_crs: str | None = None
    columns: tuple[str, ...] = ()
    non_commercial: bool = False
    default: bool = True
    requires: tuple[str, ...] = ()
    designation: str | None = None
    coverage_area: str | None = None
    nations: tuple[str, ...] = ()
    archive: str | None = None
    member: str | None = None
    sheets: tuple[tuple[str, str], ...] = ()
    sheet_column: str | None = None
    header_row: int = 0
    encoding: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    page_size: int | None = None
    released: str = ""
    release_cadence: str = ""
    live: bool = False
    latest: dict[str, str] = field(default_factory=dict)
    manual: str = ""
    designation_column: tuple[str, ...] = ()
    designation_values: dict[str, str] = field(default_factory=dict)
    name_column: tuple[str, ...] = ()
    mirror_copy: MirrorCopy | None = None
    max_size_mb: float | None = None
    """Largest raw download accepted (MB); ``None`` = the global default
    (``Settings.max_download_mb``, ``GROWTH_ZONES_MAX_DOWNLOAD_MB``)."""
    asset: bool = False
    """A raw asset (``kind = "asset"``): fetched and verified, never normalised into a layer."""

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(Path(p).name for p in self.mirror_paths)

    @property
    def kind(self) -> str:
        """``vector``, ``table`` or ``raster`` (from the layer), or ``asset``."""
        return "asset" if self.asset else LAYERS[self.layer].kind

    @property
    def optional(self) -> bool:
        """No stable machine endpoint (``manual`` says why): never fetched from the publisher
        unless named; taken from a mirror or the cache when there, else 'not checked'."""
        return bool(self.manual)

    @property
    def official_file(self) -> str:
        """Raw file name of an official download (its suffix tells the readers what it is)."""
        if self.archive:
            return f"{self.key}.{self.archive}"
        suffix = {"geojson": "geojson", "csv": "csv", "xlsx": "xlsx", "geotiff": "tif", "json": "json"}
        return f"{self.key}.{suffix.get(self.format, self.format)}"

    @property
    def designations(self) -> tuple[str, ...]:
        """Designations the official release is complete for (one, or the per-feature values)."""
        if self.designation_values:
            return tuple(dict.fromkeys(self.designation_values.values()))
        return (self.designation,) if self.designation else ()

    def copy_facts(self, *, sample: bool) -> dict[str, Any]:
        """Vintage, release date and coverage of the copy that was stored: the mirror copy (when it
        is the pinned one and differs) or the official release."""
        mc = self.mirror_copy
        if sample and mc is not None:
            return {
                "copy": "sample" if mc.is_sample else "mirror release",
                "vintage": mc.vintage or self.vintage,
                "released": mc.released or self.released,
                "coverage_area": mc.coverage_area,
                "designations": list(mc.designations if mc.designations is not None else self.designations),
                "copy_note": mc.note,
            }
        return {
            "copy": "official release",
            "vintage": self.vintage,
            "released": self.released,
            "coverage_area": None,
            "designations": list(self.designations),
            "copy_note": "",
        }

    def provenance_fields(self) -> dict[str, Any]:
        """The catalogue half of a provenance record."""
        return {
            "key": self.key,
            "title": self.title,
            "publisher": self.publisher,
            "layer": self.layer,
            "official_url": self.url,
            "licence": self.licence,
            "licence_url": self.licence_url,
            "attribution": self.attribution,
            "vintage": self.vintage,
            "released": self.released,
            "release_cadence": self.release_cadence,
            "coverage": self.coverage,
            "nations": list(self.nations),
            "non_commercial": self.non_commercial,
        }


def release_date(text: str) -> date | None:
    """``YYYY-MM-DD``, ``YYYY-MM`` (first of the month) or ``YYYY`` (1 January); else None."""
    for fmt, pad in (("%Y-%m-%d", ""), ("%Y-%m", "-01"), ("%Y", "-01-01")):
        try:
            datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
        return date.fromisoformat(text + pad)
    return None


def staleness(released: str, cadence: str, today: date | None = None) -> dict[str, Any]:
    """Age of a copy released on ``released`` and whether it is older than the publisher's release
    cadence (then a newer release should exist). ``age_days`` is None when the date is unknown."""
    today = today or datetime.now(UTC).date()
    when = release_date(released)
    limit = CADENCES.get(cadence)
    age = (today - when).days if when else None
    stale = bool(age is not None and limit is not None and age > limit)
    return {"released": released, "release_cadence": cadence, "age_days": age, "stale": stale}


def catalogue_path() -> Path:
    """``GROWTH_ZONES_CATALOGUE`` if set, else the bundled catalogue: ``data/catalogue.toml`` of the
    checkout, or its copy inside the installed wheel (``growth_zones/data/catalogue.toml``)."""
    env = os.environ.get("GROWTH_ZONES_CATALOGUE")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parents[1] / "data" / "catalogue.toml", here / "catalogue.toml"):
        if candidate.exists():
            return candidate
    raise CatalogueError("dataset catalogue not found: set GROWTH_ZONES_CATALOGUE to a catalogue.toml")


KEY_PATTERN = re.compile(r"[a-z0-9_]+")
"""Catalogue keys name folders and files in the cache (``raw/<key>/``, ``layers/<key>.parquet``):
lower-case letters, digits and underscores only, so a key can never point outside the cache."""


def mirror_path_problem(path: Any) -> str | None:
    """Why ``path`` is not a safe mirror path (relative, POSIX, inside the mirror), or ``None``.

    Checked on the text when the catalogue is loaded; :mod:`growth_zones.data.fetch` checks again
    on the resolved path (symbolic links) before reading a local mirror.
    """
    if not isinstance(path, str) or not path.strip():
        return f"mirror_path {path!r} must be a non-empty relative path"
    if "\\" in path or "\x00" in path:
        return f"mirror_path {path!r} must use '/' separators and no NUL characters"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or path.startswith("~"):
        return f"mirror_path {path!r} must be relative to the mirror, not absolute"
    parts = path.split("/")
    if ".." in parts or posixpath.normpath(path).startswith(".."):
        return f"mirror_path {path!r} must stay inside the mirror (no '..')"
    if path.endswith("/") or parts[-1] in ("", "."):
        return f"mirror_path {path!r} must name a file"
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def _mirror_copy(raw: Any, where: str, problems: list[str]) -> MirrorCopy | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: mirror_copy must be a table")
        return None
    unknown = set(raw) - _MIRROR_COPY_FIELDS
    if unknown:
        problems.append(f"{where}: mirror_copy has unknown fields {sorted(unknown)}")
    if raw.get("released") and release_date(str(raw["released"])) is None:
        problems.append(
            f"{where}: mirror_copy.released {raw['released']!r} is not YYYY-MM-DD, YYYY-MM or YYYY"
        )
    return MirrorCopy(
        vintage=str(raw.get("vintage", "")),
        released=str(raw.get("released", "")),
        note=str(raw.get("note", "")),
        coverage_area=raw.get("coverage_area"),
        designations=_strings(raw["designations"]) if "designations" in raw else None,
        columns=_strings(raw["columns"]) if "columns" in raw else None,
        source_crs=raw.get("source_crs"),
    )


def _entry(raw: dict[str, Any], where: str, problems: list[str]) -> Dataset | None:
    from .schemas import DESIGNATIONS

    unknown = set(raw) - _FIELDS
    if unknown:
        problems.append(f"{where}: unknown fields {sorted(unknown)}")
    kind = raw.get("kind", "dataset")
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} not one of {KINDS}")
        return None
    asset = kind == "asset"
    missing = [f for f in (_ASSET_REQUIRED if asset else _REQUIRED) if not raw.get(f)]
    if missing:
        problems.append(f"{where}: missing required fields {missing}")
        if {"key", "layer", "format", "normaliser"} & set(missing):
            return None
    if not isinstance(raw["key"], str) or not KEY_PATTERN.fullmatch(raw["key"]):
        problems.append(
            f"{where}: key {raw['key']!r} must match [a-z0-9_]+ (it names folders and files in the cache)"
        )
        return None
    if asset:
        extra = [f for f in ("layer", "normaliser", "designation", "coverage_area", "columns") if f in raw]
        if extra:
            problems.append(f"{where}: an asset is never normalised into a layer; remove {extra}")
        if raw.get("default", False):
            problems.append(f"{where}: an asset cannot be a default dataset (it is fetched when needed)")
        raw = {**raw, "layer": "", "normaliser": "", "default": False}
    elif raw["layer"] not in LAYERS:
        problems.append(f"{where}: layer {raw['layer']!r} is not a canonical layer ({', '.join(LAYERS)})")
    api = raw.get("api", "file")
    if api not in APIS:
        problems.append(f"{where}: api {api!r} not one of {APIS}")
    if raw["format"] not in FORMATS:
        problems.append(f"{where}: format {raw['format']!r} not one of {FORMATS}")
    archive = raw.get("archive")
    if archive is not None and archive not in ARCHIVES:
        problems.append(f"{where}: archive {archive!r} not one of {ARCHIVES}")
    if archive and not raw.get("member"):
        problems.append(f"{where}: archive {archive!r} needs the member file to read")
    if (
        raw["format"] == "shapefile"
        and api == "file"
        and not archive
        and raw.get("url", "").startswith("http")
    ):
        problems.append(f"{where}: a shapefile is published as a zip: set archive = 'zip' and member")
    paths = raw.get("mirror_path", ())
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    bad_paths = [why for why in map(mirror_path_problem, paths) if why]
    problems.extend(f"{where}: {why}" for why in bad_paths)
    names = [posixpath.basename(p) for p in paths if isinstance(p, str)]
    if len(set(names)) != len(names):
        problems.append(
            f"{where}: mirror paths {list(paths)} share a file name (each is cached as raw/<key>/<name>)"
        )
    if bad_paths:
        return None
    max_mb = raw.get("max_size_mb")
    if max_mb is not None and (
        isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or not max_mb > 0
    ):
        problems.append(f"{where}: max_size_mb must be a positive number of megabytes, got {max_mb!r}")
        max_mb = None
    sha = raw.get("sha256", ())
    sha = (sha,) if isinstance(sha, str) else tuple(sha)
    if sha and len(sha) != len(paths):
        problems.append(f"{where}: sha256 has {len(sha)} entries for {len(paths)} mirror paths")
    if not asset and ":" not in raw["normaliser"]:
        problems.append(f"{where}: normaliser must be 'module:function', got {raw['normaliser']!r}")
    nations = _strings(raw.get("nations"))
    bad_nations = [n for n in nations if n not in NATION_NAMES]
    if bad_nations:
        problems.append(f"{where}: nations {bad_nations} not among {NATION_NAMES}")
    cadence = raw.get("release_cadence", "")
    if cadence and cadence not in CADENCES:
        problems.append(f"{where}: release_cadence {cadence!r} not one of {tuple(CADENCES)}")
    released = str(raw.get("released", ""))
    if released and release_date(released) is None:
        problems.append(f"{where}: released {released!r} is not YYYY-MM-DD, YYYY-MM or YYYY")
    latest = raw.get("latest", {})
    if latest:
        if set(latest) - _LATEST_FIELDS:
            problems.append(f"{where}: latest has unknown fields {sorted(set(latest) - _LATEST_FIELDS)}")
        if latest.get("api") not in LATEST_APIS or not latest.get("url"):
            problems.append(f"{where}: latest needs api (one of {LATEST_APIS}) and url")
    sheets_raw = raw.get("sheets", ())
    if isinstance(sheets_raw, dict):
        sheets = tuple((str(k), str(v)) for k, v in sheets_raw.items())
    else:
        sheets = tuple((str(s), str(s)) for s in _strings(sheets_raw))
    if sheets and raw["format"] != "xlsx":
        problems.append(f"{where}: sheets are only read from xlsx files")
    values = {str(k): str(v) for k, v in raw.get("designation_values", {}).items()}
    for d in [raw.get("designation"), *values.values()]:
        if d is not None and d not in DESIGNATIONS:
            problems.append(f"{where}: designation {d!r} is not one of {DESIGNATIONS}")
    if values and not raw.get("designation_column"):
        problems.append(f"{where}: designation_values need designation_column")
    mirror_copy = _mirror_copy(raw.get("mirror_copy"), where, problems)
    if mirror_copy and mirror_copy.designations:
        for d in mirror_copy.designations:
            if d not in DESIGNATIONS:
                problems.append(f"{where}: mirror_copy designation {d!r} is not one of {DESIGNATIONS}")
    coverage_area = raw.get("coverage_area")
    if mirror_copy is not None and mirror_copy.coverage_area is not None:
        coverage_area = mirror_copy.coverage_area
    if missing:
        return None
    return Dataset(
        key=raw["key"],
        title=raw["title"],
        publisher=raw["publisher"],
        layer=raw["layer"],
        normaliser=raw["normaliser"],
        url=raw["url"],
        format=raw["format"],
        mirror_paths=paths,
        licence=raw["licence"],
        attribution=raw["attribution"],
        vintage=raw["vintage"],
        api=api,
        query={k: str(v) for k, v in raw.get("query", {}).items()},
        sha256=sha or tuple(None for _ in paths),
        licence_url=raw.get("licence_url", ""),
        coverage=raw.get("coverage", ""),
        source_crs=raw.get("source_crs"),
        columns=tuple(raw.get("columns", ())),
        non_commercial=bool(raw.get("non_commercial", False)),
        default=bool(raw.get("default", True)),
        requires=tuple(raw.get("requires", ())),
        designation=raw.get("designation"),
        coverage_area=coverage_area,
        nations=nations,
        archive=archive,
        member=raw.get("member"),
        sheets=sheets,
        sheet_column=raw.get("sheet_column"),
        header_row=int(raw.get("header_row", 0)),
        encoding=raw.get("encoding"),
        headers={str(k): str(v) for k, v in raw.get("headers", {}).items()},
        page_size=int(raw["page_size"]) if raw.get("page_size") else None,
        released=released,
        release_cadence=cadence,
        live=bool(raw.get("live", False)),
        latest={str(k): str(v) for k, v in latest.items()},
        manual=str(raw.get("manual", "")),
        designation_column=_strings(raw.get("designation_column")),
        designation_values=values,
        name_column=_strings(raw.get("name_column")),
        mirror_copy=mirror_copy,
        max_size_mb=float(max_mb) if max_mb is not None else None,
        asset=asset,
    )


def parse_catalogue(text: str, *, source: str = "<string>") -> dict[str, Dataset]:
    """Parse and validate a catalogue, reporting every problem at once."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CatalogueError(f"{source}: TOML syntax error: {err}") from err
    problems: list[str] = []
    out: dict[str, Dataset] = {}
    entries = doc.get("dataset", [])
    if not isinstance(entries, list):
        raise CatalogueError(f"{source}: expected [[dataset]] tables, found {type(entries).__name__}")
    for i, raw in enumerate(entries):
        if not isinstance(raw, dict):
            problems.append(f"{source}: dataset[{i}] is not a table")
            continue
        where = f"{source}: dataset[{i}] ({raw.get('key', '?')})"
        entry = _entry(raw, where, problems)
        if entry is None:
            continue
        if entry.key in out:
            problems.append(f"{where}: duplicate key {entry.key!r}")
        out[entry.key] = entry
    for entry in out.values():
        for dep in entry.requires:
            if dep not in out:
                problems.append(f"{source}: {entry.key}: requires unknown dataset {dep!r}")
    if problems:
        raise CatalogueError("invalid dataset catalogue:\n  " + "\n  ".join(problems))
    return out


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Dataset]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise CatalogueError(
            f"dataset catalogue {path} cannot be read ({why}); check GROWTH_ZONES_CATALOGUE"
        ) from err
    return parse_catalogue(text, source=path)


def load_catalogue(path: Path | None = None) -> dict[str, Dataset]:
    """All catalogue entries by key (cached per path)."""
    return _load(str(path or catalogue_path()))


def get_dataset(key: str, catalogue: dict[str, Dataset] | None = None) -> Dataset:
    cat = catalogue or load_catalogue()
    try:
        return cat[key]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(key, cat, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else "; see `growth-zones data list`"
        raise CatalogueError(f"unknown dataset {key!r}{hint}") from None


def datasets_for_layer(layer: str, catalogue: dict[str, Dataset] | None = None) -> list[Dataset]:
    """Default datasets feeding one canonical layer, in catalogue order."""
    cat = catalogue or load_catalogue()
    return [d for d in cat.values() if d.layer == layer and d.default]


def asset_entries(catalogue: dict[str, Dataset] | None = None) -> list[Dataset]:
    """The raw assets (``kind = "asset"``), in catalogue order."""
    cat = catalogue or load_catalogue()
    return [d for d in cat.values() if d.asset]

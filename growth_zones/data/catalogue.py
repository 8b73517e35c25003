"""The dataset catalogue (``data/catalogue.toml``): what each public dataset is, where it lives,
its licence, and which canonical layer it feeds.

The catalogue is declarative on purpose: adding a dataset is one ``[[dataset]]`` entry plus one
normaliser function, and the provenance of every output is read from here.
"""

from __future__ import annotations

import os
import posixpath
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import CatalogueError
from .schemas import LAYERS

APIS = ("file", "arcgis", "ckan_datastore")
FORMATS = ("geojson", "csv", "shapefile", "geotiff", "json")
_FIELDS = {
    "key",
    "title",
    "publisher",
    "layer",
    "normaliser",
    "url",
    "api",
    "query",
    "format",
    "mirror_path",
    "sha256",
    "licence",
    "licence_url",
    "attribution",
    "vintage",
    "coverage",
    "source_crs",
    "columns",
    "non_commercial",
    "default",
    "requires",
    "designation",
    "coverage_area",
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
)


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
    max_size_mb: float | None = None
    """Largest raw download accepted (MB); ``None`` = the global default
    (``Settings.max_download_mb``, ``GROWTH_ZONES_MAX_DOWNLOAD_MB``)."""

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(Path(p).name for p in self.mirror_paths)

    @property
    def kind(self) -> str:
        return LAYERS[self.layer].kind

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
            "coverage": self.coverage,
            "non_commercial": self.non_commercial,
        }


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


def _entry(raw: dict[str, Any], where: str, problems: list[str]) -> Dataset | None:
    unknown = set(raw) - _FIELDS
    if unknown:
        problems.append(f"{where}: unknown fields {sorted(unknown)}")
    missing = [f for f in _REQUIRED if not raw.get(f)]
    if missing:
        problems.append(f"{where}: missing required fields {missing}")
        return None
    if not isinstance(raw["key"], str) or not KEY_PATTERN.fullmatch(raw["key"]):
        problems.append(
            f"{where}: key {raw['key']!r} must match [a-z0-9_]+ (it names folders and files in the cache)"
        )
        return None
    if raw["layer"] not in LAYERS:
        problems.append(f"{where}: layer {raw['layer']!r} is not a canonical layer ({', '.join(LAYERS)})")
    api = raw.get("api", "file")
    if api not in APIS:
        problems.append(f"{where}: api {api!r} not one of {APIS}")
    if raw["format"] not in FORMATS:
        problems.append(f"{where}: format {raw['format']!r} not one of {FORMATS}")
    paths = raw["mirror_path"]
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
    if ":" not in raw["normaliser"]:
        problems.append(f"{where}: normaliser must be 'module:function', got {raw['normaliser']!r}")
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
        coverage_area=raw.get("coverage_area"),
        max_size_mb=float(max_mb) if max_mb is not None else None,
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

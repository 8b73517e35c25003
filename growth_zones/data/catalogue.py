"""The dataset catalogue (``data/catalogue.toml``): what each public dataset is, where it lives,
its licence, and which canonical layer it feeds.

The catalogue is declarative on purpose: adding a dataset is one ``[[dataset]]`` entry plus one
normaliser function, and the provenance of every output is read from here.

An entry with ``kind = "asset"`` is a raw asset rather than a dataset: a file that is fetched,
hash-checked and cached like any dataset (mirror, retries, pinned sha256) but never normalised and
never stored as a layer; the verified file in the raw cache is the product. The map libraries the
HTML reports inline (npm registry tarballs) are assets.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import CatalogueError
from .schemas import LAYERS

APIS = ("file", "arcgis", "ckan_datastore")
FORMATS = ("geojson", "csv", "shapefile", "geotiff", "json", "tgz")
KINDS = ("dataset", "asset")
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
_ASSET_REQUIRED = tuple(f for f in _REQUIRED if f not in ("layer", "normaliser")) + ("sha256",)


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
    asset: bool = False
    """A raw asset (``kind = "asset"``): fetched and verified, never normalised into a layer."""

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(Path(p).name for p in self.mirror_paths)

    @property
    def kind(self) -> str:
        """``vector``, ``table`` or ``raster`` (from the layer), or ``asset``."""
        return "asset" if self.asset else LAYERS[self.layer].kind

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


def _entry(raw: dict[str, Any], where: str, problems: list[str]) -> Dataset | None:
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
    paths = raw["mirror_path"]
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    sha = raw.get("sha256", ())
    sha = (sha,) if isinstance(sha, str) else tuple(sha)
    if sha and len(sha) != len(paths):
        problems.append(f"{where}: sha256 has {len(sha)} entries for {len(paths)} mirror paths")
    if not asset and ":" not in raw["normaliser"]:
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
    for i, raw in enumerate(doc.get("dataset", [])):
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
    return parse_catalogue(Path(path).read_text(encoding="utf-8"), source=path)


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

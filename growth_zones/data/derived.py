"""The derived cache: layer-level set-up computed once per version of its inputs.

What the indicators, the checks and the surface build from whole layers (the resolved grid nodes,
where each designation's data is complete, each designation set dissolved into disjoint pieces, the
population raster convolved with a disc, the nation polygons cut into small tiles) depends only on
the stored layers it reads and on the code that builds it. :meth:`DerivedCache.get` computes such a
value on first use and stores it in ``<cache>/derived/setup/<name>-<key>/``; every later run with the
same inputs reads it back.

The key hashes the name and parameters of the value, the fingerprint of every layer it reads (the
sha256 of each stored dataset as its provenance records it, which the store verifies before any
read), the package version and the source of the modules that compute it. So a pulled new release,
a changed parameter or an upgrade is a different key, never a stale hit. Like the region
indicators, a derived value is never trusted over its inputs: each entry's parts are listed with
their size and sha256 in a manifest written last; an entry that does not match its manifest or
cannot be decoded is named in one line, deleted and computed again.

Values are stored as Parquet (tables, GeoDataFrames, arrays of shapely geometries as WKB), ``.npy``
(numeric arrays) and JSON: nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_path, sha256_file, write_json

log = logging.getLogger(__name__)

CODE_GLOBS = (
    "data/derived.py",
    "data/layers.py",
    "data/schemas.py",
    "policy.py",
    "indicators/*.py",
)
"""Modules (under ``growth_zones/``) whose source is part of every key: a change to any of them makes
every derived value a miss."""

_code: str | None = None


def code_fingerprint() -> str:
    """sha256 of the package version and the source of :data:`CODE_GLOBS` (computed once)."""
    global _code
    if _code is None:
        from .store import package_version

        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256(package_version().encode())
        for pattern in CODE_GLOBS:
            for src in sorted(root.glob(pattern)):
                h.update(src.name.encode())
                h.update(src.read_bytes())
        _code = h.hexdigest()
    return _code


def fingerprint(parts: Iterable[Any]) -> str:
    """A stable hex digest of JSON-able parts (dataset keys and hashes, parameters)."""
    return hashlib.sha256(json.dumps(list(parts), sort_keys=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------------ codecs
def _write_frame(frame: pd.DataFrame, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        frame.to_parquet(tmp, index=True)


def _read_frame(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if b"geo" in meta:
        import geopandas as gpd

        return gpd.read_parquet(path)
    return pd.read_parquet(path)


def _encode(value: Any, stem: Path) -> dict[str, str]:
    """Write one part; return its manifest entry (kind, file name)."""
    if isinstance(value, pd.DataFrame):
        dest = stem.with_suffix(".parquet")
        _write_frame(value, dest)
        return {"kind": "frame", "file": dest.name}
    if isinstance(value, np.ndarray) and value.dtype == object:  # shapely geometries
        import shapely

        if len(value) and not shapely.is_geometry(value).all():
            raise TypeError("an object array in the derived cache must hold shapely geometries")
        dest = stem.with_suffix(".parquet")
        _write_frame(pd.DataFrame({"wkb": shapely.to_wkb(value)}), dest)
        return {"kind": "geometries", "file": dest.name}
    if isinstance(value, np.ndarray):
        dest = stem.with_suffix(".npy")
        with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
            np.save(fh, value, allow_pickle=False)
        return {"kind": "array", "file": dest.name}
    if value is None:
        return {"kind": "none", "file": ""}
    dest = stem.with_suffix(".json")
    write_json(dest, value)
    return {"kind": "json", "file": dest.name}


def _decode(entry: Mapping[str, str], folder: Path) -> Any:
    kind = entry["kind"]
    if kind == "none":
        return None
    path = folder / entry["file"]
    if kind == "frame":
        return _read_frame(path)
    if kind == "geometries":
        import shapely

        wkb = pd.read_parquet(path)["wkb"].to_numpy(dtype=object)
        return np.asarray(shapely.from_wkb(wkb), dtype=object)
    if kind == "array":
        with open(path, "rb") as fh:
            return np.load(fh, allow_pickle=False)
    if kind == "json":
        return json.loads(path.read_text(encoding="utf-8"))
    raise ValueError(f"unknown part kind {kind!r}")


# ------------------------------------------------------------------------------------ cache
class DerivedCache:
    """Layer-level set-up in ``folder`` (``<cache>/derived/setup``), keyed by its inputs.

    ``get(name, params, inputs, build)``: ``inputs`` are the fingerprints of the layers the value
    reads (``None`` for one that did not come from the store as stored, e.g. a frame changed in
    memory: then the value is computed and not stored). ``build()`` returns one value or a dict of
    parts (tables, geometry arrays, numeric arrays, JSON-able values); ``get`` returns the same.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.hits: list[str] = []
        self.misses: list[str] = []

    def key(self, name: str, params: Any, inputs: Iterable[str | None]) -> str | None:
        fps = list(inputs)
        if any(fp is None for fp in fps):
            return None
        return fingerprint([name, params, fps, code_fingerprint()])[:24]

    def entry(self, name: str, key: str) -> Path:
        return self.folder / f"{name}-{key}"

    def get(
        self,
        name: str,
        params: Any,
        inputs: Iterable[str | None],
        build: Callable[[], Any],
    ) -> Any:
        key = self.key(name, params, inputs)
        if key is None:
            return build()
        folder = self.entry(name, key)
        value = self._read(folder)
        if value is not _MISSING:
            self.hits.append(name)
            return value
        self.misses.append(name)
        value = build()
        if value is None:  # nothing to keep (an input could not be read): never stored
            return value
        try:
            self._write(folder, value)
        except OSError as err:  # a read-only or full cache: the run goes on with the value in memory
            log.warning("derived cache %s could not be written (%s); continuing without it", folder, err)
        return value

    def _read(self, folder: Path) -> Any:
        manifest = folder / "manifest.json"
        if not manifest.exists():
            return _MISSING
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
            parts = doc["parts"]
            for entry in parts.values():
                if entry["file"]:
                    path = folder / entry["file"]
                    if path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
                        raise ValueError(f"{entry['file']} differs from the manifest")
            decoded = {k: _decode(e, folder) for k, e in parts.items()}
            return decoded[""] if doc.get("single") else decoded
        except Exception as err:  # noqa: BLE001 - any damage means: recompute, never trust
            log.warning(
                "derived cache %s is unreadable (%s: %s); recomputing it", folder, type(err).__name__, err
            )
            shutil.rmtree(folder, ignore_errors=True)
            return _MISSING

    def _write(self, folder: Path, value: Any) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        single = not isinstance(value, dict) or not value or not all(isinstance(k, str) and k for k in value)
        parts = {"": value} if single else value
        entries: dict[str, dict[str, Any]] = {}
        for i, (k, v) in enumerate(parts.items()):
            entry: dict[str, Any] = dict(_encode(v, folder / f"part{i}"))
            if entry["file"]:
                path = folder / entry["file"]
                entry["bytes"] = path.stat().st_size
                entry["sha256"] = sha256_file(path)
            entries[k] = entry
        write_json(folder / "manifest.json", {"single": single, "parts": entries})  # last: complete


_MISSING = object()

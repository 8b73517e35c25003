"""The on-disk store of normalised layers: one GeoParquet / Parquet / GeoTIFF per dataset plus a
``<key>.provenance.json`` sidecar.

Writes are atomic (temp file + rename) and the provenance sidecar is written last, so a dataset
counts as stored only when both its data and its provenance are complete. The sidecar records the
data file's size and sha256 (``stored_bytes``, ``stored_sha256``); :meth:`Store.verify` checks
them (hashing once per process per file version), and every read goes through it, so a truncated
or altered layer is named in one line and rebuilt by the next pull instead of crashing a run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import DataSourceError
from ..settings import BNG, Settings
from .atomic import atomic_path, sha256_file, write_json
from .catalogue import Dataset, datasets_for_layer, get_dataset, load_catalogue, staleness
from .loaders import Normalised, RasterData
from .schemas import LAYERS

log = logging.getLogger(__name__)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("growth-zones")
    except PackageNotFoundError:
        return "0+unknown"


class Store:
    """Normalised layers in ``settings.layers_dir``."""

    def __init__(self, settings: Settings | None = None, catalogue: dict[str, Dataset] | None = None) -> None:
        self.settings = settings or Settings()
        self.catalogue = catalogue or load_catalogue()
        self.unavailable: dict[str, str] = {}
        """Datasets a pull in this run could not provide, with the reason (filled by
        :func:`growth_zones.data.pull.ensure_layers`)."""

    # ------------------------------------------------------------------ paths
    def data_path(self, key: str) -> Path:
        """Where a dataset's layer is stored; for a raw asset, its file in the raw cache."""
        ds = get_dataset(key, self.catalogue)
        if ds.asset:
            from . import fetch

            hit = fetch.cached(ds, self.settings)
            return hit.paths[0] if hit is not None else self.settings.raw_dir / ds.key / ds.files[0]
        suffix = ".tif" if ds.kind == "raster" else ".parquet"
        return self.settings.layers_dir / f"{key}{suffix}"

    def provenance_path(self, key: str) -> Path:
        return self.settings.layers_dir / f"{key}.provenance.json"

    def has(self, key: str) -> bool:
        """Whether a dataset is stored (a raw asset: whether its file is in the raw cache)."""
        ds = get_dataset(key, self.catalogue)
        if ds.asset:
            from . import fetch

            return fetch.cached(ds, self.settings) is not None
        return self.provenance_path(key).exists() and self.data_path(key).exists()

    # ------------------------------------------------------------------ write
    def write(
        self, ds: Dataset, result: Normalised, fetch_info: dict[str, Any], *, mirror_copy: bool = False
    ) -> dict[str, Any]:
        """Store a normalised dataset and its provenance; return the provenance record.

        ``mirror_copy``: the raw files are the catalogue's pinned mirror copy, so the record takes
        that copy's vintage, release date and (for a sample) coverage from ``Dataset.mirror_copy``.
        A live endpoint's official pull is dated by its retrieval."""
        dest = self.data_path(ds.key)
        with atomic_path(dest) as tmp:
            if ds.kind == "raster":
                if result.raster is None:
                    raise DataSourceError(f"{ds.key}: normaliser returned no raster")
                _write_raster(result.raster, tmp)
                rows = int(result.raster.array.size)
            else:
                if result.frame is None:
                    raise DataSourceError(f"{ds.key}: normaliser returned no table")
                frame = result.frame
                if isinstance(frame, gpd.GeoDataFrame):
                    frame.to_parquet(tmp, index=False)
                else:
                    pd.DataFrame(frame).to_parquet(tmp, index=False)
                rows = int(len(frame))
        facts = ds.copy_facts(sample=mirror_copy)
        if ds.live and not mirror_copy and fetch_info.get("retrieved_at"):
            facts["released"] = str(fetch_info["retrieved_at"])[:10]
        prov = {
            **ds.provenance_fields(),
            **facts,
            "stored_bytes": dest.stat().st_size,
            "stored_sha256": sha256_file(dest),
            "source_urls": fetch_info.get("source_urls", []),
            "via": fetch_info.get("via"),
            "retrieved_at": fetch_info.get("retrieved_at"),
            "raw_sha256": fetch_info.get("sha256", []),
            "raw_bytes": fetch_info.get("sizes", []),
            "normalised_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "normaliser": ds.normaliser,
            "crs": BNG,
            "crs_transformation": result.transform.to_dict() if result.transform else None,
            "rows": rows,
            "notes": result.notes,
            "package_version": package_version(),
            "stored_path": str(dest),
        }
        write_json(self.provenance_path(ds.key), prov)
        log.info("stored %s (%d rows) at %s", ds.key, rows, dest)
        return prov

    # ------------------------------------------------------------------ verify
    def verify(self, key: str) -> str | None:
        """Why the stored dataset ``key`` cannot be trusted, in one line, or ``None`` when intact.

        Checks that the provenance sidecar is a readable JSON record and that the data file has the
        size and sha256 recorded at store time (older records without a hash: the Parquet footer or
        the GeoTIFF opens).
        """
        path = self.data_path(key)
        try:
            prov = self.provenance(key)
        except DataSourceError as err:
            return str(err)
        try:
            size = path.stat().st_size
            want_size, want_sha = prov.get("stored_bytes"), prov.get("stored_sha256")
            if isinstance(want_size, int) and size != want_size:
                return f"stored layer {path} is corrupt: {size:,} bytes, {want_size:,} were written"
            if isinstance(want_sha, str):
                got = sha256_file(path)
                if got != want_sha:
                    return (
                        f"stored layer {path} is corrupt: sha256 {got[:12]}... "
                        f"differs from the {want_sha[:12]}... written"
                    )
                return self._schema_drift(key, path)
            return _cheap_integrity(path) or self._schema_drift(key, path)
        except OSError as err:
            return f"stored layer {path} cannot be read: {err.strerror or err}"

    def _schema_drift(self, key: str, path: Path) -> str | None:
        """Why an intact stored table cannot serve the current code: it lacks columns its layer's
        schema now declares (it was normalised by an older version); ``None`` when it has them.
        The pull that follows rebuilds it from the raw download."""
        ds = self.catalogue.get(key)
        if ds is None or ds.asset or ds.kind == "raster" or ds.layer not in LAYERS:
            return None
        try:
            stored = _stored_columns(path)
        except Exception as err:  # noqa: BLE001 - any reader error means the file is damaged
            return f"stored layer {path} is corrupt ({type(err).__name__}: {str(err)[:120]})"
        missing = [c for c in LAYERS[ds.layer].columns if c not in stored]
        if not missing:
            return None
        return (
            f"stored layer {path} was normalised by an older version of growth-zones "
            f"(no column {', '.join(missing)})"
        )

    def _checked(self, key: str) -> Path:
        if not self.has(key):
            raise DataSourceError(f"dataset {key} is not stored; run `growth-zones data pull {key}`")
        problem = self.verify(key)
        if problem:
            raise DataSourceError(f"{problem}; run `growth-zones data pull {key}` to rebuild it")
        return self.data_path(key)

    # ------------------------------------------------------------------ read
    def provenance(self, key: str) -> dict[str, Any]:
        """The stored provenance record, with the copy's age and staleness as of today
        (``age_days``, ``stale``: older than the publisher's release cadence). A raw asset has no
        layer: its record is the catalogue entry plus how it was fetched."""
        if key in self.catalogue and self.catalogue[key].asset:
            from . import fetch

            ds = self.catalogue[key]
            hit = fetch.cached(ds, self.settings)
            if hit is None:
                raise DataSourceError(f"asset {key} is not cached; run `growth-zones data pull {key}`")
            return {
                **ds.provenance_fields(),
                "kind": "asset",
                "source_urls": hit.source_urls,
                "raw_sha256": hit.sha256,
                "retrieved_at": hit.retrieved_at,
                "stored_path": str(hit.paths[0]),
                "age_days": None,
                "stale": False,
            }
        path = self.provenance_path(key)
        if not path.exists():
            raise DataSourceError(f"dataset {key} is not stored; run `growth-zones data pull {key}`")
        try:
            record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:
            raise DataSourceError(
                f"provenance record {path} is unreadable ({type(err).__name__}: {str(err)[:120]})"
            ) from err
        if not isinstance(record, dict):
            raise DataSourceError(f"provenance record {path} is not a JSON object")
        if key in self.catalogue:  # records written before release dates were recorded
            ds = self.catalogue[key]
            record.setdefault("released", ds.released)
            record.setdefault("release_cadence", ds.release_cadence)
        age = staleness(record.get("released") or "", record.get("release_cadence") or "")
        record["age_days"], record["stale"] = age["age_days"], age["stale"]
        return record

    def read_dataset(self, key: str) -> pd.DataFrame:
        ds = get_dataset(key, self.catalogue)
        if ds.kind == "raster":
            raise DataSourceError(f"dataset {key} is a raster: use read_raster")
        path = self._checked(key)
        try:
            if ds.kind == "vector":
                return gpd.read_parquet(path)
            return pd.read_parquet(path)
        except Exception as err:  # noqa: BLE001 - pyarrow/geopandas errors on a damaged file, named
            raise DataSourceError(
                f"stored layer {path} cannot be read ({type(err).__name__}: {str(err)[:160]}); "
                f"run `growth-zones data pull {key}` to rebuild it"
            ) from err

    def layer_datasets(self, layer: str) -> list[Dataset]:
        """Default datasets of ``layer`` that are stored."""
        return [d for d in datasets_for_layer(layer, self.catalogue) if self.has(d.key)]

    def read_layer(self, layer: str, *, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """A canonical layer: the concatenation of its stored default datasets (or of ``keys``)."""
        if layer not in LAYERS:
            raise DataSourceError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}")
        chosen = [get_dataset(k, self.catalogue) for k in keys] if keys else self.layer_datasets(layer)
        if not chosen:
            wanted = [d.key for d in datasets_for_layer(layer, self.catalogue)]
            raise DataSourceError(
                f"layer {layer} has no stored dataset; run `growth-zones data pull {' '.join(wanted)}`"
            )
        frames = [self.read_dataset(d.key) for d in chosen]
        if len(frames) == 1:
            return frames[0]
        if LAYERS[layer].kind == "vector":
            return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=BNG)
        return pd.concat(frames, ignore_index=True)

    def read_raster(self, layer: str) -> RasterData:
        import rasterio

        chosen = self.layer_datasets(layer)
        if not chosen:
            wanted = [d.key for d in datasets_for_layer(layer, self.catalogue)]
            raise DataSourceError(
                f"raster layer {layer} is not stored; run `growth-zones data pull {' '.join(wanted)}`"
            )
        key = chosen[0].key
        path = self._checked(key)
        try:
            with rasterio.open(path) as src:
                return RasterData(src.read(1), dict(src.profile))
        except Exception as err:  # noqa: BLE001 - rasterio errors on a damaged file, named
            raise DataSourceError(
                f"stored raster {path} cannot be read ({type(err).__name__}: {str(err)[:160]}); "
                f"run `growth-zones data pull {key}` to rebuild it"
            ) from err

    def provenance_for_layers(self, layers: Iterable[str]) -> list[dict[str, Any]]:
        """Provenance of every stored default dataset feeding ``layers`` (for report footers)."""
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for layer in layers:
            for ds in self.layer_datasets(layer):
                if ds.key not in seen:
                    seen.add(ds.key)
                    out.append(self.provenance(ds.key))
        return out


_COLUMNS: dict[tuple[str, int, int, int], frozenset[str]] = {}


def _stored_columns(path: Path) -> frozenset[str]:
    """Column names of a stored Parquet file (its footer only), remembered per file version."""
    import pyarrow.parquet as pq

    st = path.stat()
    sig = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if sig not in _COLUMNS:
        _COLUMNS[sig] = frozenset(pq.read_schema(path).names)
    return _COLUMNS[sig]


def _cheap_integrity(path: Path) -> str | None:
    """For layers stored before hashes were recorded: does the file still open?"""
    try:
        if path.suffix == ".tif":
            import rasterio

            with rasterio.open(path) as src:
                src.read(1, window=((src.height - 1, src.height), (0, src.width)))
        else:
            import pyarrow.parquet as pq

            pq.read_metadata(path)
    except Exception as err:  # noqa: BLE001 - any reader error means the file is damaged
        return f"stored layer {path} is corrupt ({type(err).__name__}: {str(err)[:120]})"
    return None


def _write_raster(raster: RasterData, path: Path) -> None:
    """Write a normalised raster as a tiled, compressed GeoTIFF in EPSG:27700."""
    import rasterio

    profile = dict(raster.profile)
    profile.update(
        driver="GTiff",
        count=1,
        crs=BNG,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        predictor=3 if str(raster.array.dtype).startswith("float") else 2,
    )
    profile["dtype"] = str(raster.array.dtype)
    profile["height"], profile["width"] = raster.array.shape
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(raster.array, 1)

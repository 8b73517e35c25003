"""Writing results: CSV for spreadsheets, GeoPackage for GIS, GeoParquet on request, a JSON
provenance sidecar naming every dataset (vintage, licence, hash) and the profile that went in, and
:class:`OutputSet`, which replaces a command's whole set of files at once.

Every file goes through the one atomic writer (:mod:`growth_zones.data.atomic`), so an interrupted
run never leaves a half file that looks finished.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import geopandas as gpd
import pandas as pd

from ..data.atomic import atomic_path
from ..data.atomic import write_json as _write_json
from ..data.store import package_version
from ..errors import InvalidInputError


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL/CSV can hold: nullable booleans and integers become floats, text stays text."""
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        dtype = out[col].dtype
        if str(dtype) in ("boolean", "Int64", "Int32"):
            out[col] = out[col].astype("float64")
        elif pd.api.types.is_object_dtype(dtype) or str(dtype).startswith("str"):
            out[col] = out[col].astype("string").fillna("").astype(str)
    return out


def write_csv(frame: pd.DataFrame, dest: Path) -> Path:
    plain = frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame
    with atomic_path(dest) as tmp:
        _flat(pd.DataFrame(plain)).to_csv(tmp, index=False)
    return dest


def write_gpkg(frame: gpd.GeoDataFrame, dest: Path, layer: str) -> Path:
    with atomic_path(dest) as tmp:
        _flat(frame).to_file(tmp, layer=layer, driver="GPKG")
    return dest


def write_geoparquet(frame: gpd.GeoDataFrame, dest: Path) -> Path:
    with atomic_path(dest) as tmp:
        _flat(frame).to_parquet(tmp, index=False)
    return dest


def write_parquet(frame: pd.DataFrame, dest: Path) -> Path:
    """A plain (non-geo) table, dtypes kept as they are (nullable booleans included)."""
    with atomic_path(dest) as tmp:
        frame.to_parquet(tmp)
    return dest


def write_json(obj: Any, dest: Path) -> Path:
    return _write_json(dest, obj)


def provenance_record(
    *,
    kind: str,
    profile: Any,
    provenance: list[dict[str, Any]],
    generated_at: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The sidecar: what went in (datasets with vintage, licence, hash) and how it was scored."""
    return {
        "kind": kind,
        "generated_at": generated_at,
        "package_version": package_version(),
        "profile": profile.to_dict() if hasattr(profile, "to_dict") else str(profile),
        "datasets": [
            {
                k: p.get(k)
                for k in (
                    "key",
                    "title",
                    "publisher",
                    "vintage",
                    "released",
                    "release_cadence",
                    "age_days",
                    "stale",
                    "copy",
                    "nations",
                    "coverage_area",
                    "licence",
                    "licence_url",
                    "attribution",
                    "non_commercial",
                    "source_urls",
                    "raw_sha256",
                    "retrieved_at",
                    "crs_transformation",
                )
            }
            for p in provenance
        ],
        "non_commercial_datasets": [p["key"] for p in provenance if p.get("non_commercial")],
        "stale_datasets": [
            {
                "key": p["key"],
                "vintage": p.get("vintage"),
                "released": p.get("released"),
                "age_days": p.get("age_days"),
                "release_cadence": p.get("release_cadence"),
            }
            for p in provenance
            if p.get("stale")
        ],
        **(extra or {}),
    }


class OutputSet:
    """The files (and folders) one command writes into ``out``, replaced as a whole.

    ``members`` names every file or folder the command can write, whichever formats are asked for
    this time. On entry it refuses when any member exists and ``overwrite`` is false, and yields a
    staging folder inside ``out``; the command writes there. On a clean exit every previous member
    is removed and the new files are moved into place, so ``--overwrite`` never leaves a stale
    GeoPackage or report page from an earlier run; on an error the staging folder is deleted and
    the previous outputs are untouched.
    """

    def __init__(self, out: Path, members: Iterable[str], *, overwrite: bool) -> None:
        self.out = Path(out)
        self.members = tuple(dict.fromkeys(members))
        self.overwrite = overwrite
        self.staging: Path | None = None
        self.written: dict[str, Path] = {}

    def existing(self) -> list[str]:
        return [m for m in self.members if (self.out / m).exists()]

    def check(self) -> None:
        """Raise :class:`InvalidInputError` if the set cannot be written (before any work)."""
        if self.out.exists() and not self.out.is_dir():
            raise InvalidInputError(
                f"--out {self.out} is a file, not a folder: choose a folder for the outputs"
            )
        clash = self.existing()
        if clash and not self.overwrite:
            raise InvalidInputError(
                f"{self.out} already holds {', '.join(clash)}; pass --overwrite to replace them or choose another --out"
            )

    def __enter__(self) -> Path:
        self.check()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out))
        except OSError as err:
            raise InvalidInputError(f"cannot write outputs to {self.out}: {err.strerror or err}") from err
        return self.staging

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.staging is not None
        try:
            if kind is None:
                self._publish(self.staging)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _publish(self, staging: Path) -> None:
        new = [p.name for p in staging.iterdir()]
        unknown = sorted(set(new) - set(self.members))
        if unknown:  # a programming error: the list of outputs must live in one place
            raise RuntimeError(f"outputs not declared in the output set: {unknown}")
        for member in self.members:
            old = self.out / member
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old.exists() or old.is_symlink():
                old.unlink()
        for name in new:
            (staging / name).replace(self.out / name)
            self.written[name] = self.out / name

    def path(self, name: str) -> Path:
        """Where ``name`` will be once published."""
        return self.out / name

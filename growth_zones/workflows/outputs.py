"""Writing results: CSV for spreadsheets, GeoPackage for GIS, GeoParquet on request, a JSON
provenance sidecar naming every dataset (vintage, licence, hash) and the profile that went in, and
:class:`OutputSet`, which replaces a command's whole set of files at once.

Every file goes through the one atomic writer (:mod:`growth_zones.data.atomic`), so an interrupted
run never leaves a half file that looks finished.

CSV files are spreadsheet-safe (OWASP, "CSV Injection",
https://owasp.org/www-community/attacks/CSV_Injection): a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (and is not a plain number) is written with a leading
``'``, so Excel or LibreOffice shows it as text instead of running it as a formula. A cell that
already begins with ``'`` gets one more, so :func:`read_csv_output` restores every value exactly.
The GeoPackage, GeoParquet and JSON outputs keep the raw text.
"""

from __future__ import annotations

import os
import re
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
    """Columns GDAL/CSV can hold: nullable booleans become floats (1.0/0.0/empty), nullable
    integers stay integers (a year is written ``2030``, never ``2030.0``), text stays text."""
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        dtype = out[col].dtype
        if str(dtype) == "boolean":
            out[col] = out[col].astype("float64")
        elif str(dtype) in ("Int32", "Int16", "Int8"):
            out[col] = out[col].astype("Int64")
        elif pd.api.types.is_object_dtype(dtype) or str(dtype).startswith("str"):
            out[col] = out[col].astype("string").fillna("").astype(str)
    return out


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP CSV injection)."""
_TRIGGER_OR_QUOTE = re.compile(r"^[=+\-@\t\r']")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_safe(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a leading ``'`` before a formula
    trigger (``= + - @``, tab, carriage return) unless the cell is a plain number such as ``-3.5``,
    and before an existing leading ``'`` (so the escaping can be undone exactly)."""
    if _TRIGGER_OR_QUOTE.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def unescape_spreadsheet(value: str) -> str:
    """Undo :func:`spreadsheet_safe`."""
    return value[1:] if value.startswith("'") else value


def _safe_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns=lambda c: spreadsheet_safe(str(c)))
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype(str)
            risky = text.str.match(_TRIGGER_OR_QUOTE) & ~text.str.match(_PLAIN_NUMBER)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


CSV_CHUNK_CELLS = 1_000_000
"""Rows are converted and written this many cells at a time, so a large table's text copies (the
flattened and spreadsheet-safe columns) are one chunk's, never the whole table's."""


def write_csv(frame: pd.DataFrame, dest: Path) -> Path:
    """A spreadsheet-safe CSV (UTF-8, RFC 4180 CRLF line ends, so a cell holding a carriage return
    is quoted): see the module docstring. Written in chunks of rows (the same bytes as in one go:
    every conversion is per cell)."""
    plain = frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame
    rows = max(1, CSV_CHUNK_CELLS // max(1, len(plain.columns)))
    with atomic_path(dest) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, max(1, len(plain)), rows):
            part = _safe_text_columns(_flat(pd.DataFrame(plain.iloc[start : start + rows])))
            part.to_csv(fh, index=False, header=start == 0, lineterminator="\r\n")
    return dest


def read_csv_output(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV this package wrote, every text cell (and header) back to its raw value."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)
    frame = frame.rename(columns=lambda c: unescape_spreadsheet(str(c)))
    for col in frame.columns:
        frame[col] = frame[col].map(unescape_spreadsheet)
    return frame


def write_gpkg(frame: gpd.GeoDataFrame, dest: Path, layer: str) -> Path:
    """A GeoPackage layer, written by pyogrio through Arrow where GDAL supports it (GDAL >= 3.8:
    the same fields, types and values, about twice as fast as feature by feature)."""
    with atomic_path(dest) as tmp:
        _flat(frame).to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio", use_arrow=_gdal_arrow())
    return dest


def _gdal_arrow() -> bool:
    """Whether pyogrio can write through Arrow here (GDAL's Arrow write API, GDAL >= 3.8)."""
    import pyogrio

    return tuple(pyogrio.__gdal_version__) >= (3, 8)


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


class _FolderLock:
    """An exclusive lock on a folder, shared by every process on this machine.

    POSIX: ``flock`` on the folder itself (an open descriptor of the directory), so no lock file is
    left anywhere and the operating system releases it when the holder dies. Elsewhere: a lock file
    named after the folder in the system temp folder (``filelock``).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None
        self._file: Any = None

    def acquire(self, *, blocking: bool = True) -> bool:
        try:
            import fcntl
        except ImportError:  # Windows
            return self._acquire_file(blocking)
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def _acquire_file(self, blocking: bool) -> bool:
        import hashlib

        from filelock import FileLock, Timeout

        folder = Path(tempfile.gettempdir()) / "growth-zones-locks"
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(self.folder.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        lock = FileLock(str(folder / f"{name}.lock"))
        try:
            lock.acquire(timeout=-1 if blocking else 0)
        except Timeout:
            return False
        self._file = lock
        return True

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._file is not None:
            self._file.release()
            self._file = None

    def __enter__(self) -> _FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_FRESH_STAGING_S = 60.0
"""A staging folder younger than this is never cleaned up, locked or not: it may be a live run's,
created an instant before its lock was taken."""


class OutputSet:
    """The files (and folders) one command writes into ``out``, replaced as a whole.

    ``members`` names every file or folder the command can write, whichever formats are asked for
    this time. On entry it refuses when any member exists and ``overwrite`` is false, and yields a
    staging folder inside ``out`` (same filesystem, so publishing is a handful of renames); the
    command writes there. On a clean exit the previous members are moved aside, the new files are
    moved into place and the old ones deleted, so ``--overwrite`` never leaves a stale GeoPackage
    or report page from an earlier run, and a failure half-way through publishing puts the old set
    back. On an error the staging folder is deleted and the previous outputs are untouched.

    Concurrent runs into one ``out`` publish one after the other (a lock per output folder), and a
    run that finds outputs published meanwhile by another refuses unless ``overwrite``. Staging
    folders of runs that were killed are removed by the next run (each live run holds a lock on
    its own staging folder; one younger than a minute is always left alone).
    """

    def __init__(
        self, out: Path, members: Iterable[str], *, overwrite: bool, option: str | None = "--out"
    ) -> None:
        self.out = Path(out)
        self.members = tuple(dict.fromkeys(members))
        self.overwrite = overwrite
        self.option = option
        """How the user named the folder (``--out``), quoted in refusals; ``None`` when the
        folder is not a choice of output (``map`` re-renders the folder it reads)."""
        self.staging: Path | None = None
        self.written: dict[str, Path] = {}
        self._stage_lock: Any = None

    def existing(self) -> list[str]:
        return [m for m in self.members if (self.out / m).exists() or (self.out / m).is_symlink()]

    def check(self) -> None:
        """Raise :class:`InvalidInputError` if the set cannot be written (before any work)."""
        named = f"{self.option} {self.out}" if self.option else f"folder {self.out}"
        if self.out.exists() and not self.out.is_dir():
            raise InvalidInputError(f"{named} is a file, not a folder: choose a folder for the outputs")
        for parent in self.out.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InvalidInputError(
                        f"{named}: {parent} is a file, not a folder: choose a folder for the outputs"
                    )
                break
        clash = self.existing()
        if clash and not self.overwrite:
            other = f" or choose another {self.option}" if self.option else ""
            raise InvalidInputError(
                f"{self.out} already holds {', '.join(clash)}; pass --overwrite to replace them{other}"
            )

    def __enter__(self) -> Path:
        self.check()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._remove_abandoned()
            self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out))
            self._stage_lock = _FolderLock(self.staging)
            self._stage_lock.acquire()
        except OSError as err:
            raise InvalidInputError(f"cannot write outputs to {self.out}: {err.strerror or err}") from err
        return self.staging

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.staging is not None
        try:
            if kind is None:
                with _FolderLock(self.out):
                    clash = self.existing()
                    if clash and not self.overwrite:
                        raise InvalidInputError(
                            f"another run wrote {', '.join(clash)} into {self.out} meanwhile; pass --overwrite "
                            "to replace them or choose another --out"
                        )
                    self._publish(self.staging)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
            if self._stage_lock is not None:
                self._stage_lock.release()

    def _remove_abandoned(self) -> None:
        """Delete staging folders of runs that died (older than a minute, and their lock is free)
        and set-aside folders of a publish that was killed half-way."""
        import time

        for folder in self.out.glob(".staging-*"):
            try:
                if time.time() - folder.stat().st_mtime < _FRESH_STAGING_S:
                    continue
                lock = _FolderLock(folder)
                if not lock.acquire(blocking=False):
                    continue  # a live run is writing there
            except OSError:
                continue  # gone meanwhile
            try:
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                lock.release()
        with _FolderLock(self.out):
            for folder in self.out.glob(".replaced-*"):
                shutil.rmtree(folder, ignore_errors=True)

    def _publish(self, staging: Path) -> None:
        new = [p.name for p in staging.iterdir()]
        unknown = sorted(set(new) - set(self.members))
        if unknown:  # a programming error: the list of outputs must live in one place
            raise RuntimeError(f"outputs not declared in the output set: {unknown}")
        aside = Path(tempfile.mkdtemp(prefix=".replaced-", dir=self.out))
        moved_old: list[str] = []
        moved_new: list[str] = []
        try:
            for member in self.members:
                old = self.out / member
                if old.exists() or old.is_symlink():
                    os.replace(old, aside / member)
                    moved_old.append(member)
            for name in new:
                os.replace(staging / name, self.out / name)
                moved_new.append(name)
        except OSError as err:
            for name in moved_new:  # put the previous set back: all or nothing
                target = self.out / name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
            for member in moved_old:
                os.replace(aside / member, self.out / member)
            raise InvalidInputError(
                f"cannot write outputs to {self.out}: {err.strerror or err}; the previous outputs were kept"
            ) from err
        finally:
            shutil.rmtree(aside, ignore_errors=True)
        for name in new:
            self.written[name] = self.out / name

    def path(self, name: str) -> Path:
        """Where ``name`` will be once published."""
        return self.out / name

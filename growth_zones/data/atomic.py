"""The one atomic writer: every file the project writes (raw downloads, stored layers, provenance
sidecars, derived caches, outputs) appears under its final name only when complete.

Bytes go to a temporary file beside the destination (same folder, so the final ``os.replace`` is an
atomic rename on one filesystem); an exception deletes the temporary file. Temporary names are
``.<name>.<random>.part<suffix>``: hidden, recognisable as unfinished, and ending in the
destination's suffix so format drivers (GDAL) still recognise the file type.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

PART_GLOB = ".*.part*"
"""Pattern of unfinished temporary files (for cleaning up after a killed process)."""

_CHUNK = 1 << 16
_HASHES: dict[tuple[str, int, int, int], str] = {}
"""sha256 of files already hashed in this process, by (path, size, mtime_ns, inode): re-verifying a
cached file on every read costs one stat once it has been hashed."""


def sha256_file(path: Path) -> str:
    """The sha256 of a file (hex), remembered for as long as its size, mtime and inode stay the same."""
    st = os.stat(path)
    sig = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    known = _HASHES.get(sig)
    if known is not None:
        return known
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    digest = h.hexdigest()
    _HASHES[sig] = digest
    return digest


def part_files(folder: Path, stem: str | None = None) -> list[Path]:
    """Unfinished temporary files in ``folder`` (those of destination ``stem`` only, if given)."""
    if not folder.is_dir():
        return []
    pattern = f".{stem}.*.part*" if stem else PART_GLOB
    return [p for p in folder.glob(pattern) if p.is_file()]


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_name(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".part{dest.suffix}", dir=dest.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); the finished file should be as readable as any other
    # file the user writes (reports and provenance on shared drives)
    os.chmod(tmp, _default_mode())
    return Path(tmp)


class AtomicFile:
    """A binary file written in chunks (with a running sha256 and size), renamed into place by
    :meth:`commit`. As a context manager it commits on success and discards on error."""

    def __init__(self, dest: Path) -> None:
        self.dest = Path(dest)
        self.tmp = _temp_name(self.dest)
        self.fh = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/discard
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.fh.write(chunk)
        self.hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self.hash.hexdigest()

    def commit(self) -> Path:
        self.fh.close()
        os.replace(self.tmp, self.dest)
        return self.dest

    def discard(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest`` for writers that need a file name (GDAL, Parquet,
    rasterio); on success it replaces ``dest``, on error it is deleted. The path does not exist
    when yielded (GDAL refuses to create over an existing empty file)."""
    dest = Path(dest)
    tmp = _temp_name(dest)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(dest: Path, data: bytes) -> tuple[str, int]:
    """Write ``data`` atomically; return its ``(sha256, size)``."""
    with AtomicFile(dest) as out:
        out.write(data)
    return out.sha256, out.size


def write_text(dest: Path, text: str) -> Path:
    write_bytes(dest, text.encode("utf-8"))
    return Path(dest)


def write_json(dest: Path, obj: Any) -> Path:
    """Pretty JSON (UTF-8, non-ASCII kept), atomically."""
    return write_text(dest, json.dumps(obj, indent=2, ensure_ascii=False, default=str))

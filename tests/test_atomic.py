"""The one atomic writer: complete files only, nothing left behind on error, normal permissions."""

from __future__ import annotations

import os
import stat

import pytest

from growth_zones.data.atomic import AtomicFile, atomic_path, write_bytes


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_bytes(tmp_path / "a.json", b"{}")
        with atomic_path(tmp_path / "b.csv") as tmp:
            tmp.write_text("x")
        for name in ("a.json", "b.csv"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    finally:
        os.umask(old)


def test_an_error_leaves_neither_file_nor_temporary(tmp_path):
    (tmp_path / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicFile(tmp_path / "keep.txt") as out:
            out.write(b"half")
            raise RuntimeError("interrupted")
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "other.gpkg") as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "old"


def test_hash_and_size_are_of_what_was_written(tmp_path):
    import hashlib

    digest, size = write_bytes(tmp_path / "f.bin", b"abc" * 1000)
    assert size == 3000 and digest == hashlib.sha256(b"abc" * 1000).hexdigest()

"""Shared fixtures.

Real-data tests read ``../shared/data`` (or the location in ``GROWTH_ZONES_MIRROR`` that holds it).
Where it is absent — a user's fresh clone — they skip with a clear reason; under ``CI=true`` they
fail instead, so CI can never go green by skipping them. Tests that need the real map libraries
(the npm tarballs the catalogue pins) find them in a ``GROWTH_ZONES_MIRROR`` location holding
``npm/`` (``.ci/run`` stages one with ``npm pack``), with the same skip/fail rule.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mirror_dirs() -> list[Path]:
    from growth_zones.settings import mirror_locations

    locs = mirror_locations(os.environ.get("GROWTH_ZONES_MIRROR"))
    return [Path(loc).expanduser().resolve() for loc in locs if not loc.startswith(("http://", "https://"))]


def shared_data_dir() -> Path:
    """The real public datasets: the GROWTH_ZONES_MIRROR location holding SOURCES.md, else
    ``../shared/data`` beside the checkout."""
    dirs = _mirror_dirs()
    for d in dirs:
        if (d / "SOURCES.md").exists():
            return d
    return dirs[0] if len(dirs) == 1 else REPO.parent / "shared" / "data"


def npm_mirror_dir() -> Path | None:
    """The GROWTH_ZONES_MIRROR location holding every map-library tarball of the catalogue."""
    from growth_zones.data.catalogue import asset_entries

    wanted = [p for d in asset_entries() for p in d.mirror_paths]
    for d in _mirror_dirs():
        if all((d / p).is_file() for p in wanted):
            return d
    return None


def require_npm_mirror() -> Path:
    path = npm_mirror_dir()
    if path is None:
        msg = (
            "no GROWTH_ZONES_MIRROR location holds the map-library tarballs (npm/*.tgz, see .ci/run): "
            "tests of pages with the real libraries need them"
        )
        if on_ci():
            pytest.fail(msg + " and CI=true requires them")
        pytest.skip(msg)
    return path


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_shared_data() -> Path:
    path = shared_data_dir()
    if not (path / "SOURCES.md").exists():
        msg = f"real public datasets not found at {path} (../shared/data): real-data tests need them"
        if on_ci():
            pytest.fail(msg + " and CI=true requires them")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public datasets (skip locally when absent, fail on CI)."""
    return require_shared_data()


@pytest.fixture(scope="session")
def npm_mirror() -> Path:
    """A mirror folder with the catalogue's npm tarballs (skip locally when absent, fail on CI)."""
    return require_npm_mirror()


@pytest.fixture(scope="session")
def map_libraries(tmp_path_factory: pytest.TempPathFactory, npm_mirror: Path):
    """The real map libraries, fetched from the npm mirror through the fetch module into a private
    cache and read from the verified tarballs (what ``--html`` bundles)."""
    from growth_zones.data.assets import fetch_assets
    from growth_zones.report import libraries_from_assets
    from growth_zones.settings import Settings

    s = Settings(cache_dir=tmp_path_factory.mktemp("libs_cache"), mirror=str(npm_mirror), offline=False)
    got = fetch_assets(s)
    assert got.complete, got.problems
    libs = libraries_from_assets(got)
    assert libs.bundled, libs.problem
    return libs


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with a private cache and no mirror: nothing can reach the internet unnoticed."""
    from growth_zones.settings import Settings

    return Settings(
        cache_dir=tmp_path / "cache", mirror=None, offline=False, timeout=5, retries=2, backoff=0.01
    )


@pytest.fixture
def cli_runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def loopback(shared_data: Path):
    """A loopback HTTP server serving the real files, with fault injection (see tests/_server.py)."""
    from tests._server import LoopbackServer

    server = LoopbackServer(shared_data)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mirror_cache(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    """A cache filled once per session from the real mirror: every default dataset pulled."""
    from growth_zones.data.pull import pull
    from growth_zones.settings import Settings

    s = Settings(cache_dir=tmp_path_factory.mktemp("mirror_cache"), mirror=str(shared_data), offline=False)
    report = pull(settings=s)
    failed = [(o.key, o.message) for o in report.failed]
    assert not failed, failed
    return s


# Browser fixtures (one Chromium per session, shared by every browser test module).
from tests._browser import artifacts, browser  # noqa: E402,F401

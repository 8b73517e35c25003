"""Shared fixtures.

Real-data tests read ``../shared/data`` (or ``GROWTH_ZONES_MIRROR``). Where it is absent — a user's
fresh clone — they skip with a clear reason; under ``CI=true`` they fail instead, so CI can never
go green by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    env = os.environ.get("GROWTH_ZONES_MIRROR")
    if env and not env.startswith(("http://", "https://")):
        return Path(env).resolve()
    return REPO.parent / "shared" / "data"


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
from tests._browser import artifacts, browser, map_assets  # noqa: E402,F401

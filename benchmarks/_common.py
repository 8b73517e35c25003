"""Shared set-up for the benchmarks: a layer cache filled from the dataset mirror (untimed), and the
layers read back through the one layer loader (``LayerSet.load``), exactly as the CLI reads them."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def default_mirror() -> str:
    """``GROWTH_ZONES_MIRROR`` (several locations separated by ``os.pathsep``), else the
    ``shared/data`` folder beside the checkout."""
    return os.environ.get("GROWTH_ZONES_MIRROR") or str(REPO.parent / "shared" / "data")


def data_mirror(mirror: str) -> str:
    """The mirror location holding the datasets (the one with ``SOURCES.md``), else ``mirror``."""
    from growth_zones.settings import mirror_locations

    return next((loc for loc in mirror_locations(mirror) if (Path(loc) / "SOURCES.md").exists()), mirror)


def warm_settings(mirror: str | None = None, cache: str | None = None):
    """Settings whose cache holds every default dataset (pulled from the mirror once, not timed)."""
    from growth_zones import api
    from growth_zones.settings import Settings

    settings = Settings(
        cache_dir=Path(cache or tempfile.mkdtemp(prefix="gz-bench-")), mirror=mirror or default_mirror()
    )
    report = api.pull(settings=settings)
    if not report.ok:
        raise SystemExit(f"could not fill the benchmark cache: {[(o.key, o.message) for o in report.failed]}")
    return settings


def load_layers(settings, names=None):
    from growth_zones.data.layers import LayerSet
    from growth_zones.data.store import Store

    store = Store(settings)
    return LayerSet.load(store, names=names), store


def cache_env(settings) -> dict[str, str]:
    """The environment that points a command at the benchmark's cache and mirror."""
    return {"GROWTH_ZONES_CACHE": str(settings.cache_dir), "GROWTH_ZONES_MIRROR": str(settings.mirror)}


def machine() -> dict[str, object]:
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_1min_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }

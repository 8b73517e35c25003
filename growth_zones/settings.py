"""Run-time settings: where the cache lives, where data comes from, how patient downloads are.

Defaults come from the environment so that a closed network, CI and the tests can redirect every
download without code changes:

``GROWTH_ZONES_CACHE``
    Cache directory (default: ``platformdirs.user_cache_dir("growth_zones")``).
``GROWTH_ZONES_MIRROR``
    A directory or ``http(s)://`` base URL holding each dataset under its catalogue ``mirror_path``;
    several locations separated by ``os.pathsep`` (``:`` on Linux and macOS, ``;`` on Windows) are
    searched in order (see :func:`mirror_locations`). When set, official endpoints are never
    contacted.
``GROWTH_ZONES_OFFLINE``
    ``1``/``true``: use the cache only and fail naming every missing dataset.
``GROWTH_ZONES_TIMEOUT``
    Per-request timeout in seconds (default 60): how long one read may wait for the next bytes.
``GROWTH_ZONES_PROBE_TIMEOUT``
    Seconds to wait for each host's first answer before any download (default 3): a machine
    without a network learns it in seconds, not after every retry of every dataset.
``GROWTH_ZONES_DOWNLOAD_DEADLINE``
    Overall deadline of one download in seconds, retries included (default 1800): a server that
    drips a byte every few seconds cannot keep a pull running forever.
``GROWTH_ZONES_MAX_DOWNLOAD_MB``
    Largest raw download accepted, in MB (default 1024), unless the dataset's catalogue entry sets
    its own ``max_size_mb``: a server sending an endless body cannot fill the disk.
``GROWTH_ZONES_LOCK_TIMEOUT``
    How long a pull waits for another process pulling the same dataset, in seconds (default 600).

A value that is not a positive number is an :class:`~growth_zones.errors.InvalidInputError`
naming the variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InvalidInputError

BNG = "EPSG:27700"
"""The one CRS every computation uses: OSGB36 / British National Grid, metres."""
WGS84 = "EPSG:4326"
"""Only for display (folium) and for parsing lon/lat inputs."""


def _default_cache_dir() -> Path:
    env = os.environ.get("GROWTH_ZONES_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("growth_zones"))


def _env_seconds(name: str, default: float) -> float:
    """A positive number from the environment variable ``name`` (else ``default``)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InvalidInputError(f"{name}={raw!r} is not a positive number; unset it or give e.g. {default:g}")
    return value


_URL_ITEM = re.compile(r"https?://[^/:]*(?::\d+)?[^:]*")


def mirror_locations(value: str | None, *, sep: str = os.pathsep) -> tuple[str, ...]:
    """The mirror locations in ``value``, in search order.

    Locations are separated by ``sep`` (``os.pathsep``). With ``:`` as separator an
    ``http(s)://host[:port]/path`` location keeps its own colons: ``"/srv/gz-mirror:http://mirror:8080/gz"``
    is two locations. Empty items are dropped.

    >>> mirror_locations("/data/shared:/tmp/npm", sep=":")
    ('/data/shared', '/tmp/npm')
    >>> mirror_locations("http://127.0.0.1:8000/m:/srv/npm", sep=":")
    ('http://127.0.0.1:8000/m', '/srv/npm')
    """
    if not value:
        return ()
    if sep != ":":
        return tuple(p.strip() for p in value.split(sep) if p.strip())
    items: list[str] = []
    pos = 0
    while pos <= len(value):
        m = _URL_ITEM.match(value, pos)
        if m is not None:
            item, pos = m.group(0), m.end() + 1
        else:
            end = value.find(":", pos)
            end = len(value) if end < 0 else end
            item, pos = value[pos:end], end + 1
        if item.strip():
            items.append(item.strip())
    return tuple(items)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Immutable settings passed explicitly through the library (no hidden globals)."""

    cache_dir: Path = field(default_factory=_default_cache_dir)
    mirror: str | None = field(default_factory=lambda: os.environ.get("GROWTH_ZONES_MIRROR") or None)
    offline: bool = field(default_factory=lambda: _truthy(os.environ.get("GROWTH_ZONES_OFFLINE")))
    timeout: float = field(default_factory=lambda: _env_seconds("GROWTH_ZONES_TIMEOUT", 60.0))
    download_deadline: float = field(
        default_factory=lambda: _env_seconds("GROWTH_ZONES_DOWNLOAD_DEADLINE", 1800.0)
    )
    """Seconds one download may take in all (every read, retry and backoff included)."""
    max_download_mb: float = field(
        default_factory=lambda: _env_seconds("GROWTH_ZONES_MAX_DOWNLOAD_MB", 1024.0)
    )
    """Largest raw download (MB) for datasets whose catalogue entry sets no ``max_size_mb``."""
    lock_timeout: float = field(default_factory=lambda: _env_seconds("GROWTH_ZONES_LOCK_TIMEOUT", 600.0))
    """Seconds a pull waits for another process that holds the same dataset's lock."""
    retries: int = 3
    backoff: float = 0.5
    progress: bool = False
    probe_timeout: float = field(default_factory=lambda: _env_seconds("GROWTH_ZONES_PROBE_TIMEOUT", 3.0))

    def __post_init__(self) -> None:
        if not isinstance(self.cache_dir, Path):  # accept str paths from callers and notebooks
            object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())

    def with_(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @property
    def locks_dir(self) -> Path:
        """One lock file per dataset: concurrent pulls of the same dataset take turns."""
        return self.cache_dir / "locks"

    @property
    def mirrors(self) -> tuple[str, ...]:
        """The mirror locations (folders or base URLs), in search order; empty without a mirror."""
        return mirror_locations(self.mirror)

    @property
    def raw_dir(self) -> Path:
        """Downloaded files exactly as published."""
        return self.cache_dir / "raw"

    @property
    def layers_dir(self) -> Path:
        """Normalised canonical layers (GeoParquet / GeoTIFF) with provenance sidecars."""
        return self.cache_dir / "layers"

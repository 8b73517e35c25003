"""Raw assets: files fetched, hash-checked and cached like datasets but never normalised.

A catalogue entry with ``kind = "asset"`` (the map libraries the HTML reports inline, as npm
registry tarballs) goes through the same path as a dataset: cache -> mirror locations (in order)
-> official URL, pinned sha256, atomic writes (:mod:`growth_zones.data.fetch`, the only network
code). The verified file in the raw cache is the product; nothing is written to ``layers/``.

A cached asset is re-hashed against its pinned sha256 every time it is used (a few MB), so a
corrupted cache file is fetched again instead of being inlined into a report.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from ..errors import DataSourceError, GrowthZonesError, UnreachableError
from ..settings import Settings
from . import fetch as _fetch
from .catalogue import Dataset, asset_entries, load_catalogue

log = logging.getLogger(__name__)


@dataclass
class AssetSet:
    """The assets that could be had (``paths``: key -> verified file) and, for every one that could
    not, a one-line reason (``problems``: key -> reason)."""

    paths: dict[str, Path] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    via: dict[str, str] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    """Hosts that did not answer."""

    @property
    def complete(self) -> bool:
        return not self.problems and len(self.paths) == len(self.datasets)


def verified(ds: Dataset, settings: Settings) -> Path | None:
    """The cached file of asset ``ds`` if it is complete and matches its pinned sha256, else None.

    A cached file whose hash no longer matches is deleted (with a warning), so the next fetch
    replaces it.
    """
    hit = _fetch.cached(ds, settings, verify=False)  # checked against the pinned hash just below
    if hit is None:
        return None
    for path, expected in zip(hit.paths, ds.sha256, strict=True):
        actual = _fetch.sha256_file(path)
        if expected and actual != expected:
            log.warning(
                "cached %s does not match its pinned sha256 (expected %s, got %s): deleted, fetching again",
                path,
                expected,
                actual,
            )
            _fetch.clear_raw(ds, settings)
            return None
    return hit.paths[0]


def _host(ds: Dataset, settings: Settings) -> str:
    mirrors = settings.mirrors
    if len(mirrors) > 1:
        return ""
    return urlparse(mirrors[0] if mirrors else ds.url).netloc


def fetch_assets(
    settings: Settings | None = None,
    *,
    keys: Iterable[str] | None = None,
    catalogue: dict[str, Dataset] | None = None,
) -> AssetSet:
    """Make every asset (or those in ``keys``) available in the raw cache, verified.

    Never raises for an asset that cannot be had: its reason goes into ``problems`` (offline and
    not cached, no mirror location has it, the host does not answer, hash mismatch). After one
    host fails to answer, the other assets from it are skipped rather than each waiting out its
    retries.
    """
    settings = settings or Settings()
    cat = catalogue or load_catalogue()
    wanted = set(keys) if keys is not None else None
    out = AssetSet()
    dead = out.unreachable
    todo: list[Dataset] = []
    for ds in asset_entries(cat):
        if wanted is not None and ds.key not in wanted:
            continue
        out.datasets[ds.key] = ds
        path = verified(ds, settings)
        if path is not None:
            out.paths[ds.key], out.via[ds.key] = path, "cache"
        elif settings.offline:
            out.problems[ds.key] = "not in the cache (offline mode)"
        else:
            todo.append(ds)
    # one short probe of every host first (like a dataset pull): a network that drops packets costs
    # the probe timeout, not every asset's retries
    urls = [
        u
        for ds in todo
        for u in _fetch.source_locations(ds, settings)
        if u.startswith(("http://", "https://"))
    ]
    down = (
        {h: why for h, why in _fetch.probe_hosts(urls, settings.probe_timeout).items() if why} if urls else {}
    )
    for ds in todo:
        locs = [urlparse(u).netloc for u in _fetch.source_locations(ds, settings)]
        if locs and all(h in down for h in locs):  # every place this asset could come from is down
            out.problems[ds.key] = "; ".join(
                f"{h} could not be reached ({down[h]})" for h in dict.fromkeys(locs)
            )
            dead.update(locs)
            continue
        host = _host(ds, settings)
        if host and host in dead:
            out.problems[ds.key] = f"skipped: {host} could not be reached"
            continue
        use = settings
        if len(settings.mirrors) > 1 and down:  # leave out the mirror locations that did not answer
            alive = [m for m in settings.mirrors if urlparse(m).netloc not in down]
            use = replace(settings, mirror=os.pathsep.join(alive))
        try:
            result = _fetch.fetch(ds, use)
        except UnreachableError as err:
            dead.add(err.host)
            out.problems[ds.key] = str(err)
            continue
        except GrowthZonesError as err:
            out.problems[ds.key] = str(err)
            continue
        path = verified(ds, settings)
        if path is None:  # pragma: no cover - fetch() checks the pinned hash before caching
            out.problems[ds.key] = "fetched file failed its sha256 check"
            continue
        log.info("asset %s ready via %s: %s", ds.key, result.via, path)
        out.paths[ds.key], out.via[ds.key] = path, result.via
    return out


def read_members(tarball: Path, names: Iterable[str]) -> dict[str, bytes]:
    """The bytes of the named members of a (gzipped) tarball; a missing member is an error that
    names the tarball and the member."""
    wanted = list(dict.fromkeys(names))
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(tarball, "r:*") as tar:
            for name in wanted:
                try:
                    member = tar.getmember(name)
                except KeyError:
                    continue
                fh = tar.extractfile(member)
                if fh is not None:
                    found[name] = fh.read()
    except (OSError, tarfile.TarError) as err:
        raise DataSourceError(f"{tarball}: unreadable tarball ({err})") from err
    missing = [n for n in wanted if n not in found]
    if missing:
        raise DataSourceError(f"{tarball} has no member(s) {', '.join(missing)}")
    return found


def clear_assets(settings: Settings, catalogue: dict[str, Dataset] | None = None) -> None:
    """Forget every cached asset (tests)."""
    for ds in asset_entries(catalogue or load_catalogue()):
        shutil.rmtree(settings.raw_dir / ds.key, ignore_errors=True)

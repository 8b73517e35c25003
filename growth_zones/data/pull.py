"""Fetch + normalise + store, for one dataset or many, in dependency order.

One dataset failing never stops the others: each outcome is reported, and the caller (the CLI)
turns "anything failed" into a non-zero exit code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import GrowthZonesError, OfflineError, UnreachableError
from ..settings import Settings
from . import fetch as _fetch
from .catalogue import Dataset, get_dataset
from .loaders import RawInput, get_normaliser
from .store import Store

log = logging.getLogger(__name__)


@dataclass
class PullOutcome:
    key: str
    ok: bool
    message: str
    rows: int | None = None
    seconds: float = 0.0
    via: str | None = None


@dataclass
class PullReport:
    outcomes: list[PullOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[PullOutcome]:
        return [o for o in self.outcomes if not o.ok]


def _with_requirements(keys: Iterable[str], catalogue: dict[str, Dataset]) -> list[Dataset]:
    """Requested datasets plus what they require, dependencies first (stable order)."""
    ordered: list[Dataset] = []
    seen: set[str] = set()

    def visit(key: str, stack: tuple[str, ...]) -> None:
        if key in seen:
            return
        if key in stack:
            raise GrowthZonesError(f"dependency cycle in the catalogue: {' -> '.join(stack + (key,))}")
        ds = get_dataset(key, catalogue)
        for dep in ds.requires:
            visit(dep, stack + (key,))
        seen.add(key)
        ordered.append(ds)

    for k in keys:
        visit(k, ())
    return ordered


def _source_host(ds: Dataset, settings: Settings) -> str:
    """The one host a dataset comes from ('' when that is not a single host: several mirrors)."""
    from urllib.parse import urlparse

    mirrors = settings.mirrors
    if len(mirrors) > 1:
        return ""
    return urlparse(mirrors[0] if mirrors else ds.url).netloc


def pull_one(
    ds: Dataset, store: Store, *, force: bool = False, unreachable: set[str] | None = None
) -> PullOutcome:
    """Fetch, normalise and store one dataset (its requirements must already be stored).

    ``unreachable`` collects hosts that did not answer in this run; later datasets from them fail
    at once instead of each waiting out its retries.
    """
    settings = store.settings
    t0 = time.perf_counter()
    if ds.asset:
        return _pull_asset(ds, store, force=force, unreachable=unreachable)
    if not force and store.has(ds.key):
        return PullOutcome(ds.key, True, "already stored", store.provenance(ds.key).get("rows"), 0.0, "cache")
    host = _source_host(ds, settings)
    if unreachable is not None and host and host in unreachable and _fetch.cached(ds, settings) is None:
        return PullOutcome(ds.key, False, f"skipped: {host} could not be reached earlier in this run")
    try:
        if force:
            _fetch.clear_raw(ds, settings)
        fetched = _fetch.fetch(ds, settings, force=force)
        deps = {dep: store.read_dataset(dep) for dep in ds.requires}
        normalised = get_normaliser(ds.normaliser)(RawInput(ds, fetched.paths, deps))
        prov = store.write(ds, normalised, fetched.to_dict())
    except UnreachableError as err:
        if unreachable is not None:
            unreachable.add(err.host)
        return PullOutcome(ds.key, False, str(err), None, time.perf_counter() - t0)
    except GrowthZonesError as err:
        return PullOutcome(ds.key, False, str(err), None, time.perf_counter() - t0)
    return PullOutcome(ds.key, True, "stored", prov["rows"], time.perf_counter() - t0, fetched.via)


def _pull_asset(ds: Dataset, store: Store, *, force: bool, unreachable: set[str] | None) -> PullOutcome:
    """A raw asset is fetched and verified only (no normaliser, nothing in ``layers/``)."""
    from .assets import fetch_assets

    t0 = time.perf_counter()
    host = _source_host(ds, store.settings)
    if unreachable and host in unreachable and _fetch.cached(ds, store.settings) is None:
        return PullOutcome(ds.key, False, f"skipped: {host} could not be reached earlier in this run")
    if force:
        _fetch.clear_raw(ds, store.settings)
    got = fetch_assets(store.settings, keys=[ds.key], catalogue=store.catalogue)
    if unreachable is not None:
        unreachable |= got.unreachable
    if got.problems:
        return PullOutcome(ds.key, False, got.problems[ds.key], None, time.perf_counter() - t0)
    via = got.via[ds.key]
    message = "already cached" if via == "cache" else "cached (raw asset, verified)"
    return PullOutcome(ds.key, True, message, None, time.perf_counter() - t0, via)


def pull(
    keys: Iterable[str] | None = None,
    *,
    settings: Settings | None = None,
    force: bool = False,
    on_progress: Callable[[PullOutcome], None] | None = None,
) -> PullReport:
    """Pull ``keys`` (default: every default catalogue dataset) and their requirements.

    In offline mode, every dataset missing from the cache is named in one :class:`OfflineError`.
    """
    store = Store(settings)
    catalogue = store.catalogue
    wanted = list(keys) if keys else [k for k, d in catalogue.items() if d.default]
    plan = _with_requirements(wanted, catalogue)
    if store.settings.offline:
        missing = [d.key for d in plan if not store.has(d.key) and _fetch.cached(d, store.settings) is None]
        if missing:
            raise OfflineError(missing)
    report = PullReport()
    failed: set[str] = set()
    unreachable: set[str] = set()
    for ds in plan:
        blocked = [d for d in ds.requires if d in failed]
        if blocked:
            outcome = PullOutcome(ds.key, False, f"skipped: required dataset(s) failed: {', '.join(blocked)}")
        else:
            outcome = pull_one(ds, store, force=force, unreachable=unreachable)
        if not outcome.ok:
            failed.add(ds.key)
        report.outcomes.append(outcome)
        if on_progress:
            on_progress(outcome)
    return report


def ensure_layers(
    layers: Iterable[str], settings: Settings | None = None, *, required: Iterable[str] = ()
) -> Store:
    """Make sure every default dataset feeding ``layers`` is stored, pulling on first use.

    A dataset that cannot be had is a warning when its layer is optional (the indicators that need
    it become *missing, with the reason*) and an error when its layer is in ``required``.
    """
    import warnings

    store = Store(settings)
    wanted = set(layers)
    keys = [d.key for d in store.catalogue.values() if d.default and d.layer in wanted]
    missing = [k for k in keys if not store.has(k)]
    if not missing:
        return store
    report = pull(missing, settings=store.settings)  # offline: raises OfflineError naming what is missing
    must = set(required)
    fatal = [o for o in report.failed if store.catalogue[o.key].layer in must]
    if fatal:
        lines = "; ".join(f"{o.key}: {o.message}" for o in fatal)
        raise GrowthZonesError(f"could not prepare the data: {lines}")
    for o in report.failed:
        warnings.warn(
            f"dataset {o.key} unavailable ({o.message}); indicators that need it are reported missing",
            stacklevel=2,
        )
    return store

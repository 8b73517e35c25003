"""Fetch + normalise + store, for one dataset or many, in dependency order.

One dataset failing never stops the others: each outcome is reported, and the caller (the CLI)
turns "anything failed" into a non-zero exit code. Each dataset is pulled under its file lock, so
concurrent pulls into one cache take turns; a stored layer that fails its integrity check (size and
sha256 recorded at store time) is rebuilt from the raw download, which is itself re-verified.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataSourceError, GrowthZonesError, OfflineError, UnreachableError
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
    from urllib.parse import urlparse

    return urlparse(settings.mirror if settings.mirror else ds.url).netloc


def pull_one(
    ds: Dataset, store: Store, *, force: bool = False, unreachable: set[str] | None = None
) -> PullOutcome:
    """Fetch, normalise and store one dataset (its requirements must already be stored).

    ``unreachable`` collects hosts that did not answer in this run; later datasets from them fail
    at once instead of each waiting out its retries.
    """
    settings = store.settings
    t0 = time.perf_counter()
    if not force and store.has(ds.key) and store.verify(ds.key) is None:
        return PullOutcome(ds.key, True, "already stored", store.provenance(ds.key).get("rows"), 0.0, "cache")
    host = _source_host(ds, settings)
    if (
        unreachable is not None
        and host
        and host in unreachable
        and _fetch.cached(ds, settings, verify=False) is None
    ):
        return PullOutcome(ds.key, False, f"skipped: {host} could not be reached earlier in this run")
    try:
        with _fetch.dataset_lock(ds, settings):
            if not force and store.has(ds.key):
                problem = store.verify(ds.key)  # again: another process may have rebuilt it meanwhile
                if problem is None:
                    prov = store.provenance(ds.key)
                    return PullOutcome(ds.key, True, "already stored", prov.get("rows"), 0.0, "cache")
                log.warning("%s: %s; rebuilding it from the raw download", ds.key, problem)
            if force:
                _fetch.clear_raw(ds, settings)
            fetched = _fetch.fetch(ds, settings, force=force)
            deps = {dep: store.read_dataset(dep) for dep in ds.requires}
            normalised = _normalise(ds, fetched, deps)
            prov = store.write(ds, normalised, fetched.to_dict())
    except UnreachableError as err:
        if unreachable is not None:
            unreachable.add(err.host)
        return PullOutcome(ds.key, False, str(err), None, time.perf_counter() - t0)
    except GrowthZonesError as err:
        return PullOutcome(ds.key, False, str(err), None, time.perf_counter() - t0)
    except OSError as err:  # a full disk, an unwritable cache folder
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        return PullOutcome(ds.key, False, f"{err.strerror or err}{where}", None, time.perf_counter() - t0)
    return PullOutcome(ds.key, True, "stored", prov["rows"], time.perf_counter() - t0, fetched.via)


def _normalise(ds: Dataset, fetched: _fetch.FetchResult, deps: dict[str, Any]) -> Any:
    """Run the dataset's normaliser; a raw file it cannot parse is a :class:`DataSourceError` that
    names the dataset and the file (the raw bytes passed their hash, so the publisher's format is
    not what the normaliser expects), never a traceback that stops the other datasets."""
    try:
        return get_normaliser(ds.normaliser)(RawInput(ds, fetched.paths, deps))
    except GrowthZonesError:
        raise
    except Exception as err:  # noqa: BLE001 - any parser failure (RecursionError too), named
        log.debug("normaliser %s failed", ds.normaliser, exc_info=True)
        files = ", ".join(p.name for p in fetched.paths)
        raise DataSourceError(
            f"dataset {ds.key}: the raw file(s) {files} could not be read by {ds.normaliser} "
            f"({type(err).__name__}: {str(err)[:200]}); check the catalogue entry and the source format"
        ) from err


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
        missing = [
            d.key
            for d in plan
            if not store.has(d.key) and _fetch.cached(d, store.settings, verify=False) is None
        ]
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
    """Make sure every default dataset feeding ``layers`` is stored and intact, pulling (or
    rebuilding a corrupt one) on first use.

    A dataset that cannot be had is an error when its layer is in ``required``. When its layer is
    optional the run goes on, and the dataset and why it could not be had are recorded in
    ``store.unavailable``: :meth:`~growth_zones.data.layers.LayerSet.load` carries them into the
    layer set, and the workflows turn them into checks that could not run (on stderr, in
    ``checks.csv``, the report banner, the provenance sidecar and the exit code).
    """
    store = Store(settings)
    wanted = set(layers)
    keys = [d.key for d in store.catalogue.values() if d.default and d.layer in wanted]
    missing = []
    for k in keys:
        if not store.has(k):
            missing.append(k)
            continue
        if store.verify(k):  # pull_one names the problem and rebuilds the layer
            missing.append(k)
    if not missing:
        return store
    report = pull(missing, settings=store.settings)  # offline: raises OfflineError naming what is missing
    must = set(required)
    fatal = [o for o in report.failed if store.catalogue[o.key].layer in must]
    if fatal:
        lines = "; ".join(f"{o.key}: {o.message}" for o in fatal)
        raise DataSourceError(f"could not prepare the data: {lines}")
    for o in report.failed:
        store.unavailable[o.key] = o.message
        log.info("dataset %s unavailable (%s)", o.key, o.message)
    return store

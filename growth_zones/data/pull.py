"""Fetch + normalise + store, for one dataset or many, in dependency order.

One dataset failing never stops the others: each outcome is reported, and the caller (the CLI)
turns "anything failed" into a non-zero exit code. Two kinds of dataset are *skipped*, not failed,
and said so: an optional dataset (no stable machine endpoint; see ``Dataset.manual``) that nobody
named, and a dataset a mirror holds no copy of. Their absence makes the checks that need them
"not checked", with the reason.

Before any download every host the plan needs is probed once, all at the same time, with a short
timeout (:func:`growth_zones.data.fetch.probe_hosts`); datasets from a host that does not answer
fail at once, naming the host and how to work offline, instead of each waiting out its retries.

Each dataset is pulled under its file lock, so concurrent pulls into one cache take turns; a stored
layer that fails its integrity check (size and sha256 recorded at store time) is rebuilt from the
raw download, which is itself re-verified against the hash recorded when it was fetched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataSourceError, GrowthZonesError, NotInMirror, OfflineError, UnreachableError
from ..settings import Settings
from . import fetch as _fetch
from .catalogue import Dataset, get_dataset
from .loaders import RawInput, get_normaliser
from .store import Store

log = logging.getLogger(__name__)
progress = _fetch.progress


@dataclass
class PullOutcome:
    key: str
    ok: bool
    message: str
    rows: int | None = None
    seconds: float = 0.0
    via: str | None = None
    skipped: bool = False
    """Not attempted on purpose (optional dataset, or no copy in the mirror): not a failure."""


@dataclass
class PullReport:
    outcomes: list[PullOutcome] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    """Hosts that did not answer the probe (or a download) in this run, with the reason."""

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[PullOutcome]:
        return [o for o in self.outcomes if not o.ok and not o.skipped]

    @property
    def skipped(self) -> list[PullOutcome]:
        return [o for o in self.outcomes if o.skipped]


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


def _skip_reason(ds: Dataset, settings: Settings, named: bool) -> str | None:
    """Why ``ds`` is skipped rather than fetched (None: fetch it)."""
    if settings.offline and ds.optional and not named and _fetch.cached(ds, settings, verify=False) is None:
        return "skipped: optional (no machine-readable endpoint) and not in the cache"
    if settings.mirror and not ds.mirror_paths:
        return "skipped: the mirror holds no copy of this dataset (it is fetched from the publisher without a mirror)"
    if ds.optional and not named and not settings.mirror:
        return (
            f"skipped: optional, no machine-readable endpoint ({ds.manual}); put a copy in a mirror to use it"
        )
    return None


def _is_mirror_copy(ds: Dataset, sha256: list[str]) -> bool:
    """The raw files are the catalogue's pinned mirror copy (same hashes)."""
    pinned = list(ds.sha256)
    return bool(pinned) and all(p is not None for p in pinned) and list(sha256) == pinned


def pull_one(
    ds: Dataset,
    store: Store,
    *,
    force: bool = False,
    unreachable: dict[str, str] | set[str] | None = None,
) -> PullOutcome:
    """Fetch, normalise and store one dataset (its requirements must already be stored).

    ``unreachable`` collects hosts that did not answer in this run (host -> reason); later datasets
    from them fail at once instead of each waiting out its retries.
    """
    settings = store.settings
    t0 = time.perf_counter()
    if ds.asset:
        return _pull_asset(ds, store, force=force, unreachable=unreachable)
    if not force and store.has(ds.key) and store.verify(ds.key) is None:
        return PullOutcome(ds.key, True, "already stored", store.provenance(ds.key).get("rows"), 0.0, "cache")
    host = _source_host(ds, settings)
    if (
        unreachable is not None
        and host
        and host in unreachable
        and _fetch.cached(ds, settings, verify=False) is None
    ):
        why = unreachable[host] if isinstance(unreachable, dict) else "no answer earlier in this run"
        return PullOutcome(
            ds.key, False, f"not fetched: {host} could not be reached ({why}). {_fetch.MIRROR_HINT}."
        )
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
            mirror_copy = _is_mirror_copy(ds, fetched.sha256)
            normalised = _normalise(ds, fetched, deps, mirror_copy)
            prov = store.write(ds, normalised, fetched.to_dict(), mirror_copy=mirror_copy)
    except NotInMirror as err:
        return PullOutcome(
            ds.key,
            False,
            f"skipped: the mirror holds no copy ({err})",
            None,
            time.perf_counter() - t0,
            skipped=True,
        )
    except UnreachableError as err:
        if isinstance(unreachable, dict):
            unreachable[err.host] = "no connection"
        elif unreachable is not None:
            unreachable.add(err.host)
        return PullOutcome(ds.key, False, str(err), None, time.perf_counter() - t0)
    except GrowthZonesError as err:
        return PullOutcome(ds.key, False, str(err), None, time.perf_counter() - t0)
    except OSError as err:  # a full disk, an unwritable cache folder
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        return PullOutcome(ds.key, False, f"{err.strerror or err}{where}", None, time.perf_counter() - t0)
    return PullOutcome(ds.key, True, "stored", prov["rows"], time.perf_counter() - t0, fetched.via)


def _normalise(ds: Dataset, fetched: _fetch.FetchResult, deps: dict[str, Any], mirror_copy: bool) -> Any:
    """Run the dataset's normaliser; a raw file it cannot parse is a :class:`DataSourceError` that
    names the dataset and the file (the raw bytes passed their hash, so the publisher's format is
    not what the normaliser expects), never a traceback that stops the other datasets."""
    try:
        return get_normaliser(ds.normaliser)(RawInput(ds, fetched.paths, deps, mirror_copy))
    except GrowthZonesError:
        raise
    except Exception as err:  # noqa: BLE001 - any parser failure (RecursionError too), named
        log.debug("normaliser %s failed", ds.normaliser, exc_info=True)
        files = ", ".join(p.name for p in fetched.paths)
        raise DataSourceError(
            f"dataset {ds.key}: the raw file(s) {files} could not be read by {ds.normaliser} "
            f"({type(err).__name__}: {str(err)[:200]}); check the catalogue entry and the source format"
        ) from err


def _pull_asset(
    ds: Dataset, store: Store, *, force: bool, unreachable: dict[str, str] | set[str] | None
) -> PullOutcome:
    """A raw asset is fetched and verified only (no normaliser, nothing in ``layers/``)."""
    from .assets import fetch_assets

    t0 = time.perf_counter()
    host = _source_host(ds, store.settings)
    if unreachable and host in unreachable and _fetch.cached(ds, store.settings) is None:
        return PullOutcome(ds.key, False, f"not fetched: {host} could not be reached. {_fetch.MIRROR_HINT}.")
    if force:
        _fetch.clear_raw(ds, store.settings)
    got = fetch_assets(store.settings, keys=[ds.key], catalogue=store.catalogue)
    for h in got.unreachable:
        if isinstance(unreachable, dict):
            unreachable[h] = "no connection"
        elif unreachable is not None:
            unreachable.add(h)
    if got.problems:
        return PullOutcome(ds.key, False, got.problems[ds.key], None, time.perf_counter() - t0)
    via = got.via[ds.key]
    message = "already cached" if via == "cache" else "cached (raw asset, verified)"
    return PullOutcome(ds.key, True, message, None, time.perf_counter() - t0, via)


def probe_plan(plan: list[Dataset], store: Store, *, force: bool = False) -> dict[str, str]:
    """Probe every host the plan would download from (skipping what is stored or cached, and local
    mirrors); return the hosts that did not answer, with the reason."""
    settings = store.settings
    urls: list[str] = []
    for ds in plan:
        if not force and (store.has(ds.key) or _fetch.cached(ds, settings, verify=False) is not None):
            continue
        urls.extend(
            loc for loc in _fetch.source_locations(ds, settings) if loc.startswith(("http://", "https://"))
        )
    if not urls:
        return {}
    t0 = time.perf_counter()
    results = _fetch.probe_hosts(urls, settings.probe_timeout)
    down = {host: why for host, why in results.items() if why is not None}
    progress.info(
        "%d of %d hosts answered in %.1f s%s",
        len(results) - len(down),
        len(results),
        time.perf_counter() - t0,
        "".join(f"; {h}: {w}" for h, w in down.items()),
    )
    return down


def pull(
    keys: Iterable[str] | None = None,
    *,
    settings: Settings | None = None,
    force: bool = False,
    on_progress: Callable[[PullOutcome], None] | None = None,
    explicit: bool = True,
    layers: Iterable[str] | None = None,
) -> PullReport:
    """Pull ``keys`` (default: every default catalogue dataset, or those feeding ``layers``) and
    their requirements.

    In offline mode, every dataset missing from the cache is named in one :class:`OfflineError`.
    Datasets named in ``keys`` are attempted even when optional (unless ``explicit`` is false:
    the keys were chosen by a workflow, not by the user).
    """
    store = Store(settings)
    catalogue = store.catalogue
    if layers is not None and not keys:
        chosen = set(layers)
        keys, explicit = [k for k, d in catalogue.items() if d.default and d.layer in chosen], False
    named = set(keys or ()) if explicit else set()
    wanted = list(keys) if keys else [k for k, d in catalogue.items() if d.default]
    plan = _with_requirements(wanted, catalogue)
    if store.settings.offline:
        missing = [
            d.key
            for d in plan
            if not store.has(d.key)
            and _fetch.cached(d, store.settings, verify=False) is None
            and _skip_reason(d, store.settings, d.key in named) is None
        ]
        if missing:
            raise OfflineError(missing)
    report = PullReport()
    failed: set[str] = set()
    not_had: set[str] = set()
    todo = [d for d in plan if _skip_reason(d, store.settings, d.key in named) is None]
    report.unreachable = probe_plan(todo, store, force=force)
    for ds in plan:
        blocked = [d for d in ds.requires if d in failed]
        lacking = [d for d in ds.requires if d in not_had]
        skip = _skip_reason(ds, store.settings, ds.key in named)
        if not force and store.has(ds.key):
            outcome = pull_one(ds, store)
        elif skip:
            outcome = PullOutcome(ds.key, False, skip, skipped=True)
            progress.info("%s %s", ds.key, skip)
        elif blocked:
            outcome = PullOutcome(ds.key, False, f"skipped: required dataset(s) failed: {', '.join(blocked)}")
        elif lacking:
            outcome = PullOutcome(
                ds.key, False, f"skipped: required dataset(s) skipped: {', '.join(lacking)}", skipped=True
            )
        else:
            outcome = pull_one(ds, store, force=force, unreachable=report.unreachable)
            if not outcome.ok and ds.optional and store.settings.mirror and ds.key not in named:
                outcome = PullOutcome(
                    ds.key,
                    False,
                    f"skipped: optional and not in the mirror ({outcome.message})",
                    skipped=True,
                )
        if not outcome.ok and not outcome.skipped:
            failed.add(ds.key)
        elif outcome.skipped:
            not_had.add(ds.key)
        report.outcomes.append(outcome)
        if on_progress:
            on_progress(outcome)
    return report


def _cannot_prepare(fatal: list[PullOutcome], report: PullReport) -> GrowthZonesError:
    lines = "; ".join(f"{o.key}: {o.message}" for o in fatal)
    if report.unreachable:
        hosts = ", ".join(f"{h} ({w})" for h, w in report.unreachable.items())
        return DataSourceError(
            f"could not prepare the data: the required boundary datasets ({', '.join(o.key for o in fatal)}) "
            f"could not be had: no answer from {hosts}. {_fetch.MIRROR_HINT}; with a filled cache add --offline."
        )
    return GrowthZonesError(f"could not prepare the data: {lines}")


def ensure_layers(
    layers: Iterable[str], settings: Settings | None = None, *, required: Iterable[str] = ()
) -> Store:
    """Make sure every default dataset feeding ``layers`` is stored and intact, pulling (or
    rebuilding a corrupt one) on first use.

    The datasets of the ``required`` layers are pulled first; when any of them cannot be had (it
    failed, or the mirror holds no copy) the run stops at once (nothing else is downloaded) with an
    error naming the hosts that did not answer and how to work offline. Any other dataset that
    cannot be had does not stop the run: it and why are recorded in ``store.unavailable`` (a pull
    that failed, a dataset the mirror holds no copy of, one not in the cache offline);
    :meth:`~growth_zones.data.layers.LayerSet.load` carries them into the layer set, and the
    workflows turn them into checks that could not run (on stderr, in ``checks.csv``, the report
    banner, the provenance sidecar and exit code 4). An optional dataset (no machine-readable
    national source) that is not had is not recorded: it is a documented coverage gap.

    Offline (``settings.offline``) only the required layers must be in the cache (else
    :class:`~growth_zones.errors.OfflineError` names them); a dataset whose raw download is cached
    is rebuilt from it, and every other one is "not in the cache".
    """
    store = Store(settings)
    wanted = set(layers)
    must = set(required)
    keys = [d.key for d in store.catalogue.values() if d.default and d.layer in wanted]
    # a stored layer that fails its integrity check is pulled again (pull_one names and rebuilds it)
    missing = [k for k in keys if not store.has(k) or store.verify(k)]
    if not missing:
        return store
    if store.settings.offline:
        missing = _offline_plan(missing, store, must)
    first = [k for k in missing if store.catalogue[k].layer in must]
    rest = [k for k in missing if k not in first]
    outcomes: list[PullOutcome] = []
    for batch in (first, rest):
        if not batch:
            continue
        report = pull(batch, settings=store.settings, explicit=False)
        fatal = [o for o in report.outcomes if not o.ok and store.catalogue[o.key].layer in must]
        if fatal:
            raise _cannot_prepare(fatal, report)
        outcomes.extend(report.outcomes)
    for o in outcomes:
        if o.ok:
            continue
        if o.skipped and store.catalogue[o.key].optional:
            log.info("dataset %s %s", o.key, o.message)
            continue
        store.unavailable[o.key] = o.message
        log.info("dataset %s unavailable (%s)", o.key, o.message)
    return store


def _offline_plan(missing: list[str], store: Store, must: set[str]) -> list[str]:
    """Offline: the datasets of ``missing`` that can be rebuilt from the raw cache (they and what
    they require are cached or stored). The required layers' others stop the run
    (:class:`OfflineError`); the rest are recorded in ``store.unavailable`` as not in the cache."""
    cat = store.catalogue

    def rebuildable(key: str, seen: tuple[str, ...] = ()) -> bool:
        ds = cat[key]
        if key in seen:
            return False
        if _fetch.cached(ds, store.settings, verify=False) is None:
            return False
        return all(store.has(dep) or rebuildable(dep, (*seen, key)) for dep in ds.requires)

    can = [k for k in missing if rebuildable(k)]
    cannot = [k for k in missing if k not in can]
    fatal = [k for k in cannot if cat[k].layer in must]
    if fatal:
        raise OfflineError(fatal)
    for key in cannot:
        if cat[key].optional:
            log.info("dataset %s is optional and not in the cache (offline)", key)
            continue
        store.unavailable[key] = (
            "not in the cache, and --offline uses the cache only (pull it with network access or from "
            "a mirror: `growth-zones data pull " + key + "`)"
        )
        log.info("dataset %s unavailable offline", key)
    return can

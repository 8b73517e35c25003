"""All network access lives here: downloads, API paging, mirrors, retries and hashes.

Guarantees (the reason this module exists):

* A file appears in the raw cache only complete and verified: bytes stream into a temporary file in
  the target folder and are renamed into place after the length and sha256 checks pass, so an
  interrupted download never looks cached.
* Error replies (HTTP 4xx/5xx, HTML where data was expected, empty bodies) are never cached.
* Transient faults (connection drops, 5xx, 429) are retried with exponential backoff.
* Every download is bounded: a maximum size (the catalogue's ``max_size_mb``, else
  ``Settings.max_download_mb``) and an overall deadline (``Settings.download_deadline``, retries
  included), so an endless or dripping body fails with a clear message instead of filling the disk
  or hanging.
* A cached raw file is re-verified against the size and sha256 recorded when it was fetched before
  it is used; a corrupt one is fetched again.
* Each dataset has a file lock (:func:`dataset_lock`): concurrent pulls of one dataset take turns,
  and the holder of the lock clears stray ``.part`` files left by a killed process.
* A local mirror is read only inside its folder (a mirror path resolving elsewhere is refused).
* With a mirror (``--mirror`` / ``GROWTH_ZONES_MIRROR``) the official endpoint is never contacted;
  with ``offline`` nothing is contacted at all.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ..errors import DataSourceError, OfflineError, UnreachableError
from ..settings import Settings
from .atomic import AtomicFile, part_files, sha256_file, write_bytes, write_json
from .catalogue import Dataset

log = logging.getLogger(__name__)

USER_AGENT = "growth-zones/0.1 (+https://github.com/growth-zones/growth-zones)"
_CHUNK = 1 << 16
ARCGIS_PAGE = 2000
CKAN_PAGE = 10000


@dataclass
class FetchResult:
    """Where a dataset's raw files are and how they got there (recorded in provenance)."""

    key: str
    paths: list[Path]
    source_urls: list[str]
    sha256: list[str]
    via: str  # "mirror" | "official" | "cache"
    retrieved_at: str
    sizes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["paths"] = [str(p) for p in self.paths]
        return d


_MB = 1024 * 1024

__all__ = [
    "Budget",
    "FetchResult",
    "arcgis_features",
    "cached",
    "ckan_records",
    "clear_raw",
    "dataset_lock",
    "download",
    "fetch",
    "raw_paths",
    "sha256_file",
]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _check_hash(actual: str, expected: str | None, url: str) -> None:
    if expected and actual != expected:
        raise DataSourceError(
            f"sha256 mismatch for {url}: expected {expected}, got {actual}. The partial file was deleted. "
            "Either the download was corrupted (try again) or the publisher changed the file "
            "(check the new vintage and update the catalogue's sha256)."
        )


# --------------------------------------------------------------------------- bounds


class Budget:
    """The bounds of one download: at most ``max_bytes`` and nothing after ``deadline`` seconds.

    One budget spans every request of a download (each page of a paged API, every retry), so
    neither an endless body nor a server that drips one byte every few seconds can run unbounded.
    """

    def __init__(self, what: str, *, max_bytes: int, deadline_s: float) -> None:
        self.what = what
        self.max_bytes = int(max_bytes)
        self.deadline_s = float(deadline_s)
        self.started = time.monotonic()
        self.used = 0

    @classmethod
    def for_dataset(cls, ds: Dataset | None, settings: Settings, what: str) -> Budget:
        mb = ds.max_size_mb if ds is not None and ds.max_size_mb else settings.max_download_mb
        return cls(what, max_bytes=int(mb * _MB), deadline_s=settings.download_deadline)

    def remaining(self) -> float:
        return self.deadline_s - (time.monotonic() - self.started)

    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, per_read: float) -> float:
        """The per-read timeout for the next request: never past the deadline."""
        return max(0.001, min(per_read, self.remaining()))

    def check_time(self) -> None:
        if self.expired():
            raise DataSourceError(
                f"download failed: {self.what}: not finished within the deadline of {self.deadline_s:g} s "
                f"({self.used:,} bytes received): the server is too slow or stalled. Try again later, use "
                "--mirror, or raise GROWTH_ZONES_DOWNLOAD_DEADLINE"
            )

    def check_size(self, announced: int) -> None:
        if announced > self.max_bytes:
            raise DataSourceError(
                f"download failed: {self.what}: the server announces {announced / _MB:,.1f} MB, more than the "
                f"limit of {self.max_bytes / _MB:,.0f} MB for this dataset; raise max_size_mb in the "
                "catalogue entry (or GROWTH_ZONES_MAX_DOWNLOAD_MB) if the file really is that large"
            )

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.max_bytes:
            raise DataSourceError(
                f"download failed: {self.what}: more than {self.max_bytes / _MB:,.0f} MB received, the limit "
                "for this dataset; the download was stopped and deleted. Raise max_size_mb in the catalogue "
                "entry (or GROWTH_ZONES_MAX_DOWNLOAD_MB) if the file really is that large"
            )
        self.check_time()


# --------------------------------------------------------------------------- HTTP


def _session() -> Any:
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    return s


def _with_retries(
    settings: Settings, url: str, attempt: Callable[[], Any], budget: Budget | None = None
) -> Any:
    """Run ``attempt`` with retries on transient faults; raise :class:`DataSourceError` at the end.

    With a ``budget`` no retry (or backoff) runs past its deadline.
    """
    from urllib.parse import urlparse

    import requests

    last: Exception | None = None
    unreachable = False
    for i in range(settings.retries + 1):
        try:
            return attempt()
        except _Transient as err:
            last, unreachable = err, False
        except requests.exceptions.ChunkedEncodingError as err:  # the host answered, then dropped
            last, unreachable = err, False
        except (requests.ConnectionError, requests.Timeout) as err:
            last, unreachable = err, True
        except requests.RequestException as err:  # a malformed URL, too many redirects: not transient
            raise DataSourceError(f"download failed: {url}: {err}") from err
        if budget is not None and budget.expired():
            budget.check_time()
        if i < settings.retries:
            delay = settings.backoff * (2**i)
            if budget is not None and delay >= budget.remaining():
                break
            log.info("retrying %s in %.1fs after: %s", url, delay, last)
            time.sleep(delay)
    if unreachable:
        host = urlparse(url).netloc
        why = (
            "timed out"
            if isinstance(last, requests.Timeout)
            else "no connection (network down, DNS or firewall)"
        )
        raise UnreachableError(
            f"download failed: {url}: {host} could not be reached: {why}. "
            "On a closed network use --mirror DIR_OR_URL (or GROWTH_ZONES_MIRROR).",
            host,
        ) from last
    raise DataSourceError(f"download failed: {url}: {last}") from last


class _Transient(Exception):
    """A reply worth retrying (5xx, 429, truncated body)."""


def _check_status(resp: Any, url: str) -> None:
    if resp.status_code in (429,) or resp.status_code >= 500:
        raise _Transient(f"HTTP {resp.status_code}")
    if resp.status_code >= 400:
        raise DataSourceError(f"download failed: {url}: HTTP {resp.status_code} {resp.reason}")


def _announced_length(resp: Any) -> int:
    try:
        return max(0, int(resp.headers.get("Content-Length") or 0))
    except ValueError:
        return 0


def _body(resp: Any, budget: Budget) -> Iterator[bytes]:
    """The (decoded) body in chunks as they arrive, within the budget.

    Reads with ``read1``, which returns as soon as any bytes are there, so the deadline is checked
    between reads even when the server drips one byte at a time (a plain ``read(n)`` would wait for
    all ``n`` bytes). A broken connection is transient (retried); a read timeout means the host
    stopped answering.
    """
    import requests
    import urllib3

    raw = resp.raw
    read = getattr(raw, "read1", None) or raw.read
    while True:
        budget.check_time()
        try:
            chunk = read(_CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as err:
            raise requests.ConnectionError(err) from err
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as err:
            raise _Transient(f"connection broken after {budget.used:,} bytes: {err}") from err
        if not chunk:
            return
        budget.take(len(chunk))
        yield chunk


def download(
    url: str,
    dest: Path,
    settings: Settings,
    *,
    expected_sha256: str | None = None,
    expect_format: str | None = None,
    label: str | None = None,
    budget: Budget | None = None,
) -> tuple[str, int]:
    """Stream ``url`` to ``dest`` atomically; return ``(sha256, size)``.

    Raises :class:`DataSourceError` naming the URL on HTTP errors, truncated bodies, HTML served
    where data was expected, empty replies, hash mismatches, bodies over the size limit and
    downloads past the deadline (``budget``; default: the global limits in ``settings``); nothing
    is left at ``dest``.
    """
    session = _session()
    budget = budget or Budget.for_dataset(None, settings, url)

    def attempt() -> tuple[str, int]:
        out = AtomicFile(dest)
        start_used = budget.used
        try:
            with session.get(url, stream=True, timeout=budget.timeout(settings.timeout)) as resp:
                _check_status(resp, url)
                ctype = resp.headers.get("Content-Type", "")
                if "text/html" in ctype and expect_format not in (None, "html"):
                    raise DataSourceError(
                        f"download failed: {url} returned an HTML page, not {expect_format} data. "
                        "This publisher has no stable direct download URL for the dataset: download it by "
                        "hand and point --mirror at the folder holding it."
                    )
                total = _announced_length(resp)
                budget.check_size(total)
                bar = _progress(total, label or dest.name, settings)
                for chunk in _body(resp, budget):
                    out.write(chunk)
                    bar.update(len(chunk))
                bar.close()
                if total and not resp.headers.get("Content-Encoding") and out.size != total:
                    raise _Transient(f"connection closed after {out.size} of {total} bytes")
                if out.size == 0:
                    raise DataSourceError(f"download failed: {url}: empty reply")
            digest = out.hash.hexdigest()
            _check_hash(digest, expected_sha256, url)
            out.commit()
            return digest, out.size
        except BaseException:
            out.discard()
            budget.used = start_used  # a failed attempt's bytes are deleted: they do not count
            raise

    result: tuple[str, int] = _with_retries(settings, url, attempt, budget)
    log.info("downloaded %s -> %s (%d bytes, sha256 %s)", url, dest, result[1], result[0])
    return result


def _get_json(url: str, params: dict[str, Any], settings: Settings, budget: Budget | None = None) -> Any:
    session = _session()
    full = f"{url}?{urlencode(params)}"
    budget = budget or Budget.for_dataset(None, settings, url)

    def attempt() -> Any:
        with session.get(url, params=params, stream=True, timeout=budget.timeout(settings.timeout)) as resp:
            _check_status(resp, full)
            budget.check_size(_announced_length(resp))
            body = b"".join(_body(resp, budget))
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as err:
            raise DataSourceError(
                f"download failed: {full}: reply is not JSON ({str(err)[:200] or type(err).__name__})"
            ) from err

    return _with_retries(settings, full, attempt, budget)


def arcgis_features(
    url: str,
    query: dict[str, str],
    settings: Settings,
    page_size: int = ARCGIS_PAGE,
    budget: Budget | None = None,
) -> Iterator[dict[str, Any]]:
    """Page an ArcGIS FeatureServer ``/query`` (``resultOffset``/``resultRecordCount``) as GeoJSON.

    Stops when ``exceededTransferLimit`` is absent or false (the ONS convention); halves the page
    size when a page errors or comes back without ``features``, as ONS's own scripts do. Every page
    counts against one ``budget`` (size and deadline).
    """
    budget = budget or Budget.for_dataset(None, settings, url)
    offset = 0
    while True:
        params = {**query, "resultOffset": offset, "resultRecordCount": page_size}
        try:
            page = _get_json(url, params, settings, budget)
        except UnreachableError:
            raise  # no point asking an unreachable host for smaller pages
        except DataSourceError:
            if page_size > 1 and not budget.expired() and budget.used <= budget.max_bytes:
                page_size //= 2
                continue
            raise
        if not isinstance(page, dict):
            raise DataSourceError(f"ArcGIS reply from {url} is not a JSON object")
        if "error" in page:
            raise DataSourceError(f"ArcGIS error from {url}: {str(page['error'])[:300]}")
        feats = page.get("features")
        if feats is None:
            if page_size > 1:
                page_size //= 2
                continue
            raise DataSourceError(f"ArcGIS reply from {url} has no 'features'")
        if not isinstance(feats, list):
            raise DataSourceError(f"ArcGIS reply from {url}: 'features' is not a list")
        yield from feats
        offset += len(feats)
        props = page.get("properties")
        more = page.get("exceededTransferLimit") or (
            props.get("exceededTransferLimit") if isinstance(props, dict) else False
        )
        if not more or not feats:
            return


def ckan_records(
    url: str,
    query: dict[str, str],
    settings: Settings,
    page_size: int = CKAN_PAGE,
    budget: Budget | None = None,
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Page a CKAN ``datastore_search`` (``offset``/``limit``, ``result.total``) within one budget."""
    budget = budget or Budget.for_dataset(None, settings, url)
    first = _get_json(url, {**query, "limit": page_size, "offset": 0}, settings, budget)
    if not isinstance(first, dict) or not first.get("success", False):
        err = first.get("error") if isinstance(first, dict) else "reply is not a JSON object"
        raise DataSourceError(f"CKAN error from {url}: {str(err)[:300]}")
    try:
        result = first["result"]
        fields = [f["id"] for f in result.get("fields", []) if f["id"] != "_id"]
        total = int(result.get("total", len(result.get("records", []))))
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataSourceError(f"CKAN reply from {url} is not a datastore_search result ({err!r})") from err

    def rows() -> Iterator[dict[str, Any]]:
        records = result.get("records", [])
        offset = 0
        while True:
            yield from records
            offset += len(records)
            if offset >= total or not records:
                return
            page = _get_json(url, {**query, "limit": page_size, "offset": offset}, settings, budget)
            try:
                records = page["result"].get("records", [])
            except (KeyError, TypeError, AttributeError) as err:
                raise DataSourceError(f"CKAN page from {url} has no result.records ({err!r})") from err

    return fields, rows()


def _progress(total: int, label: str, settings: Settings) -> Any:
    if settings.progress:
        from tqdm import tqdm

        return tqdm(total=total or None, unit="B", unit_scale=True, desc=label, leave=False)
    return _NoBar()


class _NoBar:
    def update(self, n: int) -> None:  # noqa: D401 - trivial
        pass

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- datasets


def _dataset_dir(ds: Dataset, settings: Settings) -> Path:
    """``raw/<key>``, refusing anything that would resolve outside the raw cache."""
    root = settings.raw_dir
    folder = root / ds.key
    if ".." in Path(ds.key).parts or folder.resolve().parent != root.resolve():
        raise DataSourceError(
            f"dataset key {ds.key!r} would point outside the cache {root}; keys are [a-z0-9_]+"
        )
    return folder


def raw_paths(ds: Dataset, settings: Settings) -> list[Path]:
    """Where a dataset's raw files live in the cache (whether or not they exist yet)."""
    folder = _dataset_dir(ds, settings)
    return [folder / name for name in ds.files]


def _meta_path(ds: Dataset, settings: Settings) -> Path:
    return _dataset_dir(ds, settings) / "fetch.json"


def _raw_problem(ds: Dataset, paths: list[Path], meta: dict[str, Any]) -> str | None:
    """Why the cached raw files of ``ds`` cannot be trusted (size or sha256 differ from what was
    recorded when they were fetched, or from the catalogue's pinned hash), or ``None``."""
    recorded = meta.get("sha256")
    if not isinstance(recorded, list) or len(recorded) != len(paths):
        return "its fetch record lists no hash for every file"
    sizes = meta.get("sizes") or []
    pinned = list(ds.sha256) if ds.sha256 else [None] * len(paths)
    for i, path in enumerate(paths):
        size = path.stat().st_size
        if i < len(sizes) and isinstance(sizes[i], int) and size != sizes[i]:
            return f"{path.name} has {size:,} bytes, {sizes[i]:,} were fetched"
        digest = sha256_file(path)
        if digest != recorded[i]:
            return f"{path.name} has sha256 {digest[:12]}..., {str(recorded[i])[:12]}... was fetched"
        if pinned[i] and digest != pinned[i]:
            return f"{path.name} has sha256 {digest[:12]}..., the catalogue pins {str(pinned[i])[:12]}..."
    return None


def cached(ds: Dataset, settings: Settings, *, verify: bool = True) -> FetchResult | None:
    """The cached raw download of ``ds`` if complete (and, with ``verify``, still matching the size
    and sha256 recorded when it was fetched), else ``None``. A corrupt copy is logged by name and
    treated as absent, so the caller fetches it again."""
    meta = _meta_path(ds, settings)
    paths = raw_paths(ds, settings)
    if not meta.exists() or not all(p.exists() for p in paths):
        return None
    try:
        d = json.loads(meta.read_text(encoding="utf-8"))
        result = FetchResult(
            ds.key,
            paths,
            list(d["source_urls"]),
            list(d["sha256"]),
            "cache",
            str(d["retrieved_at"]),
            list(d.get("sizes", [])),
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning(
            "cached raw download of %s has an unreadable fetch record %s (%s): fetching it again",
            ds.key,
            meta,
            err,
        )
        return None
    if verify:
        try:
            problem = _raw_problem(ds, paths, d)
        except OSError as err:
            problem = f"cannot be read ({err.strerror or err})"
        if problem:
            log.warning("cached raw download of %s is corrupt (%s): fetching it again", ds.key, problem)
            return None
    return result


def _mirror_location(mirror: str, rel: str) -> str:
    if _is_url(mirror):
        return mirror.rstrip("/") + "/" + quote(rel)
    root = Path(mirror).expanduser()
    loc = root / rel
    try:
        inside = loc.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # symlink loops
        inside = False
    if Path(rel).is_absolute() or not inside:
        raise DataSourceError(
            f"mirror path {rel!r} resolves outside the mirror {root}: refused (mirror paths must stay inside it)"
        )
    return str(loc)


def _copy_local(src: Path, dest: Path, expected: str | None, budget: Budget) -> tuple[str, int]:
    if not src.is_file():
        raise DataSourceError(f"mirror has no file {src}" + (" (it is a folder)" if src.is_dir() else ""))
    try:
        budget.check_size(src.stat().st_size)
        with AtomicFile(dest) as out, open(src, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                budget.take(len(chunk))
                out.write(chunk)
            _check_hash(out.sha256, expected, str(src))
    except OSError as err:
        if isinstance(err, DataSourceError):
            raise
        raise DataSourceError(f"cannot copy {src} from the mirror: {err.strerror or err}") from err
    return out.sha256, out.size


def fetch(ds: Dataset, settings: Settings, *, force: bool = False) -> FetchResult:
    """Make the raw files of ``ds`` available in the cache and return where they are.

    Order: cache (unless ``force``; re-verified against its recorded hashes) -> mirror (if
    configured) -> official endpoint. ``offline`` stops after the cache. Each file is bounded by
    the dataset's size limit and the download deadline.
    """
    hit = None if force else cached(ds, settings)
    if hit is not None:
        log.info("cache hit for %s: %s", ds.key, hit.paths[0].parent)
        return hit
    if settings.offline:
        raise OfflineError([ds.key])
    dests = raw_paths(ds, settings)
    urls: list[str] = []
    hashes: list[str] = []
    sizes: list[int] = []
    if settings.mirror:
        via = "mirror"
        for rel, dest, expected in zip(ds.mirror_paths, dests, ds.sha256, strict=True):
            loc = _mirror_location(settings.mirror, rel)
            budget = Budget.for_dataset(ds, settings, loc)
            if _is_url(loc):
                digest, size = download(
                    loc,
                    dest,
                    settings,
                    expected_sha256=expected,
                    expect_format=ds.format,
                    label=ds.key,
                    budget=budget,
                )
            else:
                digest, size = _copy_local(Path(loc), dest, expected, budget)
            urls.append(loc)
            hashes.append(digest)
            sizes.append(size)
    else:
        via = "official"
        digest, size, url = _fetch_official(ds, dests[0], settings)
        urls.append(url)
        hashes.append(digest)
        sizes.append(size)
    result = FetchResult(ds.key, dests, urls, hashes, via, _now(), sizes)
    write_json(_meta_path(ds, settings), {k: v for k, v in result.to_dict().items() if k != "paths"})
    return result


def _fetch_official(ds: Dataset, dest: Path, settings: Settings) -> tuple[str, int, str]:
    """Download from the publisher. Multi-file formats (shapefiles) come as one zip officially."""
    if len(ds.mirror_paths) > 1:
        raise DataSourceError(
            f"{ds.key}: the publisher distributes this dataset from a web page ({ds.url}), not a stable file "
            "URL; download it by hand and point --mirror at the folder holding " + ", ".join(ds.mirror_paths)
        )
    budget = Budget.for_dataset(ds, settings, ds.url)
    if ds.api == "arcgis":
        features = list(arcgis_features(ds.url, ds.query, settings, budget=budget))
        if not features:
            raise DataSourceError(f"{ds.key}: {ds.url} returned no features")
        body = json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")
        return (*write_bytes(dest, body), f"{ds.url}?{urlencode(ds.query)}")
    if ds.api == "ckan_datastore":
        import csv
        import io

        fields, rows = ckan_records(ds.url, ds.query, settings, budget=budget)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        n = 0
        for row in rows:
            writer.writerow(row)
            n += 1
        if n == 0:
            raise DataSourceError(f"{ds.key}: {ds.url} returned no records")
        return (*write_bytes(dest, buf.getvalue().encode("utf-8")), f"{ds.url}?{urlencode(ds.query)}")
    digest, size = download(ds.url, dest, settings, expect_format=ds.format, label=ds.key, budget=budget)
    return digest, size, ds.url


def clear_raw(ds: Dataset, settings: Settings) -> None:
    """Forget a dataset's raw download (used by ``--force``); only ever inside the raw cache."""
    shutil.rmtree(_dataset_dir(ds, settings), ignore_errors=True)


@contextmanager
def dataset_lock(ds: Dataset, settings: Settings) -> Iterator[None]:
    """Hold the dataset's file lock (``<cache>/locks/<key>.lock``) while fetching, normalising and
    storing it, so concurrent pulls of one dataset into one cache take turns instead of racing on
    the same files; then clear stray ``.part`` files that a killed process left for this dataset.

    Waits up to ``settings.lock_timeout`` seconds; a lock is released by the operating system when
    its holder dies, so a killed pull never blocks the next one.
    """
    from filelock import FileLock, Timeout

    _dataset_dir(ds, settings)  # validates the key before it names a lock file
    settings.locks_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.locks_dir / f"{ds.key}.lock"), timeout=settings.lock_timeout)
    try:
        lock.acquire()
    except Timeout as err:
        raise DataSourceError(
            f"{ds.key}: another process has been pulling this dataset into {settings.cache_dir} for more than "
            f"{settings.lock_timeout:g} s (lock {lock.lock_file}); try again when it has finished"
        ) from err
    try:
        clean_stray_parts(ds, settings)
        yield
    finally:
        lock.release()


def clean_stray_parts(ds: Dataset, settings: Settings) -> list[Path]:
    """Delete unfinished temporary files (``.<name>.<random>.part<suffix>``) of ``ds`` in the raw and
    layers folders. Call it only while holding :func:`dataset_lock`: then no live writer owns them."""
    stale = part_files(_dataset_dir(ds, settings)) + part_files(settings.layers_dir, ds.key)
    for p in stale:
        p.unlink(missing_ok=True)
    if stale:
        log.info("removed %d unfinished file(s) of %s left by an interrupted run", len(stale), ds.key)
    return stale

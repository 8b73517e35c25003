"""All network access lives here: downloads, API paging, mirrors, retries and hashes.

Guarantees (the reason this module exists):

* A file appears in the raw cache only complete and verified: bytes stream into a temporary file in
  the target folder and are renamed into place after the length and sha256 checks pass, so an
  interrupted download never looks cached.
* Error replies (HTTP 4xx/5xx, HTML where data was expected, empty bodies) are never cached.
* Transient faults (connection drops, 5xx, 429) are retried with exponential backoff.
* With a mirror (``--mirror`` / ``GROWTH_ZONES_MIRROR``, one or several locations searched in
  order) the official endpoint is never contacted;
  with ``offline`` nothing is contacted at all.
* Paged APIs are streamed to disk page by page and checked against the total the service announces
  (ArcGIS ``returnCountOnly``, OGC API ``numberMatched``, WFS ``numberMatched``, CKAN ``total``): a
  short result is an error, never a silently smaller dataset. A page that fails, arrives truncated
  or comes back as an HTML page is retried like any transient fault.
* :func:`probe_hosts` asks each host once, with a short timeout, whether it answers at all, so a
  machine without a network learns it in seconds instead of waiting out every retry.
* Every download is bounded: a maximum size (the catalogue's ``max_size_mb``, else
  ``Settings.max_download_mb``) and an overall deadline (``Settings.download_deadline``, retries
  and every page of a paged API included), so an endless or dripping body fails with a clear
  message instead of filling the disk or hanging.
* A cached raw file is re-verified against the size and sha256 recorded when it was fetched before
  it is used; a corrupt one is fetched again.
* Each dataset has a file lock (:func:`dataset_lock`): concurrent pulls of one dataset take turns,
  and the holder of the lock clears stray ``.part`` files left by a killed process.
* Keys and mirror paths never reach outside their folders (checked in the catalogue and again
  here on the resolved paths).

Progress (which dataset, which host, how many features) goes to the ``growth_zones.progress``
logger, which the command line shows without ``-v``.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlparse

from ..errors import DataSourceError, NotInMirror, OfflineError, UnreachableError
from ..settings import Settings
from .atomic import AtomicFile, part_files, sha256_file, write_bytes, write_json
from .catalogue import Dataset

log = logging.getLogger(__name__)
progress = logging.getLogger("growth_zones.progress")
"""One line per step a user waits for (probing hosts, fetching a dataset, paging): shown by the CLI
unless ``-q``; silent in notebooks and scripts unless they configure logging."""

USER_AGENT = "growth-zones/0.1 (+https://github.com/growth-zones/growth-zones)"
_CHUNK = 1 << 16
ARCGIS_PAGE = 2000
CKAN_PAGE = 10000
OGC_PAGE = 2000
WFS_PAGE = 2000
MIRROR_HINT = (
    "On a closed network set GROWTH_ZONES_MIRROR or pass --mirror DIR_OR_URL (a folder or URL holding "
    "the datasets under their catalogue mirror paths)"
)
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body")


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
    origin: str = ""  # where the bytes first came from: "mirror" | "official" (kept on cache hits)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["paths"] = [str(p) for p in self.paths]
        return d


_MB = 1024 * 1024
__all__ = ["Budget", "FetchResult", "dataset_lock", "download", "fetch", "sha256_file"]


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


class BoundExceeded(DataSourceError):
    """A download went over its size limit or its deadline: never retried, never paged smaller."""


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
            raise BoundExceeded(
                f"download failed: {self.what}: not finished within the deadline of {self.deadline_s:g} s "
                f"({self.used:,} bytes received): the server is too slow or stalled. Try again later, use "
                "--mirror, or raise GROWTH_ZONES_DOWNLOAD_DEADLINE"
            )

    def check_size(self, announced: int) -> None:
        if announced > self.max_bytes:
            raise BoundExceeded(
                f"download failed: {self.what}: the server announces {announced / _MB:,.1f} MB, more than the "
                f"limit of {self.max_bytes / _MB:,.0f} MB for this dataset; raise max_size_mb in the "
                "catalogue entry (or GROWTH_ZONES_MAX_DOWNLOAD_MB) if the file really is that large"
            )

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.max_bytes:
            raise BoundExceeded(
                f"download failed: {self.what}: more than {self.max_bytes / _MB:,.0f} MB received, the limit "
                "for this dataset; the download was stopped and deleted. Raise max_size_mb in the catalogue "
                "entry (or GROWTH_ZONES_MAX_DOWNLOAD_MB) if the file really is that large"
            )
        self.check_time()


# --------------------------------------------------------------------------- HTTP


def _session(headers: dict[str, str] | None = None) -> Any:
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    s.headers.update(headers or {})
    return s


def _with_retries(
    settings: Settings, url: str, attempt: Callable[[], Any], budget: Budget | None = None
) -> Any:
    """Run ``attempt`` with retries on transient faults; raise :class:`DataSourceError` at the end.

    With a ``budget`` no retry (or backoff) runs past its deadline.
    """
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
            f"download failed: {url}: {host} could not be reached: {why}. {MIRROR_HINT}.", host
        ) from last
    raise DataSourceError(f"download failed: {url}: {last}") from last


class _Transient(Exception):
    """A reply worth retrying (5xx, 429, truncated body, an HTML error page instead of data)."""


class _ClientError(DataSourceError):
    """HTTP 4xx: the request itself is wrong (moved service, bad parameter); asking again with a
    smaller page will not help."""


class _NotFound(_ClientError):
    """The location has no such file (a missing local file, HTTP 404/410): with several mirror
    locations the next one is tried."""


def _check_status(resp: Any, url: str) -> None:
    if resp.status_code in (429,) or resp.status_code >= 500:
        raise _Transient(f"HTTP {resp.status_code}")
    if resp.status_code in (404, 410):
        raise _NotFound(f"download failed: {url}: HTTP {resp.status_code} {resp.reason}")
    if resp.status_code >= 400:
        raise _ClientError(f"download failed: {url}: HTTP {resp.status_code} {resp.reason}")


def _looks_like_html(first: bytes) -> bool:
    return first.lstrip()[:20].lower().startswith(_HTML_START)


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
    headers: dict[str, str] | None = None,
    budget: Budget | None = None,
) -> tuple[str, int]:
    """Stream ``url`` to ``dest`` atomically; return ``(sha256, size)``.

    Raises :class:`DataSourceError` naming the URL on HTTP errors, truncated bodies, HTML served
    where data was expected, empty replies, hash mismatches, bodies over the size limit and
    downloads past the deadline (``budget``; default: the global limits in ``settings``); nothing
    is left at ``dest``.
    """
    session = _session(headers)
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
                        "This address is a web page, not a file: the catalogue entry needs a direct "
                        "file URL, or download the file by hand and serve it through --mirror."
                    )
                total = _announced_length(resp)
                budget.check_size(total)
                bar = _progress(total, label or dest.name, settings)
                first = True
                for chunk in _body(resp, budget):
                    if first and expect_format not in (None, "html") and _looks_like_html(chunk):
                        raise DataSourceError(
                            f"download failed: {url} returned an HTML page (sent as {ctype or 'no type'}), "
                            f"not {expect_format} data"
                        )
                    first = False
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


def _get_json(
    url: str,
    params: dict[str, Any] | None,
    settings: Settings,
    headers: dict[str, str] | None = None,
    *,
    check: Callable[[Any], None] | None = None,
    budget: Budget | None = None,
) -> Any:
    """One JSON reply, retried on transient faults. A truncated body or an HTML page served with
    status 200 (a gateway's error page) is transient, as is anything ``check`` rejects with
    ``_Transient``; after the retries it is an error naming the URL and what came back. The body
    counts against ``budget`` (size and deadline; default: the global limits)."""
    session = _session(headers)
    full = f"{url}?{urlencode(params)}" if params else url
    budget = budget or Budget.for_dataset(None, settings, url)

    def attempt() -> Any:
        with session.get(url, params=params, stream=True, timeout=budget.timeout(settings.timeout)) as resp:
            _check_status(resp, full)
            budget.check_size(_announced_length(resp))
            body = b"".join(_body(resp, budget))
            if _looks_like_html(body[:64]):
                raise _Transient(f"an HTML page instead of JSON (HTTP {resp.status_code}): {body[:120]!r}")
            try:
                doc = json.loads(body)
            except ValueError as err:
                raise _Transient(f"reply is not complete JSON ({len(body)} bytes: {err})") from err
            except RecursionError as err:
                raise DataSourceError(
                    f"download failed: {full}: the JSON reply is nested too deeply"
                ) from err
        if check is not None:
            check(doc)
        return doc

    return _with_retries(settings, full, attempt, budget)


def arcgis_count(
    url: str,
    query: dict[str, str],
    settings: Settings,
    headers: dict[str, str] | None = None,
    budget: Budget | None = None,
) -> int | None:
    """The number of features a query matches (``returnCountOnly``), or None if the layer will not
    say (then paging ends on ``exceededTransferLimit`` alone)."""
    params = {k: v for k, v in query.items() if k not in ("outFields", "outSR", "f")}
    try:
        doc = _get_json(
            url, {**params, "returnCountOnly": "true", "f": "json"}, settings, headers, budget=budget
        )
    except (UnreachableError, _ClientError, BoundExceeded):
        raise
    except DataSourceError as err:
        log.info("no feature count from %s: %s", url, err)
        return None
    count = doc.get("count") if isinstance(doc, dict) else None
    if count is None:
        count = (doc.get("properties") or {}).get("count") if isinstance(doc, dict) else None
    return int(count) if count is not None else None


def arcgis_features(
    url: str,
    query: dict[str, str],
    settings: Settings,
    page_size: int = ARCGIS_PAGE,
    *,
    headers: dict[str, str] | None = None,
    label: str = "",
    budget: Budget | None = None,
) -> Iterator[dict[str, Any]]:
    """Page an ArcGIS FeatureServer/MapServer ``/query`` (``resultOffset``/``resultRecordCount``).

    Stops when ``exceededTransferLimit`` is absent or false (the ONS convention); halves the page
    size when a page errors or comes back without ``features``, as ONS's own scripts do. When the
    layer reports a count (``returnCountOnly``), fewer features than that is an error.
    """
    budget = budget or Budget.for_dataset(None, settings, url)
    expected = arcgis_count(url, query, settings, headers, budget)
    offset = 0
    while True:
        params = {**query, "resultOffset": offset, "resultRecordCount": page_size}
        try:
            page = _get_json(url, params, settings, headers, budget=budget)
        except (UnreachableError, _ClientError, BoundExceeded):
            raise  # no point asking an unreachable host, a wrong URL or past the limits for smaller pages
        except DataSourceError:
            if page_size > 1:
                page_size //= 2
                continue
            raise
        if "error" in page:
            raise DataSourceError(f"ArcGIS error from {url}: {page['error']}")
        feats = page.get("features")
        if feats is None:
            if page_size > 1:
                page_size //= 2
                continue
            raise DataSourceError(f"ArcGIS reply from {url} has no 'features'")
        yield from feats
        offset += len(feats)
        _page_progress(label, url, offset, expected)
        more = page.get("exceededTransferLimit") or page.get("properties", {}).get("exceededTransferLimit")
        if not more or not feats:
            break
    if expected is not None and offset != expected:
        raise DataSourceError(
            f"ArcGIS query {url} returned {offset} features but the layer counts {expected}: "
            "the paging stopped early or the layer changed while it was read; try again"
        )


def ogc_features(
    url: str,
    query: dict[str, str],
    settings: Settings,
    page_size: int = OGC_PAGE,
    *,
    headers: dict[str, str] | None = None,
    label: str = "",
    budget: Budget | None = None,
) -> Iterator[dict[str, Any]]:
    """Page an OGC API Features ``/items`` endpoint by following its ``next`` links.

    Each page's ``numberReturned`` must match the features it holds; the total must equal the
    first page's ``numberMatched`` when the service states it. ``next`` links must stay on the
    service's host (a link elsewhere is refused, not followed).
    """
    budget = budget or Budget.for_dataset(None, settings, url)
    host = urlparse(url).netloc
    next_url: str | None = url
    params: dict[str, Any] | None = {"f": "json", **query, "limit": page_size}
    matched: int | None = None
    got = 0
    while next_url:
        page = _get_json(next_url, params, settings, headers, check=_ogc_page_check, budget=budget)
        feats = page["features"]
        if matched is None and page.get("numberMatched") is not None:
            matched = int(page["numberMatched"])
        yield from feats
        got += len(feats)
        _page_progress(label, url, got, matched)
        link = next((lk.get("href") for lk in page.get("links", []) if lk.get("rel") == "next"), None)
        if not feats or not link:
            break
        link = urljoin(next_url, link)
        if urlparse(link).netloc != host:
            raise DataSourceError(
                f"OGC API Features 'next' link leaves {host}: {link}; refusing to follow it"
            )
        next_url, params = link, None  # the next link carries every parameter
    if matched is not None and got != matched:
        raise DataSourceError(
            f"OGC API Features {url} returned {got} features but numberMatched is {matched}: "
            "the paging stopped early or the collection changed while it was read; try again"
        )


def _ogc_page_check(page: Any) -> None:
    """An OGC API Features page must hold a features list of ``numberReturned`` features (a page
    that does not is asked for again, like any transient fault)."""
    feats = page.get("features") if isinstance(page, dict) else None
    if not isinstance(feats, list):
        raise _Transient("the reply has no 'features' list")
    returned = page.get("numberReturned")
    if returned is not None and int(returned) != len(feats):
        raise _Transient(f"numberReturned={returned} but the page holds {len(feats)} features")


def wfs_features(
    url: str,
    query: dict[str, str],
    settings: Settings,
    page_size: int = WFS_PAGE,
    *,
    headers: dict[str, str] | None = None,
    label: str = "",
    budget: Budget | None = None,
    crs_out: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Page a WFS 2.0 ``GetFeature`` (``startIndex``/``count``, GeoJSON output).

    Stops on a short page; the total must equal ``numberMatched`` when the server states it. The
    first page's ``crs`` member (GeoServer names the output CRS there) is copied into ``crs_out``.
    """
    budget = budget or Budget.for_dataset(None, settings, url)
    base = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "outputFormat": "application/json",
        **query,
    }
    start = 0
    matched: int | None = None
    while True:
        page = _get_json(
            url, {**base, "count": page_size, "startIndex": start}, settings, headers, budget=budget
        )
        feats = page.get("features") if isinstance(page, dict) else None
        if not isinstance(feats, list):
            raise DataSourceError(f"WFS reply from {url} has no 'features' list: {str(page)[:200]}")
        if matched is None:
            nm = page.get("numberMatched", page.get("totalFeatures"))
            if isinstance(nm, int | str) and str(nm).isdigit():
                matched = int(nm)
            if crs_out is not None and page.get("crs"):
                crs_out.update(page["crs"])
        yield from feats
        start += len(feats)
        _page_progress(label, url, start, matched)
        if len(feats) < page_size or (matched is not None and start >= matched):
            break
    if matched is not None and start != matched:
        raise DataSourceError(
            f"WFS {url} returned {start} features but numberMatched is {matched}: the paging stopped "
            "early or the layer changed while it was read; try again"
        )


def ckan_records(
    url: str,
    query: dict[str, str],
    settings: Settings,
    page_size: int = CKAN_PAGE,
    *,
    headers: dict[str, str] | None = None,
    label: str = "",
    budget: Budget | None = None,
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Page a CKAN ``datastore_search`` (``offset``/``limit``, ``result.total``) within one budget."""
    budget = budget or Budget.for_dataset(None, settings, url)
    first = _get_json(url, {**query, "limit": page_size, "offset": 0}, settings, headers, budget=budget)
    if not first.get("success", False):
        raise DataSourceError(f"CKAN error from {url}: {first.get('error')}")
    result = first["result"]
    fields = [f["id"] for f in result.get("fields", []) if f["id"] != "_id"]
    total = int(result.get("total", len(result.get("records", []))))

    def rows() -> Iterator[dict[str, Any]]:
        records = result.get("records", [])
        offset = 0
        while True:
            yield from records
            offset += len(records)
            _page_progress(label, url, offset, total)
            if offset >= total or not records:
                break
            page = _get_json(
                url, {**query, "limit": page_size, "offset": offset}, settings, headers, budget=budget
            )
            if not page.get("success", False):
                raise DataSourceError(f"CKAN error from {url} at offset {offset}: {page.get('error')}")
            records = page["result"].get("records", [])
        if offset != total:
            raise DataSourceError(
                f"CKAN datastore {url} returned {offset} records but result.total is {total}"
            )

    return fields, rows()


_last_progress: dict[str, float] = {}


def _page_progress(label: str, url: str, done: int, total: int | None) -> None:
    """A paging progress line at most every 5 s per dataset (every page at DEBUG)."""
    of = f" of {total:,}" if total is not None else ""
    log.debug("%s: %d%s from %s", label or url, done, of, url)
    now = time.monotonic()
    key = label or url
    if now - _last_progress.get(key, 0.0) >= 5.0:
        _last_progress[key] = now
        progress.info("  %s: %s%s features/records so far", key, f"{done:,}", of)


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


# --------------------------------------------------------------------------- reachability


def probe_target(url: str) -> tuple[str, str, int]:
    """``(label, host, port)`` a request to ``url`` would first connect to (the proxy if one is
    configured for it in the environment)."""
    import requests.utils

    proxies = requests.utils.get_environ_proxies(url)
    parsed = urlparse(url)
    proxy = proxies.get(parsed.scheme) or proxies.get("all")
    target = urlparse(proxy if proxy and "://" in proxy else f"http://{proxy}") if proxy else parsed
    default = 443 if target.scheme == "https" else 80
    host = target.hostname or ""
    label = parsed.netloc + (f" (via proxy {target.netloc})" if proxy else "")
    return label, host, target.port or default


def probe_hosts(urls: Iterable[str], timeout: float) -> dict[str, str | None]:
    """Ask each distinct host once, all at the same time, whether it accepts a connection.

    Returns ``{netloc: None}`` for hosts that answered and ``{netloc: reason}`` for the others
    ("DNS lookup failed", "connection refused", "no answer within 3 s", ...). The whole probe takes
    at most about ``timeout`` seconds however many hosts there are and however the network fails
    (a slow DNS resolver included: a lookup still running at the deadline counts as no answer).
    """
    targets: dict[str, tuple[str, str, int]] = {}
    for url in urls:
        netloc = urlparse(url).netloc
        if netloc and netloc not in targets:
            targets[netloc] = probe_target(url)
    results: dict[str, str | None] = {}

    def one(netloc: str, host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as err:
            results[netloc] = f"DNS lookup of {host} failed ({err.strerror or err})"
            return
        except OSError as err:
            results[netloc] = f"DNS lookup of {host} failed ({err})"
            return
        last: str = "no address"
        for family, kind, proto, _, addr in infos[:3]:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(timeout)
            try:
                sock.connect(addr)
            except TimeoutError:
                last = f"no answer within {timeout:g} s"
            except ConnectionRefusedError:
                last = "connection refused"
            except OSError as err:
                last = err.strerror or str(err)
            else:
                results[netloc] = None
                return
            finally:
                sock.close()
        results[netloc] = last

    threads = []
    for netloc, (label, host, port) in targets.items():
        progress.info("checking %s ...", label)
        t = threading.Thread(target=one, args=(netloc, host, port), daemon=True)
        t.start()
        threads.append((netloc, t))
    deadline = time.monotonic() + timeout + 0.5
    for netloc, t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        if t.is_alive():
            results.setdefault(netloc, f"no answer within {timeout:g} s")
    return {netloc: results.get(netloc, f"no answer within {timeout:g} s") for netloc in targets}


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
    """Where a dataset's mirror-copy files live in the cache (whether or not they exist yet)."""
    folder = _dataset_dir(ds, settings)
    return [folder / name for name in ds.files]


def _meta_path(ds: Dataset, settings: Settings) -> Path:
    return _dataset_dir(ds, settings) / "fetch.json"


def _raw_problem(ds: Dataset, paths: list[Path], meta: dict[str, Any]) -> str | None:
    """Why the cached raw files of ``ds`` cannot be trusted (size or sha256 differ from what was
    recorded when they were fetched), or ``None``."""
    recorded = meta.get("sha256")
    if not isinstance(recorded, list) or len(recorded) != len(paths):
        return "its fetch record lists no hash for every file"
    sizes = meta.get("sizes") or []
    for i, path in enumerate(paths):
        size = path.stat().st_size
        if i < len(sizes) and isinstance(sizes[i], int) and size != sizes[i]:
            return f"{path.name} has {size:,} bytes, {sizes[i]:,} were fetched"
        digest = sha256_file(path)
        if digest != recorded[i]:
            return f"{path.name} has sha256 {digest[:12]}..., {str(recorded[i])[:12]}... was fetched"
    return None


def cached(ds: Dataset, settings: Settings, *, verify: bool = True) -> FetchResult | None:
    """The cached raw download of ``ds`` if complete (and, with ``verify``, still matching the size
    and sha256 recorded when it was fetched), else ``None``. A corrupt copy is logged by name and
    treated as absent, so the caller fetches it again."""
    meta = _meta_path(ds, settings)
    if not meta.exists():
        return None
    folder = _dataset_dir(ds, settings)
    try:
        d = json.loads(meta.read_text(encoding="utf-8"))
        names = [str(n) for n in (d.get("files") or list(ds.files))]
        if any(Path(n).name != n or n in ("", ".", "..") for n in names):
            raise ValueError(f"file names {names} are not plain names")
        paths = [folder / name for name in names]
        result = FetchResult(
            ds.key,
            paths,
            list(d["source_urls"]),
            list(d["sha256"]),
            "cache",
            str(d["retrieved_at"]),
            list(d.get("sizes", [])),
            d.get("origin") or d.get("via", ""),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        log.warning(
            "cached raw download of %s has an unreadable fetch record %s (%s): fetching it again",
            ds.key,
            meta,
            err,
        )
        return None
    if not paths or not all(p.exists() for p in paths):
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
        raise _NotFound(f"mirror has no file {src}" + (" (it is a folder)" if src.is_dir() else ""))
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


def source_locations(ds: Dataset, settings: Settings) -> list[str]:
    """The URLs or folders a fetch of ``ds`` would read, in order (empty: the mirror holds no copy)."""
    if settings.mirrors:
        if not ds.mirror_paths:
            return []
        out = []
        for m in settings.mirrors:
            try:
                out.append(_mirror_location(m, ds.mirror_paths[0]))
            except DataSourceError:
                continue  # a path refused as outside the mirror: the fetch itself names it
        return out
    return [ds.url]


def source_location(ds: Dataset, settings: Settings) -> str | None:
    """The first URL or folder a fetch of ``ds`` would read (None: the mirror holds no copy)."""
    locs = source_locations(ds, settings)
    return locs[0] if locs else None


def fetch(ds: Dataset, settings: Settings, *, force: bool = False) -> FetchResult:
    """Make the raw files of ``ds`` available in the cache and return where they are.

    Order: cache (unless ``force``; re-verified against its recorded hashes) -> mirror (if
    configured) -> official endpoint. ``offline`` stops after the cache. Every file is bounded by
    the dataset's size limit and the download deadline. A mirror serves the files under the
    dataset's ``mirror_path``; the publisher serves one file or a paged API (see
    ``catalogue.APIS``), stored as ``official_file``.
    """
    hit = None if force else cached(ds, settings)
    if hit is not None:
        log.info("cache hit for %s: %s", ds.key, hit.paths[0].parent)
        return hit
    if settings.offline:
        raise OfflineError([ds.key])
    urls: list[str] = []
    hashes: list[str] = []
    sizes: list[int] = []
    if settings.mirrors:
        via = "mirror"
        if not ds.mirror_paths:
            raise NotInMirror(f"{ds.key}: the mirror holds no copy of this dataset (no mirror_path)")
        dests = raw_paths(ds, settings)
        progress.info("fetching %s from mirror %s", ds.key, settings.mirror)
        for rel, dest, expected in zip(ds.mirror_paths, dests, ds.sha256, strict=True):
            loc, digest, size = _from_mirrors(ds, rel, dest, expected, settings)
            urls.append(loc)
            hashes.append(digest)
            sizes.append(size)
    else:
        via = "official"
        progress.info("fetching %s from %s (%s)", ds.key, urlparse(ds.url).netloc, _protocol(ds))
        dest, digest, size, url = _fetch_official(ds, settings)
        dests = [dest]
        urls.append(url)
        hashes.append(digest)
        sizes.append(size)
    result = FetchResult(ds.key, dests, urls, hashes, via, _now(), sizes, via)
    record = {k: v for k, v in result.to_dict().items() if k != "paths"}
    record["files"] = [p.name for p in dests]
    write_json(_meta_path(ds, settings), record)
    return result


def _from_mirrors(
    ds: Dataset, rel: str, dest: Path, expected: str | None, settings: Settings
) -> tuple[str, str, int]:
    """Copy or download ``rel`` from the first mirror location that has it: ``(location, sha256, size)``.

    A location without the file (no such local file, HTTP 404/410) or whose host does not answer
    passes to the next one. Any other fault (hash mismatch, HTML instead of data, an HTTP error)
    stops the search: a mirror that serves a wrong file must not be papered over by the next one.
    With one location its own error is raised unchanged.
    """
    failures: list[DataSourceError] = []
    for mirror in settings.mirrors:
        loc = _mirror_location(mirror, rel)
        budget = Budget.for_dataset(ds, settings, loc)
        try:
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
        except (_NotFound, UnreachableError) as err:
            failures.append(err)
            continue
        return loc, digest, size
    if all(isinstance(e, _NotFound) for e in failures):
        if len(failures) == 1:
            raise NotInMirror(str(failures[0])) from failures[0]
        raise NotInMirror(f"no mirror location holds {rel} (tried {', '.join(settings.mirrors)})")
    if len(failures) == 1:
        raise failures[0]
    raise DataSourceError(
        f"no mirror location holds {rel} ({ds.key}); tried in order: " + "; ".join(str(e) for e in failures)
    )


def _protocol(ds: Dataset) -> str:
    return {
        "file": f"{ds.archive} file" if ds.archive else f"{ds.format} file",
        "arcgis": "ArcGIS query, paged",
        "ckan_datastore": "CKAN datastore, paged",
        "ogc_features": "OGC API Features, paged",
        "wfs": "WFS 2.0, paged",
    }.get(ds.api, ds.api)


def _write_features(
    dest: Path, features: Iterator[dict[str, Any]], *, crs: dict[str, Any] | None = None, what: str
) -> tuple[str, int]:
    """Stream features into one GeoJSON FeatureCollection at ``dest`` (atomically). ``crs`` (the
    GeoJSON 2008 ``crs`` member, filled in by the pager from the first page) is written before the
    features, where every reader looks for it: the first feature is read before the header."""
    first = next(features, None)
    if first is None:
        raise DataSourceError(f"{what} returned no features")
    with AtomicFile(dest) as out:
        out.write(b'{"type":"FeatureCollection",')
        if crs:
            out.write(b'"crs":' + json.dumps(crs, separators=(",", ":")).encode("utf-8") + b",")
        out.write(b'"features":[')
        out.write(json.dumps(first, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        for feat in features:
            out.write(b",")
            out.write(json.dumps(feat, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        out.write(b"]}")
    return out.sha256, out.size


def _fetch_official(ds: Dataset, settings: Settings) -> tuple[Path, str, int, str]:
    """Download from the publisher into ``raw/<key>/<official_file>``."""
    if ds.manual:
        raise DataSourceError(
            f"{ds.key}: the publisher has no stable machine-readable download for this dataset "
            f"({ds.manual}). Download it by hand from {ds.url} and serve it through --mirror "
            "(or GROWTH_ZONES_MIRROR) under its catalogue mirror path"
        )
    dest = _dataset_dir(ds, settings) / ds.official_file
    shown = f"{ds.url}?{urlencode(ds.query)}" if ds.query else ds.url
    page = ds.page_size
    budget = Budget.for_dataset(ds, settings, ds.url)
    if ds.api == "arcgis":
        feats = arcgis_features(
            ds.url, ds.query, settings, page or ARCGIS_PAGE, headers=ds.headers, label=ds.key, budget=budget
        )
        return (dest, *_write_features(dest, feats, what=f"{ds.key}: {ds.url}"), shown)
    if ds.api == "ogc_features":
        feats = ogc_features(
            ds.url, ds.query, settings, page or OGC_PAGE, headers=ds.headers, label=ds.key, budget=budget
        )
        return (dest, *_write_features(dest, feats, what=f"{ds.key}: {ds.url}"), shown)
    if ds.api == "wfs":
        crs: dict[str, Any] = {}
        feats = wfs_features(
            ds.url,
            ds.query,
            settings,
            page or WFS_PAGE,
            headers=ds.headers,
            label=ds.key,
            crs_out=crs,
            budget=budget,
        )
        return (dest, *_write_features(dest, feats, crs=crs, what=f"{ds.key}: {ds.url}"), shown)
    if ds.api == "ckan_datastore":
        import csv
        import io

        fields, rows = ckan_records(
            ds.url, ds.query, settings, page or CKAN_PAGE, headers=ds.headers, label=ds.key, budget=budget
        )
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        n = 0
        for row in rows:
            writer.writerow(row)
            n += 1
        if n == 0:
            raise DataSourceError(f"{ds.key}: {ds.url} returned no records")
        return (dest, *write_bytes(dest, buf.getvalue().encode("utf-8")), shown)
    digest, size = download(
        ds.url,
        dest,
        settings,
        expect_format=ds.archive or ds.format,
        label=ds.key,
        headers=ds.headers,
        budget=budget,
        expected_sha256=ds.sha256[0] if ds.asset else None,  # an asset is the pinned file or nothing
    )
    if ds.archive == "zip":
        _check_zip_member(dest, ds)
    return dest, digest, size, ds.url


def _check_zip_member(path: Path, ds: Dataset) -> None:
    """An official zip must hold the member the catalogue names (else the layout changed)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as err:
        path.unlink(missing_ok=True)
        raise DataSourceError(f"{ds.key}: {ds.url} did not return a zip archive ({err})") from err
    if ds.member not in names:
        path.unlink(missing_ok=True)
        raise DataSourceError(
            f"{ds.key}: the zip from {ds.url} has no {ds.member!r}; it holds {names[:20]}. The publisher "
            "changed the archive layout: update the catalogue's member"
        )


def latest_release(ds: Dataset, settings: Settings) -> dict[str, Any]:
    """Ask the publisher which release is newest, as the catalogue's ``latest`` query says.

    ``govuk_content``: the GOV.UK Content API page of a publication; the first attachment whose
    file name or URL matches ``match`` (a regular expression). ``ckan_package``: CKAN
    ``package_show`` of ``id``; the first resource whose name or URL matches. Returns ``url``,
    ``title``, ``updated`` and whether it is the release the catalogue pins.
    """
    import re

    if not ds.latest:
        raise DataSourceError(f"{ds.key}: the catalogue records no query for the newest release")
    q = ds.latest
    pattern = re.compile(q.get("match") or ".")
    if q["api"] == "govuk_content":
        doc = _get_json(q["url"], None, settings)
        items = (doc.get("details") or {}).get("attachments") or []
        updated = doc.get("public_updated_at", "")
        cands = [
            {"url": a.get("url", ""), "title": a.get("title", ""), "updated": updated}
            for a in items
            if pattern.search(a.get("filename", "") or "") or pattern.search(a.get("url", "") or "")
        ]
    else:
        doc = _get_json(q["url"], {"id": q.get("id", "")}, settings)
        if not doc.get("success", False):
            raise DataSourceError(f"CKAN error from {q['url']}: {doc.get('error')}")
        cands = [
            {"url": r.get("url", ""), "title": r.get("name", ""), "updated": r.get("last_modified") or ""}
            for r in (doc.get("result") or {}).get("resources", [])
            if pattern.search(r.get("name", "") or "") or pattern.search(r.get("url", "") or "")
        ]
    if not cands:
        raise DataSourceError(f"{ds.key}: {q['url']} lists no file matching {pattern.pattern!r}")
    newest = cands[0]
    return {**newest, "pinned_url": ds.url, "is_pinned": newest["url"] == ds.url}


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

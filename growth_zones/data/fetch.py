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

Progress (which dataset, which host, how many features) goes to the ``growth_zones.progress``
logger, which the command line shows without ``-v``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlparse

from ..errors import DataSourceError, OfflineError, UnreachableError
from ..settings import Settings
from .atomic import AtomicFile, write_bytes, write_json
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


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


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


# --------------------------------------------------------------------------- HTTP


def _session(headers: dict[str, str] | None = None) -> Any:
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    s.headers.update(headers or {})
    return s


def _with_retries(settings: Settings, url: str, attempt: Callable[[], Any]) -> Any:
    """Run ``attempt`` with retries on transient faults; raise :class:`DataSourceError` at the end."""
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
        if i < settings.retries:
            delay = settings.backoff * (2**i)
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


def download(
    url: str,
    dest: Path,
    settings: Settings,
    *,
    expected_sha256: str | None = None,
    expect_format: str | None = None,
    label: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, int]:
    """Stream ``url`` to ``dest`` atomically; return ``(sha256, size)``.

    Raises :class:`DataSourceError` naming the URL on HTTP errors, truncated bodies, HTML served
    where data was expected, empty replies and hash mismatches; nothing is left at ``dest``.
    """
    session = _session(headers)

    def attempt() -> tuple[str, int]:
        out = AtomicFile(dest)
        try:
            with session.get(url, stream=True, timeout=settings.timeout) as resp:
                _check_status(resp, url)
                ctype = resp.headers.get("Content-Type", "")
                if "text/html" in ctype and expect_format not in (None, "html"):
                    raise DataSourceError(
                        f"download failed: {url} returned an HTML page, not {expect_format} data. "
                        "This address is a web page, not a file: the catalogue entry needs a direct "
                        "file URL, or download the file by hand and serve it through --mirror."
                    )
                total = int(resp.headers.get("Content-Length") or 0)
                bar = _progress(total, label or dest.name, settings)
                first = True
                for chunk in resp.iter_content(_CHUNK):
                    if first and expect_format not in (None, "html") and _looks_like_html(chunk):
                        raise DataSourceError(
                            f"download failed: {url} returned an HTML page (sent as {ctype or 'no type'}), "
                            f"not {expect_format} data"
                        )
                    first = False
                    out.write(chunk)
                    bar.update(len(chunk))
                bar.close()
                if total and out.size != total:
                    raise _Transient(f"connection closed after {out.size} of {total} bytes")
                if out.size == 0:
                    raise DataSourceError(f"download failed: {url}: empty reply")
            digest = out.hash.hexdigest()
            _check_hash(digest, expected_sha256, url)
            out.commit()
            return digest, out.size
        except BaseException:
            out.discard()
            raise

    result: tuple[str, int] = _with_retries(settings, url, attempt)
    log.info("downloaded %s -> %s (%d bytes, sha256 %s)", url, dest, result[1], result[0])
    return result


def _get_json(
    url: str,
    params: dict[str, Any] | None,
    settings: Settings,
    headers: dict[str, str] | None = None,
    *,
    check: Callable[[Any], None] | None = None,
) -> Any:
    """One JSON reply, retried on transient faults. A truncated body or an HTML page served with
    status 200 (a gateway's error page) is transient, as is anything ``check`` rejects with
    ``_Transient``; after the retries it is an error naming the URL and what came back."""
    session = _session(headers)
    full = f"{url}?{urlencode(params)}" if params else url

    def attempt() -> Any:
        with session.get(url, params=params, timeout=settings.timeout) as resp:
            _check_status(resp, full)
            body = resp.content
            if _looks_like_html(body[:64]):
                raise _Transient(f"an HTML page instead of JSON (HTTP {resp.status_code}): {body[:120]!r}")
            try:
                doc = json.loads(body)
            except ValueError as err:
                raise _Transient(f"reply is not complete JSON ({len(body)} bytes: {err})") from err
        if check is not None:
            check(doc)
        return doc

    return _with_retries(settings, full, attempt)


def arcgis_count(
    url: str, query: dict[str, str], settings: Settings, headers: dict[str, str] | None = None
) -> int | None:
    """The number of features a query matches (``returnCountOnly``), or None if the layer will not
    say (then paging ends on ``exceededTransferLimit`` alone)."""
    params = {k: v for k, v in query.items() if k not in ("outFields", "outSR", "f")}
    try:
        doc = _get_json(url, {**params, "returnCountOnly": "true", "f": "json"}, settings, headers)
    except (UnreachableError, _ClientError):
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
) -> Iterator[dict[str, Any]]:
    """Page an ArcGIS FeatureServer/MapServer ``/query`` (``resultOffset``/``resultRecordCount``).

    Stops when ``exceededTransferLimit`` is absent or false (the ONS convention); halves the page
    size when a page errors or comes back without ``features``, as ONS's own scripts do. When the
    layer reports a count (``returnCountOnly``), fewer features than that is an error.
    """
    expected = arcgis_count(url, query, settings, headers)
    offset = 0
    while True:
        params = {**query, "resultOffset": offset, "resultRecordCount": page_size}
        try:
            page = _get_json(url, params, settings, headers)
        except (UnreachableError, _ClientError):
            raise  # no point asking an unreachable host or a wrong URL for smaller pages
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
) -> Iterator[dict[str, Any]]:
    """Page an OGC API Features ``/items`` endpoint by following its ``next`` links.

    Each page's ``numberReturned`` must match the features it holds; the total must equal the
    first page's ``numberMatched`` when the service states it. ``next`` links must stay on the
    service's host (a link elsewhere is refused, not followed).
    """
    host = urlparse(url).netloc
    next_url: str | None = url
    params: dict[str, Any] | None = {"f": "json", **query, "limit": page_size}
    matched: int | None = None
    got = 0
    while next_url:
        page = _get_json(next_url, params, settings, headers, check=_ogc_page_check)
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
    crs_out: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Page a WFS 2.0 ``GetFeature`` (``startIndex``/``count``, GeoJSON output).

    Stops on a short page; the total must equal ``numberMatched`` when the server states it. The
    first page's ``crs`` member (GeoServer names the output CRS there) is copied into ``crs_out``.
    """
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
        page = _get_json(url, {**base, "count": page_size, "startIndex": start}, settings, headers)
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
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Page a CKAN ``datastore_search`` (``offset``/``limit``, ``result.total``)."""
    first = _get_json(url, {**query, "limit": page_size, "offset": 0}, settings, headers)
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
            page = _get_json(url, {**query, "limit": page_size, "offset": offset}, settings, headers)
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


def raw_paths(ds: Dataset, settings: Settings) -> list[Path]:
    """Where a dataset's mirror-copy files live in the cache (whether or not they exist yet)."""
    return [settings.raw_dir / ds.key / name for name in ds.files]


def _meta_path(ds: Dataset, settings: Settings) -> Path:
    return settings.raw_dir / ds.key / "fetch.json"


def cached(ds: Dataset, settings: Settings) -> FetchResult | None:
    """The cached raw download of ``ds`` if complete, else ``None``."""
    meta = _meta_path(ds, settings)
    if not meta.exists():
        return None
    try:
        d = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    names = d.get("files") or list(ds.files)
    paths = [settings.raw_dir / ds.key / name for name in names]
    if not paths or not all(p.exists() for p in paths):
        return None
    return FetchResult(
        ds.key,
        paths,
        d["source_urls"],
        d["sha256"],
        "cache",
        d["retrieved_at"],
        d.get("sizes", []),
        d.get("origin") or d.get("via", ""),
    )


def _mirror_location(mirror: str, rel: str) -> str:
    if _is_url(mirror):
        return mirror.rstrip("/") + "/" + quote(rel)
    return str(Path(mirror).expanduser() / rel)


def _copy_local(src: Path, dest: Path, expected: str | None) -> tuple[str, int]:
    if not src.is_file():
        raise _NotFound(f"mirror has no file {src}")
    with AtomicFile(dest) as out, open(src, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            out.write(chunk)
        _check_hash(out.sha256, expected, str(src))
    return out.sha256, out.size


def source_locations(ds: Dataset, settings: Settings) -> list[str]:
    """The URLs or folders a fetch of ``ds`` would read, in order (empty: the mirror holds no copy)."""
    if settings.mirrors:
        return [_mirror_location(m, ds.mirror_paths[0]) for m in settings.mirrors] if ds.mirror_paths else []
    return [ds.url]


def source_location(ds: Dataset, settings: Settings) -> str | None:
    """The first URL or folder a fetch of ``ds`` would read (None: the mirror holds no copy)."""
    locs = source_locations(ds, settings)
    return locs[0] if locs else None


def fetch(ds: Dataset, settings: Settings, *, force: bool = False) -> FetchResult:
    """Make the raw files of ``ds`` available in the cache and return where they are.

    Order: cache (unless ``force``) -> mirror (if configured) -> official endpoint. ``offline``
    stops after the cache. A mirror serves the files under the dataset's ``mirror_path``; the
    publisher serves one file or a paged API (see ``catalogue.APIS``), stored as ``official_file``.
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
            raise DataSourceError(f"{ds.key}: the mirror holds no copy of this dataset (no mirror_path)")
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
        try:
            if _is_url(loc):
                digest, size = download(
                    loc, dest, settings, expected_sha256=expected, expect_format=ds.format, label=ds.key
                )
            else:
                digest, size = _copy_local(Path(loc), dest, expected)
        except (_NotFound, UnreachableError) as err:
            failures.append(err)
            continue
        return loc, digest, size
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
    dest = settings.raw_dir / ds.key / ds.official_file
    shown = f"{ds.url}?{urlencode(ds.query)}" if ds.query else ds.url
    page = ds.page_size
    if ds.api == "arcgis":
        feats = arcgis_features(
            ds.url, ds.query, settings, page or ARCGIS_PAGE, headers=ds.headers, label=ds.key
        )
        return (dest, *_write_features(dest, feats, what=f"{ds.key}: {ds.url}"), shown)
    if ds.api == "ogc_features":
        feats = ogc_features(ds.url, ds.query, settings, page or OGC_PAGE, headers=ds.headers, label=ds.key)
        return (dest, *_write_features(dest, feats, what=f"{ds.key}: {ds.url}"), shown)
    if ds.api == "wfs":
        crs: dict[str, Any] = {}
        feats = wfs_features(
            ds.url, ds.query, settings, page or WFS_PAGE, headers=ds.headers, label=ds.key, crs_out=crs
        )
        return (dest, *_write_features(dest, feats, crs=crs, what=f"{ds.key}: {ds.url}"), shown)
    if ds.api == "ckan_datastore":
        import csv
        import io

        fields, rows = ckan_records(
            ds.url, ds.query, settings, page or CKAN_PAGE, headers=ds.headers, label=ds.key
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
    """Forget a dataset's raw download (used by ``--force``)."""
    shutil.rmtree(settings.raw_dir / ds.key, ignore_errors=True)

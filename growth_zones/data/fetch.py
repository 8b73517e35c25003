"""All network access lives here: downloads, API paging, mirrors, retries and hashes.

Guarantees (the reason this module exists):

* A file appears in the raw cache only complete and verified: bytes stream into a temporary file in
  the target folder and are renamed into place after the length and sha256 checks pass, so an
  interrupted download never looks cached.
* Error replies (HTTP 4xx/5xx, HTML where data was expected, empty bodies) are never cached.
* Transient faults (connection drops, 5xx, 429) are retried with exponential backoff.
* With a mirror (``--mirror`` / ``GROWTH_ZONES_MIRROR``, one or several locations searched in
  order) the official endpoint is never contacted; with ``offline`` nothing is contacted at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from ..errors import DataSourceError, OfflineError, UnreachableError
from ..settings import Settings
from .atomic import AtomicFile, write_bytes, write_json
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


def _session() -> Any:
    import requests

    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    return s


def _with_retries(settings: Settings, url: str, attempt: Callable[[], Any]) -> Any:
    """Run ``attempt`` with retries on transient faults; raise :class:`DataSourceError` at the end."""
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
            f"download failed: {url}: {host} could not be reached: {why}. "
            "On a closed network use --mirror DIR_OR_URL.",
            host,
        ) from last
    raise DataSourceError(f"download failed: {url}: {last}") from last


class _Transient(Exception):
    """A reply worth retrying (5xx, 429, truncated body)."""


class _NotFound(DataSourceError):
    """The location has no such file (a missing local file, HTTP 404/410): with several mirror
    locations the next one is tried."""


def _check_status(resp: Any, url: str) -> None:
    if resp.status_code in (429,) or resp.status_code >= 500:
        raise _Transient(f"HTTP {resp.status_code}")
    if resp.status_code in (404, 410):
        raise _NotFound(f"download failed: {url}: HTTP {resp.status_code} {resp.reason}")
    if resp.status_code >= 400:
        raise DataSourceError(f"download failed: {url}: HTTP {resp.status_code} {resp.reason}")


def download(
    url: str,
    dest: Path,
    settings: Settings,
    *,
    expected_sha256: str | None = None,
    expect_format: str | None = None,
    label: str | None = None,
) -> tuple[str, int]:
    """Stream ``url`` to ``dest`` atomically; return ``(sha256, size)``.

    Raises :class:`DataSourceError` naming the URL on HTTP errors, truncated bodies, HTML served
    where data was expected, empty replies and hash mismatches; nothing is left at ``dest``.
    """
    session = _session()

    def attempt() -> tuple[str, int]:
        out = AtomicFile(dest)
        try:
            with session.get(url, stream=True, timeout=settings.timeout) as resp:
                _check_status(resp, url)
                ctype = resp.headers.get("Content-Type", "")
                if "text/html" in ctype and expect_format not in (None, "html"):
                    raise DataSourceError(
                        f"download failed: {url} returned an HTML page, not {expect_format} data. "
                        "This publisher has no stable direct download URL for the dataset: download it by "
                        "hand and point --mirror at the folder holding it."
                    )
                total = int(resp.headers.get("Content-Length") or 0)
                bar = _progress(total, label or dest.name, settings)
                for chunk in resp.iter_content(_CHUNK):
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


def _get_json(url: str, params: dict[str, Any], settings: Settings) -> Any:
    session = _session()
    full = f"{url}?{urlencode(params)}"

    def attempt() -> Any:
        with session.get(url, params=params, timeout=settings.timeout) as resp:
            _check_status(resp, full)
            try:
                return resp.json()
            except ValueError as err:
                raise DataSourceError(f"download failed: {full}: reply is not JSON ({err})") from err

    return _with_retries(settings, full, attempt)


def arcgis_features(
    url: str, query: dict[str, str], settings: Settings, page_size: int = ARCGIS_PAGE
) -> Iterator[dict[str, Any]]:
    """Page an ArcGIS FeatureServer ``/query`` (``resultOffset``/``resultRecordCount``) as GeoJSON.

    Stops when ``exceededTransferLimit`` is absent or false (the ONS convention); halves the page
    size when a page errors or comes back without ``features``, as ONS's own scripts do.
    """
    offset = 0
    while True:
        params = {**query, "resultOffset": offset, "resultRecordCount": page_size}
        try:
            page = _get_json(url, params, settings)
        except UnreachableError:
            raise  # no point asking an unreachable host for smaller pages
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
        more = page.get("exceededTransferLimit") or page.get("properties", {}).get("exceededTransferLimit")
        if not more or not feats:
            return


def ckan_records(
    url: str, query: dict[str, str], settings: Settings, page_size: int = CKAN_PAGE
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Page a CKAN ``datastore_search`` (``offset``/``limit``, ``result.total``)."""
    first = _get_json(url, {**query, "limit": page_size, "offset": 0}, settings)
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
            if offset >= total or not records:
                return
            page = _get_json(url, {**query, "limit": page_size, "offset": offset}, settings)
            records = page["result"].get("records", [])

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


def raw_paths(ds: Dataset, settings: Settings) -> list[Path]:
    """Where a dataset's raw files live in the cache (whether or not they exist yet)."""
    return [settings.raw_dir / ds.key / name for name in ds.files]


def _meta_path(ds: Dataset, settings: Settings) -> Path:
    return settings.raw_dir / ds.key / "fetch.json"


def cached(ds: Dataset, settings: Settings) -> FetchResult | None:
    """The cached raw download of ``ds`` if complete, else ``None``."""
    meta = _meta_path(ds, settings)
    paths = raw_paths(ds, settings)
    if not meta.exists() or not all(p.exists() for p in paths):
        return None
    try:
        d = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return FetchResult(
        ds.key, paths, d["source_urls"], d["sha256"], "cache", d["retrieved_at"], d.get("sizes", [])
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


def fetch(ds: Dataset, settings: Settings, *, force: bool = False) -> FetchResult:
    """Make the raw files of ``ds`` available in the cache and return where they are.

    Order: cache (unless ``force``) -> mirror (if configured) -> official endpoint. ``offline``
    stops after the cache.
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
    if settings.mirrors:
        via = "mirror"
        for rel, dest, expected in zip(ds.mirror_paths, dests, ds.sha256, strict=True):
            loc, digest, size = _from_mirrors(ds, rel, dest, expected, settings)
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


def _fetch_official(ds: Dataset, dest: Path, settings: Settings) -> tuple[str, int, str]:
    """Download from the publisher. Multi-file formats (shapefiles) come as one zip officially."""
    if len(ds.mirror_paths) > 1:
        raise DataSourceError(
            f"{ds.key}: the publisher distributes this dataset from a web page ({ds.url}), not a stable file "
            "URL; download it by hand and point --mirror at the folder holding " + ", ".join(ds.mirror_paths)
        )
    if ds.api == "arcgis":
        features = list(arcgis_features(ds.url, ds.query, settings))
        if not features:
            raise DataSourceError(f"{ds.key}: {ds.url} returned no features")
        body = json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")
        return (*write_bytes(dest, body), f"{ds.url}?{urlencode(ds.query)}")
    if ds.api == "ckan_datastore":
        import csv
        import io

        fields, rows = ckan_records(ds.url, ds.query, settings)
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
    digest, size = download(ds.url, dest, settings, expect_format=ds.format, label=ds.key)
    return digest, size, ds.url


def clear_raw(ds: Dataset, settings: Settings) -> None:
    """Forget a dataset's raw download (used by ``--force``)."""
    shutil.rmtree(settings.raw_dir / ds.key, ignore_errors=True)

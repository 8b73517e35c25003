"""A loopback HTTP server for download tests: serves real files from ../shared/data and can
misbehave on purpose, and emulates each protocol the fetcher speaks, in the shape the official
services answer:

* ArcGIS FeatureServer/MapServer ``/query`` (``resultOffset``/``resultRecordCount``, a server page
  cap below the requested size, ``properties.exceededTransferLimit``, ``returnCountOnly``);
* OGC API Features ``/collections/{id}/items`` (``limit``/``offset``, absolute ``next`` links,
  ``numberMatched``/``numberReturned``), as the Environment Agency's service;
* WFS 2.0 ``GetFeature`` (``startIndex``/``count``, ``numberMatched``/``totalFeatures``, the output
  CRS in a ``crs`` member, an OWS ExceptionReport for an unknown type name), as GeoServer;
* CKAN ``datastore_search`` (``offset``/``limit``, ``result.total``) and ``package_show``;
* the GOV.UK Content API (a publication's attachments);
* plain files, including virtual ones built by a test (an ``.xlsx`` workbook laid out like the
  official one, a ``.zip`` holding the real files under the publisher's member names).

Faults are queued per path and consumed one per request (``None`` = answer normally):
``"500"``, ``"404"``, ``"html"`` (an HTML error page with status 200), ``"cut"`` (the full
Content-Length announced, half the body sent, connection closed), ``"corrupt"`` (one byte flipped)
and ``"short"`` (a JSON page that claims more features than it holds).
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

JSON = "application/json"
GEOJSON = "application/geo+json"


class LoopbackServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, list[str | None]] = {}  # path -> queue of faults, one per request
        self.hits: dict[str, int] = {}
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.files: dict[str, tuple[bytes, str]] = {}  # virtual files: path -> (body, content type)
        self.arcgis_file: Path | None = None
        self.arcgis_max_page = 100
        self.ckan_file: Path | None = None
        self.ckan_max_page = 500
        self.ckan_packages: dict[str, dict[str, Any]] = {}
        self.ogc_collections: dict[str, dict[str, Any]] = {}  # id -> FeatureCollection
        self.ogc_max_page = 500
        self.wfs_layers: dict[str, dict[str, Any]] = {}  # typeName -> FeatureCollection
        self.wfs_crs = "urn:ogc:def:crs:EPSG::27700"
        self.wfs_max_page = 1000
        self.govuk_content: dict[str, dict[str, Any]] = {}  # path -> content item
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlparse(self.path)
                path = unquote(url.path)
                query = parse_qs(url.query)
                server.hits[path] = server.hits.get(path, 0) + 1
                server.queries.append((path, query))
                queue = server.faults.get(path, [])
                fault = queue.pop(0) if queue else None
                if fault == "500":
                    return self._send(500, b"internal error", "text/plain")
                if fault == "404":
                    return self._send(404, b"not found", "text/plain")
                if fault == "html":
                    return self._send(
                        200, b"<!DOCTYPE html><html><body>Service busy</body></html>", "text/html"
                    )
                status, body, ctype = server.route(path, query, self._base())
                if fault == "short" and ctype in (JSON, GEOJSON):
                    doc = json.loads(body)
                    doc["features"] = doc.get("features", [])[:-1]
                    body = json.dumps(doc).encode()
                if fault == "corrupt":
                    body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
                if fault == "cut":
                    self.send_response(200)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                return self._send(status, body, ctype)

            def _base(self) -> str:
                host, port = server.httpd.server_address[:2]
                return f"http://{host}:{port}"

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.routes: dict[str, Callable[[dict[str, list[str]], str], tuple[int, bytes, str]]] = {
            "/arcgis/query": self._arcgis,
            "/ckan/datastore_search": self._ckan,
            "/ckan/package_show": self._ckan_package,
            "/wfs": self._wfs,
        }

    # ------------------------------------------------------------------ routing
    def route(self, path: str, q: dict[str, list[str]], base: str) -> tuple[int, bytes, str]:
        if path in self.routes:
            return self.routes[path](q, base)
        if path.startswith("/ogc/collections/") and path.endswith("/items"):
            return self._ogc(path.split("/")[3], q, base)
        if path in self.govuk_content:
            return 200, json.dumps(self.govuk_content[path]).encode(), JSON
        if path in self.files:
            body, ctype = self.files[path]
            return 200, body, ctype
        file = (self.root / path.lstrip("/")).resolve()
        if self.root.resolve() not in file.parents or not file.is_file():
            return 404, b"not found", "text/plain"
        return 200, file.read_bytes(), "application/octet-stream"

    @staticmethod
    def _one(q: dict[str, list[str]], key: str, default: str) -> str:
        return q.get(key, [default])[0]

    def _arcgis(self, q: dict[str, list[str]], base: str) -> tuple[int, bytes, str]:
        assert self.arcgis_file is not None
        feats = json.loads(self.arcgis_file.read_text())["features"]
        if self._one(q, "returnCountOnly", "false") == "true":
            return 200, json.dumps({"count": len(feats)}).encode(), JSON
        offset = int(self._one(q, "resultOffset", "0"))
        count = min(int(self._one(q, "resultRecordCount", "2000")), self.arcgis_max_page)
        page = feats[offset : offset + count]
        doc: dict[str, object] = {"type": "FeatureCollection", "features": page}
        if offset + count < len(feats):
            doc["properties"] = {"exceededTransferLimit": True}
        return 200, json.dumps(doc).encode(), GEOJSON

    def _ckan(self, q: dict[str, list[str]], base: str) -> tuple[int, bytes, str]:
        assert self.ckan_file is not None
        with open(self.ckan_file, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        fields = [{"id": "_id", "type": "int"}] + [{"id": k, "type": "text"} for k in rows[0]]
        offset = int(self._one(q, "offset", "0"))
        limit = min(int(self._one(q, "limit", "100")), self.ckan_max_page)
        recs = [{"_id": i + 1, **r} for i, r in enumerate(rows[offset : offset + limit], start=offset)]
        doc = {"success": True, "result": {"fields": fields, "records": recs, "total": len(rows)}}
        return 200, json.dumps(doc).encode(), JSON

    def _ckan_package(self, q: dict[str, list[str]], base: str) -> tuple[int, bytes, str]:
        pkg = self.ckan_packages.get(self._one(q, "id", ""))
        if pkg is None:
            doc = {"success": False, "error": {"message": "Not found", "__type": "Not Found Error"}}
            return 404, json.dumps(doc).encode(), JSON
        return 200, json.dumps({"success": True, "result": pkg}).encode(), JSON

    def _ogc(self, collection: str, q: dict[str, list[str]], base: str) -> tuple[int, bytes, str]:
        fc = self.ogc_collections.get(collection)
        if fc is None:
            return 404, json.dumps({"code": "NotFound", "description": collection}).encode(), JSON
        feats = fc["features"]
        limit = min(int(self._one(q, "limit", "10")), self.ogc_max_page)
        offset = int(self._one(q, "offset", "0"))
        page = feats[offset : offset + limit]
        here = f"{base}/ogc/collections/{collection}/items"
        links = [
            {
                "rel": "self",
                "type": GEOJSON,
                "href": f"{here}?{urlencode({'f': 'json', 'limit': limit, 'offset': offset})}",
            }
        ]
        if offset + limit < len(feats):
            nxt = urlencode({"f": "json", "limit": limit, "offset": offset + limit})
            links.append({"rel": "next", "type": GEOJSON, "href": f"{here}?{nxt}"})
        doc = {
            "type": "FeatureCollection",
            "features": page,
            "numberMatched": len(feats),
            "numberReturned": len(page),
            "links": links,
        }
        return 200, json.dumps(doc).encode(), GEOJSON

    def _wfs(self, q: dict[str, list[str]], base: str) -> tuple[int, bytes, str]:
        name = self._one(q, "typeNames", self._one(q, "typeName", ""))
        if self._one(q, "request", "").lower() != "getfeature" or name not in self.wfs_layers:
            report = (
                '<?xml version="1.0" encoding="UTF-8"?><ows:ExceptionReport version="2.0.0" '
                'xmlns:ows="http://www.opengis.net/ows/1.1"><ows:Exception exceptionCode="InvalidParameterValue" '
                f'locator="typeName"><ows:ExceptionText>Feature type {name} unknown</ows:ExceptionText>'
                "</ows:Exception></ows:ExceptionReport>"
            )
            return 400, report.encode(), "application/xml"
        feats = self.wfs_layers[name]["features"]
        count = min(int(self._one(q, "count", "1000000")), self.wfs_max_page)
        start = int(self._one(q, "startIndex", "0"))
        page = feats[start : start + count]
        doc = {
            "type": "FeatureCollection",
            "features": page,
            "totalFeatures": len(feats),
            "numberMatched": len(feats),
            "numberReturned": len(page),
            "timeStamp": "2026-11-30T00:00:00.000Z",
            "crs": {"type": "name", "properties": {"name": self.wfs_crs}},
        }
        return 200, json.dumps(doc).encode(), JSON

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

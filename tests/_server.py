"""A loopback HTTP server for download tests: serves real files from ../shared/data and can
misbehave on purpose (cut connections, 500 then 200, corrupted bytes, HTML error pages, an endless
body, a body dripped one byte at a time, an announced size far beyond any limit), and
emulates the two paged APIs the loaders speak (ArcGIS FeatureServer query, CKAN datastore_search).
"""

from __future__ import annotations

import csv
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


class LoopbackServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, list[str]] = {}  # path -> queue of fault names, consumed per request
        self.hits: dict[str, int] = {}
        self.arcgis_file: Path | None = None
        self.arcgis_max_page = 100
        self.ckan_file: Path | None = None
        self.ckan_max_page = 500
        self.drip_interval = 0.2  # seconds between bytes of a "drip" reply
        self.stop_event = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlparse(self.path)
                path = unquote(url.path)
                server.hits[path] = server.hits.get(path, 0) + 1
                queue = server.faults.get(path, [])
                fault = queue.pop(0) if queue else None
                if fault == "500":
                    return self._send(500, b"internal error", "text/plain")
                if fault == "404":
                    return self._send(404, b"not found", "text/plain")
                if fault == "html":
                    return self._send(200, b"<html><body>Sign in</body></html>", "text/html")
                if fault == "endless":  # no Content-Length, bytes until the client hangs up
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.end_headers()
                    block = b"x" * 65536
                    try:
                        while not server.stop_event.is_set():
                            self.wfile.write(block)
                    except OSError:
                        pass
                    self.close_connection = True
                    return None
                if fault == "drip":  # a plausible length, then one byte at a time, forever
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    try:
                        while not server.stop_event.is_set():
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(server.drip_interval)
                    except OSError:
                        pass
                    self.close_connection = True
                    return None
                if fault == "huge":  # announces 50 GB
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(50 * 1024**3))
                    self.end_headers()
                    self.close_connection = True
                    return None
                if path == "/arcgis/query":
                    return self._arcgis(parse_qs(url.query))
                if path == "/ckan/datastore_search":
                    return self._ckan(parse_qs(url.query))
                file = (server.root / path.lstrip("/")).resolve()
                if server.root.resolve() not in file.parents or not file.is_file():
                    return self._send(404, b"not found", "text/plain")
                body = file.read_bytes()
                if fault == "corrupt":
                    body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
                if fault == "cut":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                return self._send(200, body, "application/octet-stream")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _arcgis(self, q: dict[str, list[str]]) -> None:
                assert server.arcgis_file is not None
                feats = json.loads(server.arcgis_file.read_text())["features"]
                offset = int(q.get("resultOffset", ["0"])[0])
                count = min(int(q.get("resultRecordCount", ["2000"])[0]), server.arcgis_max_page)
                page = feats[offset : offset + count]
                doc: dict[str, object] = {"type": "FeatureCollection", "features": page}
                if offset + count < len(feats):
                    doc["properties"] = {"exceededTransferLimit": True}
                self._send(200, json.dumps(doc).encode(), "application/geo+json")

            def _ckan(self, q: dict[str, list[str]]) -> None:
                assert server.ckan_file is not None
                with open(server.ckan_file, encoding="utf-8-sig", newline="") as fh:
                    rows = list(csv.DictReader(fh))
                fields = [{"id": "_id", "type": "int"}] + [{"id": k, "type": "text"} for k in rows[0]]
                offset = int(q.get("offset", ["0"])[0])
                limit = min(int(q.get("limit", ["100"])[0]), server.ckan_max_page)
                recs = [
                    {"_id": i + 1, **r} for i, r in enumerate(rows[offset : offset + limit], start=offset)
                ]
                doc = {"success": True, "result": {"fields": fields, "records": recs, "total": len(rows)}}
                self._send(200, json.dumps(doc).encode(), "application/json")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()

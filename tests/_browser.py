"""Headless-Chromium helpers shared by the browser tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
ON_CI = os.environ.get("CI") == "true"
N_REGIONS = 374


def _unavailable(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright (python) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return ARTIFACTS


class Page:
    """A page that may only load file:// URLs, recording console errors, page errors and dialogs."""

    def __init__(self, browser, url: str) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.external: list[str] = []  # requests to anything but file: (all aborted)
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto("about:blank")  # start the renderer first: its start-up is not the page's load time
        self.page.goto(url, wait_until="load")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource") and url and not url.startswith("file:"):
            return  # an aborted request to an external host (base-map tiles): expected offline
        self.errors.append(f"console: {msg.text} @ {url}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def load_ms(self) -> tuple[float, float]:
        """(map ready, load event) in ms after navigation start. 'Map ready' is the mark the page sets
        once every layer is drawn; the load event also waits for the (aborted) base-map tiles,
        whose timing here is dominated by Playwright's request routing."""
        return tuple(
            self.page.evaluate("""() => {
            const n = performance.getEntriesByType('navigation')[0];
            const r = performance.getEntriesByName('gz-map-ready')[0];
            return [Math.max(r ? r.startTime : Infinity, n.domContentLoadedEventEnd), n.loadEventEnd]; }""")
        )

    def region_count(self) -> int:
        return self.page.locator(".leaflet-overlay-pane path.leaflet-interactive").count()

    def base_counts(self) -> tuple[int, int]:
        """(land polygons, council outlines) drawn by the offline base map."""
        return (
            self.page.locator(".leaflet-gzBaseLand-pane path").count(),
            self.page.locator(".leaflet-gzBaseLines-pane path").count(),
        )

    def close(self) -> None:
        self.page.close()

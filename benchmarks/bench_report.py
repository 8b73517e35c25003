"""Benchmark: size and load time of the real national map in headless Chromium.

    python benchmarks/bench_report.py --mirror ../shared/data --assets DIR

DIR is the offline map-library copy from `tools/fetch_map_assets.sh DIR`. Renders ranking.html
for every GB local authority with all overlays, opens it (file://, network blocked) and reports
the time until the page's own "map ready" mark and the load event, best of --repeat.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # the checkout, for tests.support

import argparse
import json
import os
import tempfile
from pathlib import Path

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--cache", default=None)
    ap.add_argument("--assets", default=os.environ.get("GROWTH_ZONES_MAP_ASSETS"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.assets:
        ap.error("--assets DIR (or GROWTH_ZONES_MAP_ASSETS) is required: run tools/fetch_map_assets.sh DIR")

    from playwright.sync_api import sync_playwright

    from growth_zones.data.pull import pull
    from growth_zones.settings import Settings
    from growth_zones.workflows.ranking import rank_regions

    settings = Settings(
        cache_dir=Path(args.cache or tempfile.mkdtemp(prefix="gz-bench-")), mirror=args.mirror
    )
    assert pull(settings=settings).ok
    out = Path(tempfile.mkdtemp(prefix="gz-bench-report-"))
    result = rank_regions(settings=settings, sensitivity_draws=1000)
    html = result.write(out, formats=("csv", "html"), assets=Path(args.assets))["html"]
    ready, load = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        for _ in range(args.repeat):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto("about:blank")
            page.goto(html.as_uri(), wait_until="load")
            r, lo = page.evaluate("""() => {
                const n = performance.getEntriesByType('navigation')[0];
                const m = performance.getEntriesByName('gz-map-ready')[0];
                return [m ? m.startTime : NaN, n.loadEventEnd]; }""")
            ready.append(r)
            load.append(lo)
            page.close()
        browser.close()
    print(
        json.dumps(
            {
                "html_bytes": html.stat().st_size,
                "regions": len(result.table),
                "map_ready_ms_best": round(min(ready)),
                "load_event_ms_best": round(min(load)),
                "map_ready_ms_all": [round(x) for x in ready],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

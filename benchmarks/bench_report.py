"""Benchmark: the HTML reports, as `rank --html` and `assess --html` write them.

    python benchmarks/bench_report.py --mirror MIRROR:NPM_MIRROR [--sites 1000]

The mirror must hold the real datasets and the map-library tarballs (``npm/*.tgz``; `.ci/run`
shows how to stage them with `npm pack`). Measures, on a warm data cache:

* the national map ``ranking.html`` (every GB local authority, all overlays, libraries inlined):
  bytes, and the time until the page's own "map ready" mark and the load event in headless
  Chromium (file://, network blocked), best of --repeat;
* ``assess --html`` on N generated sites (default 1,000; goal < 100 MB and < 60 s on the
  reference machine): wall time of the whole command (assessment + report), of the report alone,
  the report folder's bytes and its largest site page;
* the 13 example applications' report folder: bytes.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # the checkout, for tests.support

import argparse
import json
import subprocess
import tempfile
import time
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
REPO = Path(__file__).resolve().parents[1]


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cli(*args: str, env: dict[str, str]) -> float:
    """Run the real command line in a fresh process; return its wall time."""
    import os

    t = time.perf_counter()
    subprocess.run(
        [
            _sys.executable,
            "-c",
            "import sys; from cli import app; sys.argv[0] = 'growth-zones'; app()",
            *args,
        ],
        check=False,
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
    )
    return time.perf_counter() - t


def main() -> None:
    from _common import default_mirror

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=default_mirror())
    ap.add_argument("--cache", default=None)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from growth_zones import api
    from growth_zones.data.assets import fetch_assets
    from growth_zones.data.layers import LayerSet
    from growth_zones.data.store import Store
    from growth_zones.settings import Settings
    from growth_zones.workflows.assessment import assess, gb_land
    from growth_zones.workflows.ranking import rank_regions
    from tests.support.synthetic_applications import write_mixed_batch

    settings = Settings(
        cache_dir=Path(args.cache or tempfile.mkdtemp(prefix="gz-bench-")), mirror=args.mirror
    )
    assert api.pull(settings=settings).ok
    if not fetch_assets(settings).complete:
        raise SystemExit("the mirror holds no map-library tarballs (npm/*.tgz): see .ci/run")
    env = {"GROWTH_ZONES_CACHE": str(settings.cache_dir), "GROWTH_ZONES_MIRROR": args.mirror}
    out = Path(tempfile.mkdtemp(prefix="gz-bench-report-"))

    # the national map
    result = rank_regions(settings=settings, sensitivity_draws=1000)
    html = result.write(out / "national", formats=("csv", "html"))["html"]
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

    # the 13 examples
    examples = out / "examples"
    cli("assess", str(REPO / "data/examples/applications.geojson"), "--out", str(examples), "--html", env=env)

    # N generated sites: the whole command, then the report alone on the same result
    store = Store(settings)
    layers = LayerSet.load(store)
    apps = out / f"apps_{args.sites}.geojson"
    write_mixed_batch(apps, args.sites, land=gb_land(layers), seed=1, malformed_fraction=0.0)
    big = out / f"sites_{args.sites}"
    command_s = cli("assess", str(apps), "--out", str(big), "--html", env=env)
    res = assess(apps, layers=layers, store=store)
    t = time.perf_counter()
    res.write(out / "report_only", formats=("csv", "html"))
    report_s = time.perf_counter() - t
    pages = list((big / "report" / "sites").glob("*.html"))
    print(
        json.dumps(
            {
                "national_html_bytes": html.stat().st_size,
                "regions": len(result.table),
                "map_ready_ms_best": round(min(ready)),
                "load_event_ms_best": round(min(load)),
                "map_ready_ms_all": [round(x) for x in ready],
                "examples_report_bytes": folder_bytes(examples / "report"),
                "sites": args.sites,
                "assess_html_command_s": round(command_s, 1),
                "report_only_s": round(report_s, 1),
                "report_bytes": folder_bytes(big / "report"),
                "site_pages": len(pages),
                "largest_site_page_bytes": max(p.stat().st_size for p in pages),
                "goal": "report < 100 MB and assess --html < 60 s for 1,000 sites",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

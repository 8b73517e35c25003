"""Run every benchmark and print one JSON document (the README records its figures).

    python benchmarks/run_all.py [--mirror MIRROR[:NPM_MIRROR]] [--quick] [--out results.json]
        [--only startup rank assess surface ...] [--sites 1000 10000 100000] [--resolution 100 50]

The mirror defaults to ``GROWTH_ZONES_MIRROR`` (several locations separated by ``:``: the datasets
and, for the report benchmark, the map-library tarballs). --quick skips the 100 m surface and the
10,000- and 100,000-site batches. The report benchmark runs when a mirror location holds the
map-library tarballs (npm/*.tgz, see .ci/run). Each benchmark runs in its own process, so one's
memory does not colour the next one's peak-RSS figure; every whole-command figure inside is itself
a median over fresh processes (benchmarks/_command.py). The JSON is printed and, with --out,
written to a file; ``goals`` collects every goal's verdict (met, or missed by how much).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def run(script: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True)
    if res.returncode != 0:
        return {"error": res.stderr[-2000:]}
    out = res.stdout
    return json.loads(out[out.index("{") :])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--mirror", default=os.environ.get("GROWTH_ZONES_MIRROR") or str(HERE.parents[1] / "shared" / "data")
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=None, help="Also write the JSON here.")
    ap.add_argument(
        "--only", nargs="+", default=None, help="Run only these benchmarks (names as in the JSON)."
    )
    ap.add_argument("--sites", nargs="+", default=None, help="Batch sizes for bench_assess.")
    ap.add_argument("--resolution", nargs="+", default=None, help="Resolutions for bench_surface (100 50).")
    args = ap.parse_args()
    from growth_zones.settings import mirror_locations

    data = next(
        (loc for loc in mirror_locations(args.mirror) if (Path(loc) / "SOURCES.md").exists()), args.mirror
    )
    npm = [loc for loc in mirror_locations(args.mirror) if any((Path(loc) / "npm").glob("leaflet-*.tgz"))]
    m = ["--mirror", data]
    sites = args.sites or (["1000"] if args.quick else ["1000", "10000", "100000"])
    resolutions = args.resolution or ["100"]
    plan = {
        "startup": lambda: run("bench_startup.py"),
        "scoring": lambda: run("bench_scoring.py"),
        "rank": lambda: run("bench_rank.py", *m),
        "indicators_1000_sites": lambda: run("bench_indicators.py", *m, "--sites", "1000"),
        "assess": lambda: run("bench_assess.py", *m, "--sites", *sites),
        "surface_250m": lambda: run("bench_surface.py", *m, "--resolution", "250"),
        "no_network": lambda: run("bench_no_network.py", "--mode", "refused"),
    }
    if not args.quick:
        plan["surface"] = lambda: run("bench_surface.py", *m, "--resolution", *resolutions)
    if npm:
        plan["report"] = lambda: run("bench_report.py", "--mirror", os.pathsep.join([data, *npm]))
    results: dict = {name: fn() for name, fn in plan.items() if args.only is None or name in args.only}
    results["goals"] = [g for r in results.values() if isinstance(r, dict) for g in r.get("goals", [])]
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

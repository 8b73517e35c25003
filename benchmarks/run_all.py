"""Run every benchmark and print one JSON document (the README records its figures).

    python benchmarks/run_all.py [--mirror ../shared/data[:NPM_MIRROR]] [--quick]

--quick skips the 100 m surface and the 10,000-site batch. The report benchmark runs when a mirror
location holds the map-library tarballs (npm/*.tgz, see .ci/run). Each benchmark runs in its own
process, so one's memory does not colour the next one's peak-RSS figure.
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
    args = ap.parse_args()
    from growth_zones.settings import mirror_locations

    data = next(
        (loc for loc in mirror_locations(args.mirror) if (Path(loc) / "SOURCES.md").exists()), args.mirror
    )
    npm = [loc for loc in mirror_locations(args.mirror) if any((Path(loc) / "npm").glob("leaflet-*.tgz"))]
    m = ["--mirror", data]
    results = {
        "scoring": run("bench_scoring.py"),
        "rank": run("bench_rank.py", *m),
        "indicators_1000_sites": run("bench_indicators.py", *m, "--sites", "1000"),
        "assess": run("bench_assess.py", *m, "--sites", *(["1000"] if args.quick else ["1000", "10000"])),
        "surface_250m": run("bench_surface.py", *m, "--resolution", "250"),
        "no_network": run("bench_no_network.py", "--mode", "refused"),
    }
    if not args.quick:
        results["surface_100m"] = run("bench_surface.py", *m, "--resolution", "100")
    if npm:
        results["report"] = run("bench_report.py", "--mirror", os.pathsep.join([data, *npm]))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Run every benchmark and print one JSON document (the README records its figures).

    python benchmarks/run_all.py [--mirror ../shared/data] [--assets DIR] [--quick]

--quick skips the 100 m surface and the 10,000-site batch. Each benchmark runs in its own process,
so one's memory does not colour the next one's peak-RSS figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True)
    if res.returncode != 0:
        return {"error": res.stderr[-2000:]}
    out = res.stdout
    return json.loads(out[out.index("{") :])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=str(HERE.parents[1] / "shared" / "data"))
    ap.add_argument("--assets", default=os.environ.get("GROWTH_ZONES_MAP_ASSETS"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    m = ["--mirror", args.mirror]
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
    if args.assets:
        results["report"] = run("bench_report.py", *m, "--assets", args.assets)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

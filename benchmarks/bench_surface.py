"""Benchmark: ``growth-zones surface`` as a whole command (fresh processes, medians), then by step.

    python benchmarks/bench_surface.py [--mirror MIRROR] [--resolution 100 50] [--runs 3]
        [--dask | --dask tcp://host:8786]

The cache is filled from the mirror first (untimed); each run writes the whole output set (COG,
zonal statistics, candidate zones, overview picture) into a temporary folder. Cases: ``warm`` (the
derived cache built by an earlier run). Peak memory is the largest single process
(``peak_rss_mb``) and the largest sum over the process and its workers (``peak_tree_rss_mb``).

Goals: 100 m < 12 s and < 1.5 GB; 50 m < 45 s and < 3 GB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._command import goal, measure  # noqa: E402
from benchmarks._common import cache_env, default_mirror, machine, warm_settings  # noqa: E402

GOALS = {100.0: (12.0, 1536.0), 50.0: (45.0, 3072.0)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=default_mirror())
    ap.add_argument("--cache", default=None)
    ap.add_argument("--resolution", type=float, nargs="+", default=[100.0, 50.0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (build the derived cache)")
    ap.add_argument("--dask", nargs="?", const="local", default=None, help="local, or a scheduler address")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more surface options")
    args = ap.parse_args(argv)

    settings = warm_settings(args.mirror, args.cache)
    env = cache_env(settings)
    out = Path(tempfile.mkdtemp(prefix="gz-bench-surface-"))
    result: dict = {"benchmark": "surface", **machine(), "resolutions": {}}
    goals = []
    for res in args.resolution:
        cmd = [
            "-q",
            "surface",
            "--resolution",
            f"{res:g}",
            "--out",
            str(out),
            "--overwrite",
            "--allow-missing",
        ]
        if args.dask:
            cmd += ["--dask", args.dask]
        cmd += list(args.extra)
        m = measure(
            cmd,
            case="warm (derived cache built by an earlier run)",
            runs=args.runs,
            env=env,
            warmup=args.warmup,
        )
        tif = out / f"surface_{res:g}m.tif"
        m["cog_mb"] = round(tif.stat().st_size / 2**20, 1) if tif.exists() else None
        result["resolutions"][f"{res:g}"] = m
        if res in GOALS:
            secs, mb = GOALS[res]
            peak = (m["peak_tree_rss_mb"] or m["peak_rss_mb"])["median"]
            goals += [
                goal(m["wall_s"]["median"], secs, "s", f"surface --resolution {res:g}"),
                goal(peak, mb, "MB", f"surface --resolution {res:g} peak memory"),
            ]
    result["goals"] = goals
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

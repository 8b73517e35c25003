"""Benchmark: ``growth-zones assess`` on generated batches as a whole command (fresh processes,
medians), then by step.

    python benchmarks/bench_assess.py [--mirror MIRROR] [--sites 1000 10000 100000] [--runs 3]

Batches of N synthetic applications on GB land with 5% malformed rows of every kind mixed in
(``tests.support.synthetic_applications``; GeoJSON in WGS84, as an applicant would send them) are
written first (untimed). Cases:

* ``warm``: the derived cache (region indicators, grid nodes, layer set-up) built by an earlier run;
* ``cold derived cache`` (1,000 sites only): the derived cache emptied before every run.

Linearity: the cost per site and the marginal cost per site between consecutive batch sizes.
Goals: 1,000 sites < 2.5 s, 10,000 < 8 s, 100,000 < 60 s and < 1 GB peak.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._command import clear, goal, measure  # noqa: E402
from benchmarks._common import (  # noqa: E402
    cache_env,
    default_mirror,
    load_layers,
    machine,
    warm_settings,
)

GOALS_S = {1000: 2.5, 10_000: 8.0, 100_000: 60.0}
GOAL_PEAK_MB = {100_000: 1024.0}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=default_mirror())
    ap.add_argument("--cache", default=None)
    ap.add_argument("--sites", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--malformed", type=float, default=0.05, help="Fraction of malformed rows mixed in.")
    args = ap.parse_args(argv)

    from growth_zones.workflows.assessment import gb_land
    from tests.support.synthetic_applications import write_mixed_batch

    settings = warm_settings(args.mirror, args.cache)
    env = cache_env(settings)
    layers, _ = load_layers(settings, ["countries"])
    land = gb_land(layers)
    work = Path(tempfile.mkdtemp(prefix="gz-bench-assess-"))
    out = work / "out"
    result: dict = {"benchmark": "assess", **machine(), "malformed_fraction": args.malformed, "batches": {}}
    goals = []
    runs_by_size = {}
    for n in sorted(args.sites):
        path = work / f"apps_{n}.geojson"
        write_mixed_batch(path, n, land=land, seed=1, malformed_fraction=args.malformed)
        # exit 3: some rows were rejected (the malformed ones), as expected
        cmd = ["-q", "assess", str(path), "--out", str(out), "--overwrite", "--allow-missing"]
        if n == min(args.sites):
            result["batches"][f"{n}_cold_derived"] = measure(
                cmd,
                case="cold derived cache (emptied before every run)",
                runs=args.runs,
                env=env,
                before_each=clear(settings.cache_dir / "derived"),
                ok_codes=(3,),
            )
        warm = measure(
            cmd,
            case="warm (derived cache built by an earlier run)",
            runs=args.runs if n < 100_000 else max(1, min(args.runs, 3)),
            env=env,
            ok_codes=(3,),
            warmup=1 if n == min(args.sites) else 0,
        )
        warm["sites"] = n
        warm["ms_per_site"] = round(1000 * warm["wall_s"]["median"] / n, 3)
        result["batches"][str(n)] = warm
        runs_by_size[n] = warm
        if n in GOALS_S:
            goals.append(goal(warm["wall_s"]["median"], GOALS_S[n], "s", f"assess {n:,} sites"))
        if n in GOAL_PEAK_MB:
            peak = (warm["peak_tree_rss_mb"] or warm["peak_rss_mb"])["median"]
            goals.append(goal(peak, GOAL_PEAK_MB[n], "MB", f"assess {n:,} sites peak memory"))
    sizes = sorted(runs_by_size)
    result["marginal_ms_per_site"] = {
        f"{a}->{b}": round(
            1000 * (runs_by_size[b]["wall_s"]["median"] - runs_by_size[a]["wall_s"]["median"]) / (b - a), 3
        )
        for a, b in zip(sizes, sizes[1:], strict=False)
    }
    result["goals"] = goals
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

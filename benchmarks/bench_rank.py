"""Benchmark: national ranking from a warm cache (layers -> indicators -> scoring -> sensitivity).

    python benchmarks/bench_rank.py --mirror ../shared/data [--draws 10000] [--repeat 3]

Prints JSON timings (seconds, best of --repeat). The first run pulls the mirror into a temporary
cache (not timed) so every timed step reads a warm cache, as a planner's second run would.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # the checkout, for tests.support

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--cache", default=None, help="Cache dir (default: a fresh temp dir, pulled first).")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", default="aigz")
    args = ap.parse_args()

    import scoring
    from growth_zones.data.pull import pull
    from growth_zones.data.store import Store
    from growth_zones.indicators import LayerSet, region_indicators
    from growth_zones.settings import Settings

    settings = Settings(
        cache_dir=Path(args.cache or tempfile.mkdtemp(prefix="gz-bench-")), mirror=args.mirror
    )
    t0 = time.perf_counter()
    report = pull(settings=settings)
    pull_s = time.perf_counter() - t0
    assert report.ok, [(o.key, o.message) for o in report.failed]

    timings: dict[str, list[float]] = {"load_layers": [], "indicators": [], "score": [], "sensitivity": []}
    for _ in range(args.repeat):
        t = time.perf_counter()
        layers = LayerSet.load(Store(settings))
        timings["load_layers"].append(time.perf_counter() - t)
        t = time.perf_counter()
        ind = region_indicators(layers)
        timings["indicators"].append(time.perf_counter() - t)
        profile = scoring.load_profile(args.profile, indicators=list(ind.values.columns))
        t = time.perf_counter()
        scoring.score(ind.values, profile, reasons=ind.reasons)
        timings["score"].append(time.perf_counter() - t)
        t = time.perf_counter()
        scoring.sensitivity(ind.values, profile, n_draws=args.draws, seed=0, reasons=ind.reasons)
        timings["sensitivity"].append(time.perf_counter() - t)
    best = {k: round(min(v), 3) for k, v in timings.items()}
    best["total_warm"] = round(sum(best.values()), 3)
    print(
        json.dumps(
            {
                "regions": len(ind.values),
                "draws": args.draws,
                "first_pull_s": round(pull_s, 2),
                "best_of": args.repeat,
                "seconds": best,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

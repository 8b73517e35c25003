"""Benchmark: assess generated applications (read + validate + site indicators + scoring).

    python benchmarks/bench_assess.py --mirror ../shared/data --sites 1000 10000

Prints JSON timings per batch size. Layers come from a warm cache (pulled once, not timed). The
national ranking that gives each site its LA percentile is part of every timed run, as in the CLI;
its region indicators are computed once first (reported as ``region_indicators_cold_s``) and then
come from the store's derived cache, as on a planner's second run. Cost should grow linearly with
the number of sites.
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
    ap.add_argument("--cache", default=None)
    ap.add_argument("--sites", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--malformed", type=float, default=0.05, help="Fraction of malformed rows mixed in.")
    args = ap.parse_args()

    from growth_zones.data.pull import pull
    from growth_zones.data.store import Store
    from growth_zones.indicators import LayerSet
    from growth_zones.settings import Settings
    from growth_zones.workflows.assessment import assess, gb_land
    from tests.support.synthetic_applications import write_mixed_batch

    settings = Settings(
        cache_dir=Path(args.cache or tempfile.mkdtemp(prefix="gz-bench-")), mirror=args.mirror
    )
    assert pull(settings=settings).ok
    store = Store(settings)
    t = time.perf_counter()
    layers = LayerSet.load(store)
    load_s = time.perf_counter() - t
    import shutil

    from growth_zones.workflows.ranking import rank_regions

    shutil.rmtree(settings.cache_dir / "derived", ignore_errors=True)
    t = time.perf_counter()
    rank_regions(layers=layers, store=store)
    cold_s = time.perf_counter() - t
    work = Path(tempfile.mkdtemp(prefix="gz-bench-apps-"))
    results = []
    for n in args.sites:
        path = work / f"apps_{n}.geojson"
        write_mixed_batch(path, n, land=gb_land(layers), seed=1, malformed_fraction=args.malformed)
        t = time.perf_counter()
        res = assess(path, layers=layers, store=store)
        elapsed = time.perf_counter() - t
        assert len(res.table) + len(res.rejected) == res.input_count == n
        results.append(
            {
                "sites": n,
                "assessed": len(res.table),
                "rejected": len(res.rejected),
                "seconds": round(elapsed, 2),
                "ms_per_site": round(1000 * elapsed / n, 3),
            }
        )
    print(
        json.dumps(
            {
                "load_layers_s": round(load_s, 2),
                "region_indicators_cold_s": round(cold_s, 2),
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark the scoring engine on a synthetic region table.

    python3 benchmarks/bench_scoring.py [--rows 374] [--draws 10000] [--repeat 3] [--profile aigz]

Prints a JSON object with the best-of-``repeat`` wall time (seconds) of ``score()`` and
``sensitivity(n_draws=draws)``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring  # noqa: E402

REGION_INDICATORS = [
    "dist_gsp_km",
    "dist_transmission_km",
    "share_within_10km_transmission",
    "tx_capacity_mva_30km",
    "tec_contracted_mw_30km",
    "in_discount_area",
    "protected_share",
    "area_km2",
    "dist_ix_km",
    "dist_landing_km",
    "rtt_london_ms",
    "full_fibre_pct",
    "population",
    "population_50km",
    "renewables_operational_mw_30km",
    "national_park_share",
    "tx_line_km_30km",
]


def synthetic_regions(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A plausible-looking random region indicator table (with some missing values) and reasons."""
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"E{6000000 + i:08d}" for i in range(n)], name="lad_code")
    df = pd.DataFrame(
        {
            "dist_gsp_km": rng.gamma(2.0, 6.0, n),
            "dist_transmission_km": rng.gamma(2.0, 8.0, n),
            "share_within_10km_transmission": rng.beta(2, 2, n),
            "tx_capacity_mva_30km": rng.gamma(2.0, 3000.0, n),
            "tec_contracted_mw_30km": rng.gamma(1.5, 800.0, n),
            "in_discount_area": rng.random(n) < 0.25,
            "protected_share": rng.beta(1.2, 4, n),
            "area_km2": rng.lognormal(5.5, 1.0, n),
            "dist_ix_km": rng.gamma(2.0, 40.0, n),
            "dist_landing_km": rng.gamma(2.0, 50.0, n),
            "rtt_london_ms": rng.uniform(1, 25, n),
            "full_fibre_pct": rng.uniform(20, 100, n),
            "population": rng.lognormal(11.8, 0.6, n),
            "population_50km": rng.lognormal(14.5, 0.7, n),
            "renewables_operational_mw_30km": rng.gamma(1.2, 300.0, n),
            "national_park_share": rng.beta(0.3, 6, n),
            "tx_line_km_30km": rng.gamma(2.0, 140.0, n),
        },
        index=idx,
    )
    unchecked = rng.random(n) < 0.9  # as on the real data: protected share checked in few regions
    df.loc[unchecked, "protected_share"] = np.nan
    df.loc[rng.random(n) < 0.03, "dist_ix_km"] = np.nan
    reasons = pd.DataFrame(index=idx, columns=["protected_share"], dtype=object)
    reasons.loc[unchecked, "protected_share"] = "not checked: designation layers do not cover this region"
    return df, reasons


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=374)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", default="aigz")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    df, reasons = synthetic_regions(args.rows, args.seed)
    profile = scoring.load_profile(args.profile, indicators=REGION_INDICATORS)
    scoring.score(df, profile, reasons=reasons)  # warm-up
    t_score = _best(lambda: scoring.score(df, profile, reasons=reasons), args.repeat)
    t_sens = _best(
        lambda: scoring.sensitivity(df, profile, n_draws=args.draws, seed=args.seed, reasons=reasons),
        args.repeat,
    )
    print(
        json.dumps(
            {
                "rows": args.rows,
                "criteria": len(profile.criteria),
                "profile": profile.name,
                "draws": args.draws,
                "repeat": args.repeat,
                "score_s": round(t_score, 5),
                "sensitivity_s": round(t_sens, 5),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "pandas": pd.__version__,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the fixed cost of the command line (whole processes, medians).

    python benchmarks/bench_startup.py [--runs 7]

``growth-zones --help``, ``growth-zones rank --help`` and ``growth-zones data list`` (an empty cache
folder: no data is read), each a fresh process of the console script. Goal: ``--help`` < 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._command import goal, measure  # noqa: E402
from benchmarks._common import machine  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    env = {"GROWTH_ZONES_CACHE": tempfile.mkdtemp(prefix="gz-bench-empty-")}
    help_ = measure(["--help"], case="no data", runs=args.runs, env=env)
    result = {
        "benchmark": "startup",
        **machine(),
        "help": help_,
        "rank_help": measure(["rank", "--help"], case="no data", runs=args.runs, env=env),
        "data_list": measure(["data", "list"], case="empty cache", runs=args.runs, env=env),
        "goals": [goal(help_["wall_s"]["median"], 0.3, "s", "growth-zones --help")],
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

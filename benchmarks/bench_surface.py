"""Benchmark the national suitability surface on the real GB data.

    python3 benchmarks/bench_surface.py --resolution 250|100 [--dask | --dask tcp://host:8786]
        [--tile-size 1024] [--out /tmp/surface.tif] [--mirror ../shared/data]

Layers are built from the mirror by calling the normalisers directly (not timed separately from
the surface, see ``load_layers_s``). Prints one JSON object: wall times, peak RSS of this process
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and of its finished children (RUSAGE_CHILDREN: a
Dask LocalCluster's worker processes are children once they exit), grid size, tiles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import default_mirror, load_layers, warm_settings  # noqa: E402
from growth_zones.surface import SurfaceSpec, build_surface  # noqa: E402
from growth_zones.workflows.surface import SURFACE_LAYERS  # noqa: E402


def _rss_mb(who: int) -> float:
    kb = resource.getrusage(who).ru_maxrss  # kilobytes on Linux
    return round(kb / 1024.0, 1)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resolution", type=float, default=250.0, help="cell size in metres (e.g. 250 or 100)")
    ap.add_argument(
        "--dask",
        nargs="?",
        const=True,
        default=False,
        help="use Dask: a 2-worker LocalCluster, or a scheduler address",
    )
    ap.add_argument("--tile-size", type=int, default=1024)
    ap.add_argument("--profile", default="aigz_sites")
    ap.add_argument("--out", type=Path, default=None, help="output COG (default: a temp file, removed)")
    ap.add_argument(
        "--mirror",
        type=Path,
        default=None,
        help="shared data dir (default GROWTH_ZONES_MIRROR or ../shared/data)",
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    layers, _ = load_layers(warm_settings(str(args.mirror or default_mirror())), SURFACE_LAYERS)
    t_layers = time.perf_counter() - t0
    rss_after_layers = _rss_mb(resource.RUSAGE_SELF)

    spec = SurfaceSpec(resolution_m=args.resolution, tile_size=args.tile_size, profile=args.profile)
    tmpdir = None
    out = args.out
    if out is None:
        tmpdir = tempfile.TemporaryDirectory()
        out = Path(tmpdir.name) / f"surface_{int(args.resolution)}m.tif"
    t1 = time.perf_counter()
    res = build_surface(layers, spec, out, dask=args.dask)
    wall = time.perf_counter() - t1
    size_mb = round(os.path.getsize(out) / 2**20, 1)
    result = {
        "benchmark": "surface",
        "resolution_m": args.resolution,
        "dask": args.dask if isinstance(args.dask, str) else bool(args.dask),
        "tile_size": args.tile_size,
        "profile": args.profile,
        "grid": {
            "width": res.grid.width,
            "height": res.grid.height,
            "cells": res.grid.width * res.grid.height,
        },
        "tiles": res.stats,
        "load_layers_s": round(t_layers, 2),
        "surface_wall_s": round(wall, 2),
        "timings_s": {k: round(v, 2) for k, v in res.timings.items()},
        "peak_rss_mb": _rss_mb(resource.RUSAGE_SELF),
        "peak_rss_after_layers_mb": rss_after_layers,
        "peak_rss_children_mb": _rss_mb(resource.RUSAGE_CHILDREN),
        "output_mb": size_mb,
        "criteria_used": res.criteria_used,
        "criteria_dropped": list(res.criteria_dropped),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    if tmpdir is not None:
        tmpdir.cleanup()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

"""Deep fuzz run of the applications reader and the whole assessment (the CI run is smaller: see
tests/test_fuzz_applications.py). Same grammar, same checks; prints what it covered and how long
it took.

    python tools/fuzz_applications.py --examples 2000 --assess 200
    GROWTH_ZONES_MIRROR=MIRROR python tools/fuzz_applications.py --seed 7

Needs the layers (pulled from the mirror into the cache on first use). Exits 1 on the first file
that breaks the contract and prints it (the file is also saved next to the report for replay).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="files per format (GeoJSON, CSV)")
    parser.add_argument("--assess", type=int, default=200, help="files through the whole assessment")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", type=Path, default=None, help="write the tally as JSON here")
    args = parser.parse_args(argv)

    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    from growth_zones.data.layers import LayerSet
    from growth_zones.data.pull import ensure_layers
    from growth_zones.errors import InvalidInputError
    from growth_zones.workflows.assessment import assess, gb_land
    from growth_zones.workflows.ranking import REGION_LAYERS, REQUIRED_LAYERS
    from tests.support.fuzz_applications import Tally, check_file, csv_files, geojson_files

    store = ensure_layers(REGION_LAYERS, required=REQUIRED_LAYERS)
    layers = LayerSet.load(store, names=REGION_LAYERS)
    land = gb_land(layers)
    tally = Tally()
    failures: list[str] = []
    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
    phases = [Phase.generate]
    work = Path(tempfile.mkdtemp(prefix="gz-fuzz-"))

    def run(path: Path, data: bytes, what: str, whole: bool) -> None:
        path.write_bytes(data)
        try:
            if not whole:
                check_file(path, land, tally, out_dir=path.parent / "out")
                return
            tally.inputs.add(hash(data))
            try:
                result = assess(path, layers=layers, store=store)
            except InvalidInputError as err:
                assert "\n" not in str(err)
                return
            assert len(result.table) + len(result.rejected) == result.input_count
            formats = ("csv", "gpkg", "html") if len(result.table) <= 3 else ("csv", "gpkg")
            result.write(path.parent / "out", formats=formats, overwrite=True)
        except BaseException as err:  # noqa: BLE001 - report any break of the contract, then stop
            keep = work / f"failure-{len(failures)}{path.suffix}"
            keep.write_bytes(data)
            failures.append(f"{what}: {type(err).__name__}: {str(err)[:300]} (file kept at {keep})")
            raise

    timings: dict[str, float] = {}
    for name, strategy, suffix, n, whole in (
        ("geojson", geojson_files(), ".geojson", args.examples, False),
        ("csv", csv_files(), ".csv", args.examples, False),
        ("assess", st.one_of(geojson_files(), csv_files()), None, args.assess, True),
    ):
        if n <= 0:
            continue

        def make(strategy: object, suffix: str | None, whole: bool, n: int) -> object:
            @seed(args.seed)
            @settings(
                max_examples=n, deadline=None, database=None, phases=phases, suppress_health_check=quiet
            )
            @given(doc=strategy)
            def runner(doc: tuple[bytes, str]) -> None:
                data, what = doc
                ext = suffix or (".csv" if what.startswith("csv") else ".geojson")
                with tempfile.TemporaryDirectory(dir=work) as tmp:
                    run(Path(tmp) / f"apps{ext}", data, what, whole)

            return runner

        one = make(strategy, suffix, whole, n)
        t0 = time.perf_counter()
        try:
            one()
        except BaseException as err:  # noqa: BLE001
            import traceback

            traceback.print_exception(err, file=sys.stderr)
            print("FAILED:", *failures, sep="\n  ", file=sys.stderr)
            return 1
        timings[name] = time.perf_counter() - t0
        print(f"{name}: {n} examples in {timings[name]:.1f} s", file=sys.stderr)

    report = {
        "examples": {"geojson": args.examples, "csv": args.examples, "assess": args.assess},
        "distinct_inputs": len(tally.inputs),
        "distinct_bad_inputs": len(tally.bad_inputs),
        "rows": tally.rows,
        "kinds": {
            "file_errors": len(tally.file_errors),
            "rejections": len(tally.rejections),
            "warnings": len(tally.warnings),
        },
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "seconds_total": round(sum(timings.values()), 1),
    }
    import shutil

    shutil.rmtree(work, ignore_errors=True)  # nothing failed: nothing to keep
    print(json.dumps(report, indent=2))
    if args.report:
        args.report.write_text(
            json.dumps(
                {
                    **report,
                    "file_error_kinds": sorted(tally.file_errors),
                    "rejection_kinds": sorted(tally.rejections),
                    "warning_kinds": sorted(tally.warnings),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

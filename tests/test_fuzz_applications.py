"""A hypothesis fuzzer over application files (issue 12: no tracebacks, nothing lost).

Files are built from a grammar of valid and broken parts (tests/support/fuzz_applications.py). For
every one: no exception but a one-line :class:`InvalidInputError` for an unusable file;
assessed + rejected = input rows; every rejection has a reason; the outputs (CSV, GeoPackage, JSON)
parse back to the same text. A few hundred files here; tools/fuzz_applications.py runs thousands
more, drawn at random (these are derandomized, so CI is reproducible).
The layers are built once per session (``mirror_cache``); nothing is timed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.fuzz_applications import Tally, check_file, csv_files, geojson_files

pytestmark = pytest.mark.data

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
_NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]  # files with 200 KB cells shrink for minutes
# derandomize: CI sees the same files every run, for a given hypothesis version and set of loaded
# modules (hypothesis also draws constants from the modules a test session has imported, so the full
# suite draws other files than this module alone: 100 files per test gave 4 distinct file errors
# there, 6-8 alone; 200 leave a margin over the floor below). tools/fuzz_applications.py draws
# thousands of new ones at random.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    phases=_NO_SHRINK,
    suppress_health_check=_QUIET,
    derandomize=True,
)
TALLY = Tally()


@pytest.fixture(scope="module")
def gb_land(shared_data):
    from tests.support.synthetic_applications import bng_land_from_countries

    return bng_land_from_countries(gpd.read_file(shared_data / "boundaries/countries_dec2022_uk_buc.geojson"))


@FUZZ
@given(doc=geojson_files())
def test_fuzz_geojson(gb_land, doc):
    data, _ = doc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "apps.geojson"
        path.write_bytes(data)
        check_file(path, gb_land, TALLY, out_dir=Path(tmp) / "out")


@FUZZ
@given(doc=csv_files())
def test_fuzz_csv(gb_land, doc):
    data, _ = doc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "apps.csv"
        path.write_bytes(data)
        check_file(path, gb_land, TALLY, out_dir=Path(tmp) / "out")


@pytest.fixture(scope="module")
def session_layers(mirror_cache):
    from growth_zones.data.layers import LayerSet
    from growth_zones.data.store import Store
    from growth_zones.workflows.ranking import REGION_LAYERS

    store = Store(mirror_cache)
    return LayerSet.load(store, names=REGION_LAYERS), store


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=_NO_SHRINK,
    suppress_health_check=_QUIET,
    derandomize=True,
)
@given(doc=st.one_of(geojson_files(), csv_files()))
def test_fuzz_whole_assessment(session_layers, doc):
    """The whole assessment on fuzzed files: scored, checked, written, and read back."""
    from growth_zones.errors import InvalidInputError
    from growth_zones.workflows.assessment import assess

    layers, store = session_layers
    data, what = doc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("apps.csv" if what.startswith("csv") else "apps.geojson")
        path.write_bytes(data)
        try:
            result = assess(path, layers=layers, store=store)
        except InvalidInputError as err:
            assert "\n" not in str(err)
            return
        assert len(result.table) + len(result.rejected) == result.input_count
        # Checks that could not run are blamed only on datasets this cache lacks or holds only a
        # sample of (the test mirror lacks most national files), never on input, and only on real rows.
        ids = {str(i) for i in result.table.index}
        for missing in result.missing_checks:
            assert missing.reason and set(missing.ids) <= ids, missing
            for key in missing.datasets:
                if store.has(key):
                    entry = store.catalogue[key]
                    copy = store.provenance(key).get("copy")
                    sample = (
                        copy == "sample" if copy else bool(entry.mirror_copy and entry.mirror_copy.is_sample)
                    )
                    assert sample, (key, missing)
        out = Path(tmp) / "out"
        result.write(out, formats=("csv", "gpkg"))
        table = pd.read_csv(out / "assessment.csv", dtype=str, keep_default_na=False)
        assert len(table) == len(result.table)
        rejected = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
        assert len(rejected) == len(result.rejected) and (rejected["reason"] != "").all()
        checks = pd.read_csv(out / "checks.csv", dtype=str, keep_default_na=False)
        assert set(checks["id"].str.lstrip("'")) <= {str(i) for i in result.table.index} | {""}
        side = json.loads((out / "assessment.provenance.json").read_text(encoding="utf-8"))
        assert side["input_count"] == result.input_count
        if len(result.table):
            gp = gpd.read_file(out / "assessment.gpkg")
            assert sorted(gp["id"]) == sorted(str(i) for i in result.table.index)
            assert (gp["target_year"].dropna() % 1 == 0).all()


def test_the_fuzzer_covered_bad_inputs_of_many_kinds():
    """Runs after the fuzz tests in this module: the grammar really produced broken files of many
    kinds (not only valid ones), and valid rows too."""
    if not TALLY.inputs:
        pytest.skip("run with the fuzz tests above")
    assert len(TALLY.inputs) >= 100
    assert len(TALLY.bad_inputs) >= 50
    assert len(TALLY.file_errors) >= 5 and len(TALLY.rejections) >= 20 and len(TALLY.warnings) >= 3

"""`growth-zones assess` end to end on the real data: the examples, and 1,000 sites mixed with
malformed rows of every kind, where nothing is lost."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cli import EXIT_REJECTED, app
from tests.conftest import REPO

pytestmark = pytest.mark.data


def _env(mirror_cache):
    return {
        "GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir),
        "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror),
    }


@pytest.fixture(scope="module")
def example_run(mirror_cache, tmp_path_factory):
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("assess")
    res = CliRunner().invoke(
        app,
        ["assess", str(REPO / "data/examples/applications.geojson"), "--out", str(out)],
        env=_env(mirror_cache),
    )
    return out, res


def test_examples_are_assessed_end_to_end(example_run):
    out, res = example_run
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "assessment.csv", dtype={"id": str})
    src = gpd.read_file(REPO / "data/examples/applications.geojson")
    assert set(table["id"]) == set(src["id"].astype(str))
    assert pd.read_csv(out / "rejected.csv").empty
    assert sorted(table["rank"]) == list(range(1, len(table) + 1)) or table["rank"].min() == 1
    for col in ("score", "la_name", "dist_substation_km", "site_area_ha", "rtt_london_ms", "population_50km"):
        assert col in table.columns, col
    contrib = [c for c in table.columns if c.startswith("contrib_")]
    assert len(contrib) >= 8
    ok = table["eligible"].astype(bool)
    np.testing.assert_allclose(table.loc[ok, contrib].sum(axis=1), table.loc[ok, "score"], atol=1e-9)
    gpkg = gpd.read_file(out / "assessment.gpkg", layer="assessment")
    assert len(gpkg) == len(table) and gpkg.crs.to_epsg() == 27700
    side = json.loads((out / "assessment.provenance.json").read_text())
    assert side["input_count"] == len(src) and side["rejected"] == 0


def test_site_in_a_national_park_is_excluded(example_run):
    out, _ = example_run
    table = pd.read_csv(out / "assessment.csv", dtype={"id": str}, keep_default_na=False).set_index("id")
    hope = table.loc["GZ-HOP"]
    assert str(hope["eligible"]).lower() in ("false", "0", "0.0")
    assert "protected" in hope["excluded_by"].lower() or "national park" in hope["excluded_by"].lower()
    eligible = table[table["eligible"].astype(str).str.lower().isin(["true", "1", "1.0"])]
    assert (eligible["rank"].astype(int) < int(hope["rank"])).all()


def test_checks_are_three_valued(example_run):
    out, _ = example_run
    checks = pd.read_csv(out / "checks.csv", dtype={"id": str}, keep_default_na=False)
    hope = checks[checks["id"] == "GZ-HOP"].set_index("check")
    assert hope.loc["Designation: National Park", "status"] == "present"
    assert hope.loc["Designation: SSSI", "status"] == "not checked"
    assert "no SSSI layer" in hope.loc["Designation: SSSI", "detail"]
    assert set(checks["status"]) <= {"present", "absent", "not checked", "pass", "fail", "missing", "unknown"}


def test_thousand_sites_with_malformed_rows_lose_nothing(mirror_cache, tmp_path, cli_runner):
    from growth_zones.data.store import Store
    from growth_zones.indicators import LayerSet
    from tests.support.synthetic_applications import REJECTED_KINDS, write_mixed_batch

    layers = LayerSet.load(Store(mirror_cache))
    land = layers.countries[layers.countries["nation"].isin(["England", "Scotland", "Wales"])]
    path = tmp_path / "batch.geojson"
    counts = write_mixed_batch(path, 1000, land=land, seed=7, malformed_fraction=0.15)
    out = tmp_path / "out"
    res = cli_runner.invoke(app, ["assess", str(path), "--out", str(out), "--json"], env=_env(mirror_cache))
    assert res.exit_code == EXIT_REJECTED, res.output
    doc = json.loads(res.stdout)
    assert doc["input_count"] == 1000
    assert len(doc["assessed"]) + len(doc["rejected"]) == 1000
    rejected = pd.read_csv(out / "rejected.csv", dtype={"id": str}, keep_default_na=False)
    assert len(rejected) == len(doc["rejected"])
    assert (rejected["reason"].str.len() > 0).all()
    for kind, fragment in REJECTED_KINDS.items():
        expected = counts.get(kind, 0)
        assert expected > 0, f"generator made no {kind} rows"
        got = rejected["reason"].str.contains(fragment, regex=False).sum()
        assert got >= expected, (kind, fragment, got, expected)
    assessed = pd.read_csv(out / "assessment.csv", dtype={"id": str})
    assert assessed["id"].is_unique
    assert len(assessed) == len(doc["assessed"])


def test_missing_file_is_a_usage_error(cli_runner, tmp_path):
    res = cli_runner.invoke(app, ["assess", str(tmp_path / "nope.geojson")])
    assert res.exit_code == 2 and "file not found" in res.output

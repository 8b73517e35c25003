"""AssessmentResult.shortlist: the applications a committee can take forward (every gate passes,
eligible with every exclusion checked, score at or above a bar), written through ``write``."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from tests.conftest import REPO


def _result(extra: dict | None = None):
    import scoring
    from growth_zones.workflows.assessment import AssessmentResult

    ids = ["A", "B", "C", "D", "E"]
    table = gpd.GeoDataFrame(
        {
            "score": [0.9, 0.8, 0.7, 0.55, np.nan],
            "deliverable": ["pass", "fail", "pass", "pass", "unknown"],
            "eligible": [True, True, False, True, True],
            "rank": [1, 4, 5, 2, 3],
            **(extra or {}),
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(5)],
        crs="EPSG:27700",
        index=pd.Index(ids, name="id"),
    )
    checks = pd.DataFrame({"id": ids * 2, "check": ["x"] * 10, "status": ["pass"] * 10, "detail": [""] * 10})
    warnings = pd.DataFrame({"row": [1, 4], "id": ["A", "D"], "warning": ["w1", "w4"]})
    rejected = pd.DataFrame({"row": [9], "id": ["Z"], "name": ["z"], "reason": ["bad"]})
    return AssessmentResult(
        table=table,
        checks=checks,
        rejected=rejected,
        warnings=warnings,
        input_count=6,
        profile=scoring.load_profile("aigz_sites"),
        provenance=[],
        gate_sensitivity=pd.DataFrame({"gate": ["g"]}),
    )


def _by_hand(table: pd.DataFrame, min_score: float) -> list[str]:
    out = []
    for i, row in table.iterrows():
        elig = row["eligibility"] == "eligible" if "eligibility" in table else row["eligible"] is True
        if row["deliverable"] == "pass" and elig and row["score"] >= min_score:
            out.append(i)
    return out


@pytest.mark.parametrize("min_score", [0.0, 0.6, 0.95])
def test_shortlist_keeps_deliverable_eligible_rows_above_the_bar(min_score):
    res = _result()
    short = res.shortlist(min_score)
    assert list(short.table.index) == _by_hand(res.table, min_score)
    assert set(short.checks["id"]) == set(short.table.index)
    assert set(short.warnings["id"]) <= set(short.table.index)
    assert short.rejected.empty and short.gate_sensitivity is None
    assert short.notes[-1].startswith(f"shortlist: {len(short.table)} of 5 assessed")
    assert len(res.table) == 5  # the full result is untouched


def test_shortlist_reads_three_valued_eligibility_where_the_table_has_it():
    # D is not excluded but a hard exclusion was not checked: not on a shortlist
    res = _result({"eligibility": ["eligible", "eligible", "excluded", "unknown", "eligible"]})
    assert list(res.shortlist(0.0).table.index) == ["A"]


def test_a_shortlist_writes_only_its_rows(tmp_path):
    short = _result().shortlist(0.6)
    paths = short.write(tmp_path / "short", formats=("csv", "gpkg"))
    csv = pd.read_csv(paths["csv"], dtype={"id": str})
    assert csv["id"].tolist() == ["A"]
    assert gpd.read_file(paths["gpkg"], layer="assessment")["id"].tolist() == ["A"]
    assert set(pd.read_csv(paths["checks"], dtype={"id": str})["id"]) == {"A"}
    side = json.loads(paths["provenance"].read_text(encoding="utf-8"))
    assert any(n.startswith("shortlist: 1 of 5") for n in side["notes"])


@pytest.mark.data
def test_examples_shortlist_leaves_out_the_site_that_fails_a_gate(mirror_cache):
    """SF4: GZ-TEE fails the node-capacity gate; a score bar alone would shortlist it."""
    from growth_zones import api

    res = api.assess(REPO / "data/examples/applications.geojson", settings=mirror_cache)
    t = res.table
    short = res.shortlist(0.6)
    assert list(short.table.index) == _by_hand(t, 0.6)
    assert t.loc["GZ-TEE", "deliverable"] != "pass"
    assert "GZ-TEE" not in short.table.index
    assert (short.table["deliverable"] == "pass").all()
    # a site is never shortlisted on checks that did not run (with the CI mirror: none is fully checked)
    assert (short.table["eligibility"] == "eligible").all()
    assert "eligible with every exclusion checked" in short.notes[-1]

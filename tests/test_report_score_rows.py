"""The score shown is the sum of the rows shown: section points plus designation penalties, on the
site page (score by section and the contributions table), in the brief and on the site image.

Scores come from the real scoring engine on a small profile whose numbers are worked out by hand
here (linear value functions, fixed weights), so the penalty rows are checked against an
independent computation, not against the report's own arithmetic."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("folium")
lxml_html = pytest.importorskip("lxml.html")

import scoring  # noqa: E402
from growth_zones.report import render_assessment_report, safe_id  # noqa: E402
from growth_zones.report.brief import penalty_rows, score_rows  # noqa: E402
from growth_zones.workflows.ranking import criteria_table, penalty_table  # noqa: E402
from tests.support import report_demo as demo  # noqa: E402

PROFILE = """
[meta]
name = "penalty_demo"
title = "Penalty demo"
level = "site"
description = "two sections, two designation tiers"

[sections.power]
label = "Technical feasibility: power"
weight = 0.6

[sections.land]
label = "Technical feasibility: land"
weight = 0.4

[criteria.node]
section = "power"
weight = 1
label = "Distance to node"
unit = "km"
value_function = { type = "linear", min = 0, max = 20, direction = "lower" }
missing = "worst"

[criteria.evidence_water]
section = "land"
weight = 1
label = "Water letter (claim)"
value_function = { type = "boolean" }
missing = "worst"

[designations.national_park]
label = "National Park"
tier = "exceptional"
penalty = 0.5
policy_test = "exceptional circumstances only"
source = "NPPF"
url = "https://www.gov.uk/guidance/national-planning-policy-framework"

[designations.sssi]
label = "SSSI"
tier = "constraint"
penalty = 0.8
policy_test = "not normally permitted"
source = "NPPF"
url = "https://www.gov.uk/guidance/national-planning-policy-framework"
"""

NUM = re.compile(r"[−-]?\d+\.\d+")


def _num(s: str) -> float:
    return float(NUM.search(s).group(0).replace("−", "-"))


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """Five sites: clear; in a National Park; 40% in an SSSI; both; SSSI not checked."""
    prof = scoring.parse_profile(
        PROFILE, indicators=["node", "evidence_water", "share_national_park", "share_sssi"]
    )
    ind = pd.DataFrame(
        {
            "node": [2.0, 5.0, 10.0, 0.0, 4.0],
            "evidence_water": [1.0, 0.0, 1.0, 1.0, np.nan],
            "share_national_park": [0.0, 1.0, 0.0, 0.6, 0.0],
            "share_sssi": [0.0, 0.0, 0.4, 0.9, np.nan],
        },
        index=[f"APP-{i}" for i in range(1, 6)],
    )
    res = scoring.score(ind, prof)
    assessment, checks, rejected = demo.assessment_frames(5, hostile=False)
    assessment = assessment.drop(columns=[c for c in assessment.columns if c.startswith("contrib_")])
    assessment = assessment.drop(columns=[c for c in res.table.columns if c in assessment])
    assessment.index = ind.index
    table = assessment.join(res.table).join(ind.drop(columns=[c for c in ind if c in assessment]))
    # by hand: the section weights (one criterion each): 0.6 x (1 - km / 20) + 0.4 x the water flag
    base = 0.6 * (1 - ind["node"] / 20) + 0.4 * ind["evidence_water"].fillna(0)
    factor_np = np.where(ind["share_national_park"] > 0, 0.5, 0.0)
    factor_sssi = np.where(ind["share_sssi"] > 0, 0.8 * ind["share_sssi"].fillna(0), 0.0)
    total = factor_np + factor_sssi
    scale = np.where(total > 1, 1 / np.where(total > 0, total, 1), 1.0)
    expected = pd.DataFrame(
        {
            "base": base,
            "np": -base * factor_np * scale,
            # not checked: NaN, never a zero penalty (review SF7)
            "sssi": np.where(ind["share_sssi"].isna(), np.nan, -base * factor_sssi * scale),
            "score": base * (1 - np.minimum(total, 1.0)),
        },
        index=ind.index,
    )
    out = tmp_path_factory.mktemp("penalties")
    crit = criteria_table(prof)
    pens = penalty_table(prof)
    render_assessment_report(
        table,
        out_dir=out,
        checks=checks.assign(id=[ind.index[i % 5] for i in range(len(checks))]),
        rejected=rejected,
        criteria=crit,
        provenance=demo.PROVENANCE,
        profile_title=prof.title,
        generated_at="2026-01-02",
        penalties=pens,
    )
    return table, expected, crit, pens, out


def test_engine_penalties_match_the_hand_computation(scored):
    table, expected, *_ = scored
    np.testing.assert_allclose(table["score"], expected["score"], atol=1e-12)
    np.testing.assert_allclose(table["penalty_national_park"], expected["np"], atol=1e-12)
    np.testing.assert_allclose(table["penalty_sssi"], expected["sssi"], atol=1e-12)


def test_penalty_rows_name_the_designation_and_the_factor(scored):
    table, expected, crit, pens, _ = scored
    assert penalty_rows(table.loc["APP-1"], pens) == []  # nothing applies: no row
    (np_row,) = penalty_rows(table.loc["APP-2"], pens)
    assert np_row["label"] == "Designation penalty: National Park ×(1−0.5)"
    assert np_row["points"] == pytest.approx(expected.loc["APP-2", "np"])
    (sssi_row,) = penalty_rows(table.loc["APP-3"], pens)
    assert sssi_row["label"] == "Designation penalty: SSSI ×(1−0.8×0.40)"
    both = penalty_rows(table.loc["APP-4"], pens)  # 0.5 + 0.72 > 1: the cap binds, and says so
    assert [r["points"] for r in both] == pytest.approx(
        [expected.loc["APP-4", "np"], expected.loc["APP-4", "sssi"]]
    )
    assert all("capped" in r["label"] for r in both)
    (unknown,) = penalty_rows(table.loc["APP-5"], pens)  # SSSI share missing: said, not a zero
    assert unknown["points"] is None and "not checked" in unknown["label"] and "SSSI" in unknown["label"]
    for app_id in table.index:
        rows = score_rows(table.loc[app_id], crit, pens)
        parts = [r["points"] for r in rows if r["kind"] in ("section", "penalty") and r["points"] is not None]
        assert sum(parts) == pytest.approx(expected.loc[app_id, "score"], abs=1e-12)
        assert rows[-1]["kind"] == "total" and rows[-1]["points"] == pytest.approx(table.loc[app_id, "score"])


def _parts_and_total(doc, table_xpath: str) -> tuple[list[float], float]:
    (tab,) = doc.xpath(table_xpath)
    parts = [
        _num(tr.xpath("./td")[1].text_content()) for tr in tab.xpath(".//tr[contains(@class,'gz-part')]")
    ]
    (total,) = tab.xpath(".//tr[contains(@class,'gz-total')]")
    return parts, _num(total.xpath("./td[contains(@class,'num')]")[0].text_content())


@pytest.mark.parametrize("app_id", ["APP-1", "APP-2", "APP-3", "APP-4", "APP-5"])
def test_site_page_and_brief_rows_sum_to_the_score(scored, app_id):
    table, expected, _, _, out = scored
    page = (out / "sites" / f"{safe_id(app_id)}.html").read_text(encoding="utf-8")
    doc = lxml_html.fromstring(page)
    score = expected.loc[app_id, "score"]
    n_pen = int((expected.loc[app_id, ["np", "sssi"]].fillna(0) != 0).sum())
    for xpath in (
        "//aside//table[contains(@class,'gz-score-rows')]",  # the page's score by section
        "//section[contains(@class,'gz-brief')]//table[contains(@class,'gz-score-rows')]",  # its brief
    ):
        parts, total = _parts_and_total(doc, xpath)
        assert len(parts) == 2 + n_pen
        assert total == pytest.approx(round(score, 3), abs=1e-9)
        assert sum(parts) == pytest.approx(score, abs=0.0005 * len(parts) + 1e-9)
    # the contributions table: one row per criterion, then the penalties, then the score
    contrib = doc.xpath("//aside//div[contains(@class,'gz-pop')]/table")[0]
    cells = [
        tr.xpath("./td")[-1].text_content()
        for tr in contrib.xpath("./tbody/tr[not(contains(@class,'gz-total'))]")
    ]
    applied = [_num(c) for c in cells if NUM.search(c)]
    assert sum(applied) == pytest.approx(score, abs=0.0005 * len(applied) + 1e-9)
    text = doc.text_content()
    if expected.loc[app_id, "np"] != 0:
        assert "Designation penalty: National Park ×(1−0.5)" in text
        assert f"−{-expected.loc[app_id, 'np']:.3f}" in text
    if app_id == "APP-5":
        assert "Designation penalty not checked" in text and "not applied" in text


def test_briefs_page_carries_the_penalty_rows(scored):
    table, expected, *_, out = scored
    doc = lxml_html.fromstring((out / "briefs.html").read_text(encoding="utf-8"))
    briefs = doc.xpath("//section[contains(@class,'gz-brief')]")
    assert len(briefs) == len(table)
    pen_rows = doc.xpath("//tr[contains(@class,'gz-pen')]")
    applied = int((expected[["np", "sssi"]].fillna(0) != 0).to_numpy().sum())
    assert len(pen_rows) == applied + 1  # + APP-5 unchecked


def test_boolean_values_read_yes_or_no(scored):
    """The contributions table shows a yes/no criterion as yes/no, whether it arrives as 1/0 or
    True/False."""
    table, _, crit, pens, _ = scored
    from growth_zones.report.national import criteria_table as html_table

    for raw, word in ((1.0, "yes"), (0.0, "no"), (True, "yes"), (False, "no")):
        r = table.loc["APP-1"].copy()
        r["evidence_water"] = raw
        cells = lxml_html.fromstring(html_table(r, crit, table.columns, pens)).xpath("//tbody/tr[2]/td")
        assert cells[1].text_content() == word


def test_site_image_states_the_score_as_its_parts(scored):
    pytest.importorskip("matplotlib")
    from growth_zones.report import static

    table, expected, crit, pens, _ = scored
    r = table.loc["APP-2"]
    fig = static.site_figure(
        "APP-2",
        r,
        table.geometry.loc["APP-2"],
        nearest=[],
        criteria=crit,
        penalties=pens,
    )
    lines = [t.get_text() for t in fig.texts if t.get_gid() == "gz-head-line"]
    assert lines and lines[0].startswith(f"Score {expected.loc['APP-2', 'score']:.3f} = power ")
    assert f"National Park ×(1−0.5) {-expected.loc['APP-2', 'np']:.3f}" in " ".join(lines)
    import matplotlib.pyplot as plt

    plt.close(fig)

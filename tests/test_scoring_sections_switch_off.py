"""Score by section (``section_<name>`` columns) and the switch-off sensitivity.

The switch-off result is checked against a brute-force re-score: for each criterion, a profile
written out again without it (by editing the TOML structure by hand, not through
``Profile.without``) is scored from scratch with ``scoring.score``.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from scoring import ScoringConfigError, load_profile, parse_profile, profile_from_dict, score, switch_off

PROFILE = """
[meta]
name = "sw"
level = "region"
[sections.p]
weight = 0.5
[sections.q]
weight = 0.3
[sections.d]
weight = 0.2
[sections.water]
weight = 0
[criteria.x1]
section = "p"
value_function = { type = "linear", min = 0, max = 1, direction = "higher" }
[criteria.x2]
section = "p"
weight = 2
value_function = { type = "decay", half_distance = 0.5 }
missing = "renormalise"
[criteria.x3]
section = "q"
value_function = { type = "percentile", direction = "higher" }
missing = "median"
[criteria.pol]
section = "q"
weight = 0.5
policy = true
value_function = { type = "linear", min = 0, max = 1, direction = "higher" }
missing = "exclude"
[criteria.flagged]
section = "d"
value_function = { type = "boolean" }
[[exclusions]]
name = "cut"
indicator = "x4"
op = ">"
value = 0.9
reason = "too much x4"
"""


def table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.random(n),
            "x2": rng.random(n),
            "x3": rng.random(n),
            "pol": rng.random(n),
            "flagged": rng.random(n) < 0.3,
            "x4": rng.random(n),
        },
        index=[f"id{i:03d}" for i in range(n)],
    )
    df.loc[df.index[::5], "x2"] = np.nan
    df.loc[df.index[1::7], "x3"] = np.nan
    df.loc[df.index[2::9], "pol"] = np.nan  # rule exclude: these rows are ineligible ...
    return df


def brute_force_without(profile, name):
    """The profile written out again without ``name``: its section keeps its weight unless it is
    left empty (then 0). Built from the raw structure, independent of Profile.without."""
    d = copy.deepcopy(profile.to_dict())
    section = d["criteria"][name]["section"]
    del d["criteria"][name]
    if not any(c["section"] == section for c in d["criteria"].values()):
        d["sections"][section]["weight"] = 0.0
    return profile_from_dict(d)


# ------------------------------------------------------------------------------ sections
def test_section_columns_sum_to_the_score():
    p = parse_profile(PROFILE)
    t = score(table(), p).table
    assert [c for c in t.columns if c.startswith("section_")] == ["section_p", "section_q", "section_d"]
    sections = t[["section_p", "section_q", "section_d"]]
    ok = t["score"].notna()
    np.testing.assert_allclose(sections[ok].sum(axis=1), t.loc[ok, "score"], rtol=0, atol=1e-12)
    # each section is the sum of its own criteria's contributions, computed here by a loop
    for i in t.index[ok]:
        for sec, members in {"p": ("x1", "x2"), "q": ("x3", "pol"), "d": ("flagged",)}.items():
            want = sum(t.at[i, f"contrib_{m}"] for m in members)
            assert t.at[i, f"section_{sec}"] == pytest.approx(want, abs=1e-15)
    # no column for the empty water section; in a row with every value present the one-criterion
    # section d adds exactly its weight (flag set) or nothing
    assert "section_water" not in t.columns
    df = table()
    full = df[["x1", "x2", "x3", "pol"]].notna().all(axis=1)
    want = np.where(df.loc[full, "flagged"], 0.2, 0.0)
    np.testing.assert_allclose(t.loc[full, "section_d"], want, rtol=0, atol=1e-15)


def test_unscorable_row_has_no_section_scores():
    p = parse_profile(
        '[meta]\nname = "u"\nlevel = "region"\nmissing_default = "renormalise"\n'
        "[sections.a]\nweight = 1\n[sections.b]\nweight = 1\n"
        '[criteria.x1]\nsection = "a"\nvalue_function = { type = "linear", min = 0, max = 1, direction = "higher" }\n'
        '[criteria.x2]\nsection = "b"\nvalue_function = { type = "linear", min = 0, max = 1, direction = "higher" }\n'
    )
    df = pd.DataFrame({"x1": [0.2, np.nan, np.nan], "x2": [0.4, 0.6, np.nan]}, index=["r0", "r1", "r2"])
    t = score(df, p).table
    assert t.loc["r0", ["section_a", "section_b"]].tolist() == pytest.approx([0.1, 0.2])
    assert t.loc["r1", ["section_a", "section_b"]].tolist() == pytest.approx([0.0, 0.6])  # renormalised
    assert np.isnan(t.loc["r2", "score"]) and t.loc["r2", ["section_a", "section_b"]].isna().all()


def test_profile_without():
    p = parse_profile(PROFILE)
    w = p.without("flagged")
    assert "flagged" not in w.criterion_names and w.sections["d"].weight == 0
    assert w.weights.sum() == pytest.approx(1.0)
    assert w.weights["x1"] == pytest.approx(p.weights["x1"] / 0.8)
    q = p.without("pol")  # its section-mate takes the section's whole weight
    assert q.weights["x3"] == pytest.approx(0.3)
    with pytest.raises(ScoringConfigError, match="unknown criterion 'nope'"):
        p.without("nope")
    assert p.scored_sections == ["p", "q", "d"]


def test_switchable_criteria_are_policy_or_boolean():
    p = parse_profile(PROFILE)
    assert [c.name for c in p.criteria if c.switchable] == ["pol", "flagged"]
    with pytest.raises(ScoringConfigError, match="policy: must be true or false"):
        parse_profile(PROFILE.replace("policy = true", 'policy = "yes"'))
    aigz = load_profile("aigz")
    assert {c.name for c in aigz.criteria if c.switchable} == {"in_discount_area", "deprivation_percentile"}


# ------------------------------------------------------------------------------ switch-off
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_switch_off_equals_brute_force_rescore(seed):
    p = parse_profile(PROFILE)
    df = table(seed=seed)
    so = switch_off(df, p, top_n=10)
    assert so.criteria == ["pol", "flagged"]
    base = score(df, p).table
    assert so.base_rank.equals(base["rank"])
    for name, entry in zip(so.criteria, so.summary, strict=True):
        brute = score(df, brute_force_without(p, name)).table
        np.testing.assert_allclose(
            so.scores[f"score_without_{name}"], brute["score"], rtol=0, atol=1e-12, equal_nan=True
        )
        assert so.ranks[f"rank_without_{name}"].tolist() == brute["rank"].tolist(), name
        # who enters and leaves the top 10, by brute-force sets
        top_before = set(base.index[base["eligible"] & (base["rank"] <= 10)])
        top_after = set(brute.index[brute["eligible"] & (brute["rank"] <= 10)])
        assert {r["id"] for r in entry["entered"]} == top_after - top_before
        assert {r["id"] for r in entry["left"]} == top_before - top_after
        for r in entry["left"] + entry["entered"]:
            assert (r["rank"], r["rank_without"]) == (base.at[r["id"], "rank"], brute.at[r["id"], "rank"])
        change = (brute["rank"] - base["rank"]).abs()
        assert entry["max_rank_change"] == change.max()
        assert entry["weight"] == pytest.approx(p.weights[name])
    # switching off the exclude-rule criterion makes its missing rows eligible again
    missing_pol = df["pol"].isna() & (df["x4"] <= 0.9)
    assert not base.loc[missing_pol, "eligible"].any()
    brute = score(df, brute_force_without(p, "pol")).table
    assert brute.loc[missing_pol, "eligible"].all()


def test_switch_off_named_criteria_and_errors():
    p = parse_profile(PROFILE)
    so = switch_off(table(), p, criteria=["x1"], top_n=5)
    assert list(so.ranks.columns) == ["rank_without_x1"] and so.summary[0]["top_n"] == 5
    with pytest.raises(ValueError, match="unknown criteria"):
        switch_off(table(), p, criteria=["zz"])
    with pytest.raises(ValueError, match="top_n"):
        switch_off(table(), p, top_n=0)


def test_the_boolean_decides_the_top_when_it_is_the_only_difference():
    """Two groups equal on everything but the boolean: with it the flagged rows lead, without it
    the order falls back to the other criteria."""
    p = parse_profile(PROFILE)
    n = 20
    df = pd.DataFrame(
        {
            "x1": np.linspace(0, 1, n),
            "x2": 0.1,
            "x3": 0.5,
            "pol": 0.5,
            "flagged": np.arange(n) < 10,  # the ten lowest x1 carry the flag
            "x4": 0.0,
        },
        index=[f"r{i:02d}" for i in range(n)],
    )
    so = switch_off(df, p, criteria=["flagged"], top_n=10)
    entry = so.summary[0]
    assert {r["id"] for r in entry["left"]} == {f"r{i:02d}" for i in range(10)}
    assert {r["id"] for r in entry["entered"]} == {f"r{i:02d}" for i in range(10, 20)}
    assert so.ranks["rank_without_flagged"].loc["r19"] == 1


GATED = (
    PROFILE
    + """
[gates.g]
indicator = "x4"
op = "<"
value = 0.7
label = "x4 below 0.7"
source = "a test gate, https://example.org/gate"

[designations.park]
indicator = "share_park"
label = "Park"
tier = "exceptional"
penalty = 0.5
policy_test = "exceptional circumstances only"
source = "NPPF"
url = "https://www.gov.uk/guidance/national-planning-policy-framework"
"""
)


@pytest.mark.parametrize("seed", [3, 4])
def test_switch_off_with_gates_and_tiers_equals_brute_force(seed):
    """Gates (deliverability first) and designation penalties do not depend on the weights: the
    switched ranking still equals a full re-score."""
    p = parse_profile(GATED)
    df = table(seed=seed)
    rng = np.random.default_rng(seed)
    df["share_park"] = np.where(rng.random(len(df)) < 0.3, 1.0, 0.0)
    df.loc[df.index[3::11], "x4"] = np.nan  # gate unknown (and the exclusion unchecked)
    base = score(df, p).table
    assert set(base["deliverable"]) == {"pass", "unknown", "fail"} and (base["penalty_park"] < 0).any()
    so = switch_off(df, p, top_n=10)
    for name in so.criteria:
        brute = score(df, brute_force_without(p, name)).table
        np.testing.assert_allclose(
            so.scores[f"score_without_{name}"], brute["score"], rtol=0, atol=1e-12, equal_nan=True
        )
        assert so.ranks[f"rank_without_{name}"].tolist() == brute["rank"].tolist(), name
    # sections plus penalties sum to the score
    cols = [c for c in base.columns if c.startswith(("section_", "penalty_"))]
    ok = base["score"].notna()
    np.testing.assert_allclose(base.loc[ok, cols].sum(axis=1), base.loc[ok, "score"], rtol=0, atol=1e-12)

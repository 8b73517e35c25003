"""sensitivity(): reproducibility, collapse to the deterministic ranking, bounds, speed."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from scoring import parse_profile, score, sensitivity

PROFILE = """
[meta]
name = "sens"
level = "region"
[sections.p]
weight = 0.5
[sections.q]
weight = 0.5
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
[criteria.x4]
section = "q"
weight = 0
value_function = { type = "linear", min = 0, max = 1, direction = "lower" }
[[exclusions]]
name = "cut"
indicator = "flag"
op = "=="
value = true
reason = "flagged"
"""


def table(n=40, seed=0, nan=True):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.random(n),
            "x2": rng.random(n),
            "x3": rng.random(n),
            "x4": rng.random(n),
            "flag": rng.random(n) < 0.15,
        },
        index=[f"id{i:03d}" for i in range(n)],
    )
    if nan:
        df.loc[df.index[::5], "x2"] = np.nan
        df.loc[df.index[1::7], "x3"] = np.nan
    return df


@pytest.fixture(scope="module")
def profile():
    return parse_profile(PROFILE)


def test_reproducible_and_well_formed(profile):
    df = table()
    a = sensitivity(df, profile, n_draws=300, seed=7)
    b = sensitivity(df, profile, n_draws=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = sensitivity(df, profile, n_draws=300, seed=8)
    assert not a.equals(c)
    assert list(a.index) == list(df.index)
    for col in ("rank_p05", "rank_p50", "rank_p95", "rank_mean", "p_top10"):
        assert col in a.columns
    assert (a["rank_p05"] <= a["rank_p50"]).all() and (a["rank_p50"] <= a["rank_p95"]).all()
    assert a["p_top10"].between(0, 1).all()
    assert a["rank_mean"].between(1, len(df)).all()
    assert a["rank_mean"].sum() == pytest.approx(len(df) * (len(df) + 1) / 2)  # ranks 1..n in every draw
    # exactly 10 rows are in the top 10 in every draw when there are no ties
    assert a["p_top10"].sum() == pytest.approx(10.0)
    # excluded rows always rank after every eligible row
    n_elig = int(a["eligible"].sum())
    assert n_elig < len(df)
    assert (a.loc[~a["eligible"], "rank_p05"] > n_elig).all()
    assert (a.loc[a["eligible"], "rank_p95"] <= n_elig).all()
    assert (a.loc[~a["eligible"], "p_top10"] == 0).all()
    d = sensitivity(df, profile, n_draws=50, top_n=3)
    assert "p_top3" in d.columns and "p_top10" not in d.columns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_huge_concentration_collapses_to_deterministic_rank(profile, seed):
    df = table(seed=seed)
    det = score(df, profile).table["rank"]
    s = sensitivity(df, profile, n_draws=200, concentration=1e12, seed=seed)
    for col in ("rank_p05", "rank_p50", "rank_p95"):
        pd.testing.assert_series_equal(s[col], det, check_names=False)
    np.testing.assert_allclose(s["rank_mean"], det.to_numpy())
    assert set(np.unique(s["p_top10"])) <= {0.0, 1.0}
    assert ((s["p_top10"] == 1.0) == (det <= 10)).all()


def test_low_concentration_spreads_ranks(profile):
    df = table(nan=False)
    s = sensitivity(df, profile, n_draws=500, concentration=2.0)
    width = s["rank_p95"] - s["rank_p05"]
    assert width.max() > 3


def test_single_weighted_criterion_is_certain():
    text = PROFILE.replace("[sections.q]\nweight = 0.5", "[sections.q]\nweight = 0").replace(
        'section = "p"\nweight = 2', 'section = "p"\nweight = 0'
    )
    p = parse_profile(text)
    assert (p.weights > 0).sum() == 1
    df = table(nan=False)
    s = sensitivity(df, p, n_draws=100, concentration=0.5)
    det = score(df, p).table["rank"]
    assert (s["rank_p05"] == det).all() and (s["rank_p95"] == det).all()


def test_argument_checks(profile):
    df = table()
    for kw in ({"n_draws": 0}, {"concentration": 0}, {"concentration": float("nan")}, {"top_n": 0}):
        with pytest.raises(ValueError):
            sensitivity(df, profile, **kw)


def test_ineligible_rows_never_count_as_top(profile):
    df = table(n=6, nan=False)
    df["flag"] = [False, False, True, True, True, True]
    s = sensitivity(df, profile, n_draws=50)
    assert (s.loc[~s["eligible"], "p_top10"] == 0).all()
    assert (s.loc[s["eligible"], "p_top10"] == 1).all()
    assert sorted(s.loc[~s["eligible"], "rank_p50"]) == [3, 4, 5, 6]


def test_rank_helpers_match_numpy_and_pandas():
    from scoring.engine import _competition_rank
    from scoring.sensitivity import _rank_quantiles

    rng = np.random.default_rng(3)
    key = rng.integers(0, 6, size=(50, 12)).astype(float)  # many ties
    ranks = _competition_rank(key)
    for i in range(len(key)):
        expected = pd.Series(key[i]).rank(method="min", ascending=False).astype(int).to_numpy()
        np.testing.assert_array_equal(ranks[i], expected)
    n = key.shape[1]
    counts = np.zeros((n, n + 1), dtype=np.int64)
    for row in ranks:
        counts[np.arange(n), row] += 1
    qs = (0.05, 0.5, 0.95)
    np.testing.assert_array_equal(
        _rank_quantiles(counts, qs), np.quantile(ranks, qs, axis=0, method="inverted_cdf").astype(int)
    )

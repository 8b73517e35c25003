"""score(): compared with an independent plain-Python reference, plus Hypothesis properties."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring import ScoringConfigError, parse_profile, score

NAN = float("nan")
RULES = ["worst", "neutral", "median", "exclude", "renormalise"]

# ----------------------------------------------------------------------------- test profile
# criterion -> (section, weight, value function dict)
CRITERIA = {
    "a": ("s1", 2.0, {"type": "linear", "min": 0, "max": 10, "direction": "higher"}),
    "b": ("s1", 1.0, {"type": "linear", "direction": "lower"}),
    "c": ("s1", 1.0, {"type": "percentile", "direction": "higher"}),
    "d": ("s2", 1.0, {"type": "steps", "breaks": [1, 2, 3], "scores": [0, 0.3, 0.6, 1]}),
    "e": ("s2", 3.0, {"type": "decay", "half_distance": 2}),
    "f": ("s2", 0.5, {"type": "boolean", "true_score": 0.9, "false_score": 0.1}),
    "g": ("s2", 0.0, {"type": "percentile", "direction": "lower"}),
}
SECTIONS = {"s1": 0.6, "s2": 0.4, "s3": 0.0}
EXCLUSIONS = [("far", "e", ">=", 8.0, "much too far"), ("flag", "h", "==", True, "flagged")]


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def make_profile_text(rules: dict[str, str], criteria=CRITERIA, exclusions=EXCLUSIONS) -> str:
    out = ['[meta]\nname = "test"\nlevel = "region"\nmissing_default = "worst"\n']
    for s, w in SECTIONS.items():
        out.append(f"[sections.{s}]\nweight = {w}\n")
    for name, (sec, w, vf) in criteria.items():
        vf_txt = ", ".join(f"{k} = {_toml_value(v)}" for k, v in vf.items())
        out.append(
            f'[criteria.{name}]\nsection = "{sec}"\nweight = {w}\nvalue_function = {{ {vf_txt} }}\n'
            f'missing = "{rules.get(name, "worst")}"\n'
        )
    for name, ind, op, val, reason in exclusions:
        out.append(
            f'[[exclusions]]\nname = "{name}"\nindicator = "{ind}"\nop = "{op}"\nvalue = {_toml_value(val)}\n'
            f'reason = "{reason}"\n'
        )
    return "\n".join(out)


# ----------------------------------------------------------------------------- reference
def ref_value(vf: dict, xs: list[float]) -> list[float]:
    """Independent, loop-based value functions."""
    present = [x for x in xs if not math.isnan(x)]
    out = []
    for x in xs:
        if math.isnan(x):
            out.append(NAN)
            continue
        t = vf["type"]
        if t == "decay":
            out.append(0.5 ** (max(x, 0.0) / vf["half_distance"]))
        elif t == "boolean":
            out.append(vf.get("true_score", 1.0) if x != 0 else vf.get("false_score", 0.0))
        elif t == "steps":
            i = 0
            for b in vf["breaks"]:
                if b <= x:
                    i += 1
            out.append(vf["scores"][i])
        elif t == "linear":
            lo = vf["min"] if "min" in vf else min(present)
            hi = vf["max"] if "max" in vf else max(present)
            if hi == lo:
                out.append(1.0)
            else:
                v = (x - lo) / (hi - lo) if vf["direction"] == "higher" else (hi - x) / (hi - lo)
                out.append(min(1.0, max(0.0, v)))
        elif t == "percentile":
            n = len(present)
            if n == 1:
                p = 1.0
            else:
                less = sum(1 for y in present if y < x)
                eq = sum(1 for y in present if y == x)
                p = (less + (eq + 1) / 2 - 1) / (n - 1)
            out.append(p if vf["direction"] == "higher" else 1 - p)
        else:
            raise AssertionError(t)
    return out


def ref_score(rows: dict, criteria: dict, sections: dict, rules: dict, exclusions: list):
    """Loop-based scorer: returns {id: (score, eligible, rank)}."""
    ids = list(rows)
    # effective weights
    sec_sum = {}
    for sec, w, _ in criteria.values():
        sec_sum[sec] = sec_sum.get(sec, 0.0) + w
    raw_w = {}
    for name, (sec, w, _) in criteria.items():
        raw_w[name] = sections[sec] * w / sec_sum[sec] if sec_sum[sec] > 0 else 0.0
    total = sum(raw_w.values())
    eff = {k: v / total for k, v in raw_w.items()}

    values = {i: {} for i in ids}
    avail = {i: {} for i in ids}
    eligible = {i: True for i in ids}
    for name, (_sec, _w, vf) in criteria.items():
        col = [rows[i][name] for i in ids]
        vals = ref_value(vf, col)
        present_vals = [v for v, x in zip(vals, col, strict=True) if not math.isnan(x)]
        rule = rules.get(name, "worst")
        for i, x, v in zip(ids, col, vals, strict=True):
            avail[i][name] = True
            if not math.isnan(x):
                values[i][name] = v
            elif rule == "worst":
                values[i][name] = 0.0
            elif rule == "neutral":
                values[i][name] = 0.5
            elif rule == "median":
                s = sorted(present_vals)
                if not s:
                    values[i][name] = 0.5
                elif len(s) % 2:
                    values[i][name] = s[len(s) // 2]
                else:
                    values[i][name] = (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
            elif rule == "exclude":
                avail[i][name] = False
                eligible[i] = False
            elif rule == "renormalise":
                avail[i][name] = False
    for _, ind, op, val, _ in exclusions:
        for i in ids:
            x = rows[i][ind]
            if math.isnan(x):
                continue
            val_f = float(val)
            hit = {
                "<": x < val_f,
                "<=": x <= val_f,
                ">": x > val_f,
                ">=": x >= val_f,
                "==": x == val_f,
                "!=": x != val_f,
            }[op]
            if hit:
                eligible[i] = False
    scores = {}
    for i in ids:
        den = sum(eff[c] for c in criteria if avail[i][c])
        if den <= 0:
            scores[i] = NAN
            eligible[i] = False
            continue
        scores[i] = sum(eff[c] * values[i][c] for c in criteria if avail[i][c]) / den

    def better(i, j):  # True if j strictly outranks i
        if eligible[j] != eligible[i]:
            return eligible[j]
        si, sj = scores[i], scores[j]
        if math.isnan(sj):
            return False
        if math.isnan(si):
            return True
        return sj > si + 1e-9

    ranks = {i: 1 + sum(1 for j in ids if j != i and better(i, j)) for i in ids}
    return {i: (scores[i], eligible[i], ranks[i]) for i in ids}


def random_rows(rng: random.Random, n: int, p_nan: float) -> dict:
    rows = {}
    for k in range(n):

        def m(v):
            return NAN if rng.random() < p_nan else v

        rows[f"r{k:03d}"] = {
            "a": m(rng.uniform(-2, 12)),
            "b": m(round(rng.uniform(0, 50), 1)),
            "c": m(float(rng.randint(0, 6))),  # ties for the percentile
            "d": m(float(rng.randint(0, 4))),  # values on the breaks
            "e": m(rng.uniform(-1, 10)),
            "f": m(float(rng.random() < 0.5)),
            "g": m(rng.uniform(0, 1)),
            "h": m(float(rng.random() < 0.1)),
        }
    return rows


def frame(rows: dict) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index")


CASES = [(rule, seed) for rule in RULES for seed in range(12)] + [("mixed", seed) for seed in range(40)]


@pytest.mark.parametrize("rule, seed", CASES)
def test_matches_reference_implementation(rule, seed):
    rng = random.Random(hash((rule, seed)) & 0xFFFF)
    if rule == "mixed":
        rules = {c: rng.choice(RULES) for c in CRITERIA}
    else:
        rules = {c: rule for c in CRITERIA}
    rows = random_rows(rng, rng.randint(1, 25), p_nan=rng.choice([0.0, 0.15, 0.4]))
    profile = parse_profile(make_profile_text(rules))
    res = score(frame(rows), profile)
    ref = ref_score(rows, CRITERIA, SECTIONS, rules, EXCLUSIONS)
    t = res.table
    for i, (s, elig, rank) in ref.items():
        assert bool(t.at[i, "eligible"]) == elig, (i, t.loc[i].to_dict())
        if math.isnan(s):
            assert math.isnan(t.at[i, "score"])
        else:
            assert t.at[i, "score"] == pytest.approx(s, abs=1e-12)
        assert t.at[i, "rank"] == rank, (i, s, rank, t.at[i, "rank"])
        # contributions sum to the score
        if not math.isnan(s):
            csum = sum(t.at[i, f"contrib_{c}"] for c in CRITERIA)
            assert csum == pytest.approx(t.at[i, "score"], abs=1e-12)
    # notes report each criterion with missing values and its rule
    for c in CRITERIA:
        n_miss = sum(1 for r in rows.values() if math.isnan(r[c]))
        if n_miss:
            assert any(
                n.startswith(
                    f"{n_miss} row{'s' if n_miss != 1 else ''} missing {c}: scored by rule '{rules[c]}'"
                )
                for n in res.notes
            ), res.notes


def test_missing_rules_reported_per_row_and_with_reasons():
    rules = {"a": "worst", "b": "neutral", "c": "median", "d": "exclude", "e": "renormalise"}
    rows = {
        "x": {"a": NAN, "b": NAN, "c": NAN, "d": 2.0, "e": 1.0, "f": 1.0, "g": 0.5, "h": 0.0},
        "y": {"a": 5.0, "b": 1.0, "c": 1.0, "d": NAN, "e": NAN, "f": 0.0, "g": 0.5, "h": NAN},
        "z": {"a": 6.0, "b": 2.0, "c": 3.0, "d": 1.0, "e": 2.0, "f": 0.0, "g": 0.5, "h": 0.0},
    }
    reasons = pd.DataFrame({"d": ["", "not checked: no layer for Scotland", None]}, index=["x", "y", "z"])
    res = score(frame(rows), parse_profile(make_profile_text(rules)), reasons=reasons)
    t = res.table
    assert t.at["x", "value_a"] == 0.0 and t.at["x", "value_b"] == 0.5
    assert t.at["x", "value_c"] == pytest.approx(0.5)  # median of the two present percentiles (0 and 1)
    assert "a missing: scored worst (0)" in t.at["x", "missing"]
    assert "b missing: scored neutral (0.5)" in t.at["x", "missing"]
    assert "c missing: scored median (0.500)" in t.at["x", "missing"]
    assert not t.at["y", "eligible"]
    assert t.at["y", "excluded_by"] == "d: missing (not checked: no layer for Scotland)"
    assert "d missing (not checked: no layer for Scotland): row excluded" in t.at["y", "missing"]
    assert "e missing: dropped; remaining weights renormalised" in t.at["y", "missing"]
    assert "exclusion flag not checked: h missing" in t.at["y", "missing"]
    assert math.isnan(t.at["y", "value_e"]) and t.at["y", "contrib_e"] == 0.0
    assert t.at["z", "missing"] == "" and t.at["z", "excluded_by"] == ""
    assert "exclusion flag not checked for 1 row: h missing" in res.notes
    assert t.at["y", "rank"] == 3  # the only ineligible row ranks last
    # M4: three-valued eligibility; y is excluded (its d is missing under the exclude rule) and an
    # exclusion that could not be checked on an otherwise eligible row makes it "unknown"
    assert t.at["y", "eligibility"] == "excluded" and t.at["y", "exclusions_not_checked"] == ""
    assert t.at["z", "eligibility"] == "eligible"


def test_exclusions_and_ranking_rules():
    text = make_profile_text({}, exclusions=EXCLUSIONS + [("neg", "a", "<", 0.0, "negative a")])
    rows = {
        "best_but_excluded": {"a": 10, "b": 0, "c": 5, "d": 4, "e": 9, "f": 1, "g": 0, "h": 0},
        "flagged": {"a": 10, "b": 0, "c": 5, "d": 4, "e": 0, "f": 1, "g": 0, "h": 1},
        "both": {"a": -1, "b": 0, "c": 5, "d": 4, "e": 9, "f": 1, "g": 0, "h": 1},
        "ok1": {"a": 3, "b": 5, "c": 1, "d": 1, "e": 3, "f": 0, "g": 0, "h": 0},
        "ok1_twin": {"a": 3, "b": 5, "c": 1, "d": 1, "e": 3, "f": 0, "g": 0, "h": 0},
        "ok2": {"a": 1, "b": 9, "c": 0, "d": 0, "e": 6, "f": 0, "g": 0, "h": 0},
    }
    df = frame({k: {c: float(v) for c, v in r.items()} for k, r in rows.items()})
    res = score(df, parse_profile(text))
    t = res.table
    assert list(t.columns[:7]) == [
        "rank",
        "score",
        "eligibility",
        "eligible",
        "excluded_by",
        "exclusions_not_checked",
        "missing",
    ]
    assert t.at["both", "eligibility"] == "excluded" and t.at["ok1", "eligibility"] == "eligible"
    assert t.at["best_but_excluded", "excluded_by"] == "much too far"
    assert t.at["flagged", "excluded_by"] == "flagged"
    assert t.at["both", "excluded_by"] == "much too far; flagged; negative a"
    # twins tie (competition ranking), excluded rows after all eligible rows, ordered by score
    assert t.at["ok1", "rank"] == t.at["ok1_twin", "rank"] == 1
    assert t.at["ok2", "rank"] == 3
    ex = t[~t["eligible"]].sort_values("rank")
    assert ex["rank"].min() == 4
    assert ex["score"].is_monotonic_decreasing
    assert t.at["flagged", "score"] > t.at["ok1", "score"]  # would have won if not excluded
    assert "2 rows excluded by far: much too far" in res.notes
    assert "1 row excluded by neg: negative a" in res.notes
    assert res.weights.sum() == pytest.approx(1.0)
    assert res.profile.name == "test"
    assert t["rank"].dtype == np.int64 and t["eligible"].dtype == bool


def test_explain_mentions_contributions_and_exclusions():
    rows = {
        "good": {"a": 9.0, "b": 1.0, "c": 3.0, "d": 3.0, "e": 0.5, "f": 1.0, "g": 0.1, "h": 0.0},
        "bad": {"a": 1.0, "b": 8.0, "c": 1.0, "d": 0.0, "e": 9.0, "f": 0.0, "g": 0.1, "h": NAN},
    }
    res = score(frame(rows), parse_profile(make_profile_text({})))
    txt = res.explain("good")
    assert txt.startswith("good: rank 1 of 2")
    assert "Top contributions" in txt and "(eligible)" in txt
    top_c = max(CRITERIA, key=lambda c: res.table.at["good", f"contrib_{c}"])
    assert f"{top_c} = " in txt
    bad = res.explain("bad")
    assert "EXCLUDED" in bad and "Excluded because: much too far" in bad
    assert "exclusion flag not checked: h missing" in bad
    with pytest.raises(KeyError):
        res.explain("nobody")


def test_input_checks():
    profile = parse_profile(make_profile_text({}))
    rows = random_rows(random.Random(3), 5, 0.0)
    df = frame(rows)
    with pytest.raises(ScoringConfigError) as ei:
        score(df.drop(columns=["a", "h"]), profile)
    assert len(ei.value.problems) == 2
    assert "no column 'a' (needed by criteria.a)" in ei.value.problems[0]
    assert "no column 'h' (needed by exclusion flag)" in ei.value.problems[1]
    with pytest.raises(ValueError, match="unique"):
        score(pd.concat([df, df.iloc[:1]]), profile)
    bad = df.copy()
    bad["a"] = ["x"] * len(bad)
    with pytest.raises(ScoringConfigError, match="column 'a' must be numeric or boolean"):
        score(bad, profile)


def test_boolean_and_nullable_columns_are_accepted():
    profile = parse_profile(make_profile_text({"f": "neutral"}))
    rows = random_rows(random.Random(5), 6, 0.0)
    df = frame(rows)
    expected = score(df, profile).table
    df2 = df.copy()
    df2["f"] = pd.array([bool(v) for v in df["f"]], dtype="boolean")
    df2["h"] = df["h"].astype(bool)
    pd.testing.assert_frame_equal(score(df2, profile).table, expected)
    df3 = df.copy()
    df3["f"] = pd.Series([True, None, False, True, None, False], index=df.index, dtype=object)
    t = score(df3, profile).table
    assert t["value_f"].iloc[1] == 0.5 and t["value_f"].iloc[0] == 0.9


def test_all_weighted_criteria_dropped_makes_row_ineligible():
    crit = {"a": CRITERIA["a"], "b": CRITERIA["b"]}
    text = make_profile_text({"a": "renormalise", "b": "renormalise"}, criteria=crit, exclusions=[])
    text = text.replace("[sections.s2]\nweight = 0.4", "[sections.s2]\nweight = 0")
    df = pd.DataFrame({"a": [1.0, NAN], "b": [2.0, NAN]}, index=["p", "q"])
    t = score(df, parse_profile(text)).table
    assert t.at["p", "eligible"] and not t.at["q", "eligible"]
    assert math.isnan(t.at["q", "score"]) and t.at["q", "rank"] == 2
    assert "no positively weighted criterion has a value" in t.at["q", "excluded_by"]


# ----------------------------------------------------------------------------- Hypothesis
MONO_CRITERIA = {
    "a": ("s1", 2.0, {"type": "linear", "min": 0, "max": 10, "direction": "higher"}),
    "b": ("s1", 1.0, {"type": "linear", "min": 0, "max": 50, "direction": "lower"}),
    "d": ("s2", 1.0, {"type": "steps", "breaks": [1, 2, 3], "scores": [0, 0.3, 0.6, 1]}),
    "e": ("s2", 3.0, {"type": "decay", "half_distance": 2}),
    "f": ("s2", 0.5, {"type": "boolean", "true_score": 0.9, "false_score": 0.1}),
}
BETTER = {"a": +1, "b": -1, "d": +1, "e": -1, "f": +1}

val = st.one_of(st.floats(-5, 60, allow_nan=False, width=32).map(float), st.just(NAN))


@st.composite
def tables(draw, min_rows=1, max_rows=12):
    n = draw(st.integers(min_rows, max_rows))
    cols = {}
    for c in ("a", "b", "c", "d", "e", "g"):
        cols[c] = draw(st.lists(val, min_size=n, max_size=n))
    cols["f"] = draw(st.lists(st.sampled_from([0.0, 1.0, NAN]), min_size=n, max_size=n))
    cols["h"] = draw(st.lists(st.sampled_from([0.0, 0.0, 0.0, 1.0, NAN]), min_size=n, max_size=n))
    ids = draw(st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=n, max_size=n, unique=True))
    return pd.DataFrame(cols, index=ids)


rules_st = st.fixed_dictionaries({c: st.sampled_from(RULES) for c in CRITERIA})
HSET = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HSET
@given(tables(), rules_st)
def test_property_scores_bounded_contributions_sum_exclusions_last(df, rules):
    t = score(df, parse_profile(make_profile_text(rules))).table
    el = t[t["eligible"]]
    assert el["score"].notna().all()
    assert ((el["score"] >= 0) & (el["score"] <= 1)).all()
    contrib = el[[f"contrib_{c}" for c in CRITERIA]].sum(axis=1)
    np.testing.assert_allclose(contrib.to_numpy(), el["score"].to_numpy(), atol=1e-12)
    vals = t[[f"value_{c}" for c in CRITERIA]].to_numpy()
    ok = vals[~np.isnan(vals)]
    assert ((ok >= 0) & (ok <= 1)).all()
    if t["eligible"].any() and (~t["eligible"]).any():
        assert el["rank"].max() < t.loc[~t["eligible"], "rank"].min()
    # competition ranking among eligible rows: rank = 1 + number of eligible rows with a higher score
    s = el["score"].round(12)
    for i in el.index:
        assert el.at[i, "rank"] == 1 + int((s > s[i]).sum())


@HSET
@given(tables(min_rows=2), rules_st, st.randoms(use_true_random=False))
def test_property_row_order_does_not_change_ranking(df, rules, rnd):
    profile = parse_profile(make_profile_text(rules))
    t1 = score(df, profile).table
    order = list(df.index)
    rnd.shuffle(order)
    t2 = score(df.loc[order], profile).table
    assert list(t2.index) == order
    pd.testing.assert_series_equal(t1["rank"], t2["rank"].loc[t1.index])
    pd.testing.assert_series_equal(t1["eligible"], t2["eligible"].loc[t1.index])
    np.testing.assert_array_equal(t1["score"].to_numpy(), t2["score"].loc[t1.index].to_numpy())


@HSET
@given(
    tables(),
    st.fixed_dictionaries({c: st.sampled_from(RULES) for c in MONO_CRITERIA}),
    st.sampled_from(sorted(MONO_CRITERIA)),
    st.floats(0.0, 30.0, allow_nan=False),
    st.data(),
)
def test_property_improving_a_value_never_lowers_the_score(df, rules, crit, delta, data):
    profile = parse_profile(make_profile_text(rules, criteria=MONO_CRITERIA, exclusions=[]))
    present = [i for i in df.index if not math.isnan(df.at[i, crit])]
    assume(present)
    row = data.draw(st.sampled_from(present))
    before = score(df, profile).table.at[row, "score"]
    df2 = df.copy()
    if crit == "f":
        df2.at[row, "f"] = 1.0
    else:
        df2.at[row, crit] = df.at[row, crit] + BETTER[crit] * delta
    after = score(df2, profile).table.at[row, "score"]
    if math.isnan(before):
        assert math.isnan(after)
    else:
        assert after >= before - 1e-12, (before, after)

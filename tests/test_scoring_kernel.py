"""scoring.kernel: score_arrays() against an independent loop-based reference, and its helpers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from scoring import MISSING_RULES, ScoringConfigError, parse_profile, value_function_from_dict
from scoring.kernel import (
    WeightedCriterion,
    as_float_array,
    evaluate_condition,
    is_data_dependent,
    median_value,
    score_arrays,
    weighted_criteria,
)

NAN = float("nan")

VF_POOL = [
    {"type": "linear", "min": 0, "max": 10, "direction": "higher"},
    {"type": "linear", "direction": "lower"},
    {"type": "linear", "min": 4, "direction": "higher"},  # one explicit bound
    {"type": "linear", "max": 3, "direction": "lower"},
    {"type": "percentile", "direction": "higher"},
    {"type": "percentile", "direction": "lower"},
    {"type": "steps", "breaks": [1, 2, 3], "scores": [0, 0.3, 0.6, 1]},
    {"type": "decay", "half_distance": 2},
    {"type": "boolean", "true_score": 0.9, "false_score": 0.1},
]
INDICATORS = ["p", "q", "r", "s"]
OPS = ["<", "<=", ">", ">=", "==", "!="]


@dataclass(frozen=True)
class Cond:
    name: str
    indicator: str
    op: str
    value: float | bool | str


# ----------------------------------------------------------------------------- reference
def _cmp(op: str, a, b) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def ref_value(vf: dict, x: float, dist: list[float]) -> float:
    """One value, loop style; ``dist`` = the non-missing values of the distribution in use."""
    t = vf["type"]
    if math.isnan(x):
        return NAN
    if t == "decay":
        return 0.5 ** (max(x, 0.0) / vf["half_distance"])
    if t == "boolean":
        return vf.get("true_score", 1.0) if x != 0 else vf.get("false_score", 0.0)
    if t == "steps":
        return vf["scores"][sum(1 for b in vf["breaks"] if b <= x)]
    if t == "linear":
        lo = vf["min"] if "min" in vf else min(dist)
        hi = vf["max"] if "max" in vf else max(dist)
        if hi > lo:
            v = (x - lo) / (hi - lo) if vf["direction"] == "higher" else (hi - x) / (hi - lo)
            return min(1.0, max(0.0, v))
        if "min" not in vf and "max" not in vf:
            return 1.0
        bound = vf.get("min", vf.get("max"))
        return float(x >= bound) if vf["direction"] == "higher" else float(x <= bound)
    if t == "percentile":
        n = len(dist)
        if n == 1:
            return 1.0  # documented: a single value gets 1.0, whatever the direction
        less = sum(1 for y in dist if y < x)
        eq = sum(1 for y in dist if y == x)
        p = min(1.0, max(0.0, (less + (eq + 1) / 2 - 1) / (n - 1)))
        return p if vf["direction"] == "higher" else 1 - p
    raise AssertionError(t)


def ref_kernel(criteria, data, exclusions, reference, medians):
    """Loop-based kernel: returns a dict of plain lists (rows x criteria / exclusions)."""
    n = len(next(iter(data.values())))
    k = len(criteria)
    values = [[NAN] * k for _ in range(n)]
    avail = [[True] * k for _ in range(n)]
    missing = [[False] * k for _ in range(n)]
    miss_excl = [False] * n
    for j, (name, ind, _w, vf, rule) in enumerate(criteria):
        col = [float(x) for x in data[ind]]
        dist_src = reference[ind] if reference is not None and ind in reference else col
        dist = [float(x) for x in dist_src if not math.isnan(x)]
        vals = [ref_value(vf, x, dist) for x in col]
        present = sorted(v for v, x in zip(vals, col, strict=True) if not math.isnan(x))
        for i, x in enumerate(col):
            if not math.isnan(x):
                values[i][j] = vals[i]
                continue
            missing[i][j] = True
            if rule == "worst":
                values[i][j] = 0.0
            elif rule == "neutral":
                values[i][j] = 0.5
            elif rule == "median":
                if medians is not None and name in medians:
                    values[i][j] = medians[name]
                elif not present:
                    values[i][j] = 0.5
                elif len(present) % 2:
                    values[i][j] = present[len(present) // 2]
                else:
                    values[i][j] = (present[len(present) // 2 - 1] + present[len(present) // 2]) / 2
            else:  # exclude, renormalise
                avail[i][j] = False
                if rule == "exclude":
                    miss_excl[i] = True
    weights = [[0.0] * k for _ in range(n)]
    contrib = [[0.0] * k for _ in range(n)]
    score = [NAN] * n
    for i in range(n):
        den = sum(c[2] for j, c in enumerate(criteria) if avail[i][j])
        if den <= 0:
            contrib[i] = [NAN] * k
            continue
        for j, c in enumerate(criteria):
            if avail[i][j]:
                weights[i][j] = c[2] / den
                contrib[i][j] = weights[i][j] * values[i][j]
        score[i] = min(1.0, max(0.0, sum(contrib[i])))
    hit = [[False] * len(exclusions) for _ in range(n)]
    unchecked = [[False] * len(exclusions) for _ in range(n)]
    for m, e in enumerate(exclusions):
        for i, x in enumerate(data[e.indicator]):
            if _is_missing(x):
                unchecked[i][m] = True
            elif isinstance(e.value, str):
                hit[i][m] = _cmp(e.op, str(x), e.value)
            else:
                hit[i][m] = _cmp(e.op, float(x), float(e.value))
    return {
        "values": values,
        "available": avail,
        "missing": missing,
        "missing_exclude": miss_excl,
        "weights": weights,
        "contributions": contrib,
        "score": score,
        "hit": hit,
        "unchecked": unchecked,
    }


def random_case(rng: random.Random):
    n = rng.randint(1, 30)
    p_nan = rng.choice([0.0, 0.2, 0.5, 1.0 if rng.random() < 0.1 else 0.3])

    def col(kind: str):
        out = []
        for _ in range(n):
            if rng.random() < p_nan:
                out.append(NAN)
            elif kind == "int":
                out.append(float(rng.randint(0, 5)))  # ties and values on the breaks
            else:
                out.append(round(rng.uniform(-2, 12), rng.choice([0, 1, 3])))
        return np.array(out, dtype=np.float64)

    data = {ind: col(rng.choice(["int", "float"])) for ind in INDICATORS}
    data["kind"] = np.array([rng.choice(["a", "b", None, NAN]) for _ in range(n)], dtype=object)
    criteria = []
    for j in range(rng.randint(1, 7)):
        vf = rng.choice(VF_POOL)
        criteria.append(
            (f"c{j}", rng.choice(INDICATORS), rng.choice([0.0, 0.5, 1.0, 2.5]), vf, rng.choice(MISSING_RULES))
        )
    reference = None
    if rng.random() < 0.5:
        reference = {
            ind: np.array(
                [rng.choice([NAN, rng.uniform(-3, 14), float(rng.randint(0, 5))]) for _ in range(12)]
                + [float(rng.randint(0, 5))]
            )
            for ind in rng.sample(INDICATORS, rng.randint(1, len(INDICATORS)))
        }
    medians = None
    if rng.random() < 0.5:
        medians = {c[0]: rng.random() for c in criteria if c[4] == "median" and rng.random() < 0.7}
    exclusions = [
        Cond(
            f"x{m}",
            rng.choice(INDICATORS),
            rng.choice(OPS),
            rng.choice([float(rng.randint(0, 5)), 2.5, True]),
        )
        for m in range(rng.randint(0, 3))
    ]
    if rng.random() < 0.5:
        exclusions.append(Cond("kind", "kind", rng.choice(["==", "!="]), "a"))
    return criteria, data, exclusions, reference, medians


def _close(got: np.ndarray, want) -> None:
    np.testing.assert_allclose(got, np.asarray(want, dtype=np.float64), rtol=0, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", range(150))
def test_score_arrays_matches_loop_reference(seed):
    rng = random.Random(seed)
    criteria, data, exclusions, reference, medians = random_case(rng)
    specs = [
        WeightedCriterion(name, ind, w, value_function_from_dict(vf), rule)
        for name, ind, w, vf, rule in criteria
    ]
    res = score_arrays(specs, data, exclusions=exclusions, reference=reference, medians=medians)
    ref = ref_kernel(criteria, data, exclusions, reference, medians)
    n, k, e = len(data["p"]), len(criteria), len(exclusions)
    assert res.values.shape == res.weights.shape == res.contributions.shape == (n, k)
    assert res.hit.shape == res.unchecked.shape == (n, e)
    assert res.criteria == tuple(c[0] for c in criteria)
    assert res.exclusions == tuple(x.name for x in exclusions)
    dropped = ~np.asarray(ref["available"], dtype=bool)
    want_values = np.where(dropped, NAN, np.asarray(ref["values"], dtype=np.float64)) if k else ref["values"]
    _close(res.values, want_values)
    np.testing.assert_array_equal(res.available, np.asarray(ref["available"], dtype=bool).reshape(n, k))
    np.testing.assert_array_equal(res.missing, np.asarray(ref["missing"], dtype=bool).reshape(n, k))
    np.testing.assert_array_equal(res.missing_exclude, ref["missing_exclude"])
    _close(res.weights, ref["weights"])
    _close(res.contributions, ref["contributions"])
    _close(res.score, ref["score"])
    np.testing.assert_array_equal(res.scorable, ~np.isnan(np.asarray(ref["score"])))
    np.testing.assert_array_equal(res.hit, np.asarray(ref["hit"], dtype=bool).reshape(n, e))
    np.testing.assert_array_equal(res.unchecked, np.asarray(ref["unchecked"], dtype=bool).reshape(n, e))
    np.testing.assert_array_equal(res.excluded, np.asarray(ref["hit"], dtype=bool).reshape(n, e).any(axis=1))
    # contributions of scorable rows sum to the (unclipped, here always in-range) score
    ok = res.scorable
    _close(res.contributions[ok].sum(axis=1), res.score[ok])
    # the median actually filled in is reported per criterion
    for j, (name, _, _, _, rule) in enumerate(criteria):
        if rule == "median" and res.missing[:, j].any():
            assert res.values[res.missing[:, j], j] == pytest.approx(res.medians[j])
            if medians is not None and name in medians:
                assert res.medians[j] == medians[name]
        else:
            assert math.isnan(res.medians[j])


def test_weights_only_matter_as_ratios():
    rng = random.Random(7)
    criteria, data, _, _, _ = random_case(rng)
    specs = [
        WeightedCriterion(name, ind, w, value_function_from_dict(vf), rule)
        for name, ind, w, vf, rule in criteria
    ]
    scaled = [
        WeightedCriterion(c.name, c.indicator, 3.0 * c.weight, c.value_function, c.missing) for c in specs
    ]
    a, b = score_arrays(specs, data), score_arrays(scaled, data)
    np.testing.assert_allclose(a.score, b.score, rtol=0, atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(a.weights, b.weights, rtol=0, atol=1e-15)


def test_reference_and_medians_override_the_data():
    crit = [
        WeightedCriterion(
            "c", "x", 1.0, value_function_from_dict({"type": "percentile", "direction": "higher"}), "median"
        )
    ]
    data = {"x": np.array([1.0, 2.0, NAN])}
    own = score_arrays(crit, data)
    np.testing.assert_allclose(own.values[:, 0], [0.0, 1.0, 0.5])  # median of the present values
    ref = score_arrays(crit, data, reference={"x": np.array([0.0, 1.0, 2.0, 3.0, 4.0])})
    np.testing.assert_allclose(ref.values[:, 0], [0.25, 0.5, 0.375])
    fixed = score_arrays(crit, data, reference={"x": np.array([0.0, 1.0, 2.0, 3.0, 4.0])}, medians={"c": 0.9})
    np.testing.assert_allclose(fixed.values[:, 0], [0.25, 0.5, 0.9])
    assert fixed.medians[0] == 0.9


def test_nothing_scorable_and_exclude_rule():
    vf = value_function_from_dict({"type": "boolean"})
    crit = [WeightedCriterion("a", "a", 1.0, vf, "exclude"), WeightedCriterion("b", "b", 0.0, vf, "worst")]
    res = score_arrays(crit, {"a": np.array([1.0, NAN]), "b": np.array([NAN, 1.0])})
    np.testing.assert_array_equal(res.scorable, [True, False])
    assert res.score[0] == 1.0 and math.isnan(res.score[1])
    assert np.isnan(res.contributions[1]).all() and (res.weights[1] == 0).all()
    np.testing.assert_array_equal(res.missing_exclude, [False, True])
    np.testing.assert_array_equal(res.missing, [[False, True], [True, False]])


def test_evaluate_condition():
    x = np.array([1.0, NAN, 3.0, 2.0])
    hit, unknown = evaluate_condition(">", 2.0, x)
    np.testing.assert_array_equal(hit, [False, False, True, False])
    np.testing.assert_array_equal(unknown, [False, True, False, False])
    for op, want in [
        ("<", [1, 0, 0, 0]),
        ("<=", [1, 0, 0, 1]),
        (">=", [0, 0, 1, 1]),
        ("==", [0, 0, 0, 1]),
        ("!=", [1, 0, 1, 0]),
    ]:
        np.testing.assert_array_equal(evaluate_condition(op, 2, x)[0], np.array(want, dtype=bool))
    hit, unknown = evaluate_condition("==", True, np.array([1.0, 0.0, NAN]))
    np.testing.assert_array_equal(hit, [True, False, False])
    np.testing.assert_array_equal(unknown, [False, False, True])
    kinds = np.array(["a", None, NAN, "b", pd.NA], dtype=object)
    hit, unknown = evaluate_condition("!=", "a", kinds)
    np.testing.assert_array_equal(hit, [False, False, False, True, False])
    np.testing.assert_array_equal(unknown, [False, True, True, False, True])
    assert evaluate_condition("==", "1.0", np.array([1.0, 2.0]))[0].tolist() == [True, False]
    hit, unknown = evaluate_condition(">", 0.5, np.array([True, None, False], dtype=object))
    assert hit.tolist() == [True, False, False] and unknown.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="unknown operator"):
        evaluate_condition("=~", 1.0, x)


def test_helpers():
    np.testing.assert_array_equal(
        as_float_array(np.array([None, pd.NA, True, 2, NAN, 1.5], dtype=object)),
        [NAN, NAN, 1.0, 2.0, NAN, 1.5],
    )
    assert as_float_array(np.array([True, False])).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="text value 'x'"):
        as_float_array(np.array([1.0, "x"], dtype=object))
    with pytest.raises(ValueError, match="not numeric"):
        as_float_array(np.array(["1", "2"]))
    pct = value_function_from_dict({"type": "percentile", "direction": "higher"})
    assert is_data_dependent(pct)
    assert is_data_dependent(value_function_from_dict({"type": "linear", "min": 0, "direction": "higher"}))
    assert not is_data_dependent(
        value_function_from_dict({"type": "linear", "min": 0, "max": 1, "direction": "lower"})
    )
    assert not is_data_dependent(value_function_from_dict({"type": "decay", "half_distance": 1}))
    assert median_value(pct, np.array([1.0, 2.0, 3.0, NAN])) == 0.5
    assert median_value(pct, np.array([NAN])) == 0.5  # nothing present: neutral
    assert median_value(pct, np.array([3.0]), reference=np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == 0.5


def test_input_errors():
    vf = value_function_from_dict({"type": "boolean"})
    with pytest.raises(KeyError, match="no array for indicator 'b'"):
        score_arrays(
            [WeightedCriterion("a", "a", 1.0, vf, "worst"), WeightedCriterion("b", "b", 1.0, vf, "worst")],
            {"a": np.zeros(3)},
        )
    with pytest.raises(ValueError, match="expected a 1-D array of 3 values"):
        score_arrays(
            [WeightedCriterion("a", "a", 1.0, vf, "worst"), WeightedCriterion("b", "b", 1.0, vf, "worst")],
            {"a": np.zeros(3), "b": np.zeros(4)},
        )
    with pytest.raises(ScoringConfigError, match="unknown rule 'shrug'"):
        score_arrays([WeightedCriterion("a", "a", 1.0, vf, "shrug")], {"a": np.array([NAN])})


PROFILE = """
[meta]
name = "k"
level = "region"
[sections.s1]
weight = 0.7
[sections.s2]
weight = 0.3
[criteria.a]
section = "s1"
weight = 2
value_function = { type = "decay", half_distance = 2 }
[criteria.b]
section = "s1"
weight = 1
value_function = { type = "boolean" }
[criteria.c]
section = "s2"
weight = 1
value_function = { type = "boolean" }
"""


def test_weighted_criteria_keeps_profile_weights():
    p = parse_profile(PROFILE)
    allc = weighted_criteria(p)
    assert [c.name for c in allc] == ["a", "b", "c"]
    assert [c.weight for c in allc] == p.weights.tolist()
    sub = weighted_criteria(p, ["c", "a"])
    assert [(c.name, c.weight) for c in sub] == [("a", p.weights["a"]), ("c", p.weights["c"])]
    assert all(c.value_function == p.criterion(c.name).value_function for c in sub)


def test_rows_are_scored_independently_of_each_other():
    """Without data-dependent functions, each row's numbers are bit-identical to scoring it alone."""
    rng = np.random.default_rng(0)
    n = 40_000
    vfs = [VF_POOL[0], VF_POOL[6], VF_POOL[7], VF_POOL[8]]
    crit = [
        WeightedCriterion(f"c{j}", f"i{j}", w, value_function_from_dict(vf), rule)
        for j, (vf, w, rule) in enumerate(
            zip(vfs, [0.1, 0.2, 0.3, 0.4], ["worst", "renormalise", "exclude", "median"], strict=True)
        )
    ]
    data = {f"i{j}": np.where(rng.random(n) < 0.3, NAN, rng.uniform(-1, 11, n)) for j in range(4)}
    whole = score_arrays(crit, data, medians={"c3": 0.25})
    for lo, hi in [(0, 7), (16_380, 16_390), (n - 5, n)]:
        part = score_arrays(crit, {k: v[lo:hi] for k, v in data.items()}, medians={"c3": 0.25})
        np.testing.assert_array_equal(part.score, whole.score[lo:hi])
        np.testing.assert_array_equal(part.contributions, whole.contributions[lo:hi])
        np.testing.assert_array_equal(part.weights, whole.weights[lo:hi])


@pytest.mark.parametrize("k", [*range(1, 20), 31, 64, 127, 128, 129, 200, 300])
def test_row_sums_add_in_numpy_order(k):
    """The kernel adds a row's terms column by column in the order ndarray.sum(axis=1) uses, so
    scores are bit-identical to summing the (n, k) matrix (as the engine did before the kernel)."""
    from scoring.kernel import _row_sums

    rng = np.random.default_rng(k)
    a = rng.random((500, k)) * rng.choice([1e-6, 1e-3, 1.0, 1e3], (500, k))
    a[rng.random(a.shape) < 0.2] = 0.0
    np.testing.assert_array_equal(_row_sums([a[:, j] for j in range(k)], 500), a.sum(axis=1))


def test_row_sums_accept_shared_columns():
    from scoring.kernel import _row_sums

    rng = np.random.default_rng(1)
    for k in (1, 3, 8, 9, 17):
        a = rng.random((50, k))
        shared = rng.random(k) < 0.5
        a[:, shared] = rng.random(int(shared.sum()))  # same value in every row
        cols = [a[:1, j].copy() if shared[j] else a[:, j] for j in range(k)]
        got = _row_sums(cols, 50)
        np.testing.assert_array_equal(got, a.sum(axis=1))
        assert got.shape == (50,) and not any(np.shares_memory(got, c) for c in cols)


def test_keep_values_false_gives_the_same_score_without_value_columns():
    rng = random.Random(11)
    criteria, data, exclusions, reference, medians = random_case(rng)
    specs = [
        WeightedCriterion(name, ind, w, value_function_from_dict(vf), rule)
        for name, ind, w, vf, rule in criteria
    ]
    full = score_arrays(specs, data, exclusions=exclusions, reference=reference, medians=medians)
    lean = score_arrays(
        specs, data, exclusions=exclusions, reference=reference, medians=medians, keep_values=False
    )
    np.testing.assert_array_equal(lean.score, full.score)
    np.testing.assert_array_equal(lean.weights, full.weights)
    np.testing.assert_array_equal(lean.hit, full.hit)
    np.testing.assert_array_equal(lean.missing_exclude, full.missing_exclude)
    with pytest.raises(ValueError, match="not kept"):
        lean.values  # noqa: B018
    with pytest.raises(ValueError, match="not kept"):
        lean.contributions  # noqa: B018

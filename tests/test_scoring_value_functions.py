"""Value functions: behaviour on hand-checked inputs, reference arrays, and validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import ScoringConfigError, apply_value_function, value_function_from_dict
from scoring.value_functions import Boolean, Decay, Linear, Percentile, Steps, parse_value_function

NAN = float("nan")


def vf(**spec):
    return value_function_from_dict(spec)


def test_linear_explicit_bounds_clip_and_keep_nan():
    f = vf(type="linear", min=0, max=10, direction="higher")
    out = apply_value_function(f, np.array([-5, 0, 2.5, 10, 99, NAN]))
    np.testing.assert_allclose(out[:5], [0, 0, 0.25, 1, 1])
    assert math.isnan(out[5])
    g = vf(type="linear", min=0, max=10, direction="lower")
    np.testing.assert_allclose(apply_value_function(g, np.array([-5, 0, 2.5, 10, 99])), [1, 1, 0.75, 0, 0])


def test_linear_observed_range_and_degenerate():
    f = vf(type="linear", direction="higher")
    np.testing.assert_allclose(
        apply_value_function(f, np.array([2.0, 4.0, NAN, 6.0]))[[0, 1, 3]], [0, 0.5, 1]
    )
    # all equal -> 1.0 for both directions (documented)
    for d in ("higher", "lower"):
        out = apply_value_function(vf(type="linear", direction=d), np.array([3.0, 3.0, NAN]))
        assert out[0] == out[1] == 1.0 and math.isnan(out[2])
    # reference distribution instead of the values themselves (raster use)
    out = apply_value_function(f, np.array([[5.0, 15.0]]), reference=np.array([0.0, 10.0, NAN]))
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out, [[0.5, 1.0]])


def test_linear_one_explicit_bound_beyond_data_is_a_step():
    f = vf(type="linear", min=10, direction="higher")
    np.testing.assert_allclose(apply_value_function(f, np.array([1.0, 5.0])), [0.0, 0.0])
    g = vf(type="linear", min=10, direction="lower")
    np.testing.assert_allclose(apply_value_function(g, np.array([1.0, 5.0])), [1.0, 1.0])
    h = vf(type="linear", max=10, direction="higher")
    np.testing.assert_allclose(apply_value_function(h, np.array([0.0, 5.0])), [0.0, 0.5])


def test_percentile_average_rank():
    f = vf(type="percentile", direction="higher")
    out = apply_value_function(f, np.array([10.0, 20.0, 20.0, 30.0, NAN]))
    # ranks 1, 2.5, 2.5, 4 of n=4 -> (r-1)/3
    np.testing.assert_allclose(out[:4], [0.0, 0.5, 0.5, 1.0])
    assert math.isnan(out[4])
    g = vf(type="percentile", direction="lower")
    np.testing.assert_allclose(apply_value_function(g, np.array([10.0, 20.0, 30.0])), [1.0, 0.5, 0.0])
    assert apply_value_function(f, np.array([NAN, 7.0]))[1] == 1.0  # single value
    # against a reference: value equal to a reference member gets that member's percentile
    np.testing.assert_allclose(
        apply_value_function(f, np.array([20.0]), reference=np.array([10, 20, 30.0])), [0.5]
    )


def test_steps_searchsorted_right():
    f = vf(type="steps", breaks=[132, 275, 400], scores=[0.1, 0.5, 0.8, 1.0])
    out = apply_value_function(f, np.array([33, 132, 200, 275, 399.9, 400, 765, NAN]))
    np.testing.assert_allclose(out[:7], [0.1, 0.5, 0.5, 0.8, 0.8, 1.0, 1.0])
    assert math.isnan(out[7])


def test_decay_and_boolean():
    f = vf(type="decay", half_distance=10)
    np.testing.assert_allclose(apply_value_function(f, np.array([-3, 0, 10, 20])), [1, 1, 0.5, 0.25])
    b = vf(type="boolean")
    np.testing.assert_allclose(apply_value_function(b, np.array([1.0, 0.0])), [1.0, 0.0])
    b2 = vf(type="boolean", true_score=0.8, false_score=0.2)
    out = apply_value_function(b2, np.array([True, False, NAN], dtype=object).astype(float))
    np.testing.assert_allclose(out[:2], [0.8, 0.2])
    assert math.isnan(out[2])


def test_dataclass_constructors_validate_and_round_trip():
    assert Linear(direction="lower", min=0, max=1).to_dict() == {
        "type": "linear",
        "direction": "lower",
        "min": 0,
        "max": 1,
    }
    assert value_function_from_dict(Steps((1.0, 2.0), (0, 0.5, 1)).to_dict()) == Steps(
        (1.0, 2.0), (0, 0.5, 1)
    )
    with pytest.raises(ScoringConfigError):
        Decay(half_distance=0)
    with pytest.raises(ScoringConfigError):
        Linear(direction="up")
    with pytest.raises(ScoringConfigError):
        Steps(breaks=(2.0, 1.0), scores=(0, 0.5, 1))
    assert (
        Boolean().better == "higher" and Decay(1).better == "lower" and Percentile("lower").better == "lower"
    )


@pytest.mark.parametrize(
    "spec, expected",
    [
        (
            {"type": "linear", "min": 50, "max": 10, "direction": "lower"},
            ["W.max: must be > min (got min=50, max=10)"],
        ),
        ({"type": "linear", "min": 0, "max": 1}, ["W.direction: required"]),
        ({"type": "linear", "direction": "sideways"}, ["W.direction: must be 'higher' or 'lower'"]),
        ({"type": "linear", "direction": "higher", "mn": 0}, ["W.mn: unknown parameter"]),
        ({"type": "percentile", "direction": "higher", "min": 0}, ["W.min: unknown parameter"]),
        (
            {"type": "steps", "breaks": [1, 3, 2], "scores": [0, 0.5, 0.7, 1]},
            ["W.breaks: must be strictly increasing"],
        ),
        (
            {"type": "steps", "breaks": [1, 2], "scores": [0, 1]},
            ["W.scores: must have len(breaks) + 1 = 3 values (got 2)"],
        ),
        (
            {"type": "steps", "breaks": [1], "scores": [0, 1.5]},
            ["W.scores: every score must be a number in [0, 1]"],
        ),
        (
            {"type": "steps", "breaks": "1,2", "scores": [0, 1]},
            ["W.breaks: must be a list of finite numbers"],
        ),
        ({"type": "decay", "half_distance": -1}, ["W.half_distance: must be a number > 0 (got -1)"]),
        ({"type": "decay", "half_distance": "10"}, ["W.half_distance: must be a finite number"]),
        ({"type": "boolean", "true_score": 2}, ["W.true_score: must be a number in [0, 1] (got 2)"]),
        ({"type": "sigmoid"}, ["W.type: unknown value function type 'sigmoid'"]),
        ({"direction": "higher"}, ["W.type: missing"]),
        ("linear", ["W: must be a table"]),
        (
            {"type": "linear", "min": 5, "max": 1, "direction": "x", "foo": 1},
            ["W.foo: unknown parameter", "W.direction: must be", "W.max: must be > min"],
        ),
    ],
)
def test_value_function_validation_reports_every_problem(spec, expected):
    f, problems = parse_value_function(spec, "W")
    assert f is None
    assert len(problems) == len(expected), problems
    for want, got in zip(sorted(expected), sorted(problems)):
        assert got.startswith(want), (want, got)
    with pytest.raises(ScoringConfigError) as ei:
        value_function_from_dict(spec, "W")
    assert ei.value.problems == problems


finite = st.floats(-1e6, 1e6, allow_nan=False)
maybe = st.one_of(finite, st.just(NAN))
SPECS = [
    {"type": "linear", "direction": "higher"},
    {"type": "linear", "direction": "lower", "min": -10, "max": 10},
    {"type": "percentile", "direction": "higher"},
    {"type": "percentile", "direction": "lower"},
    {"type": "steps", "breaks": [-1, 0, 5], "scores": [1, 0.2, 0.7, 0]},
    {"type": "decay", "half_distance": 3.5},
    {"type": "boolean", "true_score": 0.25, "false_score": 0.75},
]


@settings(max_examples=60, deadline=None)
@given(st.lists(maybe, min_size=1, max_size=30), st.sampled_from(SPECS))
def test_outputs_in_unit_interval_and_nan_preserved(xs, spec):
    x = np.array(xs, dtype=float)
    out = apply_value_function(value_function_from_dict(spec), x)
    assert out.shape == x.shape
    assert np.array_equal(np.isnan(out), np.isnan(x))
    ok = out[~np.isnan(out)]
    assert ((ok >= 0) & (ok <= 1)).all()

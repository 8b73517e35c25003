"""The scoring kernel: criteria and exclusion conditions applied to 1-D indicator arrays.

One implementation of the arithmetic shared by the table engine (:func:`scoring.score`: one row per
region or site) and the raster surface (``growth_zones.surface``: one row per grid cell):

1. each criterion's value function maps its indicator to [0, 1]. Data-dependent functions (``linear``
   without ``min``/``max``, ``percentile``; see :func:`is_data_dependent`) use ``reference[indicator]``
   when given, otherwise the values themselves;
2. the criterion's missing rule handles rows whose indicator is missing (NaN): ``worst`` -> 0,
   ``neutral`` -> 0.5, ``median`` -> ``medians[name]`` when given, otherwise the median value over the
   rows that have one (0.5 if none do), ``renormalise`` -> the criterion is dropped for that row,
   ``exclude`` -> dropped and the row is flagged in ``missing_exclude``;
3. per row, the weights of the criteria still available are renormalised to sum to 1, contributions
   are weight x value and the score is their sum clipped to [0, 1] (NaN where no positively weighted
   criterion is available);
4. each exclusion condition gives ``hit`` (the condition holds) and ``unchecked`` (the indicator is
   missing, so the condition could not be evaluated; never a hit).

The kernel only computes numbers and masks. What they mean is up to the caller: the engine makes
excluded rows ineligible and writes reasons, the surface marks cells excluded or unknown.

Conditions go through :func:`evaluate_condition` (``(op, value, array) -> (hit, unknown)``), the one
place comparison operators are implemented. Non-compensatory gates (pass / fail / unknown on an
indicator, applied alongside the weighted sum) are meant to be a second list of conditions evaluated
by :func:`evaluate_conditions` in :func:`score_arrays`, with their own masks on :class:`KernelResult`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import ScoringConfigError
from .profile import MISSING_RULES, Profile
from .value_functions import Linear, Percentile, ValueFunction, apply_value_function

__all__ = [
    "OPS",
    "BoolArray",
    "FloatArray",
    "CriterionSpec",
    "ConditionSpec",
    "WeightedCriterion",
    "KernelResult",
    "as_float_array",
    "evaluate_condition",
    "evaluate_conditions",
    "is_data_dependent",
    "median_value",
    "score_arrays",
    "weighted_criteria",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Rows per block of the weighted sum: per-row results do not depend on it.
_BLOCK = 16384

#: Comparison operators allowed in exclusion conditions (``indicator <op> value``).
OPS: Final[Mapping[str, Callable[[Any, Any], Any]]] = MappingProxyType(
    {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
        "==": operator.eq,
        "!=": operator.ne,
    }
)


class CriterionSpec(Protocol):
    """What the kernel reads from a criterion (e.g. :class:`WeightedCriterion`).

    ``weight`` is the criterion's share before per-row renormalisation; only ratios matter, so a
    subset of a profile's criteria can keep the profile's effective weights.
    """

    @property
    def name(self) -> str: ...
    @property
    def indicator(self) -> str: ...
    @property
    def weight(self) -> float: ...
    @property
    def value_function(self) -> ValueFunction: ...
    @property
    def missing(self) -> str: ...


class ConditionSpec(Protocol):
    """What the kernel reads from an exclusion (e.g. :class:`scoring.Exclusion`)."""

    @property
    def name(self) -> str: ...
    @property
    def indicator(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def value(self) -> float | bool | str: ...


@dataclass(frozen=True)
class WeightedCriterion:
    """A criterion with the weight the kernel uses (a profile's effective weight)."""

    name: str
    indicator: str
    weight: float
    value_function: ValueFunction
    missing: str


def weighted_criteria(profile: Profile, names: Iterable[str] | None = None) -> tuple[WeightedCriterion, ...]:
    """``profile``'s criteria (in profile order) with their effective weights.

    ``names``: keep only these criteria; their weights stay the profile's (not renormalised).
    """
    keep = None if names is None else set(names)
    weights = profile.weights
    return tuple(
        WeightedCriterion(c.name, c.indicator, float(weights[c.name]), c.value_function, c.missing)
        for c in profile.criteria
        if keep is None or c.name in keep
    )


@dataclass(frozen=True)
class KernelResult:
    """Arrays computed by :func:`score_arrays` for ``n`` rows, ``k`` criteria and ``e`` exclusions.

    Columns of the ``(n, k)`` arrays follow ``criteria`` and of the ``(n, e)`` arrays ``exclusions``.
    """

    criteria: tuple[str, ...]
    exclusions: tuple[str, ...]
    #: (n, k) value-function values after the missing rule; NaN where the criterion is dropped.
    values: FloatArray
    #: (n, k) the criterion counts in this row (False where ``renormalise``/``exclude`` dropped it).
    available: BoolArray
    #: (n, k) the raw indicator value is missing (NaN), whatever the rule did with it.
    missing: BoolArray
    #: (n, k) weights renormalised over the available criteria of each row (0 elsewhere).
    weights: FloatArray
    #: (n, k) weights x values (0 for dropped criteria); NaN in rows that are not ``scorable``.
    contributions: FloatArray
    #: (n,) sum of the contributions clipped to [0, 1]; NaN where not ``scorable``.
    score: FloatArray
    #: (n,) at least one positively weighted criterion is available.
    scorable: BoolArray
    #: (k,) value filled in by the ``median`` rule (NaN if the rule did not apply).
    medians: FloatArray
    #: (n,) a criterion whose missing rule is ``exclude`` has no value in this row.
    missing_exclude: BoolArray
    #: (n, e) the exclusion condition holds.
    hit: BoolArray
    #: (n, e) the exclusion's indicator is missing, so the condition was not checked.
    unchecked: BoolArray

    @property
    def excluded(self) -> BoolArray:
        """(n,) some exclusion condition holds."""
        return np.asarray(self.hit.any(axis=1), dtype=bool)

    @property
    def any_unchecked(self) -> BoolArray:
        """(n,) some exclusion could not be checked."""
        return np.asarray(self.unchecked.any(axis=1), dtype=bool)


# ------------------------------------------------------------------------------------ helpers
def as_float_array(values: npt.ArrayLike) -> FloatArray:
    """``values`` as float64 (NaN = missing); boolean and numeric arrays are converted directly.

    Object arrays may hold numbers, booleans, ``None``, NaN or ``pd.NA``; text raises ValueError.
    """
    a = np.asarray(values)
    if a.dtype.kind in "biuf":
        return a.astype(np.float64, copy=False)
    if a.dtype.kind != "O":
        raise ValueError(f"not numeric (dtype {a.dtype})")
    out = np.empty(a.shape, dtype=np.float64)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1)):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            flat[i] = np.nan
        elif isinstance(v, str):
            raise ValueError(f"text value {v!r}")
        else:
            flat[i] = float(v)
    return out


def is_data_dependent(vf: ValueFunction) -> bool:
    """True for value functions whose output depends on a reference distribution."""
    return isinstance(vf, Percentile) or (isinstance(vf, Linear) and (vf.min is None or vf.max is None))


def _median_or_neutral(present: FloatArray) -> float:
    return float(np.median(present)) if present.size else 0.5


def median_value(vf: ValueFunction, values: npt.ArrayLike, reference: npt.ArrayLike | None = None) -> float:
    """The value the ``median`` rule fills in: median of ``vf`` over the non-missing ``values``
    (0.5 when there are none). ``reference`` as for :func:`scoring.apply_value_function`."""
    x = as_float_array(values)
    vals = apply_value_function(vf, x, reference)
    return _median_or_neutral(vals[~np.isnan(x)])


def evaluate_condition(
    op: str, value: float | bool | str, values: npt.ArrayLike
) -> tuple[BoolArray, BoolArray]:
    """``(hit, unknown)`` for ``values <op> value`` on a 1-D array.

    ``unknown``: the value is missing (NaN, None, pd.NA), so the condition could not be checked;
    ``hit`` is False there. A string ``value`` is compared with ``str(x)`` (use an object array); any
    other value numerically (booleans as 1 / 0).
    """
    try:
        fn = OPS[op]
    except KeyError:
        raise ValueError(f"unknown operator {op!r}; known: {' '.join(OPS)}") from None
    if isinstance(value, str):
        arr = np.asarray(values, dtype=object)
        unknown = np.asarray(pd.isna(arr), dtype=bool)
        hit = np.array(
            [(not u) and bool(fn(str(v), value)) for v, u in zip(arr, unknown, strict=True)], dtype=bool
        )
        return hit, unknown
    x = as_float_array(values)
    unknown = np.isnan(x)
    with np.errstate(invalid="ignore"):
        hit = fn(x, float(value)) & ~unknown
    return np.asarray(hit, dtype=bool), unknown


def evaluate_conditions(
    conditions: Sequence[ConditionSpec],
    data: Mapping[str, npt.ArrayLike],
    n: int,
    *,
    numeric: Mapping[str, FloatArray] | None = None,
) -> tuple[BoolArray, BoolArray]:
    """``(hit, unknown)``, each ``(n, len(conditions))``: :func:`evaluate_condition` per condition.

    ``numeric``: indicator -> float64 column already converted from ``data``, reused by the
    conditions with a numeric value.
    """
    hit = np.zeros((n, len(conditions)), dtype=bool)
    unknown = np.zeros((n, len(conditions)), dtype=bool)
    for m, e in enumerate(conditions):
        if numeric is not None and not isinstance(e.value, str) and e.indicator in numeric:
            src: npt.ArrayLike = numeric[e.indicator]
        else:
            src = _column(data, e.indicator, n)
        hit[:, m], unknown[:, m] = evaluate_condition(e.op, e.value, src)
    return hit, unknown


def _column(data: Mapping[str, npt.ArrayLike], indicator: str, n: int) -> npt.ArrayLike:
    try:
        a = data[indicator]
    except KeyError:
        raise KeyError(f"no array for indicator {indicator!r}") from None
    if np.shape(a) != (n,):
        raise ValueError(
            f"indicator {indicator!r}: expected a 1-D array of {n} values (got shape {np.shape(a)})"
        )
    return a


def _n_rows(
    criteria: Sequence[CriterionSpec], exclusions: Sequence[ConditionSpec], data: Mapping[str, npt.ArrayLike]
) -> int:
    for ind in [c.indicator for c in criteria] + [e.indicator for e in exclusions]:
        if ind in data:
            shape = np.shape(data[ind])
            if len(shape) != 1:
                raise ValueError(f"indicator {ind!r}: expected a 1-D array (got shape {shape})")
            return int(shape[0])
    return 0


# ------------------------------------------------------------------------------------- kernel
def score_arrays(
    criteria: Sequence[CriterionSpec],
    data: Mapping[str, npt.ArrayLike],
    *,
    exclusions: Sequence[ConditionSpec] = (),
    reference: Mapping[str, npt.ArrayLike] | None = None,
    medians: Mapping[str, float] | None = None,
) -> KernelResult:
    """Score ``n`` rows given as 1-D indicator arrays.

    ``criteria``: name, indicator, weight, value function and missing rule of each criterion (e.g.
    :func:`weighted_criteria`). ``data``: indicator -> 1-D array of ``n`` values, NaN = missing
    (numeric or boolean; object arrays are allowed, e.g. for string-valued exclusions).
    ``exclusions``: name, indicator, op and value of each exclusion condition.
    ``reference``: indicator -> distribution used by data-dependent value functions (default: the
    values being scored). ``medians``: criterion name -> value filled in by the ``median`` rule
    (default: the median value over the rows that have one).
    """
    n = _n_rows(criteria, exclusions, data)
    k = len(criteria)
    floats: dict[str, FloatArray] = {}

    def column(indicator: str) -> FloatArray:
        if indicator not in floats:
            floats[indicator] = as_float_array(_column(data, indicator, n))
        return floats[indicator]

    values = np.empty((n, k), dtype=np.float64)
    available = np.ones((n, k), dtype=bool)
    missing = np.zeros((n, k), dtype=bool)
    med_used = np.full(k, np.nan)
    missing_exclude = np.zeros(n, dtype=bool)
    for j, c in enumerate(criteria):
        raw = column(c.indicator)
        ref = None if reference is None else reference.get(c.indicator)
        vals = apply_value_function(c.value_function, raw, ref)
        miss = np.isnan(raw)
        missing[:, j] = miss
        if miss.any():
            rule = c.missing
            if rule == "worst":
                vals[miss] = 0.0
            elif rule == "neutral":
                vals[miss] = 0.5
            elif rule == "median":
                if medians is not None and c.name in medians:
                    med = float(medians[c.name])
                else:
                    med = _median_or_neutral(vals[~miss])
                vals[miss] = med
                med_used[j] = med
            elif rule in ("exclude", "renormalise"):
                available[:, j] = ~miss  # the value stays NaN
                if rule == "exclude":
                    missing_exclude |= miss
            else:
                raise ScoringConfigError(
                    [f"criteria.{c.name}.missing: unknown rule {rule!r}; known: {', '.join(MISSING_RULES)}"]
                )
        values[:, j] = vals

    w = np.array([float(c.weight) for c in criteria], dtype=np.float64)
    row_w = np.zeros((n, k), dtype=np.float64)
    contrib = np.empty((n, k), dtype=np.float64)
    score = np.empty(n, dtype=np.float64)
    scorable = np.empty(n, dtype=bool)
    for start in range(0, n, _BLOCK):  # row blocks keep the (rows, k) temporaries in cache
        rows = slice(start, min(start + _BLOCK, n))
        avail = available[rows]
        wa = np.where(avail, w, 0.0)
        den = wa.sum(axis=1)
        ok = den > 0
        np.divide(wa, den[:, None], out=row_w[rows], where=ok[:, None])
        np.multiply(row_w[rows], np.where(avail, values[rows], 0.0), out=contrib[rows])
        total = contrib[rows].sum(axis=1)
        np.clip(total, 0.0, 1.0, out=total)
        if not ok.all():
            contrib[rows][~ok] = np.nan
            total[~ok] = np.nan
        score[rows] = total
        scorable[rows] = ok

    for e in exclusions:
        if not isinstance(e.value, str):
            column(e.indicator)  # converted once, shared with the criteria
    hit, unchecked = evaluate_conditions(exclusions, data, n, numeric=floats)
    return KernelResult(
        criteria=tuple(c.name for c in criteria),
        exclusions=tuple(e.name for e in exclusions),
        values=values,
        available=available,
        missing=missing,
        weights=row_w,
        contributions=contrib,
        score=score,
        scorable=scorable,
        medians=med_used,
        missing_exclude=missing_exclude,
        hit=hit,
        unchecked=unchecked,
    )

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

5. each gate (a non-compensatory condition) gives ``gate_pass`` (the condition holds) and
   ``gate_unknown`` (the indicator is missing: never a pass); a row whose gate does neither fails it.
   Gates do not change the score: callers rank by gate status first;
6. each penalty (a designation tier other than ``exclude``) applies where its share indicator is
   above ``min_share``: a factor of ``amount`` (``flat``) or ``amount x share`` (``share``). The
   factors of a row add up (capped at 1) and the score becomes ``base x (1 - total)`` (never below 0); each
   penalty's contribution is ``-base x factor`` (scaled down when the cap binds), so contributions
   plus penalty contributions still sum to the score. A missing share is ``penalty_unknown``: the
   penalty cannot be applied (no factor), and its contribution is NaN, not zero, so the row never
   reads as checked and clear; the engine lists it as a tier that was not checked.

Conditions go through :func:`evaluate_condition` (``(op, value, array) -> (hit, unknown)``), the one
place comparison operators are implemented.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final, Protocol, TypeVar

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
    "PenaltySpec",
    "Penalty",
    "tier_penalties",
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


class PenaltySpec(Protocol):
    """What the kernel reads from a penalty (e.g. :class:`Penalty`)."""

    @property
    def name(self) -> str: ...
    @property
    def indicator(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def amount(self) -> float: ...
    @property
    def min_share(self) -> float: ...


@dataclass(frozen=True)
class Penalty:
    """A score penalty on a share indicator: ``mode`` "flat" (``amount``) or "share"
    (``amount x share``), applied where the share is above ``min_share``."""

    name: str
    indicator: str
    mode: str
    amount: float
    min_share: float = 0.0


def tier_penalties(profile: Profile) -> tuple[Penalty, ...]:
    """The penalties of a profile's designation tiers: ``exceptional`` -> flat, ``constraint`` ->
    by share (``exclude`` tiers are exclusions, see :func:`scoring.engine.tier_exclusions`)."""
    return tuple(
        Penalty(d.name, d.indicator, "flat" if d.tier == "exceptional" else "share", d.penalty, d.min_share)
        for d in profile.designations
        if d.tier != "exclude"
    )


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


@dataclass(frozen=True, eq=False)
class KernelResult:
    """What :func:`score_arrays` computed for ``n`` rows, ``k`` criteria and ``e`` exclusions.

    Columns of the ``(n, k)`` arrays follow ``criteria``, of the ``(n, e)`` arrays ``exclusions``.
    The ``(n, k)`` arrays (``values``, ``available``, ``missing``, ``weights``, ``contributions``)
    are assembled from per-criterion columns when first read: a caller that only needs the score
    (the surface, millions of cells per tile) never pays for them.
    """

    criteria: tuple[str, ...]
    exclusions: tuple[str, ...]
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
    #: per criterion: value column (None if not kept), availability column, raw-missing column, weight.
    value_columns: tuple[FloatArray, ...] | None = field(repr=False)
    available_columns: tuple[BoolArray, ...] = field(repr=False)
    missing_columns: tuple[BoolArray, ...] = field(repr=False)
    criterion_weights: tuple[float, ...] = field(repr=False)
    #: (n,) sum of the weights of the available criteria (what each row's weights are divided by).
    weight_total: FloatArray = field(repr=False)
    gates: tuple[str, ...] = ()
    #: (n, g) the gate's condition holds.
    gate_pass: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool), repr=False)
    #: (n, g) the gate's indicator is missing (unknown, never a pass).
    gate_unknown: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool), repr=False)
    penalties: tuple[str, ...] = ()
    #: (n,) the weighted sum before penalties (clipped to [0, 1]; NaN where not scorable).
    base_score: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    #: (n, p) the penalty applies (share above its minimum).
    penalty_hit: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool), repr=False)
    #: (n, p) the penalty's share indicator is missing.
    penalty_unknown: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool), repr=False)
    #: (n, p) each penalty's share of the base score taken off (after the cap at 1 in total).
    penalty_factor: FloatArray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    @property
    def n(self) -> int:
        return len(self.score)

    @cached_property
    def values(self) -> FloatArray:
        """(n, k) value-function values after the missing rule; NaN where the criterion is dropped."""
        return _stack(self._values(), self.n, np.float64)

    @cached_property
    def available(self) -> BoolArray:
        """(n, k) the criterion counts in this row (False where ``renormalise``/``exclude`` dropped it)."""
        return _stack(self.available_columns, self.n, np.bool_)

    @cached_property
    def missing(self) -> BoolArray:
        """(n, k) the raw indicator value is missing (NaN), whatever the rule did with it."""
        return _stack(self.missing_columns, self.n, np.bool_)

    @cached_property
    def weights(self) -> FloatArray:
        """(n, k) weights renormalised over the available criteria of each row (0 elsewhere)."""
        return _stack([self._weight_column(j) for j in range(len(self.criteria))], self.n, np.float64)

    @cached_property
    def contributions(self) -> FloatArray:
        """(n, k) weights x values (0 for dropped criteria); NaN in rows that are not ``scorable``."""
        cols = []
        for j in range(len(self.criteria)):
            col = self._weight_column(j)
            _contribution_in_place(col, self._values()[j], self.available_columns[j], self.scorable)
            cols.append(col)
        return _stack(cols, self.n, np.float64)

    def _values(self) -> tuple[FloatArray, ...]:
        if self.value_columns is None:
            raise ValueError("values were not kept: score_arrays(..., keep_values=False)")
        return self.value_columns

    def _weight_column(self, j: int) -> FloatArray:
        return _weight_column(
            self.available_columns[j], self.criterion_weights[j], self.weight_total, self.scorable
        )

    @property
    def gate_fail(self) -> BoolArray:
        """(n, g) the gate was checked and its condition does not hold."""
        return np.asarray(~self.gate_pass & ~self.gate_unknown, dtype=bool)

    @property
    def penalty_contributions(self) -> FloatArray:
        """(n, p) ``-base_score x factor``: what each penalty took off (0 where its share was checked
        and it does not apply; NaN where its share indicator is missing, so the designation was not
        checked: never shown as a zero penalty, and never counted as clear; NaN in rows that are not
        scorable). Contributions plus the non-NaN penalties sum to ``score``."""
        out: FloatArray = -self.base_score[:, None] * self.penalty_factor + 0.0  # + 0.0: no -0.0
        if self.penalty_unknown.size:
            out[self.penalty_unknown] = np.nan
        return out

    @property
    def penalty_multiplier(self) -> FloatArray:
        """(n,) ``score / base_score``: 1 minus the row's capped penalty total."""
        out: FloatArray = np.clip(1.0 - self.penalty_factor.sum(axis=1), 0.0, 1.0)
        return out

    @property
    def excluded(self) -> BoolArray:
        """(n,) some exclusion condition holds."""
        return np.asarray(self.hit.any(axis=1), dtype=bool)

    @property
    def any_unchecked(self) -> BoolArray:
        """(n,) some exclusion could not be checked."""
        return np.asarray(self.unchecked.any(axis=1), dtype=bool)


_T = TypeVar("_T", bound=np.generic)


def _stack(columns: Sequence[npt.NDArray[_T]], n: int, dtype: type[_T]) -> npt.NDArray[_T]:
    if not columns:
        return np.empty((n, 0), dtype=dtype)
    return np.stack(columns, axis=1)


def _weight_column(avail: BoolArray, weight: float, total: FloatArray, scorable: BoolArray) -> FloatArray:
    """One criterion's weight where it is available, 0 elsewhere, divided by the row's total weight
    (0 in rows that are not scorable). A new array."""
    if scorable.all():
        col = np.divide(weight, total)
    else:
        col = np.zeros_like(total)
        np.divide(weight, total, out=col, where=scorable)
    if not avail.all():
        col[~avail] = 0.0
    return col


def _contribution_in_place(
    col: FloatArray, values: FloatArray, avail: BoolArray, scorable: BoolArray
) -> None:
    """Turn a weight column into contributions: weight x value, 0 where the criterion is dropped (its
    value is NaN there), NaN in rows that are not scorable."""
    np.multiply(col, values, out=col)
    if not avail.all():
        col[~avail] = 0.0
    if not scorable.all():
        col[~scorable] = np.nan


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
    hit = np.zeros((n, len(conditions)), dtype=bool, order="F")
    unknown = np.zeros((n, len(conditions)), dtype=bool, order="F")
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
    criteria: Sequence[CriterionSpec], conditions: Iterable[str], data: Mapping[str, npt.ArrayLike]
) -> int:
    for ind in [c.indicator for c in criteria] + list(conditions):
        if ind in data:
            shape = np.shape(data[ind])
            if len(shape) != 1:
                raise ValueError(f"indicator {ind!r}: expected a 1-D array (got shape {shape})")
            return int(shape[0])
    return 0


class _PairwiseSum:
    """Row sums of an (n, k) matrix fed one column at a time, added in numpy's pairwise order, so the
    result is bit-identical to ``np.stack(columns, axis=1).sum(axis=1)`` without forming the matrix
    (numpy sums short rows slowly; k column additions are fast) and with at most eight partial sums
    alive. A column may have shape (1,) for a value shared by every row.

    numpy's order (``pairwise_sum`` in its loops): fewer than 8 terms in order; up to 128 terms as
    eight interleaved partial sums combined as a tree, then the remainder in order; more than 128
    terms as two halves (the first a multiple of 8) summed separately.
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self.seen = 0
        self.split: tuple[_PairwiseSum, _PairwiseSum] | None = None
        if k > 128:
            half = k // 2 - (k // 2) % 8
            self.split = (_PairwiseSum(half), _PairwiseSum(k - half))
        self.blocks_end = k - k % 8 if k >= 8 else 0  # columns [0, blocks_end) go to the partial sums
        self.parts: list[tuple[FloatArray, bool]] = []  # (partial sum, owned: may be updated in place)
        self.out: tuple[FloatArray, bool] | None = None

    def add(self, col: FloatArray, *, owned: bool = False) -> None:
        """Add the next column; ``owned``: the caller gives it up (it may be modified in place)."""
        i, self.seen = self.seen, self.seen + 1
        if self.split is not None:
            first, second = self.split
            (first if i < first.k else second).add(col, owned=owned)
        elif i < self.blocks_end:
            if i < 8:
                self.parts.append((col, owned))
            else:
                self.parts[i % 8] = _plus(self.parts[i % 8], col)
            if i + 1 == self.blocks_end:
                p = [part for part, _ in self.parts]
                self.out = (((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])), True)
                self.parts = []
        elif self.out is None:
            self.out = (col, owned)
        else:
            self.out = _plus(self.out, col)

    def result(self, n: int) -> FloatArray:
        """The (n,) sums, a new array (never one of the columns added without ``owned``)."""
        if self.seen != self.k:
            raise ValueError(f"pairwise sum of {self.k} columns got {self.seen}")
        if self.split is not None:
            out, owned = self.split[0].result(n) + self.split[1].result(n), True
        elif self.out is None:
            return np.zeros(n, dtype=np.float64)
        else:
            out, owned = self.out
        if out.shape != (n,):
            return np.full(n, out[0], dtype=np.float64)
        return out if owned else out.copy()


def _plus(acc: tuple[FloatArray, bool], col: FloatArray) -> tuple[FloatArray, bool]:
    total, owned = acc
    if owned and total.shape == np.broadcast_shapes(total.shape, col.shape):
        total += col
        return total, True
    return total + col, True


def _row_sums(columns: Sequence[FloatArray], n: int) -> FloatArray:
    """``np.stack(columns, axis=1).sum(axis=1)``, bit for bit, via :class:`_PairwiseSum`."""
    acc = _PairwiseSum(len(columns))
    for col in columns:
        acc.add(col)
    return acc.result(n)


# ------------------------------------------------------------------------------------- kernel
def score_arrays(
    criteria: Sequence[CriterionSpec],
    data: Mapping[str, npt.ArrayLike],
    *,
    exclusions: Sequence[ConditionSpec] = (),
    gates: Sequence[ConditionSpec] = (),
    penalties: Sequence[PenaltySpec] = (),
    reference: Mapping[str, npt.ArrayLike] | None = None,
    medians: Mapping[str, float] | None = None,
    keep_values: bool = True,
) -> KernelResult:
    """Score ``n`` rows given as 1-D indicator arrays.

    ``criteria``: name, indicator, weight, value function and missing rule of each criterion (e.g.
    :func:`weighted_criteria`). ``data``: indicator -> 1-D array of ``n`` values, NaN = missing
    (numeric or boolean; object arrays are allowed, e.g. for string-valued exclusions).
    ``exclusions``: name, indicator, op and value of each exclusion condition.
    ``reference``: indicator -> distribution used by data-dependent value functions (default: the
    values being scored). ``medians``: criterion name -> value filled in by the ``median`` rule
    (default: the median value over the rows that have one). ``keep_values``: keep each criterion's
    value column for ``values`` and ``contributions``; a caller that needs only the score and masks
    (the surface) passes False and saves k values per row. ``gates``: non-compensatory conditions
    (pass where they hold). ``penalties``: designation-tier penalties on share indicators (see the
    module docstring).
    """
    others = (
        [e.indicator for e in exclusions] + [g.indicator for g in gates] + [p.indicator for p in penalties]
    )
    n = _n_rows(criteria, others, data)
    k = len(criteria)
    floats: dict[str, FloatArray] = {}

    def column(indicator: str) -> FloatArray:
        if indicator not in floats:
            floats[indicator] = as_float_array(_column(data, indicator, n))
        return floats[indicator]

    # 1. which criteria count in which rows (rules "exclude" and "renormalise" drop missing values)
    available_cols: list[BoolArray] = []
    missing_cols: list[BoolArray] = []
    everywhere = np.ones(n, dtype=bool)  # shared by the criteria that keep every row
    missing_exclude = np.zeros(n, dtype=bool)
    for c in criteria:
        miss = np.isnan(column(c.indicator))
        avail = everywhere
        if miss.any():
            if c.missing in ("exclude", "renormalise"):
                avail = ~miss
                if c.missing == "exclude":
                    missing_exclude |= miss
            elif c.missing not in MISSING_RULES:
                known = ", ".join(MISSING_RULES)
                raise ScoringConfigError(
                    [f"criteria.{c.name}.missing: unknown rule {c.missing!r}; known: {known}"]
                )
        available_cols.append(avail)
        missing_cols.append(miss)

    # 2. each row's total weight over its available criteria. Row sums add in the order
    # ndarray.sum(axis=1) would (see _PairwiseSum) without forming (n, k) matrices.
    weights = tuple(float(c.weight) for c in criteria)
    acc = _PairwiseSum(k)
    for avail, w in zip(available_cols, weights, strict=True):
        acc.add(np.array([w]) if avail.all() else np.where(avail, w, 0.0), owned=True)
    total = acc.result(n)
    scorable = total > 0

    # 3. values (value function, then the missing rule) and contributions, one criterion at a time
    value_cols: list[FloatArray] = []
    med_used = np.full(k, np.nan)
    acc = _PairwiseSum(k)
    for j, c in enumerate(criteria):
        raw = column(c.indicator)
        ref = None if reference is None else reference.get(c.indicator)
        vals = apply_value_function(c.value_function, raw, ref)
        miss = missing_cols[j]
        if c.missing in ("worst", "neutral", "median") and miss.any():
            if c.missing == "worst":
                fill = 0.0
            elif c.missing == "neutral":
                fill = 0.5
            else:
                if medians is not None and c.name in medians:
                    fill = float(medians[c.name])
                else:
                    fill = _median_or_neutral(vals[~miss])
                med_used[j] = fill
            vals[miss] = fill
        # (dropped values stay NaN: the value function keeps NaN)
        col = _weight_column(available_cols[j], weights[j], total, scorable)
        _contribution_in_place(col, vals, available_cols[j], scorable)
        acc.add(col, owned=True)
        if keep_values:
            value_cols.append(vals)
        del vals, col
    score = acc.result(n)
    np.clip(score, 0.0, 1.0, out=score)
    score[~scorable] = np.nan

    for e in list(exclusions) + list(gates):
        if not isinstance(e.value, str):
            column(e.indicator)  # converted once, shared with the criteria
    hit, unchecked = evaluate_conditions(exclusions, data, n, numeric=floats)
    gate_pass, gate_unknown = evaluate_conditions(gates, data, n, numeric=floats)
    p_hit, p_unknown, p_factor = _penalties(penalties, column, n)
    base = score
    if penalties:
        score = base * np.clip(1.0 - p_factor.sum(axis=1), 0.0, 1.0)
    return KernelResult(
        criteria=tuple(c.name for c in criteria),
        exclusions=tuple(e.name for e in exclusions),
        score=score,
        scorable=scorable,
        medians=med_used,
        missing_exclude=missing_exclude,
        hit=hit,
        unchecked=unchecked,
        value_columns=tuple(value_cols) if keep_values else None,
        available_columns=tuple(available_cols),
        missing_columns=tuple(missing_cols),
        criterion_weights=weights,
        weight_total=total,
        gates=tuple(g.name for g in gates),
        gate_pass=gate_pass,
        gate_unknown=gate_unknown,
        penalties=tuple(p.name for p in penalties),
        base_score=base,
        penalty_hit=p_hit,
        penalty_unknown=p_unknown,
        penalty_factor=p_factor,
    )


def _penalties(
    penalties: Sequence[PenaltySpec], column: Callable[[str], FloatArray], n: int
) -> tuple[BoolArray, BoolArray, FloatArray]:
    """(hit, unknown, factor), each (n, p): factors capped so a row's total is at most 1."""
    p = len(penalties)
    hit = np.zeros((n, p), dtype=bool)
    unknown = np.zeros((n, p), dtype=bool)
    factor = np.zeros((n, p), dtype=np.float64)
    for j, pen in enumerate(penalties):
        if pen.mode not in ("flat", "share"):
            raise ScoringConfigError(
                [f"penalty {pen.name}: mode must be 'flat' or 'share' (got {pen.mode!r})"]
            )
        share = column(pen.indicator)
        unknown[:, j] = np.isnan(share)
        with np.errstate(invalid="ignore"):
            hit[:, j] = (share > pen.min_share) & ~unknown[:, j]
        amount = (
            np.full(n, float(pen.amount))
            if pen.mode == "flat"
            else float(pen.amount) * np.clip(share, 0.0, 1.0)
        )
        factor[:, j] = np.where(hit[:, j], amount, 0.0)
    if p:
        total = factor.sum(axis=1)
        over = total > 1.0
        if over.any():
            factor[over] /= total[over, None]
    return hit, unknown, factor

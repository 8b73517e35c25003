"""The scoring engine: indicators table + profile -> scores, ranks, contributions, explanations."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import ScoringConfigError
from .profile import Criterion, Exclusion, Profile
from .value_functions import apply_value_function

__all__ = ["ScoreResult", "score"]

# Scores are compared after rounding to this many decimals so that mathematically equal scores
# reached by different floating-point paths tie (and share a rank).
_RANK_DECIMALS = 12
# Ineligible rows are ranked on (score - _INELIGIBLE_OFFSET) so they fall after every eligible row.
_INELIGIBLE_OFFSET = 10.0
_NAN_KEY = -100.0

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass
class ScoreResult:
    """Result of :func:`score`.

    ``table`` columns: ``score``, ``rank``, ``eligible``, ``excluded_by``, ``missing``, then per
    criterion ``value_<name>`` and ``contrib_<name>``. ``weights`` are the profile's effective
    weights (before any per-row renormalisation). ``notes`` summarise missing data and exclusions.
    """

    table: pd.DataFrame
    weights: pd.Series
    profile: Profile
    notes: list[str] = field(default_factory=list)
    indicators: pd.DataFrame | None = field(default=None, repr=False)
    row_weights: pd.DataFrame | None = field(default=None, repr=False)

    def ranked(self) -> pd.DataFrame:
        """The table sorted by rank (best first)."""
        return self.table.sort_values(["rank", "score"], ascending=[True, False], kind="stable")

    def explain(self, id: Any, *, top: int = 5) -> str:
        """A short plain-English explanation of one row's score, rank and exclusions."""
        if id not in self.table.index:
            raise KeyError(f"{id!r} is not in the scored table")
        row = self.table.loc[id]
        n = len(self.table)
        prof = self.profile
        score_txt = "no score" if pd.isna(row["score"]) else f"score {row['score']:.3f}"
        status = "eligible" if row["eligible"] else "EXCLUDED"
        lines = [f"{id}: rank {int(row['rank'])} of {n}, {score_txt} ({status}) under profile '{prof.name}'."]
        if row["excluded_by"]:
            lines.append(f"Excluded because: {row['excluded_by']}.")
        items = []
        for c in prof.criteria:
            v = row[f"value_{c.name}"]
            contrib = row[f"contrib_{c.name}"]
            if pd.isna(v) or pd.isna(contrib):
                continue
            w_used = (
                float(self.row_weights.at[id, c.name])
                if self.row_weights is not None
                else float(self.weights[c.name])
            )
            raw = None
            if self.indicators is not None and c.indicator in self.indicators.columns:
                raw = self.indicators.at[id, c.indicator]
            items.append((c, float(v), float(contrib), w_used, raw))

        def desc(c: Criterion, v: float, raw: Any) -> str:
            label = c.label or c.name
            if raw is not None and not pd.isna(raw):
                rv = f"{raw:.3g}" if isinstance(raw, (float, np.floating)) else str(raw)
                label += f" = {rv}{(' ' + c.unit) if c.unit else ''}"
            return f"{label} (value {v:.2f})"

        best = sorted((t for t in items if t[2] > 0), key=lambda t: -t[2])[:top]
        if best:
            lines.append("Top contributions:")
            for c, v, contrib, _, raw in best:
                lines.append(f"  + {desc(c, v, raw)}: {contrib:.3f} of the score")
        # biggest shortfalls: weight that earned nothing
        short = sorted(
            ((c, v, w_used * (1 - v), raw) for c, v, _, w_used, raw in items if w_used > 0),
            key=lambda t: -t[2],
        )[:3]
        short = [t for t in short if t[2] > 1e-9]
        if short:
            lines.append("Held back most by:")
            for c, v, lost, raw in short:
                lines.append(f"  - {desc(c, v, raw)}: about {lost:.3f} below a perfect score")
        if row["missing"]:
            lines.append(f"Missing data: {row['missing']}.")
        return "\n".join(lines)


def _as_float(s: pd.Series) -> np.ndarray:
    """A numeric/boolean indicator column as float64 with NaN for missing; ValueError otherwise."""
    if s.dtype == object:
        out = np.empty(len(s), dtype=np.float64)
        for i, v in enumerate(s.to_numpy()):
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                out[i] = np.nan
            elif isinstance(v, str):
                raise ValueError(f"text value {v!r}")
            else:
                out[i] = float(v)
        return out
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.is_string_dtype(s.dtype):
        raise ValueError("text column")
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _competition_rank(key: np.ndarray) -> np.ndarray:
    """Row-wise competition ("min") ranks, 1 = highest key; works on (m, n) arrays (NaN-free)."""
    key = np.atleast_2d(key)
    m, n = key.shape
    order = np.argsort(-key, axis=1)
    ranks = np.empty((m, n), dtype=np.int32)
    rows = np.arange(m)[:, None]
    pos = np.arange(1, n + 1, dtype=np.int32)
    if n > 1:
        ks = np.take_along_axis(key, order, axis=1)
        tied = ks[:, 1:] == ks[:, :-1]
        if tied.any():
            start = np.broadcast_to(pos, (m, n)).copy()
            start[:, 1:][tied] = 0
            np.maximum.accumulate(start, axis=1, out=start)
            ranks[rows, order] = start
            return ranks
    ranks[rows, order] = pos
    return ranks


def _rank_key(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Ranking key: eligible rows by score, then ineligible rows by score, NaN last (new array)."""
    key = np.round(scores, _RANK_DECIMALS)
    eligible = np.broadcast_to(eligible, key.shape)
    if not eligible.all():
        key[~eligible] -= _INELIGIBLE_OFFSET
    nan = np.isnan(key)
    if nan.any():
        key[nan] = _NAN_KEY
    return key


@dataclass
class _Prepared:
    index: pd.Index
    values: np.ndarray  # (n, k) value-function outputs after the missing rule; NaN where dropped
    available: np.ndarray  # (n, k) bool: criterion counts for this row
    eligible: np.ndarray  # (n,) bool, before the "nothing to score" check
    excluded_by: list[list[str]]
    missing: list[list[str]]
    notes: list[str]
    frame: pd.DataFrame


def _reason_lookup(reasons: pd.DataFrame | None, index: pd.Index):
    if reasons is None:
        return lambda col, i: ""
    r = reasons.reindex(index)

    def get(col: str, i: int) -> str:
        if col not in r.columns:
            return ""
        v = r[col].iloc[i]
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        return str(v).strip()

    return get


def _prepare(indicators: pd.DataFrame, profile: Profile, reasons: pd.DataFrame | None) -> _Prepared:
    if not isinstance(indicators, pd.DataFrame):
        raise TypeError("indicators must be a pandas DataFrame (one row per id, one column per indicator)")
    if not isinstance(profile, Profile):
        raise TypeError("profile must be a scoring.Profile (see load_profile)")
    index = indicators.index
    if not index.is_unique:
        dups = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"indicators index must be unique; duplicated ids: {dups}")
    if reasons is not None and not isinstance(reasons, pd.DataFrame):
        raise TypeError("reasons must be a DataFrame indexed like indicators")

    problems = []
    for c in profile.criteria:
        if c.indicator not in indicators.columns:
            problems.append(f"indicators: no column {c.indicator!r} (needed by criteria.{c.name})")
    for e in profile.exclusions:
        if e.indicator not in indicators.columns:
            problems.append(f"indicators: no column {e.indicator!r} (needed by exclusion {e.name})")
    cols: dict[str, np.ndarray] = {}
    for c in profile.criteria:
        if c.indicator in indicators.columns and c.indicator not in cols:
            try:
                cols[c.indicator] = _as_float(indicators[c.indicator])
            except (TypeError, ValueError) as exc:
                problems.append(
                    f"indicators: column {c.indicator!r} must be numeric or boolean "
                    f"(dtype {indicators[c.indicator].dtype}; {exc})"
                )
    if problems:
        raise ScoringConfigError(problems, header=f"indicator table does not fit profile '{profile.name}'")

    n, k = len(index), len(profile.criteria)
    reason_of = _reason_lookup(reasons, index)
    values = np.empty((n, k), dtype=np.float64)
    available = np.ones((n, k), dtype=bool)
    eligible = np.ones(n, dtype=bool)
    excluded_by: list[list[str]] = [[] for _ in range(n)]
    missing: list[list[str]] = [[] for _ in range(n)]
    notes: list[str] = []

    for j, c in enumerate(profile.criteria):
        raw = cols[c.indicator]
        vals = apply_value_function(c.value_function, raw)
        miss = np.isnan(raw)
        nm = int(miss.sum())
        vf = c.value_function
        if getattr(vf, "type", "") == "linear" and (vf.min is None or vf.max is None) and nm < n:
            fin = raw[np.isfinite(raw)]
            if fin.size:
                lo = vf.min if vf.min is not None else float(fin.min())
                hi = vf.max if vf.max is not None else float(fin.max())
                notes.append(f"{c.name}: linear range [{lo:.6g}, {hi:.6g}] taken from the observed data")
        if nm:
            rule = c.missing
            what = c.indicator if c.indicator == c.name else f"{c.indicator} (criterion {c.name})"
            detail = ""
            if rule == "worst":
                vals[miss] = 0.0
                treat = "scored worst (0)"
            elif rule == "neutral":
                vals[miss] = 0.5
                treat = "scored neutral (0.5)"
            elif rule == "median":
                present = vals[~miss]
                if present.size:
                    med = float(np.median(present))
                    detail = f" (median value {med:.3f})"
                else:
                    med = 0.5
                    detail = " (no row has a value, so the median rule fell back to neutral 0.5)"
                vals[miss] = med
                treat = f"scored median ({med:.3f})"
            elif rule == "exclude":
                available[miss, j] = False
                eligible[miss] = False
                treat = "row excluded"
            elif rule == "renormalise":
                available[miss, j] = False
                treat = "dropped; remaining weights renormalised"
            else:  # pragma: no cover - validated at load time
                raise ScoringConfigError([f"criteria.{c.name}.missing: unknown rule {rule!r}"])
            for i in np.flatnonzero(miss):
                why = reason_of(c.indicator, i)
                missing[i].append(f"{c.name} missing{f' ({why})' if why else ''}: {treat}")
                if rule == "exclude":
                    excluded_by[i].append(f"{c.name}: missing ({why or 'no value'})")
            notes.append(f"{nm} row{'s' if nm != 1 else ''} missing {what}: scored by rule '{rule}'{detail}")
        vals[~available[:, j]] = np.nan
        values[:, j] = vals

    for e in profile.exclusions:
        hit, unchecked = _evaluate_exclusion(indicators[e.indicator], e)
        eligible &= ~hit
        for i in np.flatnonzero(hit):
            excluded_by[i].append(e.reason)
        for i in np.flatnonzero(unchecked):
            why = reason_of(e.indicator, i)
            missing[i].append(
                f"exclusion {e.name} not checked: {e.indicator} missing{f' ({why})' if why else ''}"
            )
        nh, nu = int(hit.sum()), int(unchecked.sum())
        if nh:
            notes.append(f"{nh} row{'s' if nh != 1 else ''} excluded by {e.name}: {e.reason}")
        if nu:
            notes.append(
                f"exclusion {e.name} not checked for {nu} row{'s' if nu != 1 else ''}: {e.indicator} missing"
            )
    return _Prepared(index, values, available, eligible, excluded_by, missing, notes, indicators)


def _evaluate_exclusion(col: pd.Series, e: Exclusion) -> tuple[np.ndarray, np.ndarray]:
    """(excluded, not_checked) boolean arrays for one exclusion rule."""
    op = _OPS[e.op]
    if isinstance(e.value, str):
        arr = col.to_numpy(dtype=object)
        unchecked = np.asarray(pd.isna(col), dtype=bool)
        hit = np.array([(not u) and bool(op(str(v), e.value)) for v, u in zip(arr, unchecked)], dtype=bool)
        return hit, unchecked
    try:
        x = _as_float(col)
    except (TypeError, ValueError) as exc:
        raise ScoringConfigError(
            [f"indicators: column {e.indicator!r} must be numeric or boolean for exclusion {e.name} ({exc})"]
        ) from None
    unchecked = np.isnan(x)
    with np.errstate(invalid="ignore"):
        hit = op(x, float(e.value)) & ~unchecked
    return np.asarray(hit, dtype=bool), unchecked


def _finish(p: _Prepared, profile: Profile) -> ScoreResult:
    w = profile.weights.to_numpy(dtype=np.float64)
    n = len(p.index)
    wa = np.where(p.available, w[None, :], 0.0)
    den = wa.sum(axis=1)
    scorable = den > 0
    row_w = np.divide(wa, den[:, None], out=np.zeros_like(wa), where=scorable[:, None])
    contrib = row_w * np.where(p.available, p.values, 0.0)
    contrib[~scorable] = np.nan
    scores = contrib.sum(axis=1)
    scores = np.where(scorable, np.clip(scores, 0.0, 1.0), np.nan)
    eligible = p.eligible & scorable
    notes = list(p.notes)
    n_unscorable = int((~scorable).sum())
    for i in np.flatnonzero(~scorable):
        p.excluded_by[i].append("no positively weighted criterion has a value (all dropped by missing rules)")
    if n_unscorable:
        notes.append(f"{n_unscorable} row(s) could not be scored: every weighted criterion was dropped")
    ranks = _competition_rank(_rank_key(scores, eligible))[0]

    data: dict[str, Any] = {
        "score": scores,
        "rank": ranks.astype(np.int64),
        "eligible": eligible,
        "excluded_by": ["; ".join(x) for x in p.excluded_by],
        "missing": ["; ".join(x) for x in p.missing],
    }
    for j, c in enumerate(profile.criteria):
        data[f"value_{c.name}"] = p.values[:, j]
        data[f"contrib_{c.name}"] = contrib[:, j]
    table = pd.DataFrame(data, index=p.index)
    n_ex = int((~eligible).sum())
    if n_ex:
        notes.append(f"{n_ex} of {n} rows ineligible; ranked after all {n - n_ex} eligible rows")
    cols = list(dict.fromkeys(profile.indicators))
    return ScoreResult(
        table=table,
        weights=profile.weights,
        profile=profile,
        notes=notes,
        indicators=p.frame[[c for c in cols if c in p.frame.columns]],
        row_weights=pd.DataFrame(row_w, index=p.index, columns=[c.name for c in profile.criteria]),
    )


def score(indicators: pd.DataFrame, profile: Profile, *, reasons: pd.DataFrame | None = None) -> ScoreResult:
    """Score and rank every row of ``indicators`` under ``profile``.

    ``indicators``: unique index (region code / application id), one numeric or boolean column per
    indicator, NaN = missing. ``reasons``: optional frame (same index, indicator columns) with the
    text reason a value is missing. Data-dependent value functions (observed-range linear,
    percentile) and the ``median`` rule use all rows passed in, including excluded ones.
    """
    return _finish(_prepare(indicators, profile, reasons), profile)

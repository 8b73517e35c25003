"""Weight-sensitivity analysis: how stable is each row's rank when the weights wobble?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .engine import (
    GATE_ORDER,
    _check_inputs,
    _competition_rank,
    _finish,
    _kernel,
    _prepare,
    _rank_key,
    eligibility_and_ranks,
    gate_status,
    rank_groups,
)
from .kernel import evaluate_condition
from .profile import Profile

__all__ = ["sensitivity", "gate_sensitivity", "switch_off", "SwitchOff", "GATE_FACTORS"]

GATE_FACTORS = (0.5, 0.75, 1.25, 1.5)
"""Gate thresholds are moved by -50%, -25%, +25% and +50%."""

_CHUNK = 2048  # draws per matrix product (fixed so results do not depend on memory)


def _rank_quantiles(counts: npt.NDArray[np.int64], qs: Sequence[float]) -> npt.NDArray[np.intp]:
    """Inverted-CDF quantiles (numpy ``method="inverted_cdf"``) of each row's rank histogram.

    ``counts[i, r]`` = draws in which row i had rank r. The q-quantile is the smallest rank r with
    cumulative count >= q * n_draws (at least 1 draw).
    """
    cum = np.cumsum(counts, axis=1)
    total = cum[:, -1:]
    out = []
    for q in qs:
        need = np.maximum(np.ceil(q * total - 1e-9), 1)
        out.append(np.argmax(cum >= need, axis=1))
    return np.asarray(out)


def sensitivity(
    indicators: pd.DataFrame,
    profile: Profile,
    *,
    n_draws: int = 1000,
    concentration: float = 50.0,
    seed: int = 0,
    top_n: int = 10,
    reasons: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rank distribution under Dirichlet-perturbed weights.

    Weights are drawn from Dirichlet(alpha = effective_weights * concentration) with
    ``numpy.random.default_rng(seed)``; zero-weight criteria stay 0. Larger ``concentration`` means
    draws closer to the profile's weights. Values, missing rules and exclusions are computed once
    (they do not depend on the weights); each draw's scores are one matrix product, renormalised
    per row where the ``renormalise`` rule dropped criteria, then multiplied by each row's
    designation-penalty factor. Rows keep their deliverability group (gates pass, unknown, fail;
    ineligible last) in every draw, exactly as in :func:`scoring.score`: gates do not depend on
    weights.

    Returns a frame indexed like ``indicators`` with ``rank`` (deterministic), ``eligible``,
    ``rank_p05``, ``rank_p50``, ``rank_p95`` (observed ranks, inverted-CDF quantiles),
    ``rank_mean`` and ``p_top{top_n}`` (share of draws ranked <= top_n; always 0 for ineligible
    rows, which cannot be "top" even when fewer than top_n rows are eligible).
    """
    if int(n_draws) < 1:
        raise ValueError(f"n_draws must be >= 1 (got {n_draws})")
    if not (np.isfinite(concentration) and concentration > 0):
        raise ValueError(f"concentration must be a finite number > 0 (got {concentration})")
    if int(top_n) < 1:
        raise ValueError(f"top_n must be >= 1 (got {top_n})")
    n_draws, top_n = int(n_draws), int(top_n)

    prep = _prepare(indicators, profile, reasons, context)
    base = _finish(prep, profile)
    eligible = base.table["eligible"].to_numpy(dtype=bool)
    groups = rank_groups(eligible, gate_status(prep.kernel))
    multiplier = prep.kernel.penalty_multiplier if prep.kernel.penalties else None
    w = base.weights.to_numpy(dtype=np.float64)
    pos = w > 0
    avail = prep.available[:, pos].astype(np.float64)  # (n, kp)
    vals = np.where(prep.available, prep.values, 0.0)[:, pos] * avail  # (n, kp)
    need_den = not bool(prep.available[:, pos].all())
    alpha = w[pos] * float(concentration)
    n = len(prep.index)
    rng = np.random.default_rng(seed)

    # counts[i, r] = number of draws in which row i has rank r (1..n): no (n_draws x n) array kept
    counts = np.zeros((n, n + 1), dtype=np.int64)
    flat_offset = (np.arange(n, dtype=np.int64) * (n + 1))[None, :]
    vt, at = np.ascontiguousarray(vals.T), np.ascontiguousarray(avail.T)
    for start in range(0, n_draws, _CHUNK):
        m = min(_CHUNK, n_draws - start)
        if alpha.size == 1:
            wd = np.ones((m, 1))
        else:
            wd = rng.dirichlet(alpha, size=m)  # (m, kp)
        s = wd @ vt  # (m, n): one matrix product per chunk
        if need_den:
            d = wd @ at
            s = np.divide(s, d, out=np.full_like(s, np.nan), where=d > 0)
        np.clip(s, 0.0, 1.0, out=s)
        if multiplier is not None:
            s = s * multiplier[None, :]
        r = _competition_rank(_rank_key(s, groups[None, :]))
        counts += np.bincount((r + flat_offset).ravel(), minlength=n * (n + 1)).reshape(n, n + 1)

    q = _rank_quantiles(counts, (0.05, 0.5, 0.95))
    rank_values = np.arange(n + 1, dtype=np.float64)
    out = pd.DataFrame(
        {
            "rank": base.table["rank"].to_numpy(),
            "eligible": eligible,
            "rank_p05": q[0].astype(np.int64),
            "rank_p50": q[1].astype(np.int64),
            "rank_p95": q[2].astype(np.int64),
            "rank_mean": (counts @ rank_values) / n_draws,
            f"p_top{top_n}": np.where(eligible, counts[:, 1 : top_n + 1].sum(axis=1) / n_draws, 0.0),
        },
        index=prep.index,
    )
    return out


@dataclass
class SwitchOff:
    """The ranking with each policy/boolean criterion switched off in turn (see :func:`switch_off`).

    ``scores`` / ``ranks``: one column per switched criterion (``score_without_<c>`` /
    ``rank_without_<c>``), indexed like the indicators. ``base_rank``: the profile's own ranks.
    ``summary``: per criterion, its effective weight, the rows entering and leaving the top
    ``top_n`` (id, rank with, rank without) and the largest rank changes.
    """

    criteria: list[str]
    top_n: int
    base_rank: pd.Series
    scores: pd.DataFrame
    ranks: pd.DataFrame
    summary: list[dict[str, Any]] = field(default_factory=list)


def _top(ranks: npt.NDArray[np.int64], eligible: npt.NDArray[np.bool_], top_n: int) -> npt.NDArray[np.bool_]:
    out: npt.NDArray[np.bool_] = eligible & (ranks <= top_n)
    return out


def switch_off(
    indicators: pd.DataFrame,
    profile: Profile,
    *,
    criteria: Sequence[str] | None = None,
    top_n: int = 10,
    reasons: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
) -> SwitchOff:
    """Re-rank with each criterion of ``criteria`` switched off, one at a time.

    Default ``criteria``: every criterion that is ``switchable`` (declared ``policy = true`` or
    scored by a boolean value function, e.g. the electricity discount area). Switching a criterion
    off is :meth:`Profile.without`: its section keeps its weight and the section's other criteria
    share it; a section left empty drops out and the other sections are rescaled. Value functions,
    missing rules and exclusions do not depend on the weights, so they are computed once and each
    switch is a weighted sum with the new weights (a row whose ``exclude``-rule criterion was the
    one switched off becomes eligible again, as it would in a re-score). Gates and designation
    penalties do not depend on the weights either: rows keep their deliverability group and their
    penalty multiplier, exactly as :func:`scoring.score` ranks them.
    """
    if int(top_n) < 1:
        raise ValueError(f"top_n must be >= 1 (got {top_n})")
    top_n = int(top_n)
    names = [c.name for c in profile.criteria]
    chosen = [c.name for c in profile.criteria if c.switchable] if criteria is None else list(criteria)
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise ValueError(f"switch_off: unknown criteria {unknown}; known: {', '.join(names)}")

    prep = _prepare(indicators, profile, reasons, context)
    base = _finish(prep, profile)
    base_rank = base.table["rank"].to_numpy(dtype=np.int64)
    base_eligible = base.table["eligible"].to_numpy(dtype=bool)
    k = prep.kernel
    status = gate_status(k)
    multiplier = k.penalty_multiplier if k.penalties else None
    avail = k.available
    vals = np.where(avail, k.values, 0.0)
    rules = np.array([c.missing for c in profile.criteria], dtype=object)
    miss_excl = k.missing & (rules == "exclude")[None, :]
    weights = profile.weights
    base_top = _top(base_rank, base_eligible, top_n)
    index = prep.index

    scores: dict[str, npt.NDArray[np.float64]] = {}
    ranks: dict[str, npt.NDArray[np.int64]] = {}
    summary: list[dict[str, Any]] = []
    for name in chosen:
        reduced = profile.without(name).weights
        w = np.array([float(reduced.get(n, 0.0)) for n in names], dtype=np.float64)
        den = (avail * w[None, :]).sum(axis=1)
        num = (vals * w[None, :]).sum(axis=1)
        scorable = den > 0
        s = np.full(len(index), np.nan)
        np.divide(num, den, out=s, where=scorable)
        np.clip(s, 0.0, 1.0, out=s)
        if multiplier is not None:
            s = s * multiplier
        j = names.index(name)
        others = np.ones(len(names), dtype=bool)
        others[j] = False
        eligible = ~k.excluded & ~miss_excl[:, others].any(axis=1) & scorable
        r = _competition_rank(_rank_key(s, rank_groups(eligible, status)))[0].astype(np.int64)
        scores[name], ranks[name] = s, r
        top = _top(r, eligible, top_n)

        def rows(mask: npt.NDArray[np.bool_], r_off: npt.NDArray[np.int64] = r) -> list[dict[str, Any]]:
            pos = np.flatnonzero(mask)
            pos = pos[np.argsort(r_off[pos], kind="stable")]
            return [{"id": index[i], "rank": int(base_rank[i]), "rank_without": int(r_off[i])} for i in pos]

        change = r - base_rank
        moved = np.flatnonzero(base_top | top)
        summary.append(
            {
                "criterion": name,
                "label": profile.criterion(name).label or name,
                "weight": float(weights[name]),
                "top_n": top_n,
                "entered": rows(top & ~base_top),
                "left": rows(base_top & ~top),
                "top_without": rows(top),
                "max_rank_change": int(np.abs(change).max()) if len(change) else 0,
                "mean_abs_rank_change": float(np.abs(change).mean()) if len(change) else 0.0,
                "top_rows_changed": int((change[moved] != 0).sum()),
            }
        )
    return SwitchOff(
        criteria=chosen,
        top_n=top_n,
        base_rank=pd.Series(base_rank, index=index, name="rank"),
        scores=pd.DataFrame({f"score_without_{c}": v for c, v in scores.items()}, index=index),
        ranks=pd.DataFrame({f"rank_without_{c}": v for c, v in ranks.items()}, index=index),
        summary=summary,
    )


def gate_sensitivity(
    indicators: pd.DataFrame,
    profile: Profile,
    *,
    factors: Sequence[float] = GATE_FACTORS,
    top_n: int = 10,
    reasons: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How the deliverable count and the top ``top_n`` change when each gate threshold moves.

    For every gate with a numeric, non-zero threshold and every factor, the profile is re-scored
    with that one threshold multiplied by the factor. One row per (gate, factor): ``threshold``,
    the counts of rows that ``pass`` / are ``unknown`` / ``fail`` every gate (eligible rows only),
    ``top_changed`` (how many of the top ``top_n`` ids differ from the profile's own), ``entered``
    and ``left`` (those ids, "; "-joined). A first row per gate (factor 1.0) gives the baseline.
    Boolean or zero thresholds cannot be scaled and get one row saying so (``note``).

    Gates are non-compensatory: a threshold changes which rows pass, never a score, an exclusion
    or a penalty. So the profile is prepared once and each variant re-evaluates one gate column
    and re-ranks (the same ranking as :func:`scoring.score` of the changed profile, which
    ``tests/test_scoring_gates_tiers.py`` checks).
    """
    # only numbers are needed: the kernel, eligibility and ranks, without the reason texts that
    # score() builds for every row (``reasons`` and ``context`` only feed those texts)
    _check_inputs(indicators, profile, reasons)
    data, k = _kernel(indicators, profile)
    eligible, base_ranks = eligibility_and_ranks(k)
    positions = np.arange(k.n)
    index = indicators.index

    def top_of(ranks: npt.NDArray[np.int64]) -> list[Any]:
        return list(index[np.lexsort((positions, ranks))[:top_n]])  # sort_values("rank", stable)

    def counts_of(status: npt.NDArray[np.int_]) -> dict[str, int]:
        if not profile.gates:
            return {g: 0 for g in GATE_ORDER}
        return {g: int((status[eligible] == i).sum()) for i, g in enumerate(GATE_ORDER)}

    base_status = gate_status(k)
    base_top = top_of(base_ranks)
    base_counts = counts_of(base_status)
    rows = []
    for j, g in enumerate(profile.gates):
        if isinstance(g.value, bool) or g.value == 0:
            rows.append(
                {
                    "gate": g.name,
                    "factor": np.nan,
                    "threshold": g.value,
                    **base_counts,
                    "top_changed": 0,
                    "entered": "",
                    "left": "",
                    "note": "threshold is boolean or zero: not scaled",
                }
            )
            continue
        rows.append(
            {
                "gate": g.name,
                "factor": 1.0,
                "threshold": float(g.value),
                **base_counts,
                "top_changed": 0,
                "entered": "",
                "left": "",
                "note": "profile threshold",
            }
        )
        values = data[g.indicator]
        for f in factors:
            value = float(g.value) * float(f)
            changed = next(x for x in profile.with_gates({g.name: value}).gates if x.name == g.name)
            gate_pass, gate_unknown = k.gate_pass.copy(), k.gate_unknown.copy()
            gate_pass[:, j], gate_unknown[:, j] = evaluate_condition(changed.op, changed.value, values)
            status = np.zeros(k.n, dtype=np.int_)
            status[gate_unknown.any(axis=1)] = 1
            status[(~gate_pass & ~gate_unknown).any(axis=1)] = 2
            ranks = _competition_rank(_rank_key(k.score, rank_groups(eligible, status)))[0]
            top = top_of(ranks.astype(np.int64))
            entered = [str(i) for i in top if i not in base_top]
            left = [str(i) for i in base_top if i not in top]
            rows.append(
                {
                    "gate": g.name,
                    "factor": float(f),
                    "threshold": value,
                    **counts_of(status),
                    "top_changed": len(entered),
                    "entered": "; ".join(entered),
                    "left": "; ".join(left),
                    "note": "",
                }
            )
    cols = ["gate", "factor", "threshold", *GATE_ORDER, "top_changed", "entered", "left", "note"]
    return pd.DataFrame(rows, columns=cols)

"""The scoring engine: indicators table + profile -> scores, ranks, contributions, explanations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import ScoringConfigError
from .kernel import (
    BoolArray,
    FloatArray,
    KernelResult,
    as_float_array,
    score_arrays,
    tier_penalties,
    weighted_criteria,
)
from .profile import Criterion, DesignationTier, Exclusion, Gate, Profile
from .value_functions import Linear

__all__ = ["ScoreResult", "score", "ELIGIBILITY", "GATE_ORDER", "RANKING_RULE", "tier_exclusions"]

ELIGIBILITY = ("eligible", "excluded", "unknown")
"""The three values of ``eligibility``: no hard exclusion applies and every one was checked; some
hard exclusion applies; none applies but some could not be checked (named in
``exclusions_not_checked``), so the row is *not fully checked*, never simply eligible."""

GATE_ORDER = ("pass", "unknown", "fail")
"""Deliverability in ranking order: rows that pass every gate, then rows with a gate that could not
be checked, then rows that fail a gate; hard-excluded rows come after all of them."""
RANKING_RULE = (
    "Rows are ranked by deliverability first (every gate passed, then some gate unknown, then some "
    "gate failed; hard exclusions last) and by score within each group; scores stay visible for "
    "every row."
)

# Scores are compared after rounding to this many decimals so that mathematically equal scores
# reached by different floating-point paths tie (and share a rank).
_RANK_DECIMALS = 12
# Ineligible rows are ranked on (score - _INELIGIBLE_OFFSET) so they fall after every eligible row.
_INELIGIBLE_OFFSET = 10.0
_NAN_KEY = -100.0


@dataclass
class ScoreResult:
    """Result of :func:`score`.

    ``table`` columns: ``rank``, then (profiles with gates) ``deliverable`` (pass / unknown /
    fail) and ``gate_reasons``, ``score``, ``eligibility`` (eligible / excluded / unknown: see
    :data:`ELIGIBILITY`), ``eligible`` (bool: no hard exclusion applies), ``excluded_by``,
    ``exclusions_not_checked`` (the hard exclusions that could not be checked), (profiles with
    designation tiers) ``designation_flags``, ``missing``, one ``gate_<name>`` status per gate,
    per section ``section_<name>`` (the sum of its criteria's contributions), per criterion
    ``value_<name>`` and ``contrib_<name>``, and per penalised designation ``penalty_<name>``
    (<= 0; NaN where the designation could not be checked: no penalty could be applied, so the
    score is an upper bound and the tier is listed in ``missing``, never shown as a zero penalty):
    contributions (or sections) plus the known penalties sum to ``score``. ``weights`` are the
    profile's effective weights (before any per-row renormalisation). ``notes`` summarise missing
    data, gates, tiers and exclusions.
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
        status = {"excluded": "EXCLUDED", "unknown": "not fully checked"}.get(
            str(row.get("eligibility", "")), "eligible" if row["eligible"] else "EXCLUDED"
        )
        lines = [f"{id}: rank {int(row['rank'])} of {n}, {score_txt} ({status}) under profile '{prof.name}'."]
        if "deliverable" in row.index:
            lines.append(f"Deliverability gates: {row['deliverable']}.")
            if row["gate_reasons"]:
                lines.append(f"  {row['gate_reasons']}.")
        if row["excluded_by"]:
            lines.append(f"Excluded because: {row['excluded_by']}.")
        if row.get("exclusions_not_checked"):
            lines.append(f"Hard exclusions not checked (missing data): {row['exclusions_not_checked']}.")
        if "designation_flags" in row.index and row["designation_flags"]:
            lines.append(f"Designations: {row['designation_flags']}.")
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


def _as_float(s: pd.Series) -> FloatArray:
    """A numeric/boolean indicator column as float64 with NaN for missing; ValueError otherwise."""
    if s.dtype == object:
        return as_float_array(s.to_numpy())
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.is_string_dtype(s.dtype):
        raise ValueError("text column")
    out: FloatArray = s.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _competition_rank(key: FloatArray) -> npt.NDArray[np.int32]:
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


def _rank_key(scores: FloatArray, group: npt.NDArray[np.int_]) -> FloatArray:
    """Ranking key (new array): rows by ``group`` (0 first: see :func:`rank_groups`), by score
    within a group, NaN scores last of all."""
    key = np.round(scores, _RANK_DECIMALS)
    group = np.broadcast_to(group, key.shape)
    if group.any():
        key -= _INELIGIBLE_OFFSET * group
    nan = np.isnan(key)
    if nan.any():
        key[nan] = _NAN_KEY
    return key


def rank_groups(eligible: BoolArray, deliverable: npt.NDArray[np.int_] | None = None) -> npt.NDArray[np.int_]:
    """0 / 1 / 2 for eligible rows whose gates pass / are unknown / fail (all 0 without gates),
    3 for ineligible rows."""
    group = np.zeros(len(eligible), dtype=np.int_) if deliverable is None else deliverable.astype(np.int_)
    return np.where(eligible, group, len(GATE_ORDER))


def gate_status(k: KernelResult) -> npt.NDArray[np.int_]:
    """(n,) index into :data:`GATE_ORDER`: 2 if any gate fails, else 1 if any is unknown, else 0."""
    status = np.zeros(k.n, dtype=np.int_)
    if k.gates:
        status[k.gate_unknown.any(axis=1)] = 1
        status[k.gate_fail.any(axis=1)] = 2
    return status


def tier_exclusions(profile: Profile) -> tuple[Exclusion, ...]:
    """Hard exclusions from the profile's ``exclude`` designation tiers (share above min_share)."""
    return tuple(
        Exclusion(
            f"tier_{d.name}",
            d.indicator,
            ">",
            d.min_share,
            f"inside {d.label}: excluded by the profile's 'exclude' tier (planning test: {d.policy_test})",
        )
        for d in profile.designations
        if d.tier == "exclude"
    )


def _fmt_value(v: float) -> str:
    return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _gate_fail_text(g: Gate, value: float) -> str:
    if g.fail_reason:
        body = g.fail_reason.format(value=value)
    else:
        body = f"{g.indicator} = {_fmt_value(value)}"
    return f"{body} (gate: {g.label})"


def _share_text(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def tier_reason(d: DesignationTier, share: float, feature: str, nation: str) -> str:
    """ "62% inside Eryri National Park: major development only in exceptional circumstances
    (Planning Policy Wales; NPPF in England)"."""
    policy = d.policy_for(nation)
    where = feature or d.label
    return f"{_share_text(share)} inside {where}: {policy.policy_test} ({d.sources_text(nation)})"


def tier_exclusion_reason(d: DesignationTier, share: float, feature: str, nation: str) -> str:
    """Why an ``exclude`` tier removed a row: "100% inside Peak District National Park: excluded by
    the profile's 'exclude' tier (planning test: major development only in exceptional
    circumstances; NPPF)". The planning test is quoted as the test, never as the reason: a profile
    may exclude what policy would allow in exceptional circumstances."""
    policy = d.policy_for(nation)
    where = feature or d.label
    return (
        f"{_share_text(share)} inside {where}: excluded by the profile's 'exclude' tier "
        f"(planning test: {policy.policy_test}; {d.sources_text(nation)})"
    )


class _Context:
    """Optional text columns (``nation``, ``<designation>_feature``) for reasons."""

    def __init__(self, context: pd.DataFrame | None, index: pd.Index) -> None:
        self._frame = None if context is None else context.reindex(index)

    def texts(self, col: str) -> list[str]:
        n = 0 if self._frame is None else len(self._frame)
        if self._frame is None or col not in self._frame.columns:
            return [""] * n
        codes, words = _distinct_texts(self._frame[col], strip=False)
        return [words[c] for c in codes.tolist()]


def _distinct_texts(column: pd.Series, *, strip: bool) -> tuple[npt.NDArray[np.intp], list[str]]:
    """``column`` as codes into its distinct texts (``str(value)``, stripped when ``strip``; "" for
    a missing value, at code -1, the list's last entry): repeated texts are one string each, however
    many rows carry them."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    words = [str(u).strip() if strip else str(u) for u in np.asarray(uniques, dtype=object)]
    return np.asarray(codes, dtype=np.intp), [*words, ""]


def _joined(parts: list[list[str]]) -> list[str]:
    """``"; ".join`` of every row's parts, one string per distinct combination."""
    seen: dict[tuple[str, ...], str] = {}
    out = []
    for x in parts:
        key = tuple(x)
        text = seen.get(key)
        if text is None:
            text = seen[key] = "; ".join(key)
        out.append(text)
    return out


@dataclass
class _Prepared:
    index: pd.Index
    kernel: KernelResult
    eligible: BoolArray  # (n,) bool, before the "nothing to score" check
    excluded_by: list[list[str]]
    missing: list[list[str]]
    notes: list[str]
    frame: pd.DataFrame
    gate_reasons: list[list[str]] = field(default_factory=list)
    flags: list[list[str]] = field(default_factory=list)

    @property
    def values(self) -> FloatArray:
        """(n, k) value-function outputs after the missing rule; NaN where dropped."""
        return self.kernel.values

    @property
    def available(self) -> BoolArray:
        """(n, k) bool: criterion counts for this row."""
        return self.kernel.available


class _Reasons:
    """Why values are missing: each reasons column is read once, as an object array."""

    def __init__(self, reasons: pd.DataFrame | None, index: pd.Index) -> None:
        self._frame = None if reasons is None else reasons.reindex(index)
        self._columns: dict[str, tuple[npt.NDArray[np.intp], list[str]] | None] = {}

    def texts(self, col: str, rows: npt.NDArray[np.intp]) -> list[str]:
        """The stripped reason text for each of ``rows`` ("" where none is given); a reason shared
        by many rows is one string."""
        if col not in self._columns:
            frame = self._frame
            if frame is not None and col in frame.columns:
                self._columns[col] = _distinct_texts(frame[col], strip=True)
            else:
                self._columns[col] = None
        got = self._columns[col]
        if got is None:
            return [""] * len(rows)
        codes, words = got
        return [words[c] for c in codes[rows].tolist()]


def _columns(indicators: pd.DataFrame, profile: Profile) -> dict[str, npt.ArrayLike]:
    """The kernel's input: float64 columns for criteria and numeric exclusions (NaN = missing) and
    object columns for string-valued exclusions. Raises ScoringConfigError if the table does not fit."""
    problems = []
    for c in profile.criteria:
        if c.indicator not in indicators.columns:
            problems.append(f"indicators: no column {c.indicator!r} (needed by criteria.{c.name})")
    for e in profile.exclusions:
        if e.indicator not in indicators.columns:
            problems.append(f"indicators: no column {e.indicator!r} (needed by exclusion {e.name})")
    numeric_extra = [(g.indicator, f"gate {g.name}") for g in profile.gates]
    numeric_extra += [(d.indicator, f"designation {d.name}") for d in profile.designations]
    for ind, who in numeric_extra:
        if ind not in indicators.columns:
            problems.append(f"indicators: no column {ind!r} (needed by {who})")
    floats: dict[str, FloatArray] = {}
    for c in profile.criteria:
        if c.indicator in indicators.columns and c.indicator not in floats:
            try:
                floats[c.indicator] = _as_float(indicators[c.indicator])
            except (TypeError, ValueError) as exc:
                problems.append(
                    f"indicators: column {c.indicator!r} must be numeric or boolean "
                    f"(dtype {indicators[c.indicator].dtype}; {exc})"
                )
    for ind, who in numeric_extra:
        if ind in indicators.columns and ind not in floats:
            try:
                floats[ind] = _as_float(indicators[ind])
            except (TypeError, ValueError) as exc:
                problems.append(f"indicators: column {ind!r} must be numeric or boolean for {who} ({exc})")
    if problems:
        raise ScoringConfigError(problems, header=f"indicator table does not fit profile '{profile.name}'")
    texts: dict[str, npt.NDArray[np.object_]] = {}
    for e in profile.exclusions:
        if isinstance(e.value, str):
            texts[e.indicator] = indicators[e.indicator].to_numpy(dtype=object)
        elif e.indicator not in floats:
            try:
                floats[e.indicator] = _as_float(indicators[e.indicator])
            except (TypeError, ValueError) as exc:
                raise ScoringConfigError(
                    [
                        f"indicators: column {e.indicator!r} must be numeric or boolean for exclusion "
                        f"{e.name} ({exc})"
                    ]
                ) from None
    # A column compared both as text and as numbers is passed as objects: the kernel converts it to
    # the same floats, and the string comparison sees the table's own values.
    return {**floats, **texts}


def _check_inputs(indicators: Any, profile: Any, reasons: Any) -> None:
    """The type and index checks every entry point makes before scoring."""
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


def _kernel(indicators: pd.DataFrame, profile: Profile) -> tuple[dict[str, npt.ArrayLike], KernelResult]:
    """The kernel's input columns and its result (numbers only: no reason text)."""
    data = _columns(indicators, profile)
    k = score_arrays(
        weighted_criteria(profile),
        data,
        exclusions=profile.exclusions + tier_exclusions(profile),
        gates=profile.gates,
        penalties=tier_penalties(profile),
    )
    return data, k


def eligibility_and_ranks(k: KernelResult) -> tuple[BoolArray, npt.NDArray[np.int64]]:
    """Each row's eligibility (no hard exclusion hit or left unchecked under rule 'exclude', and
    scorable) and its competition rank, as :func:`score` gives them, from the kernel alone."""
    eligible = ~k.missing_exclude & ~k.excluded & k.scorable
    ranks = _competition_rank(_rank_key(k.score, rank_groups(eligible, gate_status(k))))[0]
    return eligible, ranks.astype(np.int64)


def _prepare(
    indicators: pd.DataFrame,
    profile: Profile,
    reasons: pd.DataFrame | None,
    context: pd.DataFrame | None = None,
) -> _Prepared:
    _check_inputs(indicators, profile, reasons)
    index = indicators.index

    data, k = _kernel(indicators, profile)

    n = len(index)
    why = _Reasons(reasons, index)
    excluded_by: list[list[str]] = [[] for _ in range(n)]
    missing: list[list[str]] = [[] for _ in range(n)]
    notes: list[str] = []

    for j, c in enumerate(profile.criteria):
        miss = k.missing[:, j]
        nm = int(miss.sum())
        vf = c.value_function
        if isinstance(vf, Linear) and (vf.min is None or vf.max is None) and nm < n:
            raw = as_float_array(data[c.indicator])
            fin = raw[np.isfinite(raw)]
            if fin.size:
                lo = vf.min if vf.min is not None else float(fin.min())
                hi = vf.max if vf.max is not None else float(fin.max())
                notes.append(f"{c.name}: linear range [{lo:.6g}, {hi:.6g}] taken from the observed data")
        if not nm:
            continue
        rule = c.missing
        what = c.indicator if c.indicator == c.name else f"{c.indicator} (criterion {c.name})"
        detail = ""
        if rule == "worst":
            treat = "scored worst (0)"
        elif rule == "neutral":
            treat = "scored neutral (0.5)"
        elif rule == "median":
            med = float(k.medians[j])
            if nm < n:
                detail = f" (median value {med:.3f})"
            else:
                detail = " (no row has a value, so the median rule fell back to neutral 0.5)"
            treat = f"scored median ({med:.3f})"
        elif rule == "exclude":
            treat = "row excluded"
        else:  # "renormalise"; the kernel has rejected unknown rules
            treat = "dropped; remaining weights renormalised"
        rows = np.flatnonzero(miss)
        said: dict[str, tuple[str, str]] = {}  # one message per distinct reason, shared by its rows
        for r, reason in zip(rows.tolist(), why.texts(c.indicator, rows), strict=True):
            msg = said.get(reason)
            if msg is None:
                msg = said[reason] = (
                    f"{c.name} missing{f' ({reason})' if reason else ''}: {treat}",
                    f"{c.name}: missing ({reason or 'no value'})",
                )
            missing[r].append(msg[0])
            if rule == "exclude":
                excluded_by[r].append(msg[1])
        notes.append(f"{nm} row{'s' if nm != 1 else ''} missing {what}: scored by rule '{rule}'{detail}")

    for m, e in enumerate(profile.exclusions):  # tier exclusions follow, see _designations
        hit, unchecked = k.hit[:, m], k.unchecked[:, m]
        for i in np.flatnonzero(hit):
            excluded_by[i].append(e.reason)
        rows = np.flatnonzero(unchecked)
        said_e: dict[str, str] = {}
        for i, reason in zip(rows, why.texts(e.indicator, rows), strict=True):
            if reason not in said_e:
                said_e[reason] = (
                    f"exclusion {e.name} not checked: {e.indicator} missing{f' ({reason})' if reason else ''}"
                )
            missing[i].append(said_e[reason])
        nh, nu = int(hit.sum()), len(rows)
        if nh:
            notes.append(f"{nh} row{'s' if nh != 1 else ''} excluded by {e.name}: {e.reason}")
        if nu:
            notes.append(
                f"exclusion {e.name} not checked for {nu} row{'s' if nu != 1 else ''}: {e.indicator} missing"
            )
    gate_reasons = _gates(profile, k, data, why, missing, notes)
    flags = _designations(profile, k, data, why, _Context(context, index), excluded_by, missing, notes)
    eligible = ~k.missing_exclude & ~k.excluded
    return _Prepared(index, k, eligible, excluded_by, missing, notes, indicators, gate_reasons, flags)


def _gates(
    profile: Profile,
    k: KernelResult,
    data: dict[str, npt.ArrayLike],
    why: _Reasons,
    missing: list[list[str]],
    notes: list[str],
) -> list[list[str]]:
    """Plain words for every failed or unknown gate, per row; notes with the counts."""
    out: list[list[str]] = [[] for _ in range(k.n)]
    for j, g in enumerate(profile.gates):
        values = as_float_array(data[g.indicator])
        fail = np.flatnonzero(k.gate_fail[:, j])
        for i in fail:
            out[i].append(_gate_fail_text(g, float(values[i])))
        unknown = np.flatnonzero(k.gate_unknown[:, j])
        said: dict[str, tuple[str, str]] = {}  # one message per distinct reason
        for i, reason in zip(unknown, why.texts(g.indicator, unknown), strict=True):
            if reason not in said:
                detail = f"{g.indicator} missing{f': {reason}' if reason else ''}"
                said[reason] = (f"{g.label}: not checked ({detail})", f"gate {g.name} not checked: {detail}")
            out[i].append(said[reason][0])
            missing[i].append(said[reason][1])
        n_pass = int(k.gate_pass[:, j].sum())
        notes.append(f"gate {g.name} ({g.label}): {n_pass} pass, {len(unknown)} unknown, {len(fail)} fail")
    return out


def _designations(
    profile: Profile,
    k: KernelResult,
    data: dict[str, npt.ArrayLike],
    why: _Reasons,
    context: _Context,
    excluded_by: list[list[str]],
    missing: list[list[str]],
    notes: list[str],
) -> list[list[str]]:
    """Reasons naming the designation, the share inside it and the policy test, per row."""
    out: list[list[str]] = [[] for _ in range(k.n)]
    nations = context.texts("nation") or [""] * k.n
    n_ex = len(profile.exclusions)
    pen = {name: j for j, name in enumerate(k.penalties)}
    ex = 0
    for d in profile.designations:
        share = as_float_array(data[d.indicator])
        features = context.texts(f"{d.name}_feature") or [""] * k.n
        if d.tier == "exclude":
            hit, unknown = k.hit[:, n_ex + ex], k.unchecked[:, n_ex + ex]
            ex += 1
        else:
            hit, unknown = k.penalty_hit[:, pen[d.name]], k.penalty_unknown[:, pen[d.name]]
        for i in np.flatnonzero(hit):
            text = tier_reason(d, float(share[i]), features[i], nations[i])
            out[i].append(f"{text} [{d.tier}]")
            if d.tier == "exclude":
                excluded_by[i].append(tier_exclusion_reason(d, float(share[i]), features[i], nations[i]))
        rows = np.flatnonzero(unknown)
        said: dict[str, str] = {}  # one message per distinct reason
        for i, reason in zip(rows, why.texts(d.indicator, rows), strict=True):
            if reason not in said:
                said[reason] = (
                    f"designation {d.label} ({d.tier}) not checked{f': {reason}' if reason else ''}"
                )
            missing[i].append(said[reason])
        notes.append(
            f"designation {d.label} (tier {d.tier}): applies to {int(hit.sum())}, not checked for {len(rows)}"
        )
    return out


def _unchecked_exclusions(profile: Profile, k: KernelResult, eligible: BoolArray) -> list[str]:
    """Per row, the hard exclusions (profile exclusions by name, ``exclude`` tiers by label) that could
    not be checked because their indicator is missing ("" where every one was checked, or the row is
    excluded anyway)."""
    names = [e.name for e in profile.exclusions] + [
        d.label for d in profile.designations if d.tier == "exclude"
    ]
    out = [""] * k.n
    if not names or not k.unchecked.size:
        return out
    rows, cols = np.nonzero(k.unchecked & eligible[:, None])
    per: dict[int, list[str]] = {}
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        per.setdefault(i, []).append(names[j])
    for i, got in per.items():
        out[i] = "; ".join(got)
    return out


def _finish(p: _Prepared, profile: Profile) -> ScoreResult:
    k = p.kernel
    n = len(p.index)
    scorable = k.scorable
    eligible, ranks = eligibility_and_ranks(k)
    notes = list(p.notes)
    n_unscorable = int((~scorable).sum())
    for i in np.flatnonzero(~scorable):
        p.excluded_by[i].append("no positively weighted criterion has a value (all dropped by missing rules)")
    if n_unscorable:
        notes.append(f"{n_unscorable} row(s) could not be scored: every weighted criterion was dropped")
    status = gate_status(k)

    data: dict[str, Any] = {"rank": ranks}
    if profile.gates:
        data["deliverable"] = np.asarray(GATE_ORDER, dtype=object)[status]
        data["gate_reasons"] = _joined(p.gate_reasons)
    data["score"] = k.score
    unchecked = _unchecked_exclusions(profile, k, eligible)
    data["eligibility"] = np.where(
        ~eligible, ELIGIBILITY[1], np.where([bool(u) for u in unchecked], ELIGIBILITY[2], ELIGIBILITY[0])
    ).astype(object)
    data["eligible"] = eligible
    data["excluded_by"] = _joined(p.excluded_by)
    data["exclusions_not_checked"] = unchecked
    if profile.designations:
        data["designation_flags"] = _joined(p.flags)
    data["missing"] = _joined(p.missing)
    contributions = k.contributions
    for name in profile.scored_sections:
        members = [j for j, c in enumerate(profile.criteria) if c.section == name]
        data[f"section_{name}"] = contributions[:, members].sum(axis=1)
    for j, g in enumerate(profile.gates):
        data[f"gate_{g.name}"] = np.where(
            k.gate_pass[:, j], "pass", np.where(k.gate_unknown[:, j], "unknown", "fail")
        ).astype(object)
    for j, c in enumerate(profile.criteria):
        data[f"value_{c.name}"] = k.values[:, j]
        data[f"contrib_{c.name}"] = contributions[:, j]
    for j, name in enumerate(k.penalties):
        data[f"penalty_{name}"] = k.penalty_contributions[:, j]
    table = pd.DataFrame(data, index=p.index)
    n_ex = int((~eligible).sum())
    if profile.gates:
        counts = {g: int((status[eligible] == i).sum()) for i, g in enumerate(GATE_ORDER)}
        notes.append(
            "deliverability (eligible rows): "
            + ", ".join(f"{v} {g}" for g, v in counts.items())
            + ". "
            + RANKING_RULE
        )
    if n_ex:
        notes.append(f"{n_ex} of {n} rows ineligible; ranked after all {n - n_ex} eligible rows")
    cols = list(dict.fromkeys(profile.indicators))
    return ScoreResult(
        table=table,
        weights=profile.weights,
        profile=profile,
        notes=notes,
        indicators=p.frame[[c for c in cols if c in p.frame.columns]],
        row_weights=pd.DataFrame(k.weights, index=p.index, columns=[c.name for c in profile.criteria]),
    )


def score(
    indicators: pd.DataFrame,
    profile: Profile,
    *,
    reasons: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
) -> ScoreResult:
    """Score and rank every row of ``indicators`` under ``profile``.

    ``indicators``: unique index (region code / application id), one numeric or boolean column per
    indicator, NaN = missing. ``reasons``: optional frame (same index, indicator columns) with the
    text reason a value is missing. Data-dependent value functions (observed-range linear,
    percentile) and the ``median`` rule use all rows passed in, including excluded ones.
    ``context``: optional text columns (same index) quoted in designation reasons: ``nation``
    (which nation's policy applies) and ``<designation>_feature`` (the designated area's name,
    e.g. "Eryri National Park").
    """
    return _finish(_prepare(indicators, profile, reasons, context), profile)

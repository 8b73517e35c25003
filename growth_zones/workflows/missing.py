"""Checks that could not run, said out loud.

A check (a designation, an exclusion, a deliverability gate) that could not be decided for a row is
never a pass. Each such check becomes one :class:`MissingCheck` on the result: which check, why it
did not run (the dataset and the reason, in plain words), which rows it affects and its *kind*:

* ``unavailable``: a default dataset that feeds it could not be had in this run (its pull failed,
  the mirror holds no copy, it is not in the cache offline, only a sample of it is stored, it could
  not be read). The command ends with exit code 4 unless ``--allow-missing``;
* ``coverage gap``: no machine-readable national dataset exists for that place (an optional
  catalogue entry such as Scotland's Ancient Woodland Inventory, or none catalogued, such as a
  Welsh Green Belt): a documented, permanent gap, said everywhere but not an error;
* ``undecided``: the data was had but cannot decide it for that row (for example no published
  circuit rating at the node): said everywhere, not an error.

The workflows put the list

* on stderr in plain words (the CLI),
* into ``checks.csv`` on every affected row (status ``not checked``, detail ``did not run: ...`` or
  ``not checked: ...``; a row another dataset decided is never touched),
* into a banner on the report pages, the briefs and the national map,
* into the provenance sidecar (``missing_checks``),
* and into the exit code.

A dataset is blamed only for rows inside the nations it covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.layers import (
    COVERAGE_GAP,
    UNAVAILABLE,
    UNDECIDED,
    CoverageGap,
    designation_gaps,
    why_not_had,
)
from ..policy import DESIGNATION_LABELS, DESIGNATIONS

__all__ = [
    "COVERAGE_GAP",
    "UNAVAILABLE",
    "UNDECIDED",
    "MissingCheck",
    "apply_to_checks",
    "coverage_checks",
    "designation_checks",
    "designation_inputs",
    "missing_checks",
    "rule_checks",
]

_KIND_ORDER = {UNAVAILABLE: 0, COVERAGE_GAP: 1, UNDECIDED: 2}
_DECIDED = frozenset({"present", "absent", "pass", "fail", "claimed", "not claimed"})


def designation_inputs(settings: Any, level: str = "site") -> dict[str, tuple[str, ...]]:
    """Indicator -> the designations it is computed from (so a dataset of one designation is blamed
    only for the indicators that read it). ``settings``: the run's
    :class:`~growth_zones.indicators.IndicatorSettings`."""
    tiers = {f"share_{d}": (d,) for d in DESIGNATIONS}  # the designation tiers' indicators
    if level == "region":
        return {
            **tiers,
            "protected_share": tuple(settings.region_protected_designations),
            "national_park_share": ("national_park",),
        }
    return {
        **tiers,
        "protected_share": tuple(settings.exclusion_designations),
        "in_flood_zone_3": ("flood_zone_3",),
    }


@dataclass(frozen=True)
class MissingCheck:
    """One check that could not run, for one cause.

    Attributes
    ----------
    check
        The check as it is named in ``checks.csv`` (e.g. ``"Designation: National Park"``).
    reason
        Why it did not run, in plain words, naming the dataset(s) and what went wrong.
    datasets
        Catalogue keys of the datasets it is blamed on (empty when no dataset is to blame).
    ids
        The rows it affects (application ids or local-authority codes; empty for raster cells).
    kind
        ``unavailable`` (data that exists could not be had: exit code 4), ``coverage gap`` (no
        machine-readable national dataset exists) or ``undecided`` (the data cannot decide it).
    """

    check: str
    reason: str
    datasets: tuple[str, ...]
    ids: tuple[str, ...]
    kind: str = UNAVAILABLE

    @property
    def blocking(self) -> bool:
        """True when this ends a command with exit code 4 (unless ``--allow-missing``)."""
        return self.kind == UNAVAILABLE

    def line(self, noun: str = "sites", total: int | None = None) -> str:
        """One plain sentence for stderr."""
        n = len(self.ids)
        who = f"all {n} {noun}" if total == n else (f"{n} of {total} {noun}" if total else f"{n} {noun}")
        if n == 0:
            who = f"every {noun} it applies to"
        head = {
            UNAVAILABLE: "check not run",
            COVERAGE_GAP: "not checked (coverage gap)",
            UNDECIDED: "not decided",
        }.get(self.kind, "check not run")
        return f"{head}: {self.check}, for {who}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "reason": self.reason,
            "kind": self.kind,
            "blocking": self.blocking,
            "datasets": list(self.datasets),
            "rows": len(self.ids),
            "ids": list(self.ids),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MissingCheck:
        kind = str(d.get("kind") or UNAVAILABLE)
        return cls(
            str(d.get("check", "")),
            str(d.get("reason", "")),
            tuple(str(x) for x in d.get("datasets", []) or []),
            tuple(str(x) for x in d.get("ids", []) or []),
            kind if kind in _KIND_ORDER else UNAVAILABLE,
        )


def blocking(missing: Iterable[MissingCheck]) -> list[MissingCheck]:
    """The missing checks that end a command with exit code 4 (their data could not be had)."""
    return [m for m in missing if m.blocking]


def _title(catalogue: Mapping[str, Any], key: str) -> str:
    ds = catalogue.get(key)
    return f"{key} ({ds.title})" if ds is not None and getattr(ds, "title", "") else key


def _short(reason: str, limit: int = 300) -> str:
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _label(designation: str) -> str:
    return DESIGNATION_LABELS.get(designation, designation)


def _combine(gaps: Iterable[CoverageGap]) -> CoverageGap:
    """One cause from several (the reasons joined, datasets not had for the same reason named
    together; blocking if any is)."""
    items = list(gaps)
    kinds = [g.kind for g in items]
    kind = min(kinds, key=lambda k: _KIND_ORDER.get(k, 0)) if kinds else UNDECIDED
    parts: list[str] = []
    not_had: dict[str, list[str]] = {}
    samples: dict[str, list[str]] = {}
    for g in items:
        for piece in g.reason.split("; "):
            head, sep, why = piece.partition(" could not be had: ")
            s_head, s_sep, s_area = piece.partition(" is stored, complete within ")
            if s_sep and s_head.startswith("only a sample of dataset "):
                if s_area not in samples:
                    samples[s_area] = []
                    parts.append("\x01" + s_area)
                samples[s_area].append(s_head.removeprefix("only a sample of dataset "))
            elif sep and head.startswith("dataset"):
                names = head.removeprefix("datasets ").removeprefix("dataset ")
                if why not in not_had:
                    not_had[why] = []
                    parts.append("\x00" + why)
                not_had[why].append(names)
            else:
                parts.append(piece)
    text = []
    for p in dict.fromkeys(parts):
        if p.startswith("\x01"):
            names = samples[p[1:]]
            text.append(
                f"only a sample of dataset {names[0]} is stored, complete within {p[1:]}"
                if len(names) == 1
                else f"only samples of datasets {', '.join(names)} are stored, complete within {p[1:]}"
            )
        elif p.startswith("\x00"):
            names = not_had[p[1:]]
            plural = len(names) > 1 or "), " in names[0]
            text.append(f"dataset{'s' if plural else ''} {', '.join(names)} could not be had: {p[1:]}")
        else:
            text.append(p)
    return CoverageGap(
        "; ".join(text),
        tuple(dict.fromkeys(k for g in items for k in g.datasets)),
        kind,
    )


def _grouped(frame: pd.DataFrame) -> list[MissingCheck]:
    """``frame`` (id, check, reason, kind, datasets) -> one MissingCheck per (check, reason, kind),
    in first-appearance order; blocking ones first."""
    if frame.empty:
        return []
    out = []
    frame = frame.assign(_ds=frame["datasets"].map(lambda t: "\x1f".join(t)))
    for (check, reason, kind, ds), part in frame.groupby(
        ["check", "reason", "kind", "_ds"], sort=False, dropna=False
    ):
        out.append(
            MissingCheck(
                str(check),
                str(reason),
                tuple(x for x in str(ds).split("\x1f") if x),
                tuple(dict.fromkeys(str(i) for i in part["id"])),
                str(kind),
            )
        )
    return sorted(out, key=lambda m: _KIND_ORDER.get(m.kind, 0))


def _nation_of(ids: Sequence[str], nations: Mapping[str, str] | pd.Series | None) -> np.ndarray:
    if nations is None:
        return np.full(len(ids), "", dtype=object)
    lookup = nations if isinstance(nations, pd.Series) else pd.Series(dict(nations), dtype=object)
    lookup = lookup.copy()
    lookup.index = lookup.index.map(str)
    got = lookup.reindex([str(i) for i in ids])
    return np.asarray(got.fillna("").astype(str).to_numpy(), dtype=object)


def designation_checks(
    status: pd.DataFrame,
    gaps: Mapping[tuple[str, str], CoverageGap],
    nations: Mapping[str, str] | pd.Series | None = None,
) -> list[MissingCheck]:
    """The site designation checks that are "not checked", by cause.

    ``status``: one row per (site, designation) with ``site_id`` (or ``id``), ``designation``,
    ``status`` and ``reason`` (:func:`growth_zones.indicators.site_designation_checks`).
    ``gaps``: ``(designation, nation) -> CoverageGap`` (``LayerSet.gaps``); ``nations``: each site's
    nation. A row whose nation has no gap for that designation keeps its own reason (undecided).
    A dataset is therefore blamed only for rows in the nations it covers, and only where the check
    really did not run.
    """
    if status is None or not len(status):
        return []
    idcol = "site_id" if "site_id" in status.columns else "id"
    todo = status[status["status"].astype(str) == "not checked"]
    if todo.empty:
        return []
    ids = todo[idcol].astype(str).to_numpy(dtype=object)
    nation = _nation_of(list(ids), nations)
    own = todo["reason"].fillna("").astype(str) if "reason" in todo else pd.Series([""] * len(todo))
    # rows as codes of (designation, nation, own reason): the texts are made once per distinct
    # combination (a few dozen), not once per row (a million at 100,000 sites)
    d_codes, d_names = pd.factorize(todo["designation"].astype(str))
    n_codes, n_names = pd.factorize(pd.Series(nation, dtype=object))
    o_codes, o_names = pd.factorize(own)
    d_codes, n_codes, o_codes = (np.asarray(c, dtype=np.int64) for c in (d_codes, n_codes, o_codes))
    key = (d_codes * (len(n_names) + 1) + n_codes) * (len(o_names) + 1) + o_codes
    k_codes = np.asarray(pd.factorize(key)[0], dtype=np.intp)  # in first-appearance order
    _, first_rows = np.unique(k_codes, return_index=True)
    groups: dict[tuple[str, str, str, tuple[str, ...]], int] = {}
    group_of = np.empty(len(first_rows), dtype=np.intp)
    for j, r in enumerate(first_rows.tolist()):
        d, n, o = str(d_names[d_codes[r]]), str(n_names[n_codes[r]]), str(o_names[o_codes[r]])
        g = gaps.get((d, n)) if n else None
        what = (
            f"Designation: {_label(d)}",
            g.reason if g else _own_reason(o),
            g.kind if g else UNDECIDED,
            tuple(x for x in (g.datasets if g else ()) if x),
        )
        group_of[j] = groups.setdefault(what, len(groups))
    gid = group_of[k_codes]
    order = np.argsort(gid, kind="stable")
    bounds = np.cumsum(np.bincount(gid, minlength=len(groups)))[:-1]
    out = [
        MissingCheck(check, reason, datasets, tuple(dict.fromkeys(part.tolist())), kind)
        for (check, reason, kind, datasets), part in zip(groups, np.split(ids[order], bounds), strict=True)
    ]
    return sorted(out, key=lambda m: _KIND_ORDER.get(m.kind, 0))


def _own_reason(reason: Any) -> str:
    return str(reason).removeprefix("not checked: ") or "not checked"


def coverage_checks(
    gaps: Mapping[tuple[str, str], CoverageGap], designations: Iterable[str] = DESIGNATIONS
) -> list[MissingCheck]:
    """Designation checks that cannot run somewhere, for outputs without rows (raster cells): one
    per designation and cause, naming the nations in the reason."""
    rows = []
    for d in designations:
        by_reason: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
        for (gd, nation), gap in gaps.items():
            if gd == d:
                by_reason.setdefault((gap.reason, gap.kind, gap.datasets), []).append(nation)
        for (reason, kind, datasets), where in by_reason.items():
            rows.append(
                MissingCheck(
                    f"Designation: {_label(d)}",
                    f"in {', '.join(sorted(where))}: {reason}",
                    datasets,
                    (),
                    kind,
                )
            )
    return sorted(rows, key=lambda m: _KIND_ORDER.get(m.kind, 0))


def _down_by_layer(unavailable: Mapping[str, str], catalogue: Mapping[str, Any]) -> dict[str, list[str]]:
    """Source names (layers, and the derived ``designation_coverage``) -> datasets not had."""
    out: dict[str, list[str]] = {}
    for key in unavailable:
        layer = getattr(catalogue.get(key), "layer", None)
        if not layer:
            continue
        out.setdefault(layer, []).append(key)
        if layer in ("protected_areas", "coverage_areas"):
            out.setdefault("designation_coverage", []).append(key)
    return out


def _dataset_gap(key: str, why: str, catalogue: Mapping[str, Any]) -> CoverageGap:
    ds = catalogue.get(key)
    if ds is not None and getattr(ds, "optional", False):
        return CoverageGap(
            f"optional dataset {_title(catalogue, key)} (no machine-readable national source) was not "
            f"had: {why_not_had(why)}",
            (key,),
            COVERAGE_GAP,
        )
    return CoverageGap(
        f"dataset {_title(catalogue, key)} could not be had: {why_not_had(why)}", (key,), UNAVAILABLE
    )


def rule_checks(
    rules: Iterable[tuple[str, str]],
    specs: Mapping[str, Any],
    values: pd.DataFrame,
    unavailable: Mapping[str, str],
    catalogue: Mapping[str, Any],
    designations_of: Mapping[str, tuple[str, ...]] | None = None,
    *,
    gaps: Mapping[tuple[str, str], CoverageGap] | None = None,
    nations: Mapping[str, str] | pd.Series | None = None,
    status: pd.DataFrame | None = None,
    reasons: pd.DataFrame | None = None,
) -> list[MissingCheck]:
    """Rules (``(check name, indicator)``: exclusions, gates) left undecided for some rows because
    their indicator is missing there, by cause.

    ``values``: the indicator table (index = row ids); ``specs``: indicator specs with ``sources``.
    An indicator built from designations (``designations_of``, see :func:`designation_inputs`) is
    blamed on the coverage gaps of those designations in the row's nation (``gaps``; with a site's
    designation ``status``, only the designations that were not checked there). Any other
    indicator is blamed on the unavailable datasets of its source layers that cover the row's
    nation. A missing value with no dataset to blame is ``undecided`` (``reasons``: the indicator's
    missing reasons, quoted when all rows share one).
    """
    designations_of = designations_of or {}
    gaps = gaps or {}
    down = _down_by_layer(unavailable, catalogue)
    not_checked: dict[tuple[str, str], bool] = {}
    if status is not None and len(status):
        idcol = "site_id" if "site_id" in status.columns else "id"
        nc = status[status["status"].astype(str) == "not checked"]
        not_checked = {(str(i), str(d)): True for i, d in zip(nc[idcol], nc["designation"], strict=True)}
    frames = []
    for check, indicator in rules:
        spec = specs.get(indicator)
        if spec is None or indicator not in values:
            continue
        missing = values[indicator].isna().to_numpy()
        if not missing.any():
            continue
        ids = [str(i) for i in values.index[missing]]
        nation = _nation_of(ids, nations)
        wanted = designations_of.get(indicator)
        causes: list[CoverageGap | None] = []
        cache: dict[tuple[Any, ...], CoverageGap | None] = {}
        for i, n in zip(ids, nation, strict=True):
            if wanted:
                ds_here = tuple(
                    d
                    for d in wanted
                    if (d, n) in gaps and (not not_checked or not_checked.get((i, d), False))
                )
                key: tuple[Any, ...] = ("d", n, ds_here)
                if key not in cache:
                    cache[key] = _combine(gaps[(d, n)] for d in ds_here) if ds_here else None
            else:
                key = ("l", n)
                if key not in cache:
                    keys = list(
                        dict.fromkeys(
                            k
                            for s in spec.sources
                            for k in down.get(s, [])
                            if not n
                            or not getattr(catalogue.get(k), "nations", ())
                            or n in catalogue[k].nations
                        )
                    )
                    cache[key] = (
                        _combine(_dataset_gap(k, unavailable[k], catalogue) for k in keys) if keys else None
                    )
            causes.append(cache[key])
        undecided_reason = f"{indicator} could not be computed from the data it reads"
        if reasons is not None and indicator in reasons:
            texts = {
                str(t).strip()
                for t in reasons[indicator].reindex(values.index[missing]).fillna("").astype(str)
            }
            if len(texts) == 1 and next(iter(texts)):
                undecided_reason = f"{indicator} missing: {next(iter(texts))}"
            else:
                undecided_reason += " (each row's reason is in its gate_reasons / missing column)"
        frames.append(
            pd.DataFrame(
                {
                    "id": ids,
                    "check": check,
                    "reason": [
                        f"{indicator} could not be computed because {c.reason}" if c else undecided_reason
                        for c in causes
                    ],
                    "kind": [c.kind if c else UNDECIDED for c in causes],
                    "datasets": [c.datasets if c else () for c in causes],
                }
            )
        )
    return _grouped(pd.concat(frames, ignore_index=True)) if frames else []


def missing_checks(
    layers: Any,
    ids: Sequence[str],
    *,
    profile: Any = None,
    indicators: Any = None,
    catalogue: Mapping[str, Any] | None = None,
    designations_of: Mapping[str, tuple[str, ...]] | None = None,
    designation_status: pd.DataFrame | None = None,
    nations: Mapping[str, str] | pd.Series | None = None,
) -> list[MissingCheck]:
    """Every check of a run that could not run, by cause: the site designation checks that were
    "not checked" (``designation_status``), then the profile's exclusions (``Exclusion: <name>``)
    and deliverability gates (``Gate: <label>``, as ``checks.csv`` names them) left undecided.
    Without rows (``ids`` empty: raster cells) the designation gaps are listed by nation.
    ``nations``: each row's nation (default: the indicators' ``nation`` column)."""
    if catalogue is None:
        from ..data.catalogue import load_catalogue

        catalogue = load_catalogue()
    unavailable = dict(getattr(layers, "unavailable", {}) or {})
    gaps = getattr(layers, "gaps", None)
    if gaps is None:
        gaps = designation_gaps(getattr(layers, "protected_areas", None), dict(catalogue), absent=unavailable)
    if nations is None and indicators is not None:
        extra = getattr(indicators, "extra", None)
        if extra is not None and "nation" in extra:
            nations = extra["nation"]
    out: list[MissingCheck] = []
    if not len(ids):
        out += coverage_checks(gaps)
    elif designation_status is not None:
        out += designation_checks(designation_status, gaps, nations)
    if profile is not None and indicators is not None and len(ids):
        rules = [(f"Exclusion: {e.name}", e.indicator) for e in getattr(profile, "exclusions", ())]
        rules += [(f"Gate: {g.label}", g.indicator) for g in getattr(profile, "gates", ())]
        out += rule_checks(
            rules,
            indicators.specs,
            indicators.values,
            unavailable,
            catalogue,
            designations_of,
            gaps=gaps,
            nations=nations,
            status=designation_status,
            reasons=getattr(indicators, "reasons", None),
        )
    return sorted(out, key=lambda m: _KIND_ORDER.get(m.kind, 0))


def apply_to_checks(checks: pd.DataFrame, missing: Iterable[MissingCheck]) -> pd.DataFrame:
    """``checks`` (id, check, status, detail) with every affected row of every missing check marked.

    A row that another dataset decided (present, absent, pass, fail, a claim) is never touched.
    An undecided row of an unavailable check becomes ``not checked`` / ``did not run: <reason>``,
    of a coverage gap ``not checked`` / ``not checked: <reason>``; an undecided check keeps its
    row as it is. A missing check with no row yet gets one added after the row's other checks.
    When two missing checks name the same (id, check), the first one's mark applies.

    Column at a time: each missing check touches only the rows of its own check (found through
    the codes of the check column), so no Python object is made per row of the long table.
    """
    marks = []
    for m in missing:
        if m.kind == UNDECIDED:
            detail = f"not decided: {m.reason}"
        elif m.kind == COVERAGE_GAP:
            detail = f"not checked: {m.reason}"
        else:
            detail = f"did not run: {m.reason}"
        marks.append((m.check, list(dict.fromkeys(str(i) for i in m.ids)), m.kind, detail))
    if not any(ids for _, ids, _, _ in marks):
        return checks
    out = checks.copy()
    n = len(out)
    check_codes, check_names = pd.factorize(out["check"].astype(str)) if n else (np.empty(0, int), [])
    code_of = {str(c): k for k, c in enumerate(check_names)}
    ids = out["id"].astype(str)
    texts: list[str] = []  # the detail text of each mark that changed a row
    changed = np.full(n, -1, dtype=np.intp)  # per row: which of ``texts`` it gets (-1: unchanged)
    taken: dict[str, set[str]] = {}  # per check: ids already marked (the first mark applies)
    rows_of: dict[str, tuple[np.ndarray, pd.Series]] = {}
    add: list[dict[str, str]] = []
    for check, mark_ids, kind, text in marks:
        done = taken.setdefault(check, set())
        fresh = [i for i in mark_ids if i not in done]
        done.update(fresh)
        if not fresh:
            continue
        if check not in rows_of:
            code = code_of.get(check)
            rows = np.flatnonzero(check_codes == code) if code is not None else np.empty(0, dtype=np.intp)
            rows_of[check] = (rows, ids.iloc[rows])
        rows, row_ids = rows_of[check]
        hit = row_ids.isin(fresh).to_numpy(dtype=bool)
        if kind != UNDECIDED and hit.any():
            decided = out["status"].iloc[rows[hit]].astype(str).isin(_DECIDED).to_numpy(dtype=bool)
            change = rows[hit][~decided]
            if len(change):
                changed[change] = len(texts)
                texts.append(text)
        present = set(row_ids[hit].tolist())
        add.extend(
            {"id": i, "check": check, "status": "not checked", "detail": text}
            for i in fresh
            if i not in present
        )
    if texts:
        hit_any = changed >= 0
        out["status"] = out["status"].mask(hit_any, "not checked")
        new_detail = np.asarray([*texts, ""], dtype=object)[changed]  # -1: the unused ""
        out["detail"] = out["detail"].mask(hit_any, pd.Series(new_detail, index=out.index))
    if not add:
        return out
    merged = pd.concat(
        [out, pd.DataFrame(add, columns=["id", "check", "status", "detail"])], ignore_index=True
    )
    # rows of an id stay together, in the order the ids first appear in ``checks``; new ids last
    first = pd.Index(pd.unique(ids)) if n else pd.Index([], dtype=object)
    position = first.get_indexer(merged["id"].astype(str))
    position[position < 0] = len(first)
    return merged.take(np.argsort(position, kind="stable")).reset_index(drop=True)

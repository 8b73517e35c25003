"""Checks that could not run, said out loud.

When a dataset that a check needs could not be had (the pull failed, the cache lacks it, it could
not be read), the run goes on, but it must never look like a pass. Each such check becomes one
:class:`MissingCheck` on the result: which check, why it did not run (the dataset and the reason
its pull gave) and which rows it affects. The workflows put the list

* on stderr in plain words (the CLI),
* into ``checks.csv`` on every affected row (status ``not checked``, detail ``did not run: ...``),
* into a banner on the report pages and the national map,
* into the provenance sidecar (``missing_checks``),
* and into the exit code: :data:`cli.EXIT_MISSING_CHECKS` unless ``--allow-missing``.

Two kinds are derived here, generically: a designation whose dataset is unavailable
(:func:`designation_checks`), and a rule on an indicator (an exclusion, a deliverability gate)
whose indicator could not be computed for some rows because a layer it is computed from is
unavailable (:func:`rule_checks`). Coverage gaps of data that *was* had
(a regional sample that does not reach a site) are not "missing checks": they are the per-row
``not checked`` of the three-valued designation checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..policy import DESIGNATION_LABELS

__all__ = [
    "MissingCheck",
    "apply_to_checks",
    "designation_checks",
    "designation_inputs",
    "missing_checks",
    "rule_checks",
]


def designation_inputs(settings: Any, level: str = "site") -> dict[str, tuple[str, ...]]:
    """Indicator -> the designations it is computed from (so an unavailable dataset of one
    designation is blamed only for the indicators that read it). ``settings``: the run's
    :class:`~growth_zones.indicators.IndicatorSettings`."""
    from ..data.schemas import DESIGNATIONS

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
    """One check that could not run.

    Attributes
    ----------
    check
        The check as it is named in ``checks.csv`` (e.g. ``"Designation: National Park"``).
    reason
        Why it did not run, in plain words, naming the dataset(s) and what went wrong.
    datasets
        Catalogue keys of the datasets that could not be had.
    ids
        The rows it affects (application ids or local-authority codes).
    """

    check: str
    reason: str
    datasets: tuple[str, ...]
    ids: tuple[str, ...]

    def line(self, noun: str = "sites", total: int | None = None) -> str:
        """One plain sentence for stderr."""
        n = len(self.ids)
        who = f"all {n} {noun}" if total == n else (f"{n} of {total} {noun}" if total else f"{n} {noun}")
        if n == 0:
            who = f"every {noun} it applies to"
        return f"check not run: {self.check}, for {who}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "reason": self.reason,
            "datasets": list(self.datasets),
            "rows": len(self.ids),
            "ids": list(self.ids),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MissingCheck:
        return cls(
            str(d.get("check", "")),
            str(d.get("reason", "")),
            tuple(str(x) for x in d.get("datasets", []) or []),
            tuple(str(x) for x in d.get("ids", []) or []),
        )


def _title(catalogue: dict[str, Any], key: str) -> str:
    ds = catalogue.get(key)
    return f"{key} ({ds.title})" if ds is not None and getattr(ds, "title", "") else key


def _short(reason: str, limit: int = 300) -> str:
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def designation_checks(
    unavailable: dict[str, str], catalogue: dict[str, Any], ids: Sequence[str]
) -> list[MissingCheck]:
    """One :class:`MissingCheck` per designation with a dataset that could not be had.

    A designation dataset whose coverage is a named area cannot be placed either when the
    ``coverage_areas`` dataset is unavailable: that designation did not run where it applies.
    """
    by_designation: dict[str, list[tuple[str, str]]] = {}
    coverage_missing = [
        k for k in unavailable if getattr(catalogue.get(k), "layer", None) == "coverage_areas"
    ]
    for key, why in unavailable.items():
        ds = catalogue.get(key)
        if ds is None or ds.layer != "protected_areas" or not ds.designation:
            continue
        by_designation.setdefault(ds.designation, []).append(
            (key, f"dataset {_title(catalogue, key)} could not be had: {_short(why)}")
        )
    if coverage_missing:
        why = "; ".join(
            f"dataset {_title(catalogue, k)} could not be had: {_short(unavailable[k])}"
            for k in coverage_missing
        )
        for ds in catalogue.values():
            area = getattr(ds, "coverage_area", None) or ""
            if (
                getattr(ds, "layer", None) == "protected_areas"
                and ds.designation
                and ds.key not in unavailable
                and area not in ("gb", "extent")
                and not area.startswith("lad:")
            ):
                by_designation.setdefault(ds.designation, []).append(
                    (ds.key, f"where dataset {ds.key} applies ({area}) is unknown: {why}")
                )
    out = []
    for designation, parts in by_designation.items():
        label = DESIGNATION_LABELS.get(designation, designation)
        out.append(
            MissingCheck(
                f"Designation: {label}",
                "; ".join(dict.fromkeys(r for _, r in parts)),
                tuple(dict.fromkeys(k for k, _ in parts)),
                tuple(ids),
            )
        )
    return out


def _layers_of(unavailable: dict[str, str], catalogue: dict[str, Any]) -> dict[str, list[str]]:
    """Source names (layers, and the derived ``designation_coverage``) -> unavailable datasets."""
    out: dict[str, list[str]] = {}
    for key in unavailable:
        layer = getattr(catalogue.get(key), "layer", None)
        if layer is None:
            continue
        out.setdefault(layer, []).append(key)
        if layer in ("protected_areas", "coverage_areas"):
            out.setdefault("designation_coverage", []).append(key)
    return out


def rule_checks(
    rules: Iterable[tuple[str, str]],
    specs: dict[str, Any],
    values: pd.DataFrame,
    unavailable: dict[str, str],
    catalogue: dict[str, Any],
    designations_of: dict[str, tuple[str, ...]] | None = None,
) -> list[MissingCheck]:
    """Rules (``(check name, indicator)``: exclusions, gates) that could not be decided for some rows
    because their indicator is missing there and a source of that indicator could not be had.

    ``values``: the indicator table (index = row ids). ``specs``: indicator specs with ``sources``.
    ``designations_of``: for indicators built from designations, which ones (see
    :func:`designation_inputs`); only those designations' unavailable datasets (and the
    coverage areas) count against them.
    """
    sources_down = _layers_of(unavailable, catalogue)
    designations_of = designations_of or {}
    out = []
    for check, indicator in rules:
        spec = specs.get(indicator)
        if spec is None or indicator not in values:
            continue
        down = [s for s in spec.sources if s in sources_down]
        keys = list(dict.fromkeys(k for s in down for k in sources_down[s]))
        if indicator in designations_of:
            wanted = set(designations_of[indicator])
            keys = [
                k
                for k in keys
                if getattr(catalogue.get(k), "layer", None) != "protected_areas"
                or getattr(catalogue.get(k), "designation", None) in wanted
            ]
        if not keys:
            continue
        missing = values[indicator].isna().to_numpy()
        ids = tuple(str(i) for i in values.index[missing])
        if not ids:
            continue
        why = "; ".join(
            f"dataset {_title(catalogue, k)} could not be had: {_short(unavailable[k])}" for k in keys
        )
        out.append(
            MissingCheck(
                check,
                f"{indicator} could not be computed because {why}",
                tuple(keys),
                ids,
            )
        )
    return out


def missing_checks(
    layers: Any,
    ids: Sequence[str],
    *,
    profile: Any = None,
    indicators: Any = None,
    catalogue: dict[str, Any] | None = None,
    designations_of: dict[str, tuple[str, ...]] | None = None,
) -> list[MissingCheck]:
    """Every check of a run that could not run: designations with an unavailable dataset, then the
    profile's exclusions (``Exclusion: <name>``) and deliverability gates (``Gate: <label>``, as
    ``checks.csv`` names them) left undecided because of one."""
    unavailable = dict(getattr(layers, "unavailable", {}) or {})
    if not unavailable:
        return []
    if catalogue is None:
        from ..data.catalogue import load_catalogue

        catalogue = load_catalogue()
    out = designation_checks(unavailable, catalogue, [str(i) for i in ids])
    if profile is not None and indicators is not None:
        rules = [(f"Exclusion: {e.name}", e.indicator) for e in getattr(profile, "exclusions", ())]
        rules += [(f"Gate: {g.label}", g.indicator) for g in getattr(profile, "gates", ())]
        out += rule_checks(
            rules, indicators.specs, indicators.values, unavailable, catalogue, designations_of
        )
    return out


def apply_to_checks(checks: pd.DataFrame, missing: Iterable[MissingCheck]) -> pd.DataFrame:
    """``checks`` (id, check, status, detail) with every affected row of every missing check marked
    ``not checked`` and ``did not run: <reason>`` (an existing row of that check is replaced, else a
    row is added)."""
    rows: list[dict[str, Any]] = []
    keys: set[tuple[str, str]] = set()
    for m in missing:
        detail = f"did not run: {m.reason}"
        for i in m.ids:
            rows.append({"id": i, "check": m.check, "status": "not checked", "detail": detail})
            keys.add((i, m.check))
    if not rows:
        return checks
    out = checks.copy()
    if len(out):
        hit = [(str(i), str(c)) in keys for i, c in zip(out["id"], out["check"], strict=True)]
        out = out[[not h for h in hit]]
    add = pd.DataFrame(rows, columns=["id", "check", "status", "detail"])
    merged = pd.concat([out, add], ignore_index=True) if len(out) else add
    order = {str(i): n for n, i in enumerate(dict.fromkeys(map(str, checks["id"])))} if len(checks) else {}
    merged["_o"] = merged["id"].map(lambda i: order.get(str(i), len(order)))
    return merged.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)

"""Map a scoring profile onto cell indicators: which criteria a cell can be scored on, their
renormalised weights, missing rules, and which exclusions apply per cell.

The scoring engine (``scoring``) works on a table of rows; a surface works on arrays of cells. Both
go through the same kernel, ``scoring.kernel.score_arrays`` (value functions, missing rules, per-row
weights, exclusion operators); this module only decides what the surface feeds it and how it reads
the result:

* data-dependent value functions (percentile, linear without bounds) and the ``median`` rule use the
  fixed national reference lattice (see ``SurfaceSpec.reference_resolution_m``), not the tile, so
  every tile is scored against the same distribution,
* ``worst`` -> 0, ``neutral`` -> 0.5, ``median`` -> the median of the value function over that
  reference,
* ``renormalise`` -> the criterion is dropped for that cell and the remaining weights of the cell are
  renormalised to sum to 1,
* ``exclude`` -> dropped as for ``renormalise`` and the cell's exclusion state becomes UNKNOWN (a
  missing value is not evidence that the cell is ruled out).

Criteria with no cell equivalent (an applicant's claims and evidence, site area, the bid's share of a
node) are dropped and their weight stays in their own section: the section's kept criteria share the
section weight in their profile proportions, so a dropped power criterion never hands its weight to
connectivity or local impact. A section with no cell criterion at all loses its weight (the other
sections are rescaled together, keeping their ratios); the plan names it (``sections_dropped``) and the
surface's tags and run record say so. The kernel gets these weights and renormalises them per cell
(``renormalise`` rules), so a cell scores exactly as a table row of the profile with the same
criteria switched off (``scoring.Profile.without``) would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..policy import DESIGNATION_LABELS, TIER_DESIGNATIONS

#: Cell indicators the surface can compute, with their units / meaning.
CELL_INDICATORS: dict[str, str] = {
    "dist_substation_km": "km to the nearest grid node that is a transmission site or GSP (exact Euclidean)",
    "dist_transmission_node_km": "km to the nearest transmission node, >= 275 kV or >= 132 kV in Scotland",
    "dist_ix_km": "km to the nearest internet exchange building (exact Euclidean)",
    "dist_landing_km": "km to the nearest submarine cable landing point (exact Euclidean)",
    "dist_circuit_km": "km to the nearest transmission circuit (>= 275 kV; densified lines, see tile.py)",
    "rtt_london_ms": "2 x straight km to the nearest London IX x route factor / fibre km per ms",
    "population_30km": "residents within 30 km (1 km population convolved with a disc)",
    "population_50km": "residents within 50 km (1 km population convolved with a disc)",
    "substation_voltage_kv": "kV of the grid node dist_substation_km measures to (the nearest transmission "
    "site or GSP; NaN where no source states its voltage)",
    "tec_contracted_mw_node": "contracted TEC (MW) at the nearest transmission node, the node "
    "dist_transmission_node_km measures to (NaN where none is recorded)",
    "in_discount_area": "1 in the electricity discount area (Scotland, Cumbria, North East), else 0",
    "protected_share": "1 in a protected designation, 0 checked and clear, NaN not checked",
    "in_flood_zone_3": "1 in Flood Zone 3, 0 checked and clear, NaN not checked",
    "deprivation_percentile": "within-nation deprivation percentile of the LAD holding the cell centre "
    "(NaN outside every LAD polygon or without deprivation data)",
    **{
        f"share_{d}": f"1 in a {DESIGNATION_LABELS.get(d, d)}, 0 checked and clear, NaN not checked"
        for d in TIER_DESIGNATIONS
    },
}


def apply_vf(vf: Any, values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Adapter to ``scoring.value_functions.apply_value_function`` (public name kept; scoring itself
    goes through ``scoring.kernel``)."""
    from scoring.value_functions import apply_value_function

    return apply_value_function(vf, values, reference)


def is_data_dependent(vf: Any) -> bool:
    """True for value functions whose output depends on a reference distribution."""
    from scoring.kernel import is_data_dependent as data_dependent

    return data_dependent(vf)


@dataclass(frozen=True)
class CellCriterion:
    name: str
    indicator: str
    weight: float  # renormalised over the kept criteria (sums to 1); what the tags report
    value_function: Any
    missing: str
    # the profile's effective weight, given to the kernel (None: use ``weight``)
    profile_weight: float | None = None

    @property
    def kernel_weight(self) -> float:
        return self.weight if self.profile_weight is None else self.profile_weight


@dataclass(frozen=True)
class CellExclusion:
    name: str
    indicator: str
    op: str
    value: float


@dataclass
class CriteriaPlan:
    """Criteria and exclusions of a profile that a cell can be scored on."""

    profile: str
    criteria: tuple[CellCriterion, ...]
    exclusions: tuple[CellExclusion, ...]
    dropped: tuple[str, ...] = ()
    dropped_exclusions: tuple[str, ...] = ()
    reference: dict[str, np.ndarray] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    penalties: tuple[Any, ...] = ()  # scoring.kernel.Penalty: designation tiers other than exclude
    sections_used: tuple[tuple[str, float], ...] = ()
    """(section, share of the cell score) for every section with a cell criterion; sums to 1."""
    sections_dropped: tuple[tuple[str, float], ...] = ()
    """(section, its profile weight) for every weighted section none of whose criteria has a cell
    equivalent: its weight is not in the surface (the other sections keep their ratios)."""

    @property
    def indicators(self) -> list[str]:
        seen = dict.fromkeys(c.indicator for c in self.criteria)
        seen.update(dict.fromkeys(e.indicator for e in self.exclusions))
        seen.update(dict.fromkeys(p.indicator for p in self.penalties))
        return list(seen)

    @property
    def needs_reference(self) -> bool:
        return any(is_data_dependent(c.value_function) or c.missing == "median" for c in self.criteria)

    def set_reference(self, values: dict[str, np.ndarray]) -> None:
        """Store the national reference distribution (finite values per indicator) and the value the
        ``median`` rule fills in for each criterion (its median over the reference; 0.5 without one)."""
        from scoring.kernel import median_value

        self.reference = {k: np.asarray(v, dtype=np.float64)[np.isfinite(v)] for k, v in values.items()}
        self.medians = {}
        for c in self.criteria:
            if c.missing == "median":
                ref = self.reference.get(c.indicator)
                self.medians[c.name] = median_value(c.value_function, ref, ref) if ref is not None else 0.5

    def _ref_for(self, c: CellCriterion) -> np.ndarray | None:
        if is_data_dependent(c.value_function):
            ref = self.reference.get(c.indicator)
            if ref is None or ref.size == 0:
                raise ValueError(
                    f"criterion {c.name}: value function {c.value_function.type} needs the national "
                    "reference distribution; call plan.set_reference() first"
                )
            return ref
        return None

    def weighting_note(self) -> str:
        """One sentence on how the profile's weights reach the cells (tags, run record, CLI)."""
        note = (
            "criteria without a cell equivalent are dropped and their weight stays in their section "
            "(shared by the section's other criteria)"
        )
        if self.sections_dropped:
            lost = ", ".join(f"{s} ({w:g})" for s, w in self.sections_dropped)
            note += (
                f"; sections with no cell criterion are not in the surface: {lost} of the profile's "
                "section weight; the other sections are rescaled with their ratios kept"
            )
        return note

    def to_tags(self) -> dict[str, str]:
        return {
            "profile": self.profile,
            "criteria_used": ",".join(f"{c.name}={c.weight:.6f}" for c in self.criteria),
            "criteria_dropped": ",".join(self.dropped),
            "sections_used": ",".join(f"{s}={w:.6f}" for s, w in self.sections_used),
            "sections_dropped": ",".join(f"{s}={w:g}" for s, w in self.sections_dropped),
            "weighting": self.weighting_note(),
            "exclusions_used": ",".join(f"{e.name}:{e.indicator}{e.op}{e.value:g}" for e in self.exclusions),
            "exclusions_dropped": ",".join(self.dropped_exclusions),
            "penalties_used": ",".join(
                f"{p.name}:{p.mode} {p.amount:g} where {p.indicator}>{p.min_share:g}" for p in self.penalties
            ),
        }


def plan_from_profile(
    profile: Any, extra_exclusions: tuple[tuple[str, str, float], ...] = ()
) -> CriteriaPlan:
    """Keep the criteria whose indicator is a cell indicator; a dropped criterion's weight stays in its
    section (shared by the section's kept criteria), a section with none kept loses its weight.

    ``profile`` is a ``scoring.Profile`` (``.name``, ``.criteria``, ``.weights``, ``.exclusions``).
    """
    from scoring.kernel import OPS

    kept, dropped = [], []
    for c in profile.criteria:
        (kept if c.indicator in CELL_INDICATORS else dropped).append(c)
    # within-section redistribution: a section's weight is shared by its kept criteria only
    kept_sum: dict[str, float] = {}
    for c in kept:
        kept_sum[c.section] = kept_sum.get(c.section, 0.0) + float(c.weight)
    raw = {
        c.name: float(profile.sections[c.section].weight) * float(c.weight) / kept_sum[c.section]
        if kept_sum[c.section] > 0
        else 0.0
        for c in kept
    }
    total = math.fsum(raw.values())  # the arithmetic of scoring.Profile.weights, bit for bit
    if not kept or total <= 0:
        raise InvalidInputError(
            f"profile {profile.name!r} has no positively weighted criterion with a cell equivalent "
            f"(cell indicators: {', '.join(CELL_INDICATORS)})"
        )
    criteria = tuple(
        CellCriterion(c.name, c.indicator, raw[c.name] / total, c.value_function, c.missing) for c in kept
    )
    section_share: dict[str, float] = {}
    for c in criteria:
        sec = next(k.section for k in kept if k.name == c.name)
        section_share[sec] = section_share.get(sec, 0.0) + c.weight
    sections_used = tuple((s, section_share[s]) for s in profile.sections if s in section_share)
    scored = {c.section for c in profile.criteria}
    sections_dropped = tuple(
        (s, float(sec.weight))
        for s, sec in profile.sections.items()
        if s in scored and s not in section_share and float(sec.weight) > 0
    )
    from scoring.engine import tier_exclusions
    from scoring.kernel import tier_penalties

    excl, excl_dropped = [], []
    for e in tuple(profile.exclusions) + tier_exclusions(profile):
        if e.indicator in CELL_INDICATORS and not isinstance(e.value, str):
            excl.append(CellExclusion(e.name, e.indicator, e.op, float(e.value)))
        else:
            excl_dropped.append(e.name)
    penalties = []
    for pen in tier_penalties(profile):
        (penalties if pen.indicator in CELL_INDICATORS else excl_dropped).append(pen)
    seen = {(e.indicator, e.op, e.value) for e in excl}
    for ind, op, val in extra_exclusions:
        if ind not in CELL_INDICATORS or op not in OPS:
            raise InvalidInputError(
                f"extra exclusion ({ind!r}, {op!r}, {val!r}): unknown indicator or operator"
            )
        if (ind, op, float(val)) not in seen:
            excl.append(CellExclusion(f"extra_{ind}", ind, op, float(val)))
            seen.add((ind, op, float(val)))
    return CriteriaPlan(
        profile.name,
        criteria,
        tuple(excl),
        tuple(c.name for c in dropped),
        tuple(e if isinstance(e, str) else e.name for e in excl_dropped),
        penalties=tuple(penalties),
        sections_used=sections_used,
        sections_dropped=sections_dropped,
    )


def load_plan(profile_name: str, extra_exclusions: tuple[tuple[str, str, float], ...] = ()) -> CriteriaPlan:
    import scoring

    return plan_from_profile(scoring.load_profile(profile_name), extra_exclusions)


def score_cells(plan: CriteriaPlan, ind: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score 1-D arrays of cell indicators with ``scoring.kernel.score_arrays``.

    Returns ``(score, excluded, unknown)``: score in [0, 1] before exclusions, after designation-tier
    penalties (NaN if no weighted criterion has a value), and boolean excluded / unknown (not
    excluded, but some exclusion could not be checked, or a criterion with missing rule ``exclude``
    had no value).
    """
    from scoring.kernel import WeightedCriterion, score_arrays

    criteria = [
        WeightedCriterion(c.name, c.indicator, c.kernel_weight, c.value_function, c.missing)
        for c in plan.criteria
    ]
    reference: dict[str, np.ndarray] = {}
    for c in plan.criteria:
        ref = plan._ref_for(c)
        if ref is not None:
            reference[c.indicator] = ref
    medians = {c.name: plan.medians.get(c.name, 0.5) for c in plan.criteria if c.missing == "median"}
    res = score_arrays(
        criteria,
        ind,
        exclusions=plan.exclusions,
        penalties=plan.penalties,
        reference=reference,
        medians=medians,
        keep_values=False,
    )
    excluded = res.excluded
    unknown = (res.any_unchecked | res.missing_exclude) & ~excluded
    return res.score, excluded, unknown

"""Map a scoring profile onto cell indicators: which criteria a cell can be scored on, their
renormalised weights, missing rules, and which exclusions apply per cell.

The scoring engine (``scoring``) works on a table of rows; a surface works on arrays of cells. This
module keeps the per-cell arithmetic close to ``scoring.engine`` (same value functions, same
missing rules) but vectorised over a tile:

* ``worst`` -> 0, ``neutral`` -> 0.5, ``median`` -> the median of the value function over the fixed
  national reference lattice (see ``SurfaceSpec.reference_resolution_m``),
* ``renormalise`` -> the criterion is dropped for that cell and the remaining weights of the cell are
  renormalised to sum to 1,
* ``exclude`` -> dropped as for ``renormalise`` and the cell's exclusion state becomes UNKNOWN (a
  missing value is not evidence that the cell is ruled out).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Cell indicators the surface can compute, with their units / meaning.
CELL_INDICATORS: dict[str, str] = {
    "dist_substation_km": "km to the nearest transmission substation or GSP (exact Euclidean)",
    "dist_ix_km": "km to the nearest internet exchange building (exact Euclidean)",
    "dist_landing_km": "km to the nearest submarine cable landing point (exact Euclidean)",
    "dist_circuit_km": "km to the nearest transmission circuit (>= 275 kV; densified lines, see tile.py)",
    "rtt_london_ms": "2 x straight km to the nearest London IX x route factor / fibre km per ms",
    "population_30km": "residents within 30 km (1 km population convolved with a disc)",
    "population_50km": "residents within 50 km (1 km population convolved with a disc)",
    "in_discount_area": "1 in the electricity discount area (Scotland, Cumbria, North East), else 0",
    "protected_share": "1 in a protected designation, 0 checked and clear, NaN not checked",
    "in_flood_zone_3": "1 in Flood Zone 3, 0 checked and clear, NaN not checked",
}

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def apply_vf(vf: Any, values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Adapter to ``scoring.value_functions.apply_value_function`` (the one place it is called)."""
    from scoring.value_functions import apply_value_function

    return apply_value_function(vf, values, reference)


def is_data_dependent(vf: Any) -> bool:
    """True for value functions whose output depends on a reference distribution."""
    t = getattr(vf, "type", "")
    return t == "percentile" or (t == "linear" and (vf.min is None or vf.max is None))


@dataclass(frozen=True)
class CellCriterion:
    name: str
    indicator: str
    weight: float  # renormalised over the kept criteria (sums to 1)
    value_function: Any
    missing: str


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

    @property
    def indicators(self) -> list[str]:
        seen = dict.fromkeys(c.indicator for c in self.criteria)
        seen.update(dict.fromkeys(e.indicator for e in self.exclusions))
        return list(seen)

    @property
    def needs_reference(self) -> bool:
        return any(is_data_dependent(c.value_function) or c.missing == "median" for c in self.criteria)

    def set_reference(self, values: dict[str, np.ndarray]) -> None:
        """Store the national reference distribution (finite values per indicator)."""
        self.reference = {k: np.asarray(v, dtype=np.float64)[np.isfinite(v)] for k, v in values.items()}
        self.medians = {}
        for c in self.criteria:
            if c.missing == "median":
                ref = self.reference.get(c.indicator)
                vals = (
                    apply_vf(c.value_function, ref, self._ref_for(c))
                    if ref is not None and ref.size
                    else None
                )
                self.medians[c.name] = float(np.median(vals)) if vals is not None and vals.size else 0.5

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

    def to_tags(self) -> dict[str, str]:
        return {
            "profile": self.profile,
            "criteria_used": ",".join(f"{c.name}={c.weight:.6f}" for c in self.criteria),
            "criteria_dropped": ",".join(self.dropped),
            "exclusions_used": ",".join(f"{e.name}:{e.indicator}{e.op}{e.value:g}" for e in self.exclusions),
            "exclusions_dropped": ",".join(self.dropped_exclusions),
        }


def plan_from_profile(
    profile: Any, extra_exclusions: tuple[tuple[str, str, float], ...] = ()
) -> CriteriaPlan:
    """Keep the criteria whose indicator is a cell indicator, renormalise their effective weights.

    ``profile`` is a ``scoring.Profile`` (``.name``, ``.criteria``, ``.weights``, ``.exclusions``).
    """
    weights = profile.weights
    kept, dropped = [], []
    for c in profile.criteria:
        (kept if c.indicator in CELL_INDICATORS else dropped).append(c)
    total = float(sum(float(weights[c.name]) for c in kept))
    if not kept or total <= 0:
        raise ValueError(
            f"profile {profile.name!r} has no positively weighted criterion with a cell equivalent "
            f"(cell indicators: {', '.join(CELL_INDICATORS)})"
        )
    criteria = tuple(
        CellCriterion(c.name, c.indicator, float(weights[c.name]) / total, c.value_function, c.missing)
        for c in kept
    )
    excl, excl_dropped = [], []
    for e in profile.exclusions:
        if e.indicator in CELL_INDICATORS and not isinstance(e.value, str):
            excl.append(CellExclusion(e.name, e.indicator, e.op, float(e.value)))
        else:
            excl_dropped.append(e.name)
    seen = {(e.indicator, e.op, e.value) for e in excl}
    for ind, op, val in extra_exclusions:
        if ind not in CELL_INDICATORS or op not in _OPS:
            raise ValueError(f"extra exclusion ({ind!r}, {op!r}, {val!r}): unknown indicator or operator")
        if (ind, op, float(val)) not in seen:
            excl.append(CellExclusion(f"extra_{ind}", ind, op, float(val)))
            seen.add((ind, op, float(val)))
    return CriteriaPlan(
        profile.name, criteria, tuple(excl), tuple(c.name for c in dropped), tuple(excl_dropped)
    )


def load_plan(profile_name: str, extra_exclusions: tuple[tuple[str, str, float], ...] = ()) -> CriteriaPlan:
    import scoring

    return plan_from_profile(scoring.load_profile(profile_name), extra_exclusions)


def score_cells(plan: CriteriaPlan, ind: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score 1-D arrays of cell indicators.

    Returns ``(score, excluded, unknown)``: score in [0, 1] before exclusions (NaN if no weighted
    criterion has a value), and boolean excluded / unknown (not excluded, but some exclusion could not
    be checked, or a criterion with missing rule ``exclude`` had no value).
    """
    n = len(next(iter(ind.values()))) if ind else 0
    num = np.zeros(n, dtype=np.float64)
    den = np.zeros(n, dtype=np.float64)
    unknown = np.zeros(n, dtype=bool)
    for c in plan.criteria:
        raw = ind[c.indicator].astype(np.float64, copy=False)
        v = apply_vf(c.value_function, raw, plan._ref_for(c))
        miss = np.isnan(raw)
        w_cell = np.full(n, c.weight)
        if miss.any():
            if c.missing == "worst":
                v[miss] = 0.0
            elif c.missing == "neutral":
                v[miss] = 0.5
            elif c.missing == "median":
                v[miss] = plan.medians.get(c.name, 0.5)
            elif c.missing in ("renormalise", "exclude"):
                w_cell[miss] = 0.0
                v[miss] = 0.0
                if c.missing == "exclude":
                    unknown |= miss
            else:
                raise ValueError(f"criterion {c.name}: unknown missing rule {c.missing!r}")
        num += w_cell * v
        den += w_cell
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, np.clip(num / np.where(den > 0, den, 1.0), 0.0, 1.0), np.nan)
    excluded = np.zeros(n, dtype=bool)
    for e in plan.exclusions:
        x = ind[e.indicator].astype(np.float64, copy=False)
        nan = np.isnan(x)
        with np.errstate(invalid="ignore"):
            hit = _OPS[e.op](x, e.value) & ~nan
        excluded |= hit
        unknown |= nan
    unknown &= ~excluded
    return score, excluded, unknown

"""Pure scoring engine for growth-zones: indicators table + profile -> scores and ranks.

This package imports only the standard library, numpy and pandas. It never fetches data, writes
files or renders HTML; the only I/O is reading a TOML profile (a path, or a bundled profile via
importlib.resources). See ``scoring/README.md`` for the profile format.
"""

from __future__ import annotations

from .engine import ELIGIBILITY, GATE_ORDER, RANKING_RULE, ScoreResult, score
from .errors import ScoringConfigError
from .profile import (
    MISSING_RULES,
    Criterion,
    DesignationTier,
    Exclusion,
    Gate,
    NationPolicy,
    Profile,
    Section,
    ZoneSizes,
    list_profiles,
    load_profile,
    parse_profile,
    profile_from_dict,
)
from .sensitivity import GATE_FACTORS, SwitchOff, gate_sensitivity, sensitivity, switch_off
from .value_functions import (
    Boolean,
    Decay,
    Linear,
    Percentile,
    Steps,
    ValueFunction,
    apply_value_function,
    value_function_from_dict,
)

__all__ = [
    "ScoringConfigError",
    "load_profile",
    "parse_profile",
    "profile_from_dict",
    "list_profiles",
    "Profile",
    "Section",
    "Criterion",
    "Exclusion",
    "ZoneSizes",
    "Gate",
    "DesignationTier",
    "NationPolicy",
    "MISSING_RULES",
    "ELIGIBILITY",
    "GATE_ORDER",
    "GATE_FACTORS",
    "RANKING_RULE",
    "gate_sensitivity",
    "score",
    "ScoreResult",
    "sensitivity",
    "switch_off",
    "SwitchOff",
    "ValueFunction",
    "Linear",
    "Percentile",
    "Steps",
    "Decay",
    "Boolean",
    "apply_value_function",
    "value_function_from_dict",
]

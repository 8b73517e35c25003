"""Pure scoring engine for growth-zones: indicators table + profile -> scores and ranks.

This package imports only the standard library, numpy and pandas. It never fetches data, writes
files or renders HTML; the only I/O is reading a TOML profile (a path, or a bundled profile via
importlib.resources). See ``scoring/README.md`` for the profile format.
"""

from __future__ import annotations

from .engine import ScoreResult, score
from .errors import ScoringConfigError
from .profile import (
    MISSING_RULES,
    Criterion,
    Exclusion,
    Profile,
    Section,
    ZoneSizes,
    list_profiles,
    load_profile,
    parse_profile,
    profile_from_dict,
)
from .sensitivity import SwitchOff, sensitivity, switch_off
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
    "MISSING_RULES",
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

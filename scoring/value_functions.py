"""Value functions: map raw indicator values to a 0..1 "goodness" value.

Every function takes a float array (any shape; NaN = missing) and returns a float array of the same
shape with values in [0, 1]; NaN stays NaN (the profile's missing-value rule deals with it later).

The spec dataclasses are reusable on raster arrays: build one with :func:`value_function_from_dict`
(or the dataclass constructors, which validate too) and call :func:`apply_value_function`. Functions
that depend on the observed data (``linear`` without ``min``/``max``, ``percentile``) use
``reference`` when given (e.g. the national distribution), otherwise the values themselves.

Types (TOML: ``value_function = { type = "...", ... }``):

``linear``      ``direction = "higher"|"lower"`` (required), ``min``, ``max`` (optional; a missing
                bound is the observed min/max of the finite reference values). Clipped to [0, 1].
                If the observed range is degenerate (all values equal) every value gets 1.0 for
                either direction: nothing distinguishes the rows, so nobody is penalised. If only one
                bound is explicit and the observed data lie wholly beyond it, the function is a step
                at the explicit bound (``x >= bound`` -> 1 for "higher", ``x <= bound`` for "lower").
``percentile``  ``direction``. Average-rank percentile among the non-missing reference values,
                (avg_rank - 1) / (n - 1) in [0, 1]; a single value gets 1.0; all-equal values 0.5.
``steps``       ``breaks`` (strictly increasing), ``scores`` (len(breaks) + 1 values in [0, 1]);
                x scores ``scores[i]`` with i = number of breaks <= x.
``decay``       ``half_distance`` (> 0): 0.5 ** (max(x, 0) / half_distance). Lower is better.
``boolean``     ``true_score`` (default 1), ``false_score`` (default 0); any non-zero value is true.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar, TypeAlias, TypeGuard

import numpy as np
import numpy.typing as npt

from .errors import ScoringConfigError

__all__ = [
    "Linear",
    "Percentile",
    "Steps",
    "Decay",
    "Boolean",
    "ValueFunction",
    "VALUE_FUNCTION_TYPES",
    "apply_value_function",
    "value_function_from_dict",
    "parse_value_function",
]

DIRECTIONS = ("higher", "lower")


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, str) else str(v)


def _is_number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Base:
    type: ClassVar[str]

    def __post_init__(self) -> None:
        problems = self._semantic_problems(self._params(), f"value_function({self.type})")
        if problems:
            raise ScoringConfigError(problems)

    def _params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}  # type: ignore[attr-defined]

    @classmethod
    def _semantic_problems(cls, params: Mapping[str, Any], where: str) -> list[str]:
        return []

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for k, v in self._params().items():
            if v is None:
                continue
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    @property
    def better(self) -> str:
        """'higher', 'lower' or 'mixed': which raw values score better (for explanations)."""
        return "higher"


@dataclass(frozen=True)
class Linear(_Base):
    direction: str
    min: float | None = None
    max: float | None = None
    type: ClassVar[str] = "linear"

    @classmethod
    def _semantic_problems(cls, params: Mapping[str, Any], where: str) -> list[str]:
        out = []
        if params.get("direction") not in DIRECTIONS:
            out.append(f"{where}.direction: must be 'higher' or 'lower' (got {params.get('direction')!r})")
        lo, hi = params.get("min"), params.get("max")
        for k, v in (("min", lo), ("max", hi)):
            if v is not None and not _is_number(v):
                out.append(f"{where}.{k}: must be a finite number (got {v!r})")
        if _is_number(lo) and _is_number(hi) and not hi > lo:
            out.append(f"{where}.max: must be > min (got min={_fmt(lo)}, max={_fmt(hi)})")
        return out

    @property
    def better(self) -> str:
        return self.direction


@dataclass(frozen=True)
class Percentile(_Base):
    direction: str
    type: ClassVar[str] = "percentile"

    @classmethod
    def _semantic_problems(cls, params: Mapping[str, Any], where: str) -> list[str]:
        if params.get("direction") not in DIRECTIONS:
            return [f"{where}.direction: must be 'higher' or 'lower' (got {params.get('direction')!r})"]
        return []

    @property
    def better(self) -> str:
        return self.direction


@dataclass(frozen=True)
class Steps(_Base):
    breaks: tuple[float, ...]
    scores: tuple[float, ...]
    type: ClassVar[str] = "steps"

    def __post_init__(self) -> None:
        object.__setattr__(self, "breaks", tuple(self.breaks))
        object.__setattr__(self, "scores", tuple(self.scores))
        super().__post_init__()

    @classmethod
    def _semantic_problems(cls, params: Mapping[str, Any], where: str) -> list[str]:
        out = []
        breaks, scores = list(params.get("breaks") or ()), list(params.get("scores") or ())
        if not breaks:
            out.append(f"{where}.breaks: must be a non-empty list of numbers")
        if any(not _is_number(b) for b in breaks):
            out.append(f"{where}.breaks: every break must be a finite number (got {breaks!r})")
        elif any(b2 <= b1 for b1, b2 in pairwise(breaks)):
            out.append(f"{where}.breaks: must be strictly increasing (got {[_fmt(b) for b in breaks]})")
        if len(scores) != len(breaks) + 1:
            out.append(
                f"{where}.scores: must have len(breaks) + 1 = {len(breaks) + 1} values (got {len(scores)})"
            )
        bad = [s for s in scores if not (_is_number(s) and 0.0 <= s <= 1.0)]
        if bad:
            out.append(f"{where}.scores: every score must be a number in [0, 1] (got {bad!r})")
        return out

    @property
    def better(self) -> str:
        s = self.scores
        if all(b >= a for a, b in pairwise(s)):
            return "higher"
        if all(b <= a for a, b in pairwise(s)):
            return "lower"
        return "mixed"


@dataclass(frozen=True)
class Decay(_Base):
    half_distance: float
    type: ClassVar[str] = "decay"

    @classmethod
    def _semantic_problems(cls, params: Mapping[str, Any], where: str) -> list[str]:
        hd = params.get("half_distance")
        if not (_is_number(hd) and hd > 0):
            return [f"{where}.half_distance: must be a number > 0 (got {_fmt(hd)})"]
        return []

    @property
    def better(self) -> str:
        return "lower"


@dataclass(frozen=True)
class Boolean(_Base):
    true_score: float = 1.0
    false_score: float = 0.0
    type: ClassVar[str] = "boolean"

    @classmethod
    def _semantic_problems(cls, params: Mapping[str, Any], where: str) -> list[str]:
        out = []
        for k in ("true_score", "false_score"):
            v = params.get(k)
            if not (_is_number(v) and 0.0 <= v <= 1.0):
                out.append(f"{where}.{k}: must be a number in [0, 1] (got {_fmt(v)})")
        return out

    @property
    def better(self) -> str:
        return "higher" if self.true_score >= self.false_score else "lower"


ValueFunction: TypeAlias = Linear | Percentile | Steps | Decay | Boolean

_CLASSES: tuple[type[ValueFunction], ...] = (Linear, Percentile, Steps, Decay, Boolean)
VALUE_FUNCTION_TYPES: dict[str, type[ValueFunction]] = {c.type: c for c in _CLASSES}

# parameter name -> (kind, required)
_PARAMS: dict[str, dict[str, tuple[str, bool]]] = {
    "linear": {"direction": ("str", True), "min": ("number", False), "max": ("number", False)},
    "percentile": {"direction": ("str", True)},
    "steps": {"breaks": ("numbers", True), "scores": ("numbers", True)},
    "decay": {"half_distance": ("number", True)},
    "boolean": {"true_score": ("number", False), "false_score": ("number", False)},
}


def parse_value_function(spec: Any, where: str) -> tuple[ValueFunction | None, list[str]]:
    """Validate a raw (TOML) value-function table; return ``(spec or None, problems)``.

    ``where`` is the location prefix used in problem messages, e.g.
    ``"aigz.toml: criteria.dist_gsp_km.value_function"``.
    """
    if not isinstance(spec, Mapping):
        return None, [f'{where}: must be a table like {{ type = "linear", ... }} (got {spec!r})']
    vtype = spec.get("type")
    if vtype is None:
        return None, [f"{where}.type: missing; one of {', '.join(_PARAMS)}"]
    if vtype not in _PARAMS:
        return None, [f"{where}.type: unknown value function type {vtype!r}; known: {', '.join(_PARAMS)}"]
    allowed = _PARAMS[vtype]
    problems: list[str] = []
    params: dict[str, Any] = {}
    for key in spec:
        if key != "type" and key not in allowed:
            problems.append(
                f"{where}.{key}: unknown parameter for type {vtype!r}; "
                f"allowed: {', '.join(allowed) or 'none'}"
            )
    type_ok = True
    for key, (kind, required) in allowed.items():
        if key not in spec:
            if required:
                problems.append(f"{where}.{key}: required for type {vtype!r}")
                type_ok = False
            continue
        v = spec[key]
        if kind == "number":
            if not _is_number(v):
                problems.append(f"{where}.{key}: must be a finite number (got {v!r})")
                type_ok = False
            else:
                params[key] = float(v)
        elif kind == "numbers":
            if not isinstance(v, (list, tuple)) or not all(_is_number(x) for x in v):
                problems.append(f"{where}.{key}: must be a list of finite numbers (got {v!r})")
                type_ok = False
            else:
                params[key] = tuple(float(x) for x in v)
        else:  # str
            if not isinstance(v, str):
                problems.append(f"{where}.{key}: must be a string (got {v!r})")
                type_ok = False
            else:
                params[key] = v
    if type_ok:
        cls = VALUE_FUNCTION_TYPES[vtype]
        full = {k: params.get(k, getattr(cls, k, None)) for k in allowed}
        if vtype == "boolean":
            full = {
                "true_score": params.get("true_score", 1.0),
                "false_score": params.get("false_score", 0.0),
            }
        problems.extend(cls._semantic_problems(full, where))
    if problems:
        return None, problems
    return VALUE_FUNCTION_TYPES[vtype](**params), []


def value_function_from_dict(spec: Mapping[str, Any], where: str = "value_function") -> ValueFunction:
    """Build a validated value-function spec from a dict (as in TOML); raise ScoringConfigError."""
    vf, problems = parse_value_function(spec, where)
    if problems:
        raise ScoringConfigError(problems)
    assert vf is not None
    return vf


def _finite(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = a[np.isfinite(a)]
    return out


def apply_value_function(
    vf: ValueFunction, values: npt.ArrayLike, reference: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """Map raw ``values`` (NaN = missing) to [0, 1] with ``vf``; NaN stays NaN.

    ``reference`` (optional) is the distribution used by ``linear`` without explicit bounds and by
    ``percentile``; it defaults to ``values`` itself. Works on arrays of any shape.
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan, dtype=np.float64)
    ok = ~np.isnan(x)
    xv = x[ok]
    if isinstance(vf, Decay):
        out[ok] = 0.5 ** (np.maximum(xv, 0.0) / vf.half_distance)
    elif isinstance(vf, Boolean):
        out[ok] = np.where(xv != 0, vf.true_score, vf.false_score)
    elif isinstance(vf, Steps):
        idx = np.searchsorted(np.asarray(vf.breaks, dtype=np.float64), xv, side="right")
        out[ok] = np.asarray(vf.scores, dtype=np.float64)[idx]
    elif isinstance(vf, Linear):
        lo, hi = vf.min, vf.max
        if lo is None or hi is None:
            ref = x if reference is None else np.asarray(reference, dtype=np.float64)
            fin = _finite(ref.ravel())
            if fin.size == 0:
                if xv.size:
                    raise ValueError("linear value function without min/max needs finite reference values")
                return out
            lo = float(fin.min()) if lo is None else lo
            hi = float(fin.max()) if hi is None else hi
        if hi > lo:
            with np.errstate(invalid="ignore"):
                t = (xv - lo) / (hi - lo) if vf.direction == "higher" else (hi - xv) / (hi - lo)
            out[ok] = np.clip(t, 0.0, 1.0)
        else:
            bound = vf.min if vf.min is not None else vf.max
            if bound is None:
                out[ok] = 1.0  # degenerate observed range: nothing distinguishes the rows
            else:
                hit = xv >= bound if vf.direction == "higher" else xv <= bound
                out[ok] = hit.astype(np.float64)
    elif isinstance(vf, Percentile):
        ref = x if reference is None else np.asarray(reference, dtype=np.float64)
        r = np.sort(ref[~np.isnan(ref)].ravel())
        n = r.size
        if n == 0:
            if xv.size:
                raise ValueError("percentile value function needs non-missing reference values")
            return out
        if n == 1:
            out[ok] = 1.0
        else:
            less = np.searchsorted(r, xv, side="left")
            le = np.searchsorted(r, xv, side="right")
            avg_rank = less + (le - less + 1) / 2.0  # 1-based average rank; between-values -> +0.5
            p = np.clip((avg_rank - 1.0) / (n - 1.0), 0.0, 1.0)
            out[ok] = p if vf.direction == "higher" else 1.0 - p
    else:  # pragma: no cover - guarded by the type union
        raise TypeError(f"not a value function spec: {vf!r}")
    return out

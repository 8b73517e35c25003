"""Scoring profiles: TOML -> validated, frozen :class:`Profile`.

See ``scoring/README.md`` for the file format. Every problem in a file is collected and reported at
once in a single :class:`~scoring.errors.ScoringConfigError`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ScoringConfigError
from .value_functions import ValueFunction, parse_value_function

__all__ = [
    "Profile",
    "ZoneSizes",
    "Section",
    "Criterion",
    "Exclusion",
    "Gate",
    "DesignationTier",
    "NationPolicy",
    "MISSING_RULES",
    "TIERS",
    "NATIONS",
    "OPS",
    "LEVELS",
    "load_profile",
    "parse_profile",
    "profile_from_dict",
    "list_profiles",
]

MISSING_RULES = ("worst", "neutral", "median", "exclude", "renormalise")
OPS = ("<", "<=", ">", ">=", "==", "!=")
LEVELS = ("region", "site")
TIERS = ("exclude", "exceptional", "constraint")
"""Designation tiers, strictest first: ``exclude`` (hard exclusion), ``exceptional`` (flagged with
the policy test, a heavy flat penalty), ``constraint`` (a penalty in proportion to the share)."""
NATIONS = ("England", "Scotland", "Wales")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_TOP_KEYS = ("meta", "sections", "criteria", "exclusions", "gates", "designations", "zones")
_ZONE_KEYS = ("max_area_km2", "min_area_ha")
_META_KEYS = ("name", "title", "level", "description", "missing_default")
_SECTION_KEYS = ("label", "weight", "description")
_CRITERION_KEYS = (
    "indicator",
    "section",
    "weight",
    "label",
    "unit",
    "description",
    "value_function",
    "missing",
    "policy",
)
_EXCLUSION_KEYS = ("name", "indicator", "op", "value", "reason")
_GATE_KEYS = ("indicator", "op", "value", "label", "source", "description", "fail_reason")
_TIER_KEYS = (
    "indicator",
    "label",
    "tier",
    "penalty",
    "min_share",
    "policy_test",
    "source",
    "url",
    "nations",
)
_NATION_KEYS = ("policy_test", "source", "url")


@dataclass(frozen=True)
class Section:
    name: str
    label: str
    weight: float
    description: str = ""


@dataclass(frozen=True)
class Criterion:
    name: str
    indicator: str
    section: str
    weight: float
    value_function: ValueFunction
    missing: str
    label: str = ""
    unit: str = ""
    description: str = ""
    policy: bool = False
    """A policy preference rather than a measured siting condition (e.g. the electricity discount
    area): sensitivity reports the ranking with it switched off. Boolean criteria always are."""

    @property
    def switchable(self) -> bool:
        """Reported by the switch-off sensitivity: declared ``policy`` or a boolean value function."""
        return self.policy or self.value_function.type == "boolean"


@dataclass(frozen=True)
class Exclusion:
    name: str
    indicator: str
    op: str
    value: float | bool | str
    reason: str


@dataclass(frozen=True)
class ZoneSizes:
    """Size bounds of the surface's candidate zones (``[zones]`` in a profile).

    ``max_area_km2``: no zone is larger (bigger contiguous areas are split); ``min_area_ha``: no
    zone is smaller (the land a campus of the profile's intended size needs)."""

    max_area_km2: float = 25.0
    min_area_ha: float = 50.0


@dataclass(frozen=True)
class Gate:
    """A non-compensatory deliverability gate: the row passes when ``indicator <op> value`` holds,
    fails when it does not, and is unknown when the indicator is missing (never a pass).

    ``fail_reason``: plain words for a failed row, with ``{value}`` for the indicator value (e.g.
    ``"nearest transmission node {value:.1f} km away"``); the engine appends ``(gate: <label>)``.
    """

    name: str
    indicator: str
    op: str
    value: float | bool
    label: str
    source: str
    description: str = ""
    fail_reason: str = ""


@dataclass(frozen=True)
class NationPolicy:
    """The policy test for a designation in one nation and the public source that states it."""

    policy_test: str
    source: str
    url: str


@dataclass(frozen=True)
class DesignationTier:
    """How a designation counts against a site: its tier, penalty and the policy test that applies.

    The tier applies where the share of the row inside the designation (``indicator``, 0..1) is
    above ``min_share``: ``exclude`` makes the row ineligible; ``exceptional`` flags it with the
    policy test and multiplies its score by ``1 - penalty``; ``constraint`` by
    ``1 - penalty * share``. Several tiers add their penalties (capped at the whole score). A
    missing share leaves the tier *unknown* (reported, never a pass). ``policy_test``/``source``/
    ``url`` are the English policy, ``nations`` the Welsh and Scottish ones where they differ.
    """

    name: str
    indicator: str
    label: str
    tier: str
    penalty: float
    min_share: float
    policy_test: str
    source: str
    url: str
    nations: Mapping[str, NationPolicy] = field(default_factory=dict)

    def policy_for(self, nation: str) -> NationPolicy:
        """The policy that applies in ``nation`` (the English one where no other is declared)."""
        return self.nations.get(nation) or NationPolicy(self.policy_test, self.source, self.url)

    def sources_text(self, nation: str) -> str:
        """ "Planning Policy Wales; NPPF in England" for a Welsh row; "NPPF" for an English one."""
        own = self.policy_for(nation).source
        if nation in self.nations and self.nations[nation].source != self.source:
            return f"{own}; {self.source} in England"
        return own

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "label": self.label,
            "tier": self.tier,
            "penalty": self.penalty,
            "min_share": self.min_share,
            "policy_test": self.policy_test,
            "source": self.source,
            "url": self.url,
            "nations": {k: dataclasses.asdict(v) for k, v in self.nations.items()},
        }


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    level: str
    description: str
    sections: dict[str, Section]
    criteria: tuple[Criterion, ...]
    exclusions: tuple[Exclusion, ...] = ()
    missing_default: str = "worst"
    source: str = field(default="<string>", compare=False)
    zones: ZoneSizes = field(default_factory=ZoneSizes)
    gates: tuple[Gate, ...] = ()
    designations: tuple[DesignationTier, ...] = ()

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> pd.Series:
        """Effective normalised weight per criterion (index = criterion name), summing to 1.

        effective(c) = section.weight * c.weight / sum(weights of criteria in c's section), then
        normalised over all criteria. Sections without criteria take no part.
        """
        return _effective_weights(self.sections, self.criteria)

    @property
    def criterion_names(self) -> list[str]:
        return [c.name for c in self.criteria]

    @property
    def indicators(self) -> list[str]:
        """Indicator columns this profile reads (criteria then exclusions, de-duplicated)."""
        seen: dict[str, None] = {}
        for c in self.criteria:
            seen.setdefault(c.indicator, None)
        for e in self.exclusions:
            seen.setdefault(e.indicator, None)
        for g in self.gates:
            seen.setdefault(g.indicator, None)
        for d in self.designations:
            seen.setdefault(d.indicator, None)
        return list(seen)

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.name == name:
                return c
        raise KeyError(name)

    def with_weights(self, mapping: Mapping[str, float]) -> Profile:
        """Return a copy with some weights overridden.

        Keys are criterion names (weight relative within the criterion's section, as in the TOML)
        or ``"sections.<name>"`` for a section weight. The result is re-validated; problems raise
        :class:`ScoringConfigError`.
        """
        data = self.to_dict()
        problems = []
        for key, w in mapping.items():
            if key.startswith("sections."):
                sname = key.split(".", 1)[1]
                if sname not in data["sections"]:
                    problems.append(
                        f"with_weights: unknown section {sname!r}; known: {', '.join(data['sections'])}"
                    )
                    continue
                data["sections"][sname]["weight"] = w
            elif key in data["criteria"]:
                data["criteria"][key]["weight"] = w
            else:
                problems.append(
                    f"with_weights: unknown criterion {key!r}; known: {', '.join(data['criteria'])}"
                    " (use 'sections.<name>' for a section)"
                )
        if problems:
            raise ScoringConfigError(problems)
        return profile_from_dict(data, source=f"{self.source} (with_weights)")

    @property
    def scored_sections(self) -> list[str]:
        """Sections that hold at least one criterion, in profile order (the ``section_<name>``
        columns of a score table)."""
        used = {c.section for c in self.criteria}
        return [s for s in self.sections if s in used]

    def without(self, *names: str) -> Profile:
        """A copy with the named criteria removed (switched off). Their section keeps its weight
        and its other criteria share it; a section left with no criteria gets weight 0, so the
        remaining sections are rescaled. Raises :class:`ScoringConfigError` for unknown names or
        when nothing positively weighted would remain."""
        data = self.to_dict()
        unknown = [n for n in names if n not in data["criteria"]]
        if unknown:
            raise ScoringConfigError(
                [f"without: unknown criterion {n!r}; known: {', '.join(data['criteria'])}" for n in unknown]
            )
        for n in names:
            del data["criteria"][n]
        left = {c["section"] for c in data["criteria"].values()}
        for sname, sec in data["sections"].items():
            if sname not in left:
                sec["weight"] = 0.0
        return profile_from_dict(data, source=f"{self.source} (without {', '.join(names)})")

    def with_gates(self, mapping: Mapping[str, float | bool]) -> Profile:
        """Return a copy with some gate thresholds (``value``) replaced, re-validated."""
        return self._with("with_gates", "gates", "gate", "value", mapping)

    def with_tiers(self, mapping: Mapping[str, str]) -> Profile:
        """Return a copy with some designation tiers replaced (e.g. ``{"national_park": "exclude"}``
        for a stricter reading of policy), re-validated."""
        return self._with("with_tiers", "designations", "designation", "tier", mapping)

    def _with(self, method: str, part: str, noun: str, key: str, mapping: Mapping[str, Any]) -> Profile:
        """A copy with ``key`` of some ``[part.<name>]`` tables replaced; unknown names are errors."""
        data = self.to_dict()
        problems = [
            f"{method}: unknown {noun} {k!r}; known: {', '.join(data[part]) or 'none'}"
            for k in mapping
            if k not in data[part]
        ]
        if problems:
            raise ScoringConfigError(problems)
        for k, v in mapping.items():
            data[part][k][key] = v
        return profile_from_dict(data, source=f"{self.source} ({method})")

    def gate(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form mirroring the TOML layout (round-trips through :func:`profile_from_dict`)."""
        return {
            "meta": {
                "name": self.name,
                "title": self.title,
                "level": self.level,
                "description": self.description,
                "missing_default": self.missing_default,
            },
            "sections": {
                s.name: {"label": s.label, "weight": s.weight, "description": s.description}
                for s in self.sections.values()
            },
            "criteria": {
                c.name: {
                    "indicator": c.indicator,
                    "section": c.section,
                    "weight": c.weight,
                    "label": c.label,
                    "unit": c.unit,
                    "description": c.description,
                    "value_function": c.value_function.to_dict(),
                    "missing": c.missing,
                    "policy": c.policy,
                }
                for c in self.criteria
            },
            "exclusions": [dataclasses.asdict(e) for e in self.exclusions],
            "zones": dataclasses.asdict(self.zones),
            "gates": {
                g.name: {k: v for k, v in dataclasses.asdict(g).items() if k != "name"} for g in self.gates
            },
            "designations": {d.name: d.to_dict() for d in self.designations},
        }


def _effective_weights(sections: Mapping[str, Section], criteria: Iterable[Criterion]) -> pd.Series:
    criteria = list(criteria)
    sums: dict[str, float] = {}
    for c in criteria:
        sums[c.section] = sums.get(c.section, 0.0) + c.weight
    raw = []
    for c in criteria:
        s = sums[c.section]
        raw.append(sections[c.section].weight * c.weight / s if s > 0 else 0.0)
    total = math.fsum(raw)
    vals = [r / total if total > 0 else 0.0 for r in raw]
    return pd.Series(
        vals, index=pd.Index([c.name for c in criteria], dtype=object), name="weight", dtype="float64"
    )


# ---------------------------------------------------------------------- parsing
def _is_weight(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_weight(v: Any, where: str, problems: list[str]) -> float | None:
    if not _is_weight(v) or not math.isfinite(v):
        problems.append(f"{where}: must be a finite number >= 0 (got {v!r})")
        return None
    if v < 0:
        problems.append(f"{where}: must be >= 0 (got {v!r})")
        return None
    return float(v)


def _check_str(v: Any, where: str, problems: list[str], *, required: bool = False, default: str = "") -> str:
    if v is None:
        if required:
            problems.append(f"{where}: required")
        return default
    if not isinstance(v, str):
        problems.append(f"{where}: must be a string (got {v!r})")
        return default
    return v


def _unknown_keys(
    table: Mapping[str, Any], allowed: tuple[str, ...], where: str, problems: list[str]
) -> None:
    for k in table:
        if k not in allowed:
            problems.append(f"{where}{k}: unknown key; allowed: {', '.join(allowed)}")


def profile_from_dict(
    data: Mapping[str, Any], *, source: str = "<dict>", indicators: Iterable[str] | None = None
) -> Profile:
    """Validate a parsed profile mapping (the TOML structure) and build a :class:`Profile`."""
    src = f"{source}: "
    problems: list[str] = []
    known_ind = None if indicators is None else list(dict.fromkeys(indicators))
    if not isinstance(data, Mapping):
        raise ScoringConfigError([f"{source}: profile must be a table"])
    _unknown_keys(data, _TOP_KEYS, src, problems)

    # ---- meta
    meta = data.get("meta", {})
    if not isinstance(meta, Mapping):
        problems.append(f"{src}meta: must be a table")
        meta = {}
    if "meta" not in data:
        problems.append(f"{src}meta: missing [meta] table (needs at least name and level)")
    _unknown_keys(meta, _META_KEYS, f"{src}meta.", problems)
    name = _check_str(meta.get("name"), f"{src}meta.name", problems, required="meta" in data)
    title = _check_str(meta.get("title"), f"{src}meta.title", problems, default=name)
    description = _check_str(meta.get("description"), f"{src}meta.description", problems)
    level = meta.get("level")
    if level not in LEVELS:
        got = "missing" if level is None else f"got {level!r}"
        problems.append(f"{src}meta.level: must be 'region' or 'site' ({got})")
    missing_default = meta.get("missing_default", "worst")
    if missing_default not in MISSING_RULES:
        problems.append(
            f"{src}meta.missing_default: unknown missing rule {missing_default!r}; "
            f"known: {', '.join(MISSING_RULES)}"
        )
        missing_default = "worst"

    # ---- sections
    sections: dict[str, Section] = {}
    raw_sections = data.get("sections", {})
    if not isinstance(raw_sections, Mapping) or not raw_sections:
        problems.append(f"{src}sections: need at least one [sections.<name>] table")
        raw_sections = {} if not isinstance(raw_sections, Mapping) else raw_sections
    for sname, st, where in _named_tables(raw_sections, src, "sections", "section", _SECTION_KEYS, problems):
        if "weight" not in st:
            problems.append(f"{where}.weight: required")
            w = None
        else:
            w = _check_weight(st["weight"], f"{where}.weight", problems)
        sections[sname] = Section(
            name=sname,
            label=_check_str(st.get("label"), f"{where}.label", problems, default=sname),
            weight=w if w is not None else 0.0,
            description=_check_str(st.get("description"), f"{where}.description", problems),
        )

    # ---- criteria
    criteria: list[Criterion] = []
    raw_criteria = data.get("criteria", {})
    if not isinstance(raw_criteria, Mapping) or not raw_criteria:
        problems.append(f"{src}criteria: need at least one [criteria.<name>] table")
        raw_criteria = {} if not isinstance(raw_criteria, Mapping) else raw_criteria
    weights_ok = True
    # (a value that is not a table is skipped, so criteria then fall short of raw_criteria below)
    for cname, ct, where in _named_tables(
        raw_criteria, src, "criteria", "criterion", _CRITERION_KEYS, problems
    ):
        indicator = _check_str(ct.get("indicator"), f"{where}.indicator", problems, default=cname) or cname
        _indicator_known(indicator, known_ind, where, problems)
        section = ct.get("section")
        if section is None:
            problems.append(f"{where}.section: required; known sections: {', '.join(sections) or 'none'}")
        elif section not in sections:
            problems.append(
                f"{where}.section: unknown section {section!r}; known: {', '.join(sections) or 'none'}"
            )
            section = None
        w = _check_weight(ct.get("weight", 1.0), f"{where}.weight", problems)
        if w is None:
            weights_ok = False
        vf, vf_problems = parse_value_function(ct.get("value_function"), f"{where}.value_function")
        if "value_function" not in ct:
            vf_problems = [
                f'{where}.value_function: required, e.g. {{ type = "linear", direction = "higher" }}'
            ]
        problems.extend(vf_problems)
        missing = ct.get("missing", missing_default)
        if missing not in MISSING_RULES:
            problems.append(
                f"{where}.missing: unknown missing rule {missing!r}; known: {', '.join(MISSING_RULES)}"
            )
        policy = ct.get("policy", False)
        if not isinstance(policy, bool):
            problems.append(f"{where}.policy: must be true or false (got {policy!r})")
            policy = False
        if section is None or w is None or vf is None or missing not in MISSING_RULES:
            continue
        criteria.append(
            Criterion(
                name=cname,
                indicator=indicator,
                section=section,
                weight=w,
                value_function=vf,
                missing=missing,
                label=_check_str(ct.get("label"), f"{where}.label", problems, default=cname),
                unit=_check_str(ct.get("unit"), f"{where}.unit", problems),
                description=_check_str(ct.get("description"), f"{where}.description", problems),
                policy=policy,
            )
        )

    # ---- section / weight consistency (only meaningful if all criteria parsed)
    if weights_ok and len(criteria) == len(raw_criteria) and criteria:
        per_section: dict[str, list[Criterion]] = {s: [] for s in sections}
        for c in criteria:
            per_section[c.section].append(c)
        for sname, cs in per_section.items():
            sec = sections[sname]
            if not cs and sec.weight > 0:
                problems.append(
                    f"{src}sections.{sname}.weight: a section with no criteria must have weight 0 "
                    f"(got {sec.weight:g})"
                )
            elif cs and sec.weight > 0 and all(c.weight == 0 for c in cs):
                problems.append(
                    f"{src}sections.{sname}: weight {sec.weight:g} but all its criteria have weight 0"
                )
        if _effective_weights(sections, criteria).sum() <= 0:
            problems.append(
                f"{src}weights: all effective weights are zero; at least one criterion needs weight > 0"
            )

    # ---- exclusions
    exclusions: list[Exclusion] = []
    raw_ex = data.get("exclusions", [])
    if not isinstance(raw_ex, list):
        problems.append(f"{src}exclusions: must be an array of tables ([[exclusions]])")
        raw_ex = []
    seen_ex: set[str] = set()
    for i, et in enumerate(raw_ex):
        where = f"{src}exclusions[{i}]"
        if not isinstance(et, Mapping):
            problems.append(f"{where}: must be a table")
            continue
        ename = et.get("name")
        if isinstance(ename, str):
            where = f"{src}exclusions[{i}] ({ename})"
        _unknown_keys(et, _EXCLUSION_KEYS, f"{where}.", problems)
        ok = True
        if not isinstance(ename, str) or not ename:
            problems.append(f"{where}.name: required (a short identifier)")
            ok = False
        elif ename in seen_ex:
            problems.append(f"{where}.name: duplicate exclusion name {ename!r}")
            ok = False
        else:
            seen_ex.add(ename)
        indicator = et.get("indicator", ename)
        if not isinstance(indicator, str) or not indicator:
            problems.append(f"{where}.indicator: must be a string (got {indicator!r})")
            ok = False
        elif known_ind is not None and indicator not in known_ind:
            problems.append(
                f"{where}.indicator: unknown indicator {indicator!r}; known: {', '.join(known_ind)}"
            )
        op = et.get("op")
        if op not in OPS:
            problems.append(f"{where}.op: must be one of {' '.join(OPS)} (got {op!r})")
            ok = False
        value = et.get("value")
        if value is None:
            problems.append(f"{where}.value: required (number, boolean or string)")
            ok = False
        elif isinstance(value, (bool, str)):
            if op in OPS and op not in ("==", "!="):
                problems.append(
                    f"{where}.op: {op!r} needs a numeric value; booleans/strings allow only == and !="
                )
                ok = False
        elif isinstance(value, (int, float)) and math.isfinite(value):
            value = float(value)
        else:
            problems.append(f"{where}.value: must be a finite number, boolean or string (got {value!r})")
            ok = False
        reason = et.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}.reason: required (plain-English reason shown to users)")
            ok = False
        if (
            ok
            and isinstance(ename, str)
            and isinstance(indicator, str)
            and isinstance(op, str)
            and isinstance(value, (bool, str, float))
            and isinstance(reason, str)
        ):
            exclusions.append(Exclusion(name=ename, indicator=indicator, op=op, value=value, reason=reason))

    # ---- candidate-zone sizes (surface)
    zones = ZoneSizes()
    raw_zones = data.get("zones", {})
    if not isinstance(raw_zones, Mapping):
        problems.append(f"{src}zones: must be a table")
        raw_zones = {}
    _unknown_keys(raw_zones, _ZONE_KEYS, f"{src}zones.", problems)
    sizes: dict[str, float] = {}
    for key in _ZONE_KEYS:
        if key in raw_zones:
            v = raw_zones[key]
            if not _is_weight(v) or not math.isfinite(v) or v <= 0:
                problems.append(f"{src}zones.{key}: must be a finite number > 0 (got {v!r})")
            else:
                sizes[key] = float(v)
    zones = dataclasses.replace(zones, **sizes)
    if zones.min_area_ha >= zones.max_area_km2 * 100.0:
        problems.append(
            f"{src}zones: min_area_ha ({zones.min_area_ha:g} ha) must be below max_area_km2 "
            f"({zones.max_area_km2:g} km2 = {zones.max_area_km2 * 100:g} ha)"
        )
    gates = _parse_gates(data.get("gates", {}), src, known_ind, problems)
    tiers = _parse_designations(data.get("designations", {}), src, known_ind, problems)

    if problems:
        raise ScoringConfigError(problems)
    return Profile(
        name=name,
        title=title,
        level=level,
        description=description,
        sections=sections,
        criteria=tuple(criteria),
        exclusions=tuple(exclusions),
        missing_default=missing_default,
        source=source,
        zones=zones,
        gates=gates,
        designations=tiers,
    )


def _check_condition(
    op: Any, value: Any, where: str, problems: list[str], *, allow_str: bool = True
) -> float | bool | str | None:
    """The comparison value of a condition (``op`` must be one of :data:`OPS`); None if invalid."""
    ok = True
    if op not in OPS:
        problems.append(f"{where}.op: must be one of {' '.join(OPS)} (got {op!r})")
        ok = False
    if value is None:
        problems.append(f"{where}.value: required (number, boolean{' or string' if allow_str else ''})")
        return None
    if isinstance(value, bool) or (allow_str and isinstance(value, str)):
        if op in OPS and op not in ("==", "!="):
            problems.append(
                f"{where}.op: {op!r} needs a numeric value; booleans/strings allow only == and !="
            )
            ok = False
        return value if ok else None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value) if ok else None
    kinds = "finite number, boolean or string" if allow_str else "finite number or boolean"
    problems.append(f"{where}.value: must be a {kinds} (got {value!r})")
    return None


def _named_tables(
    raw: Mapping[str, Any], src: str, part: str, noun: str, keys: Any, problems: list[str]
) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """The ``[<part>.<name>]`` tables of a profile, each with where it is (for messages); a value
    that is not a table is reported and skipped, a bad name or an unknown key reported."""
    for name, table in raw.items():
        where = f"{src}{part}.{name}"
        if not isinstance(table, Mapping):
            problems.append(f"{where}: must be a table")
            continue
        if not _NAME_RE.match(name):
            problems.append(f"{where}: {noun} name must be letters, digits and underscores")
        _unknown_keys(table, keys, f"{where}.", problems)
        yield name, table, where


def _indicator_known(indicator: str, known_ind: list[str] | None, where: str, problems: list[str]) -> bool:
    """False (and a problem naming the known ones) when ``indicator`` is not a known indicator."""
    if known_ind is not None and indicator not in known_ind:
        problems.append(f"{where}.indicator: unknown indicator {indicator!r}; known: {', '.join(known_ind)}")
        return False
    return True


def _has_url(text: str) -> bool:
    return "https://" in text or "http://" in text


def _parse_gates(raw: Any, src: str, known_ind: list[str] | None, problems: list[str]) -> tuple[Gate, ...]:
    if not isinstance(raw, Mapping):
        problems.append(f"{src}gates: must be tables ([gates.<name>])")
        return ()
    gates: list[Gate] = []
    for gname, gt, where in _named_tables(raw, src, "gates", "gate", _GATE_KEYS, problems):
        indicator = gt.get("indicator")
        ok = True
        if not isinstance(indicator, str) or not indicator:
            problems.append(f"{where}.indicator: required (the indicator column the gate tests)")
            ok = False
        else:
            ok = _indicator_known(indicator, known_ind, where, problems)
        value = _check_condition(gt.get("op"), gt.get("value"), where, problems, allow_str=False)
        label = _check_str(gt.get("label"), f"{where}.label", problems, required=True)
        source = _check_str(gt.get("source"), f"{where}.source", problems, required=True)
        if source and not _has_url(source):
            problems.append(f"{where}.source: name the public source and give its URL (got {source!r})")
            ok = False
        fail_reason = _check_str(gt.get("fail_reason"), f"{where}.fail_reason", problems)
        if fail_reason:
            try:
                fail_reason.format(value=1.0)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"{where}.fail_reason: must format with {{value}} only ({exc})")
                ok = False
        description = _check_str(gt.get("description"), f"{where}.description", problems)
        if (
            ok
            and value is not None
            and not isinstance(value, str)
            and label
            and source
            and isinstance(indicator, str)
        ):
            gates.append(
                Gate(gname, indicator, str(gt["op"]), value, label, source, description, fail_reason)
            )
    return tuple(gates)


def _parse_nation_policies(raw: Any, where: str, problems: list[str]) -> dict[str, NationPolicy]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be tables ([...nations.<Nation>])")
        return {}
    out: dict[str, NationPolicy] = {}
    for nation, nt in raw.items():
        w = f"{where}.{nation}"
        if nation not in NATIONS:
            problems.append(f"{w}: unknown nation; known: {', '.join(NATIONS)}")
            continue
        if not isinstance(nt, Mapping):
            problems.append(f"{w}: must be a table")
            continue
        _unknown_keys(nt, _NATION_KEYS, f"{w}.", problems)
        test = _check_str(nt.get("policy_test"), f"{w}.policy_test", problems, required=True)
        source = _check_str(nt.get("source"), f"{w}.source", problems, required=True)
        url = _check_str(nt.get("url"), f"{w}.url", problems, required=True)
        if url and not _has_url(url):
            problems.append(f"{w}.url: must be an http(s) URL (got {url!r})")
        if test and source and _has_url(url):
            out[nation] = NationPolicy(test, source, url)
    return out


def _parse_designations(
    raw: Any, src: str, known_ind: list[str] | None, problems: list[str]
) -> tuple[DesignationTier, ...]:
    if not isinstance(raw, Mapping):
        problems.append(f"{src}designations: must be tables ([designations.<name>])")
        return ()
    tiers: list[DesignationTier] = []
    for dname, dt, where in _named_tables(raw, src, "designations", "designation", _TIER_KEYS, problems):
        ok = True
        indicator = dt.get("indicator", f"share_{dname}")
        if not isinstance(indicator, str) or not indicator:
            problems.append(f"{where}.indicator: must be a string (got {indicator!r})")
            ok = False
        else:
            ok = _indicator_known(indicator, known_ind, where, problems)
        tier = dt.get("tier")
        if tier not in TIERS:
            problems.append(f"{where}.tier: must be one of {', '.join(TIERS)} (got {tier!r})")
            ok = False
        penalty = dt.get("penalty", 0.0 if tier == "exclude" else None)
        if penalty is None:
            problems.append(f"{where}.penalty: required for tier {tier!r} (0..1 of the score)")
            ok = False
        elif not _is_weight(penalty) or not 0.0 <= float(penalty) <= 1.0:
            problems.append(f"{where}.penalty: must be a number in 0..1 (got {penalty!r})")
            ok = False
        min_share = dt.get("min_share", 0.0)
        if not _is_weight(min_share) or not 0.0 <= float(min_share) < 1.0:
            problems.append(f"{where}.min_share: must be a number in 0..1 (got {min_share!r})")
            ok = False
        label = _check_str(dt.get("label"), f"{where}.label", problems, default=dname)
        test = _check_str(dt.get("policy_test"), f"{where}.policy_test", problems, required=True)
        source = _check_str(dt.get("source"), f"{where}.source", problems, required=True)
        url = _check_str(dt.get("url"), f"{where}.url", problems, required=True)
        if url and not _has_url(url):
            problems.append(f"{where}.url: must be an http(s) URL (got {url!r})")
            ok = False
        nations = _parse_nation_policies(dt.get("nations"), f"{where}.nations", problems)
        if ok and test and source and isinstance(indicator, str) and isinstance(tier, str):
            tiers.append(
                DesignationTier(
                    dname,
                    indicator,
                    label,
                    tier,
                    float(penalty) if penalty is not None else 0.0,
                    float(min_share),
                    test,
                    source,
                    url,
                    nations,
                )
            )
    return tuple(tiers)


def parse_profile(text: str, *, source: str = "<string>", indicators: Iterable[str] | None = None) -> Profile:
    """Parse and validate a TOML profile from text. Raises :class:`ScoringConfigError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScoringConfigError([f"{source}: TOML syntax error: {exc}"]) from None
    return profile_from_dict(data, source=source, indicators=indicators)


def _bundled_dir() -> Traversable:
    return resources.files("scoring").joinpath("profiles")


def list_profiles() -> list[str]:
    """Names of the profiles bundled with the package (usable with :func:`load_profile`)."""
    return sorted(
        p.name[: -len(".toml")] for p in _bundled_dir().iterdir() if p.is_file() and p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path, *, indicators: Iterable[str] | None = None) -> Profile:
    """Load a bundled profile by name (``"aigz"``, ``"power_first"``, ``"aigz_sites"``) or a .toml path."""
    if isinstance(name_or_path, str) and _NAME_RE.match(name_or_path):
        res = _bundled_dir().joinpath(f"{name_or_path}.toml")
        if res.is_file():
            return parse_profile(res.read_text(encoding="utf-8"), source=res.name, indicators=indicators)
        if not Path(name_or_path).exists():
            raise ScoringConfigError(
                [f"{name_or_path}: no bundled profile of that name; bundled: {', '.join(list_profiles())}"]
            )
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScoringConfigError([f"{path}: cannot read profile ({exc.strerror or exc})"]) from None
    return parse_profile(text, source=str(path), indicators=indicators)

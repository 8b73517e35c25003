"""Policy facts the indicators, the assessment and the surface share, declared once.

* Every designation, once (:data:`REGISTRY`): its name in text and whether it counts as protected
  land (the ``protected_share`` indicators of regions, sites and raster cells), is checked per
  site and can be given a planning tier; every other list of designations derives from it.
* Which places are in the AI Growth Zone electricity discount area.

Sources are public and named where each constant is defined; ``docs/METHOD.md`` explains the
judgement behind each list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only for the hint: the surface's workers import this module
    import pandas as pd


@dataclass(frozen=True)
class Designation:
    """One canonical designation, declared once: every list of designations derives from
    :data:`REGISTRY` (``growth_zones.data.schemas.DESIGNATIONS``, the site checks, the tiers, the
    protected shares of regions, sites and surface cells).

    Attributes
    ----------
    name
        Canonical name (the ``designation`` column of the ``protected_areas`` layer).
    label
        How it is named in text (checks, reasons, reports).
    protected
        Counted in the site and surface-cell ``protected_share`` (protected land).
    region_protected
        Counted in the *region* ``protected_share`` (the ``mostly_protected`` exclusion).
    tierable
        Sites and surface cells get a ``share_<name>`` indicator, so a profile can declare a planning
        tier for it (``[designations.<name>]``).
    site_checked
        Each assessed site gets one ``Designation: <label>`` check (present / absent / not checked).
    """

    name: str
    label: str
    protected: bool = False
    region_protected: bool = False
    tierable: bool = True
    site_checked: bool = True


REGISTRY: tuple[Designation, ...] = (
    Designation("national_park", "National Park", protected=True, region_protected=True),
    Designation("aonb", "AONB/National Landscape/NSA", protected=True, region_protected=True),
    Designation("sssi", "SSSI", protected=True, region_protected=True),
    Designation("sac", "SAC", protected=True, region_protected=True),
    Designation("spa", "SPA", protected=True, region_protected=True),
    Designation("ramsar", "Ramsar", protected=True, region_protected=True),
    Designation("green_belt", "Green Belt", protected=True, region_protected=False),
    Designation("ancient_woodland", "ancient woodland"),
    Designation("scheduled_monument", "scheduled monument"),
    Designation("flood_zone_3", "Flood Zone 3"),
    Designation("flood_zone_2", "Flood Zone 2"),
)
"""Every canonical designation, in display order.

* **protected** (site and cell ``protected_share``): National Parks and National Landscapes (NPPF
  paragraph 183, https://www.gov.uk/guidance/national-planning-policy-framework), SSSIs and habitats
  sites (SAC, SPA, Ramsar; the Conservation of Habitats and Species Regulations 2017,
  https://www.legislation.gov.uk/uksi/2017/1012) and Green Belt (NPPF chapter 13). Ancient woodland
  and scheduled monuments are near-absolute constraints (NPPF chapters 15 and 16: irreplaceable
  habitats; designated heritage assets of the highest significance): they are checked per site and
  tiered (``aigz_sites`` excludes ancient woodland) but are not part of the protected share, because
  Scotland's Ancient Woodland Inventory has no machine-readable endpoint (an optional dataset), so
  counting it would make every Scottish site's protected share "not checked".
* **region_protected** leaves out Green Belt: England's is catalogued nationally, but Scotland's
  local green belts are published only behind a registration key (an optional dataset) and no Welsh
  dataset is catalogued, so requiring it would leave every Scottish and Welsh region "not checked".
  Green Belt is checked per site instead.
* **tierable**: every designation, the flood zones included, has a ``share_<name>`` indicator for
  sites and cells, so a profile can tier it (``aigz_sites`` keeps Flood Zone 3 as an exclusion of
  its own and leaves Flood Zone 2 untiered).
* ``aonb`` holds the equivalent landscape designation of each nation: Areas of Outstanding Natural
  Beauty / National Landscapes (England, Wales) and National Scenic Areas (Scotland), which national
  planning policy treats alike (NPPF chapter 15; Planning Policy Wales chapter 6; NPF4 policy 4).
  ``flood_zone_3``/``flood_zone_2`` are the Flood Map for Planning zones in England (EA) and Wales
  (NRW); in Scotland they hold SEPA's medium (0.5% annual probability) and low (0.1%) likelihood
  flood extents, the nearest Scottish equivalents (NPF4 policy 22 uses the 0.5% extent as its flood
  risk area); docs/METHOD.md explains the differences."""

DESIGNATIONS: tuple[str, ...] = tuple(d.name for d in REGISTRY)
"""Canonical designation names (``growth_zones.data.schemas.DESIGNATIONS`` is this tuple)."""

DESIGNATION_LABELS: dict[str, str] = {d.name: d.label for d in REGISTRY}
"""Plain names of the canonical designations."""

PROTECTED_DESIGNATIONS: tuple[str, ...] = tuple(d.name for d in REGISTRY if d.protected)
"""The designations counted as protected land by sites and surface cells (see :data:`REGISTRY`)."""

SITE_CHECKED_DESIGNATIONS: tuple[str, ...] = tuple(d.name for d in REGISTRY if d.site_checked)
"""Every designation the site assessment reports one check for."""

TIER_DESIGNATIONS: tuple[str, ...] = tuple(d.name for d in REGISTRY if d.tierable)
"""Designations each site (and surface cell) gets a ``share_<designation>`` indicator for, so a
profile can declare a planning tier for it (``[designations.<name>]``). Where no stored dataset
covers a place the share is missing and the tier is "unknown" there, never clear."""

REGION_PROTECTED_DESIGNATIONS: tuple[str, ...] = tuple(d.name for d in REGISTRY if d.region_protected)
"""The designations of the region-level protected share (no Green Belt: see :data:`REGISTRY`)."""


def designation(name: str) -> Designation:
    """The registry entry of ``name`` (KeyError naming the known ones)."""
    for d in REGISTRY:
        if d.name == name:
            return d
    raise KeyError(f"unknown designation {name!r}; known: {', '.join(DESIGNATIONS)}")


DISCOUNT_AREA_NATIONS: frozenset[str] = frozenset({"Scotland"})
DISCOUNT_AREA_LAD_CODES: frozenset[str] = frozenset(
    [
        # Cumbria: the 2023 unitaries and the six pre-April-2023 districts.
        "E06000063",  # Cumberland
        "E06000064",  # Westmorland and Furness
        "E07000026",
        "E07000027",
        "E07000028",
        "E07000029",
        "E07000030",
        "E07000031",
        # North East England region (E12000001): Hartlepool, Middlesbrough, Redcar and Cleveland,
        # Stockton-on-Tees, Darlington, County Durham, Northumberland, Newcastle, North Tyneside,
        # South Tyneside, Sunderland, Gateshead.
        "E06000001",
        "E06000002",
        "E06000003",
        "E06000004",
        "E06000005",
        "E06000047",
        "E06000057",
        "E08000021",
        "E08000022",
        "E08000023",
        "E08000024",
        "E08000037",
    ]
)
"""English LADs in the constraint-cost electricity discount area. "Delivering AI Growth Zones"
(DSIT, CP 1440, 13 November 2025,
https://www.gov.uk/government/publications/delivering-ai-growth-zones) offers the discount in
Scotland, Cumbria and the North East. All of Scotland qualifies by nation; these are the English
districts. The exact boundary (region or distribution network area) is not stated; the ONS North
East region is assumed."""


def in_discount_area(codes: pd.Series, nations: pd.Series) -> pd.Series:
    """Vectorised membership of the discount area from LAD code and nation."""
    return (codes.isin(DISCOUNT_AREA_LAD_CODES) | nations.isin(DISCOUNT_AREA_NATIONS)).astype("boolean")

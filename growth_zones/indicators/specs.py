"""Indicator definitions, settings and the result container.

Every indicator is *raw* (km, MW, share, ms ...): no normalisation or weighting happens here; the
scoring package turns these into scores. Missing is explicit: ``NaN``/``pd.NA`` in ``values`` and a
human-readable reason in ``reasons``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from ..policy import (
    DESIGNATION_LABELS,
    PROTECTED_DESIGNATIONS,
    REGION_PROTECTED_DESIGNATIONS,
    TIER_DESIGNATIONS,
)

Direction = Literal["higher", "lower", "none"]

LIGHT_IN_FIBRE_KM_PER_MS = 200.0
"""Light travels about 200 km per ms in fibre (refractive index about 1.5), so a round trip costs
about 1 ms per 100 km of route (ITU-T G.114, https://www.itu.int/rec/T-REC-G.114)."""


@dataclass(frozen=True)
class IndicatorSpec:
    """What one indicator column means. ``direction`` says which way is better for siting."""

    name: str
    unit: str
    direction: Direction
    sources: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class IndicatorSettings:
    """Tunable assumptions. Every default is stated (and sourced) in the spec descriptions."""

    transmission_buffer_km: float = 10.0
    """Frontier Economics' distance to a transmission line ("Power, pipes and people")."""
    nearby_km: float = 30.0
    """Radius for 'nearby' sums (circuit capacity, TEC queue, operational renewables)."""
    population_radii_km: tuple[float, ...] = (30.0, 50.0)
    fibre_route_factor: float = 1.5
    """Fibre route length / straight-line distance (real paths are longer than the crow flies)."""
    ha_per_100mw: float = 10.0
    """Central land-take assumption: built campuses take about 5-20 ha per 100 MW (280 MW on 49 ha,
    1 GW on 52 ha multi-storey, Cambois 230 acres); project judgement, not a DSIT number."""
    dsit_node_km: float = 15.0
    """The DSIT power test counts as evidenced only with a transmission node within this distance
    (a new connection of up to about 15 km is the most that can plausibly be built by 2030; project
    judgement, the same default as the ``aigz_sites`` transmission-node gate)."""
    coverage_slack: float = 0.005
    """A coverage polygon 'fully contains' an area when it covers at least (1 - slack) of it
    (generalised boundaries of different vintages do not nest exactly)."""
    region_boundary_tolerance_m: float = 500.0
    """Regions are generalised boundaries (ONS BUC, 500 m) that do not nest inside the
    full-resolution extents of regional extracts: for regions, a coverage is buffered by this much
    before the containment test (on the real data the 12 North East LADs then score 100% and
    their neighbours at most 1.3%)."""
    site_coverage_tolerance_m: float = 500.0
    """Coverage extents such as "GB" come from ultra-generalised (500 m) ONS boundaries, so a coastal
    site can poke out past the simplified coastline (an Anglesey site: 1% outside). For sites the
    coverage is buffered by this much before the containment test, so such a site is checked rather
    than reported 'not checked'."""
    land_tolerance: float = 0.001
    """Relative slack in ``land_sufficient`` so a boundary drawn as 60 ha that measures 59.999 ha in
    EPSG:27700 is not failed on rounding."""
    exclusion_designations: tuple[str, ...] = PROTECTED_DESIGNATIONS
    """Designations counted by the site ``protected_share`` (and required to be covered)."""
    region_protected_designations: tuple[str, ...] = REGION_PROTECTED_DESIGNATIONS
    """Designations in the *region* ``protected_share`` (see ``policy.REGION_PROTECTED_DESIGNATIONS``)."""
    placeholder_rating_mva: float = 9000.0
    """ETYS uses 9999 MVA for zero-impedance couplers; ratings at or above this are treated as
    unknown, not as capacity."""


def _rtt_text(s: IndicatorSettings | None = None) -> str:
    s = s or IndicatorSettings()
    return (
        f"Round-trip time estimated as 2 x straight-line km x route factor {s.fibre_route_factor} / "
        f"{LIGHT_IN_FIBRE_KM_PER_MS:.0f} km per ms (light in fibre), i.e. about 1 ms RTT per 100 km of "
        "fibre route (ITU-T G.114); a physics floor, real paths add switching delay."
    )


_S = IndicatorSettings()

DEPRIVATION_TEXT = (
    "Within-nation deprivation percentile of the local authority: 1 = the most deprived LAD of its "
    "own nation, 0 = the least (ties at their mean rank), by 'extent', the share of residents living "
    "in the nation's most deprived small areas (weighted 1 in the most deprived 10% down to 0 at "
    "30%). England: English Indices of Deprivation 2025 (MHCLG, official LAD summary); Wales: WIMD "
    "2019; Scotland: SIMD 2020v2 (both aggregated to LADs from the official small-area index). The "
    "three indices are NOT comparable across nations, so only the position within the nation is "
    "used: a 0.9 in Wales and a 0.9 in England are each near the top of their own nation's list, "
    "not equally deprived."
)
_REGION_LAND = ("regions", "protected_areas", "designation_coverage")
_SITE_LAND = ("sites", "protected_areas", "designation_coverage")
_REGION_LINES = ("regions", "circuits", "countries")

REGION_INDICATORS: dict[str, IndicatorSpec] = {
    s.name: s
    for s in [
        IndicatorSpec(
            "dist_gsp_km",
            "km",
            "lower",
            ("regions", "substations"),
            "Distance from the region polygon to the nearest grid node holding a grid supply point "
            "(a FES GSP or an NGED Super Grid site; grid_nodes joins each site's records); 0 inside.",
        ),
        IndicatorSpec(
            "dist_transmission_km",
            "km",
            "lower",
            ("regions", "substations", "countries"),
            "Distance from the region polygon to the nearest transmission node: a grid node whose "
            "highest voltage (from any of its sources: ETYS, NGED, OSM) is >= 275 kV, or >= 132 kV in "
            "Scotland (where 132 kV is transmission); 0 inside.",
        ),
        IndicatorSpec(
            "share_within_10km_transmission",
            "share",
            "higher",
            _REGION_LINES,
            f"Share of the region's land within {_S.transmission_buffer_km:g} km of a "
            f"transmission circuit "
            "(>= 275 kV, or >= 132 kV in Scotland); the Frontier Economics measure ('Power, "
            "pipes and people').",
        ),
        IndicatorSpec(
            "tx_line_km_30km",
            "km",
            "higher",
            ("regions", "circuits"),
            f"Length of OpenStreetMap-mapped transmission line (>= 275 kV, or >= 132 kV in "
            f"Scotland) within {_S.nearby_km:g} km of the region's representative point. OSM is the "
            "one circuit source "
            "with even coverage across GB (ETYS circuits are placed only where community geocodes "
            "exist, which favours Scotland), so this is the GB-comparable measure of nearby "
            "transmission.",
        ),
        IndicatorSpec(
            "tx_capacity_mva_30km",
            "MVA",
            "higher",
            ("regions", "circuits"),
            f"Sum of winter rating (MVA) of circuits within {_S.nearby_km:g} km of the region. "
            f"Circuits with "
            "no published rating (OSM lines, NaN) and ETYS 9999 MVA couplers count 0, so this "
            "is a lower "
            "bound where only OSM geometry exists.",
        ),
        IndicatorSpec(
            "tec_contracted_mw_30km",
            "MW",
            "lower",
            ("regions", "tec_projects", "substations"),
            f"MW of TEC register projects not yet Built whose connection site resolved to a placed "
            f"grid node within {_S.nearby_km:g} km of the region: a congestion proxy (connection "
            f"sites that match no node, or a node no source places, are not counted; provenance "
            f"gives the counts).",
        ),
        IndicatorSpec(
            "in_discount_area",
            "bool",
            "higher",
            ("regions",),
            "In the constraint-cost electricity discount area: Scotland, Cumbria, North East "
            "England "
            "(DSIT, Delivering AI Growth Zones, CP 1440, 13 Nov 2025).",
        ),
        IndicatorSpec(
            "protected_share",
            "share",
            "lower",
            _REGION_LAND,
            "Share of region land in any exclusion designation (National Park, AONB, SSSI, SAC, "
            "SPA, Ramsar, Green Belt). Computed only where every designation's dataset covers the "
            "whole region (0.5% area slack, coverage buffered 500 m for generalised boundaries), or "
            "where the covered designations alone already designate all of it; otherwise missing "
            "with the designations not checked.",
        ),
        IndicatorSpec(
            "national_park_share",
            "share",
            "lower",
            _REGION_LAND,
            "Share of region land in a National Park (GB-wide dataset).",
        ),
        IndicatorSpec("area_km2", "km2", "none", ("regions",), "Region land area in EPSG:27700 (km2)."),
        IndicatorSpec(
            "dist_ix_km",
            "km",
            "lower",
            ("regions", "internet_exchanges"),
            "Distance from the region polygon to the nearest internet exchange building; 0 inside.",
        ),
        IndicatorSpec(
            "dist_landing_km",
            "km",
            "lower",
            ("regions", "landing_points"),
            "Distance from the region polygon to the nearest submarine cable landing point; 0 inside.",
        ),
        IndicatorSpec(
            "rtt_london_ms",
            "ms",
            "lower",
            ("regions", "internet_exchanges"),
            "From the region's representative point to the nearest London IX building. " + _rtt_text(),
        ),
        IndicatorSpec(
            "full_fibre_pct",
            "%",
            "higher",
            ("regions", "broadband_by_region"),
            "Ofcom Connected Nations: % of premises with full fibre available (weak proxy for "
            "long-haul fibre).",
        ),
        IndicatorSpec(
            "population",
            "people",
            "none",
            ("regions", "population_by_region"),
            "Usual resident population (ONS mid-year estimate).",
        ),
        IndicatorSpec(
            "population_50km",
            "people",
            "higher",
            ("regions", "population_grid"),
            "Residents in 1 km cells whose centres lie within 50 km of the centre of the cell "
            "holding the "
            "region's representative point (labour pool / metro proximity).",
        ),
        IndicatorSpec(
            "deprivation_percentile",
            "percentile",
            "higher",
            ("regions", "deprivation_by_region"),
            DEPRIVATION_TEXT,
        ),
        IndicatorSpec(
            "renewables_operational_mw_30km",
            "MW",
            "higher",
            ("regions", "renewables"),
            f"Installed capacity of REPD projects with status 'Operational' within "
            f"{_S.nearby_km:g} km of "
            "the region (local low-carbon supply).",
        ),
    ]
}

SITE_INDICATORS: dict[str, IndicatorSpec] = {
    s.name: s
    for s in [
        IndicatorSpec("site_area_ha", "ha", "none", ("sites",), "Site polygon area in EPSG:27700 (ha)."),
        IndicatorSpec(
            "dist_substation_km",
            "km",
            "lower",
            ("sites", "substations"),
            "Distance from the site polygon to the nearest grid node that is a transmission site or a "
            "grid supply point; 0 inside. A node is one physical site joined across FES, ETYS, NGED "
            "and OSM (grid_nodes). Rule of thumb: within 1-3 miles is good, beyond 5 miles needs a "
            "new line (industry rule of thumb; project judgement).",
        ),
        IndicatorSpec(
            "substation_voltage_kv",
            "kV",
            "higher",
            ("substations",),
            "Highest voltage at that node stated by any of its sources (ETYS index and circuits, "
            "NGED and OSM names/tags); NaN only where no source states one.",
        ),
        IndicatorSpec(
            "dist_transmission_node_km",
            "km",
            "lower",
            ("sites", "substations"),
            "Distance to the nearest transmission node: >= 275 kV, or >= 132 kV in Scotland (NESO, "
            "Electricity Ten Year Statement). The node a 500 MW campus would connect to; the "
            "quantities '..._node' below are measured there.",
        ),
        IndicatorSpec(
            "tec_contracted_mw_node",
            "MW",
            "lower",
            ("tec_projects", "substations"),
            "MW of TEC projects not yet Built whose connection site resolved to the site's "
            "transmission node.",
        ),
        IndicatorSpec(
            "competing_mw_node",
            "MW",
            "lower",
            ("sites",),
            "Sum of claimed MW of the OTHER applications whose transmission node is the same.",
        ),
        IndicatorSpec(
            "firm_capacity_share_mva",
            "MVA",
            "higher",
            ("sites", "substations"),
            "The transmission node's firm circuit capacity (N-1: the sum of the published ETYS winter "
            "ratings of its circuits to other sites minus the largest, i.e. what its circuits can "
            "carry with one lost) split between all bids at the node pro rata to claimed MW, so bids "
            "at one node never double-count it. Circuit capacity in MVA, NOT spare capacity or "
            "headroom: existing load and contracted connections at the node are not netted "
            "(tec_contracted_mw_node is shown beside it). Missing where ETYS publishes no rating "
            "for the node.",
        ),
        IndicatorSpec(
            "firm_capacity_cover",
            "ratio",
            "higher",
            ("sites", "substations"),
            "(Firm circuit capacity of the transmission node, MVA - MW claimed by the other bids "
            "there) / MW claimed (MVA compared with MW as at unity power factor). Below 1 the "
            "node's circuits cannot carry the claim even before existing load: a necessary "
            "condition, not evidence of spare capacity. Missing where the capacity is not "
            "published.",
        ),
        IndicatorSpec(
            "dsit_power_test",
            "bool",
            "higher",
            ("sites", "substations"),
            f"DSIT's power test (>= 500 MW by 2030) judged on evidence, not read from the claim: 1 "
            f"(pass) when the claim meets the bar, a transmission node lies within "
            f"{_S.dsit_node_km:g} km and its firm circuit capacity after competing bids covers the "
            f"claim (not ruled out; firm circuit capacity is not spare capacity); 0 "
            f"(fail) when the claim is below the bar, the node is farther, or the published capacity "
            f"left is smaller; missing (unverified) when the published data can neither confirm nor "
            f"refute it.",
        ),
        IndicatorSpec("claimed_mw", "MW", "higher", ("sites",), "MW the application claims."),
        IndicatorSpec(
            "meets_500mw_by_2030",
            "bool",
            "higher",
            ("sites",),
            "The applicant CLAIMS >= 500 MW with target year <= 2030 (the AIGZ power bar, DSIT "
            "application guidance). A claim only: dsit_power_test judges it against grid evidence.",
        ),
        IndicatorSpec(
            "land_sufficient",
            "bool",
            "higher",
            ("sites",),
            f"Site area >= claimed MW / 100 x {_S.ha_per_100mw:g} ha (central assumption; "
            f"built campuses "
            "take 5-20 ha per 100 MW; project judgement, not a DSIT number).",
        ),
        IndicatorSpec(
            "evidence_grid",
            "bool",
            "higher",
            ("sites",),
            "Applicant's claim: grid connection evidence supplied (1/0; not verified here).",
        ),
        IndicatorSpec(
            "evidence_water",
            "bool",
            "higher",
            ("sites",),
            "Applicant's claim: water company confirmation supplied (1/0; not verified here).",
        ),
        IndicatorSpec(
            "evidence_land_control",
            "bool",
            "higher",
            ("sites",),
            "Applicant's claim: land control evidence supplied (1/0; not verified here).",
        ),
        IndicatorSpec(
            "evidence_planning",
            "bool",
            "higher",
            ("sites",),
            "Applicant's claim: planning evidence supplied (1/0; not verified here).",
        ),
        IndicatorSpec(
            "protected_share",
            "share",
            "lower",
            _SITE_LAND,
            "Share of site area in any exclusion designation (National Park, AONB, SSSI, SAC, SPA, "
            "Ramsar, Green Belt); missing where some designation's data does not cover the site, "
            "unless the covered designations alone already cover all of it (then 1.0).",
        ),
        *[
            IndicatorSpec(
                f"share_{d}",
                "share",
                "lower",
                _SITE_LAND,
                f"Share of site area inside a {DESIGNATION_LABELS.get(d, d)} (0 where the dataset covers "
                f"the site and none is touched; a lower bound where it covers only part; missing where "
                f"it does not cover the site). A profile's [designations.{d}] tier reads it.",
            )
            for d in TIER_DESIGNATIONS
        ],
        IndicatorSpec(
            "in_flood_zone_3",
            "bool",
            "lower",
            _SITE_LAND,
            "Site intersects Flood Zone 3; missing where no Flood Zone 3 data covers the site.",
        ),
        IndicatorSpec(
            "dist_ix_km",
            "km",
            "lower",
            ("sites", "internet_exchanges"),
            "Distance to the nearest internet exchange building.",
        ),
        IndicatorSpec(
            "dist_landing_km",
            "km",
            "lower",
            ("sites", "landing_points"),
            "Distance to the nearest submarine cable landing point.",
        ),
        IndicatorSpec(
            "rtt_london_ms",
            "ms",
            "lower",
            ("sites", "internet_exchanges"),
            "From the site's representative point to the nearest London IX building. " + _rtt_text(),
        ),
        IndicatorSpec(
            "population_30km",
            "people",
            "higher",
            ("sites", "population_grid"),
            "Residents in 1 km cells whose centres lie within 30 km of the cell holding the site.",
        ),
        IndicatorSpec(
            "population_50km",
            "people",
            "higher",
            ("sites", "population_grid"),
            "Residents in 1 km cells whose centres lie within 50 km of the cell holding the site.",
        ),
        IndicatorSpec(
            "in_discount_area",
            "bool",
            "higher",
            ("sites", "regions"),
            "Site's local authority is in the constraint-cost discount area (Scotland, Cumbria, North East).",
        ),
        IndicatorSpec(
            "deprivation_percentile",
            "percentile",
            "higher",
            ("sites", "regions", "deprivation_by_region"),
            "The site's local authority (the one holding its representative point): " + DEPRIVATION_TEXT,
        ),
        IndicatorSpec(
            "la_percentile",
            "percentile",
            "higher",
            ("sites", "regions"),
            "Percentile of the site's local authority in the region ranking (if given).",
        ),
    ]
}


@dataclass
class IndicatorTable:
    """Indicator values with a reason for every missing cell.

    ``values``: index = region code or site id; numeric columns are float (NaN = missing), boolean
    columns use pandas' nullable ``boolean`` dtype (``pd.NA`` = missing). ``reasons``: same shape,
    ``""`` where a value is present. ``extra``: descriptive, non-scored columns.
    """

    values: pd.DataFrame
    reasons: pd.DataFrame
    specs: dict[str, IndicatorSpec]
    extra: pd.DataFrame
    settings: IndicatorSettings = field(default_factory=IndicatorSettings)

    def missing(self) -> pd.DataFrame:
        """Long form of every missing cell: (id, indicator, reason)."""
        r = self.reasons.stack()
        r = r[r != ""]
        out = r.rename("reason").reset_index()
        out.columns = ["id", "indicator", "reason"]
        return out

"""Raw siting indicators for every GB local authority (region) and for candidate sites.

Inputs are the canonical layers (``growth_zones.data.schemas``) gathered in a :class:`LayerSet`;
outputs are :class:`IndicatorTable` objects whose columns are described by
:data:`REGION_INDICATORS` / :data:`SITE_INDICATORS`. Missing is explicit and explained: a designation
that has no data for an area is "not checked", never "absent".

All geometry is EPSG:27700 (metres); distances are reported in km. Heavy steps are vectorised
(shapely 2 STRtree queries, one raster convolution per radius), with no Python loop over regions or
sites except string building for reasons and unions of pieces where a target touches several
overlapping designated features.
"""

from ..data.layers import LayerSet, build_designation_coverage
from ..policy import (
    DESIGNATION_LABELS,
    DISCOUNT_AREA_LAD_CODES,
    DISCOUNT_AREA_NATIONS,
    PROTECTED_DESIGNATIONS,
    REGION_PROTECTED_DESIGNATIONS,
    TIER_DESIGNATIONS,
    in_discount_area,
)
from ._geo import checked_circuits
from .designations import designation_share
from .nodes import GridNodes, NodeRules, build_grid_nodes, grid_nodes
from .regions import region_indicators
from .sites import locate_sites, site_designation_checks, site_indicators
from .specs import (
    REGION_INDICATORS,
    SITE_INDICATORS,
    IndicatorSettings,
    IndicatorSpec,
    IndicatorTable,
)
from .tec import contracted_not_built

__all__ = [
    "DESIGNATION_LABELS",
    "DISCOUNT_AREA_LAD_CODES",
    "DISCOUNT_AREA_NATIONS",
    "PROTECTED_DESIGNATIONS",
    "REGION_PROTECTED_DESIGNATIONS",
    "TIER_DESIGNATIONS",
    "REGION_INDICATORS",
    "SITE_INDICATORS",
    "IndicatorSettings",
    "IndicatorSpec",
    "IndicatorTable",
    "LayerSet",
    "build_designation_coverage",
    "checked_circuits",
    "designation_share",
    "in_discount_area",
    "locate_sites",
    "contracted_not_built",
    "GridNodes",
    "NodeRules",
    "build_grid_nodes",
    "grid_nodes",
    "region_indicators",
    "site_designation_checks",
    "site_indicators",
]

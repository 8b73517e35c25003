"""Canonical layer schemas: the contract between normalisers (which produce layers) and
indicators (which consume them).

Every vector layer is a GeoDataFrame in EPSG:27700 with exactly the columns below (extra columns
are allowed only where noted) plus ``geometry``. Tables are plain DataFrames. Rasters are
single-band GeoTIFFs in EPSG:27700. Each stored dataset also has a ``dataset`` column naming its
catalogue key, so a layer assembled from several datasets keeps its provenance row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..policy import DESIGNATIONS as _POLICY_DESIGNATIONS

LayerKind = Literal["vector", "table", "raster"]

NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")
GB_NATIONS = ("England", "Scotland", "Wales")
SUBSTATION_KINDS = ("gsp", "transmission", "bsp", "primary", "switching", "other")
DESIGNATIONS = _POLICY_DESIGNATIONS
"""Canonical designation names, declared once in ``growth_zones.policy.REGISTRY``."""


@dataclass(frozen=True)
class LayerSchema:
    """Columns (name -> pandas dtype family) and allowed geometry types of one canonical layer."""

    name: str
    kind: LayerKind
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    geometry_types: tuple[str, ...] = ()


LAYERS: dict[str, LayerSchema] = {
    s.name: s
    for s in [
        LayerSchema(
            "regions",
            "vector",
            "Local authority districts. code = ONS LADxxCD, nation from the code prefix (E/S/W/N).",
            {"code": "str", "name": "str", "nation": "str", "dataset": "str"},
            ("Polygon", "MultiPolygon"),
        ),
        LayerSchema(
            "countries",
            "vector",
            "Nations of the UK (ONS Countries); used for land masks and 'in the sea' checks.",
            {"code": "str", "name": "str", "nation": "str", "dataset": "str"},
            ("Polygon", "MultiPolygon"),
        ),
        LayerSchema(
            "substations",
            "vector",
            "Grid nodes. voltage_kv is the highest voltage at the site (NaN = unknown); kind is one of "
            + ", ".join(SUBSTATION_KINDS)
            + ".",
            {
                "id": "str",
                "name": "str",
                "voltage_kv": "float",
                "operator": "str",
                "kind": "str",
                "dataset": "str",
            },
            ("Point",),
        ),
        LayerSchema(
            "circuits",
            "vector",
            "Transmission circuits. rating_mva NaN where not published; geometry straight between sites "
            "when only site codes are known (ETYS) or the mapped route (OSM).",
            {
                "id": "str",
                "voltage_kv": "float",
                "rating_mva": "float",
                "length_km": "float",
                "operator": "str",
                "dataset": "str",
            },
            ("LineString", "MultiLineString"),
        ),
        LayerSchema(
            "grid_boundaries",
            "vector",
            "NESO ETYS boundaries (B4, B6 ...) used in boundary-capability studies.",
            {"id": "str", "name": "str", "dataset": "str"},
            ("LineString", "MultiLineString"),
        ),
        LayerSchema(
            "tec_projects",
            "table",
            "NESO TEC register / interconnector register rows. No coordinates are published: "
            "connection_site is resolved to grid nodes at indicator time.",
            {
                "project_id": "str",
                "project": "str",
                "customer": "str",
                "connection_site": "str",
                "mw": "float",
                "mw_connected": "float",
                "status": "str",
                "effective_from": "datetime",
                "plant_type": "str",
                "host_to": "str",
                "dataset": "str",
            },
        ),
        LayerSchema(
            "renewables",
            "vector",
            "DESNZ REPD renewable and storage projects (>=150 kW) at every planning stage.",
            {
                "id": "str",
                "name": "str",
                "technology": "str",
                "capacity_mw": "float",
                "status": "str",
                "country": "str",
                "dataset": "str",
            },
            ("Point",),
        ),
        LayerSchema(
            "landing_points",
            "vector",
            "Submarine cable landing points in Great Britain.",
            {"id": "str", "name": "str", "dataset": "str"},
            ("Point",),
        ),
        LayerSchema(
            "submarine_cables",
            "vector",
            "Submarine cable routes that land in Great Britain (clipped to 200 km of GB for display).",
            {"id": "str", "name": "str", "dataset": "str"},
            ("LineString", "MultiLineString"),
        ),
        LayerSchema(
            "internet_exchanges",
            "vector",
            "Buildings hosting internet exchange points in Great Britain.",
            {"id": "str", "name": "str", "metro": "str", "exchanges": "str", "dataset": "str"},
            ("Point",),
        ),
        LayerSchema(
            "protected_areas",
            "vector",
            "Designated land. designation is one of " + ", ".join(DESIGNATIONS) + ".",
            {"designation": "str", "name": "str", "nation": "str", "dataset": "str"},
            ("Polygon", "MultiPolygon"),
        ),
        LayerSchema(
            "designation_coverage",
            "vector",
            "Where each designation dataset is complete. Outside these polygons a designation is "
            "'not checked', never 'absent'.",
            {"designation": "str", "dataset": "str"},
            ("Polygon", "MultiPolygon"),
        ),
        LayerSchema(
            "agricultural_land",
            "vector",
            "Agricultural land quality. grade is '1'..'5', 'non_agricultural' or 'urban' (England's "
            "provisional ALC); '3a'/'3b' too in Wales' Predictive ALC; 'prime' (Land Capability for "
            "Agriculture classes 1 to 3.1) in Scotland.",
            {"grade": "str", "dataset": "str"},
            ("Polygon", "MultiPolygon"),
        ),
        LayerSchema(
            "brownfield",
            "vector",
            "Brownfield land register sites as points with their area.",
            {"name": "str", "area_ha": "float", "dataset": "str"},
            ("Point",),
        ),
        LayerSchema(
            "population_by_region",
            "table",
            "Usual resident population by LAD code (mid-year estimate).",
            {"code": "str", "name": "str", "population": "float", "dataset": "str"},
        ),
        LayerSchema(
            "deprivation_by_region",
            "table",
            "Deprivation by LAD code, one national index per nation (English IoD, WIMD, SIMD). The "
            "indices are NOT comparable across nations: use the within-nation rank/percentile only. "
            "rank_in_nation: 1 = most deprived (ties share the lowest rank); percentile_in_nation: "
            "1 = most deprived, 0 = least, ties at their mean rank; measure names the ranked column "
            "(value); derived = an aggregation of the small-area index by a third party, not the "
            "publisher's own LAD summary.",
            {
                "code": "str",
                "name": "str",
                "nation": "str",
                "index_name": "str",
                "measure": "str",
                "value": "float",
                "rank_in_nation": "float",
                "n_in_nation": "float",
                "percentile_in_nation": "float",
                "share_most_deprived_10pct": "float",
                "average_score": "float",
                "derived": "bool",
                "dataset": "str",
            },
        ),
        LayerSchema(
            "deprivation_small_areas",
            "table",
            "Official small-area deprivation ranks (WIMD LSOA, SIMD data zone): rank 1 = most deprived "
            "in the nation; decile 1 = the most deprived 10%. No LAD column: joining them to "
            "regions needs a small-area lookup that is not catalogued yet.",
            {
                "code": "str",
                "nation": "str",
                "index_name": "str",
                "rank": "float",
                "n_in_nation": "float",
                "decile": "float",
                "dataset": "str",
            },
        ),
        LayerSchema(
            "broadband_by_region",
            "table",
            "Ofcom Connected Nations fixed coverage by LAD code (percent of premises).",
            {
                "code": "str",
                "premises": "float",
                "full_fibre_pct": "float",
                "gigabit_pct": "float",
                "sfbb_pct": "float",
                "dataset": "str",
            },
        ),
        LayerSchema(
            "brownfield_by_area",
            "table",
            "Brownfield hectares by small area (MSOA 2011 code).",
            {"area_code": "str", "brownfield_ha": "float", "dataset": "str"},
        ),
        LayerSchema(
            "site_coordinates",
            "table",
            "Helper table: ETYS 4-letter site code -> lon/lat (community geocodes). Used to place ETYS "
            "substations and circuits; not a layer of its own in indicators.",
            {"site_code": "str", "site_name": "str", "lon": "float", "lat": "float", "dataset": "str"},
        ),
        LayerSchema(
            "grid_sites",
            "table",
            "ETYS site codes, placed or not: every voltage level from the index and the circuit node "
            "codes, summed/largest published circuit ratings to other sites, and the community "
            "geocode (x, y in EPSG:27700; NaN where none). grid_nodes joins them to FES GSPs, NGED "
            "and OSM by code and name.",
            {
                "site_code": "str",
                "name": "str",
                "names": "str",
                "operator": "str",
                "voltages_kv": "str",
                "voltage_kv": "float",
                "circuit_voltages_kv": "str",
                "circuit_rating_mva": "float",
                "largest_circuit_mva": "float",
                "rated_circuits": "float",
                "role": "str",
                "x": "float",
                "y": "float",
                "geocode_source": "str",
                "dataset": "str",
            },
        ),
        LayerSchema(
            "grid_circuit_table",
            "table",
            "ETYS circuits by site code, placed or not (helper of grid_sites; grid_nodes checks "
            "positions against the lengths): the two site codes, the voltage each node code states, "
            "the published rating (NaN where unpublished or the 9999 MVA placeholder) and the "
            "published route length (OHL + cable km; NaN where ETYS gives none).",
            {
                "node_1": "str",
                "node_2": "str",
                "site_1": "str",
                "site_2": "str",
                "kv_1": "float",
                "kv_2": "float",
                "rating_mva": "float",
                "length_km": "float",
                "operator": "str",
                "dataset": "str",
            },
        ),
        LayerSchema(
            "coverage_areas",
            "vector",
            "Named extents (for example 'north_east') that regional extracts are complete within.",
            {"area": "str", "dataset": "str"},
            ("Polygon", "MultiPolygon"),
        ),
        LayerSchema("population_grid", "raster", "Residents per 1 km cell, EPSG:27700."),
        LayerSchema("land_cover", "raster", "UKCEH LCM dominant class per 1 km cell, EPSG:27700."),
        LayerSchema("elevation", "raster", "Mean altitude (m) per 1 km cell, EPSG:27700."),
    ]
}

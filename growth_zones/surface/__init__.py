"""National suitability surface: a per-cell score of GB land for AI data-centre campuses.

The surface scores every land cell of a regular EPSG:27700 grid with the site-level profile
(``aigz_sites`` by default): cell indicators (distance to the nearest transmission substation/GSP,
internet exchange and cable landing, estimated round trip to London, population within 30/50 km,
discount area, protected designations, Flood Zone 3, the local authority's within-nation deprivation
percentile) go through the profile's value functions and
weights; profile criteria with no cell equivalent are dropped and their weight stays in their section
(listed in the output's tags). The output is a Cloud-Optimised GeoTIFF: band 1 ``score`` (0..1,
``-1`` = excluded, NaN = sea/outside GB), band 2 ``exclusion_state`` (0 clear, 1 excluded, 2 unknown:
a designation dataset does not cover the cell), plus optional indicator bands.

    from growth_zones.surface import SurfaceSpec, build_surface, zonal_stats, candidate_zones
    result = build_surface(layers, SurfaceSpec(resolution_m=250), "surface_250m.tif")
    stats = zonal_stats(result.path, layers.regions)            # joinable indicators per LAD
    zones = candidate_zones(result.path, threshold=0.6, min_area_ha=50, max_area_ha=2500,
                            regions=layers.regions)        # site-sized: 50 ha .. 25 km2, ranked
    zones = attach_places(zones, layers)                   # LA name, nation, grid nodes
    zones = zone_gates(zones, profile)                     # deliverable: the profile's gates
    zones.to_file("candidate_zones.gpkg", driver="GPKG")

Every tile is computed independently from global inputs (point arrays for KD-trees, geometries,
the convolved population grids), so peak memory is bounded by the tile size, not the resolution,
and tiles can run anywhere.

Running on a multi-machine Dask cluster (e.g. a 10 m national surface)
-----------------------------------------------------------------------
1. On one host start a scheduler::

       dask scheduler                      # listens on tcp://<host>:8786

2. On every worker host (same Python environment, growth-zones installed)::

       dask worker tcp://<host>:8786 --nthreads 1 --nworkers <cores>

3. Run the build from a machine that can reach the scheduler::

       growth-zones surface --dask tcp://<host>:8786 --resolution 10

   (in Python: ``build_surface(layers, SurfaceSpec(resolution_m=10), out, dask="tcp://<host>:8786")``).

Notes: each worker must be able to read the layer cache (``GROWTH_ZONES_CACHE``) on a shared
filesystem or object store, and the same package versions as the client. The global inputs are
scattered to the workers once; the workers compute tiles and the *writer process* (the one that
called ``build_surface``) receives the finished tiles and writes them into the GeoTIFF, so it needs
local disk for the output (at 10 m the GB bounding grid is ~65,000 x 121,000 cells, ~32 GB per
float32 band uncompressed; only land tiles are written, ZSTD-compressed above 4 GiB) and the network
carries ~4 bytes per cell per band. Only a bounded number of tiles is in flight at once.
``zonal_stats`` reads the surface window by window; ``candidate_zones`` reads the score and state
bands whole (its statistics then run over the suitable cells only), so for very fine surfaces pass
``scale`` (e.g. ``scale=10`` polygonises a 10 m surface at 100 m).
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy exports (PEP 562): a Dask worker unpickling ``tile.compute_tile`` then imports only
# ``tile``/``spec``/``criteria`` (numpy, shapely, rasterio, scipy.spatial), not geopandas/scipy.signal.
_EXPORTS = {
    "SurfaceResult": "build",
    "build_surface": "build",
    "compute_array": "build",
    "prepare": "build",
    "write_cog": "build",
    "CELL_INDICATORS": "criteria",
    "CriteriaPlan": "criteria",
    "apply_vf": "criteria",
    "load_plan": "criteria",
    "plan_from_profile": "criteria",
    "score_cells": "criteria",
    "default_discount_areas": "inputs",
    "prepare_inputs": "inputs",
    "DEFAULT_PROTECTED": "spec",
    "EXCLUDED_SCORE": "spec",
    "STATE_CLEAR": "spec",
    "STATE_EXCLUDED": "spec",
    "STATE_UNKNOWN": "spec",
    "Grid": "spec",
    "SurfaceSpec": "spec",
    "ZONAL_COLUMNS": "stats",
    "ZONE_COLUMNS": "stats",
    "attach_places": "stats",
    "candidate_zones": "stats",
    "zone_gates": "stats",
    "zone_labels": "stats",
    "ZONE_CAMPUS_MW": "stats",
    "zonal_stats": "stats",
    "SurfaceInputs": "tile",
    "compute_tile": "tile",
    "nearest_distance": "tile",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

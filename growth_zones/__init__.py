"""growth-zones: check, score and rank UK AI Growth Zone bids against public power, land and
connectivity evidence.

Start with :mod:`growth_zones.api` (``pull``, ``rank``, ``assess``, ``surface``, ``render``).
The packages below it, in the direction imports flow:

``data``
    the data foundation: dataset catalogue, fetching (the only network code), the store of
    normalised layers with provenance, loaders (one normaliser per dataset), schemas, CRS, and
    :class:`~growth_zones.data.layers.LayerSet`, the one way layers are read.
``indicators``
    region and site indicators (distances, shares, capacities) with a reason for every missing value.
``scoring`` (a separate, pure package)
    profiles, value functions, the one scoring kernel, ranking and sensitivity.
``surface``
    the national suitability raster (scored per cell by the same kernel).
``report``
    folium HTML reports.
``workflows``
    the use cases behind the API: reading applications, ranking, assessment, surface runs,
    re-rendering, and writing output sets.

The ``growth-zones`` CLI (``cli.py``) is a thin layer on top of the API.
"""

from .settings import BNG, WGS84, Settings

__all__ = ["BNG", "WGS84", "Settings", "__version__"]
__version__ = "0.1.0"

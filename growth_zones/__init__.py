"""growth-zones: check, score and rank UK AI Growth Zone bids against public power, land and
connectivity evidence.

Layers flow one way: ``_fetch`` (network) -> ``loaders`` (normalise) -> ``store`` (GeoParquet +
provenance) -> ``indicators`` -> ``scoring`` (pure, separate package) -> ``report`` (HTML). The
``growth-zones`` CLI (``cli.py``) is a thin layer on top.
"""

from .settings import BNG, WGS84, Settings

__all__ = ["BNG", "WGS84", "Settings", "__version__"]
__version__ = "0.1.0"

"""Map reports (folium HTML) and static exports (matplotlib images).

folium and matplotlib are imported lazily inside the functions, so ``growth_zones`` imports
without them. Inputs are EPSG:27700 GeoDataFrames; reprojection to EPSG:4326 happens only here,
for display. Every string that came from an application or a download is HTML-escaped before it
reaches the page.

Map libraries (see :mod:`growth_zones.report.assets`): a bundled :class:`MapLibraries` (read from
the npm tarballs the catalogue pins) makes pages that work with no network; ``None`` links
folium's CDN, and the page says so in a banner when the libraries cannot be loaded.
"""

from __future__ import annotations

from .assessment import render_assessment_report, safe_id
from .assets import AssetsError, MapLibraries, libraries_from_assets
from .national import SurfaceOverlay, render_national_map

__all__ = [
    "render_national_map",
    "render_assessment_report",
    "safe_id",
    "AssetsError",
    "MapLibraries",
    "libraries_from_assets",
    "SurfaceOverlay",
]

"""HTML map reports (folium): the national ranking map and the per-application assessment report.

folium is imported lazily inside the functions, so ``growth_zones`` imports without it. Inputs are
EPSG:27700 GeoDataFrames; reprojection to EPSG:4326 happens only here, for display. Every string
that came from an application or a download is HTML-escaped before it reaches the page.

Assets: ``assets="cdn"`` uses folium's CDN links; ``assets=Path(dir)`` inlines a local copy
installed by ``tools/fetch_map_assets.sh DIR`` so the page works offline from a double-click;
``assets=None`` uses ``GROWTH_ZONES_MAP_ASSETS`` when set (else the CDN).
"""

from __future__ import annotations

from .assessment import render_assessment_report, safe_id
from .assets import ENV_VAR, AssetsError, local_assets_dir
from .national import render_national_map

__all__ = [
    "render_national_map",
    "render_assessment_report",
    "local_assets_dir",
    "safe_id",
    "AssetsError",
    "ENV_VAR",
]

"""Display geometry: simplify in BNG, reproject to WGS84 (the only place this happens), round."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..settings import BNG, WGS84

COORD_DECIMALS = 5  # ~1 m at GB latitudes: plenty for a screen


def _require_bng(gdf: Any, what: str) -> None:
    if gdf.crs is None:
        raise ValueError(f"{what}: GeoDataFrame has no CRS (expected EPSG:27700)")
    if gdf.crs.to_epsg() != 27700:
        raise ValueError(f"{what}: expected EPSG:27700 (British National Grid), got {gdf.crs.to_string()}")


def display_geometries(gdf: Any, what: str, tolerance_m: float = 200.0) -> Any:
    """GeoSeries in EPSG:4326 for display: simplified (``tolerance_m`` in BNG metres, topology
    preserved; 0 = none), reprojected and rounded to :data:`COORD_DECIMALS` decimals."""
    _require_bng(gdf, what)
    geoms = gdf.geometry
    if tolerance_m and tolerance_m > 0:
        geoms = geoms.simplify(tolerance_m, preserve_topology=True)
    geoms = geoms.set_crs(BNG, allow_override=True).to_crs(WGS84)
    return _round(geoms)


def _round(geoms: Any) -> Any:
    arr = shapely.transform(np.asarray(geoms.values), lambda c: np.round(c, COORD_DECIMALS))
    out = geoms.copy()
    out[:] = arr
    return out


def bng_point_to_lonlat(x: Any, y: Any) -> tuple[float, float] | None:
    """(lat, lon) of one BNG point, or None when missing."""
    try:
        fx, fy = float(x), float(y)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(fx) and np.isfinite(fy)):
        return None
    lon, lat = _transformer().transform(fx, fy)
    return round(lat, COORD_DECIMALS), round(lon, COORD_DECIMALS)


_TR: list[Any] = []


def _transformer() -> Any:
    if not _TR:
        from pyproj import Transformer

        _TR.append(Transformer.from_crs(BNG, WGS84, always_xy=True))
    return _TR[0]


def feature_collection(geoms: Any, props: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection from display geometries and (already escaped) properties."""
    feats = []
    for geom, p in zip(geoms.values, props, strict=True):
        if geom is None or geom.is_empty:
            continue
        feats.append({"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": feats}

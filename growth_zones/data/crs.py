"""Coordinate transformation to British National Grid, with an honest record of how it was done.

Why not plain ``GeoDataFrame.to_crs(27700)``: without the OSTN15 grid file PROJ silently falls back
to a 7-parameter Helmert shift that is 3-7 m off (Ordnance Survey, "A guide to coordinate systems in
Great Britain"). ``convertbng`` ships the OSTN15 transform itself, so it works offline; points it
cannot transform (outside the OSTN15 extent) fall back to pyproj and are counted, and the method
used is recorded in provenance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from ..settings import BNG, WGS84

log = logging.getLogger(__name__)


@dataclass
class TransformRecord:
    """How coordinates reached EPSG:27700: recorded in each layer's provenance."""

    source_crs: str
    method: str
    points: int = 0
    fallback_points: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "source_crs": self.source_crs,
            "method": self.method,
            "points": self.points,
            "fallback_points": self.fallback_points,
        }


def _pyproj_method() -> str:
    import warnings

    from pyproj.transformer import TransformerGroup

    with warnings.catch_warnings():  # PROJ warns that the OSTN15 grid is absent: we record it instead
        warnings.simplefilter("ignore", UserWarning)
        group = TransformerGroup(WGS84, BNG, always_xy=True)
    best = group.transformers[0].description if group.transformers else "none"
    return f"pyproj: {best} (best_available={group.best_available})"


def lonlat_to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Transform WGS84 lon/lat arrays to BNG eastings/northings (m) with OSTN15.

    Returns ``(x, y, n_fallback)``; ``n_fallback`` points lay outside the OSTN15 extent and were
    transformed by pyproj instead. Input NaNs stay NaN.
    """
    from convertbng.cutil import convert_bng

    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    if lon.size == 0:
        return lon.copy(), lat.copy(), 0
    x, y = (np.asarray(a, dtype="float64") for a in convert_bng(lon, lat))
    bad = (np.isnan(x) | np.isnan(y)) & ~(np.isnan(lon) | np.isnan(lat))
    n_bad = int(bad.sum())
    if n_bad:
        from pyproj import Transformer

        tr = Transformer.from_crs(WGS84, BNG, always_xy=True)
        fx, fy = tr.transform(lon[bad], lat[bad])
        x[bad], y[bad] = fx, fy
    return x, y, n_bad


def bng_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`lonlat_to_bng` (OSTN15), for turning BNG inputs into lon/lat."""
    from convertbng.cutil import convert_lonlat

    lon, lat = convert_lonlat(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def to_bng(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, TransformRecord]:
    """Reproject any GeoDataFrame to EPSG:27700, using OSTN15 for geographic sources.

    A frame without a CRS is refused (callers must state it: guessing is how 100 km errors happen).
    """
    if gdf.crs is None:
        raise ValueError("GeoDataFrame has no CRS; set it explicitly before transforming")
    src = gdf.crs.to_string()
    if gdf.crs.equals(BNG) or gdf.crs.to_epsg() == 27700:
        out = gdf.set_crs(BNG, allow_override=True)
        return out, TransformRecord(src, "none (already EPSG:27700)", points=0)
    work = gdf if gdf.crs.is_geographic else gdf.to_crs(WGS84)
    if not gdf.crs.is_geographic:
        src = f"{src} -> EPSG:4326 (pyproj) -> "
    counter = {"n": 0, "fallback": 0}

    def _transform(coords: np.ndarray) -> np.ndarray:
        x, y, nb = lonlat_to_bng(coords[:, 0], coords[:, 1])
        counter["n"] += len(coords)
        counter["fallback"] += nb
        return np.column_stack([x, y])

    geoms = shapely.transform(work.geometry.values, _transform)
    out = gpd.GeoDataFrame(work.drop(columns=work.geometry.name), geometry=geoms, crs=BNG)
    if work.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    from convertbng import __version__ as cb_version  # type: ignore[attr-defined]

    method = f"OSTN15 via convertbng {cb_version}"
    if counter["fallback"]:
        method += f"; {counter['fallback']} points outside OSTN15 via {_pyproj_method()}"
        log.info("%d coordinates lay outside OSTN15 and were transformed by pyproj", counter["fallback"])
    return out, TransformRecord(src, method, points=counter["n"], fallback_points=counter["fallback"])


def points_from_lonlat(
    lon: np.ndarray, lat: np.ndarray, **columns: object
) -> tuple[gpd.GeoDataFrame, TransformRecord]:
    """Build a BNG point layer from lon/lat columns (OSTN15)."""
    x, y, nb = lonlat_to_bng(np.asarray(lon), np.asarray(lat))
    from convertbng import __version__ as cb_version  # type: ignore[attr-defined]

    gdf = gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(x, y), crs=BNG)
    method = f"OSTN15 via convertbng {cb_version}" + (f"; {nb} points via pyproj fallback" if nb else "")
    return gdf, TransformRecord(WGS84, method, points=int(len(x)), fallback_points=nb)


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """For display only (folium): plain pyproj is fine at screen resolution."""
    return gdf.to_crs(WGS84)

"""Coordinate transformation to British National Grid, with an honest record of how it was done.

Why not plain ``GeoDataFrame.to_crs(27700)``: without the OSTN15 grid file PROJ silently falls back
to a 7-parameter Helmert shift that is 3-7 m off (Ordnance Survey, "A guide to coordinate systems in
Great Britain"). ``convertbng`` ships the OSTN15 transform itself, so it works offline; points it
cannot transform (outside the OSTN15 extent) fall back to pyproj and are counted, and the method
used is recorded in provenance.

Every input CRS is honoured by its datum (:func:`to_bng`):

* ETRS89 or WGS84 longitude/latitude (EPSG:4258, EPSG:4326, CRS84): OSTN15, which is defined from
  ETRS89 (WGS84 agrees with it to about a metre in GB);
* OSGB36 longitude/latitude (EPSG:4277) and any other OSGB36-based CRS: already on the British
  National Grid's datum, so only the map projection is applied (pyproj, exact). Reading these as
  WGS84, as this module once did, puts a site about 110 m out;
* anything else (UTM, Web Mercator, other datums): pyproj to WGS84, then OSTN15;
* a compound CRS (e.g. EPSG:7405, BNG + ODN height) by its horizontal part.

A vertical, geocentric or engineering CRS cannot place anything on the map: :func:`crs_problem`
says why, and callers turn that into an error naming the CRS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ..settings import BNG, WGS84

_ETRS_WGS_DATUMS = (
    "world geodetic system 1984",
    "wgs 84",
    "wgs84",
    "european terrestrial reference",
    "etrs89",
    "etrf",
)
_OSGB36_DATUMS = ("ordnance survey of great britain 1936", "osgb 1936", "osgb36", "osgb_1936")
_IRISH = ("irish", "ireland", "tm65", "tm75", "irenet95", "geodetic datum of 1965")

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
    """Inverse of :func:`lonlat_to_bng` (OSTN15), for turning BNG inputs into lon/lat. Points
    outside the OSTN15 extent (e.g. just south of the Scilly Isles) fall back to pyproj, as in
    :func:`lonlat_to_bng`; input NaNs stay NaN."""
    from convertbng.cutil import convert_lonlat

    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if x.size == 0:
        return x.copy(), y.copy()
    lon, lat = (np.asarray(a, dtype="float64") for a in convert_lonlat(x, y))
    bad = (np.isnan(lon) | np.isnan(lat)) & ~(np.isnan(x) | np.isnan(y))
    if bad.any():
        from pyproj import Transformer

        tr = Transformer.from_crs(BNG, WGS84, always_xy=True)
        lon[bad], lat[bad] = tr.transform(x[bad], y[bad])
    return lon, lat


def horizontal_crs(crs: Any) -> Any:
    """The horizontal part of a CRS (a compound CRS's first component), else the CRS itself."""
    if getattr(crs, "is_compound", False):
        for sub in crs.sub_crs_list:
            if sub.is_geographic or sub.is_projected:
                return sub
    return crs


def crs_problem(crs: Any) -> str | None:
    """Why ``crs`` cannot place sites on the ground (vertical, geocentric, engineering, unknown
    type), or ``None`` when it is a usable horizontal (geographic or projected) CRS."""
    h = horizontal_crs(crs)
    if h.is_geographic or h.is_projected:
        return None
    kind = getattr(h, "type_name", "unknown kind of CRS")
    if getattr(h, "is_vertical", False):
        return f"{kind}: it gives heights, not positions"
    if getattr(h, "is_geocentric", False):
        return f"{kind}: earth-centred X/Y/Z, not map coordinates"
    return f"{kind}: not a geographic or projected CRS"


def _datum_name(crs: Any) -> str:
    datum = getattr(crs, "datum", None)
    return (datum.name if datum is not None else "").lower()


def is_etrs89_or_wgs84(crs: Any) -> bool:
    name = _datum_name(crs)
    return any(k in name for k in _ETRS_WGS_DATUMS)


def is_osgb36(crs: Any) -> bool:
    name = _datum_name(crs)
    return any(k in name for k in _OSGB36_DATUMS)


def is_irish_grid(crs: Any) -> bool:
    """The Irish Grid / Irish Transverse Mercator and their datums (TM65, TM75, IRENET95): the
    coordinate systems of Ireland and Northern Ireland, never of a site in Great Britain."""
    text = f"{getattr(crs, 'name', '')} {_datum_name(crs)}".lower()
    return any(k in text for k in _IRISH)


def to_bng(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, TransformRecord]:
    """Reproject any GeoDataFrame to EPSG:27700, honouring its datum (see the module docstring):
    OSTN15 for ETRS89/WGS84 (and, after a pyproj step, other datums), the plain projection for
    OSGB36.

    A frame without a CRS is refused (callers must state it: guessing is how 100 km errors happen),
    and so is one whose CRS cannot place anything on the map (:func:`crs_problem`).
    """
    if gdf.crs is None:
        raise ValueError("GeoDataFrame has no CRS; set it explicitly before transforming")
    problem = crs_problem(gdf.crs)
    if problem:
        raise ValueError(f"CRS {gdf.crs.to_string()} cannot be transformed to EPSG:27700 ({problem})")
    src = gdf.crs.to_string()
    if gdf.crs.is_compound:
        gdf = gdf.set_crs(horizontal_crs(gdf.crs), allow_override=True)
        src = f"{src} (horizontal part {gdf.crs.to_string()})"
    if gdf.crs.equals(BNG) or gdf.crs.to_epsg() == 27700:
        out = gdf.set_crs(BNG, allow_override=True)
        return out, TransformRecord(src, "none (already EPSG:27700)", points=0)
    if is_osgb36(gdf.crs):  # same datum as the National Grid: the projection only, exact
        from pyproj import __version__ as pyproj_version

        out = gdf.to_crs(BNG)
        n = int(shapely.get_num_coordinates(out.geometry.values).sum())
        return out, TransformRecord(
            src,
            f"pyproj {pyproj_version}: OSGB36 to British National Grid (projection only, no datum shift)",
            n,
        )
    geographic_etrs = gdf.crs.is_geographic and is_etrs89_or_wgs84(gdf.crs)
    work = gdf if geographic_etrs else gdf.to_crs(WGS84)
    if not geographic_etrs:
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

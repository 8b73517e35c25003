"""Boundary checks for datasets: raw columns and CRS against the catalogue, normalised frames
against the canonical schema. Every problem is collected into one message naming the dataset,
what was expected and what was found."""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import pandas as pd
import shapely

from ..errors import SchemaError
from .schemas import LAYERS


def require_columns(frame: pd.DataFrame, key: str, expected: Iterable[str]) -> None:
    """Raise :class:`SchemaError` when any expected raw column is absent."""
    expected = list(expected)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"dataset {key}: expected columns {missing} not found; found {list(map(str, frame.columns))[:40]}. "
            "The publisher may have changed the format: check the catalogue entry and the source."
        )


def require_crs(gdf: gpd.GeoDataFrame, key: str, expected: str | None) -> None:
    """Raise when a raw layer's CRS contradicts the catalogue's ``source_crs``."""
    if expected is None:
        return
    from pyproj import CRS

    if gdf.crs is None:
        raise SchemaError(f"dataset {key}: expected CRS {expected}, found none")
    want = CRS.from_user_input(expected)
    got = gdf.crs
    same = got.equals(want) or (got.to_epsg() is not None and got.to_epsg() == want.to_epsg())
    if not same and want.to_epsg() == 4326:  # CRS84 (lon/lat order) is the GeoJSON default
        same = got.is_geographic and got.datum.name == want.datum.name
    if not same:
        raise SchemaError(f"dataset {key}: expected CRS {expected}, found {got.to_string()}")


def repair_geometries(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """``make_valid`` invalid geometries (BUC boundary files often have a few); returns the count.

    Polygon layers keep only their polygonal parts after repair.
    """
    geoms = gdf.geometry.values
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    n = int(invalid.sum())
    if n:
        fixed = shapely.make_valid(geoms[invalid])
        types = set(shapely.get_type_id(geoms[~invalid & ~shapely.is_missing(geoms)]).tolist())
        if types and types <= {3, 6}:  # polygonal layer: drop slivers of lower dimension
            fixed = [_polygonal(g) for g in fixed]
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = fixed
    return gdf, n


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if len(polys) != 1 else polys[0]


def check_layer(frame: pd.DataFrame, layer: str, key: str) -> None:
    """Check a normalised frame against its canonical schema (columns, CRS, geometry types)."""
    schema = LAYERS[layer]
    problems: list[str] = []
    missing = [c for c in schema.columns if c not in frame.columns]
    if missing:
        problems.append(f"missing columns {missing}")
    if schema.kind == "vector":
        if not isinstance(frame, gpd.GeoDataFrame):
            problems.append("expected a GeoDataFrame")
        else:
            if frame.crs is None or frame.crs.to_epsg() != 27700:
                problems.append(f"expected CRS EPSG:27700, found {frame.crs}")
            types = set(frame.geometry.geom_type.dropna().unique())
            bad = types - set(schema.geometry_types)
            if bad:
                problems.append(
                    f"geometry types {sorted(bad)} not allowed (expected {schema.geometry_types})"
                )
    if problems:
        raise SchemaError(f"dataset {key} -> layer {layer}: " + "; ".join(problems))

"""Summaries of a written surface: per-region zonal statistics and candidate zones."""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import rasterize, shapes
from rasterio.windows import Window
from scipy import ndimage

from .spec import STATE_EXCLUDED, STATE_UNKNOWN

ZONAL_COLUMNS = (
    "surface_suitable_share",
    "surface_best_score",
    "surface_mean_score",
    "surface_excluded_share",
    "surface_unknown_share",
)


def _window_transform(t: Affine, win: Window) -> Affine:
    """Window transform of a north-up raster (without the deprecated Affine ``*`` product)."""
    if t.b != 0 or t.d != 0:
        raise ValueError("surface rasters are north-up")
    return Affine(t.a, 0.0, t.c + win.col_off * t.a, 0.0, t.e, t.f + win.row_off * t.e)


def _nan_nodata(a: np.ndarray, nodata: float | None) -> np.ndarray:
    if nodata is not None and not np.isnan(nodata):
        a = np.where(a == nodata, np.nan, a)
    return a


def _band_index(ds: rasterio.io.DatasetReader, name: str, default: int) -> int:
    for i, d in enumerate(ds.descriptions, start=1):
        if d == name:
            return i
    return default


def zonal_stats(
    surface_path: str | os.PathLike[str],
    regions: gpd.GeoDataFrame,
    *,
    threshold: float = 0.6,
    code_column: str = "code",
    chunk: int = 2048,
) -> pd.DataFrame:
    """Per-region summary of the surface, indexed by region code.

    Only land cells count (score not nodata); sea cells are never excluded, unknown or suitable.
    Regions are rasterised with integer ids (cell-centre rule; a cell belongs to the first region in
    ``regions`` order if polygons overlap) and aggregated with ``np.bincount``, window by window.

    * ``surface_suitable_share``: share of land cells not excluded with score >= ``threshold``
      (cells whose exclusion state is unknown can be suitable; see ``surface_unknown_share``).
    * ``surface_best_score``: best score of a non-excluded land cell (NaN if none).
    * ``surface_mean_score``: mean score over non-excluded land cells.
    * ``surface_excluded_share`` / ``surface_unknown_share``: share of land cells in each state.
    """
    codes = regions[code_column].astype(str).to_numpy()
    n = len(codes)
    land = np.zeros(n + 1, dtype=np.int64)
    suitable = np.zeros(n + 1, dtype=np.int64)
    excluded = np.zeros(n + 1, dtype=np.int64)
    unknown = np.zeros(n + 1, dtype=np.int64)
    ok_count = np.zeros(n + 1, dtype=np.int64)
    ok_sum = np.zeros(n + 1, dtype=np.float64)
    best = np.full(n + 1, -np.inf, dtype=np.float64)
    geoms = regions.geometry.to_numpy()
    with rasterio.open(surface_path) as ds:
        if ds.crs is not None and regions.crs is not None and ds.crs != regions.crs:
            regions = regions.to_crs(ds.crs)
            geoms = regions.geometry.to_numpy()
        b_score = _band_index(ds, "score", 1)
        b_state = _band_index(ds, "exclusion_state", 2)
        # reversed order so that, where polygons overlap, the first region wins (later burns overwrite)
        shapes_ids = [
            (g, i + 1) for i, g in reversed(list(enumerate(geoms))) if g is not None and not g.is_empty
        ]
        tree = shapely.STRtree(geoms)
        for r0 in range(0, ds.height, chunk):
            for c0 in range(0, ds.width, chunk):
                win = Window(c0, r0, min(chunk, ds.width - c0), min(chunk, ds.height - r0))
                wt = _window_transform(ds.transform, win)
                wb = (wt.c, wt.f + win.height * wt.e, wt.c + win.width * wt.a, wt.f)
                hit = set(tree.query(shapely.box(*wb)).tolist())
                if not hit:
                    continue
                score = _nan_nodata(ds.read(b_score, window=win), ds.nodata)
                is_land = np.isfinite(score)
                if not is_land.any():
                    continue
                state = _nan_nodata(ds.read(b_state, window=win), ds.nodata)
                ids = rasterize(
                    [s for s in shapes_ids if s[1] - 1 in hit],
                    out_shape=score.shape,
                    transform=wt,
                    fill=0,
                    all_touched=False,
                    dtype="int32",
                )
                sel = is_land & (ids > 0)
                rid, sc, st = ids[sel], score[sel].astype(np.float64), state[sel]
                land += np.bincount(rid, minlength=n + 1)
                exc = st == STATE_EXCLUDED
                excluded += np.bincount(rid[exc], minlength=n + 1)
                unknown += np.bincount(rid[st == STATE_UNKNOWN], minlength=n + 1)
                ok = ~exc
                ok_count += np.bincount(rid[ok], minlength=n + 1)
                ok_sum += np.bincount(rid[ok], weights=sc[ok], minlength=n + 1)
                suitable += np.bincount(rid[ok & (sc >= threshold)], minlength=n + 1)
                if ok.any():
                    u = np.unique(rid[ok])
                    mx = ndimage.maximum(sc[ok], labels=rid[ok], index=u)
                    best[u] = np.maximum(best[u], mx)
    with np.errstate(invalid="ignore", divide="ignore"):
        lc = land[1:].astype(np.float64)
        out = pd.DataFrame(
            {
                "surface_suitable_share": np.where(lc > 0, suitable[1:] / lc, np.nan),
                "surface_best_score": np.where(np.isfinite(best[1:]), best[1:], np.nan),
                "surface_mean_score": np.where(
                    ok_count[1:] > 0, ok_sum[1:] / np.maximum(ok_count[1:], 1), np.nan
                ),
                "surface_excluded_share": np.where(lc > 0, excluded[1:] / lc, np.nan),
                "surface_unknown_share": np.where(lc > 0, unknown[1:] / lc, np.nan),
                "surface_land_cells": land[1:],
            },
            index=pd.Index(codes, name=code_column),
        )
    return out


def candidate_zones(
    surface_path: str | os.PathLike[str],
    *,
    threshold: float = 0.6,
    min_area_ha: float = 25.0,
    regions: gpd.GeoDataFrame | None = None,
    code_column: str = "code",
    scale: int = 1,
) -> gpd.GeoDataFrame:
    """Contiguous (4-connected) non-excluded cells with score >= ``threshold`` as polygons.

    Columns: ``area_ha``, ``n_cells``, ``mean_score``, ``max_score``, ``la_code`` (region containing
    the zone's representative point, if ``regions`` given), sorted by ``max_score`` then area.
    Write with ``gdf.to_file(path, driver="GPKG")``. The score band is read whole; ``scale`` > 1 reads
    it decimated by that factor (nearest cell, GDAL uses the COG overviews) for very fine surfaces.
    """
    with rasterio.open(surface_path) as ds:
        b_score = _band_index(ds, "score", 1)
        if scale > 1:
            h, w = max(1, ds.height // scale), max(1, ds.width // scale)
            score = _nan_nodata(ds.read(b_score, out_shape=(h, w), resampling=Resampling.nearest), ds.nodata)
            t = ds.transform
            transform = Affine(t.a * ds.width / w, 0.0, t.c, 0.0, t.e * ds.height / h, t.f)
        else:
            score = _nan_nodata(ds.read(b_score), ds.nodata)
            transform = ds.transform
        crs = ds.crs
    cell_ha = abs(transform.a * transform.e) / 10_000.0
    with np.errstate(invalid="ignore"):
        mask = np.isfinite(score) & (score >= threshold)
    labels, n = ndimage.label(mask)  # default structure = 4-connectivity, as rasterio shapes()
    cols = ["area_ha", "n_cells", "mean_score", "max_score", "la_code", "geometry"]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=crs)
    idx = np.arange(1, n + 1)
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    keep = idx[counts * cell_ha >= min_area_ha]
    if keep.size == 0:
        return gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=crs)
    means = ndimage.mean(score, labels=labels, index=keep)
    maxes = ndimage.maximum(score, labels=labels, index=keep)
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[keep] = np.arange(1, keep.size + 1, dtype=np.int32)
    kept_labels = lut[labels]
    del labels
    polys: dict[int, list] = {}
    for geom, val in shapes(kept_labels, mask=kept_labels > 0, connectivity=4, transform=transform):
        polys.setdefault(int(val), []).append(shapely.geometry.shape(geom))
    geometry = [
        shapely.union_all(polys[i]) if len(polys[i]) > 1 else polys[i][0] for i in range(1, keep.size + 1)
    ]
    gdf = gpd.GeoDataFrame(
        {
            "area_ha": counts[keep - 1] * cell_ha,
            "n_cells": counts[keep - 1],
            "mean_score": means.astype(np.float64),
            "max_score": maxes.astype(np.float64),
            "la_code": pd.Series([None] * keep.size, dtype=object),
        },
        geometry=geometry,
        crs=crs,
    )
    if regions is not None and len(regions):
        reg = (
            regions.to_crs(crs)
            if regions.crs is not None and crs is not None and regions.crs != crs
            else regions
        )
        pts = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point(), crs=crs)
        j = gpd.sjoin(pts, reg[[code_column, "geometry"]], how="left", predicate="within")
        j = j[~j.index.duplicated(keep="first")]
        gdf["la_code"] = j[code_column].reindex(gdf.index).astype(object).where(j[code_column].notna(), None)
    return gdf.sort_values(["max_score", "area_ha"], ascending=[False, False], kind="stable").reset_index(
        drop=True
    )

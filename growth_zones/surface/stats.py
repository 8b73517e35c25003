"""Summaries of a written surface: per-region zonal statistics and candidate zones."""

from __future__ import annotations

import math
import os
from typing import Any

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


# ------------------------------------------------------------------------------ candidate zones
_MAX_SPLIT_ROUNDS = 64


def _adjacency(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices of the True cells (row-major) and their 4-neighbour edges as position pairs.

    The right neighbour of the cell at position p, when it is True, is the next True cell in
    row-major order (position p + 1); the one below is found by binary search."""
    h, w = mask.shape
    flat = mask.ravel()
    idx = np.flatnonzero(flat)
    right = (idx % w) < w - 1
    right[right] = flat[idx[right] + 1]
    a_r = np.flatnonzero(right)
    down = idx + w < h * w
    down[down] = flat[idx[down] + w]
    a_d = np.flatnonzero(down)
    b_d = np.searchsorted(idx, idx[a_d] + w)
    return idx, np.concatenate([a_r, a_d]), np.concatenate([a_r + 1, b_d])


def _first_per_group(groups: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Position (into ``groups``, non-negative integer ids) of the smallest ``key`` in each group,
    ties to the lowest position; one entry per group present. O(n): a per-group minimum, then the
    first position that attains it."""
    size = int(groups.max()) + 1 if len(groups) else 0
    low = np.full(size, np.inf)
    np.minimum.at(low, groups, key)
    hit = np.flatnonzero(key == low[groups])
    first = np.full(size, -1, dtype=np.int64)
    first[groups[hit][::-1]] = hit[::-1]  # the last write wins: the lowest position
    return first[first >= 0]


def _bisect(
    piece: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    big: np.ndarray,
    min_cells: int,
    idx: np.ndarray,
    width: int,
) -> np.ndarray:
    """Split every piece flagged in ``big`` (indexed by piece id) into two connected halves.

    Geodesic bisection: from a peripheral cell s (the farthest from the piece's centre) and the
    cell t farthest from s along paths inside the piece, with unit-step path distances d_s and d_t
    inside the piece, the cells with d_s - d_t <= c and those with d_s - d_t > c are each connected
    for any c: a cell's neighbour one step nearer s has d_s one less and d_t at most one more, so
    d_s - d_t never rises along a shortest path to s (and never falls along one to t), and every
    cell of a half reaches s (or t) inside that half. c is chosen where the two halves are closest
    to equal, keeping both at least
    ``min_cells`` where the piece allows. ``idx``/``width``: the cells' flat raster positions and
    the raster width (for the straight-line periphery). Returns the side (0/1) of every cell (0
    outside ``big``).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(piece)
    side = np.zeros(n, dtype=np.int64)
    cells = np.flatnonzero(big[piece])
    m = len(cells)
    loc = np.full(n, -1, dtype=np.int64)
    loc[cells] = np.arange(m)
    e = big[piece[a]] & (piece[a] == piece[b])
    graph = csr_matrix((np.ones(int(e.sum()), dtype=np.float64), (loc[a[e]], loc[b[e]])), shape=(m, m))
    pc = piece[cells]

    def far_from(seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = dijkstra(graph, directed=False, indices=seeds, unweighted=True, min_only=True)
        return d, _first_per_group(pc, -d)

    # s: the cell farthest (straight line) from its piece's centre, a peripheral cell; t: the cell
    # farthest from s along paths inside the piece
    rc = np.divmod(idx[cells], width)
    count = np.bincount(pc).astype(np.float64)
    away = np.zeros(m)
    for coord in rc:
        centre = np.bincount(pc, weights=coord) / np.maximum(count, 1)
        away += (coord - centre[pc]) ** 2
    s = _first_per_group(pc, -away)
    d_s, t = far_from(s)
    d_t, _ = far_from(t)
    f = (d_s - d_t).astype(np.int64)  # unit steps: integer path lengths
    span = int(np.abs(f).max()) * 2 + 1
    order = np.argsort(pc * span + (f + span // 2), kind="stable")
    fs, ps = f[order], pc[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    sizes = np.diff(np.r_[starts, m])
    n_group = np.repeat(sizes, sizes)
    left = np.arange(m) - np.repeat(starts, sizes) + 1  # cells on the low side if cut after this one
    boundary = np.r_[(ps[:-1] == ps[1:]) & (fs[:-1] != fs[1:]), False]
    balanced = np.abs(left - n_group / 2.0)
    valid = (left >= min_cells) & (n_group - left >= min_cells)
    cost = np.where(boundary, balanced + np.where(valid, 0.0, float(m) + 1.0), np.inf)
    best = _first_per_group(ps, cost)  # one cut per piece (every piece has a boundary: f(s) < f(t))
    cut = np.zeros(int(ps.max()) + 1, dtype=np.int64)
    cut[ps[best]] = left[best]
    low = left <= cut[ps]
    side[cells[order]] = np.where(low, 0, 1)
    return side


def zone_labels(
    mask: np.ndarray, *, min_cells: int, max_cells: int
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Candidate zones of a boolean raster: 4-connected areas of True cells, each split until no
    zone has more than ``max_cells`` cells; zones of fewer than ``min_cells`` cells are dropped.

    Returns ``(idx, zone, stats)``: the flat (row-major) indices of the True cells, the zone of each
    (0..Z-1, or -1 where dropped) and counts for the run record. Every zone is 4-connected (see
    :func:`_bisect`); the work is on the True cells only, never the whole grid.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if min_cells < 1 or max_cells < min_cells:
        raise ValueError(f"need 1 <= min_cells <= max_cells (got {min_cells}, {max_cells})")
    idx, a, b = _adjacency(mask)
    n = len(idx)
    stats = {
        "suitable_cells": n,
        "areas": 0,
        "areas_below_min": 0,
        "areas_below_min_cells": 0,
        "areas_split": 0,
        "split_rounds": 0,
        "fragments_below_min": 0,
        "fragments_below_min_cells": 0,
        "zones": 0,
    }
    if n == 0:
        return idx, np.zeros(0, dtype=np.int64), stats
    graph = csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    sizes = np.bincount(comp)
    stats["areas"] = int(n_comp)
    small = sizes < min_cells
    stats["areas_below_min"] = int(small.sum())
    stats["areas_below_min_cells"] = int(sizes[small].sum())
    stats["areas_split"] = int((sizes > max_cells).sum())
    piece = comp
    for _ in range(_MAX_SPLIT_ROUNDS):
        big = sizes > max_cells
        if not big.any():
            break
        stats["split_rounds"] += 1
        side = _bisect(piece, a, b, big, min_cells, idx, mask.shape[1])
        _, piece = np.unique(piece * 2 + side, return_inverse=True)
        sizes = np.bincount(piece)
    else:  # pragma: no cover - each round halves the largest piece: 64 rounds cover any grid
        raise RuntimeError("candidate zones: splitting did not converge")
    keep = sizes >= min_cells
    fragments = ~keep & ~np.isin(np.arange(len(sizes)), np.unique(piece[small[comp]]))
    stats["fragments_below_min"] = int(fragments.sum())
    stats["fragments_below_min_cells"] = int(sizes[fragments].sum())
    new_id = np.full(len(sizes), -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    stats["zones"] = int(keep.sum())
    return idx, new_id[piece], stats


def _suitable_cells(
    surface_path: str | os.PathLike[str], threshold: float, scale: int, chunk_rows: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Affine, object]:
    """The boolean raster of suitable cells (land, not excluded, score >= ``threshold``) and the
    score (float64) and exclusion state of just those cells, row-major. Read in blocks of rows, so
    the full float bands are never held at once. ``scale`` > 1 reads the bands decimated (nearest
    cell, from the COG overviews)."""
    with rasterio.open(surface_path) as ds:
        b_score = _band_index(ds, "score", 1)
        b_state = _band_index(ds, "exclusion_state", 2) if ds.count >= 2 else None
        crs = ds.crs
        t = ds.transform
        if scale > 1:
            h, w = max(1, ds.height // scale), max(1, ds.width // scale)
            kw = {"out_shape": (h, w), "resampling": Resampling.nearest}
            transform = Affine(t.a * ds.width / w, 0.0, t.c, 0.0, t.e * ds.height / h, t.f)
            blocks = [(0, h, ds.read(b_score, **kw), ds.read(b_state, **kw) if b_state else None)]
        else:
            h, w = ds.height, ds.width
            transform = t

            def read(r0: int) -> tuple[int, int, np.ndarray, np.ndarray | None]:
                win = Window(0, r0, w, min(chunk_rows, h - r0))
                return (
                    r0,
                    int(win.height),
                    ds.read(b_score, window=win),
                    ds.read(b_state, window=win) if b_state else None,
                )

            blocks = (read(r0) for r0 in range(0, h, chunk_rows))
        mask = np.zeros((h, w), dtype=bool)
        scores, states = [], []
        for r0, nrows, sc, st in blocks:
            sc = _nan_nodata(sc, ds.nodata)
            with np.errstate(invalid="ignore"):
                m = np.isfinite(sc) & (sc >= threshold)
                if st is not None:
                    st = _nan_nodata(st, ds.nodata)
                    m &= st != STATE_EXCLUDED
            mask[r0 : r0 + nrows] = m
            scores.append(sc[m].astype(np.float64))
            states.append(st[m].astype(np.float64) if st is not None else np.zeros(int(m.sum())))
    return mask, np.concatenate(scores), np.concatenate(states), transform, crs


ZONE_COLUMNS = (
    "zone",
    "rank",
    "area_ha",
    "n_cells",
    "campus_score",
    "mean_score",
    "max_score",
    "unknown_share",
    "la_code",
    "la_share",
    "best_x",
    "best_y",
)


def zone_size_warnings(cell_ha: float, min_area_ha: float, max_area_ha: float) -> list[str]:
    """What a grid of ``cell_ha`` cells cannot honour of the zone size bounds, in words (empty when
    it honours both): a cell larger than the largest zone makes every zone one cell, too big for a
    site; a cell larger than the smallest zone makes the smallest zone one cell, and suitable areas
    smaller than a cell are not seen. Each says which resolution would do."""
    side = math.sqrt(cell_ha * 10_000.0)
    out = []
    if cell_ha > max_area_ha * (1 + 1e-9):
        need = math.floor(math.sqrt(max_area_ha * 10_000.0))
        out.append(
            f"one {side:,.0f} m cell is {cell_ha:,.0f} ha, more than the largest candidate zone "
            f"({max_area_ha:,.0f} ha = {max_area_ha / 100:g} km2): every zone is a single cell and none is "
            f"site-sized; candidate zones need cells of {need:,} m or finer"
        )
    elif cell_ha > min_area_ha * (1 + 1e-9):
        need = math.floor(math.sqrt(min_area_ha * 10_000.0))
        out.append(
            f"one {side:,.0f} m cell is {cell_ha:,.0f} ha, more than the smallest candidate zone "
            f"({min_area_ha:,.0f} ha): the smallest zone is one cell ({cell_ha:,.0f} ha) and suitable "
            f"areas smaller than a cell are not seen; cells of {need:,} m or finer resolve the minimum"
        )
    return out


def candidate_zones(
    surface_path: str | os.PathLike[str],
    *,
    threshold: float = 0.6,
    min_area_ha: float = 50.0,
    max_area_ha: float = 2500.0,
    regions: gpd.GeoDataFrame | None = None,
    code_column: str = "code",
    scale: int = 1,
) -> gpd.GeoDataFrame:
    """Site-sized candidate zones: contiguous (4-connected) land cells that are not excluded and
    score at least ``threshold``, split so that no zone exceeds ``max_area_ha`` (see
    :func:`zone_labels`), zones below ``min_area_ha`` dropped, ranked.

    Columns (statistics over each zone's own cells only): ``zone`` (Z0001 ...), ``rank`` (1 =
    best), ``area_ha``, ``n_cells``, ``campus_score`` (mean score of the zone's best cells covering
    ``min_area_ha``: how good the best campus-sized patch is; the ranking key), ``mean_score``,
    ``max_score``, ``unknown_share`` (share of the zone's cells where some exclusion could not be
    checked), ``la_code`` / ``la_share`` (the region holding most of the zone's cells, by the
    cell-centre rule, and that share), ``best_x``/``best_y`` (centre of the best cell, EPSG:27700).
    The counts behind the split are in ``gdf.attrs["zone_stats"]``, with ``size_warnings``
    (:func:`zone_size_warnings`) when the cells are too coarse for the size bounds. ``scale`` > 1 reads the bands
    decimated by that factor (nearest cell, from the COG overviews) for very fine surfaces.
    """
    mask, score_at, state_at, transform, crs = _suitable_cells(surface_path, threshold, scale)
    cell_ha = abs(transform.a * transform.e) / 10_000.0
    min_cells = max(1, int(np.ceil(min_area_ha / cell_ha - 1e-9)))
    max_cells = max(min_cells, int(np.floor(max_area_ha / cell_ha + 1e-9)))
    idx, zone, zstats = zone_labels(mask, min_cells=min_cells, max_cells=max_cells)
    zstats = {
        **zstats,
        "cell_ha": cell_ha,
        "min_cells": min_cells,
        "max_cells": max_cells,
        "threshold": threshold,
        "size_warnings": zone_size_warnings(cell_ha, min_area_ha, max_area_ha),
    }
    sel = zone >= 0
    z, cells = zone[sel], idx[sel]
    n_z = zstats["zones"]
    empty = gpd.GeoDataFrame({c: [] for c in ZONE_COLUMNS}, geometry=[], crs=crs)
    if n_z == 0:
        empty.attrs["zone_stats"] = zstats
        return empty
    sc = score_at[sel]
    n_cells = np.bincount(z, minlength=n_z)
    mean = np.bincount(z, weights=sc, minlength=n_z) / n_cells
    best = np.full(n_z, -np.inf)
    np.maximum.at(best, z, sc)
    unknown = np.bincount(z, weights=(state_at[sel] == STATE_UNKNOWN), minlength=n_z) / n_cells
    # the best min_cells cells of each zone (every zone has at least that many)
    order = np.lexsort((-sc, z))
    zo = z[order]
    start = np.r_[0, np.cumsum(n_cells)[:-1]]
    pos = np.arange(len(order)) - start[zo]
    top = pos < min_cells
    campus = np.bincount(zo[top], weights=sc[order][top], minlength=n_z) / min_cells
    best_cell = cells[order[pos == 0]]  # first of each zone in (zone, -score) order
    w = mask.shape[1]
    bx = transform.c + (best_cell % w + 0.5) * transform.a
    by = transform.f + (best_cell // w + 0.5) * transform.e

    labels = np.zeros(mask.shape, dtype=np.uint16 if n_z < 65535 else np.int32)
    labels.ravel()[cells] = z + 1
    polys: dict[int, list] = {}
    for geom, val in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        polys.setdefault(int(val), []).append(shapely.geometry.shape(geom))
    geometry = [shapely.union_all(polys[i]) if len(polys[i]) > 1 else polys[i][0] for i in range(1, n_z + 1)]

    la_code = pd.Series([None] * n_z, dtype=object)
    la_share = np.full(n_z, np.nan)
    if regions is not None and len(regions):
        reg = (
            regions.to_crs(crs)
            if regions.crs is not None and crs is not None and regions.crs != crs
            else regions
        )
        lad = (
            rasterize(
                [
                    (g, i + 1)
                    for i, g in enumerate(reg.geometry.to_numpy())
                    if g is not None and not g.is_empty
                ],
                out_shape=mask.shape,
                transform=transform,
                fill=0,
                all_touched=False,
                dtype="uint16" if len(reg) < 65535 else "int32",
            )
            .ravel()[cells]
            .astype(np.int64)
        )
        inside = lad > 0
        key = z[inside].astype(np.int64) * (len(reg) + 1) + lad[inside]
        pairs, counts = np.unique(key, return_counts=True)
        pz, pl = pairs // (len(reg) + 1), pairs % (len(reg) + 1)
        top_pair = _first_per_group(pz, -counts)
        codes = reg[code_column].astype(str).to_numpy()
        la_code.iloc[pz[top_pair]] = codes[pl[top_pair] - 1]
        la_share[pz[top_pair]] = counts[top_pair] / n_cells[pz[top_pair]]

    gdf = gpd.GeoDataFrame(
        {
            "zone": "",
            "rank": 0,
            "area_ha": n_cells * cell_ha,
            "n_cells": n_cells,
            "campus_score": campus,
            "mean_score": mean,
            "max_score": best,
            "unknown_share": unknown,
            "la_code": la_code,
            "la_share": la_share,
            "best_x": bx,
            "best_y": by,
        },
        geometry=geometry,
        crs=crs,
    )
    gdf = gdf.sort_values(
        ["campus_score", "mean_score", "area_ha"], ascending=[False, False, False], kind="stable"
    ).reset_index(drop=True)
    gdf["rank"] = np.arange(1, n_z + 1)
    gdf["zone"] = [f"Z{i:05d}" for i in range(1, n_z + 1)]
    gdf.attrs["zone_stats"] = zstats
    return gdf


ZONE_CAMPUS_MW = 500.0
"""The campus a candidate zone is checked for: DSIT's bar of at least 500 MW (AI Growth Zones: open
for applications, 2025). Its land need is the profile's ``[zones] min_area_ha``."""


def attach_places(zones: gpd.GeoDataFrame, layers: Any) -> gpd.GeoDataFrame:
    """Add to candidate zones what a planner asks next, from the regions and the resolved grid
    nodes (``growth_zones.indicators.grid_nodes``, the layer regions and sites use):

    * ``la_name``, ``nation``: the local authority of ``la_code``;
    * ``node_*``, ``dist_node_km``: the nearest site node (a transmission site or GSP, where a large
      demand connects) to the zone polygon, 0 inside it;
    * ``transmission_node_*``, ``dist_transmission_node_km``: the nearest transmission node
      (>= 275 kV, >= 132 kV in Scotland), its firm circuit capacity (``firm_capacity_mva``:
      published ETYS ratings of its circuits minus the largest, N-1; not spare capacity), the TEC
      contracted there (``transmission_node_tec_contracted_mw``) and ``firm_capacity_cover``: that
      capacity over a 500 MW campus (:data:`ZONE_CAMPUS_MW`; the surface knows no competing bids,
      so none are subtracted); ``meets_500mw_by_2030`` is true (the campus a zone is checked for
      is DSIT's minimum). Where a value cannot be had, ``zone_missing`` says why.

    Missing layers leave the columns empty (and the gates that need them unknown).
    """
    from ..data.layers import LayerSet
    from ..indicators import _geo, grid_nodes

    out = zones.copy()
    n = len(out)
    regions = getattr(layers, "regions", None)
    empty = pd.Series([None] * n, dtype=object, index=out.index)
    out["la_name"], out["nation"] = empty.copy(), empty.copy()
    if regions is not None and len(regions) and "la_code" in out:
        by_code = regions.drop_duplicates("code").set_index("code")
        codes = out["la_code"].astype(object)
        for col, src in (("la_name", "name"), ("nation", "nation")):
            v = codes.map(by_code[src]).astype(object)
            out[col] = v.where(v.notna(), None)
    for col in ("node_id", "node_name", "node_kind", "transmission_node_id", "transmission_node_name"):
        out[col] = empty.copy()
    for col in (
        "node_voltage_kv",
        "dist_node_km",
        "transmission_node_voltage_kv",
        "dist_transmission_node_km",
        "firm_capacity_mva",
        "transmission_node_tec_contracted_mw",
        "firm_capacity_cover",
    ):
        out[col] = np.nan
    out["campus_mw"] = ZONE_CAMPUS_MW  # the "claimed MW" of a zone, for the gates' words
    out["meets_500mw_by_2030"] = True  # ... by 2030: DSIT's minimum, by construction
    why = np.full(n, "", dtype=object)
    if getattr(layers, "substations", None) is None or n == 0:
        why[:] = "layer substations not available" if n else ""
        out["zone_missing"] = why
        return out
    ls = (
        layers
        if isinstance(layers, LayerSet)
        else LayerSet(**{name: getattr(layers, name, None) for name in LayerSet.layer_names()})
    )
    gn = grid_nodes(ls)
    g = np.asarray(out.geometry.values, dtype=object)

    site = gn.placed("site").reset_index()
    pos, d = _geo.nearest(g, _geo.geoms(site))
    out["node_id"] = np.asarray(_geo.pick(site, "node_id", pos), dtype=object)
    out["node_name"] = np.asarray(_geo.pick(site, "name", pos), dtype=object)
    out["node_kind"] = np.asarray(_geo.pick(site, "kind", pos), dtype=object)
    out["node_voltage_kv"] = _geo.at(site, "voltage_kv", pos)
    out["dist_node_km"] = d / 1000.0

    tx = gn.placed("transmission").reset_index()
    tpos, td = _geo.nearest(g, _geo.geoms(tx))
    has = tpos >= 0
    out["transmission_node_id"] = np.asarray(_geo.pick(tx, "node_id", tpos), dtype=object)
    out["transmission_node_name"] = np.asarray(_geo.pick(tx, "name", tpos), dtype=object)
    out["transmission_node_voltage_kv"] = _geo.at(tx, "voltage_kv", tpos)
    out["dist_transmission_node_km"] = td / 1000.0
    firm = _geo.at(tx, "firm_capacity_mva", tpos)
    out["firm_capacity_mva"] = firm
    out["transmission_node_tec_contracted_mw"] = _geo.at(tx, "tec_contracted_mw", tpos)
    out["firm_capacity_cover"] = firm / ZONE_CAMPUS_MW
    for col in ("node_name", "transmission_node_name"):  # some records carry no name: say what it is
        ids = out[col.replace("name", "id")]
        unnamed = ids.notna() & (out[col].fillna("").astype(str).str.strip() == "")
        out.loc[unnamed, col] = [f"unnamed node {i}" for i in ids[unnamed]]
    codes = np.asarray(_geo.pick(tx, "etys_code", tpos).fillna(""), dtype=object)
    names = out["transmission_node_name"].fillna("?").astype(str).to_numpy()
    why[~has] = "no transmission node"
    no_rating = has & np.isnan(firm)
    why[no_rating] = [
        f"firm_capacity_cover missing: no published ETYS circuit rating at node {nm}"
        if c
        else f"firm_capacity_cover missing: node {nm} has no ETYS site code (no ratings)"
        for nm, c in zip(names[no_rating], codes[no_rating], strict=True)
    ]
    out["zone_missing"] = why
    return out


def zone_gates(zones: gpd.GeoDataFrame, profile: Any) -> gpd.GeoDataFrame:
    """The profile's deliverability gates evaluated on each zone, as for a site: ``deliverable``
    (pass / unknown / fail, in :data:`scoring.GATE_ORDER` terms: any fail -> fail, else any unknown
    -> unknown), ``gate_reasons`` in the engine's words, and ``gate_<name>`` per gate. A gate whose
    indicator the zones do not carry, or whose value is missing, is unknown with the reason; a zone
    is never ``pass`` unchecked, and a profile without gates leaves every zone unknown, saying so.
    With gates the zones are re-ranked as sites and regions are: deliverability first, then
    ``campus_score`` (``rank`` and ``zone`` numbered again in that order).
    """
    from scoring.engine import _gate_fail_text  # the engine's own words for a failed gate
    from scoring.kernel import evaluate_condition

    out = zones.copy()
    n = len(out)
    gates = tuple(getattr(profile, "gates", ()) or ())
    name = getattr(profile, "name", str(profile))
    if not gates:
        out["deliverable"] = "unknown"
        out["gate_reasons"] = f"profile {name} declares no deliverability gates: not evaluated"
        return out
    reasons: list[list[str]] = [[] for _ in range(n)]
    fail = np.zeros(n, dtype=bool)
    unknown = np.zeros(n, dtype=bool)
    missing = out["zone_missing"].fillna("").astype(str).to_numpy() if "zone_missing" in out else None
    for gate in gates:
        if gate.indicator not in out.columns:
            status = np.full(n, "unknown", dtype=object)
            unknown[:] = True
            for r in reasons:
                r.append(f"{gate.label}: not checked ({gate.indicator} is not computed for zones)")
        else:
            values = pd.to_numeric(out[gate.indicator], errors="coerce").to_numpy(dtype=float)
            hit, unk = evaluate_condition(gate.op, gate.value, values)
            bad = ~hit & ~unk
            status = np.where(hit, "pass", np.where(unk, "unknown", "fail")).astype(object)
            fail |= bad
            unknown |= unk
            for i in np.flatnonzero(bad):
                reasons[i].append(_gate_fail_text(gate, float(values[i])))
            for i in np.flatnonzero(unk):
                why = missing[i] if missing is not None and missing[i] else f"{gate.indicator} missing"
                reasons[i].append(f"{gate.label}: not checked ({why})")
        out[f"gate_{gate.name}"] = status
    out["deliverable"] = np.where(fail, "fail", np.where(unknown, "unknown", "pass")).astype(object)
    out["gate_reasons"] = ["; ".join(r) for r in reasons]
    # the ranking rule of sites and regions: deliverability first (pass, unknown, fail), then score
    group = out["deliverable"].map({"pass": 0, "unknown": 1, "fail": 2})
    order = np.lexsort(
        (-out["area_ha"].to_numpy(), -out["mean_score"].to_numpy(), -out["campus_score"].to_numpy(), group)
    )
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, n + 1)
    out["zone"] = [f"Z{i:05d}" for i in range(1, n + 1)]
    return out

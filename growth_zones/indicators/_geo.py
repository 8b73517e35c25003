"""Vectorised geometry helpers shared by the region and site indicators (EPSG:27700 metres)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy.signal import fftconvolve

from ..data.layers import LayerSet
from ..data.loaders import RasterData
from .specs import LIGHT_IN_FIBRE_KM_PER_MS, IndicatorSettings

_NATION_SNAP_M = 20_000.0
"""Points and lines just off a generalised coastline still belong to the nearest nation."""


def geoms(frame: gpd.GeoDataFrame | gpd.GeoSeries | None) -> np.ndarray:
    if frame is None:
        return np.empty(0, dtype=object)
    g = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    return np.asarray(g.values, dtype=object)


def nearest(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each left geometry the position of the nearest right geometry and the distance (m).
    Distance 0 where they intersect. Positions are -1 / distance NaN where ``right`` is empty."""
    n = len(left)
    pos = np.full(n, -1, dtype=int)
    dist = np.full(n, np.nan)
    ok_right = ~(shapely.is_missing(right) | shapely.is_empty(right)) if len(right) else np.zeros(0, bool)
    if n == 0 or not ok_right.any():
        return pos, dist
    right_idx = np.flatnonzero(ok_right)
    tree = shapely.STRtree(right[right_idx])
    (li, ri), d = tree.query_nearest(left, return_distance=True, all_matches=False)
    pos[li] = right_idx[ri]
    dist[li] = d
    return pos, dist


def representative_points(g: np.ndarray) -> np.ndarray:
    return shapely.point_on_surface(g)


def nation_polygons(layers: LayerSet) -> gpd.GeoDataFrame | None:
    """(nation, geometry) from the countries layer, else the regions dissolved by nation."""
    if "nation_polygons" in layers._cache:
        return layers._cache["nation_polygons"]
    out = None
    for src in (layers.countries, layers.regions):
        if src is not None and "nation" in src and len(src):
            out = src[["nation", src.geometry.name]].dissolve("nation").reset_index()
            out = out.rename_geometry("geometry") if out.geometry.name != "geometry" else out
            break
    layers._cache["nation_polygons"] = out
    return out


def _nation_tiles(layers: LayerSet) -> tuple[np.ndarray, np.ndarray] | None:
    if "nation_tiles" not in layers._cache:
        nations = nation_polygons(layers)
        if nations is None:
            layers._cache["nation_tiles"] = None
        else:
            tiles, labels = [], []
            for nation, geom in zip(nations["nation"], geoms(nations), strict=True):
                t = subdivide(np.array([geom], dtype=object))
                tiles.append(t)
                labels.append(np.full(len(t), nation, dtype=object))
            layers._cache["nation_tiles"] = (np.concatenate(tiles), np.concatenate(labels))
    return layers._cache["nation_tiles"]


def nation_of(g: np.ndarray, layers: LayerSet) -> np.ndarray:
    """Nation containing each geometry's representative point (nearest nation within 20 km for
    points just offshore of the generalised coastline); "" where unknown."""
    tiles = _nation_tiles(layers)
    out = np.full(len(g), "", dtype=object)
    if tiles is None or len(g) == 0:
        return out
    pts = g if np.all(shapely.get_type_id(g) == 0) else representative_points(g)
    pos, dist = nearest(pts, tiles[0])
    ok = (pos >= 0) & (dist <= _NATION_SNAP_M)
    out[ok] = tiles[1][pos[ok]]
    return out


def checked_circuits(layers: LayerSet) -> gpd.GeoDataFrame | None:
    """The circuits layer without the ETYS lines drawn from a place the grid nodes do not accept.

    ETYS circuits are drawn straight between the community geocodes of their two sites. A line is
    dropped when an end's site is a grid node that the ETYS circuit-length check left unplaced, or
    placed more than ``NodeRules.circuit_slack_m`` from the geocode the line starts at (its geocode
    was rejected or overruled by FES/NGED/OSM: Greystones's lines ran from Sheffield to Teesside).
    Ends that are not grid nodes (ETYS border points on lines) are kept. Cached on the LayerSet."""
    key = "checked_circuits"
    if key not in layers._cache:
        c = layers.circuits
        kept = c
        if c is not None and len(c) and {"site_1", "site_2", "dataset"} <= set(c.columns):
            from .nodes import grid_nodes

            gn = grid_nodes(layers)
            nodes = gn.nodes[gn.nodes["etys_code"] != ""]
            at = nodes.drop_duplicates("etys_code").set_index("etys_code")[["x", "y"]]
            g = geoms(c)
            slack_m = gn.rules.circuit_slack_m
            drop = np.zeros(len(c), dtype=bool)
            for col, which in (("site_1", 0), ("site_2", -1)):
                code = c[col].astype(str)
                known = code.isin(at.index).to_numpy()
                end = shapely.get_point(g, which)
                nx = code.map(at["x"]).to_numpy(float)
                ny = code.map(at["y"]).to_numpy(float)
                d = np.hypot(nx - shapely.get_x(end), ny - shapely.get_y(end))
                with np.errstate(invalid="ignore"):
                    drop |= known & ~(d <= slack_m)
            drop &= c["dataset"].astype(str).str.startswith("neso_etys").to_numpy()
            kept = c[~drop]
        layers._cache[key] = kept
    out: gpd.GeoDataFrame | None = layers._cache[key]
    return out


def transmission_circuits(layers: LayerSet) -> gpd.GeoDataFrame:
    """Transmission circuits (of :func:`checked_circuits`): >= 275 kV, or >= 132 kV with the line's
    midpoint in Scotland."""
    key = "transmission_circuits"
    if key not in layers._cache:
        c = checked_circuits(layers)
        v = pd.to_numeric(c["voltage_kv"], errors="coerce").to_numpy()
        mid = shapely.line_interpolate_point(geoms(c), 0.5, normalized=True)
        scot = nation_of(mid, layers) == "Scotland"
        layers._cache[key] = c[(v >= 275) | ((v >= 132) & scot)]
    return layers._cache[key]


def length_within(targets: np.ndarray, lines: np.ndarray, distance_m: float) -> np.ndarray:
    """Length (m) of ``lines`` within ``distance_m`` of each target (its buffer), tree-pruned pairs;
    lines wholly inside a zone skip the intersection."""
    out = np.zeros(len(targets))
    if len(lines) == 0 or len(targets) == 0:
        return out
    zones = shapely.buffer(targets, distance_m, quad_segs=16)
    shapely.prepare(zones)
    t_idx, l_idx = shapely.STRtree(lines).query(zones, predicate="intersects")
    if len(t_idx):
        lengths = shapely.length(lines[l_idx])
        part = ~shapely.contains(zones[t_idx], lines[l_idx])
        lengths[part] = shapely.length(shapely.intersection(zones[t_idx[part]], lines[l_idx[part]]))
        np.add.at(out, t_idx, lengths)
    return out


def usable_rating(circuits: pd.DataFrame, settings: IndicatorSettings) -> np.ndarray:
    r = pd.to_numeric(circuits["rating_mva"], errors="coerce").to_numpy(dtype=float)
    return np.where(r >= settings.placeholder_rating_mva, np.nan, r)


def pairs_within(left: np.ndarray, right: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(left positions, right positions) of every pair within ``distance_m`` (tree query)."""
    if len(left) == 0 or len(right) == 0:
        return np.empty(0, int), np.empty(0, int)
    tree = shapely.STRtree(right)
    li, ri = tree.query(left, predicate="dwithin", distance=distance_m)
    return li, ri


def sum_within(left: np.ndarray, right: np.ndarray, weights: np.ndarray, distance_m: float) -> np.ndarray:
    """For each left geometry, the sum of ``weights`` (NaN counts 0) of right geometries within
    ``distance_m``."""
    li, ri = pairs_within(left, right, distance_m)
    w = np.nan_to_num(np.asarray(weights, dtype=float)[ri], nan=0.0)
    return np.bincount(li, weights=w, minlength=len(left)).astype(float)


def overlap_area(targets: np.ndarray, features: np.ndarray, disjoint: bool = False) -> np.ndarray:
    """Area (m2) of each target intersected with the union of ``features`` (overlapping features
    are not double counted; ``disjoint=True`` says they cannot overlap, so pieces are summed).
    Intersections only on candidate pairs from an STRtree."""
    out = np.zeros(len(targets))
    if len(features):
        features = features[~(shapely.is_missing(features) | shapely.is_empty(features))]
    feats = features
    if len(targets) == 0 or len(feats) == 0:
        return out
    tree = shapely.STRtree(feats)
    ti, fi = tree.query(targets, predicate="intersects")
    if len(ti) == 0:
        return out
    pieces = shapely.intersection(targets[ti], feats[fi])
    counts = np.bincount(ti, minlength=len(targets))
    single = (counts[ti] == 1) | disjoint
    np.add.at(out, ti[single], shapely.area(pieces[single]))
    multi = np.flatnonzero(counts > 1)
    if len(multi) and not disjoint:
        order = np.argsort(ti, kind="stable")
        ti_s, pieces_s = ti[order], pieces[order]
        starts = np.searchsorted(ti_s, multi)
        ends = np.searchsorted(ti_s, multi, side="right")
        for t, a, b in zip(multi, starts, ends, strict=True):  # only targets touching 2+ features
            out[t] = shapely.area(shapely.union_all(pieces_s[a:b]))
    return out


def subdivide(g: np.ndarray, max_vertices: int = 256) -> np.ndarray:
    """Split polygons into pieces of at most ``max_vertices`` vertices by recursive quartering of
    their bounding boxes (like PostGIS ST_Subdivide). Pieces of one input do not overlap, so area
    and distance are preserved, while tree queries and intersections touch only small pieces."""
    g = np.asarray(g, dtype=object)
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))] if len(g) else g
    done: list[np.ndarray] = []
    work = shapely.get_parts(g) if len(g) else g
    for _ in range(32):
        if len(work) == 0:
            break
        big = shapely.get_num_coordinates(work) > max_vertices
        done.append(work[~big])
        work = work[big]
        if len(work) == 0:
            break
        b = shapely.bounds(work)
        mx, my = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        quads = np.concatenate(
            [
                shapely.box(b[:, 0], b[:, 1], mx, my),
                shapely.box(mx, b[:, 1], b[:, 2], my),
                shapely.box(b[:, 0], my, mx, b[:, 3]),
                shapely.box(mx, my, b[:, 2], b[:, 3]),
            ]
        )
        pieces = shapely.intersection(np.tile(work, 4), quads)
        pieces = shapely.get_parts(pieces[~shapely.is_empty(pieces)])
        work = pieces[np.isin(shapely.get_type_id(pieces), (3, 6)) & (shapely.area(pieces) > 0)]
    done.append(work)
    return np.concatenate(done) if done else np.empty(0, dtype=object)


def covered(targets: np.ndarray, cover_tiles: np.ndarray | None, slack: float) -> np.ndarray:
    """True where the coverage (given as disjoint tiles) contains at least (1 - slack) of each
    target's area."""
    if cover_tiles is None or len(cover_tiles) == 0 or len(targets) == 0:
        return np.zeros(len(targets), dtype=bool)
    got = overlap_area(targets, cover_tiles, disjoint=True)
    return got >= (1.0 - slack) * shapely.area(targets)


def coverage_tiles(layers: LayerSet, designation: str, tolerance_m: float = 0.0) -> np.ndarray | None:
    """The union of a designation's coverage polygons (buffered by ``tolerance_m``), subdivided
    (cached)."""
    key = ("coverage_tiles", designation, float(tolerance_m))
    if key not in layers._cache:
        cov = layers.designation_coverage
        tiles = None
        if cov is not None and len(cov):
            rows = cov[cov["designation"] == designation]
            if len(rows):
                union = shapely.union_all(shapely.make_valid(geoms(rows)))
                if tolerance_m > 0:
                    # simplify by half the tolerance first (moves edges <= tol/2), then buffer by the
                    # full tolerance: contains the exact buffer by tol/2, and is ~20x cheaper
                    union = shapely.buffer(shapely.simplify(union, tolerance_m / 2), tolerance_m, quad_segs=2)
                tiles = subdivide(np.array([union], dtype=object))
        layers._cache[key] = tiles
    return layers._cache[key]


def designation_features(layers: LayerSet, designations: tuple[str, ...] | list[str]) -> np.ndarray:
    """Valid polygon parts of the given designations' features (cached, as an array whose
    STRtree is cached too: see :func:`designation_tree`)."""
    key = ("designation_features", tuple(sorted(designations)))
    if key not in layers._cache:
        pa = layers.protected_areas
        polys = np.empty(0, dtype=object)
        if pa is not None and len(pa):
            g = shapely.make_valid(geoms(pa[pa["designation"].isin(list(designations))]))
            if len(g):
                polys = shapely.get_parts(g)
                polys = polys[np.isin(shapely.get_type_id(polys), (3, 6)) & ~shapely.is_empty(polys)]
        layers._cache[key] = polys
    return layers._cache[key]


def designation_tree(layers: LayerSet, designations: tuple[str, ...] | list[str]) -> shapely.STRtree:
    key = ("designation_tree", tuple(sorted(designations)))
    if key not in layers._cache:
        layers._cache[key] = shapely.STRtree(designation_features(layers, designations))
    return layers._cache[key]


def designation_upper_area(layers: LayerSet, designation: str, targets: np.ndarray) -> np.ndarray:
    """A cheap upper bound of each target's designated area: the summed area of the
    designation's features that touch it (no geometry operations beyond a tree query)."""
    feats = designation_features(layers, (designation,))
    if len(feats) == 0 or len(targets) == 0:
        return np.zeros(len(targets))
    ti, fi = designation_tree(layers, (designation,)).query(targets, predicate="intersects")
    return np.bincount(ti, weights=shapely.area(feats)[fi], minlength=len(targets)).astype(float)


def designation_overlap_area(
    layers: LayerSet, designations: tuple[str, ...] | list[str], targets: np.ndarray
) -> np.ndarray:
    """Area of each target inside the union of the designations' features. Only the features
    that touch some target are dissolved (overlapping SSSI/SAC/SPA are counted once), then
    subdivided into disjoint pieces so per-target areas are plain sums (cached per feature set)."""
    feats = designation_features(layers, designations)
    if len(feats) == 0 or len(targets) == 0:
        return np.zeros(len(targets))
    cand = np.unique(designation_tree(layers, designations).query(targets, predicate="intersects")[1])
    if len(cand) == 0:
        return np.zeros(len(targets))
    key = ("designation_tiles", tuple(sorted(designations)), cand.tobytes())
    if key not in layers._cache:
        sel = feats[cand]
        a, b = shapely.STRtree(sel).query(sel, predicate="intersects")
        a, b = a[a < b], b[a < b]
        if len(a) == 0 or not (shapely.area(shapely.intersection(sel[a], sel[b])) > 0).any():
            layers._cache[key] = subdivide(sel)  # already disjoint (e.g. National Parks)
        else:
            layers._cache[key] = subdivide(np.array([shapely.union_all(sel)], dtype=object))
    return overlap_area(targets, layers._cache[key], disjoint=True)


def designation_segments(layers: LayerSet, designations: tuple[str, ...] | list[str]) -> np.ndarray:
    """Boundaries of the designations' features as 2-point segments (cached). For a target that
    does not intersect a feature, the distance to the feature equals the distance to its nearest
    boundary segment, and nearest-segment queries are far cheaper than polygon-polygon ones."""
    key = ("designation_segments", tuple(sorted(designations)))
    if key not in layers._cache:
        polys = designation_features(layers, designations)  # the same valid polygon parts
        segs = np.empty(0, dtype=object)
        if len(polys):
            rings = shapely.get_parts(shapely.boundary(polys))
            rings = rings[~shapely.is_empty(rings)]
            coords, ring = shapely.get_coordinates(rings, return_index=True)
            same = ring[1:] == ring[:-1]
            if same.any():
                segs = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        layers._cache[key] = segs
    return layers._cache[key]


# ------------------------------------------------------------------ population raster


def _disc_kernel(radius_m: float, cell_x: float, cell_y: float) -> np.ndarray:
    rx = int(np.floor(radius_m / cell_x))
    ry = int(np.floor(radius_m / cell_y))
    yy, xx = np.mgrid[-ry : ry + 1, -rx : rx + 1]
    return ((xx * cell_x) ** 2 + (yy * cell_y) ** 2 <= radius_m**2).astype(float)


def population_within(layers: LayerSet, points: np.ndarray, radius_km: float) -> np.ndarray:
    """Residents within ``radius_km``: sum of the cells whose centres lie within the radius of the
    centre of the cell containing each point (the raster is convolved once per radius with a disc
    kernel, NaN/nodata as 0, and cached). Points outside the raster give NaN."""
    raster: RasterData | None = layers.population_grid
    if raster is None or len(points) == 0:
        return np.full(len(points), np.nan)
    transform = raster.profile["transform"]
    if not isinstance(transform, Affine):  # a plain 6/9-tuple (e.g. a profile read back from JSON)
        transform = Affine(*list(transform)[:6])
    cell_x, cell_y = abs(transform.a), abs(transform.e)
    key = ("population_conv", float(radius_km))
    if key not in layers._cache:
        arr = np.asarray(raster.array, dtype="float64")
        nodata = raster.profile.get("nodata")
        bad = ~np.isfinite(arr)
        if nodata is not None and np.isfinite(nodata):
            bad |= arr == nodata
        arr = np.where(bad, 0.0, arr)
        conv = fftconvolve(arr, _disc_kernel(radius_km * 1000.0, cell_x, cell_y), mode="same")
        layers._cache[key] = np.clip(conv, 0.0, None)
    conv = layers._cache[key]
    x, y = shapely.get_x(points), shapely.get_y(points)
    inv = ~transform
    col_f = inv.a * x + inv.b * y + inv.c
    row_f = inv.d * x + inv.e * y + inv.f
    finite = np.isfinite(col_f) & np.isfinite(row_f)
    col = np.floor(np.where(finite, col_f, -1)).astype(int)
    row = np.floor(np.where(finite, row_f, -1)).astype(int)
    ok = finite & (row >= 0) & (row < conv.shape[0]) & (col >= 0) & (col < conv.shape[1])
    out = np.full(len(points), np.nan)
    out[ok] = conv[row[ok], col[ok]]
    return out


def rtt_ms(distance_m: np.ndarray, settings: IndicatorSettings) -> np.ndarray:
    """Round trip over a fibre route ``fibre_route_factor`` times the straight line."""
    return 2.0 * (distance_m / 1000.0) * settings.fibre_route_factor / LIGHT_IN_FIBRE_KM_PER_MS


def london_exchanges(layers: LayerSet) -> gpd.GeoDataFrame | None:
    ix = layers.internet_exchanges
    if ix is None:
        return None
    return ix[ix["metro"].astype(str).str.contains("london", case=False, na=False)]


# ------------------------------------------------------------------ grid nodes


def xy_at(points: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of ``points[pos]`` (NaN where ``pos`` is -1); points are shapely Points."""
    x = np.full(len(pos), np.nan)
    y = np.full(len(pos), np.nan)
    ok = pos >= 0
    if ok.any():
        x[ok] = shapely.get_x(points[pos[ok]])
        y[ok] = shapely.get_y(points[pos[ok]])
    return x, y


def at(frame: pd.DataFrame, column: str, pos: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Float ``frame[column]`` at positions ``pos``; ``fill`` where ``pos`` is -1."""
    vals = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) if len(frame) else np.empty(0)
    out = np.full(len(pos), fill, dtype=float)
    ok = pos >= 0
    out[ok] = vals[pos[ok]]
    return out


NEAREST_FEATURES: tuple[tuple[str, str, str, str], ...] = (
    ("dist_ix_km", "internet_exchanges", "ix", "no internet exchange in the layer"),
    ("dist_landing_km", "landing_points", "landing", "no landing point in the layer"),
)
"""(indicator, layer, name prefix, reason when the layer is empty) of the nearest-facility distances
that regions and sites share."""


class Recorder:
    """Writes indicator values and the reason each one is missing (shared by region and site
    indicators): ``fill`` stores values and clears the reason where a value exists;
    ``unavailable`` marks a column missing when a layer it needs is absent."""

    def __init__(
        self,
        values: pd.DataFrame,
        reasons: pd.DataFrame,
        layers: LayerSet,
        specs: dict[str, Any],
        ignore_sources: tuple[str, ...] = (),
    ) -> None:
        self.values, self.reasons, self.layers = values, reasons, layers
        self.specs, self.ignore = specs, ignore_sources

    def fill(self, col: str, arr: np.ndarray, why: np.ndarray | str | None = None) -> None:
        self.values[col] = np.asarray(arr, dtype=float)
        if why is not None:
            self.reasons[col] = why
        self.reasons.loc[self.values[col].notna().to_numpy(), col] = ""

    def nearest(self, col: str, g: np.ndarray, frame: gpd.GeoDataFrame, why: str) -> np.ndarray:
        """Fill ``col`` with the km from each geometry to the nearest feature of ``frame``;
        return the feature positions (-1 where there is none)."""
        pos, d = nearest(g, geoms(frame))
        self.fill(col, d / 1000.0, why)
        return pos

    def unavailable(self, col: str) -> bool:
        why = missing_reason(self.layers, tuple(s for s in self.specs[col].sources if s not in self.ignore))
        if why:
            self.reasons[col] = why
            return True
        return False


def pick(frame: pd.DataFrame, column: str, pos: np.ndarray) -> pd.arrays.StringArray:
    """``frame[column]`` at positions ``pos`` as strings; <NA> where ``pos`` is -1."""
    vals = frame[column].astype(str).to_numpy() if len(frame) else np.empty(0, dtype=object)
    out = np.full(len(pos), None, dtype=object)
    ok = pos >= 0
    out[ok] = vals[pos[ok]]
    return pd.array(out, dtype="string")


def missing_reason(layers: LayerSet, names: tuple[str, ...]) -> str:
    """ "layer x not available" for the first missing layer, else ""."""
    for name in names:
        if getattr(layers, name, None) is None:
            return f"layer {name} not available"
    return ""


def empty_like(index: pd.Index, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = pd.DataFrame(np.nan, index=index, columns=columns, dtype=float)
    reasons = pd.DataFrame("", index=index, columns=columns, dtype=object)
    return values, reasons


def as_boolean(x: Any, missing: np.ndarray | None = None) -> pd.array:
    arr = pd.array(np.asarray(x, dtype=bool), dtype="boolean")
    if missing is not None:
        arr[np.asarray(missing, dtype=bool)] = pd.NA
    return arr

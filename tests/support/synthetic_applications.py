"""Synthetic application batches: realistic random sites on GB land, optionally mixed with
malformed rows of every kind :func:`growth_zones.workflows.applications.read_applications` rejects.

Used by the tests (the expected count of each rejection reason is known) and by benchmarks.
Nothing here is real: ids start with ``SYN`` and applicants are "Synthetic Ltd".
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from growth_zones.data.crs import bng_to_lonlat, lonlat_to_bng, to_bng
from growth_zones.settings import WGS84
from growth_zones.workflows.applications import EVIDENCE_FIELDS, circle_of_area, land_parts

REJECTED_KINDS: dict[str, str] = {
    "missing_id": "missing id",
    "duplicate_id": "duplicate id",
    "empty_geometry": "empty geometry",
    "invalid_geometry": "invalid geometry that cannot be repaired",
    "wrong_crs": "look like British National Grid metres",
    "sea": "in the sea",
    "foreign": "outside Great Britain",
    "tiny": "implausibly small",
    "huge": "implausibly large",
    "bad_mw": "is not a number",
    "bad_year": "target year",
}
"""Malformed kinds that are rejected -> a substring of the rejection reason."""
WARNED_KINDS: dict[str, str] = {
    "repairable_geometry": "geometry repaired",
    "unknown_evidence": "not understood",
}
"""Malformed kinds that are accepted with a warning -> a substring of the warning."""
MALFORMED_KINDS: tuple[str, ...] = (*REJECTED_KINDS, *WARNED_KINDS)

FOREIGN_LONLAT = {"Dublin": (-6.26, 53.35), "Paris": (2.35, 48.86), "Belfast": (-5.93, 54.60)}


def _sample_on_land(
    rng: np.random.Generator, union: shapely.Geometry, n: int, area_ha: np.ndarray, max_rounds: int = 200
) -> np.ndarray:
    """``n`` site polygons (BNG) lying wholly on land: squares (rotated) or circles of ``area_ha``."""
    minx, miny, maxx, maxy = union.bounds
    found: list[shapely.Geometry] = []
    for _ in range(max_rounds):
        need = n - len(found)
        if need <= 0:
            break
        k = max(4 * need, 256)
        x = rng.uniform(minx, maxx, k)
        y = rng.uniform(miny, maxy, k)
        keep = shapely.contains_xy(union, x, y)
        x, y = x[keep], y[keep]
        a = area_ha[len(found) : len(found) + len(x)]
        x, y = x[: len(a)], y[: len(a)]
        polys = _shapes(rng, x, y, a)
        ok = shapely.contains(union, polys)
        found.extend(polys[ok][:need])
    if len(found) < n:
        raise ValueError(f"could not place {n} sites on the land layer (placed {len(found)}); is it empty?")
    return np.asarray(found[:n], dtype=object)


def _shapes(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, area_ha: np.ndarray) -> np.ndarray:
    """Half rotated squares, half circles, of the given areas, centred on (x, y)."""
    out = np.empty(len(x), dtype=object)
    square = rng.random(len(x)) < 0.5
    side = np.sqrt(area_ha[square] * 10_000)
    theta = rng.uniform(0, math.pi / 2, square.sum())
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    dx = corners[None, :, 0] * side[:, None]
    dy = corners[None, :, 1] * side[:, None]
    xs = x[square][:, None] + dx * cos - dy * sin
    ys = y[square][:, None] + dx * sin + dy * cos
    out[square] = shapely.polygons(np.stack([xs, ys], axis=-1))
    for j in np.flatnonzero(~square):
        out[j] = circle_of_area(shapely.Point(x[j], y[j]), float(area_ha[j]))
    return out


def _sea_sites(rng: np.random.Generator, union: shapely.Geometry, n: int) -> list[shapely.Geometry]:
    """20 ha squares 2-15 km off the coast (not touching land)."""
    minx, miny, maxx, maxy = union.bounds
    found: list[shapely.Geometry] = []
    for _ in range(500):
        if len(found) >= n:
            break
        k = 512
        x = rng.uniform(minx - 15_000, maxx + 15_000, k)
        y = rng.uniform(miny - 15_000, maxy + 15_000, k)
        pts = shapely.points(x, y)
        d = shapely.distance(union, pts)
        good = (d > 2_000) & (d < 15_000)
        for px, py in zip(x[good], y[good], strict=True):
            found.append(shapely.box(px - 224, py - 224, px + 224, py + 224))
    if len(found) < n:
        raise ValueError("could not place sea sites around the land layer")
    return found[:n]


def generate_applications(
    n: int, *, land: gpd.GeoDataFrame, seed: int = 0, malformed_fraction: float = 0.0, crs: str = WGS84
) -> gpd.GeoDataFrame:
    """Random, realistic applications on GB land, optionally mixed with malformed rows.

    Parameters
    ----------
    n
        Number of rows.
    land
        GB land polygons (any CRS; EPSG:27700 preferred).
    seed
        Random seed: the same seed gives the same frame.
    malformed_fraction
        Share of rows (rounded; at least one row stays valid) that are malformed, cycling through
        :data:`MALFORMED_KINDS`.
    crs
        Output CRS, ``EPSG:4326`` (default) or ``EPSG:27700``. Wrong-CRS rows carry coordinates of
        the *other* one, as a GeoJSON would.

    Returns
    -------
    GeoDataFrame
        Columns id, name, applicant, mw, target_year, evidence_*, site_area_ha, notes, geometry and
        ``synthetic_kind`` ("valid" or one of :data:`MALFORMED_KINDS`). mw/target_year are object
        columns when malformed rows hold text.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    out_bng = CRS.from_user_input(crs).to_epsg() == 27700
    rng = np.random.default_rng(seed)
    parts = land_parts(land)
    union = shapely.union_all(parts)
    shapely.prepare(union)
    m = min(int(round(n * malformed_fraction)), max(n - 1, 0))
    bad = [MALFORMED_KINDS[j % len(MALFORMED_KINDS)] for j in range(m)]
    kinds = np.array(["valid"] * (n - m) + bad, dtype=object)
    rng.shuffle(kinds)
    if n and kinds[0] != "valid":  # a valid row first, so every duplicate has an earlier original
        first = int(np.flatnonzero(kinds == "valid")[0])
        kinds[0], kinds[first] = kinds[first], kinds[0]

    area = np.round(rng.uniform(10, 200, n), 1)
    geoms = _sample_on_land(rng, union, n, area)
    mw: list[object] = list(np.round(rng.uniform(100, 2000, n), 0))
    year: list[object] = list(rng.integers(2026, 2036, n).astype(int))
    ev_values = np.array(["yes", "no", "unknown"], dtype=object)
    evidence = {ev: list(rng.choice(ev_values, n, p=[0.55, 0.3, 0.15])) for ev in EVIDENCE_FIELDS}
    ids: list[object] = [f"SYN{seed}-{i:05d}" for i in range(n)]
    other_crs = np.zeros(n, dtype=bool)  # coordinates already in the *other* CRS
    lonlat_given = np.zeros(n, dtype=bool)  # coordinates given in lon/lat (foreign sites)
    sea = iter(_sea_sites(rng, union, int((kinds == "sea").sum())) if (kinds == "sea").any() else [])
    valid_positions: list[int] = []
    for i, kind in enumerate(kinds):
        c = shapely.centroid(geoms[i])
        cx, cy = c.x, c.y
        if kind == "valid":
            valid_positions.append(i)
        elif kind == "missing_id":
            ids[i] = None if i % 2 else ""
        elif kind == "duplicate_id":
            ids[i] = ids[valid_positions[int(rng.integers(len(valid_positions)))]]
        elif kind == "empty_geometry":
            geoms[i] = None if i % 2 else shapely.Polygon()
        elif kind == "invalid_geometry":  # a ring that retraces itself: repairs to a line, not a polygon
            geoms[i] = shapely.Polygon(
                [(cx, cy), (cx + 500, cy + 300), (cx + 1000, cy), (cx + 500, cy + 300), (cx, cy)]
            )
        elif kind == "repairable_geometry":  # bow-tie: two 25 ha triangles
            s = 500.0
            geoms[i] = shapely.Polygon(
                [(cx - s, cy - s), (cx + s, cy + s), (cx + s, cy - s), (cx - s, cy + s)]
            )
            if not union.contains(geoms[i]):
                geoms[i] = shapely.Polygon(
                    [(cx - 150, cy - 150), (cx + 150, cy + 150), (cx + 150, cy - 150), (cx - 150, cy + 150)]
                )  # 4.5 ha: still over the 1 ha floor
        elif kind == "wrong_crs":
            other_crs[i] = True
        elif kind == "sea":
            geoms[i] = next(sea)
        elif kind == "foreign":
            lon, lat = list(FOREIGN_LONLAT.values())[i % len(FOREIGN_LONLAT)]
            d = 0.004  # ~ 25-45 ha
            geoms[i] = shapely.box(lon - d, lat - d, lon + d, lat + d)
            lonlat_given[i] = True
        elif kind == "tiny":
            geoms[i] = shapely.box(cx - 35, cy - 35, cx + 35, cy + 35)  # 0.49 ha
        elif kind == "huge":
            geoms[i] = shapely.box(cx - 4_000, cy - 4_000, cx + 4_000, cy + 4_000)  # 6,400 ha
        elif kind == "bad_mw":
            mw[i] = ["abc", "TBC", "lots"][i % 3]
        elif kind == "bad_year":
            year[i] = [2015, "soon", 2099][i % 3]
        elif kind == "unknown_evidence":
            evidence["evidence_water"][i] = "pending"

    frame = pd.DataFrame(
        {
            "id": ids,
            "name": [f"Synthetic site {i + 1}" for i in range(n)],
            "applicant": "Synthetic Ltd",
            "mw": pd.Series(mw, dtype=object if any(isinstance(v, str) for v in mw) else "float64"),
            "target_year": pd.Series(
                year, dtype=object if any(isinstance(v, str) for v in year) else "Int64"
            ),
            **evidence,
            "site_area_ha": np.nan,
            "notes": "synthetic",
            "synthetic_kind": kinds,
        }
    )
    geo = np.asarray(geoms, dtype=object)
    normal = ~other_crs & ~lonlat_given & ~shapely.is_missing(geo)
    if not out_bng:  # BNG -> lon/lat for ordinary rows; wrong-CRS rows keep their BNG numbers
        geo[normal] = shapely.transform(geo[normal], _to_lonlat)
    else:  # lon/lat -> BNG for foreign rows; wrong-CRS rows get lon/lat numbers instead
        geo[lonlat_given] = shapely.transform(geo[lonlat_given], _to_bng_xy)
        geo[other_crs] = shapely.transform(geo[other_crs], _to_lonlat)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geo, crs=crs), crs=crs)


def _to_lonlat(coords: np.ndarray) -> np.ndarray:
    lon, lat = bng_to_lonlat(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _to_bng_xy(coords: np.ndarray) -> np.ndarray:
    x, y, _ = lonlat_to_bng(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def write_mixed_batch(
    path: str | Path, n: int, *, land: gpd.GeoDataFrame, seed: int = 0, malformed_fraction: float = 0.1
) -> dict[str, int]:
    """Write ``n`` synthetic rows with malformed ones mixed in; return the count of each kind.

    ``.geojson``: an EPSG:4326 (CRS84) FeatureCollection written verbatim (so bow-ties and
    degenerate rings survive). ``.csv``: a ``wkt`` column in EPSG:4326 and no CRS (the reader detects
    it). Keys of the result are "valid" and :data:`MALFORMED_KINDS` (kinds absent from the batch
    are 0).
    """
    path = Path(path)
    gdf = generate_applications(n, land=land, seed=seed, malformed_fraction=malformed_fraction, crs=WGS84)
    counts = Counter(gdf["synthetic_kind"])
    cols = [c for c in gdf.columns if c not in ("geometry", "synthetic_kind")]

    def plain(v: object) -> object:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, np.generic):
            return v.item()
        return v

    if path.suffix.lower() in (".geojson", ".json"):
        features = []
        for rec, g in zip(gdf[cols].astype(object).to_dict("records"), gdf.geometry.values, strict=True):
            geom = None if g is None else json.loads(shapely.to_geojson(g))
            features.append(
                {"type": "Feature", "properties": {k: plain(v) for k, v in rec.items()}, "geometry": geom}
            )
        doc = {
            "type": "FeatureCollection",
            "name": "synthetic_applications",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features": features,
        }
        path.write_text(json.dumps(doc), encoding="utf-8")
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([*cols, "wkt"])
            for rec, g in zip(gdf[cols].astype(object).to_dict("records"), gdf.geometry.values, strict=True):
                vals = ["" if plain(rec[c]) is None else plain(rec[c]) for c in cols]
                w.writerow([*vals, "" if g is None else shapely.to_wkt(g, rounding_precision=-1)])
    else:
        raise ValueError(f"write_mixed_batch writes .geojson or .csv, not {path.suffix!r}")
    return {"valid": counts.get("valid", 0), **{k: counts.get(k, 0) for k in MALFORMED_KINDS}}


def bng_land_from_countries(countries: gpd.GeoDataFrame, code_column: str = "CTRY22CD") -> gpd.GeoDataFrame:
    """GB land (England, Scotland, Wales) in EPSG:27700 from an ONS countries layer (OSTN15)."""
    gb = countries[countries[code_column].astype(str).str[0].isin(["E", "S", "W"])]
    out, _ = to_bng(gb)
    return out

"""Surface masks (cell-centre rule) and the three-valued designation state, against shapely oracles."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from rasterio.windows import Window

from growth_zones.surface import SurfaceSpec, plan_from_profile, prepare_inputs
from growth_zones.surface import tile as tile_mod
from growth_zones.surface.spec import Grid
from growth_zones.surface.tile import burn, compute_indicators, compute_tile
from tests.support.surface_fixtures import BOUNDS, synthetic_layers, synthetic_profile_dict

scoring = pytest.importorskip("scoring")

POLY = shapely.Polygon(
    [(1012.3, 1033.3), (1171.1, 1021.7), (1188.8, 1144.4), (1107.7, 1101.9), (1051.5, 1188.2)],
    holes=[[(1090.1, 1050.3), (1120.7, 1052.9), (1110.4, 1075.6)]],
)


def oracle_mask(geoms, grid: Grid) -> np.ndarray:
    """Plain loop: a cell is in when shapely says its centre point is inside a polygon."""
    out = np.zeros(grid.shape, dtype=bool)
    for r in range(grid.height):
        for c in range(grid.width):
            x = grid.x0 + (c + 0.5) * grid.res
            y = grid.y0 - (r + 0.5) * grid.res
            p = shapely.Point(x, y)
            out[r, c] = any(g.contains(p) for g in geoms)
    return out


def test_polygon_mask_matches_point_in_polygon_oracle_20x20():
    grid = Grid(1000.0, 1200.0, 10.0, 20, 20)
    geoms = np.array([POLY], dtype=object)
    got = burn(geoms, shapely.STRtree(geoms), grid, grid.full_window)
    want = oracle_mask([POLY], grid)
    assert want.sum() > 50 and (~want).sum() > 50  # non-trivial case, hole included
    assert not want[14, 10]  # a cell centre inside the hole stays out
    np.testing.assert_array_equal(got, want)


def test_mask_of_window_equals_slice_of_whole():
    grid = Grid(1000.0, 1200.0, 10.0, 20, 20)
    geoms = np.array([POLY], dtype=object)
    whole = burn(geoms, shapely.STRtree(geoms), grid, grid.full_window)
    win = Window(3, 5, 11, 9)
    part = burn(geoms, shapely.STRtree(geoms), grid, win)
    np.testing.assert_array_equal(part, whole[5:14, 3:14])


def test_quadtree_split_and_clip_match_oracle(monkeypatch):
    # a many-vertex polygon (buffered wiggly line) forces the quadtree path with a low threshold
    monkeypatch.setattr(tile_mod, "SPLIT_VERTICES", 50)
    monkeypatch.setattr(tile_mod, "MIN_SPLIT", 4)
    t = np.linspace(0, 6 * math.pi, 400)
    line = shapely.LineString(np.column_stack([5003.3 + 90 * t, 5201.7 + 400 * np.sin(t)]))
    geom = line.buffer(137.7, quad_segs=16)
    grid = Grid(4900.0, 5700.0, 25.0, 80, 48)
    geoms = np.array([geom, shapely.box(6500.1, 4900.3, 6800.2, 5600.4)], dtype=object)
    got = burn(geoms, shapely.STRtree(geoms), grid, grid.full_window)
    xs, ys = grid.centres(grid.full_window)
    want = shapely.contains_xy(geom, xs[None, :], ys[:, None]) | shapely.contains_xy(
        geoms[1], xs[None, :], ys[:, None]
    )
    np.testing.assert_array_equal(got, want)


def _inputs(spec: SurfaceSpec, layers):
    plan = plan_from_profile(scoring.profile_from_dict(synthetic_profile_dict()))
    grid = Grid.from_bounds(BOUNDS, spec.resolution_m)
    inputs, _ = prepare_inputs(layers, spec, plan, discount_areas=layers.discount_areas, grid=grid)
    plan.set_reference({"population_30km": np.arange(100.0)})
    return inputs, grid


def test_designation_state_three_valued_and_land_mask():
    layers = synthetic_layers()
    spec = SurfaceSpec(
        resolution_m=500.0,
        protected_designations=("national_park", "sssi"),
        indicator_bands=("protected_share", "in_flood_zone_3"),
    )
    inputs, grid = _inputs(spec, layers)
    _, out = compute_tile(inputs, grid.full_window)
    assert out is not None
    score, state, prot, flood = out
    xs, ys = grid.centres(grid.full_window)
    X, Y = np.meshgrid(xs, ys)
    land = shapely.contains_xy(layers.countries.geometry.iloc[0], X, Y)
    np.testing.assert_array_equal(np.isfinite(score), land)  # sea = nodata
    np.testing.assert_array_equal(np.isfinite(state), land)

    pa = layers.protected_areas.set_index("name").geometry
    cov = layers.designation_coverage.set_index("designation").geometry
    designated = (
        shapely.contains_xy(pa["Park"], X, Y)
        | shapely.contains_xy(pa["SSSI-W"], X, Y)
        | shapely.contains_xy(pa["SSSI-E"], X, Y)
    )
    all_cov = shapely.contains_xy(cov["national_park"], X, Y) & shapely.contains_xy(cov["sssi"], X, Y)
    want_prot = np.where(designated, 1.0, np.where(all_cov, 0.0, np.nan))
    want_prot[~land] = np.nan
    np.testing.assert_array_equal(prot, want_prot.astype(np.float32))

    in_fz = shapely.contains_xy(pa["FZ3"], X, Y)
    fz_cov = shapely.contains_xy(cov["flood_zone_3"], X, Y)
    want_fz = np.where(in_fz, 1.0, np.where(fz_cov, 0.0, np.nan))
    want_fz[~land] = np.nan
    np.testing.assert_array_equal(flood, want_fz.astype(np.float32))

    # exclusion state: 1 where designated or in FZ3; 2 where not excluded but either is unknown; else 0
    excluded = land & (designated | in_fz)
    unknown = land & ~excluded & (~all_cov | ~fz_cov)
    clear = land & ~excluded & ~unknown
    assert excluded.sum() and unknown.sum() and clear.sum()
    np.testing.assert_array_equal(state[excluded], 1)
    np.testing.assert_array_equal(state[unknown], 2)
    np.testing.assert_array_equal(state[clear], 0)
    np.testing.assert_array_equal(score[excluded], -1.0)
    assert np.all((score[~excluded & land] >= 0) & (score[~excluded & land] <= 1))
    # an SSSI outside its dataset's coverage is still designated (excluded), never 'unknown'
    sx, sy = shapely.get_coordinates(pa["SSSI-E"].representative_point())[0]
    r, c = int((grid.y0 - sy) // grid.res), int((sx - grid.x0) // grid.res)
    assert state[r, c] == 1


def test_sea_tile_is_skipped():
    layers = synthetic_layers()
    spec = SurfaceSpec(resolution_m=250.0, protected_designations=("national_park", "sssi"))
    inputs, grid = _inputs(spec, layers)
    # top-right corner window lies wholly in the synthetic sea
    win = Window(grid.width - 6, 0, 6, 6)
    assert compute_indicators(inputs, grid, win) is None
    assert compute_tile(inputs, win)[1] is None


def test_discount_mask_from_geodataframe():
    layers = synthetic_layers()
    spec = SurfaceSpec(
        resolution_m=1000.0,
        indicator_bands=("in_discount_area",),
        protected_designations=("national_park", "sssi"),
    )
    inputs, grid = _inputs(spec, layers)
    _, out = compute_tile(inputs, grid.full_window)
    got = out[2]
    xs, ys = grid.centres(grid.full_window)
    X, Y = np.meshgrid(xs, ys)
    land = shapely.contains_xy(layers.countries.geometry.iloc[0], X, Y)
    east = shapely.contains_xy(layers.discount_areas.geometry.iloc[0], X, Y)
    want = np.where(land, east.astype(float), np.nan).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert isinstance(layers.discount_areas, gpd.GeoDataFrame)

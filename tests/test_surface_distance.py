"""Distance surfaces against a brute-force shapely oracle (min over every feature of shapely.distance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from growth_zones.surface import SurfaceSpec, plan_from_profile, prepare_inputs
from growth_zones.surface.spec import Grid
from growth_zones.surface.tile import compute_tile, nearest_distance
from tests.support.surface_fixtures import BOUNDS, synthetic_layers, synthetic_profile_dict

scoring = pytest.importorskip("scoring")


def oracle_distance(features, xs, ys) -> np.ndarray:
    """Plain loop over cells and features."""
    out = np.empty((len(ys), len(xs)))
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            p = shapely.Point(x, y)
            out[r, c] = min(shapely.distance(p, f) for f in features)
    return out


@pytest.mark.parametrize("max_candidates", [0, 3, 48])  # 0: always the per-cell cKDTree path
@pytest.mark.parametrize("block", [1, 7, 128])
def test_point_distance_exact(block, max_candidates):
    rng = np.random.default_rng(42)
    pts = rng.uniform([10_000, 20_000], [40_000, 45_000], size=(60, 2))
    grid = Grid(12_345.0, 43_210.0, 750.0, 30, 24)
    xs, ys = grid.centres(grid.full_window)
    got = nearest_distance(cKDTree(pts), xs, ys, block=block, max_candidates=max_candidates)
    want = oracle_distance([shapely.Point(p) for p in pts], xs, ys)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_point_distance_mask_and_far_points():
    pts = np.array([[1e6, 2e6], [-3e5, 4e5]])
    grid = Grid(0.0, 10_000.0, 1000.0, 10, 10)
    xs, ys = grid.centres(grid.full_window)
    mask = np.zeros((10, 10), bool)
    mask[2:5, 3:9] = True
    got = nearest_distance(cKDTree(pts), xs, ys, mask)
    want = oracle_distance([shapely.Point(p) for p in pts], xs, ys)
    assert np.isnan(got[~mask]).all()
    np.testing.assert_allclose(got[mask], want[mask], rtol=0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    res=st.sampled_from([1.0, 37.5, 100.0, 250.0]),
    block=st.integers(1, 20),
)
def test_point_distance_property(n, seed, res, block):
    rng = np.random.default_rng(seed)
    grid = Grid(400_000.0, 200_000.0, res, 13, 11)
    span = 30 * res
    pts = rng.uniform([400_000 - span, 200_000 - span], [400_000 + span, 200_000 + span], size=(n, 2))
    xs, ys = grid.centres(grid.full_window)
    got = nearest_distance(cKDTree(pts), xs, ys, block=block, max_candidates=5)
    d = np.sqrt(
        (ys[:, None, None] - pts[None, None, :, 1]) ** 2 + (xs[None, :, None] - pts[None, None, :, 0]) ** 2
    )
    np.testing.assert_allclose(got, d.min(axis=2), rtol=0, atol=1e-6)


def _surface_bands(res: float, bands: tuple[str, ...]):
    layers = synthetic_layers()
    spec = SurfaceSpec(
        resolution_m=res, indicator_bands=bands, protected_designations=("national_park", "sssi")
    )
    plan = plan_from_profile(scoring.profile_from_dict(synthetic_profile_dict()))
    grid = Grid.from_bounds(BOUNDS, res)
    inputs, _ = prepare_inputs(layers, spec, plan, discount_areas=layers.discount_areas, grid=grid)
    plan.set_reference({"population_30km": np.arange(100.0)})
    _, out = compute_tile(inputs, grid.full_window)
    xs, ys = grid.centres(grid.full_window)
    return layers, spec, out, xs, ys


def test_tile_point_indicators_match_oracle():
    bands = ("dist_substation_km", "dist_ix_km", "dist_landing_km", "rtt_london_ms")
    layers, spec, out, xs, ys = _surface_bands(1000.0, bands)
    land = np.isfinite(out[0])
    subs = layers.substations[layers.substations["kind"].isin(["transmission", "gsp"])].geometry.tolist()
    ix = layers.internet_exchanges.geometry.tolist()
    lon = layers.internet_exchanges[
        layers.internet_exchanges["metro"].str.lower() == "london"
    ].geometry.tolist()
    lp = layers.landing_points.geometry.tolist()
    for b, feats in zip(bands[:3], (subs, ix, lp), strict=True):
        want = oracle_distance(feats, xs, ys) / 1000.0
        got = out[2 + bands.index(b)]
        # bands are float32 km: compare at float32 precision (the float64 metres are tested exactly above)
        np.testing.assert_allclose(got[land], want[land], rtol=1e-6, atol=1e-6, err_msg=b)
        assert np.isnan(got[~land]).all()
    rtt = 2 * oracle_distance(lon, xs, ys) / 1000.0 * 1.5 / 200.0
    np.testing.assert_allclose(out[2 + 3][land], rtt[land], rtol=1e-6)


@pytest.mark.parametrize("res", [250.0, 1000.0])
def test_line_distance_within_stated_bound(res):
    layers, spec, out, xs, ys = _surface_bands(res, ("dist_circuit_km",))
    land = np.isfinite(out[0])
    lines = layers.circuits[layers.circuits["voltage_kv"] >= 275].geometry.tolist()
    want_m = oracle_distance(lines, xs, ys) if res == 1000.0 else _vector_line_distance(lines, xs, ys)
    got_m = out[2].astype(np.float64) * 1000.0
    bound = res * spec.line_spacing_fraction / 2  # densified at <= res/4: error <= res/8
    err = got_m[land] - want_m[land]
    f32 = 1e-3 * np.maximum(1.0, want_m[land] / 1000.0)  # float32 km storage
    assert (err >= -f32).all(), "densified distance must never underestimate"
    assert (err <= bound + f32).all(), f"max error {err.max():.3f} m > bound {bound} m"


def _vector_line_distance(lines, xs, ys) -> np.ndarray:
    X, Y = np.meshgrid(xs, ys)
    pts = shapely.points(X, Y)
    return np.min([shapely.distance(pts, g) for g in lines], axis=0)


def _nearest_value_loop(pts_vals, xs, ys) -> np.ndarray:
    """Plain loops: the value of the nearest point to every cell centre."""
    out = np.full((len(ys), len(xs)), np.nan)
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            best = None
            for (px, py), v in pts_vals:
                d = math.hypot(x - px, y - py)
                if best is None or d < best[0]:
                    best = (d, v)
            out[r, c] = best[1]
    return out


def test_tile_node_values_match_oracle():
    """SF1: the node voltage and the node's contracted TEC are read off the same nearest node the
    site indicators use, checked by a loop over the synthetic nodes."""
    bands = ("substation_voltage_kv", "tec_contracted_mw_node")
    layers = synthetic_layers()
    spec = SurfaceSpec(resolution_m=1000.0, indicator_bands=bands, protected_designations=("national_park",))
    plan = plan_from_profile(scoring.profile_from_dict(synthetic_profile_dict()))
    grid = Grid.from_bounds(BOUNDS, 1000.0)
    inputs, _ = prepare_inputs(layers, spec, plan, discount_areas=layers.discount_areas, grid=grid)
    # distinct TEC per transmission node so a wrong lookup shows (the synthetic layers hold no TEC)
    tx = inputs.points["transmission"]
    inputs.point_values["tec_contracted_mw_node"] = np.arange(1, len(tx) + 1) * 1000.0
    plan.set_reference({"population_30km": np.arange(100.0)})
    _, out = compute_tile(inputs, grid.full_window)
    xs, ys = grid.centres(grid.full_window)
    land = np.isfinite(out[0])
    subs = layers.substations[layers.substations["kind"].isin(["transmission", "gsp"])]
    volt = _nearest_value_loop(
        [((g.x, g.y), v) for g, v in zip(subs.geometry, subs["voltage_kv"], strict=True)], xs, ys
    )
    assert set(np.unique(volt[land])) == {275.0, 400.0}
    np.testing.assert_array_equal(out[2][land], volt[land])
    # transmission nodes: >= 275 kV in England (the 400 kV GSP too), in sorted coordinate order
    txs = subs[subs["voltage_kv"] >= 275]
    order = sorted((g.x, g.y) for g in txs.geometry)
    assert [tuple(p) for p in tx] == order
    tec = _nearest_value_loop([(p, (i + 1) * 1000.0) for i, p in enumerate(order)], xs, ys)
    assert len(np.unique(tec[land])) == 3
    np.testing.assert_array_equal(out[3][land], tec[land])
    assert np.isnan(out[2][~land]).all()


def test_point_values_align_with_points_and_take_the_largest_at_one_place():
    import geopandas as gpd

    from growth_zones.surface.inputs import _points, point_values

    g = gpd.GeoDataFrame(
        {"voltage_kv": [132.0, 400.0, np.nan, 275.0, np.nan]},
        geometry=[
            shapely.Point(5, 5),
            shapely.Point(1, 1),
            shapely.Point(3, 3),
            shapely.Point(5, 5),
            shapely.Point(9, 0),
        ],
        crs="EPSG:27700",
    )
    xy = _points(g)
    vals = point_values(g, "voltage_kv")
    got = {tuple(p): v for p, v in zip(xy.tolist(), vals.tolist(), strict=True)}
    assert got[(1.0, 1.0)] == 400.0 and got[(5.0, 5.0)] == 275.0
    assert math.isnan(got[(3.0, 3.0)]) and math.isnan(got[(9.0, 0.0)])
    assert len(point_values(g, "no_such_column")) == len(xy)

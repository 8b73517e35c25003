"""A coarse (5 km) GB surface from the real public datasets: sanity checks."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def gb_layers(mirror_cache):
    from growth_zones.data.layers import LayerSet
    from growth_zones.data.store import Store
    from growth_zones.workflows.surface import SURFACE_LAYERS

    return LayerSet.load(Store(mirror_cache), names=SURFACE_LAYERS)


BANDS = ("dist_ix_km", "in_discount_area", "protected_share", "share_national_park")


def _build(layers, out, plan=None):
    from growth_zones.surface import SurfaceSpec, build_surface

    res = build_surface(layers, SurfaceSpec(resolution_m=5000.0, indicator_bands=BANDS), out, plan=plan)
    with rasterio.open(res.path) as ds:
        return res, ds.read(), ds.transform, ds.tags()


@pytest.fixture(scope="module")
def gb(tmp_path_factory, gb_layers):
    res, bands, transform, tags = _build(gb_layers, tmp_path_factory.mktemp("surface") / "gb_5km.tif")
    return gb_layers, res, bands, transform, tags


def _centres(transform, shape):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return transform.c + (cols + 0.5) * transform.a, transform.f + (rows + 0.5) * transform.e


def test_cairngorms_penalised_not_removed(gb, tmp_path):
    """National Parks are an 'exceptional' tier in aigz_sites: cells inside the Cairngorms keep a
    score, halved against the same profile without the tier (an independent second surface); a
    user's stricter tier ('exclude') removes them."""
    import scoring
    from growth_zones.surface import plan_from_profile

    layers, _, bands, transform, _ = gb
    score, state = bands[0], bands[1]
    pa = layers.protected_areas
    cairngorms = pa[(pa["designation"] == "national_park") & pa["name"].str.contains("Cairngorms")]
    assert len(cairngorms) == 1
    x, y = _centres(transform, score.shape)
    inside = shapely.contains_xy(cairngorms.geometry.iloc[0], x, y) & np.isfinite(score)
    assert inside.sum() > 100  # ~4,500 km2 at 25 km2 per cell
    assert (state[inside] != 1).all() and (score[inside] > 0).all()
    assert (bands[5][inside] == 1).all()  # share_national_park band

    prof = scoring.load_profile("aigz_sites")
    data = prof.to_dict()
    del data["designations"]["national_park"]
    _, untiered, _, _ = _build(
        layers, tmp_path / "untiered.tif", plan_from_profile(scoring.profile_from_dict(data))
    )
    np.testing.assert_allclose(score[inside], 0.5 * untiered[0][inside], rtol=1e-6)
    park = (bands[5] == 1) & np.isfinite(score)
    clear = np.isfinite(score) & ~park & (state != 1)
    np.testing.assert_allclose(score[clear], untiered[0][clear], rtol=1e-6)

    _, strict, _, _ = _build(
        layers, tmp_path / "strict.tif", plan_from_profile(prof.with_tiers({"national_park": "exclude"}))
    )
    assert (strict[1][inside] == 1).all() and (strict[0][inside] == -1).all()


def test_london_ix_close(gb):
    layers, _, bands, transform, _ = gb
    ix = layers.internet_exchanges
    london = ix[ix["metro"].str.lower() == "london"].geometry
    dist_ix = bands[2]
    for p in london:
        r = int((transform.f - p.y) // -transform.e)
        c = int((p.x - transform.c) // transform.a)
        if np.isfinite(dist_ix[r, c]):
            assert dist_ix[r, c] < 10.0
    finite = np.isfinite(dist_ix)
    assert finite.sum() > 8000  # GB land ~ 230,000 km2 / 25 km2
    assert np.nanmax(dist_ix) > 200  # north of Scotland is far from any IX


def test_gb_surface_sane(gb):
    layers, res, bands, transform, tags = gb
    score, state, _, discount, prot, _park = bands
    land = np.isfinite(score)
    ok = land & (state != 1)
    # 0 is reachable: designation penalties add up to at most the whole score (e.g. SSSI + SAC)
    assert 0 <= np.nanmin(score[ok]) and np.nanmax(score[ok]) <= 1
    assert (score[ok] > 0).mean() > 0.99
    assert set(np.unique(state[land]).tolist()) <= {0.0, 1.0, 2.0}
    # designations are penalties now (no exclude tier by default): only Flood Zone 3 excludes, and
    # the Calderdale extract is smaller than a 5 km cell
    assert (state[land] == 1).sum() <= 5
    # Scotland is in the discount area; London is not
    x, y = _centres(transform, score.shape)
    scot = layers.countries[layers.countries["nation"] == "Scotland"].geometry.iloc[0]
    in_scot = shapely.contains_xy(scot, x, y) & land
    assert (discount[in_scot] == 1).mean() > 0.95
    assert tags["profile"] == "aigz_sites" and tags["resolution_m"] == "5000"
    assert res.stats["tiles_computed"] >= 1

    from growth_zones.surface import candidate_zones, zonal_stats

    z = zonal_stats(res.path, layers.regions)
    assert len(z) == len(layers.regions)
    assert z["surface_excluded_share"].max() < 0.5  # parks are penalised, not removed
    zones = candidate_zones(res.path, threshold=0.6, min_area_ha=2500, regions=layers.regions)
    assert len(zones) > 0 and zones["max_score"].is_monotonic_decreasing

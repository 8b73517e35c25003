"""A coarse (5 km) GB surface from the real public datasets: sanity checks."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def gb(tmp_path_factory, mirror_cache):
    from growth_zones.data.layers import LayerSet
    from growth_zones.data.store import Store
    from growth_zones.surface import SurfaceSpec, build_surface
    from growth_zones.workflows.surface import SURFACE_LAYERS

    layers = LayerSet.load(Store(mirror_cache), names=SURFACE_LAYERS)
    out = tmp_path_factory.mktemp("surface") / "gb_5km.tif"
    spec = SurfaceSpec(
        resolution_m=5000.0, indicator_bands=("dist_ix_km", "in_discount_area", "protected_share")
    )
    res = build_surface(layers, spec, out)
    with rasterio.open(res.path) as ds:
        bands = ds.read()
        transform, tags = ds.transform, ds.tags()
    return layers, res, bands, transform, tags


def _centres(transform, shape):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return transform.c + (cols + 0.5) * transform.a, transform.f + (rows + 0.5) * transform.e


def test_cairngorms_excluded(gb):
    layers, _, bands, transform, _ = gb
    score, state = bands[0], bands[1]
    pa = layers.protected_areas
    cairngorms = pa[(pa["designation"] == "national_park") & pa["name"].str.contains("Cairngorms")]
    assert len(cairngorms) == 1
    x, y = _centres(transform, score.shape)
    inside = shapely.contains_xy(cairngorms.geometry.iloc[0], x, y) & np.isfinite(score)
    assert inside.sum() > 100  # ~4,500 km2 at 25 km2 per cell
    assert (state[inside] == 1).all()
    assert (score[inside] == -1).all()


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
    score, state, _, discount, prot = bands
    land = np.isfinite(score)
    ok = land & (state != 1)
    assert 0 < np.nanmin(score[ok]) and np.nanmax(score[ok]) <= 1
    assert set(np.unique(state[land]).tolist()) <= {0.0, 1.0, 2.0}
    assert (
        prot[land & (state == 1)] == 1
    ).mean() > 0.99  # exclusions come from designations (+ a little FZ3)
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
    assert z["surface_excluded_share"].max() > 0.5  # e.g. a LAD mostly in a national park
    zones = candidate_zones(res.path, threshold=0.6, min_area_ha=2500, regions=layers.regions)
    assert len(zones) > 0 and zones["max_score"].is_monotonic_decreasing

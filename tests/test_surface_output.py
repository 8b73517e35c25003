"""Written surface (COG, transform, CRS, tags), zonal statistics, candidate zones, Dask path."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.transform
import shapely
from affine import Affine

from growth_zones.surface import (
    ZONAL_COLUMNS,
    SurfaceSpec,
    build_surface,
    candidate_zones,
    plan_from_profile,
    zonal_stats,
)
from tests.support.surface_fixtures import (
    BOUNDS,
    CULHAM,
    synthetic_layers,
    synthetic_profile_dict,
    write_score_raster,
)

scoring = pytest.importorskip("scoring")

SPEC = dict(bounds=BOUNDS, protected_designations=("national_park", "sssi"))


def _build(tmp_path, name="s.tif", **kw):
    layers = synthetic_layers()
    spec_kw = {**SPEC, **kw.pop("spec", {})}
    spec = SurfaceSpec(**spec_kw)
    return layers, build_surface(layers, spec, tmp_path / name, discount_areas=layers.discount_areas, **kw)


def _read(path):
    with rasterio.open(path) as ds:
        return ds.read()


def test_written_cog_transform_crs_and_tags(tmp_path):
    layers, res = _build(
        tmp_path, spec={"resolution_m": 1000.0, "tile_size": 16, "indicator_bands": ("dist_ix_km",)}
    )
    with rasterio.open(res.path) as ds:
        assert ds.crs.to_epsg() == 27700
        assert tuple(ds.bounds) == BOUNDS
        assert (ds.width, ds.height) == (30, 40)
        assert ds.transform == Affine(1000.0, 0.0, 440000.0, 0.0, -1000.0, 220000.0)
        assert ds.dtypes == ("float32",) * 3
        assert np.isnan(ds.nodata)
        assert ds.descriptions == ("score", "exclusion_state", "dist_ix_km")
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.compression is not None
        tags = ds.tags()
        assert tags["profile"] == "aigz_sites"
        assert tags["resolution_m"] == "1000"
        assert "dsit_power_test" in tags["criteria_dropped"]
        assert "dist_substation_km=" in tags["criteria_used"]
        assert "all_touched=False" in tags["mask_rule"]
        assert "synthetic" in tags["sources"]
        # Culham (BNG 453430, 195638) -> column 13, row 24
        col, row = (~ds.transform) @ CULHAM
        assert (int(np.floor(row)), int(np.floor(col))) == (24, 13)
        assert rasterio.transform.rowcol(ds.transform, *CULHAM) == (24, 13)
        score = ds.read(1)
        assert np.isfinite(score[24, 13])
    assert res.criteria_dropped and "dsit_power_test" in res.criteria_dropped
    assert res.stats["tiles_total"] == 6


def test_tiled_equals_whole_written(tmp_path):
    _, a = _build(tmp_path, "a.tif", spec={"resolution_m": 1000.0, "tile_size": 7})
    _, b = _build(tmp_path, "b.tif", spec={"resolution_m": 1000.0, "tile_size": 1000})
    np.testing.assert_array_equal(_read(a.path), _read(b.path))


def test_default_bounds_from_countries_snapped(tmp_path):
    layers = synthetic_layers()
    res = build_surface(
        layers,
        SurfaceSpec(resolution_m=2000.0, protected_designations=("sssi",)),
        tmp_path / "d.tif",
        discount_areas=layers.discount_areas,
    )
    minx, miny, maxx, maxy = layers.countries.total_bounds
    with rasterio.open(res.path) as ds:
        b = ds.bounds
        assert b.left <= minx < b.left + 2000 and b.right - 2000 < maxx <= b.right
        assert b.bottom <= miny < b.bottom + 2000 and b.top - 2000 < maxy <= b.top
        assert all(v % 2000 == 0 for v in b)


def test_zonal_stats_ignores_nodata(tmp_path):
    nan = np.nan
    # 2 rows x 6 cols of 100 m; region A = cols 0-2, B = cols 3-5 (B is half sea), C = all sea (off grid east)
    score = np.array([[0.9, 0.5, -1.0, nan, nan, 0.7], [0.61, nan, 0.2, nan, 0.95, nan]])
    state = np.array([[0, 2, 1, nan, nan, 2], [0, nan, 0, nan, 2, nan]])
    t = Affine(100.0, 0, 0.0, 0, -100.0, 200.0)
    path = write_score_raster(tmp_path / "z.tif", score, state, t)
    regions = gpd.GeoDataFrame(
        {"code": ["A", "B", "C"]},
        geometry=[shapely.box(0, 0, 300, 200), shapely.box(300, 0, 600, 200), shapely.box(600, 0, 900, 200)],
        crs="EPSG:27700",
    )
    z = zonal_stats(path, regions, threshold=0.6)
    assert list(z.columns[:5]) == list(ZONAL_COLUMNS)
    a, b, c = z.loc["A"], z.loc["B"], z.loc["C"]
    # A: land cells 0.9, 0.5, -1 (excluded), 0.61, 0.2 -> 5 land; suitable 0.9, 0.61
    assert a["surface_land_cells"] == 5
    assert a["surface_suitable_share"] == pytest.approx(2 / 5)
    assert a["surface_excluded_share"] == pytest.approx(1 / 5)
    assert a["surface_unknown_share"] == pytest.approx(1 / 5)
    assert a["surface_best_score"] == pytest.approx(0.9)
    assert a["surface_mean_score"] == pytest.approx((0.9 + 0.5 + 0.61 + 0.2) / 4, rel=1e-6)
    # B: 3 sea cells are neither excluded nor suitable; land 0.7 (unknown), 0.95 (unknown)
    assert b["surface_land_cells"] == 2
    assert b["surface_suitable_share"] == pytest.approx(1.0)
    assert b["surface_excluded_share"] == 0.0
    assert b["surface_unknown_share"] == pytest.approx(1.0)
    assert b["surface_best_score"] == pytest.approx(0.95)
    # C: outside the raster, no land
    assert c["surface_land_cells"] == 0
    assert np.isnan(c["surface_suitable_share"]) and np.isnan(c["surface_best_score"])
    # a higher threshold changes only the suitable share
    z2 = zonal_stats(path, regions, threshold=0.92)
    assert z2.loc["A", "surface_suitable_share"] == 0.0 and z2.loc["B", "surface_suitable_share"] == 0.5


def test_zonal_stats_on_built_surface(tmp_path):
    layers, res = _build(tmp_path, spec={"resolution_m": 500.0})
    z = zonal_stats(res.path, layers.regions)
    assert set(z.index) == {"E06900001", "E06900002"}
    assert (z["surface_land_cells"] > 0).all()
    for col in ("surface_suitable_share", "surface_excluded_share", "surface_unknown_share"):
        assert z[col].between(0, 1).all()
    assert z["surface_best_score"].between(0, 1).all()


def test_candidate_zones(tmp_path):
    score = np.full((8, 10), 0.1)
    score[1:4, 1:4] = 0.8  # 9 cells, max 0.8
    score[2, 2] = 0.9
    score[6:8, 7:10] = 0.7  # 6 cells
    score[0, 9] = 0.99  # 1 cell: below min area
    score[5, 0] = -1.0
    score[7, 0] = np.nan
    state = np.zeros_like(score)
    t = Affine(100.0, 0, 450000.0, 0, -100.0, 200000.0)  # 1 ha cells
    path = write_score_raster(tmp_path / "c.tif", score, state, t)
    regions = gpd.GeoDataFrame(
        {"code": ["W", "E"]},
        geometry=[shapely.box(450000, 199000, 450500, 200000), shapely.box(450500, 199000, 451000, 200000)],
        crs="EPSG:27700",
    )
    z = candidate_zones(path, threshold=0.6, min_area_ha=5, regions=regions)
    assert list(z["n_cells"]) == [9, 6]
    assert list(z["area_ha"]) == [9.0, 6.0]
    assert z["max_score"].tolist() == pytest.approx([0.9, 0.7])
    assert z["mean_score"].iloc[0] == pytest.approx((8 * 0.8 + 0.9) / 9)
    assert z["la_code"].tolist() == ["W", "E"]
    assert z.crs.to_epsg() == 27700
    assert z.geometry.area.tolist() == pytest.approx([90000.0, 60000.0])
    z.to_file(tmp_path / "zones.gpkg", driver="GPKG")
    assert len(candidate_zones(path, threshold=0.95, min_area_ha=5)) == 0


@pytest.mark.slow
def test_dask_path_equals_in_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    _, local = _build(tmp_path, "local.tif", spec={"resolution_m": 500.0, "tile_size": 16})
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        _, viadask = _build(tmp_path, "dask.tif", spec={"resolution_m": 500.0, "tile_size": 16}, dask=client)
    a, b = _read(local.path), _read(viadask.path)
    assert np.isfinite(a[0]).sum() > 3000
    np.testing.assert_array_equal(a, b)
    assert viadask.stats["tiles_computed"] == local.stats["tiles_computed"]


def test_parallel_tile_processes_equal_in_process(tmp_path):
    """Tiles computed in two forked processes (finished in any order) give the same COG, byte for
    byte, as tiles computed one after another in this process."""
    spec = {"resolution_m": 500.0, "tile_size": 16}
    _, local = _build(tmp_path, "local.tif", spec=spec)
    _, forked = _build(tmp_path, "forked.tif", spec=spec, workers=2)
    a, b = _read(local.path), _read(forked.path)
    assert np.isfinite(a[0]).sum() > 3000 and local.stats["tiles_computed"] > 4
    assert a.tobytes() == b.tobytes()
    assert local.path.read_bytes() == forked.path.read_bytes()
    with pytest.raises(ValueError, match="workers"):
        _build(tmp_path, "bad.tif", spec=spec, workers=-1)


def test_custom_plan(tmp_path):
    plan = plan_from_profile(scoring.profile_from_dict(synthetic_profile_dict()))
    _, res = _build(tmp_path, spec={"resolution_m": 1000.0}, plan=plan)
    with rasterio.open(res.path) as ds:
        assert ds.tags()["profile"] == "surface_test"
        assert ds.tags()["exclusions_dropped"] == "big"


def test_surface_run_writes_its_output_set(tmp_path):
    from growth_zones import api
    from growth_zones.errors import InvalidInputError

    layers = synthetic_layers()
    run = api.surface(resolution=1000.0, layers=layers, min_area_ha=100)
    paths = run.write(tmp_path / "o")
    assert set(paths) == {"surface", "zonal", "zones", "record", "overview", "overview_record"}
    assert all(p.exists() for p in paths.values())
    zones = gpd.read_file(paths["zones"])
    assert zones.crs.to_epsg() == 27700
    with pytest.raises(InvalidInputError, match="--overwrite"):  # never replaced silently
        run.write(tmp_path / "o")
    again = run.write(tmp_path / "o", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(p.name for p in again.values())


def test_float_nodata(tmp_path):
    layers, nan_res = _build(tmp_path, "nan.tif", spec={"resolution_m": 1000.0})
    _, f_res = _build(tmp_path, "f.tif", spec={"resolution_m": 1000.0, "nodata": -9999.0})
    a, b = _read(nan_res.path), _read(f_res.path)
    with rasterio.open(f_res.path) as ds:
        assert ds.nodata == -9999.0
    assert (b[:, np.isnan(a[0])] == -9999.0).all()
    np.testing.assert_array_equal(a[:, np.isfinite(a[0])], b[:, np.isfinite(a[0])])
    za, zb = zonal_stats(nan_res.path, layers.regions), zonal_stats(f_res.path, layers.regions)
    assert za.equals(zb)
    with pytest.raises(ValueError):
        SurfaceSpec(nodata=-1.0)


def test_candidate_zones_scaled(tmp_path):
    score = np.full((40, 40), 0.1)
    score[0:20, 0:20] = 0.8
    t = Affine(100.0, 0, 450000.0, 0, -100.0, 200000.0)
    path = write_score_raster(tmp_path / "big.tif", score, np.zeros_like(score), t)
    full = candidate_zones(path, threshold=0.6, min_area_ha=1)
    coarse = candidate_zones(path, threshold=0.6, min_area_ha=1, scale=4)
    assert full["area_ha"].tolist() == coarse["area_ha"].tolist() == [400.0]
    assert full.geometry.iloc[0].equals(coarse.geometry.iloc[0])

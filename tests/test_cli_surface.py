"""`growth-zones surface` at 250 m on the real data: a valid COG whose zonal stats join the ranking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cli import EXIT_MISSING_CHECKS, app

pytestmark = [pytest.mark.data, pytest.mark.slow]


def test_gb_surface_250m(mirror_cache, tmp_path, cli_runner):
    import rasterio

    from growth_zones.workflows.ranking import rank_regions

    env = {"GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror)}
    res = cli_runner.invoke(app, ["surface", "--resolution", "250", "--out", str(tmp_path)], env=env)
    # the CI mirror lacks most national designation files: the cells they would cover are
    # "unknown" and the run ends with exit code 4, naming them
    assert res.exit_code == EXIT_MISSING_CHECKS, res.output
    assert (
        "check not run: Designation: SSSI, for every cell it applies to: in Wales: dataset nrw_sssi_wales"
        in (res.stderr)
    )
    tif = tmp_path / "surface_250m.tif"
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 27700
        assert src.res == (250.0, 250.0)
        left, bottom, right, top = src.bounds
        # GB land from the ONS countries layer: roughly 0..660 km east, 0..1220 km north
        assert -1000 <= left < 10_000 and 650_000 < right <= 700_000
        assert 0 <= bottom < 20_000 and 1_200_000 < top <= 1_300_000
        assert src.profile["tiled"] and src.overviews(1), "a COG has internal tiles and overviews"
        # Culham (BNG 453430, 195638) lands in the pixel the transform says
        row, col = src.index(453430, 195638)
        x, y = src.xy(row, col)
        assert abs(x - 453430) <= 125 and abs(y - 195638) <= 125
        window = src.read(1, window=((row, row + 1), (col, col + 1)))
        assert 0.0 <= float(window[0, 0]) <= 1.0  # on land, not excluded: a score
    zonal = pd.read_csv(tmp_path / "surface_250m_zonal.csv", dtype={"code": str}).set_index("code")
    ranking = rank_regions(settings=mirror_cache).table.set_index("code")
    joined = ranking.join(zonal, how="left")
    assert joined["surface_best_score"].notna().all()
    assert np.all((joined["surface_suitable_share"] >= 0) & (joined["surface_suitable_share"] <= 1))
    # Cairngorms (in Highland, S12000017): National Park cells are penalised ('exceptional' tier of
    # aigz_sites), never removed; only exclude tiers and Flood Zone 3 exclude cells
    assert joined.loc["S12000017", "surface_excluded_share"] < 0.01
    # the run record names every dataset with its age, and the stale ones again at the top
    import json

    record = json.loads((tmp_path / "surface_250m.json").read_text())
    assert record["datasets"] and all("age_days" in d and "stale" in d for d in record["datasets"])
    assert {d["key"] for d in record["stale_datasets"]} == {
        d["key"] for d in record["datasets"] if d["stale"]
    }
    _check_candidate_zones(tmp_path, tif, set(ranking.index))


def _check_candidate_zones(out, tif, gb_codes):
    """Site-sized zones on the real 250 m surface: 50 ha .. 25 km2 (the aigz_sites [zones]), one
    polygon each (4-connected), disjoint, never on an excluded cell, each with its local authority
    and nearest grid node; the run record accounts for every suitable cell."""
    import json

    import geopandas as gpd
    import rasterio
    import shapely

    zones = gpd.read_file(out / "surface_250m_zones.gpkg")
    record = json.loads((out / "surface_250m.json").read_text())
    split = record["zone_split"]
    assert len(zones) == record["zones"] == split["zones"] > 500
    assert zones["area_ha"].min() >= 50 and zones["area_ha"].max() <= 2500
    assert (zones["n_cells"] * 6.25 == zones["area_ha"]).all()
    assert (zones.geom_type == "Polygon").all()  # one connected piece each
    np.testing.assert_allclose(zones.geometry.area, zones["area_ha"] * 1e4, rtol=1e-9)
    union = shapely.union_all(zones.geometry.values)
    assert union.area == pytest.approx(zones.geometry.area.sum(), rel=1e-9)  # disjoint
    assert split["areas_split"] > 10  # the old county-sized areas were cut up
    assert zones["n_cells"].sum() == (
        split["suitable_cells"] - split["areas_below_min_cells"] - split["fragments_below_min_cells"]
    )
    assert zones["rank"].tolist() == list(range(1, len(zones) + 1))
    # ranked as sites are: deliverability first (the aigz_sites gates), then the campus score
    group = zones["deliverable"].map({"pass": 0, "unknown": 1, "fail": 2})
    assert group.is_monotonic_increasing and set(zones["deliverable"]) == {"pass", "unknown", "fail"}
    for _, part in zones.groupby(group):
        assert part["campus_score"].is_monotonic_decreasing
    assert record["zone_deliverable"] == zones["deliverable"].value_counts().to_dict()
    # gate words agree with the numbers: the transmission-node gate (15 km) and the capacity gate
    far = zones["dist_transmission_node_km"] > 15
    assert (zones.loc[far, "deliverable"] == "fail").all()
    assert zones.loc[far, "gate_reasons"].str.contains("transmission node").all()
    passed = zones["deliverable"] == "pass"
    assert (zones.loc[passed, "dist_transmission_node_km"] <= 15).all()
    assert (zones.loc[passed, "firm_capacity_mva"] >= 500).all()
    assert zones["la_code"].isin(gb_codes).mean() > 0.99 and zones["la_name"].notna().mean() > 0.99
    assert zones["dist_node_km"].notna().all() and zones["node_id"].notna().all()
    # no zone cell is excluded or below the threshold: sample every zone's best cell and a
    # representative point against the raster
    with rasterio.open(out / "surface_250m.tif") as src:
        pts = list(zip(zones["best_x"], zones["best_y"], strict=True))
        reps = zones.geometry.representative_point()
        pts += list(zip(reps.x, reps.y, strict=True))
        vals = np.array(list(src.sample(pts, indexes=[1, 2])))
    assert (vals[:, 0] >= record["threshold"]).all() and (vals[:, 1] != 1).all()
    np.testing.assert_allclose(vals[: len(zones), 0], zones["max_score"], rtol=1e-6)


def test_coarse_surface_warns_that_zones_are_not_site_sized(mirror_cache, tmp_path, cli_runner):
    """SF10: `surface --resolution 10000` (100 km2 cells, above the 25 km2 largest zone) says on
    stderr that no zone is site-sized and which resolution is, and does not claim the bounds."""
    env = {"GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror)}
    res = cli_runner.invoke(
        app, ["surface", "--resolution", "10000", "--out", str(tmp_path), "--allow-missing"], env=env
    )
    assert res.exit_code == 0, res.output
    assert "warning: candidate zones: one 10,000 m cell is 10,000 ha" in res.stderr
    assert "cells of 5,000 m or finer" in res.stderr
    assert "NOT within the 50 ha to 25 km2 asked" in res.stderr + res.stdout
    assert "candidate zones of 50 ha to 25 km2" not in res.stderr + res.stdout
    # SF1: the weights by section are said and recorded (power keeps its half of the kept sections)
    record = json.loads((tmp_path / "surface_10000m.json").read_text(encoding="utf-8"))
    assert record["sections_used"]["power"] == pytest.approx(0.5 / 0.8)
    assert record["sections_dropped"] == {"water": 0.05, "land": 0.15}
    assert "weight stays in their section" in record["weighting"]
    assert "cell score by section: power 62%" in res.stdout + res.stderr
    assert "not in the surface, no cell equivalent: water 0.05, land 0.15" in res.stdout + res.stderr
    tags = record["tags"]
    assert tags["sections_dropped"] == "water=0.05,land=0.15"

"""`growth-zones surface` at 250 m on the real data: a valid COG whose zonal stats join the ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cli import app

pytestmark = [pytest.mark.data, pytest.mark.slow]


def test_gb_surface_250m(mirror_cache, tmp_path, cli_runner):
    import rasterio

    from growth_zones.workflows.ranking import rank_regions

    env = {"GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror)}
    res = cli_runner.invoke(app, ["surface", "--resolution", "250", "--out", str(tmp_path)], env=env)
    assert res.exit_code == 0, res.output
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

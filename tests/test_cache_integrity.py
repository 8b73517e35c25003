"""A self-checking cache (issue 12, failure 6, and the concurrent pulls of failure 9).

Every stored layer, raster, derived cache and provenance record is checked before use; a corrupt
one is named in one line and rebuilt from the raw download, which is itself re-verified against the
hash recorded when it was fetched (and fetched again when that fails). A file lock per dataset lets
concurrent pulls share one cache, and stray ``.part`` files are cleaned on the next run.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from growth_zones.data.catalogue import get_dataset
from growth_zones.data.pull import ensure_layers, pull
from growth_zones.data.store import Store
from growth_zones.errors import DataSourceError
from tests.conftest import REPO

pytestmark = pytest.mark.data

VECTOR = "ons_countries_dec2022_buc"
RASTER = "ukceh_gridded_population_2021_1km"


@pytest.fixture
def small_cache(settings, shared_data):
    s = settings.with_(mirror=str(shared_data))
    report = pull([VECTOR, RASTER], settings=s)
    assert report.ok, [o.message for o in report.failed]
    return s


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_store_records_size_and_hash_and_verifies_them(small_cache):
    store = Store(small_cache)
    prov = store.provenance(VECTOR)
    path = store.data_path(VECTOR)
    assert prov["stored_bytes"] == path.stat().st_size
    import hashlib

    assert prov["stored_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.verify(VECTOR) is None


@pytest.mark.parametrize("key", [VECTOR, RASTER])
def test_truncated_layer_is_named_and_rebuilt_from_the_raw_download(small_cache, key, caplog):
    store = Store(small_cache)
    path = store.data_path(key)
    good = path.read_bytes()
    _truncate(path)
    problem = store.verify(key)
    assert problem and str(path) in problem and "corrupt" in problem
    with pytest.raises(DataSourceError) as err:  # a direct read names the file: no traceback
        store.read_raster("population_grid") if key == RASTER else store.read_dataset(key)
    assert str(path) in str(err.value) and f"data pull {key}" in str(err.value)
    layer = "population_grid" if key == RASTER else "countries"
    with caplog.at_level(logging.WARNING):
        ensure_layers([layer], small_cache)
    assert any(str(path) in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    assert store.verify(key) is None and path.read_bytes() == good
    if key == RASTER:
        import numpy as np

        assert np.nansum(store.read_raster("population_grid").array) > 60e6  # UK residents
    else:
        assert set(store.read_dataset(key)["nation"]) >= {"England", "Scotland", "Wales"}


def test_layer_normalised_by_an_older_version_is_rebuilt(small_cache, caplog):
    """An intact stored table that lacks a column its schema now declares (it was written before
    the column existed) is named and rebuilt from the raw download, never read as it is."""
    import pandas as pd

    from growth_zones.data.atomic import sha256_file

    store = Store(small_cache)
    path = store.data_path(VECTOR)
    frame = store.read_dataset(VECTOR)
    frame.drop(columns=["nation"]).to_parquet(path, index=False)  # the file an older version wrote
    prov_path = store.provenance_path(VECTOR)
    prov = json.loads(prov_path.read_text())
    prov.update(stored_bytes=path.stat().st_size, stored_sha256=sha256_file(path))
    prov_path.write_text(json.dumps(prov))
    problem = store.verify(VECTOR)
    assert problem and str(path) in problem and "older version" in problem and "nation" in problem
    with caplog.at_level(logging.WARNING):
        ensure_layers(["countries"], small_cache)
    assert any("older version" in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    assert store.verify(VECTOR) is None
    rebuilt = store.read_dataset(VECTOR)
    assert "nation" in rebuilt and len(rebuilt) == len(frame)
    pd.testing.assert_series_equal(rebuilt["nation"], frame["nation"])


def test_garbage_provenance_is_a_one_line_error_and_is_rebuilt(small_cache, cli_runner):
    from cli import app

    store = Store(small_cache)
    prov = store.provenance_path(VECTOR)
    prov.write_text("{not json")
    with pytest.raises(DataSourceError, match="provenance record .* is unreadable"):
        store.provenance(VECTOR)
    env = {"GROWTH_ZONES_CACHE": str(small_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(small_cache.mirror)}
    res = cli_runner.invoke(app, ["data", "info", VECTOR], env=env)
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "unreadable" in res.stderr
    res = cli_runner.invoke(app, ["data", "pull", VECTOR], env=env)
    assert res.exit_code == 0, res.output
    assert store.verify(VECTOR) is None and store.provenance(VECTOR)["rows"] == 4


def test_corrupt_raw_download_is_reverified_and_fetched_again(small_cache, cli_runner):
    """The layer is gone and the raw file is damaged: the pull does not trust the raw file, fetches
    it again from the mirror and stores the layer (it used to stop with a traceback)."""
    from cli import app

    store = Store(small_cache)
    ds = get_dataset(VECTOR)
    raw = small_cache.raw_dir / VECTOR / ds.files[0]
    data = bytearray(raw.read_bytes())
    data[200] ^= 0xFF
    raw.write_bytes(bytes(data[:-10]))
    store.data_path(VECTOR).unlink()
    env = {"GROWTH_ZONES_CACHE": str(small_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(small_cache.mirror)}
    res = cli_runner.invoke(app, ["data", "pull", VECTOR, RASTER], env=env)
    assert res.exit_code == 0, res.output
    assert "corrupt" in res.stderr and VECTOR in res.stderr
    import hashlib

    assert hashlib.sha256(raw.read_bytes()).hexdigest() == ds.sha256[0]
    assert store.verify(VECTOR) is None


def test_corrupt_derived_cache_is_recomputed(mirror_cache, tmp_path, caplog):
    from growth_zones.data.layers import LayerSet
    from growth_zones.workflows.ranking import REGION_LAYERS, region_indicator_table

    cache = tmp_path / "cache"
    shutil.copytree(mirror_cache.cache_dir / "layers", cache / "layers")
    s = mirror_cache.with_(cache_dir=cache)
    store = Store(s)
    layers = LayerSet.load(store, names=REGION_LAYERS)
    first = region_indicator_table(layers, store)
    (derived,) = (cache / "derived").glob("region_indicators-*.parquet")
    derived.write_bytes(b"PAR1 garbage")
    import os
    import time

    old_part = cache / "derived" / ".region_indicators-x.abc.part.parquet"
    new_part = cache / "derived" / ".region_indicators-y.def.part.parquet"
    for p in (old_part, new_part):
        p.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(old_part, (two_hours_ago, two_hours_ago))
    with caplog.at_level(logging.WARNING):
        again = region_indicator_table(layers, store)
    assert any(str(derived) in r.getMessage() for r in caplog.records)
    assert again.values.equals(first.values)
    import pandas as pd

    assert len(pd.read_parquet(derived)) == len(first.values)  # rewritten whole
    assert not old_part.exists() and new_part.exists()  # a killed run's file goes; a live one stays


def test_stray_part_files_are_cleaned_on_the_next_pull(small_cache):
    store = Store(small_cache)
    raw_dir = small_cache.raw_dir / VECTOR
    mine = [
        raw_dir / ".countries_dec2022_uk_buc.k3j4.part.geojson",
        small_cache.layers_dir / f".{VECTOR}.x9z.part.parquet",
        small_cache.layers_dir / f".{VECTOR}.provenance.q1w.part.json",
    ]
    other = small_cache.layers_dir / f".{RASTER}.a1b.part.tif"
    for p in [*mine, other]:
        p.write_bytes(b"half a file")
    store.data_path(VECTOR).unlink()  # something to do, so the dataset's lock is taken
    report = pull([VECTOR], settings=small_cache)
    assert report.ok
    assert [p for p in mine if p.exists()] == []
    assert other.exists()  # another dataset's file: only its own lock holder may remove it


def _cli(cache: Path, mirror: Path, *args: str) -> subprocess.Popen[str]:
    code = "import sys; from cli import app; sys.exit(app(prog_name='growth-zones'))"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cache.parent),
        "GROWTH_ZONES_CACHE": str(cache),
        "GROWTH_ZONES_MIRROR": str(mirror),
    }
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_forced_pulls_of_one_cache_take_turns(tmp_path, shared_data):
    """Two `data pull --force` on one cache used to race (one deleting the raw folder while the
    other renamed a file into it: a traceback). With a lock per dataset both succeed."""
    cache = tmp_path / "cache"
    keys = [VECTOR, "neso_fes2024_gsp_info", "ons_mye_mid2022_lad"]
    procs = [_cli(cache, shared_data, "data", "pull", "--force", *keys, *keys[::-1]) for _ in range(3)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "internal error" not in err
    from growth_zones.settings import Settings

    store = Store(Settings(cache_dir=cache, mirror=str(shared_data), offline=False))
    for k in keys:
        assert store.verify(k) is None, k
        assert json.loads(store.provenance_path(k).read_text())["key"] == k
    leftovers = [p for p in cache.rglob(".*.part*")]
    assert leftovers == []

"""`growth-zones data ...` end to end on the real files, and format drift caught with a clear message."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import pandas as pd
import pytest

from cli import app
from growth_zones.data.catalogue import get_dataset, load_catalogue
from growth_zones.data.pull import pull_one
from growth_zones.data.store import Store

pytestmark = pytest.mark.data


def test_pull_list_info_from_mirror(cli_runner, shared_data, tmp_path):
    env = {"GROWTH_ZONES_CACHE": str(tmp_path / "c"), "GROWTH_ZONES_MIRROR": ""}
    res = cli_runner.invoke(app, ["data", "pull", "--mirror", str(shared_data)], env=env)
    assert res.exit_code == 0, res.output
    listed = json.loads(cli_runner.invoke(app, ["data", "list", "--json"], env=env).stdout)
    cat = load_catalogue()
    in_mirror = [
        r
        for r in listed
        if r["default"] and all((shared_data / p).exists() for p in cat[r["key"]].mirror_paths)
    ]
    assert len(in_mirror) >= 30 and all(r["cached"] for r in in_mirror)
    # every dataset has a mirror path; defaults the mirror holds no copy of are skipped, said so,
    # and not pull failures (rank, assess and surface then say which of their checks did not run)
    assert all(cat[r["key"]].mirror_paths for r in listed)
    not_held = [
        r["key"]
        for r in listed
        if r["default"] and not all((shared_data / p).exists() for p in cat[r["key"]].mirror_paths)
    ]
    assert "nrw_sssi_wales" in not_held and not any(r["cached"] for r in listed if r["key"] in not_held)
    assert "skip nrw_sssi_wales" in res.stderr and "the mirror holds no copy" in res.stderr
    assert f"skip {not_held[0]}" in res.stderr and "skipped: optional or not in the mirror" in res.stderr
    assert {"key", "layer", "licence", "vintage", "cached", "nations", "age_days", "stale"} <= set(listed[0])
    assert all(
        r["nations"] and set(r["nations"]) <= {"England", "Scotland", "Wales", "Northern Ireland"}
        for r in listed
        if r["layer"] != "asset"  # the map libraries: not geographic
    )
    info = json.loads(
        cli_runner.invoke(app, ["data", "info", "ons_lad_may2024_buc", "--json"], env=env).stdout
    )
    ds = get_dataset("ons_lad_may2024_buc")
    assert info["raw_sha256"] == [ds.sha256[0]]
    assert info["rows"] == 361 and info["crs"] == "EPSG:27700" and info["via"] == "mirror"
    assert info["licence"] == "OGL-UK-3.0" and "Office for National Statistics" in info["attribution"]
    assert info["crs_transformation"]["method"].startswith("OSTN15 via convertbng")
    assert info["source_urls"][0].endswith("boundaries/lad_may2024_uk_buc.geojson")
    assert info["nations"] == ["England", "Scotland", "Wales", "Northern Ireland"]
    assert info["released"] == "2024-05" and info["stale"] is False  # a fixed boundary vintage
    for key in [r["key"] for r in in_mirror]:
        prov = tmp_path / "c" / "layers" / f"{key}.provenance.json"
        assert prov.exists(), key


def test_offline_with_empty_cache_names_missing(cli_runner, tmp_path):
    env = {"GROWTH_ZONES_CACHE": str(tmp_path / "empty"), "GROWTH_ZONES_MIRROR": ""}
    res = cli_runner.invoke(
        app, ["data", "pull", "neso_fes2024_gsp_info", "ons_mye_mid2022_lad", "--offline"], env=env
    )
    assert res.exit_code == 1
    assert "neso_fes2024_gsp_info" in res.stderr and "ons_mye_mid2022_lad" in res.stderr


def test_unknown_key_is_a_clear_error(cli_runner, tmp_path):
    res = cli_runner.invoke(
        app, ["data", "info", "no_such_dataset"], env={"GROWTH_ZONES_CACHE": str(tmp_path)}
    )
    assert res.exit_code == 1 and "unknown dataset 'no_such_dataset'" in res.stderr


def _unpinned(key: str, mirror_dir):
    ds = dataclasses.replace(get_dataset(key), sha256=(None,))
    return ds, {**load_catalogue(), key: ds}


def test_renamed_column_fails_naming_dataset_and_column(settings, shared_data, tmp_path):
    mirror = tmp_path / "mirror"
    ds, cat = _unpinned("neso_tec_register_2025_09", mirror)
    raw = pd.read_csv(shared_data / ds.mirror_paths[0], encoding="utf-8-sig")
    (mirror / "grid").mkdir(parents=True)
    raw.rename(columns={"Connection Site": "Connection Point"}).to_csv(
        mirror / ds.mirror_paths[0], index=False
    )
    store = Store(settings.with_(mirror=str(mirror)), catalogue=cat)
    outcome = pull_one(ds, store)
    assert not outcome.ok
    assert "neso_tec_register_2025_09" in outcome.message and "Connection Site" in outcome.message
    assert "Connection Point" in outcome.message  # what was found
    assert not store.has(ds.key)


def test_wrong_crs_fails_naming_expected_and_found(settings, shared_data, tmp_path):
    mirror = tmp_path / "mirror"
    ds, cat = _unpinned("ons_national_parks_dec2021_bgc", mirror)
    parks = gpd.read_file(shared_data / ds.mirror_paths[0]).to_crs(27700)
    (mirror / "land").mkdir(parents=True)
    parks.to_file(mirror / ds.mirror_paths[0], driver="GeoJSON")
    store = Store(settings.with_(mirror=str(mirror)), catalogue=cat)
    outcome = pull_one(ds, store)
    assert not outcome.ok
    assert "ons_national_parks_dec2021_bgc" in outcome.message and "EPSG:4326" in outcome.message
    assert "27700" in outcome.message

"""Bounded downloads (issue 12, failure 8): a maximum size per dataset and an overall deadline per
download, against a loopback server that sends an endless body, drips one byte at a time or
announces 50 GB. Nothing is left behind, and the message says which limit and how to raise it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from growth_zones.data import fetch as _fetch
from growth_zones.data.catalogue import get_dataset
from growth_zones.errors import DataSourceError

pytestmark = pytest.mark.data


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_endless_body_stops_at_the_size_limit_and_leaves_nothing(loopback, settings):
    ds = get_dataset("neso_fes2024_gsp_info")
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["endless"] * 10
    s = settings.with_(mirror=loopback.url, max_download_mb=2.0)
    with pytest.raises(DataSourceError) as err:
        _fetch.fetch(ds, s)
    msg = str(err.value)
    assert "more than 2 MB received" in msg and path in msg and "max_size_mb" in msg
    assert loopback.hits[path] == 1  # a size limit is not a transient fault: no retries
    assert _files(s.raw_dir) == []


def test_the_catalogue_limit_of_a_dataset_overrides_the_global_default(loopback, settings):
    ds = dataclasses.replace(get_dataset("neso_fes2024_gsp_info"), max_size_mb=1.0)
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["endless"]
    with pytest.raises(DataSourceError, match="more than 1 MB received"):
        _fetch.fetch(ds, settings.with_(mirror=loopback.url, max_download_mb=4096.0))
    # and the real file (33 kB) passes under the same 1 MB limit
    result = _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert result.sha256[0] == ds.sha256[0]


def test_announced_size_over_the_limit_is_refused_before_reading(loopback, settings):
    ds = get_dataset("neso_fes2024_gsp_info")
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["huge"]
    with pytest.raises(DataSourceError) as err:
        _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert "announces 51,200.0 MB" in str(err.value) and "limit of 1,024 MB" in str(err.value)
    assert _files(settings.raw_dir) == []


def test_dripping_server_hits_the_overall_deadline(loopback, settings):
    """A byte every 0.05 s never trips the per-read timeout; the overall deadline stops it."""
    ds = get_dataset("neso_fes2024_gsp_info")
    path = "/" + ds.mirror_paths[0]
    loopback.drip_interval = 0.05
    loopback.faults[path] = ["drip"] * 10
    s = settings.with_(mirror=loopback.url, download_deadline=1.0, timeout=5)
    with pytest.raises(DataSourceError) as err:
        _fetch.fetch(ds, s)
    msg = str(err.value)
    assert "deadline of 1 s" in msg and "GROWTH_ZONES_DOWNLOAD_DEADLINE" in msg and path in msg
    assert "bytes received" in msg
    assert _files(s.raw_dir) == []


def test_local_mirror_file_over_the_limit_is_refused(tmp_path, settings):
    ds = dataclasses.replace(get_dataset("neso_fes2024_gsp_info"), max_size_mb=0.001, sha256=(None,))
    mirror = tmp_path / "mirror"
    (mirror / "grid").mkdir(parents=True)
    (mirror / ds.mirror_paths[0]).write_bytes(b"x" * 5000)
    with pytest.raises(DataSourceError, match="more than"):
        _fetch.fetch(ds, settings.with_(mirror=str(mirror)))
    assert _files(settings.raw_dir) == []


def test_endless_arcgis_page_is_bounded_too(loopback, settings):
    ds = dataclasses.replace(
        get_dataset("ons_lad_may2023_buc"), url=loopback.url + "/arcgis/query", max_size_mb=1.0
    )
    loopback.faults["/arcgis/query"] = ["endless"] * 40
    with pytest.raises(DataSourceError, match="more than 1 MB received"):
        _fetch.fetch(ds, settings)
    assert _files(settings.raw_dir) == []


def test_bad_limit_settings_in_the_environment_are_one_line_errors(monkeypatch):
    from growth_zones.errors import InvalidInputError
    from growth_zones.settings import Settings

    for name, value in (
        ("GROWTH_ZONES_TIMEOUT", "abc"),
        ("GROWTH_ZONES_DOWNLOAD_DEADLINE", "-5"),
        ("GROWTH_ZONES_MAX_DOWNLOAD_MB", "0"),
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(InvalidInputError, match=name):
            Settings()
        monkeypatch.delenv(name)

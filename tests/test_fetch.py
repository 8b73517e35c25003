"""Downloads against a loopback server serving the real files: atomicity, retries, hashes, paging."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from growth_zones.data import fetch as _fetch
from growth_zones.data.catalogue import get_dataset
from growth_zones.errors import DataSourceError, OfflineError

pytestmark = pytest.mark.data


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_mirror_url_download_is_hash_checked_and_cached(loopback, settings):
    ds = get_dataset("neso_fes2024_gsp_info")
    s = settings.with_(mirror=loopback.url + "/")
    first = _fetch.fetch(ds, s)
    assert first.via == "mirror"
    assert first.sha256[0] == ds.sha256[0]
    assert first.paths[0].read_bytes() == (loopback.root / ds.mirror_paths[0]).read_bytes()
    assert first.source_urls == [f"{loopback.url}/grid/neso_fes2024_gsp_info.csv"]
    again = _fetch.fetch(ds, s)
    assert again.via == "cache" and loopback.hits["/grid/neso_fes2024_gsp_info.csv"] == 1


def test_cut_connection_leaves_nothing_and_names_the_url(loopback, settings):
    ds = get_dataset("neso_tec_register_2025_09")
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["cut"] * 10
    with pytest.raises(DataSourceError) as err:
        _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert path in str(err.value)
    assert loopback.hits[path] == settings.retries + 1
    assert _leftovers(settings.raw_dir) == []
    assert _fetch.cached(ds, settings) is None


def test_500_then_200_is_retried(loopback, settings):
    ds = get_dataset("neso_fes2024_gsp_info")
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["500"]
    result = _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert loopback.hits[path] == 2
    assert result.sha256[0] == ds.sha256[0]


def test_cut_then_ok_recovers(loopback, settings):
    ds = get_dataset("neso_fes2024_gsp_info")
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["cut"]
    result = _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert result.paths[0].stat().st_size == (loopback.root / ds.mirror_paths[0]).stat().st_size


def test_corrupted_file_fails_its_hash_and_is_not_cached(loopback, settings):
    ds = get_dataset("ons_countries_dec2022_buc")
    loopback.faults["/" + ds.mirror_paths[0]] = ["corrupt"]
    with pytest.raises(DataSourceError) as err:
        _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    msg = str(err.value)
    assert "sha256 mismatch" in msg and ds.sha256[0] in msg and "deleted" in msg
    assert _leftovers(settings.raw_dir) == []


def test_http_404_and_html_pages_are_errors_not_data(loopback, settings):
    ds = get_dataset("neso_fes2024_gsp_info")
    path = "/" + ds.mirror_paths[0]
    loopback.faults[path] = ["404"]
    with pytest.raises(DataSourceError, match="HTTP 404"):
        _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    loopback.faults[path] = ["html"]
    with pytest.raises(DataSourceError, match="HTML page"):
        _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert _leftovers(settings.raw_dir) == []


def test_multi_file_shapefile_from_mirror(loopback, settings):
    ds = get_dataset("neso_etys_boundaries_mar25")
    result = _fetch.fetch(ds, settings.with_(mirror=loopback.url))
    assert [p.name for p in result.paths] == list(ds.files)
    assert result.sha256 == list(ds.sha256)


def test_local_directory_mirror(shared_data, settings):
    ds = get_dataset("ons_mye_mid2022_lad")
    result = _fetch.fetch(ds, settings.with_(mirror=str(shared_data)))
    assert result.via == "mirror" and result.sha256[0] == ds.sha256[0]
    meta = json.loads((settings.raw_dir / ds.key / "fetch.json").read_text())
    assert meta["source_urls"] == [str(shared_data / ds.mirror_paths[0])]


def test_arcgis_paging_assembles_every_feature(loopback, settings, shared_data):
    ds = get_dataset("ons_lad_may2023_buc")
    loopback.arcgis_file = shared_data / ds.mirror_paths[0]
    loopback.arcgis_max_page = 100  # the server caps pages below the requested 2000
    official = dataclasses.replace(ds, url=loopback.url + "/arcgis/query")
    result = _fetch.fetch(official, settings)
    assert result.via == "official"
    doc = json.loads(result.paths[0].read_text())
    codes = [f["properties"]["LAD23CD"] for f in doc["features"]]
    assert len(codes) == 361 and len(set(codes)) == 361
    assert loopback.hits["/arcgis/query"] == 5  # the count, then 100 + 100 + 100 + 61
    assert "resultOffset" not in result.source_urls[0] and "outSR=4326" in result.source_urls[0]
    assert result.paths[0].name == "ons_lad_may2023_buc.geojson"


def test_ckan_datastore_paging(loopback, settings, shared_data):
    import pandas as pd

    ds = get_dataset("neso_tec_register_2025_09")
    loopback.ckan_file = shared_data / ds.mirror_paths[0]
    loopback.ckan_max_page = 500
    official = dataclasses.replace(ds, url=loopback.url + "/ckan/datastore_search")
    result = _fetch.fetch(official, settings)
    got = pd.read_csv(result.paths[0])
    want = pd.read_csv(shared_data / ds.mirror_paths[0], encoding="utf-8-sig")
    assert len(got) == len(want) == 2264
    assert list(got.columns) == list(want.columns)
    assert loopback.hits["/ckan/datastore_search"] == 5


def test_offline_names_every_missing_dataset(settings):
    from growth_zones.data.pull import pull

    with pytest.raises(OfflineError) as err:
        pull(["neso_fes2024_gsp_info", "ons_mye_mid2022_lad"], settings=settings.with_(offline=True))
    assert err.value.missing == ["neso_fes2024_gsp_info", "ons_mye_mid2022_lad"]
    assert "neso_fes2024_gsp_info" in str(err.value) and "--mirror" in str(err.value)


def test_unreachable_host_is_probed_once_and_nothing_is_downloaded(settings, tmp_path):
    """A host that does not answer (here: a closed loopback port) is found by one probe before any
    download: every dataset from it fails at once with a message naming the host, the reason and
    both ways to work offline, and nothing is left in the cache."""
    import socket

    from growth_zones.data.pull import pull

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    report = pull(["neso_fes2024_gsp_info", "ons_mye_mid2022_lad"], settings=settings.with_(mirror=dead))
    assert report.unreachable == {f"127.0.0.1:{port}": "connection refused"}
    for outcome in report.outcomes:
        assert not outcome.ok and not outcome.skipped
        assert f"127.0.0.1:{port} could not be reached (connection refused)" in outcome.message
        assert "GROWTH_ZONES_MIRROR" in outcome.message and "--mirror" in outcome.message
    assert _leftovers(settings.raw_dir) == []


def test_probe_reports_each_failure_kind_within_its_timeout(monkeypatch):
    """DNS failure, refusal and silence are told apart, and a host that never answers costs one
    timeout, however many hosts are probed at once."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = s.getsockname()[1]
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, *args, **kwargs):
        if host == "no-such-host.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host.startswith("silent"):
            time.sleep(30)  # a resolver that never answers
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    got = _fetch.probe_hosts(
        [
            "https://no-such-host.test/a",
            f"http://127.0.0.1:{refused}/b",
            "https://silent-1.test/c",
            "https://silent-2.test/d",
            "https://silent-1.test/e",  # the same host again: probed once
        ],
        timeout=0.5,
    )
    assert got["no-such-host.test"].startswith("DNS lookup of no-such-host.test failed")
    assert got[f"127.0.0.1:{refused}"] == "connection refused"
    # the resolver would answer only after 30 s: the probe gave up at its deadline instead
    assert got["silent-1.test"] == got["silent-2.test"] == "no answer within 0.5 s"
    assert len(got) == 4

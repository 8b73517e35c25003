"""Every protocol the fetcher speaks, against a loopback emulator of the official service serving
the real sample files in the shape that service publishes them (tests/_server.py,
tests/support/official_shapes.py), including its faults: a page that fails then recovers, a
truncated page, an HTML error page sent with status 200, a server that stops paging early.

Each pulled dataset is checked against the same real data read independently: the mirror copy
normalised on its own, or a different route to the same numbers (Ofcom percentages recomputed
from premises counts; EPSG:27700 geometry from pyproj against the OSTN15 transform)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from growth_zones.data import fetch as _fetch
from growth_zones.data.catalogue import get_dataset, load_catalogue
from growth_zones.data.loaders import RawInput, get_normaliser
from growth_zones.data.pull import pull_one
from growth_zones.data.store import Store
from growth_zones.errors import DataSourceError, SchemaError
from tests.support import official_shapes as shapes

pytestmark = pytest.mark.data


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _official(key: str, url: str, **changes) -> tuple[object, Store]:
    """The catalogue entry with its official endpoint moved to the emulator."""
    return dataclasses.replace(get_dataset(key), url=url, **changes)


def _store(settings, *datasets) -> Store:
    return Store(settings, catalogue={**load_catalogue(), **{d.key: d for d in datasets}})


def _mirror_frame(key: str, shared_data: Path, store: Store | None = None):
    """The mirror copy normalised on its own (the independent reading of the same data)."""
    ds = get_dataset(key)
    deps = {}
    for dep in ds.requires:
        deps[dep] = _mirror_frame(dep, shared_data)
    raw = RawInput(ds, [shared_data / p for p in ds.mirror_paths], deps, mirror_copy=True)
    return get_normaliser(ds.normaliser)(raw).frame


# ------------------------------------------------------------------------------------ ArcGIS
def test_arcgis_pages_to_the_layer_count_through_faults(loopback, settings, shared_data):
    ds = _official("ons_lad_may2023_buc", loopback.url + "/arcgis/query")
    loopback.arcgis_file = shared_data / ds.mirror_paths[0]
    loopback.arcgis_max_page = 100  # the server caps pages below the requested 2000
    # count ok, page 1 ok, page 2 fails once, page 3 arrives cut short, then an HTML page with 200
    loopback.faults["/arcgis/query"] = [None, None, "500", None, "cut", "html"]
    result = _fetch.fetch(ds, settings)
    doc = json.loads(result.paths[0].read_text())
    codes = [f["properties"]["LAD23CD"] for f in doc["features"]]
    assert len(codes) == 361 and len(set(codes)) == 361
    counts = [q for p, q in loopback.queries if q.get("returnCountOnly") == ["true"]]
    assert len(counts) == 1
    offsets = [int(q["resultOffset"][0]) for p, q in loopback.queries if "resultOffset" in q]
    assert sorted(set(offsets)) == [0, 100, 200, 300]


def test_arcgis_that_stops_paging_early_is_an_error(loopback, settings, shared_data, monkeypatch):
    ds = _official("ons_lad_may2023_buc", loopback.url + "/arcgis/query")
    loopback.arcgis_file = shared_data / ds.mirror_paths[0]
    loopback.arcgis_max_page = 100
    route = loopback.routes["/arcgis/query"]

    def forgetful(q, base):  # the server forgets exceededTransferLimit after the first page
        status, body, ctype = route(q, base)
        doc = json.loads(body)
        doc.pop("properties", None)
        return status, json.dumps(doc).encode(), ctype

    loopback.routes["/arcgis/query"] = lambda q, base: (
        route(q, base) if "returnCountOnly" in q else forgetful(q, base)
    )
    with pytest.raises(DataSourceError, match="returned 100 features but the layer counts 361"):
        _fetch.fetch(ds, settings)
    assert _leftovers(settings.raw_dir) == []


# ------------------------------------------------------------------------------------ OGC API Features
def _ea_official(loopback, shared_data):
    coll = shapes.ea_flood_zones_collection(shared_data / "land/calderdale_ea_flood_zone3_2019-08.geojson")
    loopback.ogc_collections["Flood_Zones_2_3_Rivers_and_Sea"] = coll
    loopback.ogc_max_page = 2  # 7 features: 4 pages, following next links
    return _official(
        "ea_flood_map_for_planning_england",
        loopback.url + "/ogc/collections/Flood_Zones_2_3_Rivers_and_Sea/items",
        page_size=3,
    )


def test_ogc_api_features_follows_next_links_through_faults(loopback, settings, shared_data):
    ds = _ea_official(loopback, shared_data)
    path = "/ogc/collections/Flood_Zones_2_3_Rivers_and_Sea/items"
    loopback.faults[path] = [None, "500", "cut", "html", "short"]  # page 2 fails four ways, then arrives
    store = _store(settings.with_(retries=4), ds)
    outcome = pull_one(ds, store)
    assert outcome.ok, outcome.message
    first = loopback.queries[0][1]
    assert first["limit"] == ["3"] and first["f"] == ["json"]  # asked for 3, the server capped at 2
    offsets = [q.get("offset", ["0"])[0] for p, q in loopback.queries if p == path]
    assert sorted(set(offsets)) == ["0", "2", "4", "6"]
    got = store.read_dataset(ds.key)
    assert (
        len(got) == 7 and (got["designation"] == "flood_zone_3").all() and (got["nation"] == "England").all()
    )
    prov = store.provenance(ds.key)
    assert prov["copy"] == "official release" and prov["designations"] == ["flood_zone_2", "flood_zone_3"]
    # the same polygons read from the mirror's EPSG:27700 extract: CRS84 -> OSTN15 round trip
    mirror = _mirror_frame(ds.key, shared_data)
    assert got.area.sum() == pytest.approx(mirror.area.sum(), rel=1e-4)
    assert got.area.sum() / 1e4 == pytest.approx(225.1, abs=0.05)


def test_ogc_api_features_short_of_number_matched_is_an_error(loopback, settings, shared_data):
    ds = _ea_official(loopback, shared_data)
    coll = loopback.ogc_collections["Flood_Zones_2_3_Rivers_and_Sea"]
    route = loopback.route

    def lying(path, q, base):  # one feature is dropped from every listing, numberMatched stays 7
        status, body, ctype = route(path, q, base)
        if path.endswith("/items"):
            doc = json.loads(body)
            doc["numberMatched"] = len(coll["features"]) + 1
            return status, json.dumps(doc).encode(), ctype
        return status, body, ctype

    loopback.route = lying
    with pytest.raises(DataSourceError, match="returned 7 features but numberMatched is 8"):
        _fetch.fetch(ds, settings)
    assert _leftovers(settings.raw_dir) == []


def test_ogc_next_link_to_another_host_is_refused(loopback, settings, shared_data):
    ds = _ea_official(loopback, shared_data)
    route = loopback.route

    def redirecting(path, q, base):
        status, body, ctype = route(path, q, base)
        doc = json.loads(body)
        for link in doc.get("links", []):
            if link["rel"] == "next":
                link["href"] = link["href"].replace(base, "http://elsewhere.invalid")
        return status, json.dumps(doc).encode(), ctype

    loopback.route = redirecting
    with pytest.raises(DataSourceError, match="leaves 127.0.0.1.*refusing"):
        _fetch.fetch(ds, settings)


# ------------------------------------------------------------------------------------ WFS 2.0
def _nrw_sssi(loopback, shared_data):
    """The North East SSSI sample served as GeoServer serves NRW's SSSI layer: EPSG:27700, the
    ``sssi_name`` attribute (the sample carries no names, so it is empty)."""
    coll = shapes.collection_in(
        shared_data / "land/north_east_E12000001_site-of-special-scientific-interest.geojson", "EPSG:27700"
    )
    for f in coll["features"]:
        f["properties"] = {"sssi_name": None}
    loopback.wfs_layers["inspire-nrw:NRW_SSSI"] = coll
    loopback.wfs_max_page = 1000
    return _official("nrw_sssi_wales", loopback.url + "/wfs", page_size=100)


def test_wfs_pages_with_start_index_through_faults(loopback, settings, shared_data):
    ds = _nrw_sssi(loopback, shared_data)
    loopback.faults["/wfs"] = [None, "500", "cut", "html"]  # the second page fails three ways
    store = _store(settings.with_(retries=3), ds)
    outcome = pull_one(ds, store)
    assert outcome.ok, outcome.message
    pages = [q for p, q in loopback.queries if p == "/wfs"]
    assert {q["startIndex"][0] for q in pages} == {"0", "100", "200"}
    assert all(q["typeNames"] == ["inspire-nrw:NRW_SSSI"] and q["version"] == ["2.0.0"] for q in pages)
    assert all(q["srsName"] == ["EPSG:27700"] and q["count"] == ["100"] for q in pages)
    got = store.read_dataset(ds.key)
    assert len(got) == 249 and (got["designation"] == "sssi").all() and (got["nation"] == "Wales").all()
    assert store.provenance(ds.key)["crs_transformation"]["method"].startswith("none")  # native BNG
    head = (store.settings.raw_dir / ds.key / ds.official_file).read_text()[:120]
    assert head.startswith(
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}}'
    )
    # the sample read on its own (CRS84 -> BNG by OSTN15) against the WFS copy (pyproj -> BNG)
    mirror = _mirror_frame("planning_data_sssi_england", shared_data)
    assert got.area.sum() == pytest.approx(mirror.area.sum(), rel=1e-3)


def test_wfs_unknown_type_name_is_a_clear_error(loopback, settings, shared_data):
    ds = _nrw_sssi(loopback, shared_data)
    ds = dataclasses.replace(ds, query={**ds.query, "typeNames": "inspire-nrw:NRW_SSSSI"})
    with pytest.raises(DataSourceError, match="HTTP 400"):
        _fetch.fetch(ds, settings)
    assert _leftovers(settings.raw_dir) == []


def test_wfs_short_of_number_matched_is_an_error(loopback, settings, shared_data):
    ds = _nrw_sssi(loopback, shared_data)
    route = loopback.routes["/wfs"]

    def lying(q, base):
        status, body, ctype = route(q, base)
        doc = json.loads(body)
        doc["numberMatched"] = 250
        return status, json.dumps(doc).encode(), ctype

    loopback.routes["/wfs"] = lying
    with pytest.raises(DataSourceError, match="returned 249 features but numberMatched is 250"):
        _fetch.fetch(ds, settings)


# ------------------------------------------------------------------------------------ CKAN
def test_ckan_interconnector_register_by_resource_id(loopback, settings, shared_data):
    ds = _official("neso_interconnector_register", loopback.url + "/ckan/datastore_search")
    assert ds.api == "ckan_datastore" and ds.query == {"resource_id": "64f7908f-f787-4977-93e1-5342a5f1357f"}
    loopback.ckan_file = shared_data / get_dataset(ds.key).mirror_paths[0]
    loopback.ckan_max_page = 10
    loopback.faults["/ckan/datastore_search"] = [None, "500", "html"]
    store = _store(settings, ds)
    outcome = pull_one(ds, store)
    assert outcome.ok, outcome.message
    got = store.read_dataset(ds.key).drop(columns="dataset")
    want = _mirror_frame(ds.key, shared_data).drop(columns="dataset")
    pd.testing.assert_frame_equal(got, want)
    assert {q["resource_id"][0] for p, q in loopback.queries} == {ds.query["resource_id"]}


# ------------------------------------------------------------------------------------ xlsx
def test_etys_appendix_b_workbook_reads_like_its_csv_export(loopback, settings, shared_data):
    csv_path = shared_data / get_dataset("neso_etys2024_substations").mirror_paths[0]
    loopback.files["/document/383936/download"] = (shapes.etys_appendix_b(csv_path, "B-1-1"), shapes.XLSX)
    loopback.faults["/document/383936/download"] = ["html"]  # the portal's HTML page first
    ds = _official("neso_etys2024_substations", loopback.url + "/document/383936/download")
    assert ds.format == "xlsx" and ds.header_row == 1 and dict(ds.sheets)["B-1-1c"] == "NGET"
    fetched = None
    with pytest.raises(DataSourceError, match="HTML page"):
        _fetch.fetch(ds, settings)
    fetched = _fetch.fetch(ds, settings)
    assert fetched.paths[0].name == "neso_etys2024_substations.xlsx"
    from growth_zones.data.loaders._common import read_table

    table = read_table(RawInput(ds, fetched.paths))
    want = pd.read_csv(csv_path, encoding="utf-8-sig")
    want = want[want["source_table"].isin(["B-1-1a", "B-1-1b", "B-1-1c"])].reset_index(drop=True)
    assert list(table.columns) == list(want.columns)
    assert len(table) == len(want) == 435 + 473 + 564
    pd.testing.assert_frame_equal(table, want, check_dtype=False)


def test_xlsx_missing_sheet_names_the_sheets_found(loopback, settings, shared_data):
    from growth_zones.data.loaders._common import read_table

    csv_path = shared_data / get_dataset("neso_etys2024_circuits").mirror_paths[0]
    loopback.files["/b.xlsx"] = (shapes.etys_appendix_b(csv_path, "B-2-1"), shapes.XLSX)
    ds = _official("neso_etys2024_circuits", loopback.url + "/b.xlsx", sheets=(("B-2-1e", "X"),))
    fetched = _fetch.fetch(ds, settings)
    with pytest.raises(SchemaError) as err:
        read_table(RawInput(ds, fetched.paths))
    assert "no sheet(s) ['B-2-1e']" in str(err.value) and "'B-2-1a'" in str(err.value)
    assert ds.key in str(err.value)


def test_etys_circuits_from_the_workbook_match_the_csv(loopback, settings, shared_data):
    csv_path = shared_data / get_dataset("neso_etys2024_circuits").mirror_paths[0]
    loopback.files["/c.xlsx"] = (shapes.etys_appendix_b(csv_path, "B-2-1"), shapes.XLSX)
    ds = _official("neso_etys2024_circuits", loopback.url + "/c.xlsx")
    fetched = _fetch.fetch(ds, settings)
    coords = _mirror_frame("pypsa_gb_etys_site_coordinates", shared_data)
    got = get_normaliser(ds.normaliser)(
        RawInput(ds, fetched.paths, {"pypsa_gb_etys_site_coordinates": coords})
    ).frame.set_index("id")
    want = _mirror_frame(ds.key, shared_data)
    want = want[want["operator"].isin(["SHE Transmission", "SP Transmission", "NGET"])].set_index("id")
    assert sorted(got.index) == sorted(want.index) and len(got) > 200
    for col in ("voltage_kv", "rating_mva", "length_km"):
        np.testing.assert_allclose(got.loc[want.index, col], want[col], equal_nan=True)


def test_ons_mye_workbook_header_on_row_8(loopback, settings, shared_data):
    csv_path = shared_data / get_dataset("ons_mye_mid2022_lad").mirror_paths[0]
    loopback.files["/mye.xlsx"] = (shapes.ons_mye_workbook(csv_path), shapes.XLSX)
    ds = _official("ons_mye_mid2022_lad", loopback.url + "/mye.xlsx")
    assert ds.sheets == (("MYE2 - Persons", "MYE2 - Persons"),) and ds.header_row == 7
    store = _store(settings, ds)
    assert pull_one(ds, store).ok
    got = store.read_dataset(ds.key).set_index("code")["population"]
    want = pd.read_csv(csv_path, encoding="utf-8-sig").set_index("Code")["Population"]
    assert len(got) == 361 and (got == want.reindex(got.index).astype(float)).all()
    assert got.sum() == pytest.approx(67_596_281 - 0, rel=0.001)  # the UK total of the file


# ------------------------------------------------------------------------------------ zip
def test_zipped_shapefile_with_spaces_in_the_member(loopback, settings, shared_data):
    mirror = get_dataset("neso_etys_boundaries_mar25")
    shp = shared_data / mirror.mirror_paths[0]
    loopback.files["/etys.zip"] = (shapes.shapefile_zip(shp, "ETYS boundary GIS data Mar25"), shapes.ZIP)
    ds = _official(mirror.key, loopback.url + "/etys.zip")
    assert ds.archive == "zip" and ds.member == "ETYS boundary GIS data Mar25.shp"
    store = _store(settings, ds)
    assert pull_one(ds, store).ok
    got = store.read_dataset(ds.key)
    want = _mirror_frame(ds.key, shared_data)
    assert sorted(got["name"]) == sorted(want["name"]) and len(got) == 34
    assert got.length.sum() == pytest.approx(want.length.sum(), rel=1e-9)


def test_zip_without_the_member_is_refused_and_not_cached(loopback, settings, shared_data):
    shp = shared_data / get_dataset("neso_etys_boundaries_mar25").mirror_paths[0]
    loopback.files["/etys.zip"] = (shapes.shapefile_zip(shp, "ETYS boundary GIS data Mar26"), shapes.ZIP)
    ds = _official("neso_etys_boundaries_mar25", loopback.url + "/etys.zip")
    with pytest.raises(DataSourceError, match="has no 'ETYS boundary GIS data Mar25.shp'.*Mar26"):
        _fetch.fetch(ds, settings)
    assert _leftovers(settings.raw_dir) == []
    loopback.files["/etys.zip"] = (b"<html>not a zip</html>", "application/zip")
    with pytest.raises(DataSourceError, match="HTML page|not return a zip"):
        _fetch.fetch(ds, settings)
    assert _leftovers(settings.raw_dir) == []


def test_ofcom_zip_counts_give_the_published_percentages(loopback, settings, shared_data):
    """Recent Connected Nations releases publish premises counts; the percentages computed from them
    must match the percentages Ofcom published beside the counts in the 2021 file."""
    mirror = get_dataset("ofcom_connected_nations_2021_05_laua")
    csv_path = shared_data / mirror.mirror_paths[0]
    loopback.files["/cn.zip"] = (shapes.ofcom_counts_zip(csv_path, mirror.member), shapes.ZIP)
    ds = _official(mirror.key, loopback.url + "/cn.zip")
    store = _store(settings, ds)
    assert pull_one(ds, store).ok
    got = store.read_dataset(ds.key).set_index("code")
    published = _mirror_frame(ds.key, shared_data).set_index("code")
    assert store.provenance(ds.key)["notes"]["percent_from_counts"] == [
        "full_fibre_pct",
        "gigabit_pct",
        "sfbb_pct",
    ]
    for col in ("full_fibre_pct", "gigabit_pct", "sfbb_pct"):
        diff = (got[col] - published[col]).abs()
        assert diff.max() < 0.06, (col, diff.max())  # Ofcom rounds its percentages to 0.1


def test_zipped_raster_member(loopback, settings, shared_data):
    import rasterio

    mirror = get_dataset("ukceh_gridded_population_2021_1km")
    tif = (shared_data / mirror.mirror_paths[0]).read_bytes()
    loopback.files["/pop.zip"] = (
        shapes.zip_of({mirror.member: tif, "supporting-documents/readme.txt": b"x"}),
        shapes.ZIP,
    )
    ds = _official(mirror.key, loopback.url + "/pop.zip")
    store = _store(settings, ds)
    assert pull_one(ds, store).ok
    with rasterio.open(shared_data / mirror.mirror_paths[0]) as src:
        want = src.read(1)
    got = store.read_raster("population_grid")
    assert got.array.shape == want.shape
    assert np.nansum(got.array) == pytest.approx(
        float(np.nansum(np.where(want < -1e30, np.nan, want))), rel=1e-6
    )


# ------------------------------------------------------------------------------------ newest release
def test_repd_newest_release_from_the_govuk_content_api(loopback, settings):
    ds = get_dataset("desnz_repd_2024_q2")
    assert ds.latest["api"] == "govuk_content" and ds.latest["match"] == r"\.csv$"
    path = "/api/content/government/publications/renewable-energy-planning-database-quarterly-extract"
    newest = (
        "https://assets.publishing.service.gov.uk/media/0123456789abcdef01234567/REPD_publication_Q2_2026.csv"
    )
    loopback.govuk_content[path] = {
        "title": "Renewable Energy Planning Database: quarterly extract",
        "public_updated_at": "2026-08-01T09:30:00.000+01:00",
        "details": {
            "attachments": [
                {
                    "title": "Guidance",
                    "url": "https://assets.publishing.service.gov.uk/media/x/REPD_User_Guide.pdf",
                    "filename": "REPD_User_Guide.pdf",
                    "content_type": "application/pdf",
                },
                {
                    "title": "REPD Q2 2026",
                    "url": newest,
                    "filename": "REPD_publication_Q2_2026.csv",
                    "content_type": "text/csv",
                },
            ]
        },
    }
    probe = dataclasses.replace(ds, latest={**ds.latest, "url": loopback.url + path})
    found = _fetch.latest_release(probe, settings)
    assert found["url"] == newest and not found["is_pinned"] and found["pinned_url"] == ds.url
    pinned = dataclasses.replace(probe, url=newest)
    assert _fetch.latest_release(pinned, settings)["is_pinned"]


def test_ckan_package_show_newest_resource(loopback, settings):
    ds = get_dataset("neso_tec_register_2025_09")
    loopback.ckan_packages["transmission-entry-capacity-tec-register"] = {
        "resources": [
            {
                "name": "TEC Register",
                "url": "https://api.neso.energy/dataset/x/resource/y/download/tec-register-02-november-2026.csv",
                "last_modified": "2026-11-02T10:00:00",
            },
        ]
    }
    probe = dataclasses.replace(
        ds,
        latest={
            "api": "ckan_package",
            "url": loopback.url + "/ckan/package_show",
            "id": "transmission-entry-capacity-tec-register",
            "match": r"tec-register.*\.csv$",
        },
    )
    found = _fetch.latest_release(probe, settings)
    assert found["url"].endswith("tec-register-02-november-2026.csv") and found["updated"].startswith(
        "2026-11-02"
    )
    with pytest.raises(DataSourceError, match="no file matching"):
        _fetch.latest_release(
            dataclasses.replace(probe, latest={**probe.latest, "match": r"\.xlsx$"}), settings
        )


def test_read_table_rejects_a_broken_workbook(tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    ds = get_dataset("neso_etys2024_substations")
    from growth_zones.data.loaders._common import read_table

    with pytest.raises(SchemaError, match="not a readable .xlsx"):
        read_table(RawInput(ds, [bad]))

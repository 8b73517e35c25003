"""The map libraries as catalogue assets: pinned npm tarballs fetched through the fetch module
(cache -> mirror locations in order -> official URL), verified on every use, read into the pages.

Fake tarballs (tests/support/fake_npm.py) stand in for the real ones, so nothing here needs the
network or the real npm packages; the browser tests use the real libraries.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest

from growth_zones.data import fetch as _fetch
from growth_zones.data.assets import fetch_assets, read_members, verified
from growth_zones.data.catalogue import asset_entries, load_catalogue, parse_catalogue
from growth_zones.errors import CatalogueError, DataSourceError
from growth_zones.report.assets import (
    KEEP_FONTS,
    LIBRARY_FILES,
    MapLibraries,
    libraries_from_assets,
    npm_package,
)
from growth_zones.settings import Settings, mirror_locations
from tests.support import fake_npm
from tests.support import report_demo as demo

lxml_html = pytest.importorskip("lxml.html")


@pytest.fixture
def fake(tmp_path: Path):
    """(mirror folder with fake npm/ tarballs, their catalogue, settings with a private cache)."""
    mirror = tmp_path / "mirror"
    cat = parse_catalogue(fake_npm.make_mirror(mirror), source="fake.toml")
    s = Settings(
        cache_dir=tmp_path / "cache", mirror=str(mirror), offline=False, timeout=5, retries=1, backoff=0.01
    )
    return mirror, cat, s


# ---------------------------------------------------------------- the catalogue


def test_catalogue_pins_the_versions_folium_loads():
    from folium.folium import _default_css, _default_js

    cat = load_catalogue()
    assets = {npm_package(d.url): d for d in asset_entries(cat)}
    assert set(assets) == {pkg for pkg, _ in LIBRARY_FILES.values()}
    urls = dict(_default_js + _default_css)
    for pkg, url_key, pattern in (
        ("leaflet", "leaflet", r"leaflet@([0-9.]+)/"),
        ("jquery", "jquery", r"jquery-([0-9.]+?)\.min\.js"),
        ("bootstrap", "bootstrap", r"bootstrap@([0-9.]+)/"),
        ("@fortawesome/fontawesome-free", "awesome_markers_font_css", r"fontawesome-free@([0-9.]+)/"),
    ):
        folium_version = re.search(pattern, urls[url_key]).group(1)
        assert assets[pkg].vintage == folium_version, (pkg, folium_version)
    # folium links Leaflet.awesome-markers 2.0.2 from cdnjs; npm's 2.0.x line is the same plugin
    assert "2.0.2" in urls["awesome_markers"] and assets["leaflet.awesome-markers"].vintage.startswith("2.0.")


def test_asset_entries_are_pinned_npm_tarballs():
    for ds in asset_entries():
        pkg = npm_package(ds.url)
        assert ds.url == f"https://registry.npmjs.org/{pkg}/-/{pkg.rsplit('/', 1)[-1]}-{ds.vintage}.tgz"
        # the mirror path is where `npm pack <pkg>@<version>` puts it, so a folder of npm pack output is a mirror
        assert ds.mirror_paths == (f"npm/{fake_npm.tarball_name(pkg, ds.vintage)}",)
        assert re.fullmatch(r"[0-9a-f]{64}", ds.sha256[0]), ds.key
        assert ds.kind == "asset" and ds.layer == "" and not ds.default and ds.licence and ds.licence_url


def test_asset_entries_are_validated_with_every_problem_at_once():
    bad = """
[[dataset]]
key = "a"
kind = "asset"
title = "A"
publisher = "P"
layer = "regions"
url = "https://registry.npmjs.org/a/-/a-1.tgz"
format = "tgz"
mirror_path = "npm/a-1.tgz"
sha256 = "00"
licence = "MIT"
attribution = "x"
vintage = "1"
default = true

[[dataset]]
key = "b"
kind = "asset"
title = "B"
publisher = "P"
url = "https://registry.npmjs.org/b/-/b-1.tgz"
format = "tgz"
mirror_path = "npm/b-1.tgz"
licence = "MIT"
attribution = "x"
vintage = "1"

[[dataset]]
key = "c"
kind = "plugin"
"""
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(bad, source="bad.toml")
    msg = str(err.value)
    for fragment in (
        "(a): an asset is never normalised into a layer; remove ['layer']",
        "(a): an asset cannot be a default dataset",
        "(b): missing required fields ['sha256']",
        "(c): kind 'plugin' not one of",
    ):
        assert fragment in msg, fragment


@pytest.mark.parametrize(
    ("value", "sep", "expected"),
    [
        ("/data/shared:/tmp/npm", ":", ("/data/shared", "/tmp/npm")),
        ("../shared/data", ":", ("../shared/data",)),
        ("http://127.0.0.1:8000/m:/srv/npm", ":", ("http://127.0.0.1:8000/m", "/srv/npm")),
        (
            "/srv/npm:https://mirror.example.org/gz/data",
            ":",
            ("/srv/npm", "https://mirror.example.org/gz/data"),
        ),
        ("https://a.org/x:http://b:9/y/z", ":", ("https://a.org/x", "http://b:9/y/z")),
        ("a::b:", ":", ("a", "b")),
        (r"C:\gz\data;D:\npm", ";", (r"C:\gz\data", r"D:\npm")),
        ("", ":", ()),
        (None, ":", ()),
    ],
)
def test_mirror_locations(value, sep, expected):
    assert mirror_locations(value, sep=sep) == expected


# ---------------------------------------------------------------- fetching


def test_assets_come_from_the_first_mirror_location_that_has_them(fake, tmp_path):
    mirror, cat, s = fake
    first = tmp_path / "first"
    (first / "npm").mkdir(parents=True)
    leaflet = next(d for d in asset_entries(cat) if npm_package(d.url) == "leaflet")
    (first / leaflet.mirror_paths[0]).write_bytes((mirror / leaflet.mirror_paths[0]).read_bytes())
    s = s.with_(mirror=f"{first}{os.pathsep}{mirror}")
    got = fetch_assets(s, catalogue=cat)
    assert got.complete and set(got.paths) == {d.key for d in asset_entries(cat)}
    for ds in asset_entries(cat):
        meta = json.loads((s.raw_dir / ds.key / "fetch.json").read_text())
        where = first if ds is leaflet else mirror
        assert meta["source_urls"] == [str(where / ds.mirror_paths[0])], ds.key
        assert got.via[ds.key] == "mirror"
    again = fetch_assets(s, catalogue=cat)
    assert set(again.via.values()) == {"cache"}


def test_no_location_has_it_names_every_location(fake, tmp_path):
    mirror, cat, s = fake
    empty = tmp_path / "empty"
    empty.mkdir()
    ds = asset_entries(cat)[0]
    (mirror / ds.mirror_paths[0]).unlink()
    got = fetch_assets(s.with_(mirror=f"{empty}{os.pathsep}{mirror}"), catalogue=cat)
    msg = got.problems[ds.key]
    assert "no mirror location holds" in msg and str(empty) in msg and str(mirror) in msg
    assert ds.key not in got.paths and not got.complete
    assert _fetch.cached(ds, s) is None


def test_a_wrong_file_in_a_mirror_is_an_error_not_skipped(fake, tmp_path):
    mirror, cat, s = fake
    first = tmp_path / "first"
    ds = asset_entries(cat)[0]
    (first / "npm").mkdir(parents=True)
    (first / ds.mirror_paths[0]).write_bytes(b"not the pinned tarball")
    got = fetch_assets(s.with_(mirror=f"{first}{os.pathsep}{mirror}"), catalogue=cat)
    assert "sha256 mismatch" in got.problems[ds.key] and ds.sha256[0] in got.problems[ds.key]
    assert _fetch.cached(ds, s) is None and not list((s.raw_dir / ds.key).glob("*.tgz"))


def test_a_corrupted_cached_tarball_is_detected_and_fetched_again(fake, caplog):
    mirror, cat, s = fake
    assert fetch_assets(s, catalogue=cat).complete
    ds = asset_entries(cat)[0]
    cached_file = s.raw_dir / ds.key / ds.files[0]
    cached_file.write_bytes(cached_file.read_bytes()[:-10])  # truncated on disk after caching
    assert verified(ds, s) is None and not cached_file.exists()
    assert "does not match its pinned sha256" in caplog.text
    again = fetch_assets(s, catalogue=cat)
    assert (
        again.complete and again.via[ds.key] == "mirror" and _fetch.sha256_file(cached_file) == ds.sha256[0]
    )


def test_offline_without_cache_names_every_asset(fake):
    _, cat, s = fake
    got = fetch_assets(s.with_(offline=True), catalogue=cat)
    assert set(got.problems) == {d.key for d in asset_entries(cat)}
    assert all("offline" in m for m in got.problems.values()) and not got.paths


def test_official_download_from_a_registry(tmp_path):
    """With no mirror the official URL (an npm-registry-shaped loopback server) is used."""
    from tests._server import LoopbackServer

    root = tmp_path / "registry"
    server = LoopbackServer(root)
    server.start()
    try:
        text_ = fake_npm.make_mirror(tmp_path / "files", url_base=server.url)
        for d in parse_catalogue(text_).values():  # lay the tarballs out as the registry does
            rel = d.url[len(server.url) + 1 :]
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes((tmp_path / "files" / d.mirror_paths[0]).read_bytes())
        cat = parse_catalogue(text_)
        s = Settings(cache_dir=tmp_path / "cache", mirror=None, retries=1, backoff=0.01, timeout=5)
        got = fetch_assets(s, catalogue=cat)
        assert got.complete and set(got.via.values()) == {"official"}
        assert server.hits["/leaflet/-/leaflet-1.9.3.tgz"] == 1
        libs = libraries_from_assets(got)
        assert libs.bundled and "window.L = {version: 'fake'}" in libs.script_text()
    finally:
        server.stop()


def test_an_unreachable_registry_is_probed_once_and_named(tmp_path, monkeypatch):
    """One short probe of the host before any download (as for datasets): every asset says which
    host did not answer and why, and no download is attempted."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cat = parse_catalogue(fake_npm.make_mirror(tmp_path / "files", url_base=f"http://127.0.0.1:{port}"))
    s = Settings(cache_dir=tmp_path / "cache", mirror=None, retries=1, backoff=0.01, timeout=2)
    downloads: list[str] = []
    monkeypatch.setattr(_fetch, "download", lambda url, *a, **k: downloads.append(url))
    got = fetch_assets(s, catalogue=cat)
    messages = [got.problems[d.key] for d in asset_entries(cat)]
    assert len(messages) == 5 and all(
        f"127.0.0.1:{port} could not be reached (connection refused)" == m for m in messages
    )
    assert downloads == [] and got.unreachable == {f"127.0.0.1:{port}"}
    libs = libraries_from_assets(got)
    assert not libs.bundled and "could not be reached" in libs.problem


def test_data_pull_and_info_treat_an_asset_as_a_raw_file(fake, cli_runner, tmp_path):
    from cli import app

    mirror, cat, s = fake
    cat_file = tmp_path / "catalogue.toml"
    cat_file.write_text(fake_npm.make_mirror(mirror), encoding="utf-8")
    env = {"GROWTH_ZONES_CATALOGUE": str(cat_file), "GROWTH_ZONES_CACHE": str(s.cache_dir)}
    key = fake_npm.key_of("leaflet")
    res = cli_runner.invoke(app, ["data", "pull", key, "--mirror", str(mirror)], env=env)
    assert res.exit_code == 0, res.output
    assert (s.raw_dir / key / "leaflet-1.9.3.tgz").is_file() and not s.layers_dir.exists()
    info = cli_runner.invoke(app, ["data", "info", key, "--json"], env=env)
    record = json.loads(info.stdout)
    assert record["kind"] == "asset" and record["raw_sha256"] == [cat[key].sha256[0]]
    listed = json.loads(cli_runner.invoke(app, ["data", "list", "--json"], env=env).stdout)
    assert {r["key"]: (r["layer"], r["cached"]) for r in listed}[key] == ("asset", True)


# ---------------------------------------------------------------- reading and inlining


def test_read_members_names_what_is_missing(fake):
    mirror, cat, _ = fake
    tgz = mirror / "npm" / "leaflet-1.9.3.tgz"
    assert read_members(tgz, ["package/dist/leaflet.js"])["package/dist/leaflet.js"].startswith(b"window.L")
    with pytest.raises(DataSourceError, match="has no member.*package/dist/nothing.js"):
        read_members(tgz, ["package/dist/nothing.js"])


def test_bundle_inlines_code_images_and_the_one_font(fake):
    _, cat, s = fake
    libs = libraries_from_assets(fetch_assets(s, catalogue=cat))
    assert libs.bundled and [n for n, _ in libs.js] == [n for n in LIBRARY_FILES if not n.endswith("_css")]
    js, css = libs.script_text(), libs.style_text()
    assert "var s = '<\\/script>';" in js and "</script" not in js  # cannot close its element
    assert "data:image/png;base64," in css  # the small image
    assert "big.png" not in css and "x.png" not in css  # too big / missing: dropped
    assert "data:font/woff2;base64," in css and KEEP_FONTS == {"fa-solid-900.woff2"}
    assert "FA Brands" not in css and ".ttf" not in css  # only the solid face, woff2 only
    assert {p.title for p in libs.packages} == {f"{k} {v}" for k, v in fake_npm.VERSIONS.items()}


def test_a_tarball_without_a_needed_file_falls_back_to_the_cdn_with_the_reason(fake):
    mirror, cat, s = fake
    tgz = mirror / "npm" / "leaflet-1.9.3.tgz"
    files = fake_npm.members("leaflet")
    del files["package/dist/leaflet.css"]
    sha = fake_npm.write_tarball(tgz, files)
    text_ = fake_npm.make_mirror(mirror)  # rewrites the other tarballs identically
    fake_npm.write_tarball(tgz, files)
    cat = parse_catalogue(
        re.sub(r'(mirror_path = "npm/leaflet-1\.9\.3\.tgz"\nsha256 = ")[0-9a-f]+', rf"\g<1>{sha}", text_)
    )
    libs = libraries_from_assets(fetch_assets(s, catalogue=cat))
    assert not libs.bundled and "package/dist/leaflet.css" in libs.detail  # the log names the file
    assert "unusable" in libs.problem and "/" not in libs.problem  # the page says it in words


def _page(path: Path):
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def test_national_map_with_bundled_libraries_is_self_contained(fake, tmp_path):
    from growth_zones.report import render_national_map

    _, cat, s = fake
    libs = libraries_from_assets(fetch_assets(s, catalogue=cat))
    out = render_national_map(
        demo.ranking_frame(3), out_path=tmp_path / "m.html", criteria=demo.CRITERIA, libraries=libs
    )
    page = out.read_text(encoding="utf-8")
    doc = lxml_html.fromstring(page)
    assert not doc.xpath("//script[@src]") and not doc.xpath("//link[@rel='stylesheet']")
    assert "window.L = {version: 'fake'}" in page and "window.FAKE_JQUERY" in page
    assert doc.xpath("//div[@id='gz-nolib']")[0].get("hidden") is not None
    libs_line = doc.xpath("string(//p[contains(@class,'gz-libs')])")
    assert "leaflet 1.9.3 (MIT)" in libs_line and "leaflet.awesome-markers 2.0.5" in libs_line


def test_report_folder_shares_one_copy_of_the_libraries(fake, tmp_path):
    from growth_zones.report import render_assessment_report

    _, cat, s = fake
    libs = libraries_from_assets(fetch_assets(s, catalogue=cat))
    assessment, checks, rejected = demo.assessment_frames(4)
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path / "report",
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays=demo.overlays(),
        provenance=demo.PROVENANCE,
        libraries=libs,
    )
    assets = index.parent / "assets"
    assert "window.L = {version: 'fake'}" in (assets / "maplibs.js").read_text(encoding="utf-8")
    assert "data:font/woff2;base64," in (assets / "maplibs.css").read_text(encoding="utf-8")
    pages = [index, *sorted((index.parent / "sites").glob("*.html"))]
    assert len(pages) == 1 + len(assessment)
    for p in pages:
        text_ = p.read_text(encoding="utf-8")
        prefix = "assets/" if p == index else "../assets/"
        doc = lxml_html.fromstring(text_)
        srcs = doc.xpath("//script/@src")
        assert srcs == [prefix + "maplibs.js", prefix + "context.js"], srcs
        assert doc.xpath("//link[@rel='stylesheet']/@href") == [prefix + "maplibs.css", prefix + "report.css"]
        assert "window.L = {version" not in text_ and "FAKE_JQUERY" not in text_  # not repeated per page
        assert "GZ_CONTEXT[" in text_  # the context layers come from the shared file
        for src in srcs:
            assert (p.parent / src).resolve().is_file()
    context = (assets / "context.js").read_text(encoding="utf-8")
    body = json.loads(context[context.index("{") : context.rindex("}") + 1])
    assert {"protected_areas", "circuits", "substations_400", "internet_exchanges"} <= set(body)
    # the banner of a report page names the shared file it needs
    banner = _page(pages[1]).xpath("string(//div[@id='gz-nolib'])")
    assert "../assets/maplibs.js" in banner and "keep the report folder together" in banner


def test_cdn_report_folder_links_the_cdn_from_every_page(tmp_path):
    from growth_zones.report import render_assessment_report

    assessment, checks, rejected = demo.assessment_frames(2)
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path / "report",
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        libraries=MapLibraries.cdn(),
    )
    assert not (index.parent / "assets" / "maplibs.js").exists()
    for p in [index, *(index.parent / "sites").glob("*.html")]:
        srcs = _page(p).xpath("//script/@src")
        assert any(s.startswith("https://") and s.endswith("leaflet.js") for s in srcs), srcs

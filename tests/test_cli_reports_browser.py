"""The real reports, as a planner produces them (`surface`, `rank --html --png`, `assess --html --png`,
`map`), with nothing set but the mirror (the real datasets and the npm tarballs), opened in headless
Chromium with every request but file: blocked: a closed network."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from cli import EXIT_MISSING_CHECKS, app
from tests._browser import Page
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.data]


@pytest.fixture(scope="module")
def reports(mirror_cache, npm_mirror, tmp_path_factory):
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("reports")
    env = {
        "GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir),
        "GROWTH_ZONES_MIRROR": f"{mirror_cache.mirror}{os.pathsep}{npm_mirror}",
    }
    runner = CliRunner()
    # the CI mirror lacks most national designation files and holds only samples of others, so
    # every command finishes, writes its outputs and ends with exit code 4 (checks that did not run)
    res = runner.invoke(app, ["surface", "--resolution", "5000", "--out", str(out)], env=env)
    assert res.exit_code == EXIT_MISSING_CHECKS, res.output
    res = runner.invoke(app, ["rank", "--out", str(out), "--sensitivity", "200", "--html", "--png"], env=env)
    assert res.exit_code == EXIT_MISSING_CHECKS, res.output
    rank_stderr = res.stderr
    res = runner.invoke(
        app,
        ["assess", str(REPO / "data/examples/applications.geojson"), "--out", str(out), "--html", "--png"],
        env=env,
    )
    assert res.exit_code == EXIT_MISSING_CHECKS, res.output
    STDERR.update(rank=rank_stderr, assess=res.stderr)
    return out, env


STDERR: dict[str, str] = {}


def test_the_main_command_says_what_was_not_checked(reports, browser):
    """The README's main command under the CI mirror: stderr, the report index, a Welsh site's page,
    the briefs and the national map all list the checks that did not run and the coverage gaps."""
    out, _ = reports
    assess = STDERR["assess"]
    assert "check not run: Designation: SSSI, for 4 of 13 sites: dataset nrw_sssi_wales" in assess
    assert "not checked (coverage gap): Designation: Green Belt, for 2 of 13 sites" in assess
    assert "check not run: Exclusion: mostly_protected" in STDERR["rank"]
    pg = Page(browser, (out / "report" / "index.html").as_uri())
    try:
        banner = pg.page.locator(".gz-missing").first
        assert banner.is_visible()
        text = banner.inner_text()
        assert "Checks that could not run." in text and "Not checked: no national data." in text
        assert "nrw_sssi_wales" in text and "spatialhub_green_belt_scotland" in text
        cards = [" ".join(c.split()) for c in pg.page.locator(".gz-card").all_inner_texts()]
        assert "0 eligible (every hard exclusion checked)" in cards
        assert "13 not fully checked (a hard exclusion could not be checked)" in cards
    finally:
        pg.close()
    tra = Page(browser, (out / "report" / "sites" / "GZ-TRA.html").as_uri())
    try:
        text = tra.page.locator(".gz-missing").first.inner_text()
        assert "This site was" in text and "nrw_sssi_wales" in text and "naturescot" not in text
    finally:
        tra.close()
    briefs = (out / "report" / "briefs.html").read_text(encoding="utf-8")
    assert "gz-missing" in briefs and "nrw_sssi_wales" in briefs
    national = (out / "ranking.html").read_text(encoding="utf-8")
    assert "gz-missing" in national and "mostly_protected" in national


def _no_external_libraries(path) -> None:
    lxml_html = pytest.importorskip("lxml.html")
    doc = lxml_html.fromstring(path.read_text(encoding="utf-8"))
    for src in doc.xpath("//script/@src") + doc.xpath("//link[@rel='stylesheet']/@href"):
        assert not src.startswith(("http://", "https://", "//")), src


def test_national_report_from_the_cli(reports, browser, artifacts):
    out, _ = reports
    html = out / "ranking.html"
    size = html.stat().st_size
    assert size < 5_000_000
    _no_external_libraries(html)  # self-contained by default: no --assets, no settings
    ranking = pd.read_csv(out / "ranking.csv", dtype={"code": str})
    pg = Page(browser, html.as_uri())
    try:
        pg.page.wait_for_timeout(300)
        assert pg.errors == []
        assert pg.page.evaluate("L.version") == "1.9.3"
        assert pg.region_count() == len(ranking) == 350
        land, councils = pg.base_counts()
        assert land >= 1 and councils == 350  # GB land and every council, with no tile server
        # switching the choropleth off leaves the base map: the councils are still drawn
        pg.page.locator(
            ".leaflet-control-layers-overlays label", has_text="Local authorities (score)"
        ).click()
        assert pg.region_count() == 0 and pg.base_counts()[1] == 350
        pg.page.screenshot(path=str(artifacts / "real_national_base_map.png"))
        pg.page.locator(
            ".leaflet-control-layers-overlays label", has_text="Local authorities (score)"
        ).click()
        top = ranking.sort_values("rank").iloc[0]
        assert top["name"] in pg.page.inner_text("body")  # the top-10 panel
        text = html.read_text(encoding="utf-8")
        for d in json.loads((out / "ranking.provenance.json").read_text())["datasets"]:
            assert d["title"].split(" (")[0].replace("&", "&amp;") in text, d["key"]
        # the surface written into the same folder is a layer, off at first, with its legend
        surface = pg.page.locator(
            ".leaflet-control-layers-overlays label", has_text="National suitability surface"
        )
        assert surface.count() == 1 and not surface.locator("input").is_checked()
        assert "National suitability surface (5000 m cells)" in pg.page.locator("aside").inner_text()
        surface.click()
        assert pg.page.locator(".leaflet-gzSurface-pane img").count() == 1
        pg.page.screenshot(path=str(artifacts / "real_national_surface.png"))
        surface.click()
        pg.page.screenshot(path=str(artifacts / "real_national_map.png"))
        assert pg.errors == []
    finally:
        pg.close()
    print(f"\nranking.html {size / 1e6:.2f} MB")


def test_assessment_report_from_the_cli(reports, browser, artifacts):
    out, _ = reports
    index = out / "report" / "index.html"
    table = pd.read_csv(out / "assessment.csv", dtype={"id": str})
    total = sum(p.stat().st_size for p in (out / "report").rglob("*") if p.is_file())
    print(f"\nreport/ for {len(table)} sites: {total / 1e6:.2f} MB")
    assert total < 8_000_000
    for page in [index, *(out / "report" / "sites").glob("*.html"), out / "report" / "briefs.html"]:
        _no_external_libraries(page)
    pg = Page(browser, index.as_uri())
    try:
        pg.page.wait_for_timeout(300)
        assert pg.errors == []
        land, councils = pg.base_counts()
        assert land >= 1 and councils == 350
        body = pg.page.inner_text("body")
        for name in table["name"]:
            assert name in body
        pg.page.screenshot(path=str(artifacts / "real_assessment_index.png"), full_page=False)
    finally:
        pg.close()
    pages = sorted((out / "report" / "sites").glob("*.html"))
    assert len(pages) == len(table)
    site = Page(browser, pages[0].as_uri())
    try:
        site.page.wait_for_timeout(300)
        assert site.errors == []
        assert site.base_counts()[1] == 350
        assert "National Park" in site.page.inner_text("body")
        site.page.screenshot(path=str(artifacts / "real_assessment_site.png"))
    finally:
        site.close()
    # the static images: an overview and one per site
    figures = out / "figures"
    assert (figures / "overview.png").is_file()
    assert len(list((figures / "sites").glob("*.png"))) == len(table)
    assert (out / "ranking.png").is_file()


def test_map_command_rerenders_from_outputs(reports, cli_runner):
    out, env = reports
    refused = cli_runner.invoke(app, ["map", str(out)], env=env)
    assert refused.exit_code == 1 and "--overwrite" in refused.stderr  # pages are never replaced silently
    assert "--out" not in refused.stderr  # map has no --out option (review nit)
    (out / "ranking.html").unlink()
    (out / "report" / "index.html").unlink()
    stale = out / "report" / "sites" / "stale-page-from-an-earlier-run.html"
    stale.write_text("old", encoding="utf-8")
    res = cli_runner.invoke(app, ["map", str(out), "--overwrite"], env=env)
    assert res.exit_code == 0, res.output
    assert not stale.exists()  # the whole report folder was replaced
    html = (out / "ranking.html").read_text(encoding="utf-8")
    assert len(html) > 100_000
    assert "Candidate sites (applications)" in html and "GZ-CUL" in html  # the assessed sites are drawn
    assert "National suitability surface" in html
    assert (out / "report" / "index.html").exists() and (out / "report" / "assets" / "maplibs.js").exists()
    _no_external_libraries(out / "ranking.html")
    cdn = cli_runner.invoke(app, ["map", str(out), "--overwrite", "--cdn"], env=env)
    assert cdn.exit_code == 0, cdn.output
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in (out / "ranking.html").read_text()
    assert not (out / "report" / "assets" / "maplibs.js").exists()

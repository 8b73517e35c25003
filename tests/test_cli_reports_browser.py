"""The real reports, as a planner produces them (`surface`, `rank --html --png`, `assess --html --png`,
`map`), with nothing set but the mirror (the real datasets and the npm tarballs), opened in headless
Chromium with every request but file: blocked: a closed network."""

from __future__ import annotations

import json
import os
import re

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


def _score_rows_sum(path, table_xpath: str) -> tuple[float, float, int]:
    """(sum of the section and penalty rows shown, the score shown, how many rows) of one score
    table in a report page."""
    import re

    lxml_html = pytest.importorskip("lxml.html")
    num = re.compile(r"[−-]?\d+\.\d+")
    (tab,) = lxml_html.fromstring(path.read_text(encoding="utf-8")).xpath(table_xpath)
    parts = [
        float(
            num.search(tr.xpath("./td[contains(@class,'num')]")[0].text_content()).group(0).replace("−", "-")
        )
        for tr in tab.xpath(".//tr[contains(@class,'gz-part')]")
    ]
    (total,) = tab.xpath(".//tr[contains(@class,'gz-total')]/td[contains(@class,'num')]")
    return sum(parts), float(total.text_content()), len(parts)


def _assert_pages_reconcile(out) -> None:
    from growth_zones.report import safe_id

    table = pd.read_csv(out / "assessment.csv", dtype={"id": str}).set_index("id")
    penalties = [c for c in table.columns if c.startswith("penalty_")]
    sections = [c for c in table.columns if c.startswith("section_")]
    for app_id, r in table.iterrows():
        page = out / "report" / "sites" / f"{safe_id(app_id)}.html"
        n_pen = int((r[penalties].fillna(0) != 0).sum())
        for xpath in (
            "//aside//table[contains(@class,'gz-score-rows')]",
            "//section[contains(@class,'gz-brief')]//table[contains(@class,'gz-score-rows')]",
        ):
            shown_sum, shown_score, n = _score_rows_sum(page, xpath)
            assert n == len(sections) + n_pen, app_id
            assert shown_score == pytest.approx(round(r["score"], 3), abs=1e-9), app_id
            assert shown_sum == pytest.approx(r["score"], abs=0.0005 * n + 1e-9), app_id
    # the sites inside a National Park carry the penalty row, with the number assessment.csv holds
    for app_id in table.index[table["penalty_national_park"].fillna(0) < 0]:
        text = (out / "report" / "sites" / f"{safe_id(app_id)}.html").read_text(encoding="utf-8")
        pts = f"{table.loc[app_id, 'penalty_national_park']:.3f}".replace("-", "&#8722;")
        assert "Designation penalty: National Park ×(1−0.5)" in text and pts in text, app_id


def test_pages_and_briefs_show_rows_that_sum_to_the_score(reports):
    """M5: the score by section on every site page and in every brief, penalties included, sums to
    the score in assessment.csv; GZ-TRA and GZ-HOP (inside National Parks) show the penalty."""
    out, _ = reports
    table = pd.read_csv(out / "assessment.csv", dtype={"id": str}).set_index("id")
    assert {"GZ-TRA", "GZ-HOP"} <= set(table.index[table["penalty_national_park"] < 0])
    _assert_pages_reconcile(out)
    briefs = (out / "report" / "briefs.html").read_text(encoding="utf-8")
    assert briefs.count("Designation penalty: National Park ×(1−0.5)") == 2


def test_real_gate_failures_are_visible_on_the_maps(reports):
    """SF3 on the real outputs: every area that fails a gate is outlined on ranking.html, and the
    overview table shows GZ-TEE and GZ-HOP failing and GZ-CUL unknown with their reasons."""
    lxml_html = pytest.importorskip("lxml.html")
    out, _ = reports
    ranking = pd.read_csv(out / "ranking.csv", dtype={"code": str})
    page = (out / "ranking.html").read_text(encoding="utf-8")
    m = re.search(r'"gz_layer":\s*"regions"', page)
    assert m
    failing = set(ranking.loc[ranking["deliverable"] == "fail", "code"])
    assert len(failing) >= 1
    outlined = set(
        re.findall(
            r'"code":"([EWS]\d{8})"[^{}]*"deliverable":"fail"[^{}]*"_s":\{[^}]*"color":"#8a1c00"', page
        )
    )
    assert outlined == failing
    table = pd.read_csv(out / "assessment.csv", dtype={"id": str}).set_index("id")
    doc = lxml_html.fromstring((out / "report" / "index.html").read_text(encoding="utf-8"))
    rows = {
        tr.xpath("./td[3]")[0].text_content(): tr
        for tr in doc.xpath("//table[contains(@class,'gz-sortable')]/tbody/tr")
    }
    for app_id, status in table["deliverable"].items():
        cell = rows[app_id].xpath("./td[2]")[0].text_content()
        assert status in cell, app_id
        if status != "pass":
            assert table.loc[app_id, "gate_reasons"][:40] in cell, app_id


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
    _assert_pages_reconcile(out)  # re-rendered from the GeoPackage and the sidecar's profile
    _no_external_libraries(out / "ranking.html")
    cdn = cli_runner.invoke(app, ["map", str(out), "--overwrite", "--cdn"], env=env)
    assert cdn.exit_code == 0, cdn.output
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in (out / "ranking.html").read_text()
    assert not (out / "report" / "assets" / "maplibs.js").exists()

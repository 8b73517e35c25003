"""The real reports, as a planner produces them (`rank --html`, `assess --html`, `map`), opened in
headless Chromium with the offline map libraries."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli import app
from tests._browser import Page
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.data]


@pytest.fixture(scope="module")
def reports(mirror_cache, map_assets, tmp_path_factory):
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("reports")
    env = {"GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror)}
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["rank", "--out", str(out), "--sensitivity", "200", "--html", "--assets", str(map_assets)],
        env=env,
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "assess",
            str(REPO / "data/examples/applications.geojson"),
            "--out",
            str(out),
            "--html",
            "--assets",
            str(map_assets),
        ],
        env=env,
    )
    assert res.exit_code == 0, res.output
    return out, env


def test_national_report_from_the_cli(reports, browser, artifacts):
    out, _ = reports
    html = out / "ranking.html"
    assert html.stat().st_size < 5_000_000
    ranking = pd.read_csv(out / "ranking.csv", dtype={"code": str})
    pg = Page(browser, html.as_uri())
    try:
        pg.page.wait_for_timeout(300)
        assert pg.errors == []
        assert pg.region_count() == len(ranking) == 350
        top = ranking.sort_values("rank").iloc[0]
        assert top["name"] in pg.page.inner_text("body")  # the top-10 panel
        text = html.read_text(encoding="utf-8")
        for d in json.loads((out / "ranking.provenance.json").read_text())["datasets"]:
            assert d["title"].split(" (")[0].replace("&", "&amp;") in text, d["key"]
        pg.page.screenshot(path=str(artifacts / "real_national_map.png"))
    finally:
        pg.close()


def test_assessment_report_from_the_cli(reports, browser, artifacts):
    out, _ = reports
    index = out / "report" / "index.html"
    table = pd.read_csv(out / "assessment.csv", dtype={"id": str})
    pg = Page(browser, index.as_uri())
    try:
        pg.page.wait_for_timeout(300)
        assert pg.errors == []
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
        assert "National Park" in site.page.inner_text("body")
        site.page.screenshot(path=str(artifacts / "real_assessment_site.png"))
    finally:
        site.close()


def test_map_command_rerenders_from_outputs(reports, map_assets, cli_runner):
    out, env = reports
    refused = cli_runner.invoke(app, ["map", str(out), "--assets", str(map_assets)], env=env)
    assert refused.exit_code == 1 and "--overwrite" in refused.stderr  # pages are never replaced silently
    (out / "ranking.html").unlink()
    (out / "report" / "index.html").unlink()
    stale = out / "report" / "sites" / "stale-page-from-an-earlier-run.html"
    stale.write_text("old", encoding="utf-8")
    res = cli_runner.invoke(app, ["map", str(out), "--assets", str(map_assets), "--overwrite"], env=env)
    assert res.exit_code == 0, res.output
    assert not stale.exists()  # the whole report folder was replaced
    html = (out / "ranking.html").read_text(encoding="utf-8")
    assert len(html) > 100_000
    assert "Candidate sites (applications)" in html and "GZ-CUL" in html  # the assessed sites are drawn
    assert (out / "report" / "index.html").exists()

"""Browser tests: the reports, inlined with the npm copy of the map libraries, in headless Chromium.

Needs npm (to run tools/fetch_map_assets.sh) and /usr/bin/chromium with Playwright. Skips with the
reason when either is missing, except on CI (CI=true), where a missing prerequisite fails.
Screenshots go to tests/artifacts/ (ignored by git through the .gitignore the fixture writes there).
"""

from __future__ import annotations

import pytest

from growth_zones.report import render_assessment_report, render_national_map
from tests._browser import N_REGIONS, Page
from tests.support import report_demo as demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def national_page(tmp_path_factory, map_assets, browser):
    ranking = demo.ranking_frame(N_REGIONS, n_per_edge=200)
    prov = demo.PROVENANCE + [
        {
            "key": "x",
            "title": demo.HOSTILE_NAMES[0],
            "publisher": "p",
            "licence": "OGL",
            "licence_url": "",
            "attribution": demo.HOSTILE_NAMES[1],
            "vintage": "",
            "non_commercial": False,
        }
    ]
    out = render_national_map(
        ranking,
        out_path=tmp_path_factory.mktemp("nat") / "national.html",
        criteria=demo.CRITERIA,
        overlays=demo.overlays(),
        provenance=prov,
        profile_title="AIGZ (synthetic data)",
        generated_at="2026-01-02 03:04 UTC",
        assets=map_assets,
    )
    pg = Page(browser, out.as_uri())
    pg.page.wait_for_timeout(300)
    yield pg, ranking, out
    pg.close()


def test_national_loads_offline_without_errors(national_page, artifacts):
    pg, ranking, out = national_page
    size = out.stat().st_size
    ready, load = pg.load_ms()
    print(f"\nnational map: {size / 1e6:.2f} MB, map ready {ready:.0f} ms, load event {load:.0f} ms")
    (artifacts / "national_metrics.txt").write_text(
        f"bytes={size}\nmap_ready_ms={ready:.0f}\nload_event_ms={load:.0f}\n", encoding="utf-8"
    )
    pg.page.screenshot(path=str(artifacts / "national_map.png"))
    assert size < 5_000_000
    assert pg.errors == []
    assert pg.region_count() == len(ranking) == N_REGIONS
    assert (
        ready > 0
    )  # the page reached its own "map ready" mark; the speed goal lives in benchmarks/bench_report.py
    # the page's libraries really are the inlined local copies
    assert pg.page.evaluate("typeof L !== 'undefined' && L.version") == "1.9.3"


def test_national_layer_toggle(national_page):
    pg, ranking, _ = national_page
    page = pg.page
    label = page.locator(".leaflet-control-layers-overlays label", has_text="Local authorities (score)")
    label.click()
    assert pg.region_count() == 0
    label.click()
    assert pg.region_count() == len(ranking)
    points = page.locator(".leaflet-gzPoints-pane path.leaflet-interactive")
    before = points.count()
    assert before > 0
    # grid layers start hidden (the choropleth reads first); switching one on draws its points
    page.locator(".leaflet-control-layers-overlays label", has_text="Substations 400 kV").click()
    assert points.count() > before
    page.locator(".leaflet-control-layers-overlays label", has_text="Substations 400 kV").click()
    assert points.count() == before
    assert pg.errors == []


def test_national_click_region_opens_popup_with_score(national_page, artifacts):
    pg, ranking, _ = national_page
    page = pg.page
    # find a region path whose centre is not covered by a point marker, and click it
    box = page.evaluate("""() => {
        const paths = document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive');
        for (const p of paths) {
            const r = p.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (r.width > 8 && x > 400 && x < 1000 && document.elementFromPoint(x, y) === p) { return [x, y]; }
        }
        return null; }""")
    assert box is not None
    page.mouse.click(*box)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    name = popup.locator("h4").inner_text()
    row = ranking[ranking["name"] == name].iloc[0]
    assert f"{row['score']:.3f}" in popup.inner_text()
    assert "Contribution" in popup.inner_text()
    page.wait_for_timeout(400)  # let the popup fade in before the screenshot
    page.screenshot(path=str(artifacts / "national_popup.png"))
    page.keyboard.press("Escape")
    assert pg.errors == []


def test_national_hostile_names_are_text(national_page):
    pg, _, _ = national_page
    page = pg.page
    hostile = demo.HOSTILE_NAMES[0]
    # open the popup of the region whose name is hostile, through the Leaflet layer itself
    opened = page.evaluate(
        """(esc) => {
        for (const k of Object.keys(window)) {
            if (!k.startsWith('geo_layer_')) continue;
            let hit = false;
            window[k].eachLayer(l => {
                if (!hit && l.feature && l.feature.properties.name === esc && l.feature.properties.popup) {
                    // a click on the polygon, as the user would: the layer-wide popup handler opens it
                    l.fire("click", {latlng: l.getBounds().getCenter()}, true);
                    hit = true;
                } });
            if (hit) return true;
        }
        return false; }""",
        "&lt;img src=x onerror=alert(1)&gt;",
    )
    assert opened
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    assert hostile in popup.inner_text()
    assert popup.locator("img").count() == 0
    assert page.locator("aside").inner_text().count(hostile) >= 1  # sources list, as text
    assert page.locator("aside img, aside script").count() == 0
    page.wait_for_timeout(200)
    assert pg.dialogs == []
    assert pg.errors == []


@pytest.fixture(scope="module")
def assessment_pages(tmp_path_factory, map_assets, browser):
    assessment, checks, rejected = demo.assessment_frames(6)
    ov = {k: v for k, v in demo.overlays().items() if k != "applications"}
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path_factory.mktemp("assess"),
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays=ov,
        provenance=demo.PROVENANCE,
        profile_title="AIGZ (synthetic data)",
        generated_at="2026-01-02",
        assets=map_assets,
    )
    return index, assessment


def test_assessment_index_in_browser(assessment_pages, browser, artifacts):
    index, assessment = assessment_pages
    pg = Page(browser, index.as_uri())
    page = pg.page
    page.wait_for_timeout(300)
    assert pg.region_count() == len(assessment)
    body = page.locator("body").inner_text()
    assert demo.HOSTILE_NAMES[0] in body and demo.HOSTILE_NAMES[1] in body
    # sorting: click "Score" twice -> descending order of scores
    page.locator("table.gz-sortable th button", has_text="Score").click()
    page.locator("table.gz-sortable th button", has_text="Score").click()
    cells = page.locator("table.gz-sortable tbody tr td:nth-child(9)").all_inner_texts()  # after Deliverable
    values = [float(c.strip()) for c in cells]
    assert values == sorted(values, reverse=True)
    page.screenshot(path=str(artifacts / "assessment_index.png"), full_page=True)
    # follow the link of the hostile-id application
    page.locator("table.gz-sortable a", has_text="../../etc/passwd").click()
    page.wait_for_load_state("load")
    assert "/sites/" in page.url and page.url.endswith(".html")
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 1
    assert page.locator(".gz-line-label").count() == 3
    assert "Nearest transmission node or GSP" in page.locator("aside").inner_text()
    page.screenshot(path=str(artifacts / "assessment_site.png"))
    page.wait_for_timeout(200)
    assert pg.dialogs == []
    assert pg.errors == []
    pg.close()

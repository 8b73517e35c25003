"""Parsing tests for the HTML map reports (no browser): structure, escaping, provenance, size."""

from __future__ import annotations

import html as _html
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("folium")
lxml_html = pytest.importorskip("lxml.html")

from growth_zones.report import (  # noqa: E402
    MapLibraries,
    render_assessment_report,
    render_national_map,
    safe_id,
)
from tests.support import report_demo as demo  # noqa: E402

HOSTILE = demo.HOSTILE_NAMES
HOSTILE_PROV = {
    "key": "evil",
    "title": HOSTILE[0],
    "publisher": HOSTILE[1],
    "licence": "OGL <u>3</u>",
    "licence_url": "javascript:alert(1)",
    "attribution": "© Evil & Sons <script>alert(2)</script>",
    "vintage": "2025",
    "non_commercial": False,
}


def geojson_layers(page: str) -> dict[str, dict]:
    """Every FeatureCollection embedded by the report layers, keyed by its ``gz_layer`` tag."""
    dec = json.JSONDecoder()
    out, pos = {}, 0
    while (i := page.find("L.geoJson(", pos)) >= 0:
        pos = i + len("L.geoJson(")
        if page[pos] != "{":
            continue
        obj, end = dec.raw_decode(page, pos)
        out[obj.get("gz_layer", f"layer{len(out)}")] = obj
        pos = end
    return out


def assert_no_markup_injection(page: str) -> None:
    for needle in (
        "<img src=x onerror",
        "<script>alert(1)",
        "<script>alert(2)",
        "<u>3</u>",
        'href="javascript:',
    ):
        assert needle not in page, needle
    doc = lxml_html.fromstring(page)
    assert not doc.xpath("//img[@onerror]")
    handlers = doc.xpath("//@*[starts-with(name(), 'on')]")
    assert handlers == [], handlers
    for script in doc.xpath("//script"):
        body = (script.text or "").lower()
        assert "<img" not in body and "<script" not in body and "</script" not in body and "<!--" not in body


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> tuple[Path, object]:
    ranking = demo.ranking_frame(24)
    out = tmp_path_factory.mktemp("national") / "map.html"
    render_national_map(
        ranking,
        out_path=out,
        criteria=demo.CRITERIA,
        overlays=demo.overlays(),
        provenance=demo.PROVENANCE + [HOSTILE_PROV],
        profile_title="Power first <v2>",
        generated_at="2026-01-02 03:04 UTC",
    )
    return out, ranking


def test_title_and_meta(national):
    out, _ = national
    doc = lxml_html.fromstring(out.read_text(encoding="utf-8"))
    assert doc.findtext(".//title") == "AI Growth Zones: national ranking"
    assert doc.xpath("string(//h1)") == "AI Growth Zones: national ranking"
    side = doc.xpath("string(//aside)")
    assert "Power first <v2>" in side and "2026-01-02 03:04 UTC" in side


def test_one_feature_per_region(national):
    out, ranking = national
    layers = geojson_layers(out.read_text(encoding="utf-8"))
    feats = layers["regions"]["features"]
    assert len(feats) == len(ranking)
    assert sorted(f["properties"]["code"] for f in feats) == sorted(ranking["code"])
    for f in feats:
        for ring in f["geometry"]["coordinates"]:
            for lon, lat in ring:
                assert -9 < lon < 3 and 49 < lat < 61  # reprojected to WGS84
                assert round(lon, 5) == lon and round(lat, 5) == lat


def test_popups_show_scores_ranks_and_breakdown(national):
    out, ranking = national
    feats = {
        f["properties"]["code"]: f["properties"]
        for f in geojson_layers(out.read_text(encoding="utf-8"))["regions"]["features"]
    }
    for _, r in ranking.iterrows():
        p = feats[r["code"]]
        assert f"{r['score']:.3f}" in p["popup"]
        assert "Grid capacity headroom" in p["popup"] and " MW" in p["popup"]
        if r["eligible"]:
            suffix = " &#183; not deliverable (a gate failed)" if r["deliverable"] == "fail" else ""
            assert p["tooltip"].endswith(f"rank {int(r['rank'])}{suffix}")
            assert f"Rank <b>{int(r['rank'])}</b>" in p["popup"] and "90% interval" in p["popup"]
            assert p["_s"]["fillColor"].startswith("#")
        else:
            assert "Excluded: National park" in p["popup"]
            assert p["_s"]["fillColor"] == "url(#gz-hatch)"
        assert "Chance of ranking in the top 10" in p["popup"]


def test_popups_and_sidebar_show_the_score_by_section(national):
    import re

    out, ranking = national
    page = out.read_text(encoding="utf-8")
    feats = {f["properties"]["code"]: f["properties"] for f in geojson_layers(page)["regions"]["features"]}
    for _, r in ranking.iterrows():
        pop = lxml_html.fromstring(feats[r["code"]]["popup"])
        line = pop.xpath("string(//div[contains(@class, 'gz-secs')])")
        got = {k: float(v) for k, v in re.findall(r"(\w[\w. ]*?) ([0-9.]+) \(\d+%\)", line)}
        assert got == pytest.approx(
            {"Power": r["section_power"], "Conn.": r["section_connectivity"], "Land": r["section_land"]},
            abs=5e-4,
        )
        assert sum(got.values()) == pytest.approx(r["score"], abs=2e-3)
    doc = lxml_html.fromstring(page)
    side = doc.xpath("//aside")[0]
    tables = side.xpath(".//table[contains(@class, 'gz-secs')]")
    assert len(tables) == 1 and len(tables[0].xpath("./tbody/tr")) == 10
    assert "Top 10: score by section" in side.text_content()


def test_section_labels_are_escaped(tmp_path):
    ranking = demo.ranking_frame(4, hostile=False)
    out = render_national_map(
        ranking,
        out_path=tmp_path / "m.html",
        criteria=demo.CRITERIA,
        sections=[{"name": "power", "label": HOSTILE[0], "weight": 0.5}],
    )
    page = out.read_text(encoding="utf-8")
    assert_no_markup_injection(page)
    side = lxml_html.fromstring(page).xpath("//aside")[0]
    heads = side.xpath(".//table[contains(@class, 'gz-secs')]//th/@title")
    assert any(HOSTILE[0] in h for h in heads)  # the section label, escaped into a title


def test_deprivation_rank_and_within_nation_caveat(tmp_path):
    ranking = demo.ranking_frame(6, hostile=False)
    ranking["deprivation_percentile"] = np.linspace(0, 1, 6)
    ranking["deprivation_rank"] = [f"{6 - i} of 32 in Scotland" for i in range(6)]
    ranking.loc[0, "deprivation_rank"] = HOSTILE[1]
    ranking["contrib_dep"] = 0.01
    crit = demo.CRITERIA + [
        {"name": "dep", "label": "Deprivation", "indicator": "deprivation_percentile", "weight": 1}
    ]
    out = render_national_map(ranking, out_path=tmp_path / "m.html", criteria=crit)
    page = out.read_text(encoding="utf-8")
    assert_no_markup_injection(page)
    pops = {
        f["properties"]["code"]: f["properties"]["popup"] for f in geojson_layers(page)["regions"]["features"]
    }
    assert "3 of 32 in Scotland" in pops[ranking.loc[3, "code"]]
    side = lxml_html.fromstring(page).xpath("string(//aside)")
    assert "not comparable across nations" in side
    plain = render_national_map(ranking, out_path=tmp_path / "p.html", criteria=demo.CRITERIA)
    assert "not comparable across nations" not in plain.read_text(encoding="utf-8")


def test_every_provenance_attribution_and_nc_notice(national):
    out, _ = national
    page = out.read_text(encoding="utf-8")
    doc = lxml_html.fromstring(page)
    text = doc.xpath("string(//aside)")
    for p in demo.PROVENANCE + [HOSTILE_PROV]:
        assert p["attribution"] in text
        assert p["title"] in text
    notice = doc.xpath("string(//div[contains(@class,'gz-warn')])")
    assert "contains data licensed for non-commercial use only" in notice
    assert "TeleGeography submarine cables" in notice
    # a javascript: licence URL is not turned into a link
    assert not doc.xpath("//a[starts-with(@href,'javascript')]")


def test_no_notice_without_non_commercial_data(tmp_path):
    out = render_national_map(
        demo.ranking_frame(4),
        out_path=tmp_path / "m.html",
        criteria=demo.CRITERIA,
        provenance=[p for p in demo.PROVENANCE if not p["non_commercial"]],
    )
    assert "non-commercial use only" not in out.read_text(encoding="utf-8")


def test_stale_datasets_are_flagged_in_the_sources(tmp_path):
    stale = {
        "key": "tec",
        "title": "TEC register <b>",
        "publisher": "NESO",
        "licence": "NESO ODL",
        "attribution": "Supported by NESO",
        "vintage": "2 September 2025",
        "released": "2025-09-02",
        "release_cadence": "monthly",
        "age_days": 455,
        "stale": True,
        "non_commercial": False,
    }
    fresh = {**stale, "key": "fes", "title": "FES 2024", "stale": False, "age_days": 10}
    out = render_national_map(
        demo.ranking_frame(4), out_path=tmp_path / "m.html", criteria=demo.CRITERIA, provenance=[stale, fresh]
    )
    doc = lxml_html.fromstring(out.read_text(encoding="utf-8"))
    notice = doc.xpath("string(//details[contains(@class,'gz-warn')])")
    summary = doc.xpath("string(//details[contains(@class,'gz-warn')]/summary)")
    assert (
        summary.startswith("Stale data: 1 dataset older") and "TEC register" not in summary
    )  # one short line
    assert "TEC register <b>" in notice and "FES 2024" not in notice  # the list opens on demand
    items = [li.text_content() for li in doc.xpath("//ul[contains(@class,'gz-src')]/li")]
    tec = next(t for t in items if t.startswith("TEC register"))
    assert "stale: released 2025-09-02, 455 days old; the publisher releases monthly" in tec
    assert "stale" not in next(t for t in items if t.startswith("FES 2024"))


def test_hostile_strings_are_escaped(national):
    out, _ = national
    page = out.read_text(encoding="utf-8")
    assert_no_markup_injection(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # rendered as text (sources list)
    layers = geojson_layers(page)
    names = [f["properties"]["tooltip"] for f in layers["regions"]["features"]]
    assert any(n.startswith("&lt;img src=x onerror=alert(1)&gt;") for n in names)
    assert any(n.startswith("&quot;&gt;&lt;script&gt;") for n in names)
    for lay in layers.values():
        for f in lay["features"]:
            for k in ("tooltip", "popup", "name", "label"):
                v = f["properties"].get(k) or ""
                assert "<img" not in v and "<script" not in v, (k, v)
    app_tips = [
        f["properties"]["tooltip"]
        for lay in layers.values()
        for f in lay["features"]
        if "&lt;img" in f["properties"].get("tooltip", "") and "rank" in f["properties"]["tooltip"]
    ]
    assert app_tips


def test_layers_and_legend(national):
    out, _ = national
    page = out.read_text(encoding="utf-8")
    for label in (
        "Substations 400 kV",
        "Substations 275 kV",
        "Substations 132 kV and below / unknown",
        "Contracted connections (TEC register)",
        "Subsea cable landing points",
        "Internet exchanges",
        "Protected areas",
        "Transmission circuits",
        "Candidate sites (applications)",
        "Local authorities (score)",
    ):
        assert label in page, label
    doc = lxml_html.fromstring(page)
    legend = doc.xpath("string(//div[contains(@class,'gz-legend')])")
    assert "Overall score" in legend and "0–1" in legend and "Excluded" in legend
    assert "viridis" in legend


def test_size_budget_374_regions(tmp_path):
    ranking = demo.ranking_frame(374, n_per_edge=200)
    out = render_national_map(
        ranking,
        out_path=tmp_path / "big.html",
        criteria=demo.CRITERIA,
        overlays=demo.overlays(),
        provenance=demo.PROVENANCE,
    )
    size = out.stat().st_size
    assert size < 5_000_000, size
    assert len(geojson_layers(out.read_text(encoding="utf-8"))["regions"]["features"]) == 374


def test_rejects_non_bng_input(tmp_path):
    ranking = demo.ranking_frame(3).to_crs("EPSG:4326")
    with pytest.raises(ValueError, match="27700"):
        render_national_map(ranking, out_path=tmp_path / "x.html", criteria=demo.CRITERIA)


# ------------------------------------------------------------------ assessment report


@pytest.fixture(scope="module")
def assessment_report(tmp_path_factory):
    assessment, checks, rejected = demo.assessment_frames(5)
    out_dir = tmp_path_factory.mktemp("assess")
    ov = {k: v for k, v in demo.overlays().items() if k != "applications"}
    index = render_assessment_report(
        assessment,
        out_dir=out_dir,
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays=ov,
        provenance=demo.PROVENANCE,
        profile_title="AIGZ",
        generated_at="2026-01-02",
    )
    return index, assessment, checks, rejected


def test_assessment_index(assessment_report):
    index, assessment, _, rejected = assessment_report
    assert index.name == "index.html"
    page = index.read_text(encoding="utf-8")
    assert_no_markup_injection(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    doc = lxml_html.fromstring(page)
    rows = doc.xpath("//table[contains(@class,'gz-sortable')]/tbody/tr")
    assert len(rows) == len(assessment)
    links = doc.xpath("//table[contains(@class,'gz-sortable')]//a/@href")
    assert len(links) == len(assessment)
    for href in links:
        target = (index.parent / href).resolve()
        assert target.is_file() and target.parent == (index.parent / "sites").resolve()
    text = doc.text_content()
    for _, r in rejected.iterrows():
        assert r["reason"] in text
    assert "rows rejected" in text and "non-commercial use only" in text
    assert len(geojson_layers(page)["sites"]["features"]) == len(assessment)
    assert "gz-sortable" in page and "aria-sort" in page  # the sorting script


def test_assessment_index_shows_claims_below_the_dsit_minimum(tmp_path):
    assessment, checks, rejected = demo.assessment_frames(3)
    assessment = assessment.assign(
        dsit_minimum=["meets", "below (300 MW, 2033)", "unknown (no MW or year claimed)"]
    )
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path,
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays={},
        provenance=demo.PROVENANCE,
        generated_at="2026-01-02",
    )
    doc = lxml_html.fromstring(index.read_text(encoding="utf-8"))
    rows = doc.xpath("//table[contains(@class,'gz-sortable')]/tbody/tr")
    flagged = [
        " ".join(r.text_content().split()) for r in rows if "below the DSIT minimum" in r.text_content()
    ]
    assert len(flagged) == 1 and "below the DSIT minimum (300 MW, 2033)" in flagged[0]
    cards = [" ".join(c.text_content().split()) for c in doc.xpath("//div[@class='gz-card']")]
    assert "1below the DSIT minimum (500 MW by 2030)" in cards


def test_site_pages(assessment_report):
    index, assessment, checks, _ = assessment_report
    sites = sorted((index.parent / "sites").iterdir())
    assert len(sites) == len(assessment)
    for p in sites:
        page = p.read_text(encoding="utf-8")
        assert_no_markup_injection(page)
        doc = lxml_html.fromstring(page)
        text = doc.text_content()
        assert "Nearest transmission node or GSP" in text and " km" in text
        for status in ("present", "not checked", "pass", "missing"):
            assert status in text
        assert "Grid capacity headroom" in text and "DSIT criteria" in text
        layers = geojson_layers(page)
        assert len(layers["nearest_lines"]["features"]) == 3
        labels = [f["properties"]["label"] for f in layers["nearest_labels"]["features"]]
        assert any(" km" in lab for lab in labels)
    first = (index.parent / "sites" / f"{safe_id(assessment.index[0])}.html").read_text(encoding="utf-8")
    assert "<td>Drax &lt;400kV&gt;</td><td class='num'>6.3 km</td>" in first
    labels = [f["properties"]["label"] for f in geojson_layers(first)["nearest_labels"]["features"]]
    assert "Drax &lt;400kV&gt;: 6.3 km" in labels


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        "a/b\\c",
        "<img src=x onerror=alert(1)>",
        "..",
        "",
        "CON",
        " spaced id ",
        "é-ü",
        "x" * 300,
    ],
)
def test_safe_id(raw):
    s = safe_id(raw)
    assert s and len(s) <= 64 and not s.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "-_.") for c in s)
    assert ".." not in s and s.upper() != "CON"


def test_safe_id_unique():
    taken: set[str] = set()
    assert len({safe_id(x, taken) for x in ["a/b", "a b", "a-b", "A-B"]}) == 4


def test_cdn_page_links_folium_cdn_and_carries_a_hidden_banner(tmp_path):
    page = render_national_map(
        demo.ranking_frame(3), out_path=tmp_path / "m.html", criteria=demo.CRITERIA
    ).read_text(encoding="utf-8")
    doc = lxml_html.fromstring(page)
    srcs = doc.xpath("//script/@src")
    assert any(s.startswith("https://") and s.endswith("leaflet.js") for s in srcs), srcs
    banner = doc.xpath("//div[@id='gz-nolib']")[0]
    assert banner.get("hidden") is not None  # shown by the page's script only if Leaflet fails to load
    assert "needs the network" in banner.text_content() and "--cdn" in banner.text_content()
    # the page's own CSS comes after the CDN stylesheets, so it wins
    head = lxml_html.tostring(doc.xpath("//head")[0], encoding="unicode")
    assert head.index("bootstrap.min.css") < head.index(".gz-side")


def test_unbundled_page_shows_the_reason_in_a_visible_banner(tmp_path):
    libs = MapLibraries.cdn(problem="npm_leaflet_1_9_3: not in the cache (offline mode)")
    page = render_national_map(
        demo.ranking_frame(3), out_path=tmp_path / "m.html", criteria=demo.CRITERIA, libraries=libs
    ).read_text(encoding="utf-8")
    banner = lxml_html.fromstring(page).xpath("//div[@id='gz-nolib']")[0]
    assert banner.get("hidden") is None
    text = banner.text_content()
    assert "The map needs the network." in text and "not in the cache (offline mode)" in text
    assert "GROWTH_ZONES_MIRROR" in text and "works without it" in text


def test_import_does_not_need_folium():
    code = "import sys, growth_zones.report; assert 'folium' not in sys.modules, 'folium imported eagerly'"
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_escape_helpers():
    from growth_zones.report._html import esc, fmt_num

    assert esc("`${alert(1)}` \\u") == "&#96;&#36;&#123;alert(1)&#125;&#96; &#92;u"
    assert esc("{{ 7*7 }}") == "&#123;&#123; 7*7 &#125;&#125;"  # never a jinja expression
    assert esc(None) == "" and esc(float("nan")) == ""
    assert fmt_num(float("nan"), "km") == "—" and fmt_num(12.34, "km") == "12.3 km"
    assert _html.unescape(esc('"><x>')) == '"><x>'


SHARED_LAD = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "boundaries" / "lad_may2023_uk_buc.geojson"
)


@pytest.mark.data
def test_real_boundaries_national_map_size(tmp_path):
    """361 real local-authority boundaries (ONS BUC) with overlays stay well inside the 5 MB budget."""
    if not SHARED_LAD.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_LAD} is missing on CI")
        pytest.skip(f"real boundaries not available at {SHARED_LAD}")
    import geopandas as gpd

    lad = gpd.read_file(SHARED_LAD).to_crs("EPSG:27700")
    synth = demo.ranking_frame(len(lad), hostile=True)
    ranking = synth.set_geometry(lad.geometry.values)
    ranking["code"], ranking["name"] = lad["LAD23CD"].values, lad["LAD23NM"].values
    out = render_national_map(
        ranking,
        out_path=tmp_path / "real.html",
        criteria=demo.CRITERIA,
        overlays=demo.overlays(),
        provenance=demo.PROVENANCE,
    )
    assert out.stat().st_size < 5_000_000
    feats = geojson_layers(out.read_text(encoding="utf-8"))["regions"]["features"]
    assert len(feats) == len(lad) == 361


def test_script_json_cannot_close_its_script():
    from growth_zones.report._map import script_json

    obj = {"popup": "<div>a</div></SCRIPT><!-- <script>b"}
    s = script_json(obj)
    assert "</" not in s and "<!--" not in s and "<script" not in s.lower()
    assert json.loads(s) == obj


def test_template_syntax_in_inputs_is_shown_never_evaluated(tmp_path):
    """branca compiles every rendered map script as a jinja template again: '{{ ... }}' in an
    application's fields must come out as text, not be evaluated (that would run code)."""
    evil = "Campus {{ 7*7 }} {% if 1 %}X{% endif %} {# c"
    probe = "{{ cycler.__init__.__globals__.os.getcwd() }}"
    assessment, checks, rejected = demo.assessment_frames(3)
    assessment.loc[assessment.index[0], "name"] = evil
    assessment.loc[assessment.index[0], "applicant"] = probe
    checks.loc[0, "detail"] = "{{ 6*7 }}"
    rejected.loc[0, "reason"] = probe
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path / "r",
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays=demo.overlays(),
    )
    ranking = demo.ranking_frame(4)
    ranking.loc[0, "name"] = evil
    national = render_national_map(ranking, out_path=tmp_path / "n.html", criteria=demo.CRITERIA)
    pages = [index, national, index.parent / "briefs.html", *(index.parent / "sites").glob("*.html")]
    cwd = os.getcwd()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert cwd not in html, page.name
        assert "Campus 49" not in html and "Campus {{" not in html, page.name
        texts = lxml_html.fromstring(html).text_content() + "".join(
            _html.unescape(json.dumps(lay)) for lay in geojson_layers(html).values()
        )
        if "7*7" in html:  # wherever the name appears, it is the literal text
            assert "{{ 7*7 }}" in texts, page.name
    site = (index.parent / "sites" / f"{safe_id(assessment.index[0])}.html").read_text(encoding="utf-8")
    text = lxml_html.fromstring(site).text_content()
    assert evil in text and probe in text and "{{ 6*7 }}" in text


def test_deliverability_and_designations_are_shown_and_escaped(national, assessment_report):
    """Gate status in words next to the score, the ranking rule stated, the judged DSIT test and
    the applicant's claims labelled as claims; every string escaped."""
    out, ranking = national
    page = out.read_text(encoding="utf-8")
    regions = {f["properties"]["code"]: f for f in geojson_layers(page)["regions"]["features"]}
    failed = [regions[r["code"]] for _, r in ranking.iterrows() if r["deliverable"] == "fail"]
    assert failed and all("not deliverable: a gate failed" in f["properties"]["popup"] for f in failed)
    assert all("(gate: within 10 km)" in f["properties"]["popup"] for f in failed)
    assert "Ranked by deliverability first" in lxml_html.fromstring(page).text_content()
    index, assessment, _, _ = assessment_report
    doc = lxml_html.fromstring(index.read_text(encoding="utf-8"))
    heads = [h.text_content().strip() for h in doc.xpath("//table[contains(@class,'gz-sortable')]/thead//th")]
    assert heads[:2] == ["Rank", "Deliverable"]
    assert "deliverable (every gate passed)" in doc.text_content()
    first = (index.parent / "sites" / f"{safe_id(assessment.index[0])}.html").read_text(encoding="utf-8")
    assert_no_markup_injection(first)
    text = lxml_html.fromstring(first).text_content()
    assert "500 MW by 2030, judged on grid evidence" in text and "nearest 400 kV node Wylfa 14.4 km" in text
    assert "(applicant's claim, not verified)" in text
    assert "62% inside Eryri National Park: major development only in exceptional circumstances" in text
    assert "Nearest transmission node" in text


def test_gate_status_is_drawn_on_the_maps_and_counted(national, assessment_report):
    """SF3: areas (and sites) that fail a gate are outlined over their score colour, unknown ones
    dashed, with a legend entry; the page states the counts and the ranking rule at the top; the
    overview table shows each status with its reasons."""
    out, ranking = national
    page = out.read_text(encoding="utf-8")
    feats = {f["properties"]["code"]: f["properties"] for f in geojson_layers(page)["regions"]["features"]}
    for _, r in ranking.iterrows():
        style = feats[r["code"]]["_s"]
        if r["eligible"] and r["deliverable"] == "fail":
            assert style["color"] == "#8a1c00" and style["weight"] > 2
            assert style["fillColor"].startswith("#")  # the score stays visible under the outline
        else:
            assert style["color"] == "#ffffff"
    doc = lxml_html.fromstring(page)
    side = doc.xpath("//aside")[0].text_content()
    ok = ranking["eligible"].astype(bool)
    n_fail = int((ok & (ranking["deliverable"] == "fail")).sum())
    n_pass = int((ok & (ranking["deliverable"] == "pass")).sum())
    assert (
        f"Deliverability of the local authorities not excluded: {n_pass} pass every gate · {n_fail} fail a gate"
        in side
    )
    assert "Not deliverable: a gate failed (red outline; ranked after every deliverable one)" in side
    assert side.index("Ranked by deliverability first") < side.index("Legend")  # stated at the top
    index, assessment, _, _ = assessment_report
    doc = lxml_html.fromstring(index.read_text(encoding="utf-8"))
    cards = " ".join(c.text_content() for c in doc.xpath("//div[contains(@class,'gz-card')]"))
    for status, words in (("fail", "not deliverable (a gate failed)"), ("unknown", "deliverability unknown")):
        assert f"{int((assessment['deliverable'] == status).sum())}{words}" in cards
    rows = doc.xpath("//table[contains(@class,'gz-sortable')]/tbody/tr")
    by_id = {tr.xpath("./td[3]")[0].text_content(): tr for tr in rows}
    for app_id, r in assessment.iterrows():
        cell = by_id[str(app_id)].xpath("./td[2]")[0]
        assert cell.get("data-sort") == {"pass": "0", "unknown": "1", "fail": "2"}[r["deliverable"]]
        assert r["deliverable"] in cell.text_content()
    legend = doc.xpath("//div[contains(@class,'gz-legend')]")[0].text_content()
    assert "Deliverability unknown: a gate could not be checked (dashed outline)" in legend

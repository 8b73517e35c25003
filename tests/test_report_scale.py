"""Multi-site reports that scale: 1,000 sites share one copy of the libraries, base map and context
layers, so the report folder stays far below 100 MB (the time goal, under 60 s, lives in
benchmarks/bench_report.py: no timed tests here). Display simplification keeps to its stated
tolerance, checked against the original geometry with shapely's Hausdorff distance."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from growth_zones.report import MapLibraries, render_assessment_report
from growth_zones.report._map import BASEMAP_TOLERANCE_M
from growth_zones.report.assessment import CONTEXT_TOLERANCE_M, SITE_TOLERANCE_M
from tests.support import report_demo as demo

lxml_html = pytest.importorskip("lxml.html")
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
COORD_ERROR_M = 1.2  # 5-decimal rounding of lon/lat: at most ~0.6 m per axis at GB latitudes


def _folder_bytes(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.mark.slow
def test_a_1000_site_report_stays_small(tmp_path):
    assessment, checks, rejected = demo.assessment_frames(1000, hostile=False)
    # a realistic shared payload: the libraries' size (about 0.84 MB) and the demo context layers
    libs = MapLibraries(
        mode="bundled",
        js=(("leaflet", "window.L = {};" + "/*pad*/" * 60_000),),
        css=(("leaflet_css", "a{}"),),
    )
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path / "report",
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays={**demo.overlays(n_subs=800), **demo.basemap(350)},
        provenance=demo.PROVENANCE,
        libraries=libs,
    )
    root = index.parent
    pages = sorted((root / "sites").glob("*.html"))
    assert len(pages) == 1000
    total = _folder_bytes(root)
    print(
        f"\n1,000-site report: {total / 1e6:.1f} MB, largest page {max(p.stat().st_size for p in pages)} bytes"
    )
    assert total < 100_000_000
    assert max(p.stat().st_size for p in pages) < 60_000
    # the libraries and the shared layers exist once, and every page points at them
    assert len(list(root.rglob("maplibs.js"))) == 1 and len(list(root.rglob("context.js"))) == 1
    for page in pages[::97]:
        html = page.read_text(encoding="utf-8")
        assert '<script src="../assets/maplibs.js">' in html and "/*pad*/" not in html
    briefs = lxml_html.fromstring((root / "briefs.html").read_text(encoding="utf-8"))
    assert len(briefs.xpath("//section[contains(@class,'gz-brief')]")) == 1000


def _bng(geom_json):
    geom = shapely.geometry.shape(geom_json)
    return shapely.transform(geom, lambda c: np.column_stack(TO_BNG.transform(c[:, 0], c[:, 1])))


def _hausdorff_by_index(shown, originals):
    return [shapely.hausdorff_distance(_bng(f["geometry"]), g) for f, g in zip(shown, originals, strict=True)]


def test_display_simplification_keeps_to_its_stated_tolerance(tmp_path):
    assessment, checks, rejected = demo.assessment_frames(5)
    base = demo.basemap(24)
    overlays = {**demo.overlays(), **base}
    index = render_assessment_report(
        assessment,
        out_dir=tmp_path / "r",
        checks=checks,
        rejected=rejected,
        criteria=demo.CRITERIA,
        overlays=overlays,
    )
    html = index.read_text(encoding="utf-8")
    # site boundaries (inline in the overview)
    i = html.index('L.geoJson({"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id"')
    sites, _ = json.JSONDecoder().raw_decode(html, i + len("L.geoJson("))
    d = _hausdorff_by_index(sites["features"], assessment.geometry.values)
    assert max(d) <= SITE_TOLERANCE_M + COORD_ERROR_M and min(d) > 0  # simplified, within tolerance
    # the base map's council boundaries and the context layers (shared files)
    text = (index.parent / "assets" / "basemap.js").read_text(encoding="utf-8")
    basemap = json.loads(text[text.index("{") : text.rindex("}") + 1])
    d = _hausdorff_by_index(basemap["councils"]["features"], base["regions"].geometry.values)
    assert max(d) <= BASEMAP_TOLERANCE_M + COORD_ERROR_M
    text = (index.parent / "assets" / "context.js").read_text(encoding="utf-8")
    context = json.loads(text[text.index("{") : text.rindex("}") + 1])
    d = _hausdorff_by_index(
        context["protected_areas"]["features"], overlays["protected_areas"].geometry.values
    )
    assert max(d) <= CONTEXT_TOLERANCE_M + COORD_ERROR_M
    # and each page says which tolerances it used
    note = lxml_html.fromstring(html).text_content()
    assert re.search(
        rf"site boundaries {SITE_TOLERANCE_M:g} m, context layers {CONTEXT_TOLERANCE_M:g} m", note
    )
    assert f"coast and council boundaries {BASEMAP_TOLERANCE_M:g} m" in note

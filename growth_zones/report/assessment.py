"""The assessment report: an overview page of all applications, one page per application and a
printable pack of one-page site briefs, sharing one ``assets/`` folder.

Layout of ``out_dir``::

    index.html            overview: map of every site, sortable table, rejected rows
    sites/<id>.html       one page per site (map, every check, scores; prints as its A4 brief)
    briefs.html           every site brief, one A4 page each, in rank order (print to PDF)
    assets/maplibs.js     the map libraries, once (bundled mode; see report.assets)
    assets/maplibs.css
    assets/report.css     the pages' CSS
    assets/basemap.js     GB land and council boundaries (the offline base map)
    assets/context.js     the context layers (grid, connectivity, protected areas), once

so a page costs only its own data: 1,000 sites make a report of tens of MB, not a GB. Display
tolerances (BNG metres): site boundaries :data:`SITE_TOLERANCE_M`, context layers
:data:`CONTEXT_TOLERANCE_M` (doubled until ``context.js`` fits :data:`CONTEXT_BUDGET_BYTES`), base
map :data:`~growth_zones.report._map.BASEMAP_TOLERANCE_M`.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

from ._banner import measured_where_html, missing_checks_banner
from ._geo import bng_point_to_lonlat, display_geometries, feature_collection
from ._html import (
    eligibility,
    eligibility_counts,
    eligibility_text,
    esc,
    fmt_num,
    is_missing,
    safe_id,
    score_colour,
    text,
    truthy,
)
from ._map import (
    HATCH_ID,
    BaseMap,
    Shared,
    add_applications,
    add_overlay_specs,
    bounds_of,
    council_collection,
    finish_page,
    land_collection,
    layer,
    new_map,
    overlay_specs,
    provenance_html,
    raw_html,
    score_legend_html,
    script_json,
    shared_css,
    swatch,
)
from .brief import (
    BRIEF_CSS,
    FIT_JS,
    SITE_PAGE_PRINT_CSS,
    SUM_NOTE,
    briefs_page,
    score_rows,
    site_brief,
    sources_line,
)
from .national import (
    DELIVERABLE_STROKE,
    RANKING_NOTE,
    criteria_table,
    deliverability_legend_rows,
    deliverable_html,
    deprivation_note,
)

SITE_TOLERANCE_M = 5.0
"""Display simplification of site boundaries (BNG metres)."""
CONTEXT_TOLERANCE_M = 20.0
"""Display simplification of the shared context layers (protected areas, circuits), BNG metres."""
CONTEXT_BUDGET_BYTES = 20_000_000
"""``assets/context.js`` size above which the context tolerance is doubled (up to 4 times)."""
SITE_VIEW_RADIUS_M = 60_000.0
"""A site page zooms to the site plus the nearest facilities within this distance."""

STATUS_BADGE = {  # status -> (symbol, css class, words); symbol + words so colour is never the only cue
    "pass": ("&#10003;", "ok", "pass"),
    "present": ("&#10003;", "ok", "present"),
    "fail": ("&#10007;", "bad", "fail"),
    "absent": ("&#10007;", "bad", "absent"),
    "missing": ("?", "warn", "missing"),
    "unknown": ("?", "warn", "unknown"),
    "unverified": ("?", "warn", "unverified"),
    "claimed": ("&#9675;", "na", "claimed"),
    "not claimed": ("&#8211;", "na", "not claimed"),
    "not checked": ("&#8211;", "na", "not checked"),
}
NEAREST = [  # (prefix, label, distance column, colour)
    ("substation", "Nearest transmission node or GSP", "dist_substation_km", "#D55E00"),
    ("transmission_node", "Nearest transmission node", "dist_transmission_node_km", "#CC79A7"),
    ("ix", "Nearest internet exchange", "dist_ix_km", "#000000"),
    ("landing", "Nearest cable landing point", "dist_landing_km", "#0072B2"),
]
DSIT_FIELDS = [
    ("land_sufficient", "Sufficient land for the campus"),
]
SITE_FACTS = [
    ("site_area_ha", "Site area", "ha"),
    ("substation_voltage_kv", "Nearest substation voltage", "kV"),
    ("dist_substation_km", "Distance to substation", "km"),
    ("dist_ix_km", "Distance to internet exchange", "km"),
    ("dist_landing_km", "Distance to cable landing", "km"),
    ("rtt_london_ms", "Round trip to London", "ms"),
    ("population_50km", "Population within 50 km", "people"),
]

PAGE_CSS = """
html, body { height: auto !important; }
body { background: #f6f7f8; color: #1a1a1a; }
.gz-page { max-width: 1200px; margin: 0 auto; padding: 16px 20px 40px; }
.gz-page h1 { font-size: 24px; margin: 4px 0 6px; }
.gz-page h2 { font-size: 18px; margin: 24px 0 8px; }
.gz-page .folium-map { position: relative !important; height: 58vh !important; min-height: 380px;
  border: 1px solid #bbb; }
.gz-cards { display: flex; gap: 10px; flex-wrap: wrap; margin: 10px 0; }
.gz-card { background: #fff; border: 1px solid #d0d0d0; border-radius: 4px; padding: 8px 14px; min-width: 120px; }
.gz-card b { display: block; font-size: 22px; }
.gz-card-bad { border-color: #8a1c00; } .gz-card-bad b { color: #8a1c00; }
.gz-card-warn { border-color: #b36b00; } .gz-card-warn b { color: #6b4e00; }

.gz-card.gz-card-unk { border-color: #b58900; background: #fff8e1; }
table.gz-table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
table.gz-table th, table.gz-table td { border-bottom: 1px solid #e1e1e1; padding: 5px 8px; text-align: left;
  vertical-align: top; }
table.gz-table td.num, table.gz-table th.num { text-align: right; }
table.gz-table th button { all: unset; cursor: pointer; font-weight: 700; }
table.gz-table th button:focus { outline: 2px solid #0072B2; }
table.gz-table th[aria-sort="ascending"] button::after { content: " \\25B2"; }
table.gz-table th[aria-sort="descending"] button::after { content: " \\25BC"; }
.gz-dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%; border: 1px solid #333;
  vertical-align: -1px; margin-right: 4px; }
.gz-map-wrap { display: flex; flex-direction: column; }
.gz-legend-inline { background: #fff; border: 1px solid #d0d0d0; padding: 8px 12px; margin-top: 12px; }
.gz-legend-inline .gz-legend { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); column-gap: 16px; }
.gz-legend-inline .gz-ltitle, .gz-legend-inline .gz-ramp, .gz-legend-inline .gz-ticks,
.gz-legend-inline .gz-legend > .gz-note { grid-column: 1 / -1; }
header.gz-page, section.gz-page { width: 100%; box-sizing: border-box; }
"""

SORT_JS = """
<script>
(function () {
  document.querySelectorAll("table.gz-sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      var btn = th.querySelector("button");
      if (!btn) { return; }
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) {
          var c = r.cells[col]; var v = c.getAttribute("data-sort"); if (v === null) { v = c.textContent; }
          var n = parseFloat(v); return (v !== "" && !isNaN(n) && isFinite(v)) ? n : v.toLowerCase();
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (x === "" && y !== "") { return 1; } if (y === "" && x !== "") { return -1; }
          if (typeof x !== typeof y) { x = String(x); y = String(y); }
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
</script>
"""


def _badge(status: Any) -> str:
    s = text(status).strip().lower()
    sym, cls, words = STATUS_BADGE.get(s, ("?", "warn", s or "unknown"))
    return f'<span class="gz-badge {cls}">{sym} {esc(words)}</span>'


def _num_attr(v: Any) -> str:
    if is_missing(v):
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return esc(text(v))
    return "" if math.isnan(f) else repr(f)


_DELIVERABLE_ORDER = {"pass": 0, "unknown": 1, "fail": 2}


def _deliverable_cell(r: Any) -> str:
    """The gate status as a badge (symbol and words) with the reasons under it; sorts pass,
    unknown, fail."""
    status = text(r.get("deliverable"))
    badge = {"pass": "pass", "fail": "fail", "unknown": "unknown"}.get(status, status)
    reasons = text(r.get("gate_reasons"))
    return (
        f"<td data-sort='{_DELIVERABLE_ORDER.get(status, 3)}'>{_badge(badge)}"
        + (f"<div class='gz-note'>{esc(reasons)}</div>" if reasons and status != "pass" else "")
        + "</td>"
    )


def _eligible_text(r: Any) -> str:
    return eligibility_text(r)


def _eligible_class(r: Any) -> str:
    return {"excluded": "gz-excl", "unknown": "gz-unk"}.get(eligibility(r), "gz-note")


def _site_features(
    assessment: Any, slugs: dict[str, str] | None, link_prefix: str, geoms: Any = None
) -> dict[str, Any]:
    """Site polygons with score fill, tooltip and popup; ``geoms``: their display geometries when
    already computed (one reprojection for the whole report, not one per page)."""
    if geoms is None:
        geoms = display_geometries(assessment, "assessment", SITE_TOLERANCE_M)
    props = []
    for app_id, r in assessment.iterrows():
        eligible = eligibility(r) != "excluded"
        fill = score_colour(r.get("score")) if eligible else f"url(#{HATCH_ID})"
        nm = text(r.get("name")) or text(app_id)
        rank = r.get("rank")
        tip = esc(nm) + " &#8212; " + (f"rank {int(rank)}" if not is_missing(rank) else "not ranked")
        link = ""
        if slugs is not None:
            link = f'<p><a href="{esc(link_prefix + slugs[text(app_id)])}.html">Open the site page &rarr;</a></p>'
        props.append(
            {
                "id": esc(text(app_id)),
                "name": esc(nm),
                "score": None if is_missing(r.get("score")) else round(float(r.get("score")), 4),
                "_s": {
                    "color": "#000000",
                    "weight": 2,
                    "fillColor": fill,
                    "fillOpacity": 0.75,
                    **({} if not eligible else DELIVERABLE_STROKE.get(text(r.get("deliverable")), {})),
                },
                "tooltip": tip,
                "popup": (
                    f"<div class='gz-pop'><h4>{esc(nm)}</h4><div class='gz-sub'>{esc(text(app_id))}</div>"
                    f"<div class='gz-big'>Score <b>{fmt_num(r.get('score'), digits=3)}</b> &#183; "
                    f"rank {fmt_num(int(rank)) if not is_missing(rank) else '—'}</div>"
                    f"<div class='gz-note'>{esc(_eligible_text(r))}</div>"
                    + (
                        f"<div class='gz-note'>Deliverable: {esc(text(r.get('deliverable')))}</div>"
                        if text(r.get("deliverable"))
                        else ""
                    )
                    + f"{link}</div>"
                ),
            }
        )
    fc = feature_collection(geoms, props)
    fc["gz_layer"] = "sites"
    return fc


def _apps_points(assessment: Any) -> Any:
    pts = assessment.copy()
    pts["id"] = [text(i) for i in assessment.index]
    return pts


def _nearest_layers(m: Any, near: list[Any], centroid: Any, view_r: float) -> list[str]:
    """Lines from the site centroid to each nearest facility with a distance label (placed along
    the line, at most ``0.45 * view_r`` from the site, so it stays in view)."""
    from ._geo import _transformer

    c = _transformer().transform(centroid.x, centroid.y)
    start = [round(c[1], 5), round(c[0], 5)]
    facts = []
    feats_lines, feats_pts, feats_labels = [], [], []
    for label, nm, dist, col, ex, ey, _km in near:
        end = bng_point_to_lonlat(ex, ey)
        if end is None:
            continue
        lab = f"{esc(nm)}: {dist}"
        feats_lines.append(
            {
                "type": "Feature",
                "properties": {"_s": {"color": col, "weight": 3, "dashArray": "6 5", "opacity": 0.9}},
                "geometry": {"type": "LineString", "coordinates": [start[::-1], [end[1], end[0]]]},
            }
        )
        # label on the line, near the site (so it stays in view when the facility is far away)
        full = math.hypot(ex - centroid.x, ey - centroid.y)
        frac = 0.5 if full <= 0 else min(0.5, 0.45 * view_r / full)
        lx, ly = _transformer().transform(
            centroid.x + (ex - centroid.x) * frac, centroid.y + (ey - centroid.y) * frac
        )
        feats_labels.append(
            {
                "type": "Feature",
                "properties": {
                    "_s": {"radius": 0, "stroke": False, "fill": False, "interactive": False},
                    "label": lab,
                },
                "geometry": {"type": "Point", "coordinates": [round(lx, 5), round(ly, 5)]},
            }
        )
        feats_pts.append(
            {
                "type": "Feature",
                "properties": {
                    "_s": {
                        "radius": 6,
                        "color": "#ffffff",
                        "weight": 1.5,
                        "fillColor": col,
                        "fillOpacity": 1,
                    },
                    "tooltip": f"{esc(label)}: {esc(nm)} ({dist})",
                },
                "geometry": {"type": "Point", "coordinates": [end[1], end[0]]},
            }
        )
        facts.append(f"<tr><th>{esc(label)}</th><td>{esc(nm)}</td><td class='num'>{dist}</td></tr>")
    if feats_lines:
        layer(
            {"type": "FeatureCollection", "features": feats_lines, "gz_layer": "nearest_lines"},
            "Nearest infrastructure (distance lines)",
            pane="gzLines",
            interactive=False,
        ).add_to(m)
        layer(
            {"type": "FeatureCollection", "features": feats_pts, "gz_layer": "nearest_points"},
            "Nearest infrastructure (sites)",
            pane="gzPoints",
            control=False,
        ).add_to(m)
        layer(
            {"type": "FeatureCollection", "features": feats_labels, "gz_layer": "nearest_labels"},
            "Distance labels",
            pane="gzPoints",
            interactive=False,
        ).add_to(m)
    return facts


def _nearest_facts(r: Any, centroid: Any) -> list[tuple[str, str, str, str, float, float, float]]:
    """(what, name, distance text, colour, x, y, km) of each nearest facility with coordinates.

    The distance is the indicator's own (``dist_*_km``); where it is missing, the straight line
    from the site centroid (BNG metres)."""
    out = []
    for prefix, label, dist_col, col in NEAREST:
        try:
            x, y = float(r.get(f"{prefix}_x")), float(r.get(f"{prefix}_y"))
        except (TypeError, ValueError):
            continue
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        nm = text(r.get(f"{prefix}_name")) or text(r.get(f"nearest_{prefix}_name")) or label
        d = r.get(dist_col)
        km = math.hypot(x - centroid.x, y - centroid.y) / 1000 if is_missing(d) else float(d)
        out.append((label, nm, fmt_num(km, "km", digits=1), col, x, y, km))
    return out


def _section_rows(
    r: Any, criteria: list[dict[str, Any]], penalties: list[dict[str, Any]] | None = None
) -> str:
    """The score by section, then (where any applies or could not be checked) the score before
    designation penalties and each penalty, then the score: the section and penalty rows
    (``tr.gz-part``) sum to the score (``tr.gz-total``)."""
    rows = []
    for s in score_rows(r, criteria, penalties):
        p, kind = s["points"], s["kind"]
        if kind == "section":
            got = "—" if p is None else f"{p:.3f} of {s['weight']:.3f}"
            rows.append(f"<tr class='gz-part'><td>{esc(s['label'])}</td><td class='num'>{got}</td></tr>")
        elif kind == "penalty":
            if p is None:
                rows.append(
                    f"<tr class='gz-pen'><td>{esc(s['label'])}</td><td class='num'>not applied</td></tr>"
                )
            else:
                rows.append(
                    f"<tr class='gz-part gz-pen'><td>{esc(s['label'])}</td>"
                    f"<td class='num'>{f'{p:.3f}'.replace('-', '&#8722;')}</td></tr>"
                )
        else:
            got = "—" if p is None else f"{p:.3f}"
            cls = "gz-total" if kind == "total" else "gz-sub"
            rows.append(f"<tr class='{cls}'><th>{esc(s['label'])}</th><td class='num'><b>{got}</b></td></tr>")
    return (
        "<table class='gz-top gz-score-rows'><thead><tr><th>Section</th><th class='num'>Points (of its weight)</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        f"<p class='gz-note'>{esc(SUM_NOTE)}</p>"
    )


def _lonlat_box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    """[[south, west], [north, east]] around a BNG box (its four corners, reprojected)."""
    from ._geo import _transformer

    lons, lats = _transformer().transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _site_page(
    app_id: str,
    r: Any,
    one: Any,
    display: Any,
    *,
    columns: Any,
    checks: list[dict[str, Any]],
    criteria: list[dict[str, Any]],
    specs: list[Any],
    shared: Shared,
    basemap: BaseMap | None,
    notice: str,
    sources: str,
    libraries: Any,
    profile_title: str,
    generated_at: str,
    n_ranked: int,
    brief: str,
    missing_checks: Any = None,
    penalties: list[dict[str, Any]] | None = None,
) -> str:
    geom = one.geometry.iloc[0]
    centroid = geom.centroid
    near = _nearest_facts(r, centroid)
    # a view centred on the site that holds the nearest facilities within SITE_VIEW_RADIUS_M
    x0, y0, x1, y1 = geom.bounds
    reach = [math.hypot(x - centroid.x, y - centroid.y) for *_, x, y, _km in near]
    view_r = (
        max([d for d in reach if d < SITE_VIEW_RADIUS_M] + [(x1 - x0) / 2, (y1 - y0) / 2, 2_000.0]) * 1.08
    )
    m = new_map(
        _lonlat_box(centroid.x - view_r, centroid.y - view_r, centroid.x + view_r, centroid.y + view_r),
        basemap=basemap,
    )
    layer(
        _site_features(one, None, "", geoms=display),
        '<span class="gz-sw gz-sw-square" style="background:#21918c"></span> Site boundary',
        highlight=True,
    ).add_to(m)
    facts = _nearest_layers(m, near, centroid, view_r)
    legend_rows = add_overlay_specs(
        m,
        specs,
        show={"substations_132": True, "tec_sites": True, "protected_areas": True},
        ref="GZ_CONTEXT",
    )
    nm = text(r.get("name")) or app_id
    title = f"{nm} — AI Growth Zone site assessment"
    rank = r.get("rank")
    check_rows = "".join(
        f"<tr><td>{esc(text(c.get('check')))}</td><td>{_badge(c.get('status'))}</td>"
        f"<td>{esc(text(c.get('detail')))}</td></tr>"
        for c in checks
    )

    def status(value: Any, yes: str, no: str) -> str:
        return "unknown" if is_missing(value) else yes if truthy(value) else no

    dsit = ""
    if "dsit_power_status" in columns:
        dsit += (
            "<tr><td>500 MW by 2030, judged on grid evidence</td>"
            f"<td>{_badge(r.get('dsit_power_status'))}</td></tr>"
            f"<tr><td colspan='2' class='gz-note'>{esc(text(r.get('dsit_power_detail')))}</td></tr>"
        )
    dsit += "".join(
        f"<tr><td>{esc(label)}</td><td>{_badge(status(r.get(col), 'pass', 'fail'))}</td></tr>"
        for col, label in DSIT_FIELDS
        if col in columns
    )
    dsit += "".join(
        f"<tr><td>{esc(col[len('evidence_') :].replace('_', ' ').capitalize())} evidence "
        "(applicant's claim, not verified)</td>"
        f"<td>{_badge(status(r.get(col), 'claimed', 'not claimed'))}</td></tr>"
        for col in columns
        if col.startswith("evidence_")
    )
    fact_rows = "".join(
        f"<tr><th>{esc(label)}</th><td class='num'>{fmt_num(r.get(col), unit)}</td></tr>"
        for col, label, unit in SITE_FACTS
        if col in columns
    )
    rank_s = "not ranked" if is_missing(rank) else f"{int(rank)} of {n_ranked}"
    sidebar = (
        '<p class="gz-note"><a href="../index.html">&larr; All applications</a> &#183; '
        '<a href="../briefs.html">Printable briefs</a></p>'
        f"<h1>{esc(nm)}</h1>"
        f"<div class='gz-meta'>Application <b>{esc(app_id)}</b>"
        + (f" &#183; {esc(text(r.get('applicant')))}" if text(r.get("applicant")) else "")
        + "</div>"
        + f"<div class='gz-meta'>{esc(text(r.get('la_name')))} {esc(text(r.get('nation')))}</div>"
        + f"<div class='gz-meta'>Requested capacity <b>{fmt_num(r.get('mw'), 'MW')}</b> by "
        f"<b>{esc(text(r.get('target_year')) or '—')}</b></div>"
        + (
            f"<div class='gz-meta'>Scoring profile: <b>{esc(profile_title)}</b></div>"
            if profile_title
            else ""
        )
        + f"<div class='gz-meta'>Generated: <b>{esc(generated_at)}</b></div>"
        + missing_checks_banner(missing_checks, row_id=app_id)
        + notice
        + f"<div class='gz-big' style='font-size:17px;margin:8px 0'>Score <b>{fmt_num(r.get('score'), digits=3)}</b>"
        f" &#183; rank <b>{esc(rank_s)}</b></div>"
        + (deliverable_html(r) if text(r.get("deliverable")) else "")
        + f"<div class='{_eligible_class(r)}'>{esc(_eligible_text(r))}</div>"
        + (
            f"<div class='gz-excl'>Designations: {esc(text(r.get('designation_flags')))}</div>"
            if text(r.get("designation_flags"))
            else ""
        )
        + (
            f"<div class='gz-note'>Missing data: {esc(text(r.get('missing')))}</div>"
            if text(r.get("missing"))
            else ""
        )
        + "<h2>Nearest infrastructure</h2>"
        + (
            "<table class='gz-top'>" + "".join(facts) + "</table>"
            if facts
            else "<p class='gz-note'>None located.</p>"
        )
        + "<h2>DSIT criteria</h2>"
        + ("<table class='gz-top'>" + dsit + "</table>" if dsit else "<p class='gz-note'>No DSIT fields.</p>")
        + "<h2>Score by section</h2>"
        + _section_rows(r, criteria, penalties)
        + "<h2>Scores and contributions</h2><div class='gz-pop'>"
        + criteria_table(r, criteria, columns, penalties)
        + "</div>"
        + deprivation_note(criteria)
        + "<h2>Site facts</h2><table class='gz-top'>"
        + fact_rows
        + "</table>"
        + measured_where_html(r)
        + "<h2>Checks</h2>"
        + (
            "<table class='gz-top'><thead><tr><th>Check</th><th>Status</th><th>Detail</th></tr></thead><tbody>"
            + check_rows
            + "</tbody></table>"
            if check_rows
            else "<p class='gz-note'>No checks recorded.</p>"
        )
        + "<h2>Legend</h2>"
        + score_legend_html(
            [
                (f'<span class="gz-sw gz-sw-line" style="background:{c}"></span>', lbl)
                for _, lbl, _, c in NEAREST
            ]
            + legend_rows,
            title="Site score",
        )
        + _tolerance_note(basemap)
        + "<footer class='gz-footer'><h2>Data sources and licences</h2>"
        + sources
        + "</footer>"
    )
    return finish_page(
        m,
        title=title,
        sidebar_html=sidebar,
        libraries=libraries,
        shared=shared,
        extra_css=BRIEF_CSS + SITE_PAGE_PRINT_CSS,
        tail_html=f'<div class="gz-brief-print">{brief}</div>{FIT_JS}',
        collapsed_layers=True,
    )


def _tolerance_note(basemap: BaseMap | None) -> str:
    from ._map import BASEMAP_TOLERANCE_M

    base = (
        f"coast and council boundaries {BASEMAP_TOLERANCE_M:g} m (the base map, drawn from the ONS "
        "boundaries in the data store, needs no internet; the OpenStreetMap tiles switch on by themselves "
        "when they can be reached)"
        if basemap is not None
        else "no base map (boundaries not in the data store)"
    )
    return (
        "<p class='gz-note'>Shapes are simplified for display only (distances and checks use the full "
        f"geometry): site boundaries {SITE_TOLERANCE_M:g} m, context layers {CONTEXT_TOLERANCE_M:g} m or "
        f"coarser, {base}.</p>"
    )


def _write_text(path: Path, content: str) -> None:
    from ..data.atomic import write_text

    write_text(path, content)


def write_shared_assets(
    assets_dir: Path, *, libraries: Any, overlays: dict[str, Any] | None
) -> tuple[list[Any], BaseMap | None]:
    """Write the report folder's shared files; return the context layer specs (drawn on every page
    by reference) and the base map (``None`` without boundaries)."""
    from .assets import SHARED_CSS, SHARED_JS

    overlays = overlays or {}
    if libraries is not None and libraries.bundled:
        _write_text(assets_dir / SHARED_JS, libraries.script_text())
        _write_text(assets_dir / SHARED_CSS, libraries.style_text())
    from ._map import SHARED_CSS_FILE

    _write_text(assets_dir / SHARED_CSS_FILE, shared_css())
    ctx = {k: v for k, v in overlays.items() if k not in ("applications", "countries", "regions")}
    tol = CONTEXT_TOLERANCE_M
    for _ in range(5):
        specs = overlay_specs(ctx, tolerance_m=tol)
        body = script_json({s.key: s.data for s in specs})
        if len(body) <= CONTEXT_BUDGET_BYTES:
            break
        tol *= 2
    _write_text(assets_dir / "context.js", f"window.GZ_CONTEXT = {body};\n")
    land = land_collection(overlays.get("countries"))
    councils = council_collection(overlays.get("regions"))
    basemap = None
    if land is not None or councils is not None:
        basemap = BaseMap(ref="GZ_BASEMAP")
        base = {"land": land or {"type": "FeatureCollection", "features": []}}
        base["councils"] = councils or {"type": "FeatureCollection", "features": []}
        _write_text(assets_dir / "basemap.js", f"window.GZ_BASEMAP = {script_json(base)};\n")
    return specs, basemap


def render_assessment_report(
    assessment: Any,
    *,
    out_dir: Path,
    checks: Any,
    rejected: Any,
    criteria: list[dict[str, Any]],
    overlays: dict[str, Any] | None = None,
    provenance: list[dict[str, Any]] | None = None,
    profile_title: str = "",
    generated_at: str | None = None,
    libraries: Any = None,
    missing_checks: list[Any] | None = None,
    penalties: list[dict[str, Any]] | None = None,
) -> Path:
    """Write the report folder (see the module docstring); return the path of ``index.html``.

    ``assessment`` is EPSG:27700, indexed by application id. ``overlays``: context layers (see
    :func:`growth_zones.workflows.render.report_overlays`); ``countries`` and ``regions`` among them
    make the offline base map. ``libraries``: a bundled
    :class:`~growth_zones.report.assets.MapLibraries` is written once into ``assets/``; ``None``
    links folium's CDN (with the network banner). ``missing_checks``: checks that could not run,
    shown in a banner on the index and on the page of every site they affect. ``penalties``: the
    profile's penalising designation tiers (:func:`growth_zones.workflows.ranking.penalty_table`):
    each applied penalty is a row of the score by section and of the contributions, so the rows
    shown sum to the score shown.
    """
    out_dir = Path(out_dir)
    sites_dir = out_dir / "sites"
    sites_dir.mkdir(parents=True, exist_ok=True)
    generated_at = generated_at or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notice, sources = provenance_html(provenance)
    short_sources = sources_line(provenance)
    non_commercial = [
        text(p.get("title")) or text(p.get("key"))
        for p in provenance or []
        if truthy(p.get("non_commercial"))
    ]
    specs, basemap = write_shared_assets(out_dir / "assets", libraries=libraries, overlays=overlays)
    site_sources = (  # every page names its sources; the attributions and licences are listed once
        f"<p class='gz-src'>{esc(short_sources)}.</p><p class='gz-note'>The attribution and licence of "
        "each dataset, and of the bundled map libraries, are listed on the "
        "<a href='../index.html#sources'>overview page</a>.</p>"
    )
    scripts = ("basemap.js", "context.js") if basemap is not None else ("context.js",)
    ids = [text(i) for i in assessment.index]
    taken: set[str] = set()
    slugs: dict[str, str] = {}
    for i in ids:
        if i not in slugs:
            slugs[i] = safe_id(i, taken)
    n_ranked = int(assessment["rank"].notna().sum()) if "rank" in assessment else len(assessment)
    by_id = assessment.set_axis(ids)
    site_display = display_geometries(by_id, "assessment", SITE_TOLERANCE_M)
    checks_by_id = _checks_by_id(checks)
    columns = assessment.columns
    briefs: list[tuple[float, str]] = []
    seen: set[str] = set()
    for pos, (app_id, (_, r)) in enumerate(zip(ids, assessment.iterrows(), strict=True)):
        if app_id in seen:
            continue
        seen.add(app_id)
        one = by_id.iloc[[pos]]
        centroid = one.geometry.iloc[0].centroid
        near = [(w, n, d) for w, n, d, *_ in _nearest_facts(r, centroid)]
        site_checks = checks_by_id.get(app_id, [])
        brief = site_brief(
            app_id,
            r,
            columns=columns,
            criteria=criteria,
            checks=site_checks,
            nearest=near,
            penalties=penalties,
            n_ranked=n_ranked,
            profile_title=profile_title,
            generated_at=generated_at,
            sources=short_sources,
            non_commercial=non_commercial,
            missing_checks=missing_checks,
        )
        rank = r.get("rank")
        briefs.append((math.inf if is_missing(rank) else float(rank), brief))
        html = _site_page(
            app_id,
            r,
            one,
            site_display.iloc[[pos]],
            columns=columns,
            checks=site_checks,
            criteria=criteria,
            specs=specs,
            shared=Shared("../assets/", scripts),
            basemap=basemap,
            notice=notice,
            sources=site_sources,
            libraries=libraries,
            profile_title=profile_title,
            generated_at=generated_at,
            n_ranked=n_ranked,
            brief=brief,
            missing_checks=missing_checks,
            penalties=penalties,
        )
        path = sites_dir / f"{slugs[app_id]}.html"
        assert path.resolve().parent == sites_dir.resolve()
        _write_text(path, html)
    briefs.sort(key=lambda t: t[0])
    _write_text(
        out_dir / "briefs.html",
        briefs_page(
            [b for _, b in briefs],
            title="AI Growth Zones: site briefs",
            generated_at=generated_at,
            banner=missing_checks_banner(missing_checks, collapse=False),
        ),
    )
    index = out_dir / "index.html"
    _write_text(
        index,
        _index_page(
            assessment,
            ids=ids,
            slugs=slugs,
            rejected=rejected,
            specs=specs,
            basemap=basemap,
            site_display=site_display,
            shared=Shared("assets/", scripts),
            notice=notice,
            sources=sources,
            libraries=libraries,
            profile_title=profile_title,
            generated_at=generated_at,
            missing_checks=missing_checks,
        ),
    )
    return index


def _checks_by_id(checks: Any) -> dict[str, list[dict[str, Any]]]:
    """checks.csv rows grouped by application id (one pass, not one scan per site)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if checks is None or not len(checks):
        return out
    cols = [c for c in ("check", "status", "detail") if c in checks.columns]
    ids = [text(i) for i in checks["id"]]
    for app_id, rec in zip(ids, checks[cols].to_dict("records"), strict=True):
        out.setdefault(app_id, []).append(rec)
    return out


def _index_page(
    assessment: Any,
    *,
    ids: list[str],
    slugs: dict[str, str],
    rejected: Any,
    specs: list[Any],
    basemap: BaseMap | None,
    site_display: Any,
    shared: Shared,
    notice: str,
    sources: str,
    libraries: Any,
    profile_title: str,
    generated_at: str,
    missing_checks: list[Any] | None = None,
) -> str:
    m = new_map(bounds_of(assessment), basemap=basemap)
    legend_rows = add_overlay_specs(  # the sites read first; context layers on demand
        m,
        specs,
        show={
            "tec_sites": False,
            "substations_400": False,
            "substations_275": False,
            "landing_points": False,
        },
        ref="GZ_CONTEXT",
    )
    layer(
        _site_features(assessment.set_axis(ids), slugs, "sites/", geoms=site_display),
        '<span class="gz-sw gz-sw-square" style="background:#21918c"></span> Site boundaries',
        highlight=True,
    ).add_to(m)
    add_applications(
        m,
        _apps_points(assessment),
        links={i: f"sites/{s}.html" for i, s in slugs.items()},
        name="Candidate sites (markers)",
    )
    n = len(assessment)
    counts = eligibility_counts(assessment)
    n_rej = 0 if rejected is None else len(rejected)
    order = (
        assessment.assign(_id=ids).sort_values("rank", na_position="last")
        if "rank" in assessment
        else assessment.assign(_id=ids)
    )
    rows = []
    gates = "deliverable" in assessment.columns
    for _, r in order.iterrows():
        app_id = r["_id"]
        rank, score = r.get("rank"), r.get("score")
        dot = (
            f'<span class="gz-dot" style="background:{score_colour(score)}"></span>'
            if not is_missing(score)
            else ""
        )
        rows.append(
            f"<tr><td class='num' data-sort='{_num_attr(rank)}'>"
            f"{fmt_num(int(rank)) if not is_missing(rank) else '—'}</td>"
            f"<td><a href='sites/{esc(slugs[app_id])}.html'>{esc(app_id)}</a></td>"
            f"<td>{esc(text(r.get('name')))}</td><td>{esc(text(r.get('applicant')))}</td>"
            f"<td>{esc(text(r.get('la_name')))}</td>"
            f"<td class='num' data-sort='{_num_attr(r.get('mw'))}'>{fmt_num(r.get('mw'), 'MW')}"
            f"{_below_dsit_html(r)}</td>"
            f"<td class='num'>{esc(text(r.get('target_year')))}</td>"
            f"<td class='num' data-sort='{_num_attr(score)}'>{dot}{fmt_num(score, digits=3)}</td>"
            f"<td>{esc(_eligible_text(r))}</td></tr>"
        )
        if gates:  # deliverability is the first sort key: its column follows the rank
            rows[-1] = rows[-1].replace("</td><td><a href=", f"</td>{_deliverable_cell(r)}<td><a href=", 1)
    heads = [
        ("Rank", "num"),
        *([("Deliverable", "")] if gates else []),
        ("ID", ""),
        ("Name", ""),
        ("Applicant", ""),
        ("Local authority", ""),
        ("Capacity", "num"),
        ("Target year", "num"),
        ("Score", "num"),
        ("Eligibility", ""),
    ]
    thead = "".join(f"<th class='{c}' scope='col'><button type='button'>{h}</button></th>" for h, c in heads)
    rej_rows = ""
    if rejected is not None and len(rejected):
        rej_rows = "".join(
            f"<tr><td class='num'>{esc(text(r.get('row')))}</td><td>{esc(text(r.get('id')))}</td>"
            f"<td>{esc(text(r.get('name')))}</td><td>{esc(text(r.get('reason')))}</td></tr>"
            for _, r in rejected.iterrows()
        )
    title = "AI Growth Zones: assessment of applications"
    head = (
        f"<header class='gz-page gz-head'><h1>{esc(title)}</h1>"
        + (
            f"<div class='gz-meta'>Scoring profile: <b>{esc(profile_title)}</b></div>"
            if profile_title
            else ""
        )
        + f"<div class='gz-meta'>Generated: <b>{esc(generated_at)}</b></div>"
        + missing_checks_banner(missing_checks)
        + notice
        + "<div class='gz-cards'>"
        f"<div class='gz-card'><b>{n}</b>applications assessed</div>"
        + (
            f"<div class='gz-card'><b>{int((assessment['deliverable'] == 'pass').sum())}</b>"
            "deliverable (every gate passed)</div>"
            f"<div class='gz-card gz-card-bad'><b>{int((assessment['deliverable'] == 'fail').sum())}</b>"
            "not deliverable (a gate failed)</div>"
            f"<div class='gz-card gz-card-warn'><b>{int((assessment['deliverable'] == 'unknown').sum())}</b>"
            "deliverability unknown</div>"
            if "deliverable" in assessment.columns
            else ""
        )
        + (
            f"<div class='gz-card'><b>{below_dsit_minimum(assessment)}</b>"
            "below the DSIT minimum (500 MW by 2030)</div>"
            if "dsit_minimum" in assessment.columns
            else ""
        )
        + f"<div class='gz-card'><b>{counts['eligible']}</b>eligible (every hard exclusion checked)</div>"
        f"<div class='gz-card{' gz-card-unk' if counts['unknown'] else ''}'><b>{counts['unknown']}</b>"
        "not fully checked (a hard exclusion could not be checked)</div>"
        f"<div class='gz-card'><b>{counts['excluded']}</b>excluded</div>"
        f"<div class='gz-card'><b>{n_rej}</b>rows rejected (invalid input)</div></div>"
        "<p class='gz-note'>Click a site on the map or an ID in the table for its full assessment. "
        "<a href='briefs.html'>Printable site briefs</a> (one A4 page per site, in rank order).</p>"
        + (f"<p class='gz-note'>{RANKING_NOTE}</p>" if "deliverable" in assessment.columns else "")
        + "</header>"
    )
    body = (
        "<section class='gz-page'><div class='gz-legend-inline'>"
        + score_legend_html(
            [(swatch("#21918c", border="#000"), "Candidate site (fill = score)")]
            + (
                deliverability_legend_rows(assessment.loc[assessment["eligible"].map(truthy), "deliverable"])
                if {"deliverable", "eligible"} <= set(assessment.columns)
                else []
            )
            + legend_rows,
            title="Site score",
        )
        + "</div>"
        + _tolerance_note(basemap)
        + "<h2 id='applications'>Applications</h2>"
        "<p class='gz-note'>Select a column heading to sort.</p>"
        f"<table class='gz-table gz-sortable'><thead><tr>{thead}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<h2 id='rejected'>Rejected input rows</h2>"
        + (
            "<table class='gz-table'><thead><tr><th class='num'>Row</th><th>ID</th><th>Name</th><th>Reason</th>"
            f"</tr></thead><tbody>{rej_rows}</tbody></table>"
            if rej_rows
            else "<p>None.</p>"
        )
        + "<footer class='gz-footer'><h2 id='sources'>Data sources and licences</h2>"
        + sources
        + (libraries.licences_html() if libraries is not None else "")
        + "</footer></section>"
    )
    root = m.get_root()
    root.html.add_child(raw_html(head), name="gz_head")
    return finish_page(
        m,
        title=title,
        sidebar_html="",
        libraries=libraries,
        shared=shared,
        extra_css=PAGE_CSS + ".gz-side{display:none}"
        " body{display:flex;flex-direction:column;overflow:auto} .gz-head{order:-3}"
        # the 'map needs the network' banner sits in the flow between the summary and the map it
        # is about, never over the title and summary cards
        " .gz-nolib{position:static;transform:none;order:-2;width:calc(100% - 40px);max-width:1160px;"
        "margin:0 auto 10px;box-shadow:none}"
        " .gz-page .folium-map, body > .folium-map {position:relative !important;left:0 !important;"
        "width:calc(100% - 40px) !important;max-width:1160px;margin:0 auto;height:58vh !important;"
        "flex:none;order:-1}"
        "",
        tail_html=body + SORT_JS,
    )


def below_dsit_minimum(assessment: Any) -> int:
    """How many applications claim less than DSIT's minimum (500 MW by 2030)."""
    return int(assessment["dsit_minimum"].astype(str).str.startswith("below").sum())


def _below_dsit_html(r: Any) -> str:
    """ "below the DSIT minimum (2033)" under the capacity of an application whose own claim is
    below DSIT's 500 MW by 2030; nothing otherwise."""
    status = text(r.get("dsit_minimum"))
    if not status.startswith("below"):
        return ""
    return f"<div class='gz-note'>{esc('below the DSIT minimum ' + status[len('below ') :])}</div>"

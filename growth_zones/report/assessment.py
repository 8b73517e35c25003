"""The assessment report: an index page of all applications plus one page per application."""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

from ._geo import bng_point_to_lonlat, display_geometries, feature_collection
from ._html import esc, fmt_num, is_missing, safe_id, score_colour, text, truthy
from ._map import (
    HATCH_ID,
    add_applications,
    add_overlays,
    bounds_of,
    finish_page,
    layer,
    new_map,
    provenance_html,
    score_legend_html,
    swatch,
)
from .national import RANKING_NOTE, criteria_table, deliverable_html, deprivation_note

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


def _eligible_text(r: Any) -> str:
    if truthy(r.get("eligible", True)):
        return "Eligible"
    return "Excluded: " + (text(r.get("excluded_by")) or "fails a hard constraint")


def _local_overlays(overlays: dict[str, Any] | None, geom: Any, radius_m: float) -> dict[str, Any] | None:
    if not overlays:
        return overlays
    x0, y0, x1, y1 = geom.bounds
    out = {}
    for k, g in overlays.items():
        if g is None or not len(g) or k == "applications":
            continue
        out[k] = g.cx[x0 - radius_m : x1 + radius_m, y0 - radius_m : y1 + radius_m]
    return out


def _site_features(assessment: Any, slugs: dict[str, str] | None, link_prefix: str) -> dict[str, Any]:
    geoms = display_geometries(assessment, "assessment", 0)
    props = []
    for app_id, r in assessment.iterrows():
        eligible = truthy(r.get("eligible", True))
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
                "_s": {"color": "#000000", "weight": 2, "fillColor": fill, "fillOpacity": 0.75},
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


def _nearest_layers(m: Any, r: Any, centroid: Any) -> list[str]:
    """Lines from the site centroid to each nearest facility with a distance label."""
    from ._geo import _transformer

    c = _transformer().transform(centroid.x, centroid.y)
    start = [round(c[1], 5), round(c[0], 5)]
    facts = []
    feats_lines, feats_pts, feats_labels = [], [], []
    for prefix, label, dist_col, col in NEAREST:
        end = bng_point_to_lonlat(r.get(f"{prefix}_x"), r.get(f"{prefix}_y"))
        if end is None:
            continue
        nm = text(r.get(f"{prefix}_name")) or text(r.get(f"nearest_{prefix}_name")) or label
        d = r.get(dist_col)
        if is_missing(d):
            d = (
                math.hypot(float(r.get(f"{prefix}_x")) - centroid.x, float(r.get(f"{prefix}_y")) - centroid.y)
                / 1000
            )
        dist = fmt_num(float(d), "km", digits=1)
        lab = f"{esc(nm)}: {dist}"
        feats_lines.append(
            {
                "type": "Feature",
                "properties": {"_s": {"color": col, "weight": 3, "dashArray": "6 5", "opacity": 0.9}},
                "geometry": {"type": "LineString", "coordinates": [start[::-1], [end[1], end[0]]]},
            }
        )
        # label on the line, near the site (so it stays in view when the facility is far away)
        ex, ey = float(r.get(f"{prefix}_x")), float(r.get(f"{prefix}_y"))
        full = math.hypot(ex - centroid.x, ey - centroid.y)
        frac = 0.5 if full <= 0 else min(0.5, 2_500.0 / full)
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


def _site_page(
    app_id: str,
    r: Any,
    assessment: Any,
    *,
    checks: Any,
    criteria: list[dict[str, Any]],
    overlays: dict[str, Any] | None,
    notice: str,
    sources: str,
    profile_title: str,
    generated_at: str,
    assets: Any,
    n_ranked: int,
) -> str:
    one = (
        assessment.loc[[app_id]] if assessment.index.is_unique else assessment[assessment.index == app_id][:1]
    )
    geom = one.geometry.iloc[0]
    centroid = geom.centroid
    # zoom to the site and its nearest facilities
    import geopandas as gpd
    from shapely.geometry import Point

    pts = [geom]
    for prefix, *_ in NEAREST:
        try:
            x, y = float(r.get(f"{prefix}_x")), float(r.get(f"{prefix}_y"))
            if math.isfinite(x) and math.isfinite(y) and math.hypot(x - centroid.x, y - centroid.y) < 60_000:
                pts.append(Point(x, y).buffer(500))
        except (TypeError, ValueError):
            pass
    box = gpd.GeoDataFrame(geometry=pts, crs=assessment.crs)
    m = new_map(bounds_of(box))
    layer(
        _site_features(one, None, ""),
        '<span class="gz-sw gz-sw-square" style="background:#21918c"></span> Site boundary',
        highlight=True,
    ).add_to(m)
    facts = _nearest_layers(m, r, centroid)
    radius = 40_000.0
    legend_rows = add_overlays(
        m,
        _local_overlays(overlays, geom, radius),
        tolerance_m=20.0,
        show={"substations_132": True, "tec_sites": True, "protected_areas": True},
    )
    nm = text(r.get("name")) or app_id
    title = f"{nm} — AI Growth Zone site assessment"
    rank = r.get("rank")
    my_checks = checks[checks["id"].map(text) == app_id] if checks is not None and len(checks) else None
    check_rows = ""
    if my_checks is not None:
        check_rows = "".join(
            f"<tr><td>{esc(text(c.get('check')))}</td><td>{_badge(c.get('status'))}</td>"
            f"<td>{esc(text(c.get('detail')))}</td></tr>"
            for _, c in my_checks.iterrows()
        )

    def status(value: Any, yes: str, no: str) -> str:
        return "unknown" if is_missing(value) else yes if truthy(value) else no

    dsit = ""
    if "dsit_power_status" in assessment.columns:
        dsit += (
            "<tr><td>500 MW by 2030, judged on grid evidence</td>"
            f"<td>{_badge(r.get('dsit_power_status'))}</td></tr>"
            f"<tr><td colspan='2' class='gz-note'>{esc(text(r.get('dsit_power_detail')))}</td></tr>"
        )
    dsit += "".join(
        f"<tr><td>{esc(label)}</td><td>{_badge(status(r.get(col), 'pass', 'fail'))}</td></tr>"
        for col, label in DSIT_FIELDS
        if col in assessment.columns
    )
    dsit += "".join(
        f"<tr><td>{esc(col[len('evidence_') :].replace('_', ' ').capitalize())} evidence "
        "(applicant's claim, not verified)</td>"
        f"<td>{_badge(status(r.get(col), 'claimed', 'not claimed'))}</td></tr>"
        for col in assessment.columns
        if col.startswith("evidence_")
    )
    fact_rows = "".join(
        f"<tr><th>{esc(label)}</th><td class='num'>{fmt_num(r.get(col), unit)}</td></tr>"
        for col, label, unit in SITE_FACTS
        if col in assessment.columns
    )
    rank_s = "not ranked" if is_missing(rank) else f"{int(rank)} of {n_ranked}"
    sidebar = (
        '<p class="gz-note"><a href="../index.html">&larr; All applications</a></p>'
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
        + notice
        + f"<div class='gz-big' style='font-size:17px;margin:8px 0'>Score <b>{fmt_num(r.get('score'), digits=3)}</b>"
        f" &#183; rank <b>{esc(rank_s)}</b></div>"
        + (deliverable_html(r) if text(r.get("deliverable")) else "")
        + f"<div class='{'gz-note' if truthy(r.get('eligible', True)) else 'gz-excl'}'>{esc(_eligible_text(r))}</div>"
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
        + "<h2>Scores and contributions</h2><div class='gz-pop'>"
        + criteria_table(r, criteria, assessment.columns)
        + "</div>"
        + deprivation_note(criteria)
        + "<h2>Site facts</h2><table class='gz-top'>"
        + fact_rows
        + "</table>"
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
        + "<footer class='gz-footer'><h2>Data sources and licences</h2>"
        + sources
        + "</footer>"
    )
    return finish_page(m, title=title, sidebar_html=sidebar, assets=assets)


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
    assets: str | Path | None = "cdn",
) -> Path:
    """Write ``out_dir/index.html`` and ``out_dir/sites/<safe_id>.html``; return the index path."""
    import folium

    out_dir = Path(out_dir)
    sites_dir = out_dir / "sites"
    sites_dir.mkdir(parents=True, exist_ok=True)
    generated_at = generated_at or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notice, sources = provenance_html(provenance)
    ids = [text(i) for i in assessment.index]
    taken: set[str] = set()
    slugs = {}
    for i in ids:
        if i not in slugs:
            slugs[i] = safe_id(i, taken)
    n_ranked = int(assessment["rank"].notna().sum()) if "rank" in assessment else len(assessment)

    # site pages
    by_id = assessment.set_axis(ids)
    seen = set()
    for app_id, (_, r) in zip(ids, assessment.iterrows(), strict=True):
        if app_id in seen:
            continue
        seen.add(app_id)
        html = _site_page(
            app_id,
            r,
            by_id,
            checks=checks,
            criteria=criteria,
            overlays=overlays,
            notice=notice,
            sources=sources,
            profile_title=profile_title,
            generated_at=generated_at,
            assets=assets,
            n_ranked=n_ranked,
        )
        path = sites_dir / f"{slugs[app_id]}.html"
        assert path.resolve().parent == sites_dir.resolve()
        path.write_text(html, encoding="utf-8")

    # index
    m = new_map(bounds_of(assessment))
    legend_rows = add_overlays(
        m, {k: v for k, v in (overlays or {}).items() if k != "applications"}, show={"tec_sites": False}
    )
    layer(
        _site_features(assessment.set_axis(ids), slugs, "sites/"),
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
    n_elig = int(assessment["eligible"].map(truthy).sum()) if "eligible" in assessment else n
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
            f"<td class='num' data-sort='{_num_attr(r.get('mw'))}'>{fmt_num(r.get('mw'), 'MW')}</td>"
            f"<td class='num'>{esc(text(r.get('target_year')))}</td>"
            f"<td class='num' data-sort='{_num_attr(score)}'>{dot}{fmt_num(score, digits=3)}</td>"
            f"<td>{esc(_eligible_text(r))}</td></tr>"
        )
        if gates:  # deliverability is the first sort key: its column follows the rank
            rows[-1] = rows[-1].replace(
                "</td><td><a href=", f"</td><td>{esc(text(r.get('deliverable')))}</td><td><a href=", 1
            )
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
        + notice
        + "<div class='gz-cards'>"
        f"<div class='gz-card'><b>{n}</b>applications assessed</div>"
        + (
            f"<div class='gz-card'><b>{int((assessment['deliverable'] == 'pass').sum())}</b>"
            "deliverable (every gate passed)</div>"
            if "deliverable" in assessment.columns
            else ""
        )
        + f"<div class='gz-card'><b>{n_elig}</b>eligible</div>"
        f"<div class='gz-card'><b>{n - n_elig}</b>excluded</div>"
        f"<div class='gz-card'><b>{n_rej}</b>rows rejected (invalid input)</div></div>"
        "<p class='gz-note'>Click a site on the map or an ID in the table for its full assessment.</p>"
        + (f"<p class='gz-note'>{RANKING_NOTE}</p>" if "deliverable" in assessment.columns else "")
        + "</header>"
    )
    body = (
        "<section class='gz-page'><div class='gz-legend-inline'>"
        + score_legend_html(
            [(swatch("#21918c", border="#000"), "Candidate site (fill = score)")] + legend_rows,
            title="Site score",
        )
        + "</div>"
        "<h2 id='applications'>Applications</h2>"
        "<p class='gz-note'>Select a column heading to sort.</p>"
        f"<table class='gz-table gz-sortable'><thead><tr>{thead}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<h2 id='rejected'>Rejected input rows</h2>"
        + (
            "<table class='gz-table'><thead><tr><th class='num'>Row</th><th>ID</th><th>Name</th><th>Reason</th>"
            f"</tr></thead><tbody>{rej_rows}</tbody></table>"
            if rej_rows
            else "<p>None.</p>"
        )
        + "<footer class='gz-footer'><h2>Data sources and licences</h2>"
        + sources
        + "</footer></section>"
    )
    root = m.get_root()
    root.html.add_child(folium.Element(head), name="gz_head")
    html = finish_page(
        m,
        title=title,
        sidebar_html="",
        assets=assets,
        extra_css=PAGE_CSS + ".gz-side{display:none}"
        " body{display:flex;flex-direction:column;overflow:auto} .gz-head{order:-2}"
        " .gz-page .folium-map, body > .folium-map {position:relative !important;left:0 !important;"
        "width:calc(100% - 40px) !important;max-width:1160px;margin:0 auto;height:58vh !important;"
        "flex:none;order:-1}",
        tail_html=body + SORT_JS,
    )
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index

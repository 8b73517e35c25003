"""The national map: every local authority coloured by score, with switchable infrastructure."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._banner import missing_checks_banner
from ._geo import display_geometries, feature_collection
from ._html import (
    NODATA_FILL,
    RANKING_NOTE,
    eligibility,
    eligibility_summary,
    eligibility_text,
    esc,
    fmt_num,
    is_missing,
    score_colour,
    text,
    truthy,
)
from ._map import (
    HATCH_ID,
    BaseMap,
    add_basemap,
    add_overlays,
    bounds_of,
    finish_page,
    land_collection,
    layer,
    new_map,
    provenance_html,
    score_legend_html,
    score_range,
    swatch,
)

SIZE_BUDGET_BYTES = 5_000_000


def _weights(criteria: list[dict[str, Any]]) -> dict[str, float]:
    ws = {}
    for c in criteria:
        try:
            ws[c["name"]] = max(float(c.get("weight", 0) or 0), 0.0)
        except (TypeError, ValueError):
            ws[c["name"]] = 0.0
    total = sum(ws.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in ws.items()}


def _shown_value(raw: Any, c: dict[str, Any]) -> str:
    """A criterion's raw value with its unit; a yes/no criterion (boolean value function) reads
    "yes"/"no" whether the table holds True/False or 1/0 (CSV and GeoPackage round trips)."""
    if text(c.get("kind")) == "boolean" and not is_missing(raw):
        try:
            return "yes" if float(raw) >= 0.5 else "no"
        except (TypeError, ValueError):
            return "yes" if truthy(raw) else "no"
    return fmt_num(raw, text(c.get("unit", "")))


def criteria_table(
    r: Any, criteria: list[dict[str, Any]], columns: Any, penalties: list[dict[str, Any]] | None = None
) -> str:
    """Rows: criterion, raw value with unit, contribution (points of the 0-1 score) with a bar; then
    each designation penalty that applies (``penalties``: the profile's penalising tiers), so the
    contributions shown sum to the score, given in the last row."""
    from .brief import penalty_rows

    shares = _weights(criteria)
    rows = []
    for c in criteria:
        name = c["name"]
        ind = c.get("indicator")
        raw = r.get(ind) if ind and ind in columns else r.get(f"value_{name}")
        shown = _shown_value(raw, c)
        if ind == "deprivation_percentile" and text(r.get("deprivation_rank")):
            shown += f"<br><span class='gz-note'>{esc(text(r.get('deprivation_rank')))}</span>"
        contrib = r.get(f"contrib_{name}")
        share = shares.get(name, 0.0)
        if is_missing(contrib):
            bar, cstr = "", "—"
        else:
            frac = float(contrib) / share if share > 0 else 0.0
            frac = min(max(frac, 0.0), 1.0)
            bar = (
                f'<span class="gz-barbox" title="{100 * frac:.0f}% of this criterion\'s maximum">'
                f'<span class="gz-bar" style="width:{60 * frac:.0f}px"></span></span> '
            )
            cstr = f"{float(contrib):+.3f}"
        rows.append(
            f"<tr><td>{esc(c.get('label') or name)}<br><span class='gz-note'>weight {100 * share:.0f}%</span></td>"
            f"<td class='num'>{shown}</td><td class='num'>{bar}{esc(cstr)}</td></tr>"
        )
    pens = penalty_rows(r, penalties)
    for p in pens:
        if p["points"] is None:
            rows.append(
                f"<tr class='gz-pen'><td colspan='2'>{esc(p['label'])}</td><td class='num'>not applied</td></tr>"
            )
            continue
        inside = (
            "" if p["share"] is None else f"{100 * min(max(p['share'], 0.0), 1.0):.0f}% of the site inside"
        )
        pts = f"{p['points']:+.3f}".replace("-", "&#8722;")
        rows.append(
            f"<tr class='gz-pen'><td>{esc(p['label'])}<br><span class='gz-note'>{esc(p['tier'])} tier</span></td>"
            f"<td class='num'>{esc(inside)}</td><td class='num'>{pts}</td></tr>"
        )
    if pens and not is_missing(r.get("score")):
        rows.append(
            "<tr class='gz-total'><th colspan='2'>Score (the sum of the rows above)</th>"
            f"<td class='num'><b>{float(r.get('score')):.3f}</b></td></tr>"
        )
    return (
        "<table><thead><tr><th>Criterion</th><th class='num'>Value</th>"
        "<th class='num'>Contribution</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _rank_text(r: Any, n: int) -> str:
    rank = r.get("rank")
    if is_missing(rank):
        return "Not ranked"
    s = f"Rank <b>{int(rank)}</b> of {n}"
    lo, hi = r.get("rank_p05"), r.get("rank_p95")
    if not is_missing(lo) and not is_missing(hi):
        s += f" (90% interval {int(round(float(lo)))}&#8211;{int(round(float(hi)))})"
    return s


def _sections(criteria: list[dict[str, Any]], sections: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Sections to show: as given, else derived from the criteria (name, label = name, weight)."""
    if sections is not None:
        return sections
    shares = _weights(criteria)
    out: dict[str, dict[str, Any]] = {}
    for c in criteria:
        name = c.get("section") or ""
        if name:
            out.setdefault(name, {"name": name, "label": name.replace("_", " "), "weight": 0.0})
            out[name]["weight"] += shares.get(c["name"], 0.0)
    return list(out.values())


def section_table(r: Any, sections: list[dict[str, Any]], columns: Any) -> str:
    """One compact line: the points each section adds to the score (they sum to it), with the
    section's weight; the full labels are in the side panel."""
    parts = []
    for sec in sections:
        col = f"section_{sec['name']}"
        if col not in columns:
            continue
        val = r.get(col)
        name = _SHORT.get(sec["name"], text(sec.get("label") or sec["name"]))
        pts = "—" if is_missing(val) else f"{float(val):.3f}"
        parts.append(f"{esc(name)} <b>{pts}</b> ({100 * float(sec.get('weight', 0.0)):.0f}%)")
    if not parts:
        return ""
    return "<div class='gz-note gz-secs'>By section: " + " &#183; ".join(parts) + "</div>"


def region_popup(
    r: Any,
    criteria: list[dict[str, Any]],
    columns: Any,
    n_ranked: int,
    sections: list[dict[str, Any]] | None = None,
) -> str:
    eligible = eligibility(r) != "excluded"
    parts = [
        f"<div class='gz-pop'><h4>{esc(text(r.get('name')))}</h4>",
        f"<div class='gz-sub'>{esc(text(r.get('nation')))} &#183; {esc(text(r.get('code')))}</div>",
        f"<div class='gz-big'>Score <b>{fmt_num(r.get('score'), digits=3)}</b> &#183; "
        f"{_rank_text(r, n_ranked)}</div>",
    ]
    if text(r.get("deliverable")):
        parts.append(deliverable_html(r))
    if "p_top10" in columns and not is_missing(r.get("p_top10")):
        parts.append(
            f"<div class='gz-note'>Chance of ranking in the top 10 under weight uncertainty: "
            f"<b>{100 * float(r.get('p_top10')):.0f}%</b></div>"
        )
    if not eligible or text(r.get("excluded_by")):
        reason = text(r.get("excluded_by")) or "fails an eligibility constraint"
        parts.append(f"<div class='gz-excl'>Excluded: {esc(reason)}</div>")
    elif eligibility(r) == "unknown":
        parts.append(f"<div class='gz-unk'>{esc(eligibility_text(r))}</div>")
    parts.append(section_table(r, _sections(criteria, sections), columns))
    parts.append(criteria_table(r, criteria, columns))
    if text(r.get("missing")):
        parts.append(
            f"<div class='gz-note'>Missing data (handled by the profile's missing-data rule): "
            f"{esc(text(r.get('missing')))}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


DELIVERABLE_WORDS = {
    "pass": ("&#10003;", "ok", "deliverable: every gate passed"),
    "unknown": ("?", "warn", "deliverability unknown: a gate could not be checked"),
    "fail": ("&#10007;", "bad", "not deliverable: a gate failed"),
}


DELIVERABLE_STROKE: dict[str, dict[str, Any]] = {  # outline of an area by its gate status (fill = score)
    "fail": {"color": "#8a1c00", "weight": 2.6},
    "unknown": {"color": "#b36b00", "weight": 2.2, "dashArray": "5 4"},
}
DELIVERABLE_TIP = {"fail": "not deliverable (a gate failed)", "unknown": "deliverability unknown"}


def deliverability_legend_rows(statuses: Any) -> list[tuple[str, str]]:
    """Legend rows for the outlines of areas that fail a gate or whose gates could not be checked
    (only the statuses present)."""
    present = set(statuses)
    rows = []
    for status, words in (
        ("fail", "Not deliverable: a gate failed (red outline; ranked after every deliverable one)"),
        ("unknown", "Deliverability unknown: a gate could not be checked (dashed outline)"),
    ):
        if status in present:
            st = DELIVERABLE_STROKE[status]
            style = "dashed" if "dashArray" in st else "solid"
            rows.append(
                (
                    '<span class="gz-sw gz-sw-square" style="background:#21918c;'
                    f'border:3px {style} {st["color"]}"></span>',
                    words,
                )
            )
    return rows


def deliverability_summary(table: Any, *, noun: str) -> str:
    """'330 deliverable · 20 fail a gate · 0 unknown' (rows not excluded) and the ranking rule, for the
    top of a page; '' without gates."""
    if "deliverable" not in table:
        return ""
    ok = table["eligible"].map(truthy) if "eligible" in table else np.ones(len(table), dtype=bool)
    counts = table.loc[np.asarray(ok, dtype=bool), "deliverable"].value_counts()
    n_pass, n_unknown, n_fail = (int(counts.get(k, 0)) for k in ("pass", "unknown", "fail"))
    return (
        f"<div class='gz-meta gz-deliv'>Deliverability of the {esc(noun)} not excluded: <b>{n_pass}</b> pass every "
        f"gate &#183; <b>{n_fail}</b> fail a gate &#183; <b>{n_unknown}</b> unknown (a gate could not be "
        f"checked)</div><p class='gz-note'>{RANKING_NOTE}</p>"
    )


def deliverable_html(r: Any) -> str:
    """The gate status in words (symbol + words: colour is never the only cue) and the reasons."""
    sym, cls, words = DELIVERABLE_WORDS.get(
        text(r.get("deliverable")), ("?", "warn", text(r.get("deliverable")))
    )
    out = f"<div class='gz-note'><span class='gz-badge {cls}'>{sym} {esc(words)}</span></div>"
    if text(r.get("gate_reasons")):
        out += f"<div class='gz-note'>{esc(text(r.get('gate_reasons')))}</div>"
    return out


def region_features(
    ranking: Any,
    criteria: list[dict[str, Any]],
    tolerance_m: float,
    sections: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if "deliverable" in ranking:  # gate-failing (and unknown) areas drawn last: their outline on top
        key = ranking["deliverable"].map({"fail": 2, "unknown": 1}).fillna(0).to_numpy()
        ranking = ranking.iloc[np.argsort(key, kind="stable")]
    geoms = display_geometries(ranking, "ranking", tolerance_m)
    lo, hi = score_range(ranking["score"]) if "score" in ranking else (0.0, 1.0)
    n_ranked = int(ranking["rank"].notna().sum()) if "rank" in ranking else len(ranking)
    props = []
    for _, r in ranking.iterrows():
        eligible = truthy(r.get("eligible", True))
        score = r.get("score")
        if not eligible:
            fill, opacity = f"url(#{HATCH_ID})", 0.9
        elif is_missing(score):
            fill, opacity = NODATA_FILL, 0.8
        else:
            fill, opacity = score_colour((float(score) - lo) / (hi - lo)), 0.82
        rank = r.get("rank")
        deliv = text(r.get("deliverable"))
        tip = (
            f"{esc(text(r.get('name')))} &#8212; rank {int(rank)}"
            if not is_missing(rank) and eligible
            else f"{esc(text(r.get('name')))} &#8212; excluded"
            if not eligible
            else f"{esc(text(r.get('name')))} &#8212; not ranked"
        ) + (f" &#183; {DELIVERABLE_TIP[deliv]}" if eligible and deliv in DELIVERABLE_TIP else "")
        stroke = DELIVERABLE_STROKE.get(deliv, {}) if eligible else {}
        props.append(
            {
                "code": esc(text(r.get("code"))),
                "name": esc(text(r.get("name"))),
                "score": None if is_missing(score) else round(float(score), 4),
                "rank": None if is_missing(rank) else int(rank),
                "eligible": eligible,
                "deliverable": esc(deliv),
                "_s": {
                    "color": "#ffffff",
                    "weight": 0.7,
                    "opacity": 1,
                    "fillColor": fill,
                    "fillOpacity": opacity,
                    **stroke,
                },
                "tooltip": tip,
                "popup": region_popup(r, criteria, ranking.columns, n_ranked, sections),
            }
        )
    fc = feature_collection(geoms, props)
    fc["gz_layer"] = "regions"
    return fc


def _top_table(ranking: Any, n: int = 10) -> str:
    if "rank" not in ranking:
        return ""
    ok = ranking[ranking["rank"].notna()]
    if "eligible" in ok:
        ok = ok[ok["eligible"].map(truthy)]
    top = ok.sort_values("rank").head(n)
    gates = "deliverable" in top
    rows = "".join(
        f"<tr><td class='num'>{int(r['rank'])}</td><td>{esc(text(r.get('name')))}"
        f"<span class='gz-n'> {esc(text(r.get('nation')))}</span></td>"
        + (f"<td>{esc(text(r.get('deliverable')))}</td>" if gates else "")
        + f"<td class='num'>{fmt_num(r.get('score'), digits=3)}</td></tr>"
        for _, r in top.iterrows()
    )
    return (
        "<table class='gz-top'><thead><tr><th class='num'>Rank</th><th>Local authority</th>"
        + ("<th>Deliverable</th>" if gates else "")
        + "<th class='num'>Score</th></tr></thead><tbody>"
        + rows
        + "</tbody></table>"
    )


_SHORT = {
    "power": "Power",
    "land": "Land",
    "connectivity": "Conn.",
    "local_impact": "Local",
    "delivery": "Deliv.",
}


def _top_sections(
    ranking: Any, sections: list[dict[str, Any]], criteria: list[dict[str, Any]], n: int = 10
) -> str:
    """The top ``n`` eligible regions' score split by section (columns sum to the score)."""
    secs = [s for s in sections if f"section_{s['name']}" in ranking]
    if "rank" not in ranking or not secs:
        return ""
    ok = ranking[ranking["rank"].notna()]
    if "eligible" in ok:
        ok = ok[ok["eligible"].map(truthy)]
    top = ok.sort_values("rank").head(n)
    head = "".join(
        f"<th class='num' title='{esc(text(s.get('label') or s['name']))}, weight "
        f"{100 * float(s.get('weight', 0.0)):.0f}%'>{esc(_SHORT.get(s['name'], s['name'][:6]))}</th>"
        for s in secs
    )
    rows = "".join(
        f"<tr><td class='num'>{int(r['rank'])}</td><td>{esc(text(r.get('name')))}</td>"
        + "".join(f"<td class='num'>{fmt_num(r.get('section_' + s['name']), digits=3)}</td>" for s in secs)
        + "</tr>"
        for _, r in top.iterrows()
    )
    note = "Points each section adds to the score (they sum to the score; hover a heading for its weight)."
    for s in secs:
        members = [c for c in criteria if c.get("section") == s["name"]]
        if members and all(c.get("indicator") == "in_discount_area" for c in members):
            note += (
                f" {text(s.get('label') or s['name'])} is the electricity discount area alone: "
                "a policy offer (Scotland, Cumbria, the North East), not a property of the land."
            )
    return (
        f"<p class='gz-note'>{esc(note)}</p>"
        "<table class='gz-top gz-secs'><thead><tr><th class='num'>#</th><th>Local authority</th>"
        + head
        + "</tr></thead><tbody>"
        + rows
        + "</tbody></table>"
    )


DEPRIVATION_NOTE = (
    "Deprivation is scored by each local authority's position within its own nation (England: "
    "English Indices of Deprivation 2025; Wales: WIMD 2019; Scotland: SIMD 2020v2; 1 = the most "
    "deprived authority of that nation). The three indices are not comparable across nations."
)


def deprivation_note(criteria: list[dict[str, Any]]) -> str:
    """The within-nation caveat, when a criterion scores deprivation ('' otherwise)."""
    if any(c.get("indicator") == "deprivation_percentile" for c in criteria):
        return f"<p class='gz-note'>{esc(DEPRIVATION_NOTE)}</p>"
    return ""


def _criteria_list(criteria: list[dict[str, Any]]) -> str:
    shares = _weights(criteria)
    rows = "".join(
        f"<tr><td>{esc(c.get('label') or c['name'])}</td><td>{esc(text(c.get('unit', '')))}</td>"
        f"<td class='num'>{100 * shares.get(c['name'], 0):.0f}%</td></tr>"
        for c in criteria
    )
    return (
        "<table class='gz-top'><thead><tr><th>Criterion</th><th>Unit</th><th class='num'>Weight</th></tr>"
        "</thead><tbody>" + rows + "</tbody></table>"
    )


def render_national_map(
    ranking: Any,
    *,
    out_path: Path,
    criteria: list[dict[str, Any]],
    overlays: dict[str, Any] | None = None,
    provenance: list[dict[str, Any]] | None = None,
    title: str = "AI Growth Zones: national ranking",
    profile_title: str = "",
    generated_at: str | None = None,
    libraries: Any = None,
    tolerance_m: float = 200.0,
    sections: list[dict[str, Any]] | None = None,
    surface: Any = None,
    missing_checks: list[Any] | None = None,
) -> Path:
    """Write the national ranking map to ``out_path`` (one self-contained HTML file); return it.

    ``ranking`` and every overlay are EPSG:27700 GeoDataFrames. Geometries are simplified with
    ``tolerance_m`` (BNG metres) for display; if the page would exceed 5 MB the tolerance is
    doubled (up to 3 times) before giving up with the larger page. The base map (drawn with no
    tile server) is ``overlays["countries"]`` (land and coast) plus the council boundaries of
    ``ranking`` itself. ``libraries``: a bundled
    :class:`~growth_zones.report.assets.MapLibraries` is inlined (the page needs no network);
    ``None`` links folium's CDN. ``surface``: a :class:`SurfaceOverlay` drawn as a switchable
    image layer with its legend. ``sections`` (name, label,
    weight) label the ``section_<name>`` columns; by default they come from the criteria.
    """
    import folium

    out_path = Path(out_path)
    generated_at = generated_at or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    n = len(ranking)
    eligible = ranking["eligible"].map(truthy) if "eligible" in ranking else None
    n_excl = int((~eligible).sum()) if eligible is not None else 0

    html = ""
    for attempt in range(4):
        tol = tolerance_m * (2**attempt)
        m = new_map(bounds_of(ranking))
        regions_layer = layer(
            region_features(ranking, criteria, tol, sections),
            '<span class="gz-sw gz-sw-square" style="background:#21918c"></span> Local authorities (score)',
            show=True,
            highlight=True,
            attribution="Data: see &#8220;Data sources and licences&#8221; in the side panel",
        )
        regions_layer.add_to(m)
        add_basemap(
            m,
            BaseMap(
                land=land_collection((overlays or {}).get("countries"), tol),
                councils_from=regions_layer,
                tolerance_m=tol,
            ),
        )
        surface_rows = add_surface(m, surface) if surface is not None else []
        legend_rows = add_overlays(
            m,
            overlays,
            tolerance_m=tol,  # the choropleth first: grid layers on demand
            show={"substations_400": False, "substations_275": False},
        )
        if "rank" in ranking and n:
            fg = folium.FeatureGroup(name="Top 10 rank labels", show=True)
            ok = ranking[ranking["rank"].notna()]
            if eligible is not None:
                ok = ok[eligible[ok.index]]
            top = ok.sort_values("rank").head(10)
            if len(top):
                pts = top.copy()
                pts["geometry"] = top.geometry.representative_point()
                for (_, r), g in zip(
                    top.iterrows(), display_geometries(pts, "ranking", 0).values, strict=True
                ):
                    folium.Marker(
                        [g.y, g.x],
                        interactive=False,
                        keyboard=False,
                        icon=folium.DivIcon(
                            html=f'<div class="gz-rank">{int(r["rank"])}</div>',
                            icon_size=(22, 22),
                            icon_anchor=(11, 11),
                            class_name="gz-rank-icon",
                        ),
                    ).add_to(fg)
                fg.add_to(m)
        notice, sources = provenance_html(provenance)
        sidebar = (
            f"<h1>{esc(title)}</h1>"
            + (
                f"<div class='gz-meta'>Scoring profile: <b>{esc(profile_title)}</b></div>"
                if profile_title
                else ""
            )
            + f"<div class='gz-meta'>Generated: <b>{esc(generated_at)}</b></div>"
            + f"<div class='gz-meta'>{n} local authorities &#183; {n - n_excl} ranked &#183; "
            f"{esc(eligibility_summary(ranking))}</div>"
            + deliverability_summary(ranking, noun="local authorities")
            + missing_checks_banner(missing_checks, noun="local authorities")
            + notice
            + "<p class='gz-note'>Each local authority is shaded by its overall suitability score for an AI "
            "Growth Zone (AI data-centre campus). Hover for the rank; click an area for the breakdown by "
            "criterion. Use the layer list (top right) to show grid and connectivity infrastructure.</p>"
            + "<h2>Legend</h2>"
            + score_legend_html(
                deliverability_legend_rows(ranking.loc[eligible.to_numpy(), "deliverable"]) + legend_rows
                if "deliverable" in ranking and eligible is not None
                else legend_rows,
                vrange=score_range(ranking["score"]) if "score" in ranking else (0.0, 1.0),
            )
            + "".join(surface_rows)
            + basemap_note(tol)
            + "<h2>Top 10 local authorities</h2>"
            + _top_table(ranking)
            + "<h2>Top 10: score by section</h2>"
            + _top_sections(ranking, _sections(criteria, sections), criteria)
            + "<h2>Criteria and weights</h2>"
            + _criteria_list(criteria)
            + deprivation_note(criteria)
            + "<footer class='gz-footer'><h2>Data sources and licences</h2>"
            + sources
            + (libraries.licences_html() if libraries is not None else "")
            + "</footer>"
        )
        html = finish_page(
            m, title=title, sidebar_html=sidebar, libraries=libraries, extra_css=RANK_CSS + SURFACE_CSS
        )
        if len(html.encode("utf-8")) <= SIZE_BUDGET_BYTES:
            break
    from ..data.atomic import write_text

    write_text(out_path, html)
    return out_path


RANK_CSS = """
.gz-secs td, .gz-secs th { font-size: 12px; }
.gz-rank-icon { background: none; border: 0; }
.gz-rank { width: 22px; height: 22px; border-radius: 50%; background: #fff; border: 2px solid #111; color: #111;
  font: 700 11px/18px Arial, sans-serif; text-align: center; box-shadow: 0 1px 3px rgba(0,0,0,.4); }
"""


def basemap_note(tolerance_m: float) -> str:
    return (
        f"<div class='gz-lrow'>{swatch('#f2efe6', shape='square', border='#7d7d7d')} Land; grey lines: "
        "council (local authority) boundaries</div>"
        f"<p class='gz-note'>The base map is drawn from the ONS boundaries in the data store, simplified "
        f"for display to {tolerance_m:g} m, so it needs no internet; the OpenStreetMap background tiles "
        "switch on by themselves when they can be reached.</p>"
    )


SURFACE_CSS = """
.gz-surface-ramp { height: 12px; border: 1px solid #777; margin: 4px 0 2px; }
"""


@dataclass(frozen=True)
class SurfaceOverlay:
    """A downsampled picture of the national suitability surface (``surface --out``): a PNG in
    Web Mercator with its WGS84 bounds ``[[south, west], [north, east]]``, as Leaflet places it."""

    png: bytes
    bounds: tuple[tuple[float, float], tuple[float, float]]
    resolution_m: float
    pixel_m: float
    threshold: float
    excluded_colour: str
    stops: tuple[str, ...]
    source: str

    @property
    def label(self) -> str:
        return f"National suitability surface ({self.resolution_m:g} m cells)"


def add_surface(m: Any, surface: SurfaceOverlay) -> list[str]:
    """The surface as a switchable image layer (off at first, above the choropleth); returns the
    legend HTML."""
    import base64

    import folium

    uri = "data:image/png;base64," + base64.b64encode(surface.png).decode("ascii")
    folium.raster_layers.ImageOverlay(
        image=uri,
        bounds=[list(surface.bounds[0]), list(surface.bounds[1])],
        name=swatch("#21918c", shape="square") + " " + esc(surface.label),
        show=False,
        opacity=0.9,
        interactive=False,
        pane="gzSurface",
    ).add_to(m)
    n = len(surface.stops) - 1
    ramp = ", ".join(f"{c} {100 * i / n:.0f}%" for i, c in enumerate(surface.stops))
    return [
        f"<div class='gz-ltitle' style='margin-top:10px'>{esc(surface.label)} "
        "<span class='gz-unit'>(layer list; off at first)</span></div>"
        f"<div class='gz-surface-ramp' style='background:linear-gradient(to right, {ramp})'></div>"
        "<div class='gz-ticks'><span>0.00</span><span>0.25</span><span>0.50</span><span>0.75</span>"
        "<span>1.00</span></div>"
        f"<div class='gz-lrow'>{swatch(surface.excluded_colour, shape='square', border='#666')} Excluded cell "
        "(a hard constraint)</div>"
        f"<p class='gz-note'>Every land cell scored with the site profile; cells at or above "
        f"{surface.threshold:.2f} count as suitable. Picture at about "
        f"{max(surface.pixel_m, surface.resolution_m) / 1000:.1f} km per pixel (nearest cell) from "
        f"{esc(surface.source)}; the GeoTIFF holds the full resolution.</p>"
    ]

"""Building blocks shared by the national map and the assessment pages (folium imported lazily)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ._geo import display_geometries, feature_collection
from ._html import esc, fmt_num, gradient_css, is_missing, text, truthy

# Okabe-Ito colours (colour-blind safe) for infrastructure, distinct from the viridis score fill.
SUBSTATION_CLASSES = [  # (key, label, colour, radius)
    ("400", "Substations 400 kV", "#D55E00", 5.5),
    ("275", "Substations 275 kV", "#E69F00", 4.5),
    ("132", "Substations 132 kV and below / unknown", "#CC79A7", 3.0),
]
POINT_STYLES = {
    "tec_sites": ("Contracted connections (TEC register)", "#0072B2"),
    "landing_points": ("Subsea cable landing points", "#56B4E9"),
    "internet_exchanges": ("Internet exchanges", "#000000"),
    "applications": ("Candidate sites (applications)", "#ffffff"),
}
HATCH_ID = "gz-hatch"
OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def _layer_class() -> type:
    """A folium Layer holding one embedded GeoJSON FeatureCollection whose features carry their
    own style (``_s``), tooltip and popup HTML (built and escaped in Python)."""
    import folium
    from jinja2 import Template

    class GeoLayer(folium.map.Layer):
        _template = Template(
            """
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.geoJson({{ this.data_js }}, {
                {%- if this.pane %}pane: {{ this.pane|tojson }},{% endif %}
                interactive: {{ this.interactive|tojson }},
                {%- if this.attribution %}attribution: {{ this.attribution|tojson }},{% endif %}
                style: function (f) { return f.properties._s || {}; },
                pointToLayer: function (f, latlng) {
                    var s = Object.assign({}, f.properties._s || {});
                    {%- if this.pane %}s.pane = {{ this.pane|tojson }};{% endif %}
                    return L.circleMarker(latlng, s);
                },
                {%- if this.has_labels %}
                onEachFeature: function (f, layer) {
                    if (f.properties.label) {
                        layer.bindTooltip(f.properties.label, {permanent: true, direction: "center",
                                                               className: "gz-line-label"});
                    }
                }
                {%- endif %}
            });
            // one popup/tooltip/highlight handler for the whole layer (not one per feature): fast
            {%- if this.has_tooltips %}
            {{ this.get_name() }}.bindTooltip(function (l) { return l.feature.properties.tooltip || ""; },
                                              {{ this.tooltip_options|tojson }});
            {%- endif %}
            {%- if this.has_popups %}
            {{ this.get_name() }}.bindPopup(function (l) { return l.feature.properties.popup || ""; },
                                            {maxWidth: 460, maxHeight: 420});
            {%- endif %}
            {%- if this.highlight %}
            {{ this.get_name() }}.on("mouseover", function (e) {
                var l = e.propagatedFrom || e.layer;
                l.setStyle({weight: 3, color: "#111111"});
                if (l.bringToFront) { l.bringToFront(); }
            });
            {{ this.get_name() }}.on("mouseout", function (e) {
                {{ this.get_name() }}.resetStyle(e.propagatedFrom || e.layer);
            });
            {%- endif %}
            {% endmacro %}
            """
        )

        def __init__(
            self,
            data: dict[str, Any],
            name: str,
            *,
            show: bool = True,
            pane: str | None = None,
            highlight: bool = False,
            interactive: bool = True,
            sticky: bool = True,
            control: bool = True,
            attribution: str = "",
        ) -> None:
            super().__init__(name=name, overlay=True, control=control, show=show)
            self.attribution = attribution
            self._name = "GeoLayer"
            self.data = data
            self.data_js = script_json(data)
            feats = data.get("features", [])
            self.has_tooltips = any(f["properties"].get("tooltip") for f in feats)
            self.has_popups = any(f["properties"].get("popup") for f in feats)
            self.has_labels = any(f["properties"].get("label") for f in feats)
            self.pane = pane
            self.highlight = highlight
            self.interactive = interactive
            self.tooltip_options = {"sticky": sticky, "direction": "top", "className": "gz-tip"}

    return GeoLayer


def new_map(bounds: list[list[float]], *, tiles: bool = True) -> Any:
    """A folium map without default tiles; an optional online base map as a switchable overlay
    (offline it simply fails to load and the plain background stays)."""
    import folium

    m = folium.Map(
        location=[54.5, -2.5],
        zoom_start=6,
        tiles=None,
        control_scale=True,
        zoom_control="topright",
        prefer_canvas=False,
    )
    if tiles:
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr=OSM_ATTR,
            name="Background map (OpenStreetMap; needs internet)",
            overlay=True,
            control=True,
            show=True,
            opacity=0.55,
            max_zoom=19,
        ).add_to(m)
    for name, z in (("gzAreas", 405), ("gzLines", 410), ("gzPoints", 450)):
        folium.map.CustomPane(name, z_index=z, pointer_events=True).add_to(m)
    m.fit_bounds(bounds)
    return m


def layer(data: dict[str, Any], name: str, **kw: Any) -> Any:
    return _layer_class()(data, name, **kw)


def swatch(colour: str, *, shape: str = "circle", hatch: bool = False, border: str = "#333") -> str:
    cls = "gz-sw gz-sw-" + shape + (" gz-sw-hatch" if hatch else "")
    style = "" if hatch else f"background:{colour};"
    return f'<span class="{cls}" style="{style}border-color:{border}"></span>'


# ---------------------------------------------------------------- overlays


def _class_of_voltage(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "132"
    if math.isnan(f):
        return "132"
    if f >= 380:
        return "400"
    if f >= 220:
        return "275"
    return "132"


def _point_popup(title: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<div class="gz-pop"><h4>{esc(title)}</h4><table class="gz-kv">{body}</table></div>'


def add_overlays(
    m: Any,
    overlays: dict[str, Any] | None,
    *,
    show: dict[str, bool] | None = None,
    tolerance_m: float = 200.0,
) -> list[tuple[str, str]]:
    """Add every overlay as a switchable layer; return legend rows ``(swatch_html, label)``."""
    legend: list[tuple[str, str]] = []
    if not overlays:
        return legend
    show = show or {}

    def vis(key: str, default: bool) -> bool:
        return show.get(key, default)

    pa = overlays.get("protected_areas")
    if pa is not None and len(pa):
        geoms = display_geometries(pa, "protected_areas", tolerance_m)
        props = []
        for _, r in pa.iterrows():
            label = text(r.get("designation", "")).replace("_", " ")
            props.append(
                {
                    "_s": {"color": "#1b7837", "weight": 1, "fillColor": "#5aae61", "fillOpacity": 0.25},
                    "tooltip": esc(
                        f"{text(r.get('name', ''))} ({label})" if label else text(r.get("name", ""))
                    ),
                }
            )
        name = swatch("#5aae61", shape="square", border="#1b7837") + " Protected areas"
        layer(
            feature_collection(geoms, props), name, show=vis("protected_areas", False), pane="gzAreas"
        ).add_to(m)
        legend.append((swatch("#5aae61", shape="square", border="#1b7837"), "Protected area / constraint"))

    circ = overlays.get("circuits")
    if circ is not None and len(circ):
        geoms = display_geometries(circ, "circuits", 0)
        props = []
        for _, r in circ.iterrows():
            cls = _class_of_voltage(r.get("voltage_kv"))
            col = {"400": "#D55E00", "275": "#E69F00"}.get(cls, "#777777")
            props.append(
                {
                    "_s": {"color": col, "weight": 2.2 if cls == "400" else 1.5, "opacity": 0.85},
                    "tooltip": "Circuit " + fmt_num(r.get("voltage_kv"), "kV"),
                }
            )
        name = '<span class="gz-sw gz-sw-line" style="background:#D55E00"></span> Transmission circuits'
        layer(
            feature_collection(geoms, props), name, show=vis("circuits", False), pane="gzLines", sticky=True
        ).add_to(m)
        legend.append(
            (
                '<span class="gz-sw gz-sw-line" style="background:#D55E00"></span>',
                "Transmission circuit (400 kV; 275 kV orange)",
            )
        )

    subs = overlays.get("substations")
    if subs is not None and len(subs):
        geoms = display_geometries(subs, "substations", 0)
        classes = subs["voltage_kv"].map(_class_of_voltage) if "voltage_kv" in subs else None
        for key, label, col, radius in SUBSTATION_CLASSES:
            mask = (classes == key).to_numpy() if classes is not None else [key == "132"] * len(subs)
            sel = subs[mask]
            if not len(sel):
                continue
            props = []
            for _, r in sel.iterrows():
                nm = text(r.get("name", "")) or "Substation"
                props.append(
                    {
                        "_s": {
                            "radius": radius,
                            "color": "#ffffff",
                            "weight": 1,
                            "fillColor": col,
                            "fillOpacity": 1,
                        },
                        "tooltip": esc(nm) + " (" + fmt_num(r.get("voltage_kv"), "kV") + ")",
                        "popup": _point_popup(
                            nm,
                            [
                                ("Voltage", fmt_num(r.get("voltage_kv"), "kV")),
                                ("Kind", esc(text(r.get("kind", "")) or "—")),
                            ],
                        ),
                    }
                )
            name = swatch(col, border="#fff") + " " + esc(label) + f' <span class="gz-n">({len(sel)})</span>'
            layer(
                feature_collection(geoms[mask], props),
                name,
                show=vis(f"substations_{key}", key != "132"),
                pane="gzPoints",
            ).add_to(m)
            legend.append((swatch(col, border="#fff"), label))

    for key, fields in (
        ("tec_sites", ("connection_site", "mw")),
        ("landing_points", ("name",)),
        ("internet_exchanges", ("name", "metro")),
    ):
        g = overlays.get(key)
        if g is None or not len(g):
            continue
        label, col = POINT_STYLES[key]
        geoms = display_geometries(g, key, 0)
        props = []
        for _, r in g.iterrows():
            nm = text(r.get(fields[0], "")) or label
            if key == "tec_sites":
                mw = r.get("mw")
                rad = 3 + min(7.0, math.sqrt(max(float(mw), 0.0)) / 6) if not is_missing(mw) else 3
                rows = [("Capacity", fmt_num(mw, "MW"))]
                tip = nm
            elif key == "internet_exchanges":
                rad, rows = 5, [("Metro", esc(text(r.get("metro", "")) or "—"))]
                tip = nm
            else:
                rad, rows, tip = 5, [], nm
            props.append(
                {
                    "_s": {
                        "radius": rad,
                        "color": "#ffffff" if key == "internet_exchanges" else "#003049",
                        "weight": 1.2,
                        "fillColor": col,
                        "fillOpacity": 0.9,
                    },
                    "tooltip": esc(tip)
                    if key != "tec_sites"
                    else esc(nm) + " (" + fmt_num(r.get("mw"), "MW") + ")",
                    "popup": _point_popup(nm, rows),
                }
            )
        name = swatch(col) + " " + esc(label)
        layer(
            feature_collection(geoms, props), name, show=vis(key, key != "tec_sites"), pane="gzPoints"
        ).add_to(m)
        legend.append((swatch(col), label))

    apps = overlays.get("applications")
    if apps is not None and len(apps):
        add_applications(m, apps, show=vis("applications", True))
        legend.append((swatch("#ffffff", shape="diamond", border="#000"), "Candidate site (application)"))
    return legend


def add_applications(
    m: Any,
    apps: Any,
    *,
    show: bool = True,
    links: dict[str, str] | None = None,
    name: str = "Candidate sites (applications)",
) -> None:
    """Applications as points (centroids of their polygons) coloured by score, with popups."""
    from ._html import score_colour

    pts = apps.copy()
    pts["geometry"] = pts.geometry.representative_point()
    geoms = display_geometries(pts, "applications", 0)
    props = []
    ids = apps["id"] if "id" in apps.columns else apps.index.to_series()
    for (_, r), app_id in zip(apps.iterrows(), ids, strict=True):
        nm = text(r.get("name", "")) or text(app_id)
        rank = r.get("rank")
        score = r.get("score")
        rank_s = f"rank {int(rank)}" if not is_missing(rank) else "not ranked"
        rows = [
            ("Application", esc(text(app_id))),
            ("Score", fmt_num(score, digits=3)),
            ("Rank", fmt_num(int(rank)) if not is_missing(rank) else "—"),
        ]
        if "mw" in apps.columns:
            rows.append(("Capacity", fmt_num(r.get("mw"), "MW")))
        excluded = "eligible" in apps.columns and not truthy(r.get("eligible"))
        fill = (
            f"url(#{HATCH_ID})" if excluded else score_colour(score) if not is_missing(score) else "#ffffff"
        )
        if excluded:
            rows.append(
                ("Eligibility", "Excluded: " + esc(text(r.get("excluded_by")) or "fails a hard constraint"))
            )
        popup = _point_popup(nm, rows)
        if links and text(app_id) in links:
            popup = (
                popup[:-6]
                + f'<p><a href="{esc(links[text(app_id)])}">Open the site page &rarr;</a></p></div>'
            )
        props.append(
            {
                "_s": {"radius": 7, "color": "#000000", "weight": 2.5, "fillColor": fill, "fillOpacity": 1},
                "tooltip": esc(nm) + " &#8212; " + esc(rank_s),
                "popup": popup,
            }
        )
    label = swatch("#ffffff", shape="diamond", border="#000") + " " + esc(name)
    layer(feature_collection(geoms, props), label, show=show, pane="gzPoints").add_to(m)


# ---------------------------------------------------------------- page furniture

BASE_CSS = """
html, body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.leaflet-container { background: #dde6ed; font: inherit; }
.gz-tip { font-size: 13px; }
.gz-line-label { background: rgba(255,255,255,.9); border: 1px solid #555; font-weight: 600; font-size: 12px;
  padding: 1px 5px; box-shadow: none; }
.gz-line-label:before { display: none; }
.gz-pop { font-size: 13px; line-height: 1.35; min-width: 240px; }
.gz-pop h4 { font-size: 15px; margin: 0 0 2px; font-weight: 700; }
.gz-pop .gz-sub { color: #555; margin-bottom: 6px; }
.gz-pop .gz-big { font-size: 14px; margin: 4px 0 6px; }
.gz-pop table { border-collapse: collapse; width: 100%; margin-top: 4px; }
.gz-pop th, .gz-pop td { text-align: left; padding: 2px 4px; border-bottom: 1px solid #eee; vertical-align: top;
  font-size: 12px; }
.gz-pop th { font-weight: 600; color: #333; }
.gz-pop td.num { text-align: right; white-space: nowrap; }
.gz-barbox { display: inline-block; position: relative; width: 60px; height: 9px; background: #e6e6e6;
  vertical-align: middle; margin-right: 4px; border: 1px solid #c8c8c8; }
.gz-bar { position: absolute; left: 0; top: 0; height: 9px; background: #21918c; }
.gz-badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-weight: 600; font-size: 12px;
  white-space: nowrap; }
.gz-badge.ok { background: #d9f0d3; color: #1b5e20; } .gz-badge.bad { background: #fbd5c7; color: #8a1c00; }
.gz-badge.warn { background: #fff1c2; color: #6b4e00; } .gz-badge.na { background: #e8e8e8; color: #444; }
.gz-excl { color: #8a1c00; font-weight: 600; margin: 4px 0; }
.gz-note { color: #555; font-size: 12px; margin: 4px 0; }
.gz-sw { display: inline-block; width: 12px; height: 12px; border: 1.5px solid #333; border-radius: 50%;
  vertical-align: -1px; margin-right: 3px; }
.gz-sw-square { border-radius: 1px; width: 14px; height: 12px; }
.gz-sw-diamond { border-radius: 1px; transform: rotate(45deg) scale(.85); border-width: 2.5px; }
.gz-sw-line { border: 0; border-radius: 0; height: 3px; width: 16px; vertical-align: 3px; }
.gz-sw-hatch { border-radius: 1px; width: 14px; height: 12px; border-color: #666;
  background: repeating-linear-gradient(45deg, #bdbdbd 0 2px, #efefef 2px 5px); }
.gz-n { color: #777; font-size: 11px; }
.leaflet-control-layers { font-size: 12.5px; max-height: 60vh; overflow-y: auto; }
.leaflet-control-layers-expanded { padding: 4px 8px 4px 6px; }
.leaflet-control-layers-overlays label { margin: 2px 0; }
"""

HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true" focusable="false">'
    f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="7" height="7" '
    'patternTransform="rotate(45)"><rect width="7" height="7" fill="#eeeeee"/>'
    '<line x1="0" y1="0" x2="0" y2="7" stroke="#8c8c8c" stroke-width="3"/></pattern></defs></svg>'
)


def score_range(scores: Any) -> tuple[float, float]:
    """The colour scale's ends: the observed score range rounded out to 0.05, so a ranking whose
    scores cluster (say 0.45-0.85) uses the whole ramp instead of a few shades of it."""
    import numpy as np
    import pandas as pd

    v = np.asarray(pd.to_numeric(pd.Series(scores), errors="coerce"), dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return 0.0, 1.0
    lo, hi = np.floor(v.min() * 20) / 20, np.ceil(v.max() * 20) / 20
    return (float(lo), float(hi)) if hi > lo else (0.0, 1.0)


def score_legend_html(
    extra_rows: list[tuple[str, str]] | None = None,
    *,
    excluded: bool = True,
    title: str = "Overall score",
    vrange: tuple[float, float] = (0.0, 1.0),
) -> str:
    rows = "".join(f'<div class="gz-lrow">{sw} {esc(lbl)}</div>' for sw, lbl in (extra_rows or []))
    lo, hi = vrange
    ticks = "".join(f"<span>{lo + (hi - lo) * k / 4:.2f}</span>" for k in range(5))
    excl = (
        (
            f'<div class="gz-lrow">{swatch("", hatch=True)} Excluded (fails a hard constraint) &#8212; '
            "not ranked</div>"
        )
        if excluded
        else ""
    )
    return (
        '<div class="gz-legend" role="group" aria-label="Map legend">'
        f'<div class="gz-ltitle">{esc(title)} <span class="gz-unit">(0&#8211;1, unitless; relative)</span></div>'
        f'<div class="gz-ramp" style="background:{gradient_css()}"></div>'
        f'<div class="gz-ticks">{ticks}</div>'
        '<div class="gz-note">Lighter = weaker, darker = stronger case (colour-blind-safe viridis scale'
        + (f"; colours span the observed scores {lo:.2f}&#8211;{hi:.2f}" if (lo, hi) != (0.0, 1.0) else "")
        + ").</div>"
        f'{excl}<div class="gz-lrow">{swatch("#ffffff", shape="square", border="#999")} No score (data missing)</div>'
        f"{rows}</div>"
    )


SIDEBAR_CSS = """
.folium-map { position: absolute !important; left: 380px !important; top: 0 !important;
  width: calc(100% - 380px) !important; height: 100% !important; }
.gz-side { position: absolute; left: 0; top: 0; bottom: 0; width: 380px; overflow-y: auto; box-sizing: border-box;
  padding: 16px 18px 24px; background: #fff; border-right: 1px solid #ccc; z-index: 1001; color: #1a1a1a;
  font-size: 14px; line-height: 1.4; }
.gz-side h1 { font-size: 21px; line-height: 1.2; margin: 0 0 6px; font-weight: 700; }
.gz-side h2 { font-size: 15px; margin: 16px 0 6px; font-weight: 700; border-top: 1px solid #e3e3e3; padding-top: 10px; }
.gz-meta { color: #444; font-size: 13px; margin-bottom: 6px; }
.gz-meta b { color: #1a1a1a; }
.gz-ramp { height: 14px; border: 1px solid #777; margin: 4px 0 2px; }
.gz-ticks { display: flex; justify-content: space-between; font-size: 11px; color: #333; }
.gz-ltitle { font-weight: 600; }
.gz-unit { font-weight: 400; color: #555; font-size: 12px; }
.gz-lrow { margin: 4px 0; font-size: 13px; }
.gz-warn { background: #fff4e5; border: 1px solid #e69f00; border-left: 5px solid #d55e00; padding: 6px 8px;
  margin: 8px 0; font-size: 13px; }
.gz-top { width: 100%; border-collapse: collapse; font-size: 13px; }
.gz-top td, .gz-top th { padding: 2px 4px; border-bottom: 1px solid #eee; text-align: left; }
.gz-top td.num, .gz-top th.num { text-align: right; }
.gz-src { font-size: 12px; color: #333; }
.gz-src li { margin-bottom: 5px; }
.gz-src .nc { color: #8a1c00; font-weight: 600; }
details.gz-details summary { cursor: pointer; font-weight: 600; }
@media (max-width: 800px) {
  .folium-map { left: 0 !important; top: 45vh !important; width: 100% !important; height: 55vh !important; }
  .gz-side { width: 100%; bottom: auto; height: 45vh; border-right: 0; border-bottom: 1px solid #ccc; }
}
"""


def provenance_html(provenance: list[dict[str, Any]] | None) -> tuple[str, str]:
    """(notice_html, sources_html): the notices (non-commercial licences; datasets older than their
    publisher's release cadence; empty when none) and the list of every dataset with publisher,
    licence, attribution, vintage and, for a stale copy, its age."""
    if not provenance:
        return "", '<p class="gz-src">No data-source list was supplied.</p>'
    items, nc, stale = [], [], []
    for p in provenance:
        title = text(p.get("title", "")) or text(p.get("key", ""))
        lic = text(p.get("licence", ""))
        url = text(p.get("licence_url", ""))
        lic_html = (
            esc(lic)
            if not url.lower().startswith(("http://", "https://"))
            else f'<a href="{esc(url)}" rel="noopener noreferrer" target="_blank">{esc(lic) or esc(url)}</a>'
        )
        non_comm = truthy(p.get("non_commercial", False))
        if non_comm:
            nc.append(title)
        parts = [f"<b>{esc(title)}</b>"]
        if text(p.get("publisher", "")):
            parts.append(esc(p.get("publisher")))
        if text(p.get("vintage", "")):
            parts.append(f"vintage {esc(p.get('vintage'))}")
        if truthy(p.get("stale", False)):
            age = p.get("age_days")
            days = f"{int(age)} days old" if isinstance(age, int | float) else "age unknown"
            parts.append(
                f'<span class="nc">stale: released {esc(p.get("released", ""))}, {days}; '
                f"the publisher releases {esc(p.get('release_cadence', ''))}</span>"
            )
            stale.append(title)
        if lic_html:
            parts.append(f"licence: {lic_html}")
        line = " &#183; ".join(parts)
        if text(p.get("attribution", "")):
            line += f'<br><span class="gz-attr">{esc(p.get("attribution"))}</span>'
        if non_comm:
            line += '<br><span class="nc">Non-commercial use only</span>'
        items.append(f"<li>{line}</li>")
    notice = ""
    if nc:
        notice = (
            '<div class="gz-warn" role="note"><b>Licence notice:</b> contains data licensed for '
            "non-commercial use only: " + "; ".join(esc(t) for t in nc) + ".</div>"
        )
    if stale:
        notice += (
            '<div class="gz-warn" role="note"><b>Stale data:</b> older than its publisher\'s release '
            "cadence (a newer release exists): " + "; ".join(esc(t) for t in stale) + ".</div>"
        )
    return notice, '<ul class="gz-src">' + "".join(items) + "</ul>"


def finish_page(
    m: Any, *, title: str, sidebar_html: str, assets: Any, extra_css: str = "", tail_html: str = ""
) -> str:
    """Add the page furniture, apply the asset mode and return the full HTML document."""
    import folium

    from .assets import apply_assets

    root = m.get_root()
    root.title = esc(title)  # branca renders Figure.title into <title> unescaped
    apply_assets(m, assets)  # first, so that the page's own CSS below wins over library CSS
    root.header.add_child(
        folium.Element(
            f'<meta name="color-scheme" content="light"><style>{BASE_CSS}{SIDEBAR_CSS}{extra_css}</style>'
        ),
        name="gz_css",
    )
    root.html.add_child(folium.Element(HATCH_SVG), name="gz_hatch")
    if sidebar_html:
        root.html.add_child(
            folium.Element(f'<aside class="gz-side" aria-label="Report information">{sidebar_html}</aside>'),
            name="gz_side",
        )
    if tail_html:
        root.html.add_child(folium.Element(tail_html), name="gz_tail")
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    ready = folium.MacroElement()
    ready._template = folium.template.Template(
        "{% macro script(this, kwargs) %}"
        "if (window.performance && performance.mark) { performance.mark('gz-map-ready'); }"
        "{% endmacro %}"
    )
    m.add_child(ready, name="gz_ready")
    html = root.render()
    return html


def bounds_of(gdf: Any) -> list[list[float]]:
    from ._geo import _transformer

    x0, y0, x1, y1 = gdf.total_bounds
    tr = _transformer()
    lons, lats = tr.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


_SCRIPT_HAZARD = re.compile(r"</|<!--|<script", re.IGNORECASE)


def script_json(obj: Any) -> str:
    """JSON that is safe to paste inside an HTML ``<script>`` element.

    Only ``</`` (which could close the element) and ``<!--`` / ``<script`` (which change how the
    HTML parser reads script text) are hazards there; they are written as JSON escapes. Unlike
    jinja's ``tojson`` the markup of popups is not inflated sixfold by escaping every ``<``. All
    strings from applications or downloads were HTML-escaped before they were put in ``obj``.
    """
    text_ = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _SCRIPT_HAZARD.sub(lambda m: r"\u003c" + m.group(0)[1:], text_)

"""Building blocks shared by the national map and the assessment pages (folium imported lazily)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from ._geo import display_geometries, feature_collection
from ._html import eligibility, eligibility_text, esc, fmt_num, gradient_css, is_missing, text, truthy

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
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_PROBE = "https://tile.openstreetmap.org/0/0/0.png"
TILE_PROBE_TIMEOUT_MS = 6000
PANES = (  # (name, z-index): the base land sits below the tile pane (200), everything else above it
    ("gzBaseLand", 150),
    ("gzBaseLines", 390),
    ("gzSurface", 402),
    ("gzAreas", 405),
    ("gzLines", 410),
    ("gzPoints", 450),
)
BASEMAP_LABEL = (
    '<span class="gz-sw gz-sw-square" style="background:#f2efe6;border-color:#8c8c8c"></span> '
    "Base map: coast and council boundaries (ONS; works offline)"
)
TILES_LABEL = "Background tiles (OpenStreetMap; needs internet)"
LAND_STYLE = {"color": "#7d7d7d", "weight": 0.9, "fillColor": "#f2efe6", "fillOpacity": 1, "opacity": 1}
COUNCIL_STYLE = {"color": "#8f8f8f", "weight": 0.7, "opacity": 0.9, "fill": False}


class JsRef(str):
    """A JavaScript expression that evaluates to a GeoJSON FeatureCollection held in a shared data
    file (``assets/basemap.js``, ``assets/context.js``) instead of being pasted into the page."""


def fc_flags(data: dict[str, Any]) -> dict[str, bool]:
    """Which handlers a layer needs (tooltips, popups, labels), from its FeatureCollection."""
    feats = data.get("features", [])
    return {
        "has_tooltips": any(f["properties"].get("tooltip") for f in feats),
        "has_popups": any(f["properties"].get("popup") for f in feats),
        "has_labels": any(f["properties"].get("label") for f in feats),
    }


def _render_raw(element: Any, kwargs: Any) -> None:
    """Render one of our elements like branca's ``MacroElement.render`` (its ``script`` macro into
    the page's script), but add the output as raw text: branca would compile the rendered script as
    a jinja template a second time (slow, and a place where data could turn into template code).
    A shown layer is added to its parent here too (folium's Layer adds a child element for that)."""
    figure = element.get_root()
    script = element._template.module.__dict__["script"](element, kwargs)
    if getattr(element, "_add_to_parent", False):
        script = f"{script}\n{element.get_name()}.addTo({element._parent.get_name()});"
    figure.script.add_child(raw_html(str(script)), name=element.get_name())
    for child in element._children.values():
        child.render(**kwargs)


@cache
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
            data: dict[str, Any] | JsRef,
            name: str,
            *,
            show: bool = True,
            pane: str | None = None,
            highlight: bool = False,
            interactive: bool = True,
            sticky: bool = True,
            control: bool = True,
            attribution: str = "",
            flags: dict[str, bool] | None = None,
        ) -> None:
            super().__init__(name=name, overlay=True, control=control, show=show)
            self.attribution = attribution
            self._name = "GeoLayer"
            if isinstance(data, JsRef):  # the data lives in a shared file; its flags come with it
                self.data = None
                self.data_js = str(data)
                f = flags or {}
            else:
                self.data = data
                self.data_js = script_json(data)
                f = flags or fc_flags(data)
            self.has_tooltips = f.get("has_tooltips", False)
            self.has_popups = f.get("has_popups", False)
            self.has_labels = f.get("has_labels", False)
            self.pane = pane
            self.highlight = highlight
            self.interactive = interactive
            self.tooltip_options = {"sticky": sticky, "direction": "top", "className": "gz-tip"}

        def render(self, **kwargs: Any) -> None:
            self._add_to_parent = self.show
            _render_raw(self, kwargs)

    return GeoLayer


def new_map(
    bounds: list[list[float]],
    *,
    tiles: bool = True,
    basemap: BaseMap | None = None,
    padding: tuple[int, int] | None = None,
) -> Any:
    """A folium map with no default tiles.

    ``basemap`` (GB land and council boundaries from the store) is the bottom layer, so the map
    reads with no tile server. The OpenStreetMap tiles are an optional layer: it starts off and
    switches itself on only if a probe tile loads (the user can also switch it on).
    """
    import folium

    m = folium.Map(
        location=[54.5, -2.5],
        zoom_start=6,
        tiles=None,
        control_scale=True,
        zoom_control="topright",
        prefer_canvas=False,
    )
    mname = m.get_name()
    m.add_child(  # the panes first, so every layer finds its pane (one snippet, not one element per pane)
        _snippet_class()(
            "".join(
                f'{mname}.createPane("{name}").style.zIndex = {z};'
                + (
                    f'{mname}.getPane("{name}").style.pointerEvents = "none";'
                    if name == "gzBaseLines"
                    else ""
                )
                for name, z in PANES
            )
        ),
        name="gz_panes",
    )
    if tiles:
        add_tiles(m)
    if basemap is not None:
        add_basemap(m, basemap)
    m.fit_bounds(bounds, padding=padding)
    return m


def add_tiles(m: Any) -> Any:
    """The OpenStreetMap tile layer, off at first; a one-tile probe switches it on when it loads
    (so a closed network shows the base map instead of grey squares)."""

    tiles = _tiles_class()(TILE_URL, name=TILES_LABEL, attribution=OSM_ATTR, opacity=0.85, max_zoom=19)
    tiles.add_to(m)
    probe = _snippet_class()(
        "(function () { var img = new Image(), done = false;"
        f" var t = setTimeout(function () {{ done = true; }}, {TILE_PROBE_TIMEOUT_MS});"
        " img.onload = function () { if (done) { return; } clearTimeout(t);"
        f" if (!{m.get_name()}.hasLayer({tiles.get_name()})) {{ {m.get_name()}.addLayer({tiles.get_name()}); }} }};"
        f' img.src = "{TILE_PROBE}"; }})();'
    )
    m.add_child(probe, name="gz_tile_probe")
    return tiles


@dataclass
class BaseMap:
    """The offline base map: land (country polygons) and council (local authority) boundaries.

    Either inline FeatureCollections (``land``, ``councils``), references into a shared data file
    (``ref``: a JS object with ``land`` and ``councils``), or, for the national map, the councils
    taken from the choropleth layer already on the page (``councils_from``) so the boundaries are
    not embedded twice. ``tolerance_m`` is the display simplification, stated in the legend.
    """

    land: dict[str, Any] | None = None
    councils: dict[str, Any] | None = None
    ref: str = ""
    councils_from: Any = None
    tolerance_m: float = 0.0
    council_tooltips: bool = False


BASEMAP_TOLERANCE_M = 100.0
"""Display simplification of the base map's coast and council boundaries (BNG metres)."""


def land_collection(countries: Any, tolerance_m: float = BASEMAP_TOLERANCE_M) -> dict[str, Any] | None:
    """The land polygons (ONS countries) of the base map, simplified for display."""
    if countries is None or not len(countries):
        return None
    geoms = display_geometries(countries, "countries", tolerance_m)
    fc = feature_collection(geoms, [{"_s": LAND_STYLE} for _ in range(len(countries))])
    fc["gz_layer"] = "base_land"
    return fc


def council_collection(regions: Any, tolerance_m: float = BASEMAP_TOLERANCE_M) -> dict[str, Any] | None:
    """The council (local authority district) boundaries of the base map, simplified for display."""
    if regions is None or not len(regions):
        return None
    geoms = display_geometries(regions, "regions", tolerance_m)
    fc = feature_collection(geoms, [{"_s": COUNCIL_STYLE} for _ in range(len(regions))])
    fc["gz_layer"] = "base_councils"
    return fc


def add_basemap(m: Any, basemap: BaseMap) -> Any:
    """Add the base map (one switchable entry, on by default); returns its feature group."""

    group = _group_class()(BASEMAP_LABEL)
    land = JsRef(f"{basemap.ref}.land") if basemap.ref else basemap.land
    if land is not None:
        layer(land, "land", pane="gzBaseLand", interactive=False, control=False).add_to(group)
    if basemap.councils_from is not None:
        _outline_class()(basemap.councils_from, COUNCIL_STYLE, pane="gzBaseLines").add_to(group)
    else:
        councils = JsRef(f"{basemap.ref}.councils") if basemap.ref else basemap.councils
        if councils is not None:
            layer(
                councils,
                "councils",
                pane="gzBaseLines",
                interactive=False,
                control=False,
                flags={"has_tooltips": False},
            ).add_to(group)
    group.add_to(m)
    return group


@cache
def _raw_class() -> type:
    """A piece of finished HTML placed in the page as it is.

    ``raw_html(html)`` compiles ``html`` as a jinja template: slow (a compile per element)
    and unsafe, because ``{{ ... }}`` in an application's name would be evaluated as a template
    expression while the report is written. This element's template is compiled once and only
    prints ``this.html``, so nothing in the HTML is ever interpreted.
    """
    from branca.element import Element
    from jinja2 import Template

    class RawHtml(Element):
        _template = Template("{{ this.html }}")

        def __init__(self, html: str) -> None:
            super().__init__()
            self._name = "RawHtml"
            self.html = html

    return RawHtml


def raw_html(html: str) -> Any:
    """:func:`_raw_class` instance holding ``html`` (already escaped where it must be)."""
    return _raw_class()(html)


@cache
def _tiles_class() -> type:
    """An XYZ tile layer, off at first (folium's TileLayer looks its URL up in a provider list
    each time: a few ms per page)."""
    import folium
    from jinja2 import Template

    class Tiles(folium.map.Layer):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "var {{ this.get_name() }} = L.tileLayer({{ this.url|tojson }}, {{ this.options|tojson }});"
            "{% endmacro %}"
        )

        def __init__(self, url: str, *, name: str, attribution: str, opacity: float, max_zoom: int) -> None:
            super().__init__(name=name, overlay=True, control=True, show=False)
            self._name = "Tiles"
            self.url = url
            self.options = {"attribution": attribution, "opacity": opacity, "maxZoom": max_zoom}

        def render(self, **kwargs: Any) -> None:
            self._add_to_parent = self.show
            _render_raw(self, kwargs)

    return Tiles


@cache
def _group_class() -> type:
    """A switchable group of layers (one entry in the layer list), shown at first."""
    import folium
    from jinja2 import Template

    class Group(folium.map.Layer):
        _template = Template(
            "{% macro script(this, kwargs) %}var {{ this.get_name() }} = L.featureGroup();{% endmacro %}"
        )

        def __init__(self, name: str) -> None:
            super().__init__(name=name, overlay=True, control=True, show=True)
            self._name = "Group"

        def render(self, **kwargs: Any) -> None:
            self._add_to_parent = self.show
            _render_raw(self, kwargs)

    return Group


@cache
def _snippet_class() -> type:
    """A fixed piece of JavaScript in the map's script (one compiled template for all pages)."""
    import folium
    from jinja2 import Template

    class Snippet(folium.MacroElement):
        _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

        def __init__(self, code: str) -> None:
            super().__init__()
            self._name = "Snippet"
            self.code = code

        def render(self, **kwargs: Any) -> None:
            _render_raw(self, kwargs)

    return Snippet


@cache
def _outline_class() -> type:
    """A layer that redraws another layer's polygons as outlines (no second copy of the data)."""
    import folium
    from jinja2 import Template

    class OutlineOf(folium.map.Layer):
        _template = Template(
            """
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.geoJson(null, {
                pane: {{ this.pane|tojson }}, interactive: false,
                style: function () { return {{ this.style|tojson }}; }
            });
            {{ this.source.get_name() }}.eachLayer(function (l) { {{ this.get_name() }}.addData(l.feature); });
            {% endmacro %}
            """
        )

        def __init__(self, source: Any, style: dict[str, Any], *, pane: str) -> None:
            super().__init__(name="council outlines", overlay=True, control=False, show=True)
            self._name = "OutlineOf"
            self.source = source
            self.style = style
            self.pane = pane

        def render(self, **kwargs: Any) -> None:
            self._add_to_parent = self.show
            _render_raw(self, kwargs)

    return OutlineOf


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


@dataclass
class OverlaySpec:
    """One switchable context layer, built once (its FeatureCollection already escaped and in
    lon/lat) and drawn on any number of maps, inline or from a shared data file."""

    key: str
    label_html: str
    data: dict[str, Any]
    pane: str
    show: bool
    legend: tuple[str, str]
    sticky: bool = True

    @cached_property
    def flags(self) -> dict[str, bool]:
        return fc_flags(self.data)


def overlay_specs(overlays: dict[str, Any] | None, *, tolerance_m: float = 200.0) -> list[OverlaySpec]:
    """The context layers (protected areas, circuits, substations by voltage class, TEC connection
    sites, landing points, internet exchanges) as :class:`OverlaySpec` (applications excluded)."""
    specs: list[OverlaySpec] = []
    if not overlays:
        return specs

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
        specs.append(
            OverlaySpec(
                "protected_areas",
                name,
                feature_collection(geoms, props),
                "gzAreas",
                False,
                (swatch("#5aae61", shape="square", border="#1b7837"), "Protected area / constraint"),
            )
        )

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
        specs.append(
            OverlaySpec(
                "circuits",
                name,
                feature_collection(geoms, props),
                "gzLines",
                False,
                (
                    '<span class="gz-sw gz-sw-line" style="background:#D55E00"></span>',
                    "Transmission circuit (400 kV; 275 kV orange)",
                ),
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
            specs.append(
                OverlaySpec(
                    f"substations_{key}",
                    name,
                    feature_collection(geoms[mask], props),
                    "gzPoints",
                    key != "132",
                    (swatch(col, border="#fff"), label),
                )
            )

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
        specs.append(
            OverlaySpec(
                key,
                name,
                feature_collection(geoms, props),
                "gzPoints",
                key != "tec_sites",
                (swatch(col), label),
            )
        )
    return specs


def add_overlay_specs(
    m: Any, specs: list[OverlaySpec], *, show: dict[str, bool] | None = None, ref: str = ""
) -> list[tuple[str, str]]:
    """Draw ``specs`` on ``m`` (inline, or from the shared data object ``ref`` when given); return
    the legend rows ``(swatch_html, label)``. ``show`` overrides each layer's default visibility."""
    show = show or {}
    legend = []
    for spec in specs:
        data: dict[str, Any] | JsRef = JsRef(f"{ref}[{json.dumps(spec.key)}]") if ref else spec.data
        layer(
            data,
            spec.label_html,
            show=show.get(spec.key, spec.show),
            pane=spec.pane,
            sticky=spec.sticky,
            flags=spec.flags,
        ).add_to(m)
        legend.append(spec.legend)
    return legend


def add_overlays(
    m: Any,
    overlays: dict[str, Any] | None,
    *,
    show: dict[str, bool] | None = None,
    tolerance_m: float = 200.0,
) -> list[tuple[str, str]]:
    """Add every overlay (and the applications, if any) as a switchable layer; return legend rows."""
    legend = add_overlay_specs(m, overlay_specs(overlays, tolerance_m=tolerance_m), show=show)
    apps = (overlays or {}).get("applications")
    if apps is not None and len(apps):
        add_applications(m, apps, show=(show or {}).get("applications", True))
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
    radius = 7 if len(apps) <= 50 else 5 if len(apps) <= 300 else 3.5  # many sites: smaller markers
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
        state = (
            eligibility(r) if ("eligible" in apps.columns or "eligibility" in apps.columns) else "eligible"
        )
        excluded = state == "excluded"
        fill = (
            f"url(#{HATCH_ID})" if excluded else score_colour(score) if not is_missing(score) else "#ffffff"
        )
        if state != "eligible":
            rows.append(("Eligibility", esc(eligibility_text(r))))
        popup = _point_popup(nm, rows)
        if links and text(app_id) in links:
            popup = (
                popup[:-6]
                + f'<p><a href="{esc(links[text(app_id)])}">Open the site page &rarr;</a></p></div>'
            )
        props.append(
            {
                "_s": {
                    "radius": radius,
                    "color": "#000000",
                    "weight": 2.5 if radius > 4 else 1.2,
                    "fillColor": fill,
                    "fillOpacity": 1,
                },
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
.gz-unk { color: #6b4e00; font-weight: 600; margin: 4px 0; }
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
        # one line a reader can take in at a glance; the list opens on demand (it can be long)
        n = len(stale)
        notice += (
            '<details class="gz-warn" role="note"><summary><b>Stale data:</b> '
            f"{n} dataset{'s' if n != 1 else ''} older than the publisher's release cadence "
            "(a newer release exists)</summary>" + "; ".join(esc(t) for t in stale) + ".</details>"
        )
    return notice, '<ul class="gz-src">' + "".join(items) + "</ul>"


@dataclass(frozen=True)
class Shared:
    """A page inside a report folder that shares its assets: ``prefix`` is the relative URL of the
    folder's ``assets/`` from the page (``"assets/"``, ``"../assets/"``); ``scripts`` are the shared
    data files loaded before the map (``basemap.js``, ``context.js``)."""

    prefix: str
    scripts: tuple[str, ...] = ()


SHARED_CSS_FILE = "report.css"


def shared_css() -> str:
    """The page CSS every map page uses (written once into a report folder's assets)."""
    from .assets import BANNER_CSS

    return BASE_CSS + SIDEBAR_CSS + BANNER_CSS + PRINT_CSS


def finish_page(
    m: Any,
    *,
    title: str,
    sidebar_html: str,
    libraries: Any = None,
    shared: Shared | None = None,
    extra_css: str = "",
    tail_html: str = "",
    collapsed_layers: bool = False,
) -> str:
    """Add the page furniture and the map libraries; return the full HTML document.

    ``libraries`` (:class:`~growth_zones.report.assets.MapLibraries`): bundled code is inlined into
    the page, or linked from ``shared.prefix`` when the page is part of a report folder; ``None``
    or a CDN set keeps folium's CDN links. Every page carries the 'map needs the network' banner,
    visible when the libraries could not be bundled or fail to load.
    """
    import folium

    from .assets import BANNER_CSS, SHARED_CSS, SHARED_JS, MapLibraries, banner_html

    libraries = libraries if libraries is not None else MapLibraries.cdn()
    root = m.get_root()
    root.title = esc(title)  # branca renders Figure.title into <title> unescaped
    head: list[str] = ['<meta name="color-scheme" content="light">']
    if not libraries.bundled:  # register folium's CDN links now, so the page CSS below comes after them
        from branca.element import CssLink, JavascriptLink

        for name, url in m.default_js:
            root.header.add_child(JavascriptLink(url), name=name)
        for name, url in m.default_css:
            root.header.add_child(CssLink(url), name=name)
    else:
        m.default_js = []
        m.default_css = []
        if shared is not None:
            head.append(f'<link rel="stylesheet" href="{esc(shared.prefix + SHARED_CSS)}">')
            head.append(f'<script src="{esc(shared.prefix + SHARED_JS)}"></script>')
        else:  # pasted in after compact_html, which must not touch the libraries' code
            head.append(_LIBS_PLACEHOLDER)
    if shared is not None:  # the page's own CSS after the libraries', so it wins
        head.append(f'<link rel="stylesheet" href="{esc(shared.prefix + SHARED_CSS_FILE)}">')
        head.extend(f'<script src="{esc(shared.prefix + name)}"></script>' for name in shared.scripts)
    else:
        head.append(f"<style>{BASE_CSS}{SIDEBAR_CSS}{BANNER_CSS}{PRINT_CSS}</style>")
    if extra_css:
        head.append(f"<style>{extra_css}</style>")
    root.header.add_child(raw_html("".join(head)), name="gz_head_assets")
    shared_js = (shared.prefix + SHARED_JS) if (shared is not None and libraries.bundled) else ""
    root.html.add_child(raw_html(HATCH_SVG), name="gz_hatch")
    if sidebar_html:
        root.html.add_child(
            raw_html(f'<aside class="gz-side" aria-label="Report information">{sidebar_html}</aside>'),
            name="gz_side",
        )
    root.html.add_child(raw_html(banner_html(libraries, shared_file=shared_js)), name="gz_banner")
    if tail_html:
        root.html.add_child(raw_html(tail_html), name="gz_tail")
    folium.LayerControl(collapsed=collapsed_layers, position="topright").add_to(m)
    ready = _snippet_class()(
        "if (window.performance && performance.mark) { performance.mark('gz-map-ready'); }"
    )
    m.add_child(ready, name="gz_ready")
    html = compact_html(str(root.render()))
    if libraries.bundled and shared is None:
        html = html.replace(
            _LIBS_PLACEHOLDER,
            f"<style>{libraries.style_text()}</style><script>{libraries.script_text()}</script>",
            1,
        )
    return html


_LIBS_PLACEHOLDER = "<!--gz-map-libraries-->"


_INDENT = re.compile(r"\n[ \t]+")
_BLANK_LINES = re.compile(r"\n{2,}")


def compact_html(html: str) -> str:
    """Drop the indentation and blank lines folium's templates leave (a third of a small page).

    Safe because nothing on these pages is whitespace-sensitive: no ``<pre>``/``<textarea>``, and
    every string inside scripts is JSON or a one-line literal (a newline in a JSON string is
    always escaped as ``\\n``)."""
    return _BLANK_LINES.sub("\n", _INDENT.sub("\n", html))


PRINT_CSS = """
@media print {
  .leaflet-control-container, .gz-nolib { display: none !important; }
}
"""


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

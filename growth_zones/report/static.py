"""Static exports for briefings, slide decks and committee papers (matplotlib, Agg: no display).

* :func:`national_png`: the national ranking as an image: local authorities shaded by score (the
  same colour scale as the HTML map), excluded areas hatched, the top 10 labelled, legend, scale
  bar, north arrow, every dataset's attribution and the licence notice.
* :func:`assessment_pngs`: an overview of every assessed site on a map of GB, and one image per
  site: the site, its nearest infrastructure with distances, the designations around it, council
  boundaries and coast, scale bar, north arrow, attribution.
* :func:`write_surface_overview`: the national suitability surface as a downsampled PNG in Web
  Mercator with its WGS84 bounds, which the HTML maps draw as an image layer.

Maps are drawn in EPSG:27700 (British National Grid) metres, so the scale bar is a grid distance
(true ground distance differs by the BNG scale factor, within 0.04% across GB). The north arrow
points to true north at the map centre (grid and true north differ by up to about 4 degrees at
the edges of GB).
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ._html import (
    EXCLUDED_FILL,
    NODATA_FILL,
    SCORE_STOPS,
    eligibility,
    eligibility_column,
    eligibility_summary,
    eligibility_text,
    is_missing,
    score_colour,
    text,
    truthy,
)

DPI = 150
LAND = "#f2efe6"
SEA = "#dde6ed"
COAST = "#7d7d7d"
COUNCIL = "#9a9a9a"
DESIGNATION_COLOURS = {  # designation -> (fill, edge): Okabe-Ito-based, distinct from the score ramp
    "national_park": ("#b8e186", "#4d9221"),
    "aonb": ("#d9f0a3", "#78c679"),
    "sssi": ("#5aae61", "#1b7837"),
    "sac": ("#a6dba0", "#1b7837"),
    "spa": ("#c2a5cf", "#762a83"),
    "ramsar": ("#92c5de", "#2166ac"),
    "green_belt": ("#d9ef8b", "#66bd63"),
    "ancient_woodland": ("#7fbf7b", "#00441b"),
    "flood_zone_3": ("#6baed6", "#08519c"),
    "flood_zone_2": ("#c6dbef", "#4292c6"),
}
SITE_VIEW_MIN_M = 6_000.0
"""A site image shows at least this width and height (BNG metres) around the site."""


# ---------------------------------------------------------------- map furniture


F = TypeVar("F", bound=Callable[..., Any])


def _plain_text(func: F) -> F:
    """Draw every text as it is: no mathtext (a ``$`` in an application's name would otherwise be
    parsed as a formula, and a malformed one would stop the export) and no TeX."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def nice_length(span_m: float, fraction: float = 0.22) -> float:
    """The largest 1, 2 or 5 x 10^k metres not longer than ``fraction`` of ``span_m``."""
    target = max(span_m * fraction, 1.0)
    k = math.floor(math.log10(target))
    best = 10.0**k
    for m in (1, 2, 5, 10):
        if m * 10.0**k <= target:
            best = m * 10.0**k
    return best


def add_scale_bar(ax: Any, extent: tuple[float, float, float, float]) -> dict[str, Any]:
    """A four-segment scale bar in the lower left, drawn in BNG metres (grid distance); returns
    its position and length for the record (and the tests)."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = extent
    length = nice_length(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.045 * (y1 - y0)
    h = 0.009 * (y1 - y0)
    ax.add_patch(
        Rectangle(
            (bx - 0.012 * (x1 - x0), by - 0.6 * h),
            length + 0.05 * (x1 - x0),
            5.2 * h,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=20,
        )
    )
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by),
                length / 4,
                h,
                facecolor="#111111" if i % 2 == 0 else "white",
                edgecolor="#111111",
                linewidth=0.6,
                zorder=21,
                gid="gz-scalebar",
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx, by + 1.6 * h, "0", fontsize=6.5, ha="center", va="bottom", zorder=22)
    ax.text(bx + length, by + 1.6 * h, label, fontsize=6.5, ha="center", va="bottom", zorder=22)
    ax.text(
        bx + length / 2,
        by + 3.0 * h,
        "grid distance (British National Grid)",
        fontsize=5,
        ha="center",
        va="bottom",
        color="#333333",
        zorder=22,
    )
    return {"x0": bx, "x1": bx + length, "y": by, "length_m": length, "label": label}


def true_north_bearing(x: float, y: float) -> float:
    """Clockwise angle in degrees from grid north (+y of EPSG:27700) to true north at BNG point
    (x, y): the direction of a short step due north, measured in grid coordinates."""
    from ._geo import _transformer

    lon, lat = _transformer().transform(x, y)
    from pyproj import Transformer

    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x2, y2 = to_bng.transform(lon, lat + 0.05)
    return math.degrees(math.atan2(x2 - x, y2 - y))


def add_north_arrow(ax: Any, extent: tuple[float, float, float, float]) -> float:
    """An arrow to true north at the map centre (upper left); returns its bearing from grid north."""
    x0, y0, x1, y1 = extent
    bearing = true_north_bearing((x0 + x1) / 2, (y0 + y1) / 2)
    cx, cy = 0.07, 0.90  # axes fraction
    r = 0.045
    dx, dy = r * math.sin(math.radians(bearing)), r * math.cos(math.radians(bearing))
    ax.annotate(
        "",
        xy=(cx + dx, cy + dy),
        xytext=(cx - dx, cy - dy),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>,head_width=0.35,head_length=0.8", "color": "#111111", "lw": 1.6},
        zorder=23,
        gid="gz-north-arrow",
    )
    ax.text(
        cx + 1.45 * dx,
        cy + 1.45 * dy,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        zorder=23,
    )
    return bearing


def attribution_lines(
    provenance: list[dict[str, Any]] | None, width: int, notice_width: int | None = None
) -> tuple[list[str], list[str]]:
    """(attribution lines, licence-notice lines): every distinct attribution of the datasets used,
    wrapped to ``width`` characters, and the non-commercial notice when any dataset needs it."""
    seen: dict[str, None] = {}
    nc: list[str] = []
    for p in provenance or []:
        a = " ".join(text(p.get("attribution")).split())
        if a:
            seen.setdefault(a, None)
        if truthy(p.get("non_commercial")):
            nc.append(text(p.get("title")) or text(p.get("key")))
    attr = textwrap.wrap("Data: " + " | ".join(seen) if seen else "Data: no source list supplied.", width)
    notice = (
        textwrap.wrap(
            "Licence notice: contains data licensed for non-commercial use only (CC BY-NC-SA): "
            + "; ".join(dict.fromkeys(nc))
            + ". Other data: Open Government Licence v3.0 and the publishers' open licences named below.",
            notice_width or width,
        )
        if nc
        else []
    )
    return attr, notice


def _chars(fig: Any, fontsize: float, bold: bool = False) -> int:
    """Characters of DejaVu Sans at ``fontsize`` that fit across 94% of the figure width."""
    usable_pt = fig.get_figwidth() * 72 * 0.94
    return int(usable_pt / (fontsize * (0.62 if bold else 0.56)))


def _footer(fig: Any, provenance: list[dict[str, Any]] | None, *, top: float, generated: str) -> None:
    attr, notice = attribution_lines(provenance, _chars(fig, 5.2), _chars(fig, 5.6, bold=True))
    step = 1.0 / (fig.get_figheight() * 72)  # one point, in figure fraction
    y = top
    for line in notice:
        fig.text(0.03, y, line, fontsize=5.6, color="#8a1c00", fontweight="bold", va="top", gid="gz-notice")
        y -= 7.2 * step
    for line in attr:
        fig.text(0.03, y, line, fontsize=5.2, color="#222222", va="top", gid="gz-attribution")
        y -= 6.6 * step
    fig.text(0.97, 0.008, generated, fontsize=5.2, color="#555555", ha="right", va="bottom")


def _draw_polys(ax: Any, geoms: Any, **kw: Any) -> None:
    """Polygons / multipolygons (BNG) as one PatchCollection."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    facecolors = kw.pop("facecolors", None)
    patches, colours = [], []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        parts = getattr(g, "geoms", [g])
        verts: list[Any] = []
        codes: list[int] = []
        for poly in parts:
            if poly.geom_type != "Polygon":
                continue
            for ring in [poly.exterior, *poly.interiors]:
                c = np.asarray(ring.coords)[:, :2]
                if len(c) < 3:
                    continue
                verts.extend(c)
                codes.extend([MPath.MOVETO] + [MPath.LINETO] * (len(c) - 2) + [MPath.CLOSEPOLY])
        if verts:
            patches.append(PathPatch(MPath(np.asarray(verts), codes)))
            if facecolors is not None:
                colours.append(facecolors[i])
    if not patches:
        return
    coll = PatchCollection(patches, **kw)
    if facecolors is not None:
        coll.set_facecolor(colours)
    ax.add_collection(coll)


def _draw_lines(ax: Any, geoms: Any, **kw: Any) -> None:
    from matplotlib.collections import LineCollection

    segs = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in getattr(g, "geoms", [g]):
            if part.geom_type == "LineString":
                segs.append(np.asarray(part.coords)[:, :2])
            elif part.geom_type == "Polygon":
                segs.append(np.asarray(part.exterior.coords)[:, :2])
    if segs:
        ax.add_collection(LineCollection(segs, **kw))


def _map_axes(fig: Any, rect: list[float], extent: tuple[float, float, float, float]) -> Any:
    ax = fig.add_axes(rect)
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box", anchor="C")
    ax.set_facecolor(SEA)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_edgecolor("#555555")
        s.set_linewidth(0.8)
    return ax


def _fit_extent(
    bounds: tuple[float, float, float, float], aspect: float, pad: float = 0.04
) -> tuple[float, float, float, float]:
    """Bounds grown by ``pad`` and to the width/height ratio ``aspect`` of the axes."""
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _save(fig: Any, path: Path) -> Path:
    from ..data.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, facecolor="white", format="png")
    return path


def _score_ramp(ax: Any, lo: float, hi: float, title: str) -> None:
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("gz", SCORE_STOPS)
    ax.imshow(np.linspace(0, 1, 256)[None, :], aspect="auto", cmap=cmap, extent=(lo, hi, 0, 1))
    ax.set_yticks([])
    ticks = np.linspace(lo, hi, 5)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:.2f}" for t in ticks], fontsize=6)
    ax.tick_params(length=2, pad=1)
    ax.set_title(title, fontsize=7, loc="left", pad=3)


# ---------------------------------------------------------------- national ranking

DELIVERABLE_STYLE: dict[str, dict[str, Any]] = {  # gate status -> outline/hatch over the score fill
    "fail": {"edgecolor": "#8a1c00", "hatch": "xxxx", "linewidth": 1.1},
    "unknown": {"edgecolor": "#b36b00", "hatch": "....", "linewidth": 0.9, "linestyle": (0, (3, 2))},
}
DELIVERABLE_LABELS = {
    "fail": "Not deliverable: a gate failed (ranked after every deliverable area)",
    "unknown": "Deliverability unknown: a gate could not be checked",
}


SITE_MARKERS = {  # gate status -> (marker, edge colour, edge width, legend label); fill = score
    "pass": ("o", "#000000", 0.8, "Deliverable site: every gate passed (fill = score)"),
    "unknown": ("D", "#b36b00", 1.4, "Deliverability unknown: a gate could not be checked"),
    "fail": ("s", "#8a1c00", 1.6, "Not deliverable: a gate failed (ranked after the others)"),
}
SITE_LABEL_SUFFIX = {"fail": " (fails a gate)", "unknown": " (gate unknown)"}


RANKING_RULE_SHORT = (
    "Ranked by deliverability first (every gate passed, then a gate unknown, then a gate failed; "
    "exclusions last), then by score."
)
"""The ranking rule in a line that fits an image (the HTML pages carry the full sentence)."""


def _subtitles(fig: Any, sub: str, statuses: Any, noun: str) -> None:
    """The lines under an image's title: ``sub``, then (with gates) the deliverability counts of
    the rows not excluded and the ranking rule."""
    fig.text(0.03, 0.952, sub, fontsize=7.5, va="top", color="#333333", linespacing=1.3)
    if statuses is None:
        return
    y = 0.952 - 0.016 * (sub.count("\n") + 1)  # below every line of ``sub``
    fig.text(
        0.03,
        y,
        f"Deliverability of the {noun} not excluded: {deliverability_counts(statuses)}",
        fontsize=7.5,
        va="top",
        color="#333333",
        gid="gz-deliverability",
    )
    fig.text(
        0.03, y - 0.016, RANKING_RULE_SHORT, fontsize=7, va="top", color="#333333", gid="gz-ranking-rule"
    )


def deliverability_counts(statuses: Any) -> str:
    """ "10 deliverable · 1 deliverability unknown · 2 fail a gate" (the statuses of eligible rows)."""
    s = np.asarray(statuses, dtype=object)
    return (
        f"{int((s == 'pass').sum())} deliverable · {int((s == 'unknown').sum())} unknown · "
        f"{int((s == 'fail').sum())} fail a gate"
    )


@_plain_text
def national_figure(
    ranking: Any,
    *,
    countries: Any = None,
    provenance: list[dict[str, Any]] | None = None,
    profile_title: str = "",
    generated_at: str = "",
    title: str = "AI Growth Zones: national ranking of local authorities",
) -> Any:
    """The national ranking map as a matplotlib Figure (EPSG:27700). See :func:`national_png`."""
    from matplotlib.patches import Patch

    from ._geo import _require_bng
    from ._map import score_range

    _require_bng(ranking, "ranking")
    fig = _figure(8.27, 11.0)
    rect = [0.03, 0.17, 0.94, 0.73]
    aspect = (rect[2] * fig.get_figwidth()) / (rect[3] * fig.get_figheight())
    extent = _fit_extent(tuple(ranking.total_bounds), aspect, pad=0.02)
    ax = _map_axes(fig, rect, extent)
    if countries is not None and len(countries):
        _require_bng(countries, "countries")
        _draw_polys(ax, countries.geometry.values, facecolor=LAND, edgecolor=COAST, linewidth=0.5, zorder=1)
    lo, hi = score_range(ranking["score"]) if "score" in ranking else (0.0, 1.0)
    eligible = (
        ranking["eligible"].map(truthy).to_numpy() if "eligible" in ranking else np.ones(len(ranking), bool)
    )
    scores = ranking["score"].to_numpy(dtype=float) if "score" in ranking else np.full(len(ranking), np.nan)
    fills = [
        score_colour((s - lo) / (hi - lo)) if ok and np.isfinite(s) else NODATA_FILL if ok else "#e4e4e4"
        for s, ok in zip(scores, eligible, strict=True)
    ]
    geoms = ranking.geometry.values
    _draw_polys(ax, geoms, facecolors=fills, edgecolor="white", linewidth=0.25, zorder=2)
    deliv = (
        ranking["deliverable"].astype(object).fillna("").astype(str).to_numpy()
        if "deliverable" in ranking
        else np.full(len(ranking), "")
    )
    for status, style in DELIVERABLE_STYLE.items():  # outlined (and hatched) over the score fill
        sel = eligible & (deliv == status)
        if sel.any():
            _draw_polys(ax, geoms[sel], facecolor="none", zorder=4, gid=f"gz-deliverable-{status}", **style)
    if (~eligible).any():
        _draw_polys(
            ax,
            geoms[~eligible],
            facecolor="none",
            edgecolor="#8c8c8c",
            hatch="////",
            linewidth=0.0,
            zorder=3,
        )
    if "rank" in ranking:
        ok = ranking[ranking["rank"].notna() & eligible]
        top = ok.sort_values("rank").head(10)
        pts = top.geometry.representative_point()
        for (_, r), p in zip(top.iterrows(), pts, strict=True):
            ax.text(
                p.x,
                p.y,
                str(int(r["rank"])),
                fontsize=6.5,
                fontweight="bold",
                ha="center",
                va="center",
                zorder=10,
                bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": "#111111", "lw": 0.8},
                gid="gz-rank-label",
            )
    add_scale_bar(ax, extent)
    add_north_arrow(ax, extent)
    fig.text(0.03, 0.975, title, fontsize=13, fontweight="bold", va="top")
    n_ex = int((~eligible).sum())
    sub = f"{len(ranking)} local authorities · {len(ranking) - n_ex} ranked · {eligibility_summary(ranking)}"
    if profile_title:
        sub = f"Scoring profile: {profile_title} · " + sub
    _subtitles(fig, sub, deliv[eligible] if "deliverable" in ranking else None, "areas")
    # legend: inset in the sea to the upper right
    lax = fig.add_axes([0.64, 0.86, 0.3, 0.012])
    _score_ramp(lax, lo, hi, "Overall score (0–1, relative; darker = stronger case)")
    handles = [
        *(
            Patch(facecolor="#21918c", label=DELIVERABLE_LABELS[status], **DELIVERABLE_STYLE[status])
            for status in DELIVERABLE_STYLE
            if (eligible & (deliv == status)).any()
        ),
        Patch(facecolor="#e4e4e4", edgecolor="#8c8c8c", hatch="////", label="Excluded (hard constraint)"),
        Patch(facecolor=NODATA_FILL, edgecolor="#999999", label="No score (data missing)"),
    ]
    ax.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(0.985, 0.875),
        fontsize=6.3,
        frameon=True,
        framealpha=0.9,
        title="Top 10 ranks are labelled",
        title_fontsize=6.3,
    )
    _footer(fig, provenance, top=0.155, generated=f"Generated {generated_at} by growth-zones")
    return fig


def national_png(ranking: Any, *, out_path: Path, **kw: Any) -> Path:
    """Write the national ranking map image (PNG, A4-like portrait at 150 dpi); return its path."""
    return _save(national_figure(ranking, **kw), out_path)


# ---------------------------------------------------------------- assessment


@_plain_text
def overview_figure(
    assessment: Any,
    *,
    countries: Any = None,
    regions: Any = None,
    provenance: list[dict[str, Any]] | None = None,
    profile_title: str = "",
    generated_at: str = "",
) -> Any:
    """Every assessed site on a map of GB, coloured by score (excluded sites hatched)."""
    from matplotlib.lines import Line2D

    from ._geo import _require_bng

    _require_bng(assessment, "assessment")
    fig = _figure(8.27, 11.0)
    rect = [0.03, 0.17, 0.94, 0.71]  # top at 0.88: room for four lines under the title
    aspect = (rect[2] * fig.get_figwidth()) / (rect[3] * fig.get_figheight())
    base = regions if regions is not None and len(regions) else assessment
    bx = tuple(base.total_bounds)
    sx = tuple(assessment.total_bounds)
    extent = _fit_extent(
        (min(bx[0], sx[0]), min(bx[1], sx[1]), max(bx[2], sx[2]), max(bx[3], sx[3])), aspect, pad=0.02
    )
    ax = _map_axes(fig, rect, extent)
    if countries is not None and len(countries):
        _draw_polys(ax, countries.geometry.values, facecolor=LAND, edgecolor=COAST, linewidth=0.5, zorder=1)
    if regions is not None and len(regions):
        _draw_polys(
            ax, regions.geometry.values, facecolor="none", edgecolor=COUNCIL, linewidth=0.25, zorder=2
        )
    pts = assessment.geometry.representative_point()
    state = eligibility_column(assessment).to_numpy(dtype=object)
    eligible = state != "excluded"
    unknown = state == "unknown"  # not excluded, but a hard exclusion could not be checked
    colours = np.array(
        [score_colour(s) for s in assessment.get("score", [np.nan] * len(assessment))], dtype=object
    )
    deliv = (
        assessment["deliverable"].astype(object).fillna("").astype(str).to_numpy()
        if "deliverable" in assessment
        else np.full(len(assessment), "pass")
    )
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    handles = []
    for status, (marker, edge, lw, label) in SITE_MARKERS.items():  # shape = deliverability, fill = score
        sel = (
            eligible & (deliv == status)
            if status != "pass"
            else eligible & ~np.isin(deliv, ["fail", "unknown"])
        )
        if sel.any():
            ax.scatter(
                xs[sel],
                ys[sel],
                s=40,
                c=list(colours[sel]),
                marker=marker,
                edgecolors=edge,
                linewidths=lw,
                zorder=5,
            )
            if "deliverable" not in assessment:  # a profile without gates
                label = "Eligible site (fill = score)"
            handles.append(Line2D([], [], marker=marker, ls="", mfc="#21918c", mec=edge, mew=lw, label=label))
    if unknown.any():  # a gold ring around the marker: eligibility not fully checked
        ax.scatter(
            xs[unknown],
            ys[unknown],
            s=110,
            facecolors="none",
            edgecolors="#b58900",
            linewidths=1.6,
            zorder=4,
            gid="gz-eligibility-unknown",
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                mfc="none",
                mec="#b58900",
                mew=1.6,
                markersize=9,
                label="Gold ring: a hard exclusion could not be checked",
            )
        )
    if (~eligible).any():
        ax.scatter(
            xs[~eligible],
            ys[~eligible],
            s=34,
            c="#e4e4e4",
            edgecolors="#8a1c00",
            linewidths=1.2,
            marker="X",
            zorder=5,
        )
        handles.append(Line2D([], [], marker="X", ls="", mfc="#e4e4e4", mec="#8a1c00", label="Excluded site"))
    below = (
        assessment["dsit_minimum"].astype(str).str.startswith("below").to_numpy()
        if "dsit_minimum" in assessment
        else np.zeros(len(assessment), bool)
    )
    if len(assessment) <= 60:  # label the sites when a reader can still tell them apart
        for app_id, x, y, status, ok, low in zip(
            assessment.index, xs, ys, deliv, eligible, below, strict=True
        ):
            suffix = SITE_LABEL_SUFFIX.get(status, "") if ok else " (excluded)"
            ax.annotate(
                text(app_id)[:24] + suffix + (" · below DSIT minimum" if low else ""),
                (x, y),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=5.8,
                zorder=6,
                gid="gz-site-label",
                color="#8a1c00" if suffix else "#111111",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )
    add_scale_bar(ax, extent)
    add_north_arrow(ax, extent)
    fig.text(0.03, 0.975, "AI Growth Zones: assessed applications", fontsize=13, fontweight="bold", va="top")
    sub = f"{len(assessment)} sites · {eligibility_summary(assessment)}"
    if "dsit_minimum" in assessment:
        sub += f" · {int(below.sum())} below the DSIT minimum (500 MW by 2030)"
    # (eligibility not fully checked: a gold ring, named in the legend; on this line it ran off the page)
    if profile_title:  # the profile on a line of its own: on one line the counts ran off the page
        sub = f"Scoring profile: {profile_title}\n" + sub
    _subtitles(fig, sub, deliv[eligible] if "deliverable" in assessment else None, "sites")
    lax = fig.add_axes([0.64, 0.845, 0.3, 0.012])  # inside the map frame (its top is at 0.88)
    _score_ramp(lax, 0.0, 1.0, "Site score (0–1, relative; darker = stronger)")
    ax.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(0.985, 0.875),
        fontsize=6.3,
        framealpha=0.9,
    )
    _footer(fig, provenance, top=0.155, generated=f"Generated {generated_at} by growth-zones")
    return fig


HEAD_CHARS = 145
"""Characters of 7 pt text that fit across a site image (8.27 in, 94% of it)."""


def _clip(line: str, n: int) -> str:
    return line if len(line) <= n else line[: n - 1].rstrip() + "…"


def score_lines(r: Any, criteria: list[dict[str, Any]], penalties: list[dict[str, Any]] | None) -> list[str]:
    """ "Score 0.267 = sections 0.533 (power 0.280 + ...) − National Park ×(1−0.5) 0.267", and a
    second line naming the designation penalties that could not be checked: the score as the
    parts that sum to it (3 decimals; the CSV holds them in full)."""
    from .brief import score_rows

    rows = score_rows(r, criteria, penalties)
    total = rows[-1]["points"]
    if total is None:
        return ["No score: no weighted criterion has a value"]
    secs = [s for s in rows if s["kind"] == "section"]
    parts = " + ".join(
        f"{s['section'].replace('_', ' ')} {'—' if s['points'] is None else format(s['points'], '.3f')}"
        for s in secs
    )
    line = f"Score {total:.3f} = {parts}"
    unchecked = []
    for p in (s for s in rows if s["kind"] == "penalty"):
        if p["points"] is None:
            unchecked.append(p["label"].replace(" (no penalty applied; data could not be had)", ""))
        else:
            line += f" − {p['label'].removeprefix('Designation penalty: ')} {-p['points']:.3f}"
    return [line, *unchecked]


def site_extent(
    geom: Any, facilities: list[tuple[float, float]], radius_m: float = 60_000.0
) -> tuple[float, ...]:
    """The site plus the nearest facilities within ``radius_m``, at least :data:`SITE_VIEW_MIN_M`."""
    c = geom.centroid
    x0, y0, x1, y1 = geom.bounds
    for x, y in facilities:
        if math.hypot(x - c.x, y - c.y) <= radius_m:
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    w, h = max(x1 - x0, SITE_VIEW_MIN_M), max(y1 - y0, SITE_VIEW_MIN_M)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


@_plain_text
def site_figure(
    app_id: str,
    r: Any,
    geom: Any,
    *,
    nearest: list[tuple[str, str, str, str, float, float, float]],
    overlays: dict[str, Any] | None = None,
    checks: list[dict[str, Any]] | None = None,
    provenance: list[dict[str, Any]] | None = None,
    profile_title: str = "",
    generated_at: str = "",
    n_ranked: int | None = None,
    criteria: list[dict[str, Any]] | None = None,
    penalties: list[dict[str, Any]] | None = None,
) -> Any:
    """One site: its boundary, lines to the nearest infrastructure with distances, the designations
    around it, coast and council boundaries, scale bar, north arrow and attributions; with
    ``criteria`` (and ``penalties``, the profile's penalising designation tiers) a line giving the
    score as its sections less each designation penalty."""
    import shapely
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    overlays = overlays or {}
    fig = _figure(8.27, 8.8)
    rect = [0.03, 0.2, 0.94, 0.64]
    aspect = (rect[2] * fig.get_figwidth()) / (rect[3] * fig.get_figheight())
    extent = _fit_extent(site_extent(geom, [(f[4], f[5]) for f in nearest]), aspect, pad=0.08)
    ax = _map_axes(fig, rect, extent)
    box = shapely.box(*extent)

    def clipped(frame: Any) -> Any:
        if frame is None or not len(frame):
            return None
        idx = frame.sindex.query(box)
        if not len(idx):
            return None
        sub = frame.iloc[np.sort(idx)]
        return sub.assign(geometry=shapely.clip_by_rect(sub.geometry.values, *extent))

    land = clipped(overlays.get("countries"))
    if land is not None:
        _draw_polys(ax, land.geometry.values, facecolor=LAND, edgecolor=COAST, linewidth=0.6, zorder=1)
    councils = clipped(overlays.get("regions"))
    if councils is not None:
        _draw_polys(
            ax,
            councils.geometry.values,
            facecolor="none",
            edgecolor=COUNCIL,
            linewidth=0.6,
            linestyle=(0, (4, 2)),
            zorder=2,
        )
    handles: list[Any] = []
    pa = clipped(overlays.get("protected_areas"))
    if pa is not None and len(pa):
        kinds = pa["designation"].astype(str) if "designation" in pa else None
        for kind in sorted(set(kinds)) if kinds is not None else []:
            fill, edge = DESIGNATION_COLOURS.get(kind, ("#5aae61", "#1b7837"))
            sel = pa[(kinds == kind).to_numpy()]
            _draw_polys(
                ax, sel.geometry.values, facecolor=fill, edgecolor=edge, linewidth=0.7, alpha=0.55, zorder=3
            )
            from ..policy import DESIGNATION_LABELS

            handles.append(
                Patch(
                    facecolor=fill,
                    edgecolor=edge,
                    alpha=0.7,
                    label=DESIGNATION_LABELS.get(kind, kind.replace("_", " ")),
                )
            )
    circ = clipped(overlays.get("circuits"))
    if circ is not None:
        _draw_lines(ax, circ.geometry.values, colors="#D55E00", linewidths=1.1, alpha=0.8, zorder=4)
        handles.append(Line2D([], [], color="#D55E00", lw=1.1, label="Transmission circuit (275/400 kV)"))
    eligible = eligibility(r) != "excluded"
    fill = score_colour(r.get("score")) if eligible and not is_missing(r.get("score")) else "#e4e4e4"
    _draw_polys(ax, [geom], facecolor=fill, edgecolor="#000000", linewidth=1.8, alpha=0.9, zorder=8)
    handles.insert(0, Patch(facecolor=fill, edgecolor="#000000", label="Site boundary (fill = score)"))
    c = geom.centroid
    for what, name, dist, colour, x, y, _km in nearest:
        inside = extent[0] <= x <= extent[2] and extent[1] <= y <= extent[3]
        if inside:
            ax.plot([c.x, x], [c.y, y], color=colour, lw=1.6, ls=(0, (5, 3)), zorder=6)
            ax.plot([x], [y], marker="o", ms=7, mfc=colour, mec="white", mew=1.2, zorder=9)
            lx, ly = x, y
        else:  # off the map: an arrow towards it, cut at the frame
            seg = shapely.clip_by_rect(shapely.LineString([(c.x, c.y), (x, y)]), *extent)
            ex, ey = np.asarray(seg.coords)[-1] if not seg.is_empty else (x, y)
            ax.annotate(
                "",
                xy=(ex, ey),
                xytext=(c.x, c.y),
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6, "ls": "--"},
                zorder=6,
            )
            lx, ly = c.x + 0.55 * (ex - c.x), c.y + 0.55 * (ey - c.y)
        short = name if len(name) <= 40 else name[:39].rstrip() + "…"
        ax.text(
            lx,
            ly,
            f"{short}\n{dist}",
            fontsize=6.8,
            ha="center",
            va="bottom",
            zorder=12,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": colour, "lw": 0.9, "alpha": 0.92},
            clip_on=True,
            gid="gz-distance-label",
        )
        handles.append(
            Line2D(
                [],
                [],
                color=colour,
                lw=1.6,
                ls="--",
                marker="o",
                mfc=colour,
                mec="white",
                label=f"{what}: {dist}",
            )
        )
    if land is not None:
        handles.append(Patch(facecolor=LAND, edgecolor=COAST, label="Land (ONS boundaries)"))
    if councils is not None:
        handles.append(Line2D([], [], color=COUNCIL, lw=0.8, ls=(0, (4, 2)), label="Council boundary"))
    add_scale_bar(ax, extent)
    add_north_arrow(ax, extent)
    nm = text(r.get("name")) or app_id
    fig.text(0.03, 0.975, nm, fontsize=13, fontweight="bold", va="top")
    rank = r.get("rank")
    rank_s = (
        "not ranked" if is_missing(rank) else f"rank {int(rank)}" + (f" of {n_ranked}" if n_ranked else "")
    )
    score = r.get("score")
    score_s = "no score" if is_missing(score) else f"score {float(score):.3f}"
    status = eligibility_text(r)
    status = "EXCLUDED" + status[len("Excluded") :] if eligibility(r) == "excluded" else status
    where = " ".join(x for x in (text(r.get("la_name")), text(r.get("nation"))) if x)
    fig.text(
        0.03,
        0.945,
        f"Application {app_id} · {where} · {score_s} · {rank_s} · {status}"[:170],
        fontsize=7.5,
        va="top",
        color="#333333",
    )
    if profile_title:
        fig.text(0.03, 0.925, f"Scoring profile: {profile_title}", fontsize=7, va="top", color="#555555")
    import textwrap

    head: list[tuple[str, str]] = []  # (line, colour): at most 4 lines above the map
    if criteria:
        first, *unchecked = score_lines(r, criteria, penalties)
        if len(first) > HEAD_CHARS and " − " in first:  # the penalties on a line of their own
            cut = first.index(" − ")
            lines = [first[:cut], "   " + first[cut + 1 :]]
        else:
            lines = textwrap.wrap(first, HEAD_CHARS, break_long_words=False)
        head += [(_clip(ln, HEAD_CHARS), "#111111") for ln in lines[:2]]
        head += [(_clip(ln, HEAD_CHARS), "#6b4e00") for ln in unchecked[:1]]
    present = [
        text(ch.get("check")).replace("Designation: ", "") + f" ({text(ch.get('detail'))})"
        for ch in checks or []
        if text(ch.get("check")).startswith("Designation") and text(ch.get("status")) == "present"
    ]
    if present:
        head.append((_clip("Inside: " + "; ".join(present), HEAD_CHARS), "#8a1c00"))
    for i, (line, colour) in enumerate(head[:4]):
        fig.text(0.03, 0.907 - 0.016 * i, line, fontsize=7, va="top", color=colour, gid="gz-head-line")
    ax.legend(handles=handles, loc="upper right", fontsize=6.2, framealpha=0.92, borderpad=0.5)
    _footer(fig, provenance, top=0.185, generated=f"Generated {generated_at} by growth-zones")
    return fig


def assessment_pngs(
    assessment: Any,
    *,
    out_dir: Path,
    checks: Any = None,
    overlays: dict[str, Any] | None = None,
    provenance: list[dict[str, Any]] | None = None,
    profile_title: str = "",
    generated_at: str = "",
    criteria: list[dict[str, Any]] | None = None,
    penalties: list[dict[str, Any]] | None = None,
) -> Path:
    """Write ``out_dir/overview.png`` and ``out_dir/sites/<id>.png`` (one per site); return the
    overview's path. ``criteria``/``penalties`` (the profile's, as in the HTML report) give each
    site image its score by section less its designation penalties."""
    from ._geo import _require_bng
    from ._html import safe_id
    from .assessment import _checks_by_id, _nearest_facts

    _require_bng(assessment, "assessment")
    overlays = overlays or {}
    out_dir = Path(out_dir)
    overview = _save(
        overview_figure(
            assessment,
            countries=overlays.get("countries"),
            regions=overlays.get("regions"),
            provenance=provenance,
            profile_title=profile_title,
            generated_at=generated_at,
        ),
        out_dir / "overview.png",
    )
    by_id = _checks_by_id(checks)
    n_ranked = int(assessment["rank"].notna().sum()) if "rank" in assessment else None
    taken: set[str] = set()
    seen: set[str] = set()
    for pos, (app_id, r) in enumerate(assessment.iterrows()):
        key = text(app_id)
        if key in seen:
            continue
        seen.add(key)
        geom = assessment.geometry.iloc[pos]
        fig = site_figure(
            key,
            r,
            geom,
            nearest=_nearest_facts(r, geom.centroid),
            overlays=overlays,
            checks=by_id.get(key, []),
            provenance=provenance,
            profile_title=profile_title,
            generated_at=generated_at,
            n_ranked=n_ranked,
            criteria=criteria,
            penalties=penalties,
        )
        path = out_dir / "sites" / f"{safe_id(key, taken)}.png"
        _save(fig, path)
    return overview


# ---------------------------------------------------------------- the surface picture


def surface_colours(score: np.ndarray) -> np.ndarray:
    """RGBA (uint8) for surface values: NaN (sea, outside GB) transparent, -1 (excluded) grey,
    0..1 on the report's score scale (reversed viridis, absolute 0..1)."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgba

    cmap = LinearSegmentedColormap.from_list("gz", SCORE_STOPS)
    out = np.zeros(score.shape + (4,), dtype=np.uint8)
    valid = np.isfinite(score)
    scored = valid & (score >= 0)
    out[scored] = (cmap(np.clip(score[scored], 0.0, 1.0)) * 255).round().astype(np.uint8)
    excluded = valid & (score < 0)
    out[excluded] = (np.asarray(to_rgba(EXCLUDED_FILL, 0.85)) * 255).round().astype(np.uint8)
    return out


def write_surface_overview(
    cog: Path,
    png_path: Path,
    json_path: Path,
    *,
    threshold: float,
    max_pixels: int = 900,
) -> dict[str, Any]:
    """The surface as a web picture: band 1 of ``cog`` read at reduced resolution (nearest cell,
    from the COG's overviews, so memory stays small at any resolution), warped to Web Mercator
    (EPSG:3857, which Leaflet stretches an image in) with nearest-neighbour sampling, coloured
    with :func:`surface_colours`, written as PNG, plus a JSON record of its WGS84 bounds."""
    import json

    import rasterio
    from PIL import Image
    from pyproj import Transformer
    from rasterio.enums import Resampling
    from rasterio.transform import Affine
    from rasterio.warp import reproject

    from ..data.atomic import atomic_path, write_json

    with rasterio.open(cog) as src:
        step = max(1, math.ceil(max(src.width, src.height) / (1.5 * max_pixels)))
        h, w = math.ceil(src.height / step), math.ceil(src.width / step)
        small = src.read(1, out_shape=(h, w), resampling=Resampling.nearest).astype("float32")
        nodata = src.nodata
        transform = src.transform @ Affine.scale(src.width / w, src.height / h)
        crs = src.crs
        bounds = src.bounds
        res_m = float(abs(src.transform.a))
    if nodata is not None and not np.isnan(nodata):
        small[small == nodata] = np.nan
    # the Web Mercator grid: the source bounds (edges densified) in EPSG:3857, square pixels,
    # at most max_pixels along the longer side
    to_merc = Transformer.from_crs(crs, "EPSG:3857", always_xy=True)
    mx0, my0, mx1, my1 = to_merc.transform_bounds(*bounds, densify_pts=21)
    px = max(mx1 - mx0, my1 - my0) / max_pixels
    dw, dh = math.ceil((mx1 - mx0) / px), math.ceil((my1 - my0) / px)
    dst_t = Affine(px, 0.0, mx0, 0.0, -px, my1)
    merc = np.full((dh, dw), np.nan, dtype="float32")
    reproject(
        small,
        merc,
        src_transform=transform,
        src_crs=crs,
        src_nodata=np.nan,
        dst_transform=dst_t,
        dst_crs="EPSG:3857",
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    rgba = surface_colours(merc)
    png_path = Path(png_path)
    with atomic_path(png_path) as tmp:
        Image.fromarray(rgba, mode="RGBA").save(tmp, format="PNG", optimize=True)
    x0, y1 = dst_t @ (0, 0)
    x1, y0 = dst_t @ (dw, dh)
    to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    west, south = to_ll.transform(x0, y0)
    east, north = to_ll.transform(x1, y1)
    lat_c = math.radians((south + north) / 2)
    record = {
        "png": png_path.name,
        "source": Path(cog).name,
        "crs": "EPSG:3857",
        "bounds_wgs84": [[round(south, 6), round(west, 6)], [round(north, 6), round(east, 6)]],
        "bounds_3857": [x0, y0, x1, y1],
        "width": dw,
        "height": dh,
        "resolution_m": res_m,
        "pixel_m": abs(dst_t.a) * math.cos(lat_c),
        "method": "nearest cell of the COG overviews, warped to EPSG:3857 by nearest neighbour",
        "threshold": threshold,
        "stops": list(SCORE_STOPS),
        "excluded_colour": EXCLUDED_FILL,
    }
    write_json(Path(json_path), json.loads(json.dumps(record)))
    return record

"""Static exports (matplotlib): the national and site images and the surface picture.

Every distance and position is checked against an independent computation: the scale bar against
pyproj's geodesic distance, the north arrow against pyproj's meridian convergence, distance labels
against the straight line between the coordinates, the surface picture pixel by pixel against the
GeoTIFF cell under each pixel's centre (projected back with pyproj).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from pyproj import Geod, Proj, Transformer

from growth_zones.report import static
from growth_zones.report._html import SCORE_STOPS
from tests.support import report_demo as demo

pytest.importorskip("matplotlib")
TO_LL = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
GEOD = Geod(ellps="WGS84")


def _texts(fig, gid=None):
    out = [t.get_text() for t in fig.texts if gid is None or t.get_gid() == gid]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts if gid is None or t.get_gid() == gid]
    return out


@pytest.mark.parametrize(
    ("span", "expected"),
    [(1_000_000, 200_000), (480_000, 100_000), (30_000, 5_000), (9_000, 1_000), (3.0, 1.0)],
)
def test_nice_length(span, expected):
    assert static.nice_length(span) == expected


@pytest.fixture(scope="module")
def national():
    ranking = demo.ranking_frame(24)
    prov = demo.PROVENANCE
    fig = static.national_figure(
        ranking,
        countries=demo.basemap()["countries"],
        provenance=prov,
        profile_title="AIGZ",
        generated_at="2026-01-02",
    )
    return fig, ranking, prov


def test_scale_bar_is_the_ground_distance_it_says(national):
    fig, _, _ = national
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = static.add_scale_bar(ax, (x0, y0, x1, y1))
    segs = [p for p in ax.patches if p.get_gid() == "gz-scalebar"][-4:]
    left = min(p.get_x() for p in segs)
    right = max(p.get_x() + p.get_width() for p in segs)
    assert right - left == pytest.approx(bar["length_m"])
    km = float(re.match(r"([\d.]+) km", bar["label"]).group(1))
    # the bar's two ends, as lon/lat, are that many km apart on the ellipsoid (BNG scale factor: < 0.1%)
    (lon1, lon2), (lat1, lat2) = TO_LL.transform([left, right], [bar["y"], bar["y"]])
    _, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    assert metres / 1000 == pytest.approx(km, rel=1e-3)


@pytest.mark.parametrize(("lon", "lat"), [(-6.0, 58.0), (1.5, 52.0), (-2.0, 54.0), (-4.5, 50.3)])
def test_north_arrow_points_to_true_north(lon, lat):
    x, y = TO_BNG.transform(lon, lat)
    convergence = Proj("EPSG:27700").get_factors(lon, lat).meridian_convergence
    assert static.true_north_bearing(x, y) == pytest.approx(-convergence, abs=0.01)


def test_national_image_has_legend_rank_labels_and_every_attribution(national):
    fig, ranking, prov = national
    texts = " ".join(_texts(fig))
    assert "Overall score" in " ".join(ax.get_title(loc="left") for ax in fig.axes)
    ranks = _texts(fig, "gz-rank-label")
    assert sorted(int(t) for t in ranks) == list(range(1, 11))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Excluded (hard constraint)" in legend and "No score (data missing)" in legend
    attribution = " ".join(_texts(fig, "gz-attribution"))
    for p in prov:
        assert " ".join(p["attribution"].split()) in attribution, p["key"]
    notice = " ".join(_texts(fig, "gz-notice"))
    assert "non-commercial use only" in notice and "TeleGeography submarine cables" in notice
    assert "N" in texts and "grid distance (British National Grid)" in texts
    # every line of the footer fits inside the figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for t in fig.texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 1, t.get_text()[:40]


def test_national_png_file(tmp_path):
    from PIL import Image

    out = static.national_png(demo.ranking_frame(6), out_path=tmp_path / "ranking.png", provenance=[])
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (round(8.27 * static.DPI), round(11.0 * static.DPI))


def test_site_image_distances_and_lines(tmp_path):
    from growth_zones.report.assessment import _nearest_facts

    assessment, checks, _ = demo.assessment_frames(3)
    r = assessment.iloc[0].copy()
    r["dist_ix_km"] = np.nan  # no indicator value: the straight line from the centroid is shown
    geom = assessment.geometry.iloc[0]
    near = _nearest_facts(r, geom.centroid)
    fig = static.site_figure(
        "APP-1",
        r,
        geom,
        nearest=near,
        overlays={**demo.overlays(), **demo.basemap()},
        checks=checks[checks["id"] == "APP-1"].to_dict("records"),
        provenance=demo.PROVENANCE,
    )
    labels = _texts(fig, "gz-distance-label")
    assert len(labels) == len(near) >= 3
    c = geom.centroid
    for label, (what, name, dist, _col, x, y, _km) in zip(labels, near, strict=True):
        assert label == f"{name if len(name) <= 40 else name[:39].rstrip() + '…'}\n{dist}"
        value = float(dist.replace(" km", ""))
        if what == "Nearest internet exchange":  # from coordinates: compare with the geodesic distance
            (lo1, lo2), (la1, la2) = TO_LL.transform([c.x, x], [c.y, y])
            geodesic_km = GEOD.inv(lo1, la1, lo2, la2)[2] / 1000
            assert value == pytest.approx(geodesic_km, abs=0.05 + 1e-3 * geodesic_km)
        else:  # the indicator's own value, rounded
            from growth_zones.report.assessment import NEAREST

            col = {label: dist_col for _, label, dist_col, _ in NEAREST}[what]
            assert value == round(float(r[col]), 1)
    # a facility inside the view gets a dashed line from the site centroid to its exact position
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    inside = [f for f in near if x0 <= f[4] <= x1 and y0 <= f[5] <= y1]
    assert inside  # the grid node, 6.3 km away
    ends = {
        (round(ln.get_xdata()[-1]), round(ln.get_ydata()[-1])) for ln in ax.lines if len(ln.get_xdata()) == 2
    }
    for f in inside:
        assert (round(f[4]), round(f[5])) in ends


def test_assessment_pngs(tmp_path):
    from PIL import Image

    assessment, checks, _ = demo.assessment_frames(4)
    overview = static.assessment_pngs(
        assessment,
        out_dir=tmp_path / "figures",
        checks=checks,
        overlays={**demo.overlays(), **demo.basemap()},
        provenance=demo.PROVENANCE,
    )
    assert overview.name == "overview.png"
    sites = sorted((tmp_path / "figures" / "sites").glob("*.png"))
    assert len(sites) == len(assessment)
    assert all(p.parent == tmp_path / "figures" / "sites" for p in sites)  # hostile ids stay inside
    with Image.open(sites[0]) as im:
        assert im.format == "PNG" and im.size[0] > 1000


def test_surface_colours():
    rgba = static.surface_colours(np.array([np.nan, -1.0, 0.0, 1.0, 0.5], dtype="float32"))
    assert rgba[0, 3] == 0  # sea: transparent
    assert tuple(rgba[1, :3]) == (0x9E, 0x9E, 0x9E) and rgba[1, 3] > 200  # excluded: grey
    assert "#{:02x}{:02x}{:02x}".format(*rgba[2, :3]) == SCORE_STOPS[0]
    assert "#{:02x}{:02x}{:02x}".format(*rgba[3, :3]) == SCORE_STOPS[-1]
    assert rgba[4, 3] == 255


@pytest.fixture(scope="module")
def surface_picture(tmp_path_factory):
    from growth_zones.surface import SurfaceSpec, build_surface
    from tests.support.surface_fixtures import BOUNDS, synthetic_layers

    tmp = tmp_path_factory.mktemp("surface")
    layers = synthetic_layers()
    spec = SurfaceSpec(bounds=BOUNDS, protected_designations=("national_park", "sssi"), resolution_m=1000.0)
    res = build_surface(layers, spec, tmp / "surface_1000m.tif", discount_areas=layers.discount_areas)
    record = static.write_surface_overview(
        res.path,
        tmp / "surface_1000m_overview.png",
        tmp / "surface_1000m_overview.json",
        threshold=0.6,
        max_pixels=120,
    )
    return res.path, tmp, record


def test_surface_picture_bounds_contain_the_raster(surface_picture):
    import rasterio

    cog, _, record = surface_picture
    with rasterio.open(cog) as src:
        left, bottom, right, top = src.bounds
    # the raster's outline, densely sampled, in lon/lat: inside the picture's bounds, touching them
    xs = np.concatenate(
        [np.linspace(left, right, 50), np.full(50, right), np.linspace(right, left, 50), np.full(50, left)]
    )
    ys = np.concatenate(
        [np.full(50, bottom), np.linspace(bottom, top, 50), np.full(50, top), np.linspace(top, bottom, 50)]
    )
    lons, lats = TO_LL.transform(xs, ys)
    (s, w), (n, e) = record["bounds_wgs84"]
    px_deg = 2e-5 * record["pixel_m"]  # a pixel is far less than this many degrees
    assert (
        w <= lons.min() + 2e-6
        and e >= lons.max() - 2e-6
        and s <= lats.min() + 2e-6
        and n >= lats.max() - 2e-6
    )
    assert (
        lons.min() - w < px_deg
        and e - lons.max() < px_deg
        and lats.min() - s < px_deg
        and n - lats.max() < px_deg
    )


def test_surface_picture_pixels_are_the_cells_under_them(surface_picture):
    import rasterio
    from PIL import Image

    cog, tmp, record = surface_picture
    with Image.open(tmp / record["png"]) as im:
        rgba = np.asarray(im.convert("RGBA"))
    h, w = rgba.shape[:2]
    assert (w, h) == (record["width"], record["height"]) and max(w, h) == 120
    x0, y0, x1, y1 = record["bounds_3857"]
    merc_to_bng = Transformer.from_crs("EPSG:3857", "EPSG:27700", always_xy=True)
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    mx = x0 + (cols + 0.5) * (x1 - x0) / w
    my = y1 - (rows + 0.5) * (y1 - y0) / h
    bx, by = merc_to_bng.transform(mx.ravel(), my.ravel())
    with rasterio.open(cog) as src:
        band = src.read(1)
        r, c = rasterio.transform.rowcol(src.transform, bx, by)
        r, c = np.asarray(r), np.asarray(c)
        inside = (r >= 0) & (r < src.height) & (c >= 0) & (c < src.width)
    values = np.full(r.shape, np.nan, dtype="float32")
    values[inside] = band[r[inside], c[inside]]
    expected = static.surface_colours(values).reshape(h, w, 4)
    same = np.all(rgba == expected, axis=2)
    assert same.mean() > 0.97  # nearest-neighbour sampling: only pixels on a cell edge may differ
    assert (rgba[..., 3] == 0).any() or np.isfinite(band).all()
    assert (values[inside] >= 0).any() and (values[inside] < 0).any()  # scored and excluded cells both drawn


def test_national_map_draws_the_surface_picture(surface_picture, tmp_path):
    from growth_zones.report import render_national_map
    from growth_zones.workflows.render import surface_overlay

    _, folder, record = surface_picture
    overlay = surface_overlay(folder)
    assert (
        overlay is not None
        and overlay.resolution_m == 1000.0
        and overlay.bounds == tuple(tuple(p) for p in record["bounds_wgs84"])
    )
    page = render_national_map(
        demo.ranking_frame(4), out_path=tmp_path / "m.html", criteria=demo.CRITERIA, surface=overlay
    ).read_text(encoding="utf-8")
    assert "L.imageOverlay(" in page and "data:image/png;base64," in page
    (s, w), (n, e) = record["bounds_wgs84"]
    assert json.dumps([[s, w], [n, e]]).replace(" ", "") in page.replace(" ", "").replace("\n", "")
    assert "National suitability surface (1000 m cells)" in page and "Excluded cell" in page
    assert math.isfinite(overlay.pixel_m) and overlay.pixel_m > 0


def test_dollar_signs_and_braces_are_plain_text(tmp_path):
    """Matplotlib would parse '$...$' in a name as a formula (and stop on a malformed one)."""
    assessment, checks, _ = demo.assessment_frames(2)
    name = r"Campus $\frac{1}{$ {{ 7*7 }}"
    assessment.loc[assessment.index[0], "name"] = name
    r = assessment.iloc[0]
    geom = assessment.geometry.iloc[0]
    from growth_zones.report.assessment import _nearest_facts

    fig = static.site_figure("APP-1", r, geom, nearest=_nearest_facts(r, geom.centroid))
    assert name in _texts(fig)
    static._save(fig, tmp_path / "site.png")  # drawing does not fail
    assert (tmp_path / "site.png").stat().st_size > 10_000


def test_deliverability_is_drawn_on_the_national_image():
    """SF3: areas that fail a gate are hatched and outlined over their score colour, unknown ones
    dotted, each with a legend entry; the counts and the ranking rule are stated under the title."""
    ranking = demo.ranking_frame(24, hostile=False)
    ranking.loc[ranking.index[[0, 8]], "deliverable"] = "unknown"
    ok = ranking["eligible"].astype(bool)
    fig = static.national_figure(ranking, countries=demo.basemap()["countries"], generated_at="x")
    ax = fig.axes[0]
    drawn = {c.get_gid(): c for c in ax.collections if (c.get_gid() or "").startswith("gz-deliverable-")}
    for status, hatch in (("fail", "xxxx"), ("unknown", "....")):
        n = int((ok & (ranking["deliverable"] == status)).sum())
        assert n > 0 and len(drawn[f"gz-deliverable-{status}"].get_paths()) == n
        assert drawn[f"gz-deliverable-{status}"].get_hatch() == hatch
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Not deliverable: a gate failed (ranked after every deliverable area)" in labels
    assert "Deliverability unknown: a gate could not be checked" in labels
    counts = ranking.loc[ok, "deliverable"].value_counts()
    (line,) = _texts(fig, "gz-deliverability")
    assert line == (
        f"Deliverability of the areas not excluded: {counts.get('pass', 0)} deliverable · "
        f"{counts.get('unknown', 0)} unknown · {counts.get('fail', 0)} fail a gate"
    )
    (rule,) = _texts(fig, "gz-ranking-rule")
    assert rule.startswith("Ranked by deliverability first")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_deliverability_is_drawn_on_the_overview_image():
    """SF3: on the overview image a site's marker shape gives its gate status (circle pass, diamond
    unknown, square fail; X excluded) and its label says when it fails or is unknown."""
    assessment, _, _ = demo.assessment_frames(8, hostile=False)
    fig = static.overview_figure(assessment, countries=demo.basemap()["countries"], generated_at="x")
    ax = fig.axes[0]
    ok = assessment["eligible"].astype(bool)
    labels = dict(zip(assessment.index, _texts(fig, "gz-site-label"), strict=True))
    for app_id, r in assessment.iterrows():
        suffix = {"fail": " (fails a gate)", "unknown": " (gate unknown)"}.get(r["deliverable"], "")
        assert labels[app_id] == app_id + (suffix if ok[app_id] else " (excluded)")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Not deliverable: a gate failed (ranked after the others)" in legend
    assert "Deliverability unknown: a gate could not be checked" in legend
    n_fail = int((ok & (assessment["deliverable"] == "fail")).sum())
    assert f"{n_fail} fail a gate" in _texts(fig, "gz-deliverability")[0]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_overview_says_which_sites_are_below_the_dsit_minimum():
    """DSIT asks for at least 500 MW by 2030: the overview image names the sites whose own claim is
    below it, and counts them in its subtitle."""
    assessment, _, _ = demo.assessment_frames(4)
    assessment = assessment.assign(
        dsit_minimum=["meets", "below (300 MW)", "below (2033)", "unknown (no MW or year claimed)"]
    )
    title = "AI Growth Zones: candidate sites (DSIT application tests)"  # the bundled profile's
    fig = static.overview_figure(assessment, provenance=demo.PROVENANCE, profile_title=title)
    labels = _texts(fig, "gz-site-label")
    assert len(labels) == 4
    assert [lab.endswith(" · below DSIT minimum") for lab in labels] == [False, True, True, False]
    subtitle = [t for t in fig.texts if "below the DSIT minimum" in t.get_text()]
    assert subtitle and subtitle[0].get_text().endswith("· 2 below the DSIT minimum (500 MW by 2030)")
    # ... and the whole subtitle is on the page (it ran off the right edge with the profile title)
    fig.canvas.draw()
    box = subtitle[0].get_window_extent(renderer=fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1, (box, fig.bbox)

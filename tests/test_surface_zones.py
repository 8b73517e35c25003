"""Site-sized candidate zones: size bounds, contiguity, per-zone statistics and places.

Contiguity is checked with a plain breadth-first search written here (not scipy); statistics
against loops over each zone's cells; polygons against the cell centres they must contain.
"""

from __future__ import annotations

from collections import deque

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from growth_zones.surface import candidate_zones, zone_labels
from growth_zones.surface.spec import STATE_EXCLUDED, STATE_UNKNOWN
from tests.support.surface_fixtures import write_score_raster


def bfs_components(cells: set[tuple[int, int]]) -> int:
    """Number of 4-connected components of a set of (row, col) cells."""
    seen: set[tuple[int, int]] = set()
    n = 0
    for start in cells:
        if start in seen:
            continue
        n += 1
        queue = deque([start])
        seen.add(start)
        while queue:
            r, c = queue.popleft()
            for nb in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nb in cells and nb not in seen:
                    seen.add(nb)
                    queue.append(nb)
    return n


def check_partition(mask: np.ndarray, idx: np.ndarray, zone: np.ndarray, stats, min_cells, max_cells):
    """Every True cell is in exactly one zone or dropped; zones are connected and within bounds;
    a dropped cell belongs to a connected area (or split fragment) below the minimum."""
    h, w = mask.shape
    assert np.array_equal(idx, np.flatnonzero(mask))
    zones: dict[int, set[tuple[int, int]]] = {}
    for flat, z in zip(idx.tolist(), zone.tolist(), strict=True):
        if z >= 0:
            zones.setdefault(z, set()).add(divmod(flat, w))
    assert sorted(zones) == list(range(stats["zones"]))
    for cells in zones.values():
        assert min_cells <= len(cells) <= max_cells
        assert bfs_components(cells) == 1
    dropped = int((zone < 0).sum())
    assert dropped == stats["areas_below_min_cells"] + stats["fragments_below_min_cells"]


def serpentine(n: int) -> np.ndarray:
    """A one-cell-wide corridor snaking down an n x n grid (long geodesic distances, no shortcuts)."""
    m = np.zeros((n, n), dtype=bool)
    m[0::2, :] = True
    for k, r in enumerate(range(1, n, 2)):
        m[r, n - 1 if k % 2 == 0 else 0] = True
    return m


@pytest.mark.parametrize("seed", range(6))
def test_random_masks_respect_size_and_contiguity(seed):
    rng = np.random.default_rng(seed)
    # blobby random fields: smoothed noise thresholded, so there are big irregular areas with holes
    noise = rng.random((70, 90))
    k = np.ones((5, 5)) / 25
    from scipy.signal import convolve2d

    field = convolve2d(noise, k, mode="same", boundary="symm")
    mask = field > np.quantile(field, 0.45)
    min_cells, max_cells = int(rng.integers(3, 12)), int(rng.integers(40, 160))
    idx, zone, stats = zone_labels(mask, min_cells=min_cells, max_cells=max_cells)
    assert stats["areas_split"] >= 1 and stats["zones"] > 3
    check_partition(mask, idx, zone, stats, min_cells, max_cells)


def test_snake_corridor_is_cut_into_connected_pieces():
    mask = serpentine(41)
    assert bfs_components({tuple(x) for x in np.argwhere(mask)}) == 1
    idx, zone, stats = zone_labels(mask, min_cells=10, max_cells=60)
    check_partition(mask, idx, zone, stats, 10, 60)
    assert stats["zones"] >= mask.sum() // 60 and stats["fragments_below_min"] == 0


def test_small_areas_are_dropped_and_compact_blocks_halve():
    mask = np.zeros((30, 30), dtype=bool)
    mask[0:2, 0:2] = True  # 4 cells: below the minimum
    mask[10:30, 10:30] = True  # 400 cells, max 100: split into pieces of 50..100
    idx, zone, stats = zone_labels(mask, min_cells=5, max_cells=100)
    check_partition(mask, idx, zone, stats, 5, 100)
    assert stats["areas"] == 2 and stats["areas_below_min"] == 1 and stats["areas_below_min_cells"] == 4
    sizes = np.bincount(zone[zone >= 0])
    assert sizes.sum() == 400 and (sizes >= 50).all()  # balanced bisection: no sliver pieces
    with pytest.raises(ValueError):
        zone_labels(mask, min_cells=0, max_cells=10)


def test_unsplittable_piece_leaves_counted_fragment():
    """A blob with a thin tail: when min is large relative to max no cut keeps both halves above
    the minimum, so the most balanced cut is taken and a piece below it is dropped, and counted."""
    mask = np.zeros((12, 12), dtype=bool)
    mask[0:3, 0:3] = True  # 9 cells
    mask[1, 3:8] = True  # + 5 cell tail = 14: no cut leaves two halves of 8 or more
    idx, zone, stats = zone_labels(mask, min_cells=8, max_cells=12)
    check_partition(mask, idx, zone, stats, 8, 12)
    assert stats["areas_split"] == 1 and stats["fragments_below_min"] == 2
    assert stats["fragments_below_min_cells"] == 14 and stats["zones"] == 0


def _zone_raster(tmp_path):
    """40 x 50 cells of 100 m (1 ha): one large area straddling two regions, a small one, an
    excluded block inside the large area and unknown-state cells."""
    rng = np.random.default_rng(7)
    score = np.full((40, 50), 0.2)
    score[5:35, 5:45] = 0.6 + 0.39 * rng.random((30, 40))  # 1200 cells
    score[0:2, 47:50] = 0.95  # 6 cells
    state = np.zeros_like(score)
    state[5:35, 5:45] = STATE_UNKNOWN
    state[15:20, 15:20] = STATE_EXCLUDED  # high score but excluded: must stay out
    state[20:35, 5:45] = 0.0
    score[38, 0] = np.nan  # sea
    t = Affine(100.0, 0, 400000.0, 0, -100.0, 300000.0)
    return write_score_raster(tmp_path / "z.tif", score, state, t), score, state, t


def test_candidate_zones_bounds_stats_and_polygons(tmp_path):
    path, score, state, t = _zone_raster(tmp_path)
    regions = gpd.GeoDataFrame(
        {"code": ["W", "E"]},
        geometry=[shapely.box(400000, 296000, 402000, 300000), shapely.box(402000, 296000, 405000, 300000)],
        crs="EPSG:27700",
    )
    z = candidate_zones(path, threshold=0.6, min_area_ha=8, max_area_ha=250, regions=regions)
    st = z.attrs["zone_stats"]
    assert st["areas_below_min"] == 1 and st["areas_below_min_cells"] == 6  # the 6 ha patch
    assert (z["area_ha"] <= 250).all() and (z["area_ha"] >= 8).all()
    assert z["rank"].tolist() == list(range(1, len(z) + 1)) and z["zone"].is_unique
    assert z["campus_score"].is_monotonic_decreasing
    assert z.crs.to_epsg() == 27700 and (z.geom_type == "Polygon").all()
    # every suitable (not excluded, >= threshold) cell is in exactly one zone; no excluded cell is
    rows, cols = np.mgrid[0:40, 0:50]
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    suitable = np.isfinite(score) & (score >= 0.6) & (state != STATE_EXCLUDED)
    suitable[0:2, 47:50] = False  # dropped: below the minimum
    cover = np.zeros(score.shape, dtype=int)
    for i, geom in enumerate(z.geometry):
        inside = shapely.contains_xy(geom, x, y)
        cover += inside
        cells = score[inside]
        assert len(cells) == z.at[i, "n_cells"] and z.at[i, "area_ha"] == pytest.approx(len(cells) * 1.0)
        assert geom.area == pytest.approx(len(cells) * 10_000.0)
        # statistics over the zone's own cells, by loop
        vals = sorted(float(v) for v in cells)
        assert z.at[i, "mean_score"] == pytest.approx(sum(vals) / len(vals), rel=1e-6)
        assert z.at[i, "max_score"] == pytest.approx(vals[-1], rel=1e-6)
        assert z.at[i, "campus_score"] == pytest.approx(sum(vals[-8:]) / 8, rel=1e-6)
        unknown = sum(1 for s in state[inside] if s == STATE_UNKNOWN)
        assert z.at[i, "unknown_share"] == pytest.approx(unknown / len(cells))
        bx, by = z.at[i, "best_x"], z.at[i, "best_y"]
        assert shapely.contains_xy(geom, bx, by)
        r, c = int((t.f - by) // 100), int((bx - t.c) // 100)
        assert score[r, c] == pytest.approx(vals[-1], rel=1e-6)
        # the region holding most of the zone's cells, and its share
        in_w = int((inside & (x < 402000)).sum())
        want = ("W", in_w / len(cells)) if in_w * 2 > len(cells) else ("E", 1 - in_w / len(cells))
        if in_w * 2 != len(cells):
            assert (z.at[i, "la_code"], z.at[i, "la_share"]) == (want[0], pytest.approx(want[1]))
    assert (cover[suitable] == 1).all() and (cover[~suitable] == 0).all()


def test_no_zone_when_nothing_is_big_enough(tmp_path):
    path, *_ = _zone_raster(tmp_path)
    z = candidate_zones(path, threshold=0.999)
    assert len(z) == 0 and "zone_stats" in z.attrs


def test_attach_places_nearest_nodes_against_brute_force():
    from growth_zones.data.layers import LayerSet
    from growth_zones.surface import attach_places

    regions = gpd.GeoDataFrame(
        {"code": ["E06000001"], "name": ["Hartlepool"], "nation": ["England"], "dataset": ["t"]},
        geometry=[shapely.box(0, 0, 50_000, 50_000)],
        crs="EPSG:27700",
    )
    subs = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "name": ["Alpha", "Bravo", "Gamma", "Delta"],
            "voltage_kv": [400.0, 275.0, 132.0, np.nan],
            "operator": "",
            "kind": ["transmission", "transmission", "bsp", "gsp"],  # c is not a site node
            "dataset": "t",
        },
        geometry=[
            shapely.Point(1000, 1000),
            shapely.Point(30_000, 30_000),
            shapely.Point(10_500, 10_000),
            shapely.Point(15_000, 12_000),
        ],
        crs="EPSG:27700",
    )
    layers = LayerSet(regions=regions, substations=subs)
    zones = gpd.GeoDataFrame(
        {"la_code": ["E06000001", None]},
        geometry=[shapely.box(10_000, 10_000, 12_000, 11_000), shapely.box(28_000, 27_000, 29_000, 29_500)],
        crs="EPSG:27700",
    )
    out = attach_places(zones, layers)
    assert out["la_name"].tolist() == ["Hartlepool", None] and out["nation"].tolist()[0] == "England"
    pts = dict(zip(subs["name"], subs.geometry, strict=True))
    for i, geom in enumerate(zones.geometry):
        site = {n: geom.distance(pts[n]) for n in ("Alpha", "Bravo", "Delta")}  # transmission or GSP
        tx = {n: geom.distance(pts[n]) for n in ("Alpha", "Bravo")}
        best, best_tx = min(site, key=site.get), min(tx, key=tx.get)
        assert out.at[i, "node_name"] == best and out.at[i, "dist_node_km"] == pytest.approx(
            site[best] / 1000
        )
        assert out.at[i, "transmission_node_name"] == best_tx
        assert out.at[i, "dist_transmission_node_km"] == pytest.approx(tx[best_tx] / 1000)
    assert out.at[0, "node_name"] == "Delta" and out.at[0, "transmission_node_name"] == "Alpha"
    # no ETYS ratings in this toy grid: the capacity is missing, and says why
    assert out["firm_capacity_cover"].isna().all()
    assert out["zone_missing"].str.contains("no ETYS site code").all()


def test_zone_gates_against_a_loop():
    from growth_zones.surface import zone_gates
    from scoring import parse_profile

    prof = parse_profile(
        '[meta]\nname = "g"\nlevel = "site"\n[sections.a]\nweight = 1\n'
        '[criteria.x]\nsection = "a"\nvalue_function = { type = "boolean" }\n'
        '[gates.near]\nindicator = "dist_transmission_node_km"\nop = "<="\nvalue = 15\n'
        'label = "transmission node within 15 km"\nsource = "NESO ETYS, https://www.neso.energy/publications/electricity-ten-year-statement-etys"\n'
        'fail_reason = "nearest transmission node {value:.1f} km away"\n'
        '[gates.cap]\nindicator = "firm_capacity_cover"\nop = ">="\nvalue = 1.0\n'
        'label = "capacity covers 500 MW"\nsource = "NESO ETYS, https://www.neso.energy/publications/electricity-ten-year-statement-etys"\n'
    )
    zones = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "dist_transmission_node_km": [3.0, 20.0, 3.0, np.nan, 14.9],
            "firm_capacity_cover": [1.5, 2.0, np.nan, 0.5, 0.99],
            "zone_missing": [
                "",
                "",
                "no published ETYS circuit rating at node X",
                "no transmission node",
                "",
            ],
            "campus_score": [0.7, 0.9, 0.8, 0.95, 0.6],
            "mean_score": 0.5,
            "area_ha": 100.0,
        },
        geometry=[shapely.box(0, 0, 1, 1)] * 5,
        crs="EPSG:27700",
    )
    out = zone_gates(zones, prof).set_index("id")
    for _, row in zones.iterrows():
        d, c = row["dist_transmission_node_km"], row["firm_capacity_cover"]
        near = "unknown" if np.isnan(d) else ("pass" if d <= 15 else "fail")
        cap = "unknown" if np.isnan(c) else ("pass" if c >= 1.0 else "fail")
        want = "fail" if "fail" in (near, cap) else ("unknown" if "unknown" in (near, cap) else "pass")
        got = out.loc[row["id"]]
        assert (got["gate_near"], got["gate_cap"], got["deliverable"]) == (near, cap, want)
    assert out.at["a", "gate_reasons"] == ""
    assert (
        out.at["b", "gate_reasons"]
        == "nearest transmission node 20.0 km away (gate: transmission node within 15 km)"
    )
    assert "no published ETYS circuit rating at node X" in out.at["c", "gate_reasons"]
    assert out.at["e", "deliverable"] == "fail" and "capacity covers 500 MW" in out.at["e", "gate_reasons"]
    # ranked as sites are: deliverability first (a passes; c unknown; d, b, e fail), then score
    assert out.sort_values("rank").index.tolist() == ["a", "c", "d", "b", "e"]
    assert out["zone"].sort_values().index.tolist() == ["a", "c", "d", "b", "e"]
    none = zone_gates(
        zones,
        parse_profile(
            '[meta]\nname = "n"\nlevel = "site"\n[sections.a]\nweight = 1\n'
            '[criteria.x]\nsection = "a"\nvalue_function = { type = "boolean" }\n'
        ),
    )
    assert (none["deliverable"] == "unknown").all() and none["gate_reasons"].str.contains(
        "no deliverability gates"
    ).all()


def test_profile_zone_sizes_drive_the_surface_run():
    from growth_zones import api
    from growth_zones.errors import InvalidInputError
    from tests.support.surface_fixtures import synthetic_layers

    layers = synthetic_layers()
    run = api.surface(resolution=1000.0, layers=layers)
    assert (run.min_area_ha, run.max_area_km2) == (50.0, 25.0)  # aigz_sites [zones]
    run = api.surface(resolution=1000.0, layers=layers, min_area_ha=200, max_area_km2=10)
    assert (run.min_area_ha, run.max_area_km2) == (200.0, 10.0)
    with pytest.raises(InvalidInputError, match="must be below max_area_km2"):
        api.surface(resolution=1000.0, layers=layers, min_area_ha=2000, max_area_km2=10)
    with pytest.raises(InvalidInputError, match="max_area_km2 must be > 0"):
        api.surface(resolution=1000.0, layers=layers, max_area_km2=0)


def test_surface_run_writes_zones_with_places_and_gate_status(tmp_path):
    import json

    from growth_zones import api
    from tests.support.surface_fixtures import synthetic_layers

    layers = synthetic_layers()
    run = api.surface(resolution=250.0, layers=layers, threshold=0.3, min_area_ha=25, max_area_km2=4)
    paths = run.write(tmp_path)
    zones = gpd.read_file(paths["zones"])
    record = json.loads(paths["record"].read_text())
    assert len(zones) == record["zones"] > 1
    assert (zones["area_ha"] <= 400).all() and (zones["area_ha"] >= 25).all()
    assert record["zone_split"]["areas_split"] >= 1 and record["max_area_km2"] == 4
    for col in (
        "la_code",
        "la_name",
        "node_id",
        "dist_node_km",
        "dist_transmission_node_km",
        "firm_capacity_cover",
        "deliverable",
        "gate_reasons",
    ):
        assert col in zones.columns
    assert zones["la_code"].isin(["E06900001", "E06900002"]).all()
    assert set(zones["deliverable"]) <= {"pass", "fail", "unknown"}
    assert (zones.loc[zones["deliverable"] != "pass", "gate_reasons"].str.len() > 0).all()
    assert record["zone_deliverable"] == zones["deliverable"].value_counts().to_dict()


@pytest.mark.parametrize(
    ("min_ha", "max_ha", "said"),
    [(1, 250, None), (8, 250, None), (0.5, 250, "smallest"), (0.5, 2, "smallest"), (0.25, 0.5, "largest")],
)
def test_cells_too_coarse_for_the_zone_bounds_are_said(tmp_path, min_ha, max_ha, said):
    """SF10: 1 ha cells cannot make zones of at most 0.5 ha (every zone is one cell, too big): said
    in the zone statistics. A minimum below one cell is said too (the smallest zone is a cell)."""
    path, *_ = _zone_raster(tmp_path)
    z = candidate_zones(path, threshold=0.6, min_area_ha=min_ha, max_area_ha=max_ha)
    notes = z.attrs["zone_stats"]["size_warnings"]
    if said is None:
        assert notes == []
        return
    (note,) = notes
    assert "cells of 70 m or finer" in note  # sqrt(0.5 ha) = 70.7 m
    if said == "largest":
        assert "more than the largest candidate zone" in note and "every zone is a single cell" in note
        assert (z["area_ha"] > max_ha).all()  # what the note is about
    else:
        assert "more than the smallest candidate zone" in note and "the smallest zone is one cell" in note


def test_a_coarse_surface_run_says_its_zones_are_not_site_sized(tmp_path):
    """SF10 end to end: at 10 km one cell (100 km2) exceeds the 25 km2 largest zone. The run still
    writes the raster and zonal statistics, and says on stderr, in the run record and on every zone
    row that the zones are not site-sized; the summary line does not claim the bounds."""
    import json

    from growth_zones import api
    from tests.support.surface_fixtures import synthetic_layers

    layers = synthetic_layers()
    run = api.surface(resolution=10_000.0, layers=layers, threshold=0.0)
    paths = run.write(tmp_path)
    record = json.loads(paths["record"].read_text())
    zones = gpd.read_file(paths["zones"])
    (warning,) = record["zone_size_warnings"]
    assert "10,000 ha, more than the largest candidate zone (2,500 ha = 25 km2)" in warning
    assert "cells of 5,000 m or finer" in warning
    assert len(zones) and (zones["area_ha"] == 10_000).all() and (zones["size_note"] == warning).all()
    fine = api.surface(resolution=250.0, layers=layers, threshold=0.3).write(tmp_path / "fine")
    assert json.loads(fine["record"].read_text())["zone_size_warnings"] == []
    assert (gpd.read_file(fine["zones"])["size_note"].fillna("") == "").all()

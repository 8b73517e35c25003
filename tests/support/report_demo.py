"""Synthetic inputs for the report renderers (tests, demos, performance checks). No real data."""

from __future__ import annotations

from typing import Any

import numpy as np

HOSTILE_NAMES = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>']

CRITERIA = [
    {
        "name": "grid",
        "label": "Grid capacity headroom",
        "unit": "MW",
        "indicator": "headroom_mw",
        "section": "power",
        "weight": 3,
    },
    {
        "name": "substation",
        "label": "Distance to 400/275 kV substation",
        "unit": "km",
        "indicator": "dist_substation_km",
        "section": "power",
        "weight": 2,
    },
    {
        "name": "fibre",
        "label": "Latency to London",
        "unit": "ms",
        "indicator": "rtt_london_ms",
        "section": "connectivity",
        "weight": 1,
    },
    {
        "name": "land",
        "label": "Brownfield land available",
        "unit": "ha",
        "indicator": "brownfield_ha",
        "section": "land",
        "weight": 1,
    },
]

PROVENANCE = [
    {
        "key": "lad",
        "title": "Local Authority Districts (May 2024) Boundaries UK BGC",
        "publisher": "ONS",
        "licence": "OGL v3.0",
        "licence_url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        "Contains OS data © Crown copyright and database right 2024",
        "vintage": "2024",
        "non_commercial": False,
    },
    {
        "key": "ecr",
        "title": "Embedded Capacity Register",
        "publisher": "DNOs",
        "licence": "Open Data Licence",
        "licence_url": "https://example.org/licence",
        "attribution": "Contains DNO data",
        "vintage": "2025-09",
        "non_commercial": False,
    },
    {
        "key": "tb",
        "title": "TeleGeography submarine cables",
        "publisher": "TeleGeography",
        "licence": "CC BY-NC-SA 3.0",
        "licence_url": "https://creativecommons.org/licenses/by-nc-sa/3.0/",
        "attribution": "© TeleGeography",
        "vintage": "2025",
        "non_commercial": True,
    },
]


def _square(x: float, y: float, size: float, rng: Any, n_per_edge: int = 40) -> Any:
    from shapely.geometry import Polygon

    t = np.linspace(0, 1, n_per_edge, endpoint=False)
    pts = []
    for (ax, ay), (bx, by) in [((0, 0), (1, 0)), ((1, 0), (1, 1)), ((1, 1), (0, 1)), ((0, 1), (0, 0))]:
        for s in t:
            pts.append((x + size * (ax + (bx - ax) * s), y + size * (ay + (by - ay) * s)))
    arr = np.array(pts)
    arr += rng.normal(0, size * 0.004, arr.shape) * (np.arange(len(arr)) % n_per_edge != 0)[:, None]
    return Polygon(arr).buffer(0)


def ranking_frame(n: int = 12, *, seed: int = 1, hostile: bool = True, n_per_edge: int = 40) -> Any:
    """``n`` square local authorities over Great Britain (EPSG:27700) with scores and contributions."""
    import geopandas as gpd
    import pandas as pd

    rng = np.random.default_rng(seed)
    ncol = int(np.ceil(np.sqrt(n * 0.55)))
    nrow = int(np.ceil(n / ncol))
    x0, y0, x1, y1 = 200_000, 50_000, 600_000, 1_000_000
    size = min((x1 - x0) / ncol, (y1 - y0) / nrow)
    geoms, rows = [], []
    ws = np.array([c["weight"] for c in CRITERIA], dtype=float)
    ws = ws / ws.sum()
    for i in range(n):
        cx, cy = x0 + (i % ncol) * size, y0 + (i // ncol) * size
        geoms.append(_square(cx, cy, size * 0.98, rng, n_per_edge))
        vals = rng.uniform(0, 1, len(CRITERIA))
        contrib = ws * vals
        nation = "Scotland" if cy > 600_000 else ("Wales" if cx < 330_000 and cy < 400_000 else "England")
        row = {
            "code": f"E0{7000000 + i}",
            "name": f"District {i + 1}",
            "nation": nation,
            "score": float(contrib.sum()),
            "eligible": bool(i % 7 != 3),
            "excluded_by": "" if i % 7 != 3 else "National park covers > 50% of area",
            "missing": "latency" if i % 5 == 2 else "",
            "headroom_mw": float(rng.uniform(0, 900)),
            "dist_substation_km": float(rng.uniform(0, 60)),
            "rtt_london_ms": float(rng.uniform(1, 15)),
            "brownfield_ha": float(rng.uniform(0, 300)),
            "p_top10": float(rng.uniform(0, 1)),
            "deliverable": "fail" if i % 6 == 5 else "pass",
            "gate_reasons": (
                f"nearest transmission node 52.3 km from the district {HOSTILE_NAMES[0]} (gate: within 10 km)"
                if i % 6 == 5
                else ""
            ),
        }
        for c, v, k in zip(CRITERIA, vals, contrib, strict=True):
            row[f"contrib_{c['name']}"] = float(k)
            row[f"value_{c['name']}"] = float(v)
            key = f"section_{c['section']}"
            row[key] = row.get(key, 0.0) + float(k)
        rows.append(row)
    if hostile and n >= 2:
        rows[0]["name"] = HOSTILE_NAMES[0]
        rows[1]["name"] = HOSTILE_NAMES[1]
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:27700")
    order = gdf["score"].where(gdf["eligible"]).rank(ascending=False, method="first")
    gdf["rank"] = order.astype("Int64")
    gdf["rank_p05"] = (order - 2).clip(lower=1)
    gdf["rank_p95"] = order + 3
    return gdf


def overlays(*, seed: int = 2, n_subs: int = 60, hostile: bool = True) -> dict[str, Any]:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    rng = np.random.default_rng(seed)

    def pts(k: int) -> list[Any]:
        return [
            Point(x, y)
            for x, y in zip(rng.uniform(220_000, 580_000, k), rng.uniform(60_000, 950_000, k), strict=True)
        ]

    volts = rng.choice([400.0, 275.0, 132.0, np.nan], n_subs)
    subs = gpd.GeoDataFrame(
        {
            "name": [f"Substation {i}" for i in range(n_subs)],
            "voltage_kv": volts,
            "kind": ["transmission"] * n_subs,
        },
        geometry=pts(n_subs),
        crs="EPSG:27700",
    )
    tec = gpd.GeoDataFrame(
        {"connection_site": [f"TEC {i}" for i in range(8)], "mw": rng.uniform(10, 1500, 8)},
        geometry=pts(8),
        crs="EPSG:27700",
    )
    land = gpd.GeoDataFrame(
        {"name": ["Bude landing", "Lowestoft landing"]},
        geometry=[Point(220_000, 106_000), Point(654_000, 292_000)],
        crs="EPSG:27700",
    )
    ix = gpd.GeoDataFrame(
        {"name": ["LINX London", "IXManchester"], "metro": ["London", "Manchester"]},
        geometry=[Point(533_000, 181_000), Point(384_000, 398_000)],
        crs="EPSG:27700",
    )
    pa = gpd.GeoDataFrame(
        {"designation": ["national_park"], "name": ["Peak District"]},
        geometry=[Point(410_000, 380_000).buffer(15_000)],
        crs="EPSG:27700",
    )
    circ = gpd.GeoDataFrame(
        {"voltage_kv": [400.0, 275.0]},
        geometry=[
            LineString([(450_000, 200_000), (420_000, 500_000)]),
            LineString([(300_000, 600_000), (350_000, 800_000)]),
        ],
        crs="EPSG:27700",
    )
    apps = gpd.GeoDataFrame(
        {
            "id": ["APP-1", "APP-2"],
            "name": [HOSTILE_NAMES[0] if hostile else "North Campus", "Teesside Campus"],
            "score": [0.71, 0.44],
            "rank": [1, 2],
        },
        geometry=[Point(400_000, 500_000).buffer(800), Point(450_000, 520_000).buffer(600)],
        crs="EPSG:27700",
    )
    return {
        "substations": subs,
        "tec_sites": tec,
        "landing_points": land,
        "internet_exchanges": ix,
        "protected_areas": pa,
        "circuits": circ,
        "applications": apps,
    }


def assessment_frames(n: int = 4, *, seed: int = 3, hostile: bool = True) -> tuple[Any, Any, Any]:
    """(assessment, checks, rejected) for ``n`` applications with nearest-infrastructure columns."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    rng = np.random.default_rng(seed)
    ids = [f"APP-{i + 1}" for i in range(n)]
    if hostile and n >= 3:
        ids[1] = "../../etc/passwd"
        ids[2] = "<b>x</b>/a b"
    names = [f"Campus {i + 1}" for i in range(n)]
    if hostile and n >= 2:
        names[0] = HOSTILE_NAMES[0]
        names[1] = HOSTILE_NAMES[1]
    xs = rng.uniform(300_000, 500_000, n)
    ys = rng.uniform(200_000, 600_000, n)
    ws = np.array([c["weight"] for c in CRITERIA], dtype=float)
    ws = ws / ws.sum()
    rows = []
    for i in range(n):
        vals = rng.uniform(0, 1, len(CRITERIA))
        contrib = ws * vals
        row = {
            "name": names[i],
            "applicant": f"Applicant {i} Ltd",
            "mw": float(rng.choice([300, 500, 1000])),
            "target_year": int(rng.choice([2028, 2030, 2032])),
            "score": float(contrib.sum()),
            "eligible": i != n - 1,
            "excluded_by": "" if i != n - 1 else "Site inside a flood zone 3",
            "missing": "population_50km" if i == 0 else "",
            "site_area_ha": float(rng.uniform(20, 200)),
            "substation_voltage_kv": 400.0,
            "rtt_london_ms": float(rng.uniform(1, 10)),
            "population_50km": float(rng.uniform(1e5, 3e6)),
            "meets_500mw_by_2030": bool(i % 2 == 0),
            "land_sufficient": True,
            "evidence_power": bool(i % 2 == 0),
            "evidence_planning": np.nan if i == 1 else True,
            "la_name": f"District {i}",
            "nation": "England",
            "headroom_mw": float(rng.uniform(0, 900)),
            "brownfield_ha": float(rng.uniform(0, 300)),
            "substation_name": "Drax <400kV>" if i == 0 else f"Sub {i}",
            "substation_x": xs[i] + 6_000,
            "substation_y": ys[i] + 2_000,
            "ix_name": "LINX London",
            "ix_x": 533_000.0,
            "ix_y": 181_000.0,
            "landing_name": "Bude",
            "landing_x": 220_000.0,
            "landing_y": 106_000.0,
            "deliverable": ["pass", "unknown", "fail", "pass"][i % 4],
            "gate_reasons": "" if i % 4 in (0, 3) else f"node capacity not published {HOSTILE_NAMES[1]}",
            "dsit_power_status": ["pass", "unverified", "fail", "pass"][i % 4],
            "dsit_power_detail": f"claimed 500 MW by 2029; nearest 400 kV node Wylfa 14.4 km {HOSTILE_NAMES[0]}",
            "designation_flags": (
                f"62% inside Eryri National Park: major development only in exceptional circumstances "
                f"(Planning Policy Wales; NPPF in England) [exceptional] {HOSTILE_NAMES[1]}"
                if i == 0
                else ""
            ),
        }
        row["dist_substation_km"] = float(np.hypot(6_000, 2_000) / 1000)
        row["dist_ix_km"] = float(np.hypot(533_000 - xs[i], 181_000 - ys[i]) / 1000)
        row["dist_landing_km"] = float(np.hypot(220_000 - xs[i], 106_000 - ys[i]) / 1000)
        for c, v, k in zip(CRITERIA, vals, contrib, strict=True):
            row[f"contrib_{c['name']}"] = float(k)
            row[f"value_{c['name']}"] = float(v)
        rows.append(row)
    gdf = gpd.GeoDataFrame(
        pd.DataFrame(rows, index=pd.Index(ids, name="id")),
        geometry=[Point(x, y).buffer(700) for x, y in zip(xs, ys, strict=True)],
        crs="EPSG:27700",
    )
    gdf["rank"] = gdf["score"].where(gdf["eligible"]).rank(ascending=False, method="first").astype("Int64")
    checks = pd.DataFrame(
        [
            {"id": i, "check": c, "status": s, "detail": d}
            for i in ids
            for c, s, d in [
                ("grid_connection_offer", "present", "Offer letter dated 2025-03-01"),
                ("planning", "not checked", ""),
                ("flood_zone", "pass", "Outside flood zones 2 and 3"),
                ("site_in_sea", "fail" if i == ids[-1] else "pass", ""),
                ("evidence_power", "missing", HOSTILE_NAMES[1]),
            ]
        ]
    )
    rejected = pd.DataFrame(
        {
            "row": [7, 9],
            "id": ["BAD-1", ""],
            "name": [HOSTILE_NAMES[0], "No geometry"],
            "reason": ["mw must be > 0 (got -5)", "missing geometry <wkt>"],
        }
    )
    return gdf, checks, rejected


def basemap(n: int = 24, *, seed: int = 1) -> dict[str, Any]:
    """Synthetic base-map layers: ``countries`` (one land polygon around the synthetic districts
    plus an island) and ``regions`` (the districts of :func:`ranking_frame`)."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    regions = ranking_frame(n, seed=seed, hostile=False)[["code", "name", "geometry"]]
    land = box(*regions.total_bounds).buffer(20_000).union(Point(150_000, 900_000).buffer(15_000))
    countries = gpd.GeoDataFrame({"name": ["Synthetic land"]}, geometry=[land], crs="EPSG:27700")
    return {"countries": countries, "regions": regions}

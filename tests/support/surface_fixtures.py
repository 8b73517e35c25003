"""Small synthetic layers for the surface tests (a 30 x 40 km box around Culham, Oxfordshire).

Not real data: hand-placed shapes chosen so that no cell centre of a 1 km / 500 m / 250 m grid lies
exactly on a polygon edge (the centre rule is then unambiguous for the oracles).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from growth_zones.data.loaders import RasterData

BNG = "EPSG:27700"
CULHAM = (453430.0, 195638.0)
BOUNDS = (440000.0, 180000.0, 470000.0, 220000.0)  # 30 x 40 cells at 1 km


def _gdf(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def synthetic_layers(seed: int = 0) -> SimpleNamespace:
    """A LayerSet-like namespace with every layer the surface reads."""
    rng = np.random.default_rng(seed)
    # land: the box minus a ragged "sea" in the north-east corner
    box = shapely.box(438000.3, 178000.7, 472000.1, 222000.9)
    sea = shapely.Polygon(
        [
            (458123.4, 222500.5),
            (472500.2, 222500.5),
            (472500.2, 204321.7),
            (466010.3, 209977.1),
            (462222.2, 214555.9),
            (459876.5, 218901.3),
        ]
    )
    england = box.difference(sea)
    countries = _gdf(
        [
            {
                "code": "E92000001",
                "name": "England",
                "nation": "England",
                "dataset": "synthetic",
                "geometry": england,
            }
        ]
    )
    west = shapely.box(438000.3, 178000.7, 455555.5, 222000.9).intersection(england)
    east = shapely.box(455555.5, 178000.7, 472000.1, 222000.9).intersection(england)
    regions = _gdf(
        [
            {
                "code": "E06900001",
                "name": "West",
                "nation": "England",
                "dataset": "synthetic",
                "geometry": west,
            },
            {
                "code": "E06900002",
                "name": "East",
                "nation": "England",
                "dataset": "synthetic",
                "geometry": east,
            },
        ]
    )
    sub_xy = [(445321.7, 201234.5), (461987.3, 186543.2), (451111.1, 212345.6), (466543.2, 196789.1)]
    kinds = ["transmission", "gsp", "primary", "transmission"]
    volts = [400.0, 400.0, 33.0, 275.0]
    substations = _gdf(
        [
            {
                "id": f"s{i}",
                "name": f"S{i}",
                "voltage_kv": volts[i],
                "operator": "",
                "kind": k,
                "dataset": "synthetic",
                "geometry": shapely.Point(xy),
            }
            for i, (xy, k) in enumerate(zip(sub_xy, kinds, strict=True))
        ]
    )
    ix = _gdf(
        [
            {
                "id": "ix0",
                "name": "Slough-ish",
                "metro": "london",
                "exchanges": "",
                "dataset": "synthetic",
                "geometry": shapely.Point(468765.4, 183456.7),
            },
            {
                "id": "ix1",
                "name": "Docklands-ish",
                "metro": "London",
                "exchanges": "",
                "dataset": "synthetic",
                "geometry": shapely.Point(490123.4, 181234.5),
            },
            {
                "id": "ix2",
                "name": "Reading-ish",
                "metro": "reading",
                "exchanges": "",
                "dataset": "synthetic",
                "geometry": shapely.Point(447654.3, 215432.1),
            },
        ]
    )
    landing = _gdf(
        [
            {
                "id": "lp0",
                "name": "Coast",
                "dataset": "synthetic",
                "geometry": shapely.Point(471234.5, 219876.5),
            },
            {
                "id": "lp1",
                "name": "Far",
                "dataset": "synthetic",
                "geometry": shapely.Point(300123.4, 100987.6),
            },
        ]
    )
    circuits = _gdf(
        [
            {
                "id": "c0",
                "voltage_kv": 400.0,
                "rating_mva": np.nan,
                "length_km": np.nan,
                "operator": "",
                "dataset": "synthetic",
                "geometry": shapely.LineString(
                    [(439123.4, 190456.7), (452345.6, 199876.5), (469876.5, 205432.1)]
                ),
            },
            {
                "id": "c1",
                "voltage_kv": 132.0,
                "rating_mva": np.nan,
                "length_km": np.nan,
                "operator": "",
                "dataset": "synthetic",
                "geometry": shapely.LineString([(441000.5, 219000.5), (468000.5, 181000.5)]),
            },
        ]
    )
    park = shapely.Polygon(
        [(441234.5, 181234.5), (449876.5, 181987.6), (451234.5, 188765.4), (443456.7, 190123.4)]
    )
    sssi = shapely.Polygon([(446543.2, 206789.1), (452109.8, 207654.3), (450987.6, 213456.7)])
    sssi_out = shapely.Polygon(
        [(462345.6, 190123.4), (467890.1, 190987.6), (465432.1, 195678.9)]
    )  # not covered
    flood = shapely.Polygon(
        [(455432.1, 183456.7), (461234.5, 182345.6), (462345.6, 187654.3), (456789.1, 188765.4)]
    )
    protected = _gdf(
        [
            {
                "designation": "national_park",
                "name": "Park",
                "nation": "England",
                "dataset": "syn_np",
                "geometry": park,
            },
            {
                "designation": "sssi",
                "name": "SSSI-W",
                "nation": "England",
                "dataset": "syn_sssi",
                "geometry": sssi,
            },
            {
                "designation": "sssi",
                "name": "SSSI-E",
                "nation": "England",
                "dataset": "syn_sssi",
                "geometry": sssi_out,
            },
            {
                "designation": "flood_zone_3",
                "name": "FZ3",
                "nation": "England",
                "dataset": "syn_fz",
                "geometry": flood,
            },
        ]
    )
    coverage = _gdf(
        [
            {
                "designation": "national_park",
                "dataset": "syn_np",
                "geometry": shapely.box(430000, 170000, 480000, 230000),
            },
            {
                "designation": "sssi",
                "dataset": "syn_sssi",
                "geometry": shapely.box(430000.5, 170000.5, 455555.5, 230000.5),
            },
            {
                "designation": "flood_zone_3",
                "dataset": "syn_fz",
                "geometry": shapely.box(450123.4, 178000.7, 472000.1, 200987.6),
            },
        ]
    )
    pop = rng.integers(0, 5000, size=(60, 50)).astype(np.float32)
    pop[:5, :5] = np.nan
    population_grid = RasterData(
        array=pop,
        profile={
            "driver": "GTiff",
            "dtype": "float32",
            "crs": BNG,
            "width": 50,
            "height": 60,
            "count": 1,
            "nodata": float("nan"),
            "transform": Affine(1000.0, 0.0, 430000.0, 0.0, -1000.0, 230000.0),
        },
    )
    discount = regions.loc[regions["code"] == "E06900002"]
    return SimpleNamespace(
        regions=regions,
        countries=countries,
        substations=substations,
        circuits=circuits,
        landing_points=landing,
        internet_exchanges=ix,
        protected_areas=protected,
        designation_coverage=coverage,
        population_grid=population_grid,
        discount_areas=discount,
    )


def synthetic_profile_dict() -> dict[str, Any]:
    """A small profile mixing every value-function kind and missing rule the surface supports."""
    return {
        "meta": {"name": "surface_test", "level": "site", "missing_default": "worst"},
        "sections": {"power": {"weight": 0.5}, "other": {"weight": 0.5}},
        "criteria": {
            "dist_substation_km": {
                "section": "power",
                "weight": 2,
                "value_function": {"type": "decay", "half_distance": 4},
            },
            "claimed_mw": {
                "section": "power",
                "weight": 1,
                "value_function": {"type": "linear", "min": 100, "max": 1500, "direction": "higher"},
            },
            "rtt_london_ms": {
                "section": "other",
                "weight": 1,
                "value_function": {"type": "linear", "min": 0, "max": 1, "direction": "lower"},
            },
            "dist_ix_km": {
                "section": "other",
                "weight": 1,
                "value_function": {"type": "steps", "breaks": [5, 15], "scores": [1.0, 0.6, 0.2]},
            },
            "population_30km": {
                "section": "other",
                "weight": 1,
                "value_function": {"type": "percentile", "direction": "higher"},
            },
            "in_discount_area": {"section": "other", "weight": 1, "value_function": {"type": "boolean"}},
            "protected_share": {
                "section": "other",
                "weight": 1,
                "missing": "renormalise",
                "value_function": {"type": "linear", "min": 0, "max": 0.5, "direction": "lower"},
            },
            "in_flood_zone_3": {
                "section": "other",
                "weight": 0.5,
                "missing": "neutral",
                "value_function": {"type": "boolean", "true_score": 0, "false_score": 1},
            },
        },
        "exclusions": [
            {
                "name": "mostly_protected",
                "indicator": "protected_share",
                "op": ">",
                "value": 0.5,
                "reason": "protected",
            },
            {"name": "fz3", "indicator": "in_flood_zone_3", "op": "==", "value": True, "reason": "flood"},
            {
                "name": "big",
                "indicator": "claimed_mw",
                "op": "<",
                "value": 10,
                "reason": "not a cell indicator",
            },
        ],
    }


def write_score_raster(path, score, state, transform):
    """A two-band GeoTIFF (score, exclusion_state) in EPSG:27700, as ``surface`` writes it."""
    import rasterio

    prof = dict(
        driver="GTiff",
        width=score.shape[1],
        height=score.shape[0],
        count=2,
        dtype="float32",
        crs="EPSG:27700",
        transform=transform,
        nodata=float("nan"),
    )
    with rasterio.open(path, "w", **prof) as ds:
        ds.write(np.stack([score, state]).astype(np.float32))
        ds.set_band_description(1, "score")
        ds.set_band_description(2, "exclusion_state")
    return path

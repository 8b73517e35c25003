"""Batch-level tests: synthetic mixed batches (exact reason counts), hypothesis properties of the
count invariant, the authored example files, and the real ONS GB land mask (marked ``data``)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growth_zones.workflows.applications import ApplicationBatch, read_applications
from tests.support.synthetic_applications import (
    MALFORMED_KINDS,
    REJECTED_KINDS,
    WARNED_KINDS,
    bng_land_from_countries,
    generate_applications,
    write_mixed_batch,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "data" / "examples"
COUNTRIES = ROOT.parent / "shared" / "data" / "boundaries/countries_dec2022_uk_buc.geojson"

# A simple GB built in code: mainland Britain as a coarse polygon (BNG metres), good to ~20 km.
_GB_OUTLINE = [
    (135_000, 25_000),
    (330_000, 80_000),
    (545_000, 100_000),
    (635_000, 140_000),
    (655_000, 250_000),
    (560_000, 390_000),
    (500_000, 450_000),
    (420_000, 560_000),
    (360_000, 700_000),
    (385_000, 800_000),
    (340_000, 970_000),
    (215_000, 935_000),
    (200_000, 800_000),
    (175_000, 650_000),
    (235_000, 570_000),
    (330_000, 480_000),
    (330_000, 380_000),
    (230_000, 370_000),
    (255_000, 280_000),
    (175_000, 245_000),
    (240_000, 195_000),
    (315_000, 180_000),
    (135_000, 25_000),
]
SIMPLE_GB = gpd.GeoDataFrame(
    {"name": ["GB (coarse)"]}, geometry=[shapely.Polygon(_GB_OUTLINE)], crs="EPSG:27700"
)


def check_invariant(b: ApplicationBatch) -> None:
    assert len(b.sites) + len(b.rejected) == b.input_count
    rows = sorted([*b.sites["row"].tolist(), *b.rejected["row"].tolist()])
    assert rows == list(range(1, b.input_count + 1))
    assert b.sites.index.is_unique and not b.sites.index.hasnans
    assert (b.rejected["reason"].str.len() > 0).all()


def check_kind_counts(b: ApplicationBatch, counts: dict[str, int]) -> None:
    for kind, marker in REJECTED_KINDS.items():
        got = int(b.rejected["reason"].str.contains(marker, regex=False).sum())
        assert got == counts[kind], (
            f"{kind}: expected {counts[kind]} rejections containing {marker!r}, got {got}"
        )
    for kind, marker in WARNED_KINDS.items():
        got = int(b.warnings["warning"].str.contains(marker, regex=False).sum())
        assert got == counts[kind], (
            f"{kind}: expected {counts[kind]} warnings containing {marker!r}, got {got}"
        )
    assert len(b.rejected) == sum(counts[k] for k in REJECTED_KINDS)
    assert len(b.sites) == counts["valid"] + sum(counts[k] for k in WARNED_KINDS)


@pytest.fixture(scope="session")
def real_land() -> gpd.GeoDataFrame:
    if not COUNTRIES.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real data missing on CI: {COUNTRIES}")
        pytest.skip(f"real ONS countries file not found at {COUNTRIES}")
    return bng_land_from_countries(gpd.read_file(COUNTRIES))


# ------------------------------------------------------------------------------------------------
# synthetic batches


@pytest.mark.parametrize("suffix", [".geojson", ".csv"])
def test_mixed_batch_of_1000_has_the_expected_reasons(tmp_path: Path, suffix: str) -> None:
    f = tmp_path / f"mixed{suffix}"
    counts = write_mixed_batch(f, 1000, land=SIMPLE_GB, seed=7, malformed_fraction=0.1)
    assert sum(counts.values()) == 1000 and all(counts[k] >= 7 for k in MALFORMED_KINDS)
    b = read_applications(f, land=SIMPLE_GB)
    check_invariant(b)
    assert b.input_count == 1000
    check_kind_counts(b, counts)


def test_generated_sites_are_realistic_and_on_land() -> None:
    gdf = generate_applications(300, land=SIMPLE_GB, seed=1, crs="EPSG:27700")
    assert gdf.crs.to_epsg() == 27700 and (gdf["synthetic_kind"] == "valid").all()
    land = SIMPLE_GB.geometry.iloc[0]
    assert shapely.contains(land, gdf.geometry.values).all()
    area = gdf.area / 1e4
    assert area.between(9.9, 200.1).all()
    assert gdf["mw"].between(100, 2000).all() and gdf["target_year"].between(2026, 2035).all()
    assert gdf["id"].is_unique
    again = generate_applications(300, land=SIMPLE_GB, seed=1, crs="EPSG:27700")
    assert again.geometry.geom_equals_exact(gdf.geometry, tolerance=0).all()  # deterministic per seed
    ll = generate_applications(50, land=SIMPLE_GB, seed=2)
    assert ll.crs.to_epsg() == 4326 and ll.total_bounds[1] > 49 and ll.total_bounds[3] < 61


def test_generated_frame_round_trips_in_bng(tmp_path: Path) -> None:
    gdf = generate_applications(200, land=SIMPLE_GB, seed=4, malformed_fraction=0.3, crs="EPSG:27700")
    out = gdf.drop(columns="synthetic_kind").copy()
    for col in ("mw", "target_year"):
        out[col] = out[col].astype(str)  # mixed text/numbers: one field type
    out["wkt"] = [None if g is None else g.wkt for g in out.geometry.values]
    pd.DataFrame(out.drop(columns="geometry")).to_csv(tmp_path / "b.csv", index=False)
    b = read_applications(tmp_path / "b.csv", input_crs="EPSG:27700", land=SIMPLE_GB)
    check_invariant(b)
    counts = Counter(gdf["synthetic_kind"])
    counts = {"valid": counts.get("valid", 0), **{k: counts.get(k, 0) for k in MALFORMED_KINDS}}
    assert (
        int(b.rejected["reason"].str.contains("look like longitude/latitude", regex=False).sum())
        == counts["wrong_crs"]
    )
    others = {k: v for k, v in REJECTED_KINDS.items() if k != "wrong_crs"}
    for kind, marker in others.items():
        assert int(b.rejected["reason"].str.contains(marker, regex=False).sum()) == counts[kind], kind


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    fraction=st.floats(0, 1),
    suffix=st.sampled_from([".geojson", ".csv"]),
)
def test_invariant_holds_for_random_mixes(
    tmp_path_factory: pytest.TempPathFactory, n: int, seed: int, fraction: float, suffix: str
) -> None:
    f = tmp_path_factory.mktemp("mix") / f"m{suffix}"
    counts = write_mixed_batch(f, n, land=SIMPLE_GB, seed=seed, malformed_fraction=fraction)
    b = read_applications(f, land=SIMPLE_GB)
    check_invariant(b)
    assert b.input_count == n
    check_kind_counts(b, counts)


_GEOMS = {
    "square": {
        "type": "Polygon",
        "coordinates": [[[-1.23, 51.65], [-1.22, 51.65], [-1.22, 51.66], [-1.23, 51.66], [-1.23, 51.65]]],
    },
    "bowtie": {
        "type": "Polygon",
        "coordinates": [[[-1.23, 51.65], [-1.22, 51.66], [-1.22, 51.65], [-1.23, 51.66], [-1.23, 51.65]]],
    },
    "spike": {
        "type": "Polygon",
        "coordinates": [[[-1.23, 51.65], [-1.22, 51.66], [-1.21, 51.65], [-1.22, 51.66], [-1.23, 51.65]]],
    },
    "short": {"type": "Polygon", "coordinates": [[[-1.23, 51.65], [-1.22, 51.66], [-1.23, 51.65]]]},
    "unclosed": {
        "type": "Polygon",
        "coordinates": [[[-1.23, 51.65], [-1.22, 51.66], [-1.21, 51.65], [-1.2, 51.6]]],
    },
    "bng": {
        "type": "Polygon",
        "coordinates": [[[450000, 200000], [451000, 200000], [451000, 201000], [450000, 200000]]],
    },
    "point": {"type": "Point", "coordinates": [-1.5, 53.0]},
    "line": {"type": "LineString", "coordinates": [[-1.5, 53.0], [-1.4, 53.1]]},
    "garbage": {"type": "Polygon", "coordinates": "nonsense"},
    "nan": {
        "type": "Polygon",
        "coordinates": [[[-1.23, 51.65], [None, 51.65], [-1.22, 51.66], [-1.23, 51.65]]],
    },
    "sea": {"type": "Polygon", "coordinates": [[[2.3, 52.5], [2.31, 52.5], [2.31, 52.51], [2.3, 52.5]]]},
    "empty": {"type": "Polygon", "coordinates": []},
    "null": None,
}
_text = st.one_of(
    st.none(), st.text(max_size=12), st.sampled_from(["yes", "no", "1", "0", "unknown", "", "Y"])
)
_row = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), st.sampled_from(["A", "B", "C", " A", "", "1"]), st.integers(0, 3)),
        "name": st.one_of(st.none(), st.text(max_size=20)),
        "mw": st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-10, 20_000),
            st.text(max_size=6),
        ),
        "target_year": st.one_of(
            st.none(), st.integers(2000, 2100), st.floats(2020, 2070), st.text(max_size=5)
        ),
        "evidence_grid": st.one_of(_text, st.booleans(), st.integers(-1, 2)),
        "evidence_water": _text,
        "site_area_ha": st.one_of(st.none(), st.floats(-5, 10_000), st.text(max_size=4)),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(_row, st.sampled_from(sorted(_GEOMS))), min_size=1, max_size=15),
    declare=st.booleans(),
)
def test_invariant_holds_for_arbitrary_rows(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[dict[str, object], str]], declare: bool
) -> None:
    feats = [{"type": "Feature", "properties": p, "geometry": _GEOMS[g]} for p, g in rows]
    doc: dict[str, object] = {"type": "FeatureCollection", "features": feats}
    if declare:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    f = tmp_path_factory.mktemp("rows") / "r.geojson"
    f.write_text(json.dumps(doc, allow_nan=True))
    try:
        b = read_applications(f, land=SIMPLE_GB)
    except Exception as err:  # only a whole-file CRS failure may raise, and only without a declared CRS
        from growth_zones.errors import InvalidInputError

        assert isinstance(err, InvalidInputError) and not declare, err
        return
    check_invariant(b)
    assert b.input_count == len(rows)
    for (_, g), r in zip(rows, range(1, len(rows) + 1), strict=True):
        if g in ("null", "empty", "garbage", "spike", "short", "line", "sea", "nan"):
            assert r not in set(b.sites["row"]), (g, b.sites)


# ------------------------------------------------------------------------------------------------
# the authored examples


def test_example_geojson_reads_cleanly() -> None:
    f = EXAMPLES / "applications.geojson"
    doc = json.loads(f.read_text(encoding="utf-8"))
    assert "ILLUSTRATIVE" in doc["description"] and doc["name"]
    b = read_applications(f)
    check_invariant(b)
    assert b.ok and len(b.warnings) == 0 and 12 <= len(b.sites) <= 14
    area = b.sites["area_ha"]
    assert area.between(14, 121).all()
    assert area.drop("GZ-SLO").between(20, 120).all()
    assert b.sites.loc["GZ-SLO", "mw"] == 600 and area["GZ-SLO"] < 20  # the deliberate land shortfall
    assert (
        b.sites.loc["GZ-HIG", ["evidence_water", "evidence_land_control", "evidence_planning"]].isna().all()
    )


def test_example_csv_has_exactly_its_deliberate_problems() -> None:
    b = read_applications(EXAMPLES / "applications.csv")
    check_invariant(b)
    assert b.rejected[["id", "reason"]].values.tolist() == [["GZ-FER", "latitude and longitude look swapped"]]
    w = b.warnings[~b.warnings["warning"].str.startswith("site boundary approximated by a circle")]
    assert w["id"].tolist() == ["GZ-WBU"] and "evidence_planning value 'pending'" in w["warning"].iloc[0]
    assert (b.sites["area_ha"] - b.sites["site_area_ha"]).abs().max() < 1e-6


@pytest.mark.data
def test_examples_are_on_real_gb_land(real_land: gpd.GeoDataFrame) -> None:
    b = read_applications(EXAMPLES / "applications.geojson", land=real_land)
    assert b.ok and len(b.sites) == 13
    b = read_applications(EXAMPLES / "applications.csv", land=real_land)
    assert b.rejected["id"].tolist() == ["GZ-FER"]


@pytest.mark.data
def test_mixed_batch_on_real_gb_land(tmp_path: Path, real_land: gpd.GeoDataFrame) -> None:
    f = tmp_path / "mixed.geojson"
    counts = write_mixed_batch(f, 1000, land=real_land, seed=11, malformed_fraction=0.1)
    b = read_applications(f, land=real_land)
    check_invariant(b)
    check_kind_counts(b, counts)
    # Northern Ireland is outside GB: Belfast sites are among the 'foreign' ones
    assert b.rejected["reason"].str.startswith("outside Great Britain").sum() == counts["foreign"]


@pytest.mark.data
def test_real_land_offshore_and_irish_sites(tmp_path: Path, real_land: gpd.GeoDataFrame) -> None:
    f = tmp_path / "a.csv"
    f.write_text(
        "id,latitude,longitude,site_area_ha,mw\n"
        "NI,54.597,-5.930,30,500\n"  # Belfast
        "IE,53.350,-6.260,30,500\n"  # Dublin
        "FR,48.857,2.352,30,500\n"  # Paris
        "SEA,52.800,1.750,30,500\n"  # North Sea, ~10 km off Sea Palling, Norfolk
        "OK,51.657,-1.229,30,500\n"
    )
    b = read_applications(f, land=real_land)
    check_invariant(b)
    r = b.rejected.set_index("id")["reason"]
    assert all(r[k].startswith("outside Great Britain") for k in ("NI", "IE", "FR"))
    assert r["SEA"].startswith("in the sea, ") and list(b.sites.index) == ["OK"]
    assert np.isfinite(b.sites.total_bounds).all()

"""Deprivation in local impact: the three national indices, ranked within their nation, joined to
every GB local authority, to sites and to surface cells.

Numbers are checked against independent computations: a loop that counts, for each LAD, how many
LADs of its nation are less deprived; the publisher's own ranks; and the 2019 English LAD summary
that the aggregation method behind the Welsh and Scottish tables must reproduce.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from growth_zones.data.catalogue import load_catalogue
from growth_zones.data.layers import LayerSet
from growth_zones.data.loaders import RawInput, get_normaliser
from growth_zones.data.loaders.social import percentile_from_rank, rank_most_deprived_first
from growth_zones.errors import SchemaError
from growth_zones.indicators.deprivation import LAD_SUCCESSORS_2023, deprivation_by_code

LAD_KEYS = {
    "England": "mhclg_iod2025_lad_file10",
    "Wales": "wimd2019_lad_aggregate_brc",
    "Scotland": "simd2020v2_council_aggregate_brc",
}


def _run(key: str, paths: list[Path]):
    ds = load_catalogue()[key]
    return get_normaliser(ds.normaliser)(RawInput(dataset=ds, paths=paths))


def _loop_percentile(order_key: list[float]) -> list[float]:
    """Independent within-nation percentile: higher key = more deprived. For each LAD, count the
    LADs strictly less deprived plus half of its other ties, over n - 1."""
    n = len(order_key)
    out = []
    for i in range(n):
        less = sum(1 for j in range(n) if order_key[j] < order_key[i])
        ties = sum(1 for j in range(n) if j != i and order_key[j] == order_key[i])
        out.append((less + ties / 2.0) / (n - 1))
    return out


# ------------------------------------------------------------------------------ pure helpers
def test_percentile_from_rank_matches_loop_with_ties():
    values = pd.Series([0.5, 0.1, 0.3, 0.3, 0.0, 0.0, 0.0, 0.9])
    rank = rank_most_deprived_first(values)
    assert rank.tolist() == [2, 5, 3, 3, 6, 6, 6, 1]  # competition ranks, 1 = most deprived
    got = percentile_from_rank(rank)
    np.testing.assert_allclose(got, _loop_percentile(values.tolist()), rtol=0, atol=1e-15)
    assert got.max() == 1.0 and got[1] > got[4]
    assert percentile_from_rank(pd.Series([3.0])).tolist() == [1.0]
    assert percentile_from_rank(pd.Series([np.nan, 1.0, 2.0])).tolist()[1:] == [1.0, 0.0]


def _csv(tmp_path: Path, name: str, frame: pd.DataFrame) -> Path:
    p = tmp_path / name
    frame.to_csv(p, index=False)
    return p


def test_wrong_nation_and_duplicate_codes_are_refused(tmp_path):
    bad = pd.DataFrame({"ltla22_code": ["W06000001", "S12000005"], "Score": [1, 2], "Proportion": [0, 0]})
    bad["Extent"] = [0.1, 0.2]
    with pytest.raises(SchemaError, match=r"expected only Wales codes .*S12000005"):
        _run(LAD_KEYS["Wales"], [_csv(tmp_path, "w.csv", bad)])
    dup = pd.DataFrame(
        {"ltla24_code": ["S12000005", "S12000005"], "Proportion": [0, 0], "Extent": [0.1, 0.2]}
    )
    with pytest.raises(SchemaError, match="duplicated codes"):
        _run(LAD_KEYS["Scotland"], [_csv(tmp_path, "s.csv", dup)])
    missing = pd.DataFrame({"ltla24_code": ["S12000005"], "Proportion": [0]})
    with pytest.raises(SchemaError, match="Extent"):
        _run(LAD_KEYS["Scotland"], [_csv(tmp_path, "s2.csv", missing)])


def test_a_workbook_where_the_derived_csv_belongs_says_what_to_do(tmp_path):
    wb = tmp_path / "wimd.ods"
    wb.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    with pytest.raises(SchemaError, match=r"publisher's small-area workbook.*--mirror"):
        _run(LAD_KEYS["Wales"], [wb])
    with pytest.raises(SchemaError, match="publisher's workbook"):
        _run("simd2020v2_datazone_ranks", [wb])


def test_official_iod_workbook_is_read(tmp_path):
    """The publisher's XLSX (sheet IMD, headers as published, trailing spaces included) gives the
    same table as the CSV conversion."""
    pytest.importorskip("openpyxl")
    official = pd.DataFrame(
        {
            "Local Authority District code (2024)": ["E06000001", "E06000002", "E07000084"],
            "Local Authority District name (2024)": ["Hartlepool", "Middlesbrough", "Basingstoke"],
            "IMD - Average score ": [37.58, 40.037, 11.2],
            "IMD - Rank of average score ": [10, 4, 250],
            "IMD - Proportion of LSOAs in most deprived 10% nationally ": [0.4211, 0.5, 0.0],
            "IMD25 - Extent ": [0.5259, 0.5657, 0.0],
            "IMD25 - Rank of extent ": [2, 1, 3],
        }
    )
    path = tmp_path / "File_10.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"Notes": ["about"]}).to_excel(xl, sheet_name="Notes", index=False)
        official.to_excel(xl, sheet_name="IMD", index=False)
    f = _run(LAD_KEYS["England"], [path]).frame
    assert f["code"].tolist() == ["E06000001", "E06000002", "E07000084"]
    assert f["rank_in_nation"].tolist() == [2, 1, 3]
    assert f["percentile_in_nation"].tolist() == [0.5, 1.0, 0.0]
    assert f["average_score"].tolist() == [37.58, 40.037, 11.2]
    official = official.drop(columns=["IMD25 - Extent "])
    with pd.ExcelWriter(path) as xl:
        official.to_excel(xl, sheet_name="IMD", index=False)
    with pytest.raises(SchemaError, match=r"columns for \['extent'\] not found"):
        _run(LAD_KEYS["England"], [path])


def _layers(rows: list[tuple[str, str, float]]) -> LayerSet:
    table = pd.DataFrame(
        {
            "code": [r[0] for r in rows],
            "name": "",
            "nation": [r[1] for r in rows],
            "index_name": "x",
            "measure": "extent",
            "value": 0.0,
            "rank_in_nation": 1.0,
            "n_in_nation": float(len(rows)),
            "percentile_in_nation": [r[2] for r in rows],
            "share_most_deprived_10pct": 0.0,
            "average_score": np.nan,
            "derived": False,
            "dataset": "t",
        }
    )
    return LayerSet(deprivation_by_region=table)


def test_join_reasons_and_2023_successors():
    layers = _layers([("E06000063", "England", 0.7), ("W06000001", "Wales", 0.2)])
    codes = ["E06000063", "E07000026", "E07000099", "S12000005", "", "W06000001"]
    v, why, extra = deprivation_by_code(np.array(codes, dtype=object), layers)
    assert v[:2].tolist() == [0.7, 0.7] and np.isnan(v[2:5]).all() and v[5] == 0.2
    assert extra["deprivation_code_used"].tolist()[:2] == ["E06000063", "E06000063"]
    assert why.tolist() == [
        "",
        "",
        "no deprivation row for E07000099 (boundary vintage mismatch)",
        "no deprivation data for Scotland in the layer",
        "no local authority",
        "",
    ]
    v, why, _ = deprivation_by_code(np.array(["E06000063"], dtype=object), LayerSet())
    assert np.isnan(v[0]) and why[0] == "layer deprivation_by_region not available"
    # every abolished district maps to one of the four 2023 unitaries
    assert set(LAD_SUCCESSORS_2023.values()) == {"E06000063", "E06000064", "E06000065", "E06000066"}
    assert len(LAD_SUCCESSORS_2023) == 17


def test_site_takes_its_local_authority_value():
    from growth_zones.indicators import site_indicators
    from tests.test_indicators_units import KM, toy_layers

    layers = toy_layers()
    layers.deprivation_by_region = _layers(
        [("E06000001", "England", 0.9), ("E07000100", "England", 0.1)]
    ).deprivation_by_region
    sites = gpd.GeoDataFrame(
        {"mw": [500.0, 500.0, 500.0], "target_year": [2029, 2029, 2029]},
        geometry=[
            shapely.box(5 * KM, 5 * KM, 6 * KM, 6 * KM),  # in E06000001
            shapely.box(150 * KM, 50 * KM, 151 * KM, 51 * KM),  # in E07000100
            shapely.box(5 * KM, 125 * KM, 6 * KM, 126 * KM),  # Highland: no Scottish data here
        ],
        index=pd.Index(["a", "b", "c"], name="id"),
        crs="EPSG:27700",
    )
    t = site_indicators(sites, layers)
    assert t.values["deprivation_percentile"].tolist()[:2] == [0.9, 0.1]
    assert np.isnan(t.values.loc["c", "deprivation_percentile"])
    assert t.reasons.loc["c", "deprivation_percentile"] == "no deprivation data for Scotland in the layer"
    assert t.extra.loc["a", "deprivation_code_used"] == "E06000001"


def test_surface_cells_take_their_lad_value():
    """Cell-centre rule, checked against shapely point-in-polygon for every cell."""
    from growth_zones.surface import SurfaceSpec, plan_from_profile, prepare_inputs
    from growth_zones.surface.spec import Grid
    from growth_zones.surface.tile import compute_indicators
    from scoring import profile_from_dict
    from tests.support.surface_fixtures import BOUNDS, synthetic_layers, synthetic_profile_dict

    layers = synthetic_layers()
    layers.deprivation_by_region = _layers(
        [("E06900001", "England", 0.25), ("E06900002", "England", 0.75)]
    ).deprivation_by_region
    d = synthetic_profile_dict()
    d["criteria"]["deprivation_percentile"] = {
        "section": next(iter(d["sections"])),
        "weight": 1,
        "value_function": {"type": "linear", "min": 0, "max": 1, "direction": "higher"},
        "missing": "neutral",
    }
    plan = plan_from_profile(profile_from_dict(d))
    spec = SurfaceSpec(resolution_m=500.0)
    grid = Grid.from_bounds(BOUNDS, spec.resolution_m)
    inputs, notes = prepare_inputs(layers, spec, plan, discount_areas=layers.discount_areas, grid=grid)
    assert "deprivation" in notes
    land, ind = compute_indicators(inputs, grid, grid.full_window)
    got = ind["deprivation_percentile"]
    xs, ys = grid.centres(grid.full_window)
    rr, cc = np.nonzero(land)
    x, y = xs[cc], ys[rr]
    want = np.full(len(x), np.nan)
    for geom, value in zip(layers.regions.geometry, (0.25, 0.75), strict=True):
        want[shapely.contains_xy(geom, x, y)] = value
    assert np.isfinite(want).sum() > 1000 and (want == 0.25).any() and (want == 0.75).any()
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------ real files
pytestmark_data = pytest.mark.data


@pytest.fixture(scope="module")
def social(shared_data):
    return {
        nation: _run(key, [shared_data / p for p in load_catalogue()[key].mirror_paths])
        for nation, key in LAD_KEYS.items()
    }


@pytestmark_data
def test_real_tables_counts_and_spot_values(social, shared_data):
    counts = {n: len(r.frame) for n, r in social.items()}
    assert counts == {"England": 296, "Wales": 22, "Scotland": 32}
    for nation, res in social.items():
        f = res.frame
        assert (f["nation"] == nation).all() and f["code"].is_unique
        assert f["percentile_in_nation"].between(0, 1).all()
        assert f["percentile_in_nation"].max() == 1.0  # one most deprived LAD per nation
        assert f["derived"].eq(nation != "England").all()
    eng = social["England"].frame.set_index("code")
    # SOURCES.md: top by average score Blackpool 43.47, Middlesbrough 40.04, Burnley 38.68
    top = eng.sort_values("average_score", ascending=False).head(3)
    assert top["name"].tolist() == ["Blackpool", "Middlesbrough", "Burnley"]
    assert top["average_score"].round(2).tolist() == [43.47, 40.04, 38.68]
    assert eng.loc["E06000001", "value"] == 0.5259 and eng.loc["E06000001", "rank_in_nation"] == 8
    assert social["Scotland"].frame["average_score"].isna().all()  # SIMD publishes ranks only


@pytestmark_data
def test_within_nation_percentile_against_independent_loop(social):
    for nation, res in social.items():
        f = res.frame
        # England: the publisher's rank of extent (lower rank = more deprived); elsewhere the value
        key = (-f["rank_in_nation"] if nation == "England" else f["value"]).tolist()
        np.testing.assert_allclose(
            f["percentile_in_nation"], _loop_percentile(key), rtol=0, atol=1e-12, err_msg=nation
        )


@pytestmark_data
def test_english_published_ranks_agree_with_published_values(social, shared_data):
    """Our competition rank of the (4-decimal) published extent differs from the publisher's rank
    only for LADs whose rounded extent ties another LAD's."""
    f = social["England"].frame
    ours = rank_most_deprived_first(f["value"])
    differ = ours != f["rank_in_nation"]
    tied = f["value"].duplicated(keep=False)
    assert differ.sum() > 0 and not (differ & ~tied).any()
    raw = pd.read_csv(shared_data / "social" / "england_iod2025_lad24_file10_summaries.csv")
    assert f["rank_in_nation"].tolist() == raw["imd25_rank_of_extent"].tolist()


@pytestmark_data
def test_aggregation_method_reproduces_official_lad_summary(shared_data):
    """The Welsh and Scottish LAD tables are a third party's aggregation of the small-area index.
    The same package's aggregation of England's 2019 LSOA index reproduces MHCLG's own 2019 LAD
    summary (File 10) for all 289 unchanged districts: the method is sound."""
    soc = shared_data / "social"
    brc = pd.read_csv(soc / "england_imd2019_lad23_aggregated_brc.csv").set_index("ltla23_code")
    official = pd.read_csv(soc / "england_iod2019_lad19_file10_summaries.csv").set_index("ltla19_code")
    common = brc.index.intersection(official.index)
    assert len(common) == 289
    diff = (brc.loc[common, ["Score", "Proportion", "Extent"]] - official.loc[common]).abs().max()
    assert diff["Score"] < 1e-3 and diff["Proportion"] < 1e-4 and diff["Extent"] < 5e-3
    rho = brc.loc[common, "Extent"].rank().corr(official.loc[common, "Extent"].rank())
    assert rho > 0.999


@pytestmark_data
def test_small_area_ranks(shared_data):
    for key, nation, n in (
        ("wimd2019_lsoa_ranks", "Wales", 1909),
        ("simd2020v2_datazone_ranks", "Scotland", 6976),
    ):
        f = _run(key, [shared_data / p for p in load_catalogue()[key].mirror_paths]).frame
        assert len(f) == n and (f["nation"] == nation).all() and f["code"].is_unique
        assert sorted(f["rank"].astype(int)) == list(range(1, n + 1))
        # the most deprived tenth by rank is (almost exactly) decile 1
        assert (f.loc[f["rank"] <= n // 10, "decile"] == 1).all()


@pytestmark_data
def test_every_gb_lad_of_the_default_vintage_joins(mirror_cache):
    """Every GB LAD of the default boundaries (May 2024, the codes IoD 2025 uses) gets a
    within-nation percentile, and each nation's table spans its own 0..1 scale."""
    from growth_zones.data.store import Store

    layers = LayerSet.load(Store(mirror_cache), names=("regions", "deprivation_by_region"))
    regions = layers.regions
    default = [d.key for d in load_catalogue().values() if d.layer == "regions" and d.default]
    assert len(regions) == 350 and set(regions["dataset"]) == set(default) == {"ons_lad_may2024_buc"}
    v, why, extra = deprivation_by_code(regions["code"].to_numpy(), layers)
    assert np.isfinite(v).all(), dict(
        zip(regions["code"][~np.isfinite(v)], why[~np.isfinite(v)], strict=True)
    )
    assert (extra["deprivation_code_used"].to_numpy() == regions["code"].to_numpy()).all()  # no stand-ins
    by_nation = pd.Series(v).groupby(regions["nation"].to_numpy()).agg(["min", "max", "count"])
    assert by_nation["count"].to_dict() == {"England": 296, "Scotland": 32, "Wales": 22}
    assert (by_nation["max"] == 1.0).all() and (by_nation["min"] <= 0.05).all()
    assert set(extra["deprivation_rank"].str.extract(r"of (\d+) in")[0].astype(int)) == {296, 32, 22}


@pytestmark_data
def test_december_2022_vintage_joins_through_successors(shared_data, mirror_cache):
    """The older boundaries still hold the 17 districts abolished in April 2023: each takes the
    value of the unitary that replaced it, and every other GB LAD joins directly."""
    from growth_zones.data.store import Store

    layers = LayerSet.load(Store(mirror_cache), names=("deprivation_by_region",))
    old = _run("ons_lad_dec2022_buc", [shared_data / "boundaries" / "lad_dec2022_uk_buc.geojson"]).frame
    old = old[old["nation"] != "Northern Ireland"]
    assert len(old) == 363
    v, _, extra = deprivation_by_code(old["code"].to_numpy(), layers)
    assert np.isfinite(v).all()
    stood_in = extra["deprivation_code_used"].to_numpy() != old["code"].to_numpy()
    assert sorted(old["code"].to_numpy()[stood_in]) == sorted(LAD_SUCCESSORS_2023)


@pytestmark_data
def test_ranking_scores_deprivation_within_nation(mirror_cache):
    from growth_zones.workflows.ranking import rank_regions

    t = rank_regions(settings=mirror_cache).table.set_index("code")
    assert t["deprivation_percentile"].notna().all()
    w = t.loc[t["nation"] == "Scotland"]
    most = w["deprivation_percentile"].idxmax()
    assert w.loc[most, "deprivation_rank"] == "1 of 32 in Scotland"
    assert t["value_deprivation_percentile"].equals(t["deprivation_percentile"])  # linear 0..1

"""Per-cell score against a plain-loop weighted sum, criteria planning, and tiled == whole."""

from __future__ import annotations

import math

import numpy as np
import pytest

from growth_zones.surface import SurfaceSpec, compute_array, plan_from_profile, prepare_inputs
from growth_zones.surface.criteria import CELL_INDICATORS, score_cells
from growth_zones.surface.spec import Grid
from tests.support.surface_fixtures import BOUNDS, synthetic_layers, synthetic_profile_dict

scoring = pytest.importorskip("scoring")

BANDS = (
    "dist_substation_km",
    "rtt_london_ms",
    "dist_ix_km",
    "population_30km",
    "in_discount_area",
    "protected_share",
    "in_flood_zone_3",
)
REFERENCE = np.linspace(0.0, 3e6, 101)


def _inputs(res: float = 1000.0, tile_bands=BANDS):
    layers = synthetic_layers()
    spec = SurfaceSpec(
        resolution_m=res, indicator_bands=tile_bands, protected_designations=("national_park", "sssi")
    )
    plan = plan_from_profile(scoring.profile_from_dict(synthetic_profile_dict()))
    grid = Grid.from_bounds(BOUNDS, res)
    inputs, _ = prepare_inputs(layers, spec, plan, discount_areas=layers.discount_areas, grid=grid)
    plan.set_reference({"population_30km": REFERENCE})
    return inputs, plan


def _percentile(x: float, ref: np.ndarray) -> float:
    less = sum(1 for r in ref if r < x)
    le = sum(1 for r in ref if r <= x)
    avg_rank = less + (le - less + 1) / 2.0
    return min(1.0, max(0.0, (avg_rank - 1.0) / (len(ref) - 1.0)))


def oracle_cell(v: dict[str, float]) -> float:
    """The synthetic profile by hand: weights from the TOML-like dict, value functions spelled out."""
    # power (0.5): dist_substation 2 of (2 + claimed_mw 1); claimed_mw has no cell equivalent, so its
    # weight stays in power: dist_substation_km carries the whole 0.5 (never handed to "other")
    # other (0.5): five criteria of weight 1 and flood of 0.5 -> each 1/5.5 of 0.5
    w = {"dist_substation_km": 0.5}
    for k in ("rtt_london_ms", "dist_ix_km", "population_30km", "in_discount_area", "protected_share"):
        w[k] = 0.5 * 1 / 5.5
    w["in_flood_zone_3"] = 0.5 * 0.5 / 5.5
    if v["protected_share"] > 0.5 or v["in_flood_zone_3"] == 1.0:
        return -1.0
    vals = {
        "dist_substation_km": 0.5 ** (max(v["dist_substation_km"], 0.0) / 4.0),
        "rtt_london_ms": min(1.0, max(0.0, (1.0 - v["rtt_london_ms"]) / 1.0)),
        "dist_ix_km": 1.0 if v["dist_ix_km"] < 5 else (0.6 if v["dist_ix_km"] < 15 else 0.2),
        "population_30km": _percentile(v["population_30km"], REFERENCE),
        "in_discount_area": 1.0 if v["in_discount_area"] != 0 else 0.0,
        "protected_share": None
        if math.isnan(v["protected_share"])
        else min(1.0, max(0.0, (0.5 - v["protected_share"]) / 0.5)),
        "in_flood_zone_3": 0.5
        if math.isnan(v["in_flood_zone_3"])
        else (0.0 if v["in_flood_zone_3"] else 1.0),
    }
    num = den = 0.0
    for k, wk in w.items():
        if vals[k] is None:  # missing = "renormalise"
            continue
        num += wk * vals[k]
        den += wk
    return num / den


def test_score_matches_plain_loop():
    inputs, plan = _inputs()
    out = compute_array(inputs, 1000)
    score = out[0]
    ind = {b: out[2 + i] for i, b in enumerate(BANDS)}
    n_checked = 0
    for r in range(score.shape[0]):
        for c in range(score.shape[1]):
            if not np.isfinite(score[r, c]):
                assert all(np.isnan(ind[b][r, c]) for b in BANDS[:4])
                continue
            v = {b: float(ind[b][r, c]) for b in BANDS}
            want = oracle_cell(v)
            # indicator bands are float32, the score is computed from float64 indicators
            assert score[r, c] == pytest.approx(want, abs=2e-5), (r, c, v)
            n_checked += 1
    assert n_checked > 900
    assert (score == -1).sum() > 5 and (score > 0).sum() > 500


def test_plan_drops_criteria_without_cell_equivalent_and_keeps_section_weights():
    prof = scoring.profile_from_dict(synthetic_profile_dict())
    plan = plan_from_profile(prof)
    assert plan.dropped == ("claimed_mw",)
    assert plan.dropped_exclusions == ("big",)
    assert sum(c.weight for c in plan.criteria) == pytest.approx(1.0)
    w = {c.name: c.weight for c in plan.criteria}
    # claimed_mw's third of power stays in power: the section keeps its 0.5
    assert w["dist_substation_km"] == pytest.approx(0.5)
    assert dict(plan.sections_used) == pytest.approx({"power": 0.5, "other": 0.5})
    assert plan.sections_dropped == ()
    tags = plan.to_tags()
    assert "claimed_mw" in tags["criteria_dropped"] and "dist_substation_km=" in tags["criteria_used"]
    assert tags["sections_dropped"] == "" and "stays in their section" in tags["weighting"]


def _section_oracle(profile) -> tuple[dict[str, float], dict[str, float]]:
    """Expected cell weights by hand from the TOML: within each section, the criteria with a cell
    indicator share the section weight in their TOML proportions; sections with none drop out and
    the rest are scaled to sum to 1."""
    kept: dict[str, list] = {}
    for c in profile.criteria:
        if c.indicator in CELL_INDICATORS:
            kept.setdefault(c.section, []).append(c)
    raw = {}
    for sec, cs in kept.items():
        tot = sum(c.weight for c in cs)
        for c in cs:
            raw[c.name] = profile.sections[sec].weight * c.weight / tot
    total = sum(raw.values())
    lost = {
        s: sec.weight
        for s, sec in profile.sections.items()
        if s not in kept and sec.weight > 0 and any(c.section == s for c in profile.criteria)
    }
    return {k: v / total for k, v in raw.items()}, lost


@pytest.mark.parametrize("name", ["aigz_sites", "aigz", "power_first"])
def test_surface_keeps_section_weights_of_shipped_profiles(name):
    """SF1: a dropped criterion's weight never leaks into another section; a section with no cell
    criterion is named with the weight it loses, in the plan, the tags and the weighting note."""
    prof = scoring.load_profile(name)
    plan = plan_from_profile(prof)
    want, lost = _section_oracle(prof)
    got = {c.name: c.weight for c in plan.criteria}
    assert got == pytest.approx(want)
    assert dict(plan.sections_dropped) == pytest.approx(lost)
    share = {}
    for c in prof.criteria:
        if c.name in got:
            share[c.section] = share.get(c.section, 0.0) + got[c.name]
    assert dict(plan.sections_used) == pytest.approx(share)
    # the kept sections keep the profile's ratios
    kept_total = sum(prof.sections[s].weight for s in share)
    for s, v in share.items():
        assert v == pytest.approx(prof.sections[s].weight / kept_total)
    tags = plan.to_tags()
    for s in lost:
        assert f"{s}=" in tags["sections_dropped"] and s in tags["weighting"]


def test_aigz_sites_surface_power_keeps_its_half():
    """The site profile's power section (0.50) is 0.50 / (1 - water 0.05 - land 0.15) = 0.625 of the
    cell score, carried by the node distance, the node voltage and the node's contracted TEC."""
    plan = plan_from_profile(scoring.load_profile("aigz_sites"))
    used = dict(plan.sections_used)
    assert used["power"] == pytest.approx(0.50 / 0.80)
    assert dict(plan.sections_dropped) == pytest.approx({"water": 0.05, "land": 0.15})
    w = {c.name: c.weight for c in plan.criteria}
    # TOML weights 1.5 : 1 : 1 within power
    assert w["dist_substation_km"] == pytest.approx(0.625 * 1.5 / 3.5)
    assert w["substation_voltage_kv"] == pytest.approx(0.625 * 1 / 3.5)
    assert w["tec_contracted_mw_node"] == pytest.approx(0.625 * 1 / 3.5)


def test_aigz_sites_plan_uses_cell_indicators():
    plan = plan_from_profile(scoring.load_profile("aigz_sites"))
    used = {c.indicator for c in plan.criteria}
    assert used <= set(CELL_INDICATORS)
    assert {
        "dist_substation_km",
        "substation_voltage_kv",
        "tec_contracted_mw_node",
        "dist_ix_km",
        "dist_landing_km",
        "rtt_london_ms",
        "population_30km",
        "population_50km",
        "in_discount_area",
    } <= used
    assert "dsit_power_test" in plan.dropped and "claimed_mw" in plan.dropped
    assert {e.indicator for e in plan.exclusions} == {"in_flood_zone_3", "share_ancient_woodland"}
    # designation tiers reach the cells: National Parks etc. are penalised there, never removed
    pens = {p.name: (p.indicator, p.mode) for p in plan.penalties}
    assert pens["national_park"] == ("share_national_park", "flat")
    assert pens["sssi"] == ("share_sssi", "share")
    assert "penalties_used" in plan.to_tags() and "national_park:flat 0.5" in plan.to_tags()["penalties_used"]


def test_surface_tiers_match_a_table_row_and_a_stricter_tier_excludes():
    """A cell inside a National Park scores like a table row with share 1 (penalised, flagged, not
    removed); the same cell under a user's stricter tier ('exclude') is excluded."""
    prof = scoring.load_profile("aigz_sites")
    ind = {
        "dist_substation_km": np.array([2.0, 2.0, 2.0]),
        "substation_voltage_kv": np.array([400.0, 400.0, 400.0]),
        "tec_contracted_mw_node": np.array([1500.0, 1500.0, 1500.0]),
        "dist_ix_km": np.array([30.0, 30.0, 30.0]),
        "dist_landing_km": np.array([50.0, 50.0, 50.0]),
        "rtt_london_ms": np.array([3.0, 3.0, 3.0]),
        "population_30km": np.array([1e6, 1e6, 1e6]),
        "population_50km": np.array([2e6, 2e6, 2e6]),
        "in_discount_area": np.array([0.0, 0.0, 0.0]),
        "in_flood_zone_3": np.array([0.0, 0.0, 0.0]),
        "deprivation_percentile": np.array([0.5, 0.5, 0.5]),
        **{f"share_{d}": np.array([0.0, 1.0, np.nan]) for d in ("national_park",)},
        **{
            f"share_{d}": np.zeros(3)
            for d in (
                "aonb",
                "sac",
                "spa",
                "ramsar",
                "sssi",
                "green_belt",
                "ancient_woodland",
                "scheduled_monument",
            )
        },
    }
    plan = plan_from_profile(prof)
    ref = {k: v for k, v in ind.items()}
    plan.set_reference(ref)
    score, excluded, unknown = score_cells(plan, ind)
    assert not excluded.any() and not unknown.any()
    assert score[1] == pytest.approx(score[0] * 0.5)  # exceptional: heavy flat penalty
    assert score[2] == pytest.approx(score[0])  # not checked: no penalty, never a pass of the tier
    strict = plan_from_profile(prof.with_tiers({"national_park": "exclude"}))
    strict.set_reference(ref)
    _, ex2, unk2 = score_cells(strict, ind)
    assert ex2.tolist() == [False, True, False] and unk2.tolist() == [False, False, True]


@pytest.mark.parametrize(
    "rule,expected",
    [("worst", 0.0), ("neutral", 0.5), ("renormalise", 1.0), ("median", 0.75), ("exclude", 1.0)],
)
def test_missing_rules(rule, expected):
    d = {
        "meta": {"name": "m", "level": "site"},
        "sections": {"s": {"weight": 1}},
        "criteria": {
            "dist_ix_km": {
                "section": "s",
                "weight": 1,
                "missing": rule,
                "value_function": {"type": "linear", "min": 0, "max": 4, "direction": "lower"},
            },
            "in_discount_area": {"section": "s", "weight": 1, "value_function": {"type": "boolean"}},
        },
    }
    plan = plan_from_profile(scoring.profile_from_dict(d))
    plan.set_reference({"dist_ix_km": np.array([0.0, 1.0, 2.0]), "in_discount_area": np.array([1.0])})
    score, excluded, unknown = score_cells(
        plan, {"dist_ix_km": np.array([np.nan, 2.0]), "in_discount_area": np.array([1.0, 1.0])}
    )
    # cell 0: ix missing, discount true (value 1); cell 1: ix value 0.5
    assert score[0] == pytest.approx((expected + 1.0) / 2 if rule not in ("renormalise", "exclude") else 1.0)
    assert score[1] == pytest.approx(0.75)
    assert not excluded.any()
    assert bool(unknown[0]) == (rule == "exclude") and not unknown[1]


def test_tiled_equals_whole():
    inputs, _ = _inputs(1000.0)
    assert inputs.grid.shape == (40, 30)
    small = compute_array(inputs, 7)
    whole = compute_array(inputs, 1000)
    np.testing.assert_array_equal(small, whole)
    assert np.isfinite(whole[0]).sum() > 900


CROSS_PROFILE = {
    "meta": {"name": "cross", "level": "site"},
    "sections": {"power": {"weight": 0.3}, "other": {"weight": 0.7}},
    "criteria": {
        "dist_substation_km": {
            "section": "power",
            "weight": 3,
            "missing": "worst",
            "value_function": {"type": "decay", "half_distance": 4},
        },
        "dist_circuit_km": {
            "section": "power",
            "weight": 1,
            "missing": "median",
            "value_function": {"type": "linear", "direction": "lower"},
        },
        "rtt_london_ms": {
            "section": "other",
            "weight": 1,
            "missing": "neutral",
            "value_function": {"type": "percentile", "direction": "lower"},
        },
        "population_30km": {
            "section": "other",
            "weight": 2,
            "missing": "renormalise",
            "value_function": {"type": "percentile", "direction": "higher"},
        },
        "dist_ix_km": {
            "section": "other",
            "weight": 1,
            "missing": "median",
            "value_function": {"type": "steps", "breaks": [5, 15], "scores": [1.0, 0.6, 0.2]},
        },
        "in_discount_area": {"section": "other", "weight": 1, "value_function": {"type": "boolean"}},
        "protected_share": {
            "section": "other",
            "weight": 1,
            "missing": "exclude",
            "value_function": {"type": "linear", "min": 0, "max": 0.5, "direction": "lower"},
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
    ],
}


@pytest.mark.parametrize("seed", range(6))
def test_table_engine_and_surface_give_identical_scores(seed):
    """One kernel: the same indicator values score identically as table rows and as cells."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = 15
    df = pd.DataFrame(
        {
            "dist_substation_km": rng.gamma(2.0, 5.0, n),
            "dist_circuit_km": rng.gamma(2.0, 8.0, n),
            "rtt_london_ms": np.round(rng.uniform(0.5, 9.0, n), 1),
            "population_30km": rng.lognormal(13, 1, n),
            "dist_ix_km": rng.gamma(2.0, 10.0, n),
            "in_discount_area": (rng.random(n) < 0.3).astype(float),
            "protected_share": rng.choice([0.0, 0.2, 1.0], n),
            "in_flood_zone_3": (rng.random(n) < 0.2).astype(float),
        },
        index=[f"cell{i}" for i in range(n)],
    )
    for col in df.columns:
        df.loc[rng.random(n) < 0.25, col] = np.nan
    profile = scoring.profile_from_dict(CROSS_PROFILE)
    table = scoring.score(df, profile).table

    plan = plan_from_profile(profile)
    assert not plan.dropped and not plan.dropped_exclusions
    cells = {c: df[c].to_numpy() for c in df.columns}
    plan.set_reference(cells)  # the table engine's reference is the scored rows themselves
    score, excluded, unknown = score_cells(plan, cells)

    np.testing.assert_array_equal(score, table["score"].to_numpy())  # bit for bit, NaN where unscorable
    reasons = table["excluded_by"]
    hit = np.array([bool({"protected", "flood"} & set(r.split("; "))) for r in reasons])
    np.testing.assert_array_equal(excluded, hit)
    missing_exclude = df["protected_share"].isna().to_numpy()
    unchecked = df[["protected_share", "in_flood_zone_3"]].isna().any(axis=1).to_numpy()
    np.testing.assert_array_equal(unknown, (unchecked | missing_exclude) & ~hit)
    eligible = table["eligible"].to_numpy()
    np.testing.assert_array_equal(eligible, ~hit & ~missing_exclude & np.isfinite(score))

"""Profile parsing, validation (all problems collected), bundled profiles and package purity."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scoring
from scoring import ScoringConfigError, list_profiles, load_profile, parse_profile, profile_from_dict

REGION_INDICATORS = [
    "dist_gsp_km",
    "dist_transmission_km",
    "share_within_10km_transmission",
    "tx_capacity_mva_30km",
    "tx_line_km_30km",
    "tec_contracted_mw_30km",
    "in_discount_area",
    "protected_share",
    "area_km2",
    "dist_ix_km",
    "dist_landing_km",
    "rtt_london_ms",
    "full_fibre_pct",
    "population",
    "population_50km",
    "renewables_operational_mw_30km",
    "national_park_share",
    "deprivation_percentile",
]
SITE_INDICATORS = [
    "site_area_ha",
    "dist_substation_km",
    "substation_voltage_kv",
    "dist_transmission_node_km",
    "tec_contracted_mw_node",
    "competing_mw_node",
    "firm_capacity_share_mva",
    "firm_capacity_cover",
    "dsit_power_test",
    "claimed_mw",
    "meets_500mw_by_2030",
    "land_sufficient",
    "evidence_grid",
    "evidence_water",
    "evidence_land_control",
    "evidence_planning",
    "protected_share",
    "share_national_park",
    "share_aonb",
    "share_sssi",
    "share_sac",
    "share_spa",
    "share_ramsar",
    "share_green_belt",
    "share_ancient_woodland",
    "share_scheduled_monument",
    "in_flood_zone_3",
    "dist_ix_km",
    "dist_landing_km",
    "rtt_london_ms",
    "population_30km",
    "population_50km",
    "in_discount_area",
    "la_percentile",
    "deprivation_percentile",
]

GOOD = """
[meta]
name = "t"
title = "Test"
level = "region"
missing_default = "neutral"

[sections.power]
label = "Power"
weight = 0.6
[sections.land]
weight = 0.4
[sections.water]
weight = 0

[criteria.a]
section = "power"
weight = 3
value_function = { type = "decay", half_distance = 10 }
[criteria.b]
indicator = "b_raw"
section = "power"
weight = 1
value_function = { type = "linear", min = 0, max = 1, direction = "higher" }
missing = "renormalise"
[criteria.c]
section = "land"
weight = 2
value_function = { type = "boolean" }

[[exclusions]]
name = "too_far"
indicator = "a"
op = ">="
value = 100
reason = "too far"
"""


def test_parse_good_profile_and_effective_weights():
    p = parse_profile(GOOD, indicators=["a", "b_raw", "c"])
    assert (p.name, p.title, p.level, p.missing_default) == ("t", "Test", "region", "neutral")
    assert [c.name for c in p.criteria] == ["a", "b", "c"]
    assert p.criterion("b").indicator == "b_raw" and p.criterion("a").indicator == "a"
    assert p.criterion("a").missing == "neutral" and p.criterion("b").missing == "renormalise"
    assert p.sections["power"].label == "Power" and p.sections["land"].label == "land"
    w = p.weights
    np.testing.assert_allclose(w[["a", "b", "c"]].to_numpy(), [0.45, 0.15, 0.4])
    assert w.sum() == pytest.approx(1.0)
    assert p.exclusions[0] == scoring.Exclusion("too_far", "a", ">=", 100.0, "too far")
    assert p.indicators == ["a", "b_raw", "c"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "x"  # type: ignore[misc]


def test_with_weights_and_round_trip():
    p = parse_profile(GOOD)
    q = p.with_weights({"a": 1, "sections.land": 0.6})
    np.testing.assert_allclose(
        q.weights[["a", "b", "c"]].to_numpy(), [0.25, 0.25, 0.5]
    )  # sections 0.6:0.6, a:b = 1:1
    assert p.weights["a"] == pytest.approx(0.45)  # original untouched
    with pytest.raises(ScoringConfigError) as ei:
        p.with_weights({"nope": 1, "a": -2})
    assert any("unknown criterion 'nope'" in x for x in ei.value.problems)
    with pytest.raises(ScoringConfigError, match="must be >= 0"):
        p.with_weights({"a": -2})
    assert profile_from_dict(p.to_dict()) == p


def test_example_message_format():
    text = GOOD.replace(
        'value_function = { type = "decay", half_distance = 10 }',
        'value_function = { type = "linear", min = 50, max = 10, direction = "lower" }',
    )
    with pytest.raises(ScoringConfigError) as ei:
        parse_profile(text, source="aigz.toml")
    assert ei.value.problems == [
        "aigz.toml: criteria.a.value_function.max: must be > min (got min=50, max=10)"
    ]
    assert "aigz.toml: criteria.a.value_function.max: must be > min (got min=50, max=10)" in str(ei.value)
    assert isinstance(ei.value, ValueError)


BAD = """
colour = "red"
[meta]
name = "bad"
level = "county"
missing_default = "guess"

[sections.power]
weight = 0.5
[sections.water]
weight = 0.2

[criteria.a]
indicator = "no_such_indicator"
section = "power"
weight = -1
value_function = { type = "linear", min = 5, max = 1, direction = "higher" }
[criteria.b]
section = "nowhere"
value_function = { type = "steps", breaks = [3, 2], scores = [0, 1] }
[criteria.c]
section = "power"
missing = "shrug"
value_function = { type = "sigmoid" }

[[exclusions]]
name = "x"
indicator = "a"
op = "=~"
value = 1
[[exclusions]]
name = "x"
indicator = "a"
op = ">"
value = 1
reason = "dup"
"""

BAD_EXPECTED = [
    "bad.toml: colour: unknown key",
    "bad.toml: meta.level: must be 'region' or 'site' (got 'county')",
    "bad.toml: meta.missing_default: unknown missing rule 'guess'",
    "bad.toml: criteria.a.indicator: unknown indicator 'no_such_indicator'; known: a, b, c",
    "bad.toml: criteria.a.weight: must be >= 0 (got -1)",
    "bad.toml: criteria.a.value_function.max: must be > min (got min=5, max=1)",
    "bad.toml: criteria.b.section: unknown section 'nowhere'; known: power, water",
    "bad.toml: criteria.b.value_function.breaks: must be strictly increasing",
    "bad.toml: criteria.b.value_function.scores: must have len(breaks) + 1 = 3 values (got 2)",
    "bad.toml: criteria.c.value_function.type: unknown value function type 'sigmoid'",
    "bad.toml: criteria.c.missing: unknown missing rule 'shrug'",
    "bad.toml: exclusions[0] (x).op: must be one of",
    "bad.toml: exclusions[0] (x).reason: required",
    "bad.toml: exclusions[1] (x).name: duplicate exclusion name 'x'",
]


def test_bad_profile_lists_every_problem_once():
    with pytest.raises(ScoringConfigError) as ei:
        parse_profile(BAD, source="bad.toml", indicators=["a", "b", "c"])
    problems = ei.value.problems
    assert len(problems) == len(BAD_EXPECTED), "\n".join(problems)
    for want in BAD_EXPECTED:
        hits = [p for p in problems if p.startswith(want)]
        assert len(hits) == 1, (want, problems)
        assert want in str(ei.value)


def test_each_problem_kind_alone():
    def problems(text, **kw):
        with pytest.raises(ScoringConfigError) as ei:
            parse_profile(text, source="p.toml", **kw)
        return ei.value.problems

    # unknown indicator only
    assert problems(GOOD, indicators=["a", "c"]) == [
        "p.toml: criteria.b.indicator: unknown indicator 'b_raw'; known: a, c"
    ]
    # negative weight only
    assert problems(GOOD.replace("weight = 3", "weight = -3")) == [
        "p.toml: criteria.a.weight: must be >= 0 (got -3)"
    ]
    # non-numeric weight
    assert problems(GOOD.replace("weight = 3", 'weight = "3"')) == [
        "p.toml: criteria.a.weight: must be a finite number >= 0 (got '3')"
    ]
    # all weights zero
    zero = (
        GOOD.replace("weight = 3", "weight = 0")
        .replace("weight = 1\n", "weight = 0\n")
        .replace("weight = 2", "weight = 0")
    )
    got = problems(zero)
    assert any("all effective weights are zero" in p for p in got)
    # empty section with positive weight
    assert problems(GOOD.replace("[sections.water]\nweight = 0", "[sections.water]\nweight = 0.3")) == [
        "p.toml: sections.water.weight: a section with no criteria must have weight 0 (got 0.3)"
    ]
    # unknown criterion key and unknown value-function key
    assert problems(GOOD.replace('missing = "renormalise"', 'missing = "renormalise"\nweigth = 2')) == [
        "p.toml: criteria.b.weigth: unknown key; allowed: "
        + ", ".join(
            (
                "indicator",
                "section",
                "weight",
                "label",
                "unit",
                "description",
                "value_function",
                "missing",
                "policy",
            )
        )
    ]
    # exclusion: bool value with an ordering op
    got = problems(GOOD.replace('op = ">="\nvalue = 100', 'op = ">="\nvalue = true'))
    assert got == [
        "p.toml: exclusions[0] (too_far).op: '>=' needs a numeric value; booleans/strings allow only == and !="
    ]


def test_toml_syntax_error_has_line_and_column():
    with pytest.raises(ScoringConfigError) as ei:
        parse_profile(GOOD.replace("weight = 0.6", "weight = = 0.6"), source="broken.toml")
    assert len(ei.value.problems) == 1
    msg = ei.value.problems[0]
    assert msg.startswith("broken.toml: TOML syntax error:")
    line = GOOD.splitlines().index("weight = 0.6") + 1
    assert f"line {line}" in msg and "column" in msg


def test_load_profile_from_path_and_errors(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD, encoding="utf-8")
    assert load_profile(f).name == "t"
    assert load_profile(str(f)).name == "t"
    (tmp_path / "bad.toml").write_text("[meta\n", encoding="utf-8")
    with pytest.raises(ScoringConfigError, match="bad.toml: TOML syntax error"):
        load_profile(tmp_path / "bad.toml")
    with pytest.raises(ScoringConfigError, match="no bundled profile"):
        load_profile("does_not_exist")
    with pytest.raises(ScoringConfigError, match="cannot read profile"):
        load_profile(tmp_path / "missing.toml")


# ------------------------------------------------------------------ bundled profiles
def test_bundled_profile_names():
    assert set(list_profiles()) >= {"aigz", "power_first", "aigz_sites"}


@pytest.mark.parametrize(
    "name, level, indicators",
    [
        ("aigz", "region", REGION_INDICATORS),
        ("power_first", "region", REGION_INDICATORS),
        ("aigz_sites", "site", SITE_INDICATORS),
    ],
)
def test_bundled_profiles_validate_against_indicator_lists(name, level, indicators):
    p = load_profile(name, indicators=indicators)
    assert p.name == name and p.level == level
    assert len(p.criteria) >= 8
    assert p.weights.sum() == pytest.approx(1.0)
    assert (p.weights >= 0).all()
    assert all(c.label and c.label != c.name for c in p.criteria)
    assert set(p.indicators) <= set(indicators)
    # the bundled file is inside the package (so hatchling ships it in the wheel)
    assert (Path(scoring.__file__).parent / "profiles" / f"{name}.toml").is_file()


def _section_share(p, section):
    return sum(p.weights[c.name] for c in p.criteria if c.section == section)


def test_bundled_profile_intent():
    aigz = load_profile("aigz")
    assert _section_share(aigz, "power") == pytest.approx(0.40)
    assert max(aigz.sections, key=lambda s: aigz.sections[s].weight) == "power"
    assert set(aigz.indicators) == set(REGION_INDICATORS) - {"tx_capacity_mva_30km"}  # reported, not scored
    assert aigz.sections["water"].weight == 0
    pf = load_profile("power_first")
    assert _section_share(pf, "power") == pytest.approx(0.70)
    sites = load_profile("aigz_sites")
    ex = {e.name: e for e in sites.exclusions}
    assert set(ex) == {"flood_zone_3"}  # designations are tiers now, not one on/off exclusion
    assert (ex["flood_zone_3"].indicator, ex["flood_zone_3"].op, ex["flood_zone_3"].value) == (
        "in_flood_zone_3",
        "==",
        True,
    )
    # deliverability gates: DSIT's minimum on the claim; a transmission node within 15 km; firm
    # circuit capacity after competing bids (together: the judged DSIT power test)
    gates = {g.name: g for g in sites.gates}
    assert list(gates) == ["dsit_minimum", "transmission_node", "firm_capacity"]
    assert (gates["dsit_minimum"].indicator, gates["dsit_minimum"].op, gates["dsit_minimum"].value) == (
        "meets_500mw_by_2030",
        "==",
        True,
    )
    assert (
        gates["transmission_node"].indicator,
        gates["transmission_node"].op,
        gates["transmission_node"].value,
    ) == (
        "dist_transmission_node_km",
        "<=",
        15.0,
    )
    assert (gates["firm_capacity"].indicator, gates["firm_capacity"].op, gates["firm_capacity"].value) == (
        "firm_capacity_cover",
        ">=",
        1.0,
    )
    assert all("https://" in g.source for g in sites.gates)
    assert [g.name for g in aigz.gates] == [g.name for g in pf.gates] == ["transmission_nearby"]
    # designation tiers follow planning policy; parks and habitats sites are never removed by default
    tiers = {d.name: d.tier for d in sites.designations}
    assert tiers == {
        "national_park": "exceptional",
        "aonb": "exceptional",
        "sac": "exceptional",
        "spa": "exceptional",
        "ramsar": "exceptional",
        "sssi": "constraint",
        "green_belt": "constraint",
        "ancient_woodland": "exclude",
        "scheduled_monument": "exceptional",
    }
    park = sites.designations[0]
    assert (
        park.policy_for("Wales").source == "Planning Policy Wales"
        and park.policy_for("England").source == "NPPF"
    )
    # the DSIT power test is judged on evidence; the claim itself is not a criterion any more
    assert sites.criterion("dsit_power_test").value_function.type == "boolean"
    assert sites.criterion("dsit_power_test").missing == "worst"  # unverified earns nothing
    assert "meets_500mw_by_2030" not in sites.criterion_names


CLAIMS = (
    "claimed_mw",
    "meets_500mw_by_2030",
    "evidence_grid",
    "evidence_water",
    "evidence_land_control",
    "evidence_planning",
)


@pytest.mark.parametrize("name", ["aigz", "power_first", "aigz_sites"])
def test_a_claim_is_never_the_largest_contribution(name):
    """What an applicant merely claims (MW, year, evidence flags) never carries the largest weight."""
    p = load_profile(name)
    w = p.weights
    claims = [c.name for c in p.criteria if c.indicator in CLAIMS]
    evidence = [c for c in w.index if c not in claims]
    assert all(w[c] < w[evidence].max() for c in claims), w.sort_values().tail()


@pytest.mark.parametrize("name", ["aigz", "power_first", "aigz_sites"])
def test_bundled_profiles_score_synthetic_data(name):
    p = load_profile(name)
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame(
        {ind: rng.gamma(2.0, 10.0, n) for ind in p.indicators}, index=[f"id{i}" for i in range(n)]
    )
    for col in ("protected_share", "share_within_10km_transmission", "la_percentile"):
        if col in df:
            df[col] = rng.random(n)
    for i, col in enumerate(c for c in df if c.startswith("share_")):  # one designation per row at most
        df[col] = np.where(np.arange(n) % 8 == i, rng.random(n), 0.0)
    for col in (
        "in_discount_area",
        "meets_500mw_by_2030",
        "land_sufficient",
        "in_flood_zone_3",
        "dsit_power_test",
    ):
        if col in df:
            df[col] = rng.random(n) < 0.3
    for col in ("protected_share", "share_sssi"):
        if col in df:
            df[col] = df[col].where(np.arange(n) % 7 != 0)  # missing: not checked
    res = scoring.score(df, p)
    t = res.table
    assert t["score"][t["eligible"]].between(0, 1).all()
    assert sorted(t["rank"][t["eligible"]]) == list(range(1, int(t["eligible"].sum()) + 1))
    assert "deliverable" in t  # every bundled profile declares a gate


# ------------------------------------------------------------------ purity
ALLOWED_THIRD_PARTY = {"numpy", "pandas"}
FORBIDDEN = {
    "growth_zones",
    "requests",
    "urllib",
    "http",
    "socket",
    "subprocess",
    "shutil",
    "folium",
    "jinja2",
}


def test_scoring_package_is_pure():
    root = Path(scoring.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert files
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import inside scoring
                    continue
                mods = [node.module or ""]
            else:
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    assert node.func.attr not in {
                        "to_csv",
                        "to_parquet",
                        "write_text",
                        "write_bytes",
                        "to_html",
                    }, f
                continue
            for m in mods:
                top = m.split(".")[0]
                assert top not in FORBIDDEN, (f, m)
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (f, m)


def test_bundled_profiles_load_from_a_zipped_package(tmp_path):
    """importlib.resources, not __file__ paths: works when the package is not a plain directory."""
    import subprocess
    import zipfile

    root = Path(scoring.__file__).parent
    z = tmp_path / "scoring_pkg.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in root.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                zf.write(f, Path("scoring") / f.relative_to(root))
    code = (
        "import scoring, sys; assert '.zip' in scoring.__file__, scoring.__file__; "
        "names = scoring.list_profiles(); [scoring.load_profile(n) for n in names]; print(','.join(names))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(z), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert set(out.stdout.strip().split(",")) >= {"aigz", "power_first", "aigz_sites"}


@pytest.mark.parametrize("name", ["aigz", "power_first", "aigz_sites"])
def test_to_dict_survives_json_round_trip(name):
    """Provenance sidecars store profile.to_dict() as JSON and rebuild with profile_from_dict."""
    import json

    p = load_profile(name)
    q = profile_from_dict(json.loads(json.dumps(p.to_dict())), source="sidecar")
    assert q == p
    pd.testing.assert_series_equal(q.weights, p.weights)

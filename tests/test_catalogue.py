"""The catalogue: every entry valid, every problem of a bad one reported at once."""

from __future__ import annotations

import pytest

from growth_zones.data.catalogue import get_dataset, load_catalogue, parse_catalogue
from growth_zones.data.loaders import get_normaliser
from growth_zones.data.schemas import LAYERS
from growth_zones.errors import CatalogueError


def test_bundled_catalogue_is_complete_and_resolvable():
    cat = load_catalogue()
    layers = {d.layer for d in cat.values()}
    for needed in (
        "regions",
        "countries",
        "substations",
        "circuits",
        "tec_projects",
        "landing_points",
        "internet_exchanges",
        "protected_areas",
        "population_by_region",
        "population_grid",
    ):
        assert needed in layers, needed
    for ds in cat.values():
        assert ds.licence and ds.attribution and ds.vintage and ds.url.startswith("https://")
        if ds.asset:  # raw assets (map libraries) have no layer and no normaliser
            assert ds.layer == "" and ds.normaliser == "" and not ds.default and all(ds.sha256), ds.key
            continue
        assert ds.layer in LAYERS
        assert callable(get_normaliser(ds.normaliser)), ds.key
        if ds.non_commercial:
            assert "non-commercial" in ds.attribution.lower()


def test_non_commercial_sources_are_flagged():
    flagged = {k for k, d in load_catalogue().items() if d.non_commercial}
    assert flagged == {
        "telegeography_landing_points_2021_06",
        "telegeography_cables_2021_06",
        "telegeography_ix_buildings_2020_10",
    }


def test_every_problem_reported_at_once():
    bad = """
[[dataset]]
key = "a"
title = "A"
publisher = "P"
layer = "nonsense"
normaliser = "nocolon"
url = "https://x"
format = "xls"
mirror_path = "a.csv"
licence = "OGL"
attribution = "x"
vintage = "2024"
colour = "blue"

[[dataset]]
key = "b"
title = "B"
layer = "regions"
requires = ["zzz"]
"""
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(bad, source="bad.toml")
    msg = str(err.value)
    for fragment in (
        "layer 'nonsense'",
        "normaliser must be",
        "format 'xls'",
        "unknown fields ['colour']",
        "dataset[1] (b): missing required fields",
    ):
        assert fragment in msg, fragment


def test_toml_syntax_error_names_the_file():
    with pytest.raises(CatalogueError, match="bad.toml: TOML syntax error"):
        parse_catalogue("[[dataset]\nkey=", source="bad.toml")


def test_unknown_key_suggests_near_matches():
    with pytest.raises(CatalogueError, match="did you mean ons_mye_mid2022_lad"):
        get_dataset("ons_mye_mid2022_ld")

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
        assert ds.layer in LAYERS
        assert callable(get_normaliser(ds.normaliser)), ds.key
        assert ds.licence and ds.attribution and ds.vintage and ds.url.startswith("https://")
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


# ---- confined paths (issue 12, failure 7): keys and mirror paths cannot point outside their roots


def _entry(key: str = "ok_key", mirror_path: object = "grid/x.csv", **extra: object) -> str:
    import json

    lines = [
        "[[dataset]]",
        f"key = {json.dumps(key)}",
        'title = "T"',
        'publisher = "P"',
        'layer = "tec_projects"',
        'normaliser = "grid:normalise_tec"',
        'url = "https://example.org/x.csv"',
        'format = "csv"',
        f"mirror_path = {json.dumps(mirror_path)}",
        'licence = "OGL"',
        'attribution = "A"',
        'vintage = "2024"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("key", ["../../victim", "Upper", "has space", "a/b", "", "dot.key", "é"])
def test_keys_must_be_lowercase_letters_digits_underscores(key):
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(_entry(key=key), source="cat.toml")
    msg = str(err.value)
    assert "cat.toml: dataset[0]" in msg
    if key:
        assert f"key {key!r} must match [a-z0-9_]+" in msg


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../secret.csv", "no '..'"),
        ("grid/../../secret.csv", "no '..'"),
        ("/etc/passwd", "not absolute"),
        ("C:/data/x.csv", "not absolute"),
        ("~/x.csv", "not absolute"),
        ("grid\\x.csv", "'/' separators"),
        ("grid/", "must name a file"),
        (["a/x.shp", "b/x.shp"], "share a file name"),
    ],
)
def test_mirror_paths_must_stay_inside_the_mirror(path, why):
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(_entry(key="victim_entry", mirror_path=path), source="cat.toml")
    msg = str(err.value)
    assert "dataset[0] (victim_entry)" in msg and why in msg


def test_max_size_must_be_a_positive_number():
    with pytest.raises(CatalogueError, match="max_size_mb must be a positive number"):
        parse_catalogue(_entry(max_size_mb=-1), source="cat.toml")
    ok = parse_catalogue(_entry(max_size_mb=50), source="cat.toml")
    assert ok["ok_key"].max_size_mb == 50.0


def test_a_bad_key_cannot_reach_outside_the_cache_even_if_built_in_code(tmp_path):
    """Belt and braces below the catalogue check: ``--force`` on a key that escaped validation
    deletes nothing outside the raw cache."""
    import dataclasses

    from growth_zones.data import fetch as _fetch
    from growth_zones.errors import DataSourceError
    from growth_zones.settings import Settings

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    settings = Settings(cache_dir=tmp_path / "cache" / "inner", mirror=None, offline=False)
    ds = dataclasses.replace(get_dataset("neso_fes2024_gsp_info"), key="../../../victim")
    with pytest.raises(DataSourceError, match="outside the cache"):
        _fetch.clear_raw(ds, settings)
    with pytest.raises(DataSourceError, match="outside the cache"):
        _fetch.raw_paths(ds, settings)
    assert (victim / "precious.txt").read_text() == "keep me"


def test_a_symlink_in_the_mirror_pointing_outside_is_refused(tmp_path):
    import dataclasses

    from growth_zones.data import fetch as _fetch
    from growth_zones.errors import DataSourceError
    from growth_zones.settings import Settings

    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n")
    mirror = tmp_path / "mirror"
    (mirror / "grid").mkdir(parents=True)
    (mirror / "grid" / "link.csv").symlink_to(outside)
    ds = dataclasses.replace(
        get_dataset("neso_fes2024_gsp_info"), mirror_paths=("grid/link.csv",), sha256=(None,)
    )
    settings = Settings(cache_dir=tmp_path / "cache", mirror=str(mirror), offline=False)
    with pytest.raises(DataSourceError, match="resolves outside the mirror"):
        _fetch.fetch(ds, settings)
    assert not (settings.raw_dir / ds.key / "link.csv").exists()

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


# ---------------------------------------------------------------- the evidence base
def test_every_dataset_declares_its_nations_and_release():
    for ds in load_catalogue().values():
        if ds.asset:  # a map library is not geographic and is pinned by version (never stale)
            assert not ds.nations and ds.release_cadence in ("", "fixed"), ds.key
            continue
        assert ds.nations and set(ds.nations) <= {"England", "Scotland", "Wales", "Northern Ireland"}, ds.key
        assert ds.release_cadence, ds.key
        assert ds.released or ds.live or ds.optional, ds.key


_FILE_SUFFIXES = (".csv", ".geojson", ".json", ".tif", ".zip", ".xlsx")


def _machine_endpoint(ds) -> bool:
    """A paged API, a direct file (by its suffix) or a document download endpoint; not a page."""
    from urllib.parse import parse_qs, urlparse

    if ds.api != "file":
        return True
    url = urlparse(ds.url)
    path = url.path.lower()
    target = parse_qs(url.query).get("uri", [""])[0].lower()  # ONS serves files as /file?uri=<path>
    return path.endswith(_FILE_SUFFIXES) or path.endswith("/download") or target.endswith(_FILE_SUFFIXES)


def test_no_default_dataset_is_a_landing_page():
    cat = load_catalogue()
    for ds in cat.values():
        if ds.default and not ds.optional:
            assert _machine_endpoint(ds), (ds.key, ds.url)
    # the optional ones say why, and are the only defaults allowed a landing page
    optional = {k for k, d in cat.items() if d.optional}
    assert optional == {
        "nged_substation_locations",
        "naturescot_ancient_woodland_scotland",
        "spatialhub_green_belt_scotland",
        # deprivation: Wales and Scotland publish small-area indices only (the LAD tables are a
        # third party's aggregation), and the small-area files are ODS / an unverified sheet
        "wimd2019_lad_aggregate_brc",
        "simd2020v2_council_aggregate_brc",
        "wimd2019_lsoa_ranks",
        "simd2020v2_datazone_ranks",
    }
    assert all(len(cat[k].manual) > 60 for k in optional)


def test_constraints_are_catalogued_for_each_nation():
    cat = load_catalogue()
    held: dict[str, set[str]] = {}
    for ds in cat.values():
        if ds.layer == "protected_areas" and ds.default:
            for nation in ds.nations:
                held.setdefault(nation, set()).update(ds.designations)
    core = {"national_park", "aonb", "sssi", "sac", "spa", "ramsar", "flood_zone_3", "flood_zone_2"}
    for nation in ("England", "Scotland", "Wales"):
        assert core | {"ancient_woodland", "scheduled_monument"} <= held[nation], nation
    assert "green_belt" in held["England"] and "green_belt" in held["Scotland"]  # Scotland's optional
    agri = {n for d in cat.values() if d.layer == "agricultural_land" for n in d.nations}
    assert agri == {"England", "Scotland", "Wales"}


def test_each_paged_protocol_is_in_use():
    apis = {d.api for d in load_catalogue().values() if d.default}
    assert apis == {"file", "arcgis", "ckan_datastore", "ogc_features", "wfs"}


def test_samples_are_declared_as_samples_of_national_datasets():
    cat = load_catalogue()
    samples = {k: d for k, d in cat.items() if d.mirror_copy is not None and d.mirror_copy.is_sample}
    assert {
        "planning_data_sssi_england",
        "planning_data_green_belt_england",
        "ea_flood_map_for_planning_england",
        "ne_provisional_alc_england",
    } <= set(samples)
    for key, ds in samples.items():
        assert "England" in ds.nations and ds.coverage_area, key
        assert all(ds.sha256), key  # the sample is recognised by its hash
        for word in ("North East", "Trafford", "Calderdale", "Greater Manchester"):
            assert word not in ds.key and word not in ds.title, key
    assert cat["ea_flood_map_for_planning_england"].mirror_copy.designations == ("flood_zone_3",)


def test_staleness_against_the_release_cadence():
    from datetime import date

    from growth_zones.data.catalogue import release_date, staleness

    today = date(2026, 12, 1)
    assert release_date("2025-09-02") == date(2025, 9, 2)
    assert release_date("2024-07") == date(2024, 7, 1) and release_date("2025") == date(2025, 1, 1)
    assert release_date("July 2024") is None
    assert staleness("2026-11-01", "monthly", today) == {
        "released": "2026-11-01",
        "release_cadence": "monthly",
        "age_days": 30,
        "stale": False,
    }
    assert staleness("2026-10-30", "monthly", today)["stale"]  # 32 days > 31
    assert not staleness("2026-09-01", "quarterly", today)["stale"]  # 91 days
    assert not staleness("2026-08-31", "quarterly", today)["stale"]  # 92 days: the limit itself
    assert staleness("2026-08-30", "quarterly", today)["stale"]  # 93 days
    assert staleness("2025-11-30", "yearly", today) == {
        "released": "2025-11-30",
        "release_cadence": "yearly",
        "age_days": 366,
        "stale": False,
    }
    assert staleness("2016", "fixed", today)["stale"] is False  # a dated vintage never goes stale
    assert staleness("", "monthly", today) == {
        "released": "",
        "release_cadence": "monthly",
        "age_days": None,
        "stale": False,
    }


def test_new_fields_are_validated_all_at_once():
    bad = """
[[dataset]]
key = "a"
title = "A"
publisher = "P"
layer = "protected_areas"
normaliser = "land:normalise_designation"
url = "https://x/y.geojson"
format = "geojson"
licence = "OGL"
attribution = "x"
vintage = "2024"
nations = ["England", "Cornwall"]
release_cadence = "weekly"
released = "spring 2024"
designation = "sssi_and_more"
designation_values = { FZ9 = "flood_zone_9" }
mirror_copy = { vintage = "v", colour = "red" }
sheets = ["a"]
archive = "rar"

[[dataset]]
key = "b"
title = "B"
publisher = "P"
layer = "regions"
normaliser = "boundaries:normalise_lad"
url = "https://x/b.zip"
format = "shapefile"
licence = "OGL"
attribution = "x"
vintage = "2024"
archive = "zip"
latest = { api = "rss", url = "https://x" }
"""
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(bad, source="bad.toml")
    msg = str(err.value)
    for fragment in (
        "nations ['Cornwall']",
        "release_cadence 'weekly'",
        "released 'spring 2024'",
        "designation 'sssi_and_more'",
        "designation 'flood_zone_9'",
        "designation_values need designation_column",
        "mirror_copy has unknown fields ['colour']",
        "sheets are only read from xlsx",
        "archive 'rar'",
        "(b): missing required fields ['mirror_path', 'nations']",
        "archive 'zip' needs the member",
        "latest needs api",
    ):
        assert fragment in msg, fragment


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
        'nations = ["England"]',
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

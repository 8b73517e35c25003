"""The public API and the CLI's common behaviour: five documented functions, profiles checked before
any data is touched, output sets replaced whole or not at all, ``--dask`` with an optional address,
``-q`` and one-line errors."""

from __future__ import annotations

import inspect
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cli import EXIT_MISSING_CHECKS, app

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "data" / "examples" / "applications.geojson"


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """An empty cache in offline mode: any attempt to read data fails loudly."""
    return {
        "GROWTH_ZONES_CACHE": str(tmp_path / "empty-cache"),
        "GROWTH_ZONES_OFFLINE": "1",
        "GROWTH_ZONES_MIRROR": "",
    }


def test_api_exposes_five_documented_functions():
    from growth_zones import api

    for name in ("pull", "rank", "assess", "surface", "render"):
        fn = getattr(api, name)
        doc = inspect.getdoc(fn) or ""
        assert len(doc) > 80, f"api.{name} needs a real docstring"
        assert "Returns" in doc or "Returns the pages" in doc, name


@pytest.mark.parametrize(
    "argv",
    [
        ["rank", "--profile", "aigzz"],
        ["assess", str(EXAMPLES), "--profile", "aigz_sitez"],
        ["assess", str(EXAMPLES), "--region-profile", "nope"],
        ["surface", "--profile", "no_such_profile"],
    ],
)
def test_a_mistyped_profile_fails_before_any_data_is_touched(argv, tmp_path, cli_runner):
    res = cli_runner.invoke(app, [*argv, "--out", str(tmp_path / "out")], env=_offline_env(tmp_path))
    assert res.exit_code == 1
    assert "no bundled profile" in res.stderr and "offline" not in res.stderr
    assert not (tmp_path / "empty-cache").exists()  # nothing was pulled, read or cached


def test_api_rank_validates_the_profile_first(tmp_path):
    import scoring
    from growth_zones import api
    from growth_zones.settings import Settings

    settings = Settings(cache_dir=tmp_path / "c", offline=True, mirror=None)
    with pytest.raises(scoring.ScoringConfigError, match="no bundled profile"):
        api.rank("not_a_profile", settings=settings)


def test_output_set_refuses_then_replaces_everything(tmp_path):
    from growth_zones.errors import InvalidInputError
    from growth_zones.workflows.outputs import OutputSet

    out = tmp_path / "out"
    with OutputSet(out, ["a.csv", "b.gpkg", "report"], overwrite=False) as stage:
        (stage / "a.csv").write_text("1")
        (stage / "b.gpkg").write_text("old")
        (stage / "report").mkdir()
        (stage / "report" / "old-site.html").write_text("old")
    (out / "unrelated.txt").write_text("keep me")
    with pytest.raises(InvalidInputError, match="--overwrite"):
        with OutputSet(out, ["a.csv", "b.gpkg", "report"], overwrite=False):
            pass
    with OutputSet(out, ["a.csv", "b.gpkg", "report"], overwrite=True) as stage:
        (stage / "a.csv").write_text("2")
        (stage / "report").mkdir()
        (stage / "report" / "new-site.html").write_text("new")
    assert (out / "a.csv").read_text() == "2"
    assert not (out / "b.gpkg").exists()  # not written this time: the stale one is gone
    assert sorted(p.name for p in (out / "report").iterdir()) == ["new-site.html"]
    assert (out / "unrelated.txt").read_text() == "keep me"  # other commands' files are untouched
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_output_set_keeps_the_old_outputs_when_the_run_fails(tmp_path):
    from growth_zones.workflows.outputs import OutputSet

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with OutputSet(out, ["a.csv"], overwrite=True) as stage:
            (stage / "a.csv").write_text("half")
            raise RuntimeError("boom")
    assert (out / "a.csv").read_text() == "old"
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]


def test_out_naming_a_file_is_one_line_error(tmp_path, cli_runner):
    target = tmp_path / "file.txt"
    target.write_text("x")
    res = cli_runner.invoke(app, ["rank", "--out", str(target)], env=_offline_env(tmp_path))
    assert res.exit_code == 1
    assert res.stderr.strip().count("\n") == 0 and "is a file" in res.stderr
    assert "Traceback" not in res.output


def test_unwritable_output_folder_is_one_line_error(tmp_path, cli_runner, monkeypatch):
    from growth_zones import api
    from growth_zones.workflows.outputs import OutputSet

    class Fake:
        def write(self, out, **kw):
            with OutputSet(Path(out), ["x.csv"], overwrite=False):
                pass

    monkeypatch.setattr(api, "rank", lambda *a, **k: Fake())
    res = cli_runner.invoke(app, ["rank", "--out", "/proc/growth-zones-out"], env=_offline_env(tmp_path))
    assert res.exit_code == 1 and res.stderr.startswith(
        "error: cannot write outputs to /proc/growth-zones-out"
    )
    assert "Traceback" not in res.output


def test_unexpected_errors_are_one_line_unless_very_verbose(tmp_path, cli_runner, monkeypatch):
    from growth_zones import api

    def broken(*a, **k):
        raise RuntimeError("something nobody anticipated")

    monkeypatch.setattr(api, "rank", broken)
    res = cli_runner.invoke(app, ["rank", "--out", str(tmp_path / "o")], env=_offline_env(tmp_path))
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "error: internal error (RuntimeError: something nobody anticipated); "
        "rerun with -vv for the traceback and report it"
    )
    loud = cli_runner.invoke(app, ["-vv", "rank", "--out", str(tmp_path / "o")], env=_offline_env(tmp_path))
    assert loud.exit_code == 1 and "Traceback" in loud.stderr


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["surface", "--dask"], "local"),
        (["surface", "--dask", "--overwrite"], "local"),
        (["surface", "--dask", "tcp://10.0.0.1:8786"], "tcp://10.0.0.1:8786"),
        (["surface"], False),
    ],
)
def test_dask_takes_an_optional_address(argv, expected, tmp_path, cli_runner, monkeypatch):
    from growth_zones import api

    seen = {}

    class Run:
        def write(self, out, overwrite=False):
            return {}

        def zone_summary(self, record):
            return None

        def sections_summary(self, record):
            return None

    def fake_surface(**kw):
        seen.update(kw)
        return Run()

    monkeypatch.setattr(api, "surface", fake_surface)
    res = cli_runner.invoke(app, [*argv, "--out", str(tmp_path / "o")], env=_offline_env(tmp_path))
    assert res.exit_code == 0, res.output
    assert seen["dask"] == expected


def test_surface_refuses_to_overwrite(tmp_path, cli_runner):
    out = tmp_path / "o"
    out.mkdir()
    (out / "surface_250m.tif").write_bytes(b"earlier run")
    res = cli_runner.invoke(app, ["surface", "--out", str(out)], env=_offline_env(tmp_path))
    assert res.exit_code == 1 and "--overwrite" in res.stderr
    assert (out / "surface_250m.tif").read_bytes() == b"earlier run"


# ------------------------------------------------------------------ on the real data


@pytest.fixture
def warm_env(mirror_cache):
    return {
        "GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir),
        "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror),
    }


@pytest.mark.data
def test_quiet_assess_prints_nothing(tmp_path, cli_runner, warm_env):
    """-q prints nothing but errors, and the checks that could not run, which are never quiet (the
    CI mirror lacks most national designation files: exit 4)."""
    res = cli_runner.invoke(app, ["-q", "assess", str(EXAMPLES), "--out", str(tmp_path / "o")], env=warm_env)
    assert res.exit_code == EXIT_MISSING_CHECKS, res.output
    lines = res.stderr.splitlines()
    assert res.stdout == "" and lines and all(ln.startswith(("warning: ", "error: ")) for ln in lines)
    assert any(ln.startswith("warning: check not run: ") for ln in lines)
    assert not any("assessed" in ln or "fetching" in ln for ln in lines)
    res = cli_runner.invoke(
        app, ["assess", "-q", str(EXAMPLES), "--out", str(tmp_path / "p"), "--allow-missing"], env=warm_env
    )
    assert res.exit_code == 0 and res.stdout == ""
    assert all(ln.startswith("warning: ") for ln in res.stderr.splitlines())


@pytest.mark.data
def test_assess_overwrite_replaces_the_whole_output_set(tmp_path, cli_runner, warm_env):
    """A 13-site run then a 1-row run with --overwrite: no stale GeoPackage rows, no stale pages."""
    out = tmp_path / "o"
    res = cli_runner.invoke(
        app,
        ["assess", str(EXAMPLES), "--out", str(out), "--html", "--geoparquet", "--allow-missing"],
        env=warm_env,
    )
    assert res.exit_code == 0, res.output
    assert len(gpd.read_file(out / "assessment.gpkg")) == 13
    assert len(list((out / "report" / "sites").glob("*.html"))) == 13
    one = gpd.read_file(EXAMPLES).head(1)
    single = tmp_path / "one.geojson"
    one.to_file(single, driver="GeoJSON")
    refused = cli_runner.invoke(app, ["assess", str(single), "--out", str(out)], env=warm_env)
    assert refused.exit_code == 1 and "--overwrite" in refused.stderr
    res = cli_runner.invoke(
        app,
        ["assess", str(single), "--out", str(out), "--overwrite", "--html", "--allow-missing"],
        env=warm_env,
    )
    assert res.exit_code == 0, res.output
    assert len(gpd.read_file(out / "assessment.gpkg")) == 1
    assert len(pd.read_csv(out / "assessment.csv")) == 1
    assert len(list((out / "report" / "sites").glob("*.html"))) == 1
    assert not (out / "assessment.parquet").exists()  # not asked for this time, so the old one is gone


@pytest.mark.data
def test_api_results_write_their_declared_outputs(tmp_path, mirror_cache):
    from growth_zones import api
    from growth_zones.workflows.ranking import RankingResult

    ranking = api.rank(settings=mirror_cache)
    paths = ranking.write(tmp_path / "r", formats=("csv", "gpkg", "parquet"))
    assert set(paths) == {"csv", "gpkg", "parquet", "provenance", "gate_sensitivity"}
    assert {p.name for p in (tmp_path / "r").iterdir()} <= set(RankingResult.OUTPUTS.values())
    with pytest.raises(Exception, match="unknown output format"):
        ranking.write(tmp_path / "r2", formats=("xlsx",))
    shutil.rmtree(tmp_path / "r")


def test_api_names_the_layers_of_each_use_case():
    from growth_zones import api
    from growth_zones.errors import InvalidInputError
    from growth_zones.workflows.ranking import REGION_LAYERS
    from growth_zones.workflows.surface import SURFACE_LAYERS

    assert api.layers_for("rank") == api.layers_for("assess") == tuple(REGION_LAYERS)
    assert api.layers_for("surface") == tuple(SURFACE_LAYERS)
    with pytest.raises(InvalidInputError, match="choose rank, assess or surface"):
        api.layers_for("ranking")
    for name in ("layers", "layers_for"):
        assert name in api.__all__ and "Returns" in (inspect.getdoc(getattr(api, name)) or "")


@pytest.mark.data
def test_api_layers_reads_the_cache_through_the_one_loader(mirror_cache):
    from growth_zones import api

    layers = api.layers(("regions", "countries"), settings=mirror_cache)
    assert len(layers.regions) > 300  # GB local authorities
    assert layers.regions.crs.to_epsg() == 27700 and layers.substations is None


def test_a_closed_pipe_ends_the_listing_quietly(tmp_path):
    """Review nit: `growth-zones -q data list | head -3` printed "error: Broken pipe"."""
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "GROWTH_ZONES_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'growth-zones'; import cli; cli.app()",
            "-q",
            "data",
            "list",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141  # 128 + SIGPIPE, as Unix tools end
    assert err == ""


def test_the_cli_is_thin():
    """Review SF5: cli.py parses, calls the API and prints. It imports from the package only the
    API, the settings it builds and the error types it turns into one line (no store, catalogue,
    output sets or result classes), and `data list` rows come from ``api.datasets``."""
    import ast

    tree = ast.parse((REPO / "cli.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    ours = {m for m in imported if m.startswith(("growth_zones", "scoring"))}
    assert ours <= {
        "growth_zones.api",
        "growth_zones.settings.Settings",
        "growth_zones.errors.GrowthZonesError",
        "scoring.ScoringConfigError",
        "scoring",
    }, ours


def test_api_datasets_gives_the_rows_data_list_prints(tmp_path, cli_runner):
    from growth_zones import api
    from growth_zones.data.catalogue import load_catalogue
    from growth_zones.settings import Settings

    rows = api.datasets(settings=Settings(cache_dir=tmp_path / "c", mirror=None, offline=True))
    assert [r["key"] for r in rows] == list(load_catalogue())
    assert all(r["mirror_path"] for r in rows)  # every dataset has one (review M2)
    assert not any(r["cached"] for r in rows)
    listed = cli_runner.invoke(app, ["data", "list", "--json"], env=_offline_env(tmp_path))
    assert listed.exit_code == 0, listed.output
    assert [r["key"] for r in json.loads(listed.stdout)] == [r["key"] for r in rows]

"""Execute every analyst notebook against the real data mirror.

Each notebook in ``notebooks/`` must run top to bottom with no error, produce at least one chart,
and be stored without outputs. Needs ``../shared/data`` (or ``GROWTH_ZONES_MIRROR``): skips with a
clear reason where it is absent, fails instead under ``CI=true``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO, require_shared_data

NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have stored outputs or execution counts; clear them before saving"
    )


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory: pytest.TempPathFactory):
    """Environment for the kernels: the mirror, one cache shared by all notebooks, a headless backend,
    and this checkout first on the kernel's import path (so the notebooks run the code beside them,
    not whichever checkout the package happens to be installed from)."""
    mirror = require_shared_data()
    cache = tmp_path_factory.mktemp("notebook_cache")
    repo = str(NOTEBOOK_DIR.parent)
    path = os.pathsep.join([repo, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])
    wanted = {
        "GROWTH_ZONES_MIRROR": str(mirror),
        "GROWTH_ZONES_CACHE": str(cache),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": path,
    }
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)  # the kernel inherits the test process's environment
    try:
        yield wanted
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.notebook
@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path: Path, notebook_env: dict[str, str]) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    not_run = [i for i, c in enumerate(code_cells) if c.get("execution_count") is None]
    assert not not_run, f"{path.name}: code cells {not_run} did not run"
    errors = [o for c in code_cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {[(e['ename'], e['evalue']) for e in errors]}"
    images = [o for c in code_cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no chart (image/png output) was produced"


PUBLIC_ONLY = ("02_national_ranking", "03_assess_applications")
"""Notebooks with an API for everything they read: they import ``growth_zones.api`` and nothing else
of the package (notebook 01 inspects the catalogue, store and node registry, which have none yet)."""


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebooks_use_the_public_api(path: Path) -> None:
    """SF4: no notebook reaches into the use cases' internals (``growth_zones.workflows``) or builds
    layers by hand; 02 and 03 import only ``growth_zones.api``."""
    import re

    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    imported = set(re.findall(r"^\s*(?:from|import)\s+(growth_zones[\w.]*)", code, flags=re.M))
    assert imported, f"{path.name} imports nothing from growth_zones"
    assert not {m for m in imported if m.startswith("growth_zones.workflows")}, imported
    assert "LayerSet" not in code and "write_csv" not in code and "write_gpkg" not in code
    if path.stem in PUBLIC_ONLY:
        assert imported <= {"growth_zones", "growth_zones.api"}, imported


def test_assessment_notebook_shortlists_through_the_api() -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOK_DIR / "03_assess_applications.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "result.shortlist(" in code and "shortlisted.write(" in code

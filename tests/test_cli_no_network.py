"""The README's main command on a machine without a network and without a mirror: it must say at
once what it is doing, probe each host once, stop as soon as the required boundaries cannot be
had (downloading nothing else), and say how to work offline. The catalogue is rewritten so every
publisher host is a closed loopback port: nothing here can reach the internet."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from cli import app
from tests.conftest import REPO


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dead_catalogue(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The bundled catalogue with every publisher host replaced by its own closed loopback port."""
    text = (REPO / "data" / "catalogue.toml").read_text(encoding="utf-8")
    hosts = sorted(set(re.findall(r'"https?://([^/"]+)/', text)))
    ports = {h: f"127.0.0.1:{_closed_port()}" for h in hosts}
    for host, dead in ports.items():
        text = text.replace(f"https://{host}/", f"http://{dead}/").replace(
            f"http://{host}/", f"http://{dead}/"
        )
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path, ports


def test_main_command_without_network_or_mirror_fails_fast(cli_runner, dead_catalogue, tmp_path):
    catalogue, ports = dead_catalogue
    env = {
        "GROWTH_ZONES_CATALOGUE": str(catalogue),
        "GROWTH_ZONES_CACHE": str(tmp_path / "cache"),
        "GROWTH_ZONES_MIRROR": "",
        "GROWTH_ZONES_OFFLINE": "",
    }
    out = tmp_path / "out"
    res = cli_runner.invoke(
        app,
        ["assess", str(REPO / "data/examples/applications.geojson"), "--out", str(out), "--html"],
        env=env,
    )
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    boundaries = ports["services1.arcgis.com"]
    # progress from the first line, without -v: which host is being asked
    assert lines[0] == f"checking {boundaries} ..."
    # only the host of the required boundaries was asked; no dataset download was attempted
    assert [ln for ln in lines if ln.startswith("checking ")] == [f"checking {boundaries} ..."]
    assert not [ln for ln in lines if ln.startswith("fetching ")]
    error = lines[-1]
    assert error.startswith("error: could not prepare the data: the required boundary datasets")
    assert "ons_lad_may2024_buc" in error and "ons_countries_dec2022_buc" in error
    assert f"{boundaries} (connection refused)" in error
    assert "GROWTH_ZONES_MIRROR" in error and "--mirror" in error
    assert "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())  # nothing written
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_data_pull_without_network_names_every_unreachable_host_once(cli_runner, dead_catalogue, tmp_path):
    catalogue, ports = dead_catalogue
    env = {
        "GROWTH_ZONES_CATALOGUE": str(catalogue),
        "GROWTH_ZONES_CACHE": str(tmp_path / "cache"),
        "GROWTH_ZONES_MIRROR": "",
    }
    res = cli_runner.invoke(
        app, ["data", "pull", "neso_fes2024_gsp_info", "neso_tec_register_2025_09"], env=env
    )
    assert res.exit_code == 1
    neso = ports["api.neso.energy"]
    checks = [ln for ln in res.stderr.splitlines() if ln.startswith("checking ")]
    assert checks == [f"checking {neso} ..."]  # two datasets, one host, one probe
    assert res.stderr.count(f"{neso} could not be reached (connection refused)") >= 2
    assert "GROWTH_ZONES_MIRROR" in res.stderr

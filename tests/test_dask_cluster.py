"""A real Dask cluster: `dask scheduler` and two `dask worker` processes on loopback (random free
ports, always torn down), the surface run through `growth-zones surface --dask tcp://127.0.0.1:PORT`,
and the raster compared with the in-process one byte for byte."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cli import app

pytestmark = [pytest.mark.data, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_command() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dask")
    if found is None:
        pytest.skip("the dask command line (distributed) is not installed")
    return [found]


def _wait_for_workers(
    address: str, n: int, procs: list[subprocess.Popen[bytes]], timeout: float = 120.0
) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout
    with Client(address, timeout=timeout) as client:
        while len(client.scheduler_info().get("workers", {})) < n:
            dead = [p.args for p in procs if p.poll() is not None]
            assert not dead, f"a Dask process exited early: {dead}"
            assert time.monotonic() < deadline, f"{n} workers did not join {address} in {timeout:g} s"
            time.sleep(0.2)


@pytest.fixture
def dask_cluster(tmp_path):
    """``dask scheduler`` + two ``dask worker`` processes on 127.0.0.1; yields the address."""
    pytest.importorskip("distributed")
    dask = _dask_command()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str]) -> None:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process below
        procs.append(
            subprocess.Popen(
                [*dask, *args],
                env=env,
                cwd=str(tmp_path),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: torn down whole
            )
        )
        log.close()

    try:
        start(
            "scheduler",
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
                "--no-show",
            ],
        )
        for i in range(2):
            start(
                f"worker{i}",
                [
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--dashboard-address",
                    ":0",
                    "--local-directory",
                    str(tmp_path / f"w{i}"),
                    "--no-nanny",
                ],
            )
        _wait_for_workers(address, 2, procs)
        yield address
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=20)
        assert all(p.poll() is not None for p in procs)


def test_surface_on_a_real_dask_cluster_equals_in_process(mirror_cache, tmp_path, dask_cluster, cli_runner):
    import rasterio

    env = {"GROWTH_ZONES_CACHE": str(mirror_cache.cache_dir), "GROWTH_ZONES_MIRROR": str(mirror_cache.mirror)}
    common = ["surface", "--resolution", "2000", "--tile-size", "64", "--allow-missing"]  # ~20 land tiles
    local = cli_runner.invoke(app, [*common, "--out", str(tmp_path / "local")], env=env)
    assert local.exit_code == 0, local.output
    remote = cli_runner.invoke(
        app, [*common, "--out", str(tmp_path / "dask"), "--dask", dask_cluster], env=env
    )
    assert remote.exit_code == 0, remote.output

    from distributed import Client

    with Client(dask_cluster) as client:  # the tiles really ran on the two worker processes
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        done = client.run(lambda dask_worker: dask_worker.state.executed_count)
        assert all(v > 0 for v in done.values()), done  # both workers computed tiles

    a_path, b_path = tmp_path / "local" / "surface_2000m.tif", tmp_path / "dask" / "surface_2000m.tif"
    with rasterio.open(a_path) as a, rasterio.open(b_path) as b:
        pa, pb = dict(a.profile), dict(b.profile)
        assert repr(pa.pop("nodata")) == repr(pb.pop("nodata"))  # NaN != NaN: compared as text
        assert pa == pb and a.tags() == b.tags()
        arr_a, arr_b = a.read(), b.read()
    assert np.isfinite(arr_a[0]).sum() > 10_000  # GB land at 2 km: a real surface, not an empty one
    assert arr_a.tobytes() == arr_b.tobytes()  # every band, every cell, NaN pattern included
    assert a_path.read_bytes() == b_path.read_bytes()  # the same COG, byte for byte

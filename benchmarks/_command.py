"""Time whole commands as a user runs them: every run is a fresh process of the real console script.

For each run :func:`run_once` records

* the wall time from just before the process is started until it has exited;
* its peak resident memory: ``ru_maxrss`` of that one child from ``os.wait4`` (the largest single
  process, as ``/usr/bin/time -v`` reports it), and, where ``psutil`` is installed, the largest
  sum over the process and its descendants sampled every 50 ms (``peak_tree_rss_mb``: worker
  processes running at the same time add up; pages they share with the parent are counted twice, so
  this figure errs high);
* the command's own step breakdown (``growth_zones.timings``: the process writes it at exit when
  ``GROWTH_ZONES_TIMINGS`` names a file), including the start-up before its first step.

:func:`measure` repeats a run and reports medians (and min/max/all), so a figure is not one lucky or
unlucky run on a shared machine. The checkout's code is run (``PYTHONPATH`` is set to it), through
the ``growth-zones`` console script installed beside the interpreter when there is one.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def command_prefix() -> list[str]:
    """How ``growth-zones`` is started: the console script beside the interpreter (what a user runs),
    else the same entry point through ``python -c``."""
    script = Path(sys.executable).parent / "growth-zones"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from cli import app; sys.argv[0] = 'growth-zones'; app()"]


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.pop("GROWTH_ZONES_TIMINGS", None)
    return env


class _TreeSampler(threading.Thread):
    """Largest RSS sum over a process and its descendants, sampled every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.stop = threading.Event()
        try:
            import psutil

            self.psutil: Any = psutil
        except ImportError:  # pragma: no cover - psutil is optional here
            self.psutil = None

    def run(self) -> None:
        if self.psutil is None:
            return
        try:
            root = self.psutil.Process(self.pid)
        except self.psutil.Error:
            return
        while not self.stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except self.psutil.Error:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except self.psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self.stop.wait(self.interval)


def run_once(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """One whole command in a fresh process: wall seconds, exit code, peak RSS, steps."""
    with tempfile.TemporaryDirectory(prefix="gz-bench-steps-") as tmp:
        steps_file = Path(tmp) / "steps.json"
        full_env = command_env(env)
        full_env["GROWTH_ZONES_TIMINGS"] = str(steps_file)
        t0_wall = time.time()
        full_env["GROWTH_ZONES_TIMINGS_T0"] = repr(t0_wall)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*command_prefix(), *args],
            env=full_env,
            cwd=str(cwd or REPO),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        stderr_chunks: list[bytes] = []
        reader = threading.Thread(
            target=lambda: stderr_chunks.append(proc.stderr.read() if proc.stderr else b""), daemon=True
        )
        reader.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop.set()
        sampler.join()
        reader.join()
        steps: dict[str, float] = {}
        peaks: dict[str, float] = {}
        if steps_file.exists():
            doc = json.loads(steps_file.read_text(encoding="utf-8"))
            steps, peaks = doc.get("steps", {}), doc.get("peak_rss_mb_after", {})
    rss_mb = usage.ru_maxrss / 1024.0  # kilobytes on Linux
    return {
        "wall_s": wall,
        "exit_code": proc.returncode,
        "peak_rss_mb": rss_mb,
        "peak_tree_rss_mb": max(sampler.peak / 2**20, rss_mb) if sampler.psutil else None,
        "steps_s": steps,
        "peak_rss_mb_after_step": peaks,
        "stderr_tail": b"".join(stderr_chunks).decode("utf-8", "replace")[-600:],
    }


def _summary(values: list[float], digits: int = 3) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "all": [round(v, digits) for v in values],
    }


def measure(
    args: Sequence[str],
    *,
    case: str,
    runs: int = 5,
    env: dict[str, str] | None = None,
    before_each: Callable[[], None] | None = None,
    ok_codes: Sequence[int] = (0,),
    warmup: int = 0,
) -> dict[str, Any]:
    """``runs`` fresh processes of ``growth-zones ARGS``; medians of wall time, peak RSS and steps.

    ``before_each`` runs (untimed) before every run: e.g. empty the derived cache for a cold case.
    ``case`` labels what was cold and what warm. ``warmup`` runs first, untimed (e.g. to build the
    derived cache for a warm case).
    """
    for _ in range(warmup):
        if before_each is not None:
            before_each()
        res = run_once(args, env=env)
        if res["exit_code"] not in ok_codes:
            raise RuntimeError(
                f"growth-zones {shlex.join(args)} exited {res['exit_code']}: {res['stderr_tail']}"
            )
    results = []
    for _ in range(runs):
        if before_each is not None:
            before_each()
        res = run_once(args, env=env)
        if res["exit_code"] not in ok_codes:
            raise RuntimeError(
                f"growth-zones {shlex.join(args)} exited {res['exit_code']}: {res['stderr_tail']}"
            )
        results.append(res)
    names: list[str] = []
    for r in results:
        names.extend(n for n in r["steps_s"] if n not in names)
    steps = {n: round(statistics.median([r["steps_s"].get(n, 0.0) for r in results]), 3) for n in names}
    peaks = {
        n: round(statistics.median([r["peak_rss_mb_after_step"].get(n, float("nan")) for r in results]), 1)
        for n in names
        if any(n in r["peak_rss_mb_after_step"] for r in results)
    }
    tree = [r["peak_tree_rss_mb"] for r in results if r["peak_tree_rss_mb"] is not None]
    return {
        "command": "growth-zones " + shlex.join(args),
        "case": case,
        "runs": runs,
        "wall_s": _summary([r["wall_s"] for r in results]),
        "peak_rss_mb": _summary([r["peak_rss_mb"] for r in results], 1),
        "peak_tree_rss_mb": _summary(tree, 1) if tree else None,
        "exit_codes": sorted({r["exit_code"] for r in results}),
        "steps_median_s": steps,
        "peak_rss_mb_after_step_median": peaks,
        "load_avg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def clear(path: Path) -> Callable[[], None]:
    """A ``before_each`` that removes a folder (e.g. the derived cache: the cold case)."""
    return lambda: shutil.rmtree(path, ignore_errors=True)


def clear_except(path: Path, keep: str) -> Callable[[], None]:
    """A ``before_each`` that empties a folder but for one entry (e.g. the derived cache but for
    the layer set-up)."""

    def run() -> None:
        if path.is_dir():
            for p in path.iterdir():
                if p.name == keep:
                    continue
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)

    return run


def goal(value: float, limit: float, unit: str, what: str) -> dict[str, Any]:
    """Whether a measured median meets its goal, and by how much it misses."""
    met = value < limit
    return {
        "goal": f"{what} < {limit:g} {unit}",
        "measured": round(value, 3),
        "met": met,
        "missed_by": None if met else f"{value - limit:.3g} {unit} ({100 * (value / limit - 1):.0f}% over)",
    }

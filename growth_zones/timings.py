"""Wall-clock time of a command's steps, for the benchmarks' breakdown of a whole command.

``with step("load layers"): ...`` records how long the block took. Nothing is written unless the
environment variable ``GROWTH_ZONES_TIMINGS`` names a file: the process then writes the steps there
as JSON when it exits (``benchmarks/_command.py`` sets it for each timed run, so the breakdown comes
from the very process whose whole-command time and peak memory it measured).
``GROWTH_ZONES_TIMINGS_T0`` (a ``time.time()`` taken just before the process was started) adds the
start-up step: interpreter and command-line imports, up to the command's first step.

Steps nest (an inner step's time is also inside its outer step's); a step that runs several times
adds up. With each step the process's peak resident memory so far is kept, so a breakdown shows
which step raised the peak. Standard library only, so importing it costs nothing.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "GROWTH_ZONES_TIMINGS"
ENV_T0 = "GROWTH_ZONES_TIMINGS_T0"

_steps: dict[str, float] = {}
_peak_mb: dict[str, float] = {}
_order: list[str] = []
_depth: list[str] = []
_started: float | None = None
_registered = False


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def _start() -> None:
    """The first step marks the end of start-up (interpreter and imports before the command ran)."""
    global _started, _registered
    if _started is not None:
        return
    _started = time.time()
    t0 = os.environ.get(ENV_T0)
    if t0:
        try:
            _add("start-up (interpreter, imports, option parsing)", max(0.0, _started - float(t0)))
        except ValueError:
            pass
    if not _registered:
        atexit.register(_dump)
        _registered = True


def _add(name: str, seconds: float) -> None:
    if name not in _steps:
        _order.append(name)
        _steps[name] = 0.0
    _steps[name] += seconds


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time the block as step ``name`` (``outer / inner`` when nested); free when not enabled."""
    if not enabled():
        yield
        return
    _start()
    full = " / ".join([*_depth, name])
    _depth.append(name)
    t = time.perf_counter()
    try:
        yield
    finally:
        _depth.pop()
        _add(full, time.perf_counter() - t)
        _peak_mb[full] = _max_rss_mb()


def _max_rss_mb() -> float:
    """This process's peak resident memory so far (MB), where the platform reports it."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return float("nan")
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if os.uname().sysname != "Darwin" else kb / 2**20


def steps() -> dict[str, float]:
    """The steps recorded so far, in the order they first ran (seconds)."""
    return {k: _steps[k] for k in _order}


def _dump() -> None:
    path = os.environ.get(ENV)
    if not path or _started is None:
        return
    doc = {
        "steps": {k: round(v, 4) for k, v in steps().items()},
        "peak_rss_mb_after": {k: round(_peak_mb[k], 1) for k in _order if k in _peak_mb},
        "ended_at": time.time(),
    }
    try:
        from pathlib import Path

        from .data.atomic import write_json

        write_json(Path(path), doc)
    except Exception:  # noqa: BLE001 - a benchmark diagnostic never fails the command it measured
        pass

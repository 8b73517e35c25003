"""Build the national suitability surface: tiles -> tiled GeoTIFF -> Cloud-Optimised GeoTIFF."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.shutil
import rasterio.transform
from rasterio.windows import Window

from ..data.atomic import atomic_path
from .criteria import CriteriaPlan, is_data_dependent, load_plan
from .inputs import prepare_inputs, surface_grid
from .spec import Grid, SurfaceSpec
from .tile import SurfaceInputs, compute_indicators, compute_tile

CRS = "EPSG:27700"


@dataclass
class SurfaceResult:
    """What :func:`build_surface` produced."""

    path: Path
    grid: Grid
    band_names: tuple[str, ...]
    criteria_used: dict[str, float]
    criteria_dropped: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> dict[str, Path]:
        return {"surface": self.path}


def _cog_available() -> bool:
    with rasterio.Env() as env:
        return "COG" in env.drivers()


@cache
def _compression(requested: str) -> str:
    """ZSTD when this GDAL build has it, else DEFLATE."""
    req = requested.upper()
    if req == "ZSTD":
        try:
            with (
                tempfile.TemporaryDirectory() as d,
                rasterio.open(
                    Path(d) / "z.tif",
                    "w",
                    driver="GTiff",
                    width=16,
                    height=16,
                    count=1,
                    dtype="uint8",
                    compress="zstd",
                    crs=CRS,
                    transform=rasterio.transform.from_origin(0, 16, 1, 1),
                ) as ds,
            ):
                ds.write(np.zeros((1, 16, 16), np.uint8))
        except Exception:  # pragma: no cover - depends on the GDAL build
            return "DEFLATE"
    return req


def reference_values(inputs: SurfaceInputs, spec: SurfaceSpec) -> dict[str, np.ndarray]:
    """Indicators on the fixed national reference lattice (``spec.reference_resolution_m`` cells over
    the surface extent, land cells only). Independent of the output resolution's tiling."""
    from dataclasses import replace

    ref_grid = Grid.from_bounds(inputs.grid.bounds, spec.reference_resolution_m)
    plan = inputs.plan
    need = tuple(
        dict.fromkeys(
            c.indicator for c in plan.criteria if is_data_dependent(c.value_function) or c.missing == "median"
        )
    )
    ref_inputs = replace(inputs, needed=need, _cache=inputs._cache)
    out: dict[str, list[np.ndarray]] = {}
    for win in ref_grid.tiles(512):
        res = compute_indicators(ref_inputs, ref_grid, win)
        if res is None:
            continue
        for k, v in res[1].items():
            out.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in out.items()}


def prepare(
    layers: Any,
    spec: SurfaceSpec,
    *,
    discount_areas: gpd.GeoDataFrame | None = None,
    plan: CriteriaPlan | None = None,
) -> tuple[SurfaceInputs, dict[str, str]]:
    """Plan the criteria, gather global inputs and the national reference distribution."""
    plan = plan or load_plan(spec.profile, spec.extra_exclusions)
    inputs, notes = prepare_inputs(
        layers, spec, plan, discount_areas=discount_areas, grid=surface_grid(layers, spec)
    )
    if plan.needs_reference:
        plan.set_reference(reference_values(inputs, spec))
    return inputs, notes


def _tags(spec: SurfaceSpec, inputs: SurfaceInputs, notes: dict[str, str]) -> dict[str, str]:
    tags = {
        "growth_zones_surface": "1",
        "resolution_m": f"{spec.resolution_m:g}",
        "crs": CRS,
        "score_band": "weighted sum of value functions in [0,1]; excluded cells = "
        f"{spec.excluded_value:g}; sea/outside GB = nodata (NaN)",
        "exclusion_state_band": "0 clear, 1 excluded, 2 unknown (some exclusion not checked here)",
        "mask_rule": "rasterio.features.rasterize all_touched=False (cell-centre rule)",
        "distance_method": "exact Euclidean from cell centres (cKDTree candidates + brute force); "
        f"lines densified at <= {spec.resolution_m * spec.line_spacing_fraction:g} m "
        f"(error <= {spec.resolution_m * spec.line_spacing_fraction / 2:g} m)",
        "population_method": "1 km grid convolved with a disc (fftconvolve), sampled at the 1 km cell "
        "containing the cell centre",
        "reference_lattice_m": f"{spec.reference_resolution_m:g}",
        "rtt_model": f"2 x km to nearest London IX x {spec.route_factor:g} / {spec.fibre_km_per_ms:g} km/ms",
        "protected_designations": ",".join(spec.protected_designations),
        "sources": json.dumps(notes, sort_keys=True),
    }
    tags.update(inputs.plan.to_tags())
    tags.update({str(k): str(v) for k, v in spec.meta.items()})
    return tags


def _tiles_with_land(inputs: SurfaceInputs, spec: SurfaceSpec) -> list[Window]:
    """Tiles whose extent meets a land polygon's bounding box (others are sea-only, skipped)."""
    import shapely

    tree = inputs.strtree("land", inputs.land)
    wins = list(inputs.grid.tiles(spec.tile_size))
    boxes = shapely.box(*np.array([inputs.grid.window_bounds(w) for w in wins]).T)
    hit = tree.query(boxes, predicate="intersects")
    keep = np.unique(hit[0]) if hit.size else np.empty(0, dtype=np.int64)
    return [wins[i] for i in keep]


def _run_local(inputs: SurfaceInputs, wins: list[Window]) -> Iterator[tuple[Window, np.ndarray | None]]:
    for w in wins:
        yield compute_tile(inputs, w)


_FORKED: SurfaceInputs | None = None
"""The inputs a forked tile worker inherited from its parent (never pickled)."""


def _forked_tile(win: Window) -> tuple[Window, np.ndarray | None]:
    assert _FORKED is not None
    return compute_tile(_FORKED, win)


def _run_processes(
    inputs: SurfaceInputs, wins: list[Window], workers: int
) -> Iterator[tuple[Window, np.ndarray | None]]:
    """The same per-tile function in ``workers`` forked processes: the prepared inputs (trees,
    masks, lattices) are inherited by fork, not pickled; at most ``2 * workers`` tiles are in flight,
    so the parent holds a bounded number of finished tiles. Falls back to one process where fork is
    not available."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows, macOS spawn
        yield from _run_local(inputs, wins)
        return
    global _FORKED
    _FORKED = inputs
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            todo = list(reversed(wins))
            running: set[Any] = set()
            while todo or running:
                while todo and len(running) < 2 * workers:
                    running.add(pool.submit(_forked_tile, todo.pop()))
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
    finally:
        _FORKED = None


def _run_dask(
    inputs: SurfaceInputs,
    wins: list[Window],
    dask: bool | str | Any,
    max_in_flight: int | None = None,
    timings: dict[str, float] | None = None,
) -> Iterator[tuple[Window, np.ndarray | None]]:
    """Submit the same per-tile function as Dask tasks (inputs scattered once); yield tiles as they
    complete, keeping at most ``max_in_flight`` results outstanding so driver memory stays bounded."""
    from distributed import Client, LocalCluster, as_completed

    own_cluster = None
    t0 = time.perf_counter()
    if dask is True:
        own_cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(own_cluster)
    elif isinstance(dask, str):
        client = Client(dask)
    else:  # an existing distributed.Client
        client = dask
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        max_in_flight = max_in_flight or 4 * n_workers
        fut_inputs = client.scatter(inputs, broadcast=True)
        if timings is not None:
            timings["dask_start_scatter_s"] = time.perf_counter() - t0
        todo = list(wins)
        ac = as_completed()
        for w in todo[:max_in_flight]:
            ac.add(client.submit(compute_tile, fut_inputs, w, pure=False))
        todo = todo[max_in_flight:]
        for fut in ac:
            win, arr = fut.result()
            fut.release()
            if todo:
                ac.add(client.submit(compute_tile, fut_inputs, todo.pop(0), pure=False))
            yield win, arr
    finally:
        if own_cluster is not None:
            client.close()
            own_cluster.close()
        elif isinstance(dask, str):
            client.close()


def write_cog(
    tiles: Iterable[tuple[Window, np.ndarray | None]],
    grid: Grid,
    band_names: tuple[str, ...],
    out_path: Path,
    tags: dict[str, str],
    *,
    compress: str = "ZSTD",
    level: int = 1,
    progress: bool = False,
    n_tiles: int | None = None,
    nodata: float = float("nan"),
) -> dict[str, float]:
    """Write tiles into a sparse tiled GeoTIFF, then copy it to a COG with overviews."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    comp = _compression(compress)
    block = 512 if min(grid.width, grid.height) >= 512 else 256
    # the intermediate file is uncompressed and sparse (sea-only tiles are never written and read
    # back as nodata); compression happens once, multi-threaded, in the COG copy
    # (above ~4 GiB uncompressed, e.g. 10 m national, it is ZSTD level 1 to spare the disk)
    raw_bytes = grid.width * grid.height * len(band_names) * 4
    tmp_comp: dict[str, Any] = {"compress": "NONE"}
    if raw_bytes >= 4 * 2**30:
        tmp_comp = {"compress": comp, ("zstd_level" if comp == "ZSTD" else "zlevel"): 1}
    profile = dict(
        driver="GTiff",
        width=grid.width,
        height=grid.height,
        count=len(band_names),
        dtype="float32",
        crs=CRS,
        transform=grid.transform,
        nodata=nodata,
        tiled=True,
        blockxsize=block,
        blockysize=block,
        sparse_ok=True,
        bigtiff="IF_SAFER",
        interleave="band",
        **tmp_comp,
    )
    t0 = time.perf_counter()
    tmp = out_path.with_name(out_path.name + ".tmp.tif")
    n_done = 0
    timings: dict[str, float] = {}
    try:
        with rasterio.Env(GDAL_CACHEMAX=256), rasterio.open(tmp, "w", **profile) as dst:
            for i, name in enumerate(band_names, start=1):
                dst.set_band_description(i, name)
            dst.update_tags(**tags)
            for win, arr in tiles:
                n_done += 1
                if arr is not None:
                    if not np.isnan(nodata):
                        arr = np.where(np.isnan(arr), np.float32(nodata), arr)
                    dst.write(arr, window=win)
                if progress:
                    print(f"\rsurface: tile {n_done}/{n_tiles or '?'}", end="", flush=True, file=sys.stderr)
        if progress:
            print(file=sys.stderr)
        timings["tiles_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS", GDAL_CACHEMAX=256), atomic_path(out_path) as cog:
            if _cog_available():
                rasterio.shutil.copy(
                    tmp,
                    cog,
                    driver="COG",
                    compress=comp,
                    level=level,
                    blocksize=512,
                    overview_resampling="NEAREST",
                    num_threads="ALL_CPUS",
                    bigtiff="IF_SAFER",
                )
            else:  # pragma: no cover - every rasterio wheel since GDAL 3.1 has COG
                from rasterio.enums import Resampling

                with rasterio.open(tmp, "r+") as ds:
                    factors = [f for f in (2, 4, 8, 16, 32, 64) if min(grid.width, grid.height) // f >= 256]
                    ds.build_overviews(factors or [2], Resampling.nearest)
                rasterio.shutil.copy(
                    tmp,
                    cog,
                    driver="GTiff",
                    copy_src_overviews=True,
                    tiled=True,
                    blockxsize=512,
                    blockysize=512,
                    compress=comp,
                    num_threads="ALL_CPUS",
                )
        # band descriptions and dataset tags are carried over by CreateCopy (checked in the tests)
    finally:
        if tmp.exists():
            os.remove(tmp)
    timings["cog_s"] = time.perf_counter() - t1
    return timings


def build_surface(
    layers: Any,
    spec: SurfaceSpec | None = None,
    out_path: str | os.PathLike[str] = "surface.tif",
    *,
    dask: bool | str | Any = False,
    progress: bool = False,
    discount_areas: gpd.GeoDataFrame | None = None,
    plan: CriteriaPlan | None = None,
    workers: int = 1,
) -> SurfaceResult:
    """Compute the suitability surface tile by tile and write it as a COG at ``out_path``.

    ``layers``: a ``LayerSet`` (or mapping) with countries, substations, internet_exchanges,
    landing_points, protected_areas, designation_coverage, population_grid, regions (circuits if a
    criterion needs them). ``discount_areas``: polygons of the electricity discount area; default
    Scotland + Cumbria + North East LADs from ``layers.regions``. ``dask``: False (in process),
    True (a 2-worker LocalCluster), a scheduler address, or a ``distributed.Client``.
    ``plan``: override the profile-derived criteria plan (tests). ``workers``: without ``dask``, the
    number of processes computing tiles (1: one after another in this process; 0: one per core);
    every path computes each tile with the same function, so the raster is the same byte for byte.

    The in-process path runs tiles one after another (cKDTree queries use ``spec.kd_workers``
    threads). Tiles are not run on Python threads: ``rasterio.features.rasterize`` silences a
    warning with ``warnings.catch_warnings``, which is not thread-safe, and measured no faster here.
    Parallel tiles run in forked processes (``workers``) or on Dask (``dask``).
    """
    spec = spec or SurfaceSpec()
    t0 = time.perf_counter()
    if workers == 0:
        workers = os.cpu_count() or 1
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (got {workers})")
    if (dask is not False or workers > 1) and spec.kd_workers != 1:
        from dataclasses import replace

        spec = replace(spec, kd_workers=1)
    inputs, notes = prepare(layers, spec, discount_areas=discount_areas, plan=plan)
    t_prep = time.perf_counter() - t0
    wins = _tiles_with_land(inputs, spec)
    n_all = sum(1 for _ in inputs.grid.tiles(spec.tile_size))
    tags = _tags(spec, inputs, notes)
    extra: dict[str, float] = {}
    if dask is not False:
        tiles = _run_dask(inputs, wins, dask, timings=extra)
    elif workers > 1 and len(wins) > 1:
        tiles = _run_processes(inputs, wins, min(workers, len(wins)))
    else:
        tiles = _run_local(inputs, wins)
    timings = write_cog(
        tiles,
        inputs.grid,
        inputs.band_names,
        Path(out_path),
        tags,
        compress=spec.compress,
        level=spec.compress_level,
        progress=progress,
        n_tiles=len(wins),
        nodata=spec.nodata,
    )
    timings["prepare_s"] = t_prep
    timings.update(extra)
    timings["total_s"] = time.perf_counter() - t0
    plan_ = inputs.plan
    return SurfaceResult(
        path=Path(out_path),
        grid=inputs.grid,
        band_names=inputs.band_names,
        criteria_used={c.name: c.weight for c in plan_.criteria},
        criteria_dropped=plan_.dropped,
        timings=timings,
        stats={
            "tiles_total": n_all,
            "tiles_computed": len(wins),
            "tiles_skipped_sea": n_all - len(wins),
            "width": inputs.grid.width,
            "height": inputs.grid.height,
        },
        tags=tags,
    )


def compute_array(inputs: SurfaceInputs, tile_size: int) -> np.ndarray:
    """The whole grid in memory (small grids / tests): tiles mosaicked into one array."""
    g = inputs.grid
    out = np.full((len(inputs.band_names), g.height, g.width), np.nan, dtype=np.float32)
    for win in g.tiles(tile_size):
        _, arr = compute_tile(inputs, win)
        if arr is not None:
            r, c = int(win.row_off), int(win.col_off)
            out[:, r : r + int(win.height), c : c + int(win.width)] = arr
    return out

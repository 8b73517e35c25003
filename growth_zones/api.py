"""The public API of growth-zones: five use cases for the CLI, notebooks and scripts.

>>> from growth_zones import api
>>> report = api.pull()                                       # fetch + normalise the public datasets
>>> ranking = api.rank(sensitivity=1000)                      # every GB local authority, explained
>>> ranking.write("out", formats=("csv", "gpkg", "html"))
>>> result = api.assess("data/examples/applications.geojson")  # a file of applications
>>> result.write("out", formats=("csv", "gpkg", "html"), overwrite=True)
>>> api.surface(resolution=250).write("out")                   # the national suitability raster
>>> api.render("out", overwrite=True)                          # re-draw the HTML from the tables

Every function validates what the caller typed (profile, options, input file) before it touches
any data, gets its layers through one loader (:meth:`growth_zones.data.layers.LayerSet.load`,
pulling on first use), and returns a result object whose ``write`` knows the files it produces.
Errors the caller can fix are :class:`growth_zones.errors.GrowthZonesError` (or
:class:`scoring.ScoringConfigError` for a profile), each with a message that says what to do.

All geometry is in EPSG:27700 (British National Grid, metres).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .data.pull import PullOutcome, PullReport
    from .workflows.assessment import AssessmentResult
    from .workflows.ranking import RankingResult
    from .workflows.surface import SurfaceRun

__all__ = [
    "Settings",
    "assess",
    "check_out",
    "dataset_info",
    "datasets",
    "layers",
    "layers_for",
    "pull",
    "rank",
    "render",
    "surface",
]


def pull(
    keys: Iterable[str] | None = None,
    *,
    layers: Iterable[str] | None = None,
    settings: Settings | None = None,
    force: bool = False,
    on_progress: Callable[[PullOutcome], None] | None = None,
) -> PullReport:
    """Fetch and normalise public datasets into the cache.

    Parameters
    ----------
    keys
        Catalogue keys (``growth-zones data list``); default every default dataset. Datasets a key
        requires are pulled first. A key named here is attempted even if it is optional.
    layers
        Instead of ``keys``: the default datasets feeding these canonical layers (optional ones
        only when a mirror or the cache holds them).
    settings
        Cache folder, mirror, offline mode, timeouts (default: from the environment).
    force
        Download and normalise again even when cached.
    on_progress
        Called with each dataset's outcome as it finishes.

    Returns
    -------
    PullReport
        One outcome per dataset (``ok``, ``skipped``, ``message``, ``rows``, ``via``); ``report.ok``
        is true when no dataset failed. Optional datasets nobody named and datasets a mirror holds
        no copy of are *skipped* (listed in ``report.skipped`` with the reason), not failed. One
        dataset failing never stops the others. Every host is probed once before any download;
        ``report.unreachable`` names those that did not answer.
    """
    from .data.pull import pull as _pull

    return _pull(keys, layers=layers, settings=settings, force=force, on_progress=on_progress)


def layers_for(use: str) -> tuple[str, ...]:
    """The canonical layers a use case reads: ``"rank"`` and ``"assess"`` (the assessment ranks the
    regions too), or ``"surface"``. Give them to :func:`pull` (``layers=``) to fetch only what that
    use case needs, or to :func:`layers`.

    Returns
    -------
    tuple of str
        Layer names (``growth_zones.data.schemas.LAYERS`` describes each).
    """
    from .errors import InvalidInputError

    if use in ("rank", "assess"):
        from .workflows.ranking import REGION_LAYERS

        return tuple(REGION_LAYERS)
    if use == "surface":
        from .workflows.surface import SURFACE_LAYERS

        return tuple(SURFACE_LAYERS)
    raise InvalidInputError(f"unknown use {use!r}: choose rank, assess or surface")


def layers(names: Iterable[str] | None = None, *, settings: Settings | None = None) -> Any:
    """The canonical layers in the cache, through the one layer loader
    (:meth:`growth_zones.data.layers.LayerSet.load`), in EPSG:27700.

    Parameters
    ----------
    names
        Layers to read (default: all); e.g. ``layers_for("rank")``.
    settings
        Cache folder and mirror (default: from the environment). Nothing is fetched: run
        :func:`pull` first.

    Returns
    -------
    LayerSet
        One attribute per layer (``None`` where the cache cannot provide it; ``unavailable`` says
        why).
    """
    from .data.layers import LayerSet
    from .data.store import Store

    return LayerSet.load(Store(settings or Settings()), names=names)


def datasets(*, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every catalogue dataset with what the cache holds of it (``growth-zones data list``).

    Returns one record per dataset, in catalogue order: ``key``, ``layer``, ``title``,
    ``publisher``, ``nations``, ``licence``, ``vintage`` and ``released`` (the stored copy's, else
    the release the catalogue pins), ``age_days`` and ``age`` ("1.2y", "live", "?"), ``stale``
    (older than the publisher's release cadence), ``copy`` (official release, mirror release or
    sample), ``default``, ``optional`` (no machine-readable endpoint; ``manual`` says why),
    ``cached``, ``api``, ``url`` and ``mirror_path``.
    """
    from .data.inventory import dataset_rows

    return dataset_rows(settings)


def dataset_info(key: str, *, settings: Settings | None = None, latest: bool = False) -> dict[str, Any]:
    """One dataset's provenance record when it is stored (source URL used, sha256, licence, CRS
    transform, age), else its catalogue facts; ``latest`` asks the publisher for its newest release."""
    from .data.inventory import dataset_record

    return dataset_record(key, settings, latest=latest)


def check_out(
    command: str, out: str | Path, *, overwrite: bool = False, resolution: float | None = None
) -> None:
    """Check, before any work, that ``command`` (``"rank"``, ``"assess"`` or ``"surface"`` with its
    ``resolution``) can write its outputs into ``out``: raises
    :class:`~growth_zones.errors.InvalidInputError` naming the problem (a file where a folder is
    needed, or earlier outputs and no ``overwrite``)."""
    from .errors import InvalidInputError

    if command == "rank":
        from .workflows.ranking import RankingResult

        RankingResult.check_out(out, overwrite=overwrite)
    elif command == "assess":
        from .workflows.assessment import AssessmentResult

        AssessmentResult.check_out(out, overwrite=overwrite)
    elif command == "surface":
        from .workflows.surface import SurfaceRun

        SurfaceRun.check_out(out, resolution=250.0 if resolution is None else resolution, overwrite=overwrite)
    else:
        raise InvalidInputError(f"unknown command {command!r}: choose rank, assess or surface")


def rank(
    profile: str | Any = "aigz",
    *,
    settings: Settings | None = None,
    sensitivity: int = 0,
    seed: int = 0,
    layers: Any = None,
) -> RankingResult:
    """Rank every local authority in England, Scotland and Wales and explain each score.

    Parameters
    ----------
    profile
        A bundled profile name (``aigz``, ``power_first``), a path to a TOML profile, or a
        ``scoring.Profile``. Validated before any data is read.
    settings
        Where data comes from and is cached.
    sensitivity
        Number of Dirichlet weight draws for rank intervals (``rank_p05``/``rank_p95``,
        ``p_top10``); 0 = off.
    seed
        Seed of the weight draws.
    layers
        A ready :class:`~growth_zones.data.layers.LayerSet` (skips loading; notebooks).

    Returns
    -------
    RankingResult
        ``table`` (one row per local authority, EPSG:27700, sorted by rank), ``scores`` (with
        ``explain(code)``), ``indicators``, ``sensitivity``, ``provenance``; ``write(out, ...)``.
    """
    from .workflows.ranking import rank_regions

    if sensitivity < 0:
        from .errors import InvalidInputError

        raise InvalidInputError(f"sensitivity must be >= 0 draws (got {sensitivity})")
    return rank_regions(
        settings=settings, profile=profile, sensitivity_draws=sensitivity, seed=seed, layers=layers
    )


def assess(
    applications: str | Path,
    *,
    profile: str | Any = "aigz_sites",
    region_profile: str | Any = "aigz",
    settings: Settings | None = None,
    input_crs: str | None = None,
    layer: str | None = None,
    layers: Any = None,
    rules: Any = None,
) -> AssessmentResult:
    """Check, score and rank every application in a file; keep each rejected row with its reason.

    Parameters
    ----------
    applications
        GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped) or CSV (WKT, lat/lon or
        easting/northing); the schema is in ``data/examples/README.md``.
    profile
        Site-level profile (bundled ``aigz_sites`` or a TOML path), validated first.
    region_profile
        Profile of the national ranking that gives each site its local authority's percentile.
    settings
        Where data comes from and is cached.
    input_crs
        CRS of a file that states none (e.g. ``EPSG:27700`` for CSV WKT in metres).
    layer
        GeoPackage layer to read.
    layers
        A ready ``LayerSet`` (skips loading).
    rules
        Limits of the row checks, a
        :class:`~growth_zones.workflows.applications.ApplicationRules` (largest gap between the
        parts of one site, default 5 km; smallest share on GB land, default 90%; longest text
        field, default 10,000 characters; ...).

    Returns
    -------
    AssessmentResult
        ``table`` (assessed sites, index ``id``), ``checks``, ``rejected``, ``warnings``,
        ``input_count``, ``missing_checks`` (checks that could not run because their data could not
        be had); ``len(table) + len(rejected) == input_count`` always. ``write(out, ...)``.
    """
    from .workflows.assessment import assess as _assess

    return _assess(
        applications,
        settings=settings,
        profile=profile,
        region_profile=region_profile,
        input_crs=input_crs,
        layer=layer,
        layers=layers,
        rules=rules,
    )


def surface(
    *,
    resolution: float = 250.0,
    profile: str | Any = "aigz_sites",
    settings: Settings | None = None,
    dask: bool | str = False,
    tile_size: int = 1024,
    threshold: float = 0.6,
    min_area_ha: float | None = None,
    max_area_km2: float | None = None,
    progress: bool = False,
    layers: Any = None,
    workers: int = 1,
) -> SurfaceRun:
    """Prepare the national suitability surface: every land cell of GB scored with a site profile.

    Parameters
    ----------
    resolution
        Cell size in metres (EPSG:27700).
    profile
        Site-level profile whose value functions and weights score each cell; criteria with no
        cell equivalent are dropped and their weight stays in their section; a section with no cell
        criterion drops out, the others keep their ratios (recorded in the output's tags and run
        record: ``sections_used``, ``sections_dropped``, ``weighting``).
    settings
        Where data comes from and is cached.
    dask
        ``False`` in process; ``"local"``/``True`` a local cluster; ``"tcp://host:8786"`` a cluster.
    tile_size
        Tile edge in cells (bounds peak memory).
    threshold
        Score at or above which a cell counts as suitable (zonal statistics, candidate zones).
    min_area_ha
        Smallest candidate zone kept (default: the profile's ``[zones] min_area_ha``, 50 ha in
        ``aigz_sites``: the land a 500 MW campus needs at 10 ha per 100 MW).
    max_area_km2
        Largest candidate zone: bigger contiguous areas are split into connected pieces (default:
        the profile's ``[zones] max_area_km2``, 25 km2 in ``aigz_sites``).
    progress
        Print tile progress on stderr.
    layers
        A ready ``LayerSet`` (skips loading).
    workers
        Without ``dask``: processes computing tiles (1 in this process, 0 one per core); the raster
        is the same byte for byte whichever path computes it.

    Returns
    -------
    SurfaceRun
        Validated and ready; ``write(out, overwrite=...)`` computes the raster tile by tile straight
        to disk and writes ``surface_<res>m.tif`` (COG), ``_zonal.csv``, ``_zones.gpkg`` and ``.json``.
    """
    from .workflows.surface import plan_surface

    return plan_surface(
        settings=settings,
        resolution=resolution,
        profile=profile,
        dask=True if dask == "local" else dask,
        workers=workers,
        tile_size=tile_size,
        threshold=threshold,
        min_area_ha=min_area_ha,
        max_area_km2=max_area_km2,
        progress=progress,
        layers=layers,
    )


def render(
    folder: str | Path,
    *,
    overwrite: bool = False,
    cdn: bool = False,
    settings: Settings | None = None,
) -> list[Path]:
    """Re-render the HTML reports (``ranking.html``, ``report/``) from the tables in ``folder``.

    Reads only the outputs and the cache; the only download is the map libraries on first use
    (catalogue assets: npm tarballs through the mirror or the registry), unless ``cdn``, which
    links them from their CDN instead (the pages then need the network). A surface picture in
    ``folder`` becomes a layer of the national map. Refuses to replace existing pages unless
    ``overwrite``. Returns the pages written.
    """
    from .workflows.render import render_outputs

    return render_outputs(folder, overwrite=overwrite, cdn=cdn, settings=settings)

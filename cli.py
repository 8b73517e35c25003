"""The ``growth-zones`` command: a thin typer layer over the library.

Each command parses its options, calls the public API and prints. Errors the library raises on
purpose (``GrowthZonesError``) become one line on stderr and exit code 1; bad options exit 2.

Exit codes: 0 success; 1 failure (data could not be prepared, bad profile, unusable input file);
2 bad command-line usage; 3 (``assess`` only) the assessment ran but some applications were
rejected (see ``rejected.csv``).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Optional

import typer

app = typer.Typer(
    name="growth-zones",
    help="Assess and rank UK AI Growth Zone bids against power, land and connectivity evidence.\n\n"
    "Data comes from the official publishers on first use (or from --mirror), is cached, and every "
    "output records the provenance (source, licence, vintage, hash) of what went in.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
    add_completion=False,
)
data_app = typer.Typer(help="List, pull and inspect the public datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

EXIT_REJECTED = 3


class _State:
    mirror: Optional[str] = None
    offline: bool = False
    cache_dir: Optional[Path] = None


state = _State()


def _settings(progress: bool = True) -> Any:
    from growth_zones.settings import Settings

    s = Settings()
    return s.with_(mirror=state.mirror, cache_dir=state.cache_dir, progress=progress and sys.stderr.isatty(),
                   offline=True if state.offline else None)


def _mirror_option() -> Any:
    return typer.Option(None, "--mirror", help="Directory or http(s) base URL of a dataset mirror (overrides the global option).")


def _offline_option() -> Any:
    return typer.Option(False, "--offline", help="Use the cache only; name every missing dataset.")


def _override(mirror: Optional[str], offline: bool) -> None:
    """Per-command --mirror/--offline, so both `growth-zones --mirror D data pull` and
    `growth-zones data pull --mirror D` work."""
    if mirror:
        state.mirror = mirror
    if offline:
        state.offline = True


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.callback()
def main(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More logging (-v info, -vv debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors."),
    mirror: Optional[str] = typer.Option(
        None, "--mirror", envvar="GROWTH_ZONES_MIRROR",
        help="Directory or http(s) base URL holding every dataset under its catalogue mirror path; "
        "official endpoints are then never contacted.",
    ),
    offline: bool = typer.Option(False, "--offline", help="Use the cache only; name every missing dataset."),
    cache_dir: Optional[Path] = typer.Option(
        None, "--cache-dir", envvar="GROWTH_ZONES_CACHE", help="Cache directory (default: the user cache dir)."
    ),
) -> None:
    """Global options apply to every command."""
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    state.mirror, state.offline, state.cache_dir = mirror, offline, cache_dir


# ---------------------------------------------------------------------------------------- data


@data_app.command("list")
def data_list(as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table.")) -> None:
    """One row per catalogue dataset: key, layer, licence, vintage and whether it is cached."""
    from growth_zones.catalogue import load_catalogue
    from growth_zones.errors import GrowthZonesError
    from growth_zones.store import Store

    try:
        store = Store(_settings())
        rows = [
            {"key": d.key, "layer": d.layer, "title": d.title, "publisher": d.publisher, "licence": d.licence,
             "vintage": d.vintage, "non_commercial": d.non_commercial, "default": d.default,
             "cached": store.has(d.key), "url": d.url}
            for d in load_catalogue().values()
        ]
    except GrowthZonesError as err:
        raise _fail(str(err)) from err
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        mark = "cached" if r["cached"] else "-"
        nc = " [non-commercial]" if r["non_commercial"] else ""
        typer.echo(f"{r['key']:<{width}}  {r['layer']:<20} {mark:<7} {r['vintage']:<28} {r['licence']}{nc}")


@data_app.command("pull")
def data_pull(
    keys: Optional[list[str]] = typer.Argument(None, help="Dataset keys (default: every default dataset)."),
    force: bool = typer.Option(False, "--force", help="Download and normalise again even if stored."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome of each dataset as JSON."),
    mirror: Optional[str] = _mirror_option(),
    offline: bool = _offline_option(),
) -> None:
    """Fetch and normalise datasets into the cache. Exit 0 only when every requested dataset is stored."""
    _override(mirror, offline)
    from growth_zones.errors import GrowthZonesError
    from growth_zones.pull import pull

    settings = _settings()
    bar = None
    if settings.progress and not as_json:
        from tqdm import tqdm

        from growth_zones.catalogue import load_catalogue

        total = len(keys) if keys else sum(d.default for d in load_catalogue().values())
        bar = tqdm(total=total, desc="datasets", unit="ds", file=sys.stderr)

    def progress(outcome: Any) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(outcome.key)
        elif not as_json:
            mark = "ok  " if outcome.ok else "FAIL"
            rows = f"{outcome.rows} rows" if outcome.rows is not None else ""
            typer.echo(f"{mark} {outcome.key:<40} {rows:<14} {outcome.message if not outcome.ok else ''}", err=True)

    try:
        report = pull(keys or None, settings=settings, force=force, on_progress=progress)
    except GrowthZonesError as err:
        raise _fail(str(err)) from err
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        typer.echo(json.dumps([o.__dict__ for o in report.outcomes], indent=2))
    stored = sum(o.ok for o in report.outcomes)
    typer.echo(f"{stored} of {len(report.outcomes)} datasets stored in {settings.layers_dir}", err=True)
    for o in report.failed:
        typer.echo(f"error: {o.key}: {o.message}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("info")
def data_info(
    key: str = typer.Argument(..., help="Dataset key (see `growth-zones data list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the provenance record as JSON."),
) -> None:
    """Show a dataset's catalogue entry and, when stored, its provenance record."""
    from growth_zones.catalogue import get_dataset
    from growth_zones.errors import GrowthZonesError
    from growth_zones.store import Store

    try:
        ds = get_dataset(key)
        store = Store(_settings())
        record: dict[str, Any] = store.provenance(key) if store.has(key) else {**ds.provenance_fields(), "cached": False}
    except GrowthZonesError as err:
        raise _fail(str(err)) from err
    if as_json:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    for k, v in record.items():
        typer.echo(f"{k:>20}: {v}")


# ---------------------------------------------------------------------------------------- helpers


def _assets_option() -> Any:
    return typer.Option(
        None, "--assets",
        help="Folder with a local copy of the map libraries to inline (offline HTML); default: "
        "$GROWTH_ZONES_MAP_ASSETS, else load them from their CDN.",
    )


def _assets(value: Optional[Path]) -> Any:
    from growth_zones.report import local_assets_dir

    if value is not None:
        return value
    return local_assets_dir() or "cdn"


def _print_table(frame: Any, columns: list[str], limit: int) -> None:
    shown = frame[columns].head(limit)
    typer.echo(shown.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))


# ---------------------------------------------------------------------------------------- rank


@app.command("rank")
def rank(
    profile: str = typer.Option("aigz", "--profile", "-p", help="Bundled profile name (aigz, power_first) or a TOML path."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder."),
    sensitivity: int = typer.Option(0, "--sensitivity", help="Monte Carlo weight draws for rank intervals (0 = off)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the sensitivity draws."),
    top: int = typer.Option(15, "--top", help="How many rows to print."),
    html: bool = typer.Option(False, "--html", help="Also write the interactive national map (ranking.html)."),
    geoparquet: bool = typer.Option(False, "--geoparquet", help="Also write ranking.parquet (GeoParquet)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full ranking as JSON on stdout."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace earlier outputs in --out."),
    assets: Optional[Path] = _assets_option(),
    mirror: Optional[str] = _mirror_option(),
    offline: bool = _offline_option(),
) -> None:
    """Rank every local authority in England, Scotland and Wales and explain each score.

    Writes OUT/ranking.csv, OUT/ranking.gpkg and OUT/ranking.provenance.json (datasets, vintages,
    licences, profile); with --html also OUT/ranking.html.
    """
    _override(mirror, offline)
    from growth_zones.errors import GrowthZonesError
    from growth_zones.outputs import prepare_out_dir
    from growth_zones.ranking import rank_regions
    from growth_zones.workflows import write_ranking_outputs
    from scoring import ScoringConfigError

    if sensitivity < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--sensitivity")
    names = ["ranking.csv", "ranking.gpkg", "ranking.provenance.json"] + (["ranking.html"] if html else [])
    try:
        prepare_out_dir(out, names, overwrite=overwrite)
        result = rank_regions(settings=_settings(), profile=profile, sensitivity_draws=sensitivity, seed=seed)
        paths = write_ranking_outputs(result, out, html=html, geoparquet=geoparquet, assets=_assets(assets))
    except (GrowthZonesError, ScoringConfigError) as err:
        raise _fail(str(err)) from err
    table = result.table
    if as_json:
        typer.echo(table.drop(columns="geometry").to_json(orient="records", force_ascii=False))
    else:
        cols = ["rank", "code", "name", "nation", "score"] + [c for c in ("rank_p05", "rank_p95", "p_top10") if c in table]
        _print_table(table, cols, top)
    n_ex = int((~table["eligible"].astype(bool)).sum())
    typer.echo(f"ranked {len(table)} local authorities ({n_ex} excluded) with profile {result.profile.name}; "
               f"wrote {', '.join(str(p) for p in paths.values())}", err=True)


# ---------------------------------------------------------------------------------------- assess


@app.command("assess")
def assess_cmd(
    applications: Path = typer.Argument(..., exists=False, help="Applications file: GeoJSON, GeoPackage, Shapefile or CSV."),
    profile: str = typer.Option("aigz_sites", "--profile", "-p", help="Site-level profile name or TOML path."),
    region_profile: str = typer.Option("aigz", "--region-profile", help="Profile for the national percentile of each site's LA."),
    crs: Optional[str] = typer.Option(None, "--crs", help="CRS of a file that states none (e.g. EPSG:27700 for CSV WKT in metres)."),
    layer: Optional[str] = typer.Option(None, "--layer", help="GeoPackage layer to read."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder."),
    html: bool = typer.Option(False, "--html", help="Also write the HTML report (OUT/report/index.html)."),
    geoparquet: bool = typer.Option(False, "--geoparquet", help="Also write assessment.parquet (GeoParquet)."),
    as_json: bool = typer.Option(False, "--json", help="Print the assessment and rejections as JSON on stdout."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace earlier outputs in --out."),
    assets: Optional[Path] = _assets_option(),
    mirror: Optional[str] = _mirror_option(),
    offline: bool = _offline_option(),
) -> None:
    """Check, score and rank every application; list rejected rows with their reasons.

    Writes OUT/assessment.csv, OUT/assessment.gpkg, OUT/checks.csv, OUT/rejected.csv and
    OUT/assessment.provenance.json. Exit code 0: every row assessed; 3: some rows were rejected
    (see rejected.csv; the others were still assessed); 1: nothing could be assessed.
    """
    _override(mirror, offline)
    from growth_zones.assessment import assess
    from growth_zones.errors import GrowthZonesError
    from growth_zones.outputs import prepare_out_dir
    from growth_zones.workflows import write_assessment_outputs
    from scoring import ScoringConfigError

    if not applications.exists():
        raise typer.BadParameter(f"file not found: {applications}", param_hint="APPLICATIONS")
    names = ["assessment.csv", "assessment.gpkg", "checks.csv", "rejected.csv", "assessment.provenance.json"]
    try:
        prepare_out_dir(out, names, overwrite=overwrite)
        result = assess(applications, settings=_settings(), profile=profile, region_profile=region_profile,
                        input_crs=crs, layer=layer)
        paths = write_assessment_outputs(result, out, html=html, geoparquet=geoparquet, assets=_assets(assets))
    except (GrowthZonesError, ScoringConfigError) as err:
        raise _fail(str(err)) from err
    table = result.table
    if as_json:
        doc = {
            "input_count": result.input_count,
            "assessed": json.loads(table.drop(columns="geometry").reset_index().to_json(orient="records", force_ascii=False)),
            "rejected": json.loads(result.rejected.to_json(orient="records", force_ascii=False)),
        }
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    elif len(table):
        t = table.reset_index()
        cols = [c for c in ("rank", "id", "name", "la_name", "mw", "score", "eligible", "excluded_by") if c in t]
        _print_table(t, cols, 50)
    typer.echo(f"{len(table)} assessed, {len(result.rejected)} rejected of {result.input_count} rows; "
               f"wrote {', '.join(str(p) for p in paths.values())}", err=True)
    for _, r in result.rejected.iterrows():
        typer.echo(f"rejected row {r['row']} (id {r['id']!s}): {r['reason']}", err=True)
    if len(table) == 0:
        raise typer.Exit(1)
    if len(result.rejected):
        raise typer.Exit(EXIT_REJECTED)


# ---------------------------------------------------------------------------------------- map


@app.command("map")
def map_cmd(
    folder: Path = typer.Argument(Path("out"), help="Folder holding ranking.* and/or assessment.* outputs."),
    assets: Optional[Path] = _assets_option(),
) -> None:
    """Render the HTML reports again from existing outputs (no data access needed)."""
    from growth_zones.errors import GrowthZonesError
    from growth_zones.workflows import render_from_outputs

    try:
        written = render_from_outputs(folder, assets=_assets(assets), settings=_settings())
    except GrowthZonesError as err:
        raise _fail(str(err)) from err
    if not written:
        raise _fail(f"no ranking.gpkg or assessment.gpkg in {folder}: run `growth-zones rank` or `assess` first")
    for p in written:
        typer.echo(str(p))


# ---------------------------------------------------------------------------------------- surface


@app.command("surface")
def surface_cmd(
    resolution: float = typer.Option(250.0, "--resolution", "-r", min=10.0, help="Cell size in metres (EPSG:27700)."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder."),
    profile: str = typer.Option("aigz_sites", "--profile", "-p", help="Profile whose value functions and weights score each cell."),
    dask: Optional[str] = typer.Option(
        None, "--dask", help="Run tile by tile on Dask: 'local' starts a local cluster; or a scheduler address "
        "such as tcp://host:8786 for a multi-machine cluster."),
    tile_size: int = typer.Option(1024, "--tile-size", min=16, help="Tile edge in cells (bounds peak memory)."),
    threshold: float = typer.Option(0.6, "--threshold", min=0.0, max=1.0, help="Score at or above which a cell counts as suitable."),
    min_area_ha: float = typer.Option(25.0, "--min-area-ha", min=0.0, help="Smallest candidate zone kept (hectares)."),
    mirror: Optional[str] = _mirror_option(),
    offline: bool = _offline_option(),
) -> None:
    """Build the GB suitability raster (Cloud-Optimised GeoTIFF, EPSG:27700), per-local-authority
    zonal statistics (joinable to ranking.csv on `code`) and candidate zones (GeoPackage).

    Cells outside a designation layer's coverage are 'unknown' (band 2 = 2), never excluded or clear.
    """
    from growth_zones.errors import GrowthZonesError
    from growth_zones.ranking import load_layers
    from growth_zones.surface.workflow import run_surface
    from scoring import ScoringConfigError

    _override(mirror, offline)
    settings = _settings()
    try:
        layers, _store = load_layers(settings)
        paths = run_surface(settings, resolution=resolution, out=out, profile=profile,
                            dask=True if dask == "local" else (dask or False), tile_size=tile_size,
                            threshold=threshold, min_area_ha=min_area_ha, progress=settings.progress, layers=layers)
    except (GrowthZonesError, ScoringConfigError) as err:
        raise _fail(str(err)) from err
    typer.echo("wrote " + ", ".join(str(p) for p in paths.values()), err=True)

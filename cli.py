"""The ``growth-zones`` command: a thin typer layer over :mod:`growth_zones.api`.

Each command parses its options, calls the API and prints; nothing else lives here. Settings
travel in typer's context (``ctx.obj``), not in a module global. Shared options come from one
registry (:class:`Opt`) so each flag means the same on every command.

Exit codes: 0 success; 1 failure (data could not be prepared, bad profile, unusable input file or
output folder: one line on stderr says why; ``-vv`` adds the traceback); 2 bad command-line usage;
3 (``assess`` only) the assessment ran but some applications were rejected (see ``rejected.csv``);
4 (``rank``, ``assess``, ``surface``) the run finished and wrote its outputs, but some checks could not run
because a default dataset feeding them could not be had in this run (download failed, the mirror holds
no copy, not in the cache under ``--offline``, or only a sample stored and the row outside it); each is
named on stderr, in ``checks.csv``, the report banner and the sidecar; ``--allow-missing`` accepts that
and exits 0 (or 3). Documented coverage gaps (no machine-readable national dataset) and checks the
published data cannot decide are listed the same way but do not by themselves give 4.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import typer
from typer.core import TyperCommand

EXIT_FAILURE = 1
EXIT_REJECTED = 3
EXIT_MISSING_CHECKS = 4
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: the reader of stdout closed it early (``| head``); nothing is printed."""

app = typer.Typer(
    name="growth-zones",
    help="Assess and rank UK AI Growth Zone bids against power, land and connectivity evidence.\n\n"
    "Data comes from the official publishers on first use (or from --mirror / GROWTH_ZONES_MIRROR), "
    "is cached, and every output records the provenance (source, licence, vintage, hash) of what "
    "went in.\n\n"
    "Exit codes: 0 success; 1 failure (one line on stderr says why; -vv adds the traceback); "
    "2 bad usage; 3 (assess) some rows were rejected; 4 (rank, assess, surface) outputs written, but some "
    "checks could not run because a default dataset feeding them could not be had in this run (download "
    "failed, the mirror holds no copy, not in the cache under --offline, or only a sample stored and the row "
    "outside it); each is named on stderr, in checks.csv, the report banner and the provenance; "
    "--allow-missing accepts that. Documented coverage gaps (no machine-readable national dataset, e.g. "
    "Scottish Green Belt) are listed the same way but do not by themselves give 4.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    add_completion=False,
)
data_app = typer.Typer(help="List, pull and inspect the public datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


# ---------------------------------------------------------------------------------------- context


@dataclass(frozen=True)
class CliContext:
    """What the global options set, carried in ``ctx.obj``."""

    mirror: str | None = None
    offline: bool = False
    cache_dir: Path | None = None
    verbose: int = 0
    quiet: bool = False

    def with_command(
        self, *, mirror: str | None = None, offline: bool = False, quiet: bool = False
    ) -> CliContext:
        """Per-command ``--mirror``/``--offline``/``-q`` override the global ones."""
        return replace(
            self, mirror=mirror or self.mirror, offline=self.offline or offline, quiet=self.quiet or quiet
        )

    def settings(self) -> Any:
        from growth_zones.settings import Settings

        progress = sys.stderr.isatty() and not self.quiet
        return Settings().with_(
            mirror=self.mirror,
            cache_dir=self.cache_dir,
            progress=progress,
            offline=True if self.offline else None,
        )

    def info(self, message: str) -> None:
        """A progress or summary line on stderr (silenced by ``-q``)."""
        if not self.quiet:
            typer.echo(message, err=True)


def _context(ctx: typer.Context, **overrides: Any) -> CliContext:
    base = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
    cli = base.with_command(**overrides)
    _configure_logging(cli)
    return cli


def _configure_logging(cli: CliContext) -> None:
    level = (
        logging.ERROR if cli.quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(cli.verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )
    logging.captureWarnings(True)
    # Progress (which dataset, which host) is shown from the first second without -v; -q hides it.
    steps = logging.getLogger("growth_zones.progress")
    for handler in list(steps.handlers):
        steps.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    steps.addHandler(handler)
    steps.setLevel(logging.ERROR if cli.quiet else logging.INFO)
    steps.propagate = False


F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """Every error reaching the user is one line on stderr and exit code 1 (``-vv``: traceback too).

    Errors the user can fix (``GrowthZonesError``, a bad profile, an OS error such as a full disk
    or an unwritable folder) say what went wrong; anything else is reported as an internal error
    with a request to rerun with ``-vv`` and report it.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from growth_zones.errors import GrowthZonesError
        from scoring import ScoringConfigError

        ctx = kwargs.get("ctx")  # every command takes the typer context as ``ctx``
        root = ctx.find_root() if hasattr(ctx, "find_root") else None
        verbose = root.obj.verbose if root is not None and isinstance(root.obj, CliContext) else 0
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit):
            raise
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            _quiet_broken_pipe()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except (GrowthZonesError, ScoringConfigError) as err:
            failure: BaseException = err
            message = str(err)
        except OSError as err:
            failure = err
            where = f": {err.filename}" if getattr(err, "filename", None) else ""
            message = f"{err.strerror or err}{where}"
        except Exception as err:  # noqa: BLE001 - the last line of defence: never a bare traceback
            failure = err
            message = (
                f"internal error ({type(err).__name__}: {err}); rerun with -vv for the traceback "
                "and report it"
            )
        if verbose >= 2:
            traceback.print_exception(failure, file=sys.stderr)
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(EXIT_FAILURE)

    return wrapper  # type: ignore[return-value]


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``growth-zones data list | head -3``): point stdout at
    /dev/null so nothing more is written (or reported) at exit, as Unix tools stop on SIGPIPE."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner)
        pass


# ---------------------------------------------------------------------------------------- options


class Opt:
    """The shared options (one definition each, so a flag means the same on every command)."""

    @staticmethod
    def mirror() -> Any:
        return typer.Option(
            None,
            "--mirror",
            metavar="DIR_OR_URL",
            help="Folder or http(s) base URL of a dataset mirror (else $GROWTH_ZONES_MIRROR); several, "
            "separated by ':' (';' on Windows), are searched in order.",
        )

    @staticmethod
    def offline() -> Any:
        return typer.Option(
            False,
            "--offline",
            help="Use the cache only, no network. rank/assess/surface stop only when a required layer (the "
            "boundaries) is not cached; any other dataset not cached is a check that could not run (exit 4 "
            "unless --allow-missing). data pull names every dataset not in the cache.",
        )

    @staticmethod
    def quiet() -> Any:
        return typer.Option(False, "--quiet", "-q", help="Print nothing but errors (and --json output).")

    @staticmethod
    def out() -> Any:
        return typer.Option(Path("out"), "--out", "-o", help="Output folder (created if needed).")

    @staticmethod
    def overwrite() -> Any:
        return typer.Option(
            False,
            "--overwrite",
            help="Replace this command's earlier outputs in --out (the whole set, no stale files).",
        )

    @staticmethod
    def allow_missing() -> Any:
        return typer.Option(
            False,
            "--allow-missing",
            help="Exit 0 (or 3) instead of 4 when some checks could not run because a default dataset feeding "
            "them could not be had (failed, not in the mirror, not cached offline, only a sample); they are "
            "still listed on stderr, in checks.csv, the report and the sidecar.",
        )

    @staticmethod
    def json() -> Any:
        return typer.Option(False, "--json", help="Print the result as JSON on stdout.")

    @staticmethod
    def cdn() -> Any:
        return typer.Option(
            False,
            "--cdn",
            help="Link the map libraries from their CDN instead of bundling them (smaller pages that "
            "need the network to show the map).",
        )

    @staticmethod
    def png() -> Any:
        return typer.Option(
            False,
            "--png",
            help="Also write static map images (legend, scale bar, north arrow, attributions) for "
            "briefings and slides.",
        )


def _print_table(frame: Any, columns: list[str], limit: int) -> None:
    shown = frame[columns].head(limit)
    typer.echo(shown.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))


def _ranking_rule(cli: CliContext, profile: Any) -> None:
    """Say how the rows are ordered when the profile has deliverability gates."""
    if getattr(profile, "gates", ()):
        import scoring

        cli.info(scoring.RANKING_RULE)


def _formats(*, html: bool, geoparquet: bool, png: bool = False, gpkg: bool = True) -> tuple[str, ...]:
    """The result's output formats for the command-line flags."""
    return (
        ("csv",)
        + (("gpkg",) if gpkg else ())
        + (("parquet",) if geoparquet else ())
        + (("html",) if html else ())
        + (("png",) if png else ())
    )


# ---------------------------------------------------------------------------------------- global


@app.callback()
def main(
    ctx: typer.Context,
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv: debug and tracebacks)."
    ),
    quiet: bool = Opt.quiet(),
    mirror: str | None = Opt.mirror(),
    offline: bool = Opt.offline(),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Cache folder (else $GROWTH_ZONES_CACHE)."
    ),
) -> None:
    """Global options apply to every command; most can also be given after the command."""
    ctx.obj = CliContext(mirror=mirror, offline=offline, cache_dir=cache_dir, verbose=verbose, quiet=quiet)


# ---------------------------------------------------------------------------------------- data


@data_app.command("list")
@one_line_errors
def data_list(ctx: typer.Context, as_json: bool = Opt.json()) -> None:
    """One row per catalogue dataset: key, layer, nations covered, whether it is cached, the
    vintage and age of the copy (cached, else the release the catalogue pins) and STALE where it
    is older than the publisher's release cadence."""
    from growth_zones import api

    cli = _context(ctx)
    rows = api.datasets(settings=cli.settings())
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(r["key"]) for r in rows)
    short = {"England": "E", "Scotland": "S", "Wales": "W", "Northern Ireland": "N"}
    for r in rows:
        mark = "cached" if r["cached"] else ("optional" if r["optional"] else "-")
        nations = "".join(short[n] for n in r["nations"])
        age = r["age"]
        stale = " STALE" if r["stale"] else ""
        nc = " [non-commercial]" if r["non_commercial"] else ""
        vintage = r["vintage"] if len(r["vintage"]) <= 34 else r["vintage"][:33] + "…"
        typer.echo(
            f"{r['key']:<{width}}  {r['layer']:<20} {nations:<4} {mark:<8} {vintage:<34} "
            f"{age:>5}{stale:<6} {r['licence']}{nc}"
        )


@data_app.command("pull")
@one_line_errors
def data_pull(
    ctx: typer.Context,
    keys: list[str] | None = typer.Argument(None, help="Dataset keys (default: every default dataset)."),
    force: bool = typer.Option(False, "--force", help="Download and normalise again even if stored."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome of each dataset as JSON."),
    mirror: str | None = Opt.mirror(),
    offline: bool = Opt.offline(),
    quiet: bool = Opt.quiet(),
) -> None:
    """Fetch and normalise datasets into the cache. Exit 0 when every dataset that was attempted is
    stored; optional datasets (no machine endpoint) and datasets a mirror holds no copy of are
    skipped and listed, not failed."""
    from growth_zones import api

    cli = _context(ctx, mirror=mirror, offline=offline, quiet=quiet)
    settings = cli.settings()
    bar = None
    if settings.progress and not as_json:
        from tqdm import tqdm

        total = len(keys) if keys else sum(r["default"] for r in api.datasets(settings=settings))
        bar = tqdm(total=total, desc="datasets", unit="ds", file=sys.stderr)

    def progress(outcome: Any) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(outcome.key)
        elif not as_json:
            rows = f"{outcome.rows} rows" if outcome.rows is not None else ""
            if outcome.ok:
                cli.info(f"ok   {outcome.key:<40} {rows}")
            elif outcome.skipped:
                cli.info(f"skip {outcome.key:<40} {outcome.message}")
            else:
                typer.echo(f"FAIL {outcome.key:<40} {outcome.message}", err=True)

    try:
        if bar is not None:  # progress lines print above the bar instead of through it
            from tqdm.contrib.logging import logging_redirect_tqdm

            with logging_redirect_tqdm(loggers=[logging.getLogger("growth_zones.progress")]):
                report = api.pull(keys or None, settings=settings, force=force, on_progress=progress)
        else:
            report = api.pull(keys or None, settings=settings, force=force, on_progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        typer.echo(json.dumps([o.__dict__ for o in report.outcomes], indent=2))
    stored = sum(o.ok for o in report.outcomes)
    skipped = f" ({len(report.skipped)} skipped: optional or not in the mirror)" if report.skipped else ""
    cli.info(f"{stored} of {len(report.outcomes)} datasets stored in {settings.layers_dir}{skipped}")
    for o in report.failed:
        typer.echo(f"error: {o.key}: {o.message}", err=True)
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)


@data_app.command("info")
@one_line_errors
def data_info(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Dataset key (see `growth-zones data list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the provenance record as JSON."),
    latest: bool = typer.Option(
        False,
        "--latest",
        help="Ask the publisher which release is newest (datasets whose URL changes each release).",
    ),
) -> None:
    """Show a dataset's catalogue entry and, when stored, its provenance record."""
    from growth_zones import api

    cli = _context(ctx)
    record = api.dataset_info(key, settings=cli.settings(), latest=latest)
    if as_json:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    for k, v in record.items():
        typer.echo(f"{k:>20}: {v}")


# ---------------------------------------------------------------------------------------- rank


@app.command("rank")
@one_line_errors
def rank(
    ctx: typer.Context,
    profile: str = typer.Option(
        "aigz", "--profile", "-p", help="Bundled profile name (aigz, power_first) or a TOML path."
    ),
    out: Path = Opt.out(),
    sensitivity: int = typer.Option(
        0, "--sensitivity", min=0, help="Monte Carlo weight draws for rank intervals (0 = off)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the sensitivity draws."),
    top: int = typer.Option(15, "--top", min=0, help="How many rows to print."),
    html: bool = typer.Option(
        False,
        "--html",
        help="Also write the interactive national map (ranking.html; self-contained, works offline).",
    ),
    png: bool = Opt.png(),
    geoparquet: bool = typer.Option(False, "--geoparquet", help="Also write ranking.parquet (GeoParquet)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full ranking as JSON on stdout."),
    overwrite: bool = Opt.overwrite(),
    allow_missing: bool = Opt.allow_missing(),
    cdn: bool = Opt.cdn(),
    mirror: str | None = Opt.mirror(),
    offline: bool = Opt.offline(),
    quiet: bool = Opt.quiet(),
) -> None:
    """Rank every local authority in England, Scotland and Wales and explain each score.

    Writes OUT/ranking.csv, OUT/ranking.gpkg and OUT/ranking.provenance.json (datasets, vintages,
    licences, profile); with --html also OUT/ranking.html (a surface picture in OUT becomes one of
    its layers), with --png OUT/ranking.png, with --geoparquet OUT/ranking.parquet.
    """
    from growth_zones import api

    cli = _context(ctx, mirror=mirror, offline=offline, quiet=quiet)
    api.check_out("rank", out, overwrite=overwrite)  # before any work
    result = api.rank(profile, settings=cli.settings(), sensitivity=sensitivity, seed=seed)
    paths = result.write(
        out, formats=_formats(html=html, geoparquet=geoparquet, png=png), overwrite=overwrite, cdn=cdn
    )
    table = result.table
    if as_json:
        typer.echo(table.drop(columns="geometry").to_json(orient="records", force_ascii=False))
    elif not cli.quiet:
        sections = [c for c in table.columns if c.startswith("section_")]
        penalties = [c for c in table.columns if c.startswith("penalty_")]
        cols = [
            c for c in ("rank", "code", "name", "nation", "deliverable", "score", "eligibility") if c in table
        ] + [c for c in ("rank_p05", "rank_p95", "p_top10") if c in table]
        shown = table.rename(columns=lambda c: c.removeprefix("section_"))
        if penalties:  # designation penalties (a profile with [designations] tiers)
            shown = shown.assign(penalty=table[penalties].sum(axis=1))
        _print_table(
            shown,
            cols + [c.removeprefix("section_") for c in sections] + (["penalty"] if penalties else []),
            top,
        )
        if sections:
            typer.echo(
                "(score by section: the section columns plus the designation penalty sum to the score)"
                if penalties
                else "(score by section: the section columns sum to the score)"
            )
        for line in result.switch_off_lines():
            typer.echo(line)
    cli.info(
        f"ranked {len(table)} local authorities ({_eligibility_words(result.eligibility_counts())}) with "
        f"profile {result.profile.name}; wrote {', '.join(str(p) for p in paths.values())}"
    )
    _ranking_rule(cli, result.profile)
    if _say_missing_checks(
        getattr(result, "missing_checks", []), "local authorities", len(table), allow_missing
    ):
        raise typer.Exit(EXIT_MISSING_CHECKS)


# ---------------------------------------------------------------------------------------- assess


@app.command("assess")
@one_line_errors
def assess(
    ctx: typer.Context,
    applications: Path = typer.Argument(
        ..., help="Applications file: GeoJSON, GeoPackage, Shapefile (.shp or .zip) or CSV."
    ),
    profile: str = typer.Option(
        "aigz_sites", "--profile", "-p", help="Site-level profile name or TOML path."
    ),
    region_profile: str = typer.Option(
        "aigz", "--region-profile", help="Profile for the national percentile of each site's LA."
    ),
    crs: str | None = typer.Option(
        None, "--crs", help="CRS of a file that states none (e.g. EPSG:27700 for CSV WKT in metres)."
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer to read."),
    out: Path = Opt.out(),
    html: bool = typer.Option(
        False,
        "--html",
        help="Also write the HTML report (OUT/report/index.html, a page and a printable A4 brief per "
        "site; works offline).",
    ),
    png: bool = Opt.png(),
    geoparquet: bool = typer.Option(
        False, "--geoparquet", help="Also write assessment.parquet (GeoParquet)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the assessment and rejections as JSON on stdout."
    ),
    overwrite: bool = Opt.overwrite(),
    allow_missing: bool = Opt.allow_missing(),
    cdn: bool = Opt.cdn(),
    mirror: str | None = Opt.mirror(),
    offline: bool = Opt.offline(),
    quiet: bool = Opt.quiet(),
) -> None:
    """Check, score and rank every application; list rejected rows with their reasons.

    Writes OUT/assessment.csv, OUT/assessment.gpkg, OUT/checks.csv, OUT/rejected.csv,
    OUT/warnings.csv and OUT/assessment.provenance.json; with --html the report folder OUT/report/
    (index.html, sites/, briefs.html: one printable A4 page per site), with --png OUT/figures/
    (overview.png, sites/<id>.png). Exit code 0: every row assessed; 3: some rows were rejected
    (see rejected.csv; the others were still assessed); 4: some checks could not run because
    their data could not be had (named on stderr and in checks.csv; --allow-missing accepts that);
    1: nothing could be assessed.
    """
    from growth_zones import api

    if not applications.exists():
        raise typer.BadParameter(f"file not found: {applications}", param_hint="APPLICATIONS")
    cli = _context(ctx, mirror=mirror, offline=offline, quiet=quiet)
    api.check_out("assess", out, overwrite=overwrite)  # before any work
    result = api.assess(
        applications,
        profile=profile,
        region_profile=region_profile,
        settings=cli.settings(),
        input_crs=crs,
        layer=layer,
    )
    paths = result.write(
        out, formats=_formats(html=html, geoparquet=geoparquet, png=png), overwrite=overwrite, cdn=cdn
    )
    table = result.table
    if as_json:
        doc = {
            "input_count": result.input_count,
            "assessed": json.loads(
                table.drop(columns="geometry").reset_index().to_json(orient="records", force_ascii=False)
            ),
            "rejected": json.loads(result.rejected.to_json(orient="records", force_ascii=False)),
        }
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    elif len(table) and not cli.quiet:
        t = table.reset_index()
        cols = [
            c
            for c in (
                "rank",
                "id",
                "name",
                "la_name",
                "mw",
                "dsit_minimum",
                "deliverable",
                "score",
                "eligibility",
                "excluded_by",
                "exclusions_not_checked",
            )
            if c in t
        ]
        _print_table(t, cols, 50)
        if any(c.startswith("section_") for c in t):
            typer.echo(
                "(assessment.csv: the section_ columns plus the penalty_ columns (designation penalties) "
                "sum to the score)"
            )
    cli.info(
        f"{len(table)} assessed ({_eligibility_words(result.eligibility_counts())}), "
        f"{len(result.rejected)} rejected of {result.input_count} rows; "
        f"wrote {', '.join(str(p) for p in paths.values())}"
    )
    _ranking_rule(cli, result.profile)
    for _, r in result.rejected.iterrows():
        cli.info(f"rejected row {r['row']} ({_id_label(r['id'])}): {r['reason']}")
    if len(table) == 0:
        typer.echo("error: no application could be assessed (see rejected.csv)", err=True)
        raise typer.Exit(EXIT_FAILURE)
    if _say_missing_checks(getattr(result, "missing_checks", []), "sites", len(table), allow_missing):
        raise typer.Exit(EXIT_MISSING_CHECKS)
    if len(result.rejected):
        raise typer.Exit(EXIT_REJECTED)


def _say_missing_checks(missing: list[Any], noun: str, total: int | None, allow_missing: bool) -> bool:
    """Name every check that could not run on stderr (even with -q); True when that should end the
    run with :data:`EXIT_MISSING_CHECKS` (a default dataset feeding a check could not be had)."""
    if not missing:
        return False
    for m in missing:
        typer.echo(f"warning: {m.line(noun, total)}", err=True)
    stop = [m for m in missing if getattr(m, "blocking", True)]
    others = len(missing) - len(stop)
    if others:
        typer.echo(
            f"warning: {others} check(s) not checked for a reason no data pull can fix (no "
            "machine-readable national dataset, or the published data cannot decide them); listed above, "
            "in checks.csv and the report",
            err=True,
        )
    if not stop:
        return False
    if allow_missing:
        typer.echo(f"warning: {len(stop)} check(s) could not run; accepted with --allow-missing", err=True)
        return False
    typer.echo(
        f"error: {len(stop)} check(s) could not run because their data could not be had (listed above, "
        "in checks.csv and the report); results were written but may look better than they are. Fix the "
        "data (growth-zones data pull, or a complete mirror) or pass --allow-missing to accept this",
        err=True,
    )
    return True


def _eligibility_words(counts: dict[str, int]) -> str:
    """ "9 eligible, 3 not fully checked, 1 excluded"."""
    return (
        f"{counts.get('eligible', 0)} eligible, {counts.get('unknown', 0)} not fully checked (a hard "
        f"exclusion could not be checked), {counts.get('excluded', 0)} excluded"
    )


def _id_label(value: Any) -> str:
    """'id X' for a row's id, '(no id)' when it has none (never 'id nan')."""
    if value is None or not isinstance(value, str) or not value.strip():
        return "no id"
    return f"id {value}"


# ---------------------------------------------------------------------------------------- map


@app.command("map")
@one_line_errors
def map_cmd(
    ctx: typer.Context,
    folder: Path = typer.Argument(Path("out"), help="Folder holding ranking.* and/or assessment.* outputs."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the existing ranking.html / report/ pages."
    ),
    cdn: bool = Opt.cdn(),
    mirror: str | None = Opt.mirror(),
    offline: bool = Opt.offline(),
    quiet: bool = Opt.quiet(),
) -> None:
    """Render the HTML reports again from existing outputs (reads only the outputs and the cache;
    the map libraries are fetched on first use). A surface picture in FOLDER (`surface --out`)
    becomes a layer of the national map."""
    from growth_zones import api

    cli = _context(ctx, mirror=mirror, offline=offline, quiet=quiet)
    for p in api.render(folder, overwrite=overwrite, cdn=cdn, settings=cli.settings()):
        cli.info(str(p))


# ---------------------------------------------------------------------------------------- surface


class _OptionalValueCommand(TyperCommand):
    """``--dask`` takes an optional value: given alone (last, or before another option) it means
    ``local``. Click has no optional option values through typer, so the argument list is completed
    before parsing."""

    optional_values: ClassVar[dict[str, str]] = {"--dask": "local"}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        fixed: list[str] = []
        for i, arg in enumerate(args):
            fixed.append(arg)
            default = self.optional_values.get(arg)
            nxt = args[i + 1] if i + 1 < len(args) else None
            if default is not None and (nxt is None or nxt.startswith("-")):
                fixed.append(default)
        return super().parse_args(ctx, fixed)


@app.command("surface", cls=_OptionalValueCommand)
@one_line_errors
def surface(
    ctx: typer.Context,
    resolution: float = typer.Option(
        250.0, "--resolution", "-r", min=10.0, help="Cell size in metres (EPSG:27700)."
    ),
    out: Path = Opt.out(),
    profile: str = typer.Option(
        "aigz_sites", "--profile", "-p", help="Profile whose value functions and weights score each cell."
    ),
    dask: str | None = typer.Option(
        None,
        "--dask",
        metavar="[ADDRESS]",
        help="Run the tiles on Dask: `--dask` alone starts a local cluster; `--dask tcp://host:8786` "
        "uses a running scheduler (a multi-machine cluster).",
    ),
    tile_size: int = typer.Option(
        1024, "--tile-size", min=16, help="Tile edge in cells (bounds peak memory)."
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        min=0,
        help="Processes computing tiles without --dask (0: one per core; 1: in this process).",
    ),
    threshold: float = typer.Option(
        0.6, "--threshold", min=0.0, max=1.0, help="Score at or above which a cell counts as suitable."
    ),
    min_area_ha: float | None = typer.Option(
        None,
        "--min-area-ha",
        min=0.0,
        help="Smallest candidate zone kept, hectares (default: the profile's, 50 ha = a 500 MW campus).",
    ),
    max_area_km2: float | None = typer.Option(
        None,
        "--max-area-km2",
        min=0.0,
        help="Largest candidate zone, km2; larger areas are split (default: the profile's, 25 km2).",
    ),
    overwrite: bool = Opt.overwrite(),
    allow_missing: bool = Opt.allow_missing(),
    mirror: str | None = Opt.mirror(),
    offline: bool = Opt.offline(),
    quiet: bool = Opt.quiet(),
) -> None:
    """Build the GB suitability raster (Cloud-Optimised GeoTIFF, EPSG:27700), per-local-authority
    zonal statistics (joinable to ranking.csv on `code`) and candidate zones (GeoPackage).

    Cells outside a designation layer's coverage are 'unknown' (band 2 = 2), never excluded or clear.
    """
    from growth_zones import api

    cli = _context(ctx, mirror=mirror, offline=offline, quiet=quiet)
    api.check_out("surface", out, overwrite=overwrite, resolution=resolution)  # before any work
    settings = cli.settings()
    run = api.surface(
        resolution=resolution,
        profile=profile,
        settings=settings,
        dask=dask or False,
        workers=workers,
        tile_size=tile_size,
        threshold=threshold,
        min_area_ha=min_area_ha,
        max_area_km2=max_area_km2,
        progress=settings.progress,
    )
    paths = run.write(out, overwrite=overwrite)
    record = json.loads(paths["record"].read_text(encoding="utf-8")) if "record" in paths else {}
    zones = run.zone_summary(record)
    if zones:
        cli.info(zones)
    for warning in record.get("zone_size_warnings") or []:  # even with -q: zones not as asked
        typer.echo(f"warning: candidate zones: {warning}", err=True)
    sections = run.sections_summary(record)
    if sections:
        cli.info(sections)
    cli.info("wrote " + ", ".join(str(p) for p in paths.values()))
    if _say_missing_checks(getattr(run, "missing_checks", []), "cell", None, allow_missing):
        raise typer.Exit(EXIT_MISSING_CHECKS)

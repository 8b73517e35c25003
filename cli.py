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
) -> None:
    """Fetch and normalise datasets into the cache. Exit 0 only when every requested dataset is stored."""
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

"""End-to-end outputs for the CLI and notebooks: tables, GeoPackages, provenance sidecars and
HTML reports for a ranking or an assessment, and re-rendering reports from existing outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .errors import InvalidInputError
from .outputs import provenance_record, write_csv, write_geoparquet, write_gpkg, write_json
from .ranking import RankingResult, criteria_table

DISPLAY_SUBSTATION_KINDS = ("gsp", "transmission")


def report_overlays(layers: Any, *, applications: gpd.GeoDataFrame | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The context layers drawn on the maps (display subsets: transmission sites, GSPs, ...)."""
    out: dict[str, gpd.GeoDataFrame] = {}
    subs = getattr(layers, "substations", None)
    if subs is not None and len(subs):
        out["substations"] = subs[subs["kind"].isin(DISPLAY_SUBSTATION_KINDS)][["name", "voltage_kv", "kind", "geometry"]]
        tec = getattr(layers, "tec_projects", None)
        if tec is not None and len(tec):
            from .indicators import match_connection_sites

            matched = match_connection_sites(tec, subs)
            matched = matched.dropna(subset=["x", "y"])
            if len(matched):
                agg = matched.groupby("substation_id").agg(
                    connection_site=("substation_name", "first"), mw=("mw", "sum"), projects=("mw", "size"),
                    x=("x", "first"), y=("y", "first"))
                out["tec_sites"] = gpd.GeoDataFrame(
                    agg.reset_index(drop=True), geometry=gpd.points_from_xy(agg["x"], agg["y"]), crs=subs.crs
                ).drop(columns=["x", "y"])
    circuits = getattr(layers, "circuits", None)
    if circuits is not None and len(circuits):
        out["circuits"] = circuits[circuits["voltage_kv"] >= 275][["voltage_kv", "geometry"]]
    for name, cols in (("landing_points", ["name"]), ("internet_exchanges", ["name", "metro"]),
                       ("protected_areas", ["designation", "name"])):
        frame = getattr(layers, name, None)
        if frame is not None and len(frame):
            out[name] = frame[cols + ["geometry"]]
    if applications is not None and len(applications):
        apps = applications.reset_index()
        out["applications"] = apps[[c for c in ("id", "name", "score", "rank") if c in apps] + ["geometry"]]
    return out


def write_ranking_outputs(result: RankingResult, out: Path, *, html: bool = False, geoparquet: bool = False,
                          assets: Any = "cdn") -> dict[str, Path]:
    """ranking.csv, ranking.gpkg, ranking.provenance.json (+ ranking.parquet, ranking.html)."""
    table = result.table
    sidecar = provenance_record(
        kind="ranking", profile=result.profile, provenance=result.provenance, generated_at=result.generated_at,
        extra={"regions": len(table), "indicators": {k: vars(v) for k, v in result.indicators.specs.items()},
               "sensitivity": result.sensitivity is not None, "notes": list(result.scores.notes)},
    )
    paths = {
        "csv": write_csv(table, out / "ranking.csv"),
        "gpkg": write_gpkg(table, out / "ranking.gpkg", layer="ranking"),
        "provenance": write_json(sidecar, out / "ranking.provenance.json"),
    }
    if geoparquet:
        paths["geoparquet"] = write_geoparquet(table, out / "ranking.parquet")
    if html:
        from .report import render_national_map

        overlays = report_overlays(result.layers) if result.layers is not None else {}
        paths["html"] = render_national_map(
            table, out_path=out / "ranking.html", criteria=result.criteria(), overlays=overlays,
            provenance=result.provenance, profile_title=result.profile.title, generated_at=result.generated_at,
            assets=assets)
    return paths


def write_assessment_outputs(result: Any, out: Path, *, html: bool = False, geoparquet: bool = False,
                             assets: Any = "cdn") -> dict[str, Path]:
    """assessment.csv/.gpkg, checks.csv, rejected.csv, assessment.provenance.json (+ report/)."""
    table = result.table.reset_index()
    sidecar = provenance_record(
        kind="assessment", profile=result.profile, provenance=result.provenance, generated_at=result.generated_at,
        extra={"input_count": result.input_count, "assessed": len(table), "rejected": len(result.rejected),
               "notes": result.notes},
    )
    paths = {
        "csv": write_csv(table, out / "assessment.csv"),
        "checks": write_csv(result.checks, out / "checks.csv"),
        "rejected": write_csv(result.rejected, out / "rejected.csv"),
        "warnings": write_csv(result.warnings, out / "warnings.csv"),
        "provenance": write_json(sidecar, out / "assessment.provenance.json"),
    }
    if len(table):
        paths["gpkg"] = write_gpkg(table, out / "assessment.gpkg", layer="assessment")
        if geoparquet:
            paths["geoparquet"] = write_geoparquet(table, out / "assessment.parquet")
    if html:
        from .report import render_assessment_report

        overlays = report_overlays(result.layers, applications=result.table) if result.layers is not None else {}
        paths["html"] = render_assessment_report(
            result.table, out_dir=out / "report", checks=result.checks, rejected=result.rejected,
            criteria=result.criteria(), overlays=overlays, provenance=result.provenance,
            profile_title=result.profile.title, generated_at=result.generated_at, assets=assets)
    return paths


def _stored_overlays(settings: Any = None) -> dict[str, gpd.GeoDataFrame]:
    """Overlays from whatever is in the cache (reports never trigger downloads)."""
    from .indicators import LayerSet
    from .settings import Settings
    from .store import Store

    try:
        layers = LayerSet.from_store(Store(settings or Settings()))
    except Exception:  # noqa: BLE001 - overlays are optional context; the report still renders
        return {}
    return report_overlays(layers)


def render_from_outputs(folder: Path, *, assets: Any = "cdn", settings: Any = None) -> list[Path]:
    """Re-render ranking.html and report/index.html from the tables in ``folder``; when both a
    ranking and an assessment are there, the national map also shows the applications."""
    import scoring

    written: list[Path] = []
    overlays = _stored_overlays(settings)
    assessment = folder / "assessment.gpkg"
    sites = None
    if assessment.exists():
        sites = gpd.read_file(assessment, layer="assessment").set_index("id")
        sites.index = sites.index.astype(str)
    ranking = folder / "ranking.gpkg"
    if ranking.exists():
        from .report import render_national_map

        sidecar = _sidecar(folder / "ranking.provenance.json")
        prof = scoring.profile_from_dict(sidecar["profile"])
        table = gpd.read_file(ranking, layer="ranking")
        national = dict(overlays)
        if sites is not None and len(sites):  # the applications assessed in the same folder
            apps = sites.reset_index()
            national["applications"] = apps[[c for c in ("id", "name", "score", "rank") if c in apps] + ["geometry"]]
        written.append(render_national_map(
            table, out_path=folder / "ranking.html", criteria=criteria_table(prof), overlays=national,
            provenance=sidecar["datasets"], profile_title=prof.title, generated_at=sidecar["generated_at"],
            assets=assets))
    if sites is not None:
        from .report import render_assessment_report

        sidecar = _sidecar(folder / "assessment.provenance.json")
        prof = scoring.profile_from_dict(sidecar["profile"])
        checks = pd.read_csv(folder / "checks.csv", dtype={"id": str}, keep_default_na=False)
        rejected = pd.read_csv(folder / "rejected.csv", dtype={"id": str}, keep_default_na=False)
        written.append(render_assessment_report(
            sites, out_dir=folder / "report", checks=checks, rejected=rejected, criteria=criteria_table(prof),
            overlays=overlays, provenance=sidecar["datasets"], profile_title=prof.title,
            generated_at=sidecar["generated_at"], assets=assets))
    return written


def _sidecar(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InvalidInputError(f"{path} is missing: the outputs folder is incomplete; run the command again")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

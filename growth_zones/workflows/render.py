"""HTML reports from results or from existing outputs: the context layers drawn on the maps and
re-rendering ``ranking.html`` / ``report/`` from the tables a ranking or an assessment wrote.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import InvalidInputError
from .ranking import criteria_table, section_table

log = logging.getLogger(__name__)

OVERLAY_LAYERS = (
    "regions",
    "countries",
    "substations",
    "grid_sites",
    "circuits",
    "tec_projects",
    "landing_points",
    "internet_exchanges",
    "protected_areas",
)
"""The stored layers a re-rendered map draws as context."""


def report_overlays(
    layers: Any, *, applications: gpd.GeoDataFrame | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """The context layers drawn on the maps: grid nodes that are transmission sites or GSPs (one
    point per physical site, voltage resolved across sources), the TEC queue per node, lines,
    landing points, exchanges, protected areas and the applications."""
    out: dict[str, gpd.GeoDataFrame] = {}
    subs = getattr(layers, "substations", None)
    if subs is not None and len(subs):
        from ..indicators import grid_nodes

        nodes = grid_nodes(layers).placed("site")
        out["substations"] = gpd.GeoDataFrame(
            nodes[["name", "voltage_kv", "kind"]], geometry=nodes.geometry.values, crs=nodes.crs
        ).reset_index(drop=True)
        queued = nodes[nodes["tec_contracted_mw"] > 0]
        if len(queued):
            out["tec_sites"] = gpd.GeoDataFrame(
                {
                    "connection_site": queued["name"].to_numpy(),
                    "mw": queued["tec_contracted_mw"].to_numpy(),
                    "projects": queued["tec_projects"].to_numpy(),
                },
                geometry=queued.geometry.values,
                crs=nodes.crs,
            )
    circuits = getattr(layers, "circuits", None)
    if circuits is not None and len(circuits):
        out["circuits"] = circuits[circuits["voltage_kv"] >= 275][["voltage_kv", "geometry"]]
    for name, cols in (
        ("landing_points", ["name"]),
        ("internet_exchanges", ["name", "metro"]),
        ("protected_areas", ["designation", "name"]),
    ):
        frame = getattr(layers, name, None)
        if frame is not None and len(frame):
            out[name] = frame[cols + ["geometry"]]
    if applications is not None and len(applications):
        apps = applications.reset_index()
        out["applications"] = apps[[c for c in ("id", "name", "score", "rank") if c in apps] + ["geometry"]]
    return out


def _stored_overlays(settings: Any = None) -> dict[str, gpd.GeoDataFrame]:
    """Overlays from whatever is in the cache (reports never trigger downloads)."""
    from ..data.layers import LayerSet
    from ..data.store import Store
    from ..errors import GrowthZonesError

    try:
        layers = LayerSet.load(Store(settings), names=OVERLAY_LAYERS)
    except (GrowthZonesError, OSError) as err:  # overlays are optional context; the report still renders
        log.warning("map overlays not drawn: %s", err)
        return {}
    return report_overlays(layers)


def render_outputs(
    folder: str | Path, *, overwrite: bool = False, assets: Any = None, settings: Any = None
) -> list[Path]:
    """Re-render ``ranking.html`` and ``report/`` from the tables in ``folder`` (reads only the
    outputs and the cache); when both a ranking and an assessment are there, the national map also
    shows the applications. Refuses to replace existing pages unless ``overwrite``."""
    from .outputs import OutputSet

    folder = Path(folder)
    ranking, assessment = folder / "ranking.gpkg", folder / "assessment.gpkg"
    members = (["ranking.html"] if ranking.exists() else []) + (["report"] if assessment.exists() else [])
    if not members:
        raise InvalidInputError(
            f"no ranking.gpkg or assessment.gpkg in {folder}: run `growth-zones rank` or `assess` first"
        )
    written: list[Path] = []
    with OutputSet(folder, members, overwrite=overwrite) as stage:
        written = _render_into(stage, folder, assets=assets, settings=settings)
        written = [folder / p.relative_to(stage) for p in written]
    return written


def _render_into(stage: Path, folder: Path, *, assets: Any, settings: Any) -> list[Path]:
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
        from ..report import render_national_map

        sidecar = _sidecar(folder / "ranking.provenance.json")
        prof = scoring.profile_from_dict(sidecar["profile"])
        table = gpd.read_file(ranking, layer="ranking")
        national = dict(overlays)
        if sites is not None and len(sites):  # the applications assessed in the same folder
            apps = sites.reset_index()
            national["applications"] = apps[
                [c for c in ("id", "name", "score", "rank") if c in apps] + ["geometry"]
            ]
        written.append(
            render_national_map(
                table,
                out_path=stage / "ranking.html",
                criteria=criteria_table(prof),
                sections=section_table(prof),
                overlays=national,
                provenance=sidecar["datasets"],
                profile_title=prof.title,
                generated_at=sidecar["generated_at"],
                assets=assets,
            )
        )
    if sites is not None:
        from ..report import render_assessment_report

        sidecar = _sidecar(folder / "assessment.provenance.json")
        prof = scoring.profile_from_dict(sidecar["profile"])
        checks = pd.read_csv(folder / "checks.csv", dtype={"id": str}, keep_default_na=False)
        rejected = pd.read_csv(folder / "rejected.csv", dtype={"id": str}, keep_default_na=False)
        written.append(
            render_assessment_report(
                sites,
                out_dir=stage / "report",
                checks=checks,
                rejected=rejected,
                criteria=criteria_table(prof),
                overlays=overlays,
                provenance=sidecar["datasets"],
                profile_title=prof.title,
                generated_at=sidecar["generated_at"],
                assets=assets,
            )
        )
    return written


def _sidecar(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InvalidInputError(f"{path} is missing: the outputs folder is incomplete; run the command again")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

"""HTML reports from results or from existing outputs: the context layers drawn on the maps, the
map libraries (bundled from the catalogue's npm tarballs, or the CDN), the surface picture, and
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
from .ranking import criteria_table, penalty_table, section_table

log = logging.getLogger(__name__)

OVERLAY_LAYERS = (
    "regions",
    "countries",
    "substations",
    "grid_sites",
    "grid_circuit_table",
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
    for name, cols in (("countries", ["name"]), ("regions", ["code", "name"])):  # the offline base map
        frame = getattr(layers, name, None)
        if frame is not None and len(frame):
            out[name] = frame[[c for c in cols if c in frame.columns] + ["geometry"]]
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
    if circuits is not None and len(circuits) and subs is not None and len(subs):
        from ..indicators import checked_circuits

        circuits = checked_circuits(layers)  # no ETYS line drawn from a rejected position
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


def map_libraries(settings: Any = None, *, cdn: bool = False) -> Any:
    """The map libraries for HTML reports: bundled from the catalogue's npm tarballs (fetched once
    through the fetch module: cache, mirror locations, npm registry), or folium's CDN when ``cdn``
    or when the tarballs cannot be had (then with the reason, which the pages show in a banner and
    which is logged as a warning here)."""
    from ..report.assets import MapLibraries, libraries_from_assets

    if cdn:
        return MapLibraries.cdn()
    from ..data.assets import fetch_assets

    libraries = libraries_from_assets(fetch_assets(settings))
    if not libraries.bundled:
        log.warning(
            "map libraries not bundled (%s): the HTML report loads them from their CDN and says in a banner "
            "that its map needs the network",
            libraries.detail or libraries.problem,
        )
    return libraries


def surface_overlay(folder: str | Path) -> Any:
    """The surface picture written by ``surface`` into ``folder`` (the finest resolution there), or
    None. See :func:`growth_zones.report.static.write_surface_overview`."""
    from ..report.national import SurfaceOverlay

    best: tuple[float, dict[str, Any], Path] | None = None
    for meta_path in Path(folder).glob("surface_*m_overview.json"):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            res = float(meta["resolution_m"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("ignoring %s: %s", meta_path, err)
            continue
        png = meta_path.with_name(str(meta.get("png", "")))
        if png.name and png.is_file() and (best is None or res < best[0]):
            best = (res, meta, png)
    if best is None:
        return None
    res, meta, png = best
    (s, w), (n, e) = meta["bounds_wgs84"]
    return SurfaceOverlay(
        png=png.read_bytes(),
        bounds=((float(s), float(w)), (float(n), float(e))),
        resolution_m=res,
        pixel_m=float(meta.get("pixel_m", 0.0)),
        threshold=float(meta.get("threshold", 0.6)),
        excluded_colour=str(meta.get("excluded_colour", "#9e9e9e")),
        stops=tuple(meta.get("stops", ())),
        source=str(meta.get("source", "")),
    )


def render_outputs(
    folder: str | Path, *, overwrite: bool = False, cdn: bool = False, settings: Any = None
) -> list[Path]:
    """Re-render ``ranking.html`` and ``report/`` from the tables in ``folder`` (reads only the
    outputs and the cache; the map libraries are fetched on first use unless ``cdn``); when both a
    ranking and an assessment are there, the national map also shows the applications, and a
    surface picture there becomes a layer of the national map. Refuses to replace existing pages
    unless ``overwrite``."""
    from .outputs import OutputSet

    folder = Path(folder)
    ranking, assessment = folder / "ranking.gpkg", folder / "assessment.gpkg"
    members = (["ranking.html"] if ranking.exists() else []) + (["report"] if assessment.exists() else [])
    if not members:
        raise InvalidInputError(
            f"no ranking.gpkg or assessment.gpkg in {folder}: run `growth-zones rank` or `assess` first"
        )
    written: list[Path] = []
    with OutputSet(folder, members, overwrite=overwrite, option=None) as stage:
        written = _render_into(stage, folder, libraries=map_libraries(settings, cdn=cdn), settings=settings)
        written = [folder / p.relative_to(stage) for p in written]
    return written


def _render_into(stage: Path, folder: Path, *, libraries: Any, settings: Any) -> list[Path]:
    import scoring

    written: list[Path] = []
    overlays = _stored_overlays(settings)
    assessment = folder / "assessment.gpkg"
    sites = None
    if assessment.exists():
        sites = _read_gpkg(assessment, "assessment").set_index("id")
        sites.index = sites.index.astype(str)
        if "target_year" in sites:  # GDAL reads an integer field with gaps as floats
            sites["target_year"] = pd.to_numeric(sites["target_year"], errors="coerce").astype("Int64")
    ranking = folder / "ranking.gpkg"
    if ranking.exists():
        from ..report import render_national_map
        from .missing import MissingCheck

        sidecar = _sidecar(folder / "ranking.provenance.json")
        prof = scoring.profile_from_dict(sidecar["profile"])
        table = _read_gpkg(ranking, "ranking")
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
                libraries=libraries,
                surface=surface_overlay(folder),
                missing_checks=[MissingCheck.from_dict(d) for d in sidecar.get("missing_checks") or []],
            )
        )
    if sites is not None:
        from ..report import render_assessment_report
        from .missing import MissingCheck

        sidecar = _sidecar(folder / "assessment.provenance.json")
        prof = scoring.profile_from_dict(sidecar["profile"])
        checks = _table(folder / "checks.csv")
        rejected = _table(folder / "rejected.csv")
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
                libraries=libraries,
                missing_checks=[MissingCheck.from_dict(d) for d in sidecar.get("missing_checks") or []],
                penalties=penalty_table(prof),
            )
        )
    return written


def _incomplete(path: Path, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"{path} {why}: the outputs folder is incomplete or damaged; run the command again"
    )


def _sidecar(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise _incomplete(path, "is missing")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as err:
        raise _incomplete(path, f"cannot be read ({type(err).__name__})") from err
    if not isinstance(doc, dict) or "profile" not in doc or "datasets" not in doc:
        raise _incomplete(path, "is not a provenance sidecar of this package")
    return doc


def _table(path: Path) -> pd.DataFrame:
    from .outputs import read_csv_output

    if not path.exists():
        raise _incomplete(path, "is missing")
    try:
        return read_csv_output(path)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise _incomplete(path, f"cannot be read ({type(err).__name__}: {str(err)[:120]})") from err


def _read_gpkg(path: Path, layer: str) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as err:  # noqa: BLE001 - pyogrio/GDAL errors on a damaged file, named
        raise _incomplete(path, f"cannot be read ({type(err).__name__}: {str(err)[:120]})") from err
    if layer == "assessment" and "id" not in frame:
        raise _incomplete(path, "has no id column")
    return frame

"""Assess a file of applications: read and validate every row, measure each site against the
layers, apply the site profile, rank, and keep every rejected row with its reason.

Invariant: ``len(result.table) + len(result.rejected) == result.input_count``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .ranking import REGION_LAYERS, criteria_table, load_layers, national_percentile, rank_regions
from .indicators.specs import DESIGNATION_LABELS
from .settings import Settings

EVIDENCE = {
    "evidence_grid": "Grid connection letter (NG/NESO/TO) or behind-the-meter plan",
    "evidence_water": "Water company letter",
    "evidence_land_control": "Land control",
    "evidence_planning": "Planning status",
}


@dataclass
class AssessmentResult:
    table: gpd.GeoDataFrame  # one row per assessed application, EPSG:27700, index = id
    checks: pd.DataFrame  # long: id, check, status, detail
    rejected: pd.DataFrame  # row, id, name, reason
    warnings: pd.DataFrame  # row, id, warning
    input_count: int
    profile: Any
    provenance: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    layers: Any = None  # the LayerSet used (for map overlays)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0).isoformat())

    def criteria(self) -> list[dict[str, Any]]:
        return criteria_table(self.profile)


def gb_land(layers: Any) -> gpd.GeoDataFrame:
    """England, Scotland and Wales land polygons (for the outside-GB / in-the-sea checks)."""
    countries = layers.countries
    return countries[countries["nation"].isin(["England", "Scotland", "Wales"])]


def assess(
    applications: str | Path,
    *,
    settings: Settings | None = None,
    profile: str | Any = "aigz_sites",
    region_profile: str | Any = "aigz",
    indicator_settings: Any = None,
    layers: Any = None,
    store: Any = None,
    input_crs: str | None = None,
    layer: str | None = None,
) -> AssessmentResult:
    """Assess every application in ``applications`` (GeoJSON, GeoPackage, Shapefile or CSV).

    ``input_crs`` states the CRS of a file that has none (CSV WKT, GeoJSON without ``crs``);
    ``layer`` picks a GeoPackage layer.
    """
    import scoring

    from .applications import read_applications
    from .indicators import IndicatorSettings, site_designation_checks, site_indicators

    if layers is None:
        layers, store = load_layers(settings)
    ind_settings = indicator_settings or IndicatorSettings()
    batch = read_applications(applications, land=gb_land(layers), input_crs=input_crs, layer=layer)
    national = rank_regions(profile=region_profile, layers=layers, store=store, indicator_settings=ind_settings)
    percentile = national_percentile(national.table.set_index("code"))
    prof = profile if isinstance(profile, scoring.Profile) else scoring.load_profile(
        str(profile), indicators=list(_site_indicator_names()))
    sites = batch.sites
    if len(sites):
        ind = site_indicators(sites, layers, ind_settings, region_percentile=percentile)
        result = scoring.score(ind.values, prof, reasons=ind.reasons)
        designation = site_designation_checks(sites, layers)
        table = _assemble(sites, ind, result.table)
        checks = _checks(table, designation, ind_settings)
    else:
        table = gpd.GeoDataFrame(sites.copy())
        checks = pd.DataFrame(columns=["id", "check", "status", "detail"])
    provenance = store.provenance_for_layers(REGION_LAYERS) if store is not None else []
    return AssessmentResult(table, checks, batch.rejected, batch.warnings, batch.input_count, prof, provenance,
                            list(batch.notes), layers)


def _site_indicator_names() -> list[str]:
    from .indicators import SITE_INDICATORS

    return list(SITE_INDICATORS)


def _assemble(sites: gpd.GeoDataFrame, ind: Any, scores: pd.DataFrame) -> gpd.GeoDataFrame:
    head = ["score", "rank", "eligible", "excluded_by", "missing"]
    contrib = [c for c in scores.columns if c.startswith(("contrib_", "value_"))]
    base = sites.drop(columns=sites.geometry.name)
    base = base.drop(columns=[c for c in base.columns if c in ind.values.columns or c in ind.extra.columns])
    table = pd.concat([base, scores[head], ind.values, ind.extra, scores[contrib]], axis=1)
    table.index.name = "id"
    out = gpd.GeoDataFrame(table, geometry=sites.geometry.reindex(table.index).values, crs=sites.crs)
    return out.sort_values(["rank"], kind="stable")


def _status(value: Any, yes: str = "pass", no: str = "fail", unknown: str = "unknown") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return unknown
    return yes if bool(value) else no


def _checks(table: gpd.GeoDataFrame, designation: pd.DataFrame, ind_settings: Any) -> pd.DataFrame:
    """One row per (application, check): DSIT tests, evidence items and designation checks."""
    rows: list[dict[str, Any]] = []
    ha = getattr(ind_settings, "ha_per_100mw", 10.0)
    for app_id, r in table.iterrows():  # one row per application: small, and it is text assembly
        rows.append({"id": app_id, "check": "Power: at least 500 MW by 2030 (DSIT)",
                     "status": _status(r.get("meets_500mw_by_2030")),
                     "detail": f"claims {r.get('mw', np.nan):,.0f} MW by {r.get('target_year', '?')}"})
        need = float(r.get("mw", np.nan)) / 100.0 * ha
        rows.append({"id": app_id, "check": f"Land: enough for the claimed capacity at {ha:g} ha per 100 MW",
                     "status": _status(r.get("land_sufficient")),
                     "detail": f"site {r.get('site_area_ha', np.nan):,.1f} ha; needs about {need:,.1f} ha"})
        for col, label in EVIDENCE.items():
            rows.append({"id": app_id, "check": f"Evidence: {label}",
                         "status": _status(r.get(col), "present", "missing", "unknown"), "detail": ""})
    out = pd.DataFrame(rows, columns=["id", "check", "status", "detail"])
    if len(designation):
        d = designation.rename(columns={"site_id": "id"})
        d["check"] = "Designation: " + d["designation"].map(lambda x: DESIGNATION_LABELS.get(x, x))
        d["detail"] = [_designation_detail(r) for r in d.itertuples(index=False)]
        out = pd.concat([out, d[["id", "check", "status", "detail"]]], ignore_index=True)
    return out


def _designation_detail(r: Any) -> str:
    if r.status == "present":
        return f"{float(r.share):.0%} of the site"
    if r.status == "absent":
        dist = float(r.distance_km)
        return "none in the dataset" if np.isnan(dist) else f"nearest {dist:,.1f} km away"
    return str(r.reason)

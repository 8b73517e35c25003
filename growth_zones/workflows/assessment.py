"""Assess a file of applications: read and validate every row, measure each site against the
layers, apply the site profile, rank, and keep every rejected row with its reason.

Invariant: ``len(result.table) + len(result.rejected) == result.input_count``.
:class:`AssessmentResult` knows the files it writes (:attr:`AssessmentResult.OUTPUTS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InvalidInputError
from ..policy import DESIGNATION_LABELS
from ..settings import Settings
from ..timings import step
from .ranking import (
    REGION_LAYERS,
    criteria_table,
    eligibility_counts,
    gate_table,
    grid_node_provenance,
    head_columns,
    load_layers,
    national_percentile,
    penalty_table,
    rank_regions,
    result_provenance,
    tail_columns,
)
from .ranking import region_profile as load_region_profile

EVIDENCE = {
    "evidence_grid": "Grid connection letter (NG/NESO/TO) or behind-the-meter plan",
    "evidence_water": "Water company letter",
    "evidence_land_control": "Land control",
    "evidence_planning": "Planning status",
}
"""The applicant's evidence flags: claims, shown as such and never verified here."""


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
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat())
    gate_sensitivity: pd.DataFrame | None = None
    grid_nodes: dict[str, Any] | None = None  # GridNodes.provenance(): counts and unresolved lists
    settings: Settings | None = None  # where the map libraries come from (cache, mirror, offline)
    missing_checks: list[Any] = field(default_factory=list)
    """Checks that could not run (:class:`~growth_zones.workflows.missing.MissingCheck`): already
    marked on the affected rows of ``checks``; also in the sidecar and the report banner."""

    OUTPUTS: ClassVar[dict[str, str]] = {
        "csv": "assessment.csv",
        "checks": "checks.csv",
        "rejected": "rejected.csv",
        "warnings": "warnings.csv",
        "provenance": "assessment.provenance.json",
        "gate_sensitivity": "assessment.gate_sensitivity.csv",
        "gpkg": "assessment.gpkg",
        "parquet": "assessment.parquet",
        "html": "report",
        "png": "figures",
    }
    """Every file (or folder: ``report/``, ``figures/``) :meth:`write` can produce, by format. The
    CSVs and the provenance sidecar are always written; ``gpkg``, ``parquet``, ``html`` and ``png``
    on request."""
    ALWAYS: ClassVar[tuple[str, ...]] = ("csv", "checks", "rejected", "warnings", "provenance")
    DEFAULT_FORMATS: ClassVar[tuple[str, ...]] = ("csv", "gpkg")

    @classmethod
    def check_out(cls, out: str | Path, *, overwrite: bool = False) -> None:
        """Raise :class:`~growth_zones.errors.InvalidInputError` now, before any work, when
        :meth:`write` could not write into ``out`` (a file, or earlier outputs without
        ``overwrite``)."""
        from .outputs import OutputSet

        OutputSet(Path(out), cls.OUTPUTS.values(), overwrite=overwrite).check()

    def eligibility_counts(self) -> dict[str, int]:
        """``{"eligible": n, "unknown": n, "excluded": n}`` over the assessed sites."""
        return eligibility_counts(self.table)

    def criteria(self) -> list[dict[str, Any]]:
        return criteria_table(self.profile)

    def shortlist(self, min_score: float = 0.0) -> AssessmentResult:
        """The applications a committee can take forward, as a result of their own (its
        :meth:`write` writes only them, with their checks and warnings):

        * ``deliverable == "pass"``: every gate passes (a failed *or unknown* gate is out),
        * eligible: no hard exclusion hits and none went unchecked (an ``eligibility`` column, where
          the table has one, must say ``eligible``; else the boolean ``eligible``),
        * ``score >= min_score``.

        Ranks stay those of the full assessment. The rule and the counts go into ``notes`` (and so
        into the provenance sidecar); the gate sensitivity of the full set is not carried over.
        """
        t = self.table
        deliverable = (
            t["deliverable"].astype("string").str.lower().eq("pass").fillna(False).to_numpy(dtype=bool)
            if "deliverable" in t
            else np.zeros(len(t), dtype=bool)
        )
        if "eligibility" in t:
            eligible = t["eligibility"].astype("string").str.lower().eq("eligible").fillna(False)
        else:
            eligible = t["eligible"].astype("boolean").fillna(False)
        score = pd.to_numeric(t["score"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            keep = deliverable & eligible.to_numpy(dtype=bool) & (score >= float(min_score))
        ids = t.index[keep]
        elig_words = "are eligible with every exclusion checked" if "eligibility" in t else "are not excluded"
        rule = (
            f"shortlist: {int(keep.sum())} of {len(t)} assessed applications pass every gate "
            f"(deliverable = pass), {elig_words} and score >= {min_score:g}"
        )

        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            if "id" not in frame:
                return frame.iloc[0:0]
            return frame[frame["id"].isin(ids)].reset_index(drop=True)

        return replace(
            self,
            table=t.loc[ids],
            checks=rows(self.checks),
            rejected=self.rejected.iloc[0:0],
            warnings=rows(self.warnings),
            notes=[*self.notes, rule],
            gate_sensitivity=None,
            missing_checks=list(self.missing_checks),
        )

    def gates(self) -> list[dict[str, Any]]:
        return gate_table(self.profile)

    def write(
        self,
        out: str | Path,
        *,
        formats: Iterable[str] = DEFAULT_FORMATS,
        overwrite: bool = False,
        cdn: bool = False,
    ) -> dict[str, Path]:
        """Write the assessment into ``out``: ``assessment.csv``, ``checks.csv``, ``rejected.csv``,
        ``warnings.csv`` and the provenance sidecar always (and ``assessment.gate_sensitivity.csv``
        when the profile has gates), plus any of ``formats`` (``gpkg``, ``parquet`` (GeoParquet),
        ``html`` (``report/``: ``index.html``, one page per site, ``briefs.html`` with one printable
        A4 brief per site, and the shared ``assets/``; works with no network), ``png``
        (``figures/``: ``overview.png`` and ``sites/<id>.png`` per site)).

        Refuses to replace earlier assessment outputs unless ``overwrite``; with it the whole
        previous set (report pages included) is replaced. ``cdn``: link the map libraries from
        their CDN instead of bundling them. Returns the paths by format.
        """
        from .outputs import OutputSet, provenance_record, write_csv, write_geoparquet, write_gpkg, write_json
        from .ranking import check_formats

        wanted = check_formats(formats, self.OUTPUTS) | set(self.ALWAYS)
        names = self.OUTPUTS
        table = self.table.reset_index()
        with step("write outputs"), OutputSet(Path(out), names.values(), overwrite=overwrite) as stage:
            sidecar = provenance_record(
                kind="assessment",
                profile=self.profile,
                provenance=self.provenance,
                generated_at=self.generated_at,
                extra={
                    "input_count": self.input_count,
                    "assessed": len(table),
                    "rejected": len(self.rejected),
                    **result_provenance(self.profile, self.gate_sensitivity, self.grid_nodes),
                    "notes": self.notes,
                    "missing_checks": [m.to_dict() for m in self.missing_checks],
                },
            )
            if self.gate_sensitivity is not None:
                write_csv(self.gate_sensitivity, stage / names["gate_sensitivity"])
            with step("assessment.csv"):
                write_csv(table, stage / names["csv"])
            with step("checks.csv"):
                write_csv(self.checks, stage / names["checks"])
            write_csv(self.rejected, stage / names["rejected"])
            write_csv(self.warnings, stage / names["warnings"])
            with step("provenance"):
                write_json(sidecar, stage / names["provenance"])
            if len(table):
                if "gpkg" in wanted:
                    with step("assessment.gpkg"):
                        write_gpkg(table, stage / names["gpkg"], layer="assessment")
                if "parquet" in wanted:
                    write_geoparquet(table, stage / names["parquet"])
            overlays: dict[str, Any] = {}
            if wanted & {"html", "png"} and self.layers is not None:
                from .render import report_overlays

                overlays = report_overlays(self.layers, applications=self.table)
            if "png" in wanted and len(table):
                from ..report.static import assessment_pngs

                assessment_pngs(
                    self.table,
                    out_dir=stage / names["png"],
                    checks=self.checks,
                    overlays=overlays,
                    provenance=self.provenance,
                    profile_title=self.profile.title,
                    generated_at=self.generated_at,
                    criteria=self.criteria(),
                    penalties=penalty_table(self.profile),
                )
            if "html" in wanted:
                from ..report import render_assessment_report
                from .render import map_libraries

                render_assessment_report(
                    self.table,
                    out_dir=stage / names["html"],
                    checks=self.checks,
                    rejected=self.rejected,
                    criteria=self.criteria(),
                    overlays=overlays,
                    provenance=self.provenance,
                    profile_title=self.profile.title,
                    generated_at=self.generated_at,
                    libraries=map_libraries(self.settings, cdn=cdn),
                    missing_checks=self.missing_checks,
                    penalties=penalty_table(self.profile),
                )
        paths = {
            fmt: Path(out) / name
            for fmt, name in names.items()
            if (fmt in wanted or fmt == "gate_sensitivity") and (Path(out) / name).exists()
        }
        if "html" in paths:
            paths["html"] = paths["html"] / "index.html"
        if "png" in paths:
            paths["png"] = paths["png"] / "overview.png"
        return paths


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
    rules: Any = None,
) -> AssessmentResult:
    """Assess every application in ``applications`` (GeoJSON, GeoPackage, Shapefile or CSV).

    ``input_crs`` states the CRS of a file that has none (CSV WKT, GeoJSON without ``crs``);
    ``layer`` picks a GeoPackage layer; ``rules`` (:class:`~growth_zones.workflows.applications.
    ApplicationRules`) sets the row checks' limits (part gap, share on land, text size).
    """
    import scoring

    from ..indicators import IndicatorSettings, site_designation_checks, site_indicators
    from .applications import read_applications

    # everything the user typed is checked before any data is touched
    prof = (
        profile
        if isinstance(profile, scoring.Profile)
        else scoring.load_profile(str(profile), indicators=list(_site_indicator_names()))
    )
    regional = load_region_profile(region_profile)
    path = Path(applications)
    if not path.exists():
        raise InvalidInputError(f"applications file not found: {path}")
    if layers is None:
        with step("load layers"):
            layers, store = load_layers(settings)
    ind_settings = indicator_settings or IndicatorSettings()
    with step("read and check the applications"):
        batch = read_applications(path, land=gb_land(layers), input_crs=input_crs, layer=layer, rules=rules)
    with step("national ranking (each site's local authority)"):
        national = rank_regions(profile=regional, layers=layers, store=store, indicator_settings=ind_settings)
        percentile = national_percentile(national.table.set_index("code"))
    sites = batch.sites
    gates = None
    notes = list(batch.notes)
    if len(sites):
        with step("site indicators"):
            ind = site_indicators(sites, layers, ind_settings, region_percentile=percentile)
        with step("score"):
            result = scoring.score(ind.values, prof, reasons=ind.reasons, context=ind.extra)
        with step("gate sensitivity"):
            if prof.gates:
                gates = scoring.gate_sensitivity(ind.values, prof, reasons=ind.reasons, context=ind.extra)
        with step("designation checks"):
            designation = site_designation_checks(sites, layers, ind_settings, presence=ind.presence)
        with step("assemble the table and checks"):
            table = _assemble(sites, ind, result.table)
            checks = _checks(table, designation, ind_settings, prof)
        notes += list(result.notes)
        with step("checks that could not run"):
            missing, checks = _missing(layers, sites, prof, ind, store, ind_settings, designation, checks)
    else:
        table = gpd.GeoDataFrame(sites.copy())
        checks = pd.DataFrame(columns=["id", "check", "status", "detail"])
        missing = []
    provenance = store.provenance_for_layers(REGION_LAYERS) if store is not None else []
    return AssessmentResult(
        table,
        checks,
        batch.rejected,
        batch.warnings,
        batch.input_count,
        prof,
        provenance,
        notes,
        layers,
        gate_sensitivity=gates,
        grid_nodes=grid_node_provenance(layers, store, ind_settings),
        settings=store.settings if store is not None else settings,
        missing_checks=missing,
    )


def _missing(
    layers: Any,
    sites: gpd.GeoDataFrame,
    prof: Any,
    ind: Any,
    store: Any,
    ind_settings: Any,
    designation: pd.DataFrame,
    checks: pd.DataFrame,
) -> tuple[list[Any], pd.DataFrame]:
    """The checks that could not run, and ``checks`` with their rows marked."""
    from .missing import apply_to_checks, designation_inputs, missing_checks

    missing = missing_checks(
        layers,
        [str(i) for i in sites.index],
        profile=prof,
        indicators=ind,
        catalogue=getattr(store, "catalogue", None),
        designations_of=designation_inputs(ind_settings, "site"),
        designation_status=designation,
        nations=ind.extra["nation"] if "nation" in ind.extra else None,
    )
    return missing, apply_to_checks(checks, missing)


def _site_indicator_names() -> list[str]:
    from ..indicators import SITE_INDICATORS

    return list(SITE_INDICATORS)


def _assemble(sites: gpd.GeoDataFrame, ind: Any, scores: pd.DataFrame) -> gpd.GeoDataFrame:
    head = head_columns(scores)
    contrib = tail_columns(scores)
    base = sites.drop(columns=sites.geometry.name)
    base = base.drop(columns=[c for c in base.columns if c in ind.values.columns or c in ind.extra.columns])
    names = [c for c in ("name",) if c in base.columns]
    table = pd.concat(
        [base[names], scores[head], base.drop(columns=names), ind.values, ind.extra, scores[contrib]], axis=1
    )
    table.index.name = "id"
    # the point the point-based indicators (local authority, nation, population, round-trip time)
    # are taken at: the same representative point the indicators use, inside the boundary
    from ..indicators._geo import representative_points

    ref = representative_points(np.asarray(sites.geometry.reindex(table.index).values, dtype=object))
    table["ref_easting"] = shapely.get_x(ref)
    table["ref_northing"] = shapely.get_y(ref)
    out = gpd.GeoDataFrame(table, geometry=sites.geometry.reindex(table.index).values, crs=sites.crs)
    return out.sort_values(["rank"], kind="stable")


def _year(value: Any) -> str:
    """A target year as written in the application ('?' when not given)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "?"
    return str(int(value))


def _status(value: Any, yes: str = "pass", no: str = "fail", unknown: str = "unknown") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return unknown
    return yes if bool(value) else no


def _statuses(
    table: pd.DataFrame, col: str, yes: str = "pass", no: str = "fail", unknown: str = "unknown"
) -> np.ndarray:
    """:func:`_status` of a whole column at once."""
    n = len(table)
    if col not in table:
        return np.full(n, unknown, dtype=object)
    s = table[col]
    missing = s.isna().to_numpy()
    truthy = np.zeros(n, dtype=bool)
    truthy[~missing] = s[~missing].astype(bool).to_numpy()
    return np.where(missing, unknown, np.where(truthy, yes, no)).astype(object)


def _text_column(table: pd.DataFrame, col: str, default: str) -> np.ndarray:
    """``str(value)`` of every row (``default`` when the column is absent), as ``str(r.get(...))``."""
    if col not in table:
        return np.full(len(table), default, dtype=object)
    return np.asarray([str(v) for v in table[col].astype(object)], dtype=object)


def _number_column(table: pd.DataFrame, col: str) -> np.ndarray:
    if col not in table:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _checks(
    table: gpd.GeoDataFrame, designation: pd.DataFrame, ind_settings: Any, profile: Any
) -> pd.DataFrame:
    """One row per (application, check): DSIT tests (judged on evidence), gates, the applicant's
    claims (labelled as such) and designation checks. Built column by column (an application's
    checks are consecutive rows, in the same order for every application)."""
    n = len(table)
    ha = getattr(ind_settings, "ha_per_100mw", 10.0)
    checks: list[str] = []
    statuses: list[np.ndarray] = []
    details: list[np.ndarray] = []

    def add(check: str, status: np.ndarray, detail: np.ndarray | str) -> None:
        checks.append(check)
        statuses.append(np.asarray(status, dtype=object))
        details.append(np.full(n, detail, dtype=object) if isinstance(detail, str) else detail)

    add(
        "Power: at least 500 MW by 2030 (DSIT), judged on grid evidence",
        _text_column(table, "dsit_power_status", "unverified"),
        _text_column(table, "dsit_power_detail", ""),
    )
    gate_reasons = _text_column(table, "gate_reasons", "")
    for g in profile.gates:
        status = _text_column(table, f"gate_{g.name}", "unknown")
        detail = np.asarray(
            [
                "" if st == "pass" else _gate_detail(rs, g.label)
                for st, rs in zip(status, gate_reasons, strict=True)
            ],
            dtype=object,
        )
        add(f"Gate: {g.label}", status, detail)
    mw = _number_column(table, "mw")
    area = _number_column(table, "site_area_ha")
    need = mw / 100.0 * ha
    add(
        f"Land: enough for the claimed capacity at {ha:g} ha per 100 MW",
        _statuses(table, "land_sufficient"),
        np.asarray(
            [f"site {a:,.1f} ha; needs about {b:,.1f} ha" for a, b in zip(area, need, strict=True)],
            dtype=object,
        ),
    )
    years = table["target_year"].astype(object) if "target_year" in table else pd.Series([None] * n)
    add(
        "Claim (applicant, not verified): at least 500 MW by 2030",
        _statuses(table, "meets_500mw_by_2030", "claimed", "not claimed", "unknown"),
        np.asarray(
            [f"claims {m:,.0f} MW by {_year(y)}" for m, y in zip(mw, years, strict=True)], dtype=object
        ),
    )
    for col, label in EVIDENCE.items():
        add(
            f"Claim (applicant, not verified): {label}",
            _statuses(table, col, "claimed", "not claimed", "unknown"),
            "",
        )
    k = len(checks)
    out = pd.DataFrame(
        {
            "id": np.repeat(table.index.to_numpy(dtype=object), k),
            "check": np.tile(np.asarray(checks, dtype=object), n),
            "status": np.column_stack(statuses).ravel() if n else np.empty(0, dtype=object),
            "detail": np.column_stack(details).ravel() if n else np.empty(0, dtype=object),
        },
        columns=["id", "check", "status", "detail"],
    )
    if len(designation):
        d = designation.rename(columns={"site_id": "id"})
        labels = {x: DESIGNATION_LABELS.get(x, x) for x in d["designation"].unique()}
        d["check"] = "Designation: " + d["designation"].map(labels)
        d["detail"] = _designation_details(d)
        out = pd.concat([out, d[["id", "check", "status", "detail"]]], ignore_index=True)
    return out


def _designation_details(d: pd.DataFrame) -> np.ndarray:
    """:func:`_designation_detail` of every row at once."""
    status = d["status"].to_numpy(dtype=object)
    out = d["reason"].astype(object).map(str).to_numpy(dtype=object)
    present = status == "present"
    out[present] = [f"{float(v):.0%} of the site" for v in d["share"].to_numpy()[present]]
    absent = status == "absent"
    dist = d["distance_km"].to_numpy(dtype=float)[absent]
    out[absent] = ["none in the dataset" if np.isnan(x) else f"nearest {x:,.1f} km away" for x in dist]
    return out


def _gate_detail(reasons: str, label: str) -> str:
    """The part of ``gate_reasons`` about one gate."""
    return "; ".join(p for p in reasons.split("; ") if label in p)


def _designation_detail(r: Any) -> str:
    if r.status == "present":
        return f"{float(r.share):.0%} of the site"
    if r.status == "absent":
        dist = float(r.distance_km)
        return "none in the dataset" if np.isnan(dist) else f"nearest {dist:,.1f} km away"
    return str(r.reason)

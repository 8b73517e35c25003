"""National ranking: every GB local authority scored, explained and tested for sensitivity.

Glue between layers, indicators and the pure scoring engine. :class:`RankingResult` knows the
files it writes (:attr:`RankingResult.OUTPUTS`), so the list lives in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..settings import Settings
from ..timings import step

log = logging.getLogger(__name__)

REGION_LAYERS = (
    "regions",
    "countries",
    "substations",
    "grid_sites",
    "grid_circuit_table",
    "circuits",
    "tec_projects",
    "renewables",
    "landing_points",
    "internet_exchanges",
    "protected_areas",
    "coverage_areas",
    "population_by_region",
    "broadband_by_region",
    "deprivation_by_region",
    "population_grid",
)
"""Canonical layers the national ranking reads (their provenance goes into every output)."""
REQUIRED_LAYERS = ("regions", "countries")


@dataclass
class RankingResult:
    """The ranked regions (``table``, EPSG:27700) plus everything needed to explain them."""

    table: gpd.GeoDataFrame
    scores: Any  # scoring.ScoreResult
    indicators: Any  # growth_zones.indicators.IndicatorTable
    profile: Any  # scoring.Profile
    sensitivity: pd.DataFrame | None
    provenance: list[dict[str, Any]]
    layers: Any = None  # the LayerSet used (for map overlays)
    switch_off: Any = None  # scoring.SwitchOff (with sensitivity): the ranking without each policy criterion
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat())
    gate_sensitivity: pd.DataFrame | None = None
    grid_nodes: dict[str, Any] | None = None  # GridNodes.provenance(): counts and unresolved lists
    settings: Settings | None = None  # where the map libraries come from (cache, mirror, offline)
    missing_checks: list[Any] = field(default_factory=list)
    """Checks that could not run (:class:`~growth_zones.workflows.missing.MissingCheck`), by LAD code;
    in the sidecar and the map's banner."""

    OUTPUTS: ClassVar[dict[str, str]] = {
        "csv": "ranking.csv",
        "gpkg": "ranking.gpkg",
        "provenance": "ranking.provenance.json",
        "gate_sensitivity": "ranking.gate_sensitivity.csv",
        "parquet": "ranking.parquet",
        "html": "ranking.html",
        "png": "ranking.png",
    }
    """Every file :meth:`write` can produce, by format (provenance is always written)."""
    DEFAULT_FORMATS: ClassVar[tuple[str, ...]] = ("csv", "gpkg")

    @classmethod
    def check_out(cls, out: str | Path, *, overwrite: bool = False) -> None:
        """Raise :class:`~growth_zones.errors.InvalidInputError` now, before any work, when
        :meth:`write` could not write into ``out`` (a file, or earlier outputs without
        ``overwrite``)."""
        from .outputs import OutputSet

        OutputSet(Path(out), cls.OUTPUTS.values(), overwrite=overwrite).check()

    def eligibility_counts(self) -> dict[str, int]:
        """``{"eligible": n, "unknown": n, "excluded": n}``: eligible with every hard exclusion
        checked; not fully checked (some exclusion could not be checked); excluded."""
        return eligibility_counts(self.table)

    def switch_off_lines(self, *, show: int = 5) -> list[str]:
        """Plain-text account of the switch-off sensitivity (empty without sensitivity)."""
        return switch_off_lines(self.switch_off_summary(), show=show)

    def criteria(self) -> list[dict[str, Any]]:
        """Criteria in display order with label, unit and effective weight (for reports)."""
        return criteria_table(self.profile)

    def switch_off_summary(self) -> list[dict[str, Any]] | None:
        """Per switched-off criterion: which regions enter and leave the top N (by code and name,
        with their ranks with and without it); ``None`` when sensitivity was not run."""
        if self.switch_off is None:
            return None
        names = self.table.set_index("code")["name"].astype(str).to_dict()
        out = []
        for item in self.switch_off.summary:
            entry = dict(item)
            for key in ("entered", "left", "top_without"):
                entry[key] = [
                    {
                        "code": str(r["id"]),
                        "name": names.get(str(r["id"]), ""),
                        **{k: v for k, v in r.items() if k != "id"},
                    }
                    for r in item[key]
                ]
            out.append(entry)
        return out

    def write(
        self,
        out: str | Path,
        *,
        formats: Iterable[str] = DEFAULT_FORMATS,
        overwrite: bool = False,
        cdn: bool = False,
    ) -> dict[str, Path]:
        """Write the ranking into ``out``: ``ranking.csv`` and the provenance sidecar always (and
        ``ranking.gate_sensitivity.csv`` when the profile has gates), plus any of ``formats``
        (``csv``, ``gpkg``, ``parquet`` (GeoParquet), ``html`` (the national map, self-contained: the
        map libraries are inlined, fetched once into the cache), ``png`` (the national map as an
        image with legend, scale bar, north arrow and attributions)).

        A surface picture already in ``out`` (``surface --out``) becomes a layer of the map.
        Refuses to replace earlier ranking outputs unless ``overwrite``; with it the whole previous
        set is replaced (see :class:`~growth_zones.workflows.outputs.OutputSet`). ``cdn``: link the
        map libraries from their CDN instead (smaller page; needs the network). Returns the paths
        by format.
        """
        from .outputs import OutputSet, provenance_record, write_csv, write_geoparquet, write_gpkg, write_json

        wanted = check_formats(formats, self.OUTPUTS)
        names = self.OUTPUTS
        table = self.table
        with step("write outputs"), OutputSet(Path(out), names.values(), overwrite=overwrite) as stage:
            sidecar = provenance_record(
                kind="ranking",
                profile=self.profile,
                provenance=self.provenance,
                generated_at=self.generated_at,
                extra={
                    "regions": len(table),
                    **result_provenance(self.profile, self.gate_sensitivity, self.grid_nodes),
                    "indicators": {k: vars(v) for k, v in self.indicators.specs.items()},
                    "sensitivity": self.sensitivity is not None,
                    "sections": section_table(self.profile),
                    "switch_off": self.switch_off_summary(),
                    "notes": list(self.scores.notes),
                    "missing_checks": [m.to_dict() for m in self.missing_checks],
                },
            )
            write_csv(table, stage / names["csv"])
            write_json(sidecar, stage / names["provenance"])
            if self.gate_sensitivity is not None:
                write_csv(self.gate_sensitivity, stage / names["gate_sensitivity"])
            if "gpkg" in wanted:
                write_gpkg(table, stage / names["gpkg"], layer="ranking")
            if "parquet" in wanted:
                write_geoparquet(table, stage / names["parquet"])
            overlays: dict[str, Any] = {}
            if wanted & {"html", "png"} and self.layers is not None:
                from .render import report_overlays

                overlays = report_overlays(self.layers)
            if "html" in wanted:
                from ..report import render_national_map
                from .render import map_libraries, surface_overlay

                render_national_map(
                    table,
                    out_path=stage / names["html"],
                    criteria=self.criteria(),
                    sections=section_table(self.profile),
                    overlays=overlays,
                    provenance=self.provenance,
                    profile_title=self.profile.title,
                    generated_at=self.generated_at,
                    libraries=map_libraries(self.settings, cdn=cdn),
                    surface=surface_overlay(out),
                    missing_checks=self.missing_checks,
                )
            if "png" in wanted:
                from ..report.static import national_png

                national_png(
                    table,
                    out_path=stage / names["png"],
                    countries=overlays.get("countries"),
                    provenance=self.provenance,
                    profile_title=self.profile.title,
                    generated_at=self.generated_at,
                )
        return {
            fmt: Path(out) / name
            for fmt, name in names.items()
            if (Path(out) / name).exists()
            and (fmt in wanted or fmt in ("csv", "provenance", "gate_sensitivity"))
        }


def eligibility_counts(table: pd.DataFrame) -> dict[str, int]:
    """Rows by eligibility (eligible / unknown / excluded) of a scored table."""
    out = {"eligible": 0, "unknown": 0, "excluded": 0}
    if "eligibility" in table:
        for k, v in table["eligibility"].astype(str).value_counts().items():
            if k in out:
                out[k] = int(v)
    elif "eligible" in table:
        ok = int(table["eligible"].astype(bool).sum())
        out["eligible"], out["excluded"] = ok, len(table) - ok
    return out


def result_provenance(
    profile: Any, gate_sensitivity: pd.DataFrame | None, grid_nodes: dict[str, Any] | None
) -> dict[str, Any]:
    """What a ranking or an assessment sidecar says about ordering, gates, tiers and grid nodes."""
    import scoring

    out: dict[str, Any] = {"ranking_rule": scoring.RANKING_RULE if profile.gates else "by score"}
    if profile.gates:
        out["gates"] = {
            g.name: {
                "indicator": g.indicator,
                "op": g.op,
                "value": g.value,
                "label": g.label,
                "source": g.source,
            }
            for g in profile.gates
        }
        if gate_sensitivity is not None:
            plain = gate_sensitivity.astype(object).where(gate_sensitivity.notna(), None)
            out["gate_sensitivity"] = plain.to_dict("records")
    if profile.designations:
        out["designation_tiers"] = {
            d.name: {
                "tier": d.tier,
                "penalty": d.penalty,
                "min_share": d.min_share,
                "policy_test": d.policy_test,
                "source": d.source,
                "url": d.url,
            }
            for d in profile.designations
        }
    if grid_nodes is not None:
        out["grid_nodes"] = grid_nodes
    return out


def check_formats(formats: Iterable[str], outputs: dict[str, str]) -> set[str]:
    """The requested formats, validated against what a result can write."""
    wanted = set(formats)
    unknown = wanted - set(outputs)
    if unknown:
        raise InvalidInputError(
            f"unknown output format(s) {sorted(unknown)}; choose from {', '.join(outputs)}"
        )
    return wanted


def switch_off_lines(summary: list[dict[str, Any]] | None, *, show: int = 5) -> list[str]:
    """Plain-text account of the switch-off sensitivity (what the CLI prints)."""
    if not summary:
        return []

    def moves(rows: list[dict[str, Any]]) -> str:
        txt = ", ".join(f"{r['name'] or r['code']} {r['rank']}->{r['rank_without']}" for r in rows[:show])
        return txt + (f" and {len(rows) - show} more" if len(rows) > show else "")

    n = summary[0]["top_n"]
    lines = [
        f"Switch-off sensitivity: each policy/boolean criterion removed in turn (its section's other "
        f"criteria share its weight; an emptied section drops out), effect on the top {n}:"
    ]
    for s in summary:
        head = f"  without {s['label']} (weight {100 * s['weight']:.1f}%): "
        if s["left"]:
            head += (
                f"{len(s['left'])} of the top {n} leave ({moves(s['left'])}); enter: {moves(s['entered'])}"
            )
        else:
            head += f"the top {n} keep their places as a set ({s['top_rows_changed']} of them change rank)"
        lines.append(head + f"; largest rank change {s['max_rank_change']}.")
    return lines


def section_table(profile: Any) -> list[dict[str, Any]]:
    """Sections that hold criteria, in profile order, with label and effective weight (the sum of
    their criteria's effective weights): the ``section_<name>`` columns of the ranking."""
    weights = profile.weights
    return [
        {
            "name": name,
            "label": profile.sections[name].label or name,
            "weight": float(sum(float(weights[c.name]) for c in profile.criteria if c.section == name)),
        }
        for name in profile.scored_sections
    ]


def criteria_table(profile: Any) -> list[dict[str, Any]]:
    weights = profile.weights
    sections = getattr(profile, "sections", {}) or {}
    return [
        {
            "name": c.name,
            "label": c.label or c.name,
            "unit": c.unit,
            "indicator": c.indicator,
            "section": c.section,
            "section_label": getattr(sections.get(c.section), "label", "") or c.section,
            "weight": float(weights.get(c.name, 0.0)),
            "kind": getattr(c.value_function, "type", ""),
        }
        for c in profile.criteria
    ]


def penalty_table(profile: Any) -> list[dict[str, Any]]:
    """The profile's designation tiers that take points off the score (every tier but
    ``exclude``), in profile order: name, label, tier, penalty, share indicator and minimum share;
    the ``penalty_<name>`` columns of a result. Reports show them as rows of the score so the rows
    shown sum to the score."""
    return [
        {
            "name": d.name,
            "label": d.label or d.name,
            "tier": d.tier,
            "penalty": float(d.penalty),
            "indicator": d.indicator,
            "min_share": float(d.min_share),
        }
        for d in getattr(profile, "designations", ()) or ()
        if d.tier != "exclude"
    ]


def gate_table(profile: Any) -> list[dict[str, Any]]:
    """The profile's gates (name, label, source) in order, for reports."""
    return [{"name": g.name, "label": g.label, "source": g.source} for g in profile.gates]


def load_layers(
    settings: Settings | None = None, *, layer_names: tuple[str, ...] = REGION_LAYERS
) -> tuple[Any, Any]:
    """Ensure the layers are stored (pulling on first use) and return ``(LayerSet, Store)``."""
    from ..data.layers import LayerSet
    from ..data.pull import ensure_layers

    store = ensure_layers(layer_names, settings, required=REQUIRED_LAYERS)
    return LayerSet.load(store, names=layer_names), store


def region_profile(profile: str | Any) -> Any:
    """Load and validate a region profile (bundled name, TOML path or ``scoring.Profile``) against
    the region indicators, before any data is touched."""
    import scoring

    from ..indicators import REGION_INDICATORS

    if isinstance(profile, scoring.Profile):
        return profile
    return scoring.load_profile(str(profile), indicators=list(REGION_INDICATORS))


def _indicator_cache_key(store: Any, settings: Any) -> str:
    """Changes whenever an input dataset, the indicator settings or the indicator code changes."""
    import hashlib
    import json
    from pathlib import Path

    from .. import indicators
    from ..data.store import package_version

    h = hashlib.sha256()
    for prov in store.provenance_for_layers(REGION_LAYERS):
        h.update(json.dumps([prov["key"], prov.get("raw_sha256"), prov.get("normalised_at")]).encode())
    h.update(repr(settings).encode())
    h.update(package_version().encode())
    for src in sorted(Path(indicators.__file__).parent.glob("*.py")):
        h.update(src.read_bytes())
    return h.hexdigest()[:24]


def region_indicator_table(layers: Any, store: Any = None, settings: Any = None) -> Any:
    """Region indicators, cached in the store's ``derived/`` folder when a store is given.

    Indicators depend only on the stored layers, the settings and the code, so a planner's second
    run (or ``assess`` after ``rank``) reuses them; the cache key covers all three.
    """
    from ..indicators import REGION_INDICATORS, IndicatorSettings, IndicatorTable, region_indicators

    settings = settings or IndicatorSettings()
    if store is None:
        return region_indicators(layers, settings)
    path = (
        store.settings.cache_dir
        / "derived"
        / f"region_indicators-{_indicator_cache_key(store, settings)}.parquet"
    )
    frame = _read_derived(path) if path.with_suffix(".grid_nodes.json").exists() else None
    if frame is not None:

        def pick(prefix: str) -> pd.DataFrame:
            part = frame[[c for c in frame.columns if c.startswith(prefix)]]
            return part.rename(columns=lambda c: c[len(prefix) :])

        values = pick("v:")
        for col in values.columns:
            if str(values[col].dtype) == "boolean" or values[col].dtype == bool:
                values[col] = values[col].astype("boolean")
        reasons = pick("r:").astype(object)  # as region_indicators builds them
        return IndicatorTable(values, reasons, dict(REGION_INDICATORS), pick("x:"), settings)
    table = region_indicators(layers, settings)
    frame = pd.concat(
        [table.values.add_prefix("v:"), table.reasons.add_prefix("r:"), table.extra.add_prefix("x:")], axis=1
    )
    from ..indicators import grid_nodes
    from .outputs import write_json, write_parquet

    write_json(grid_nodes(layers).provenance(), path.with_suffix(".grid_nodes.json"))
    write_parquet(frame, path)
    return table


def _read_derived(path: Any) -> pd.DataFrame | None:
    """A derived cache file, or ``None`` when absent or unreadable (then it is deleted, named in one
    line, and the caller recomputes it: a derived file is never trusted over its inputs)."""
    import time

    from ..data.atomic import part_files

    for stray in part_files(path.parent):  # left by a killed run; a live writer renames within seconds
        try:
            if time.time() - stray.stat().st_mtime > 3600:
                stray.unlink(missing_ok=True)
        except OSError:
            pass
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
        if not all(isinstance(c, str) and c[:2] in ("v:", "r:", "x:") for c in frame.columns):
            raise ValueError("unexpected columns")
        return frame
    except Exception as err:  # noqa: BLE001 - any reader error means a damaged cache file
        log.warning("derived cache %s is unreadable (%s: %s); recomputing it", path, type(err).__name__, err)
        path.unlink(missing_ok=True)
        return None


def grid_node_provenance(layers: Any, store: Any = None, settings: Any = None) -> dict[str, Any]:
    """Counts and lists of the grid-node resolution (cached beside the region indicators)."""
    import json

    from ..indicators import IndicatorSettings, grid_nodes

    if store is not None:
        key = _indicator_cache_key(store, settings or IndicatorSettings())
        path = store.settings.cache_dir / "derived" / f"region_indicators-{key}.grid_nodes.json"
        if path.exists():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(doc, dict):
                    return doc
                raise ValueError("not a JSON object")
            except (OSError, ValueError, RecursionError) as err:
                log.warning("derived cache %s is unreadable (%s); recomputing it", path, err)
    return grid_nodes(layers).provenance()


def national_percentile(ranking: pd.DataFrame) -> pd.Series:
    """Percentile of each region's rank among all regions: 1.0 = best, 0.0 = worst."""
    n = len(ranking)
    if n <= 1:
        return pd.Series(1.0, index=ranking.index)
    return 1.0 - (ranking["rank"].astype(float) - 1.0) / (n - 1.0)


def rank_regions(
    *,
    settings: Settings | None = None,
    profile: str | Any = "aigz",
    sensitivity_draws: int = 0,
    seed: int = 0,
    top_n: int = 10,
    indicator_settings: Any = None,
    layers: Any = None,
    store: Any = None,
) -> RankingResult:
    """Rank every GB local authority of the stored boundary vintage under ``profile``.

    ``profile`` is a bundled name, a path to a TOML profile, or a ``scoring.Profile``.
    ``sensitivity_draws`` > 0 adds ``rank_p05``/``rank_p50``/``rank_p95``/``p_top10`` from Dirichlet
    weight perturbation (seeded).
    """
    import scoring

    from ..indicators import IndicatorSettings

    prof = region_profile(profile)  # a mistyped profile fails here, before any download
    if layers is None:
        with step("load layers"):
            layers, store = load_layers(settings)
    ind_settings = indicator_settings or IndicatorSettings()
    with step("region indicators"):
        ind = region_indicator_table(layers, store, ind_settings)
    with step("score"):
        result = scoring.score(ind.values, prof, reasons=ind.reasons, context=ind.extra)
    sens = switched = None
    if sensitivity_draws > 0:
        with step("sensitivity (weight draws, switch-off)"):
            sens = scoring.sensitivity(
                ind.values,
                prof,
                n_draws=sensitivity_draws,
                seed=seed,
                top_n=top_n,
                reasons=ind.reasons,
                context=ind.extra,
            )
            switched = scoring.switch_off(
                ind.values, prof, top_n=top_n, reasons=ind.reasons, context=ind.extra
            )
            sens = sens.join(switched.ranks)
    with step("gate sensitivity"):
        gates = (
            scoring.gate_sensitivity(ind.values, prof, top_n=top_n, reasons=ind.reasons, context=ind.extra)
            if prof.gates
            else None
        )
    with step("assemble the table"):
        regions = layers.regions.set_index("code")
        table = _assemble(regions, ind, result.table, sens)
        provenance = store.provenance_for_layers(REGION_LAYERS) if store is not None else []
        nodes = grid_node_provenance(layers, store, ind_settings)
    from .missing import designation_inputs, missing_checks

    missing = missing_checks(
        layers,
        [str(c) for c in table["code"]],
        profile=prof,
        indicators=ind,
        catalogue=getattr(store, "catalogue", None),
        designations_of=designation_inputs(ind.settings, "region"),
        nations=regions["nation"] if "nation" in regions else None,
    )
    return RankingResult(
        table,
        result,
        ind,
        prof,
        sens,
        provenance,
        layers,
        gate_sensitivity=gates,
        grid_nodes=nodes,
        switch_off=switched,
        settings=store.settings if store is not None else settings,
        missing_checks=missing,
    )


HEAD_COLUMNS = (
    "rank",
    "deliverable",
    "gate_reasons",
    "score",
    "eligibility",
    "eligible",
    "excluded_by",
    "exclusions_not_checked",
    "designation_flags",
    "missing",
)
"""The first columns of ranking.csv and assessment.csv: rank, then deliverability (the first sort
key), then the score (the second), then eligibility (eligible / excluded / unknown, with the
exclusions that could not be checked; ``eligible`` is the older boolean: no exclusion applies)."""


def head_columns(scores: pd.DataFrame) -> list[str]:
    """:data:`HEAD_COLUMNS` present in ``scores``, the score by section (``section_<name>``), then
    the per-gate status columns."""
    return (
        [c for c in HEAD_COLUMNS if c in scores.columns]
        + [c for c in scores.columns if c.startswith("section_")]  # the score by section
        + [c for c in scores.columns if c.startswith("gate_") and c != "gate_reasons"]
    )


def tail_columns(scores: pd.DataFrame) -> list[str]:
    """Per-criterion values and contributions, then the designation penalties (they sum to score)."""
    return [c for c in scores.columns if c.startswith(("contrib_", "value_", "penalty_"))]


def _assemble(
    regions: gpd.GeoDataFrame, ind: Any, scores: pd.DataFrame, sens: pd.DataFrame | None
) -> gpd.GeoDataFrame:
    head = head_columns(scores)
    contrib = tail_columns(scores)
    parts = [regions[["name", "nation"]], scores[head]]
    if sens is not None:
        parts.append(sens[[c for c in sens.columns if c.startswith(("rank_", "p_top"))]])
    parts.append(ind.values)
    extra = ind.extra.drop(columns=[c for c in ("name", "nation") if c in ind.extra.columns], errors="ignore")
    if len(extra.columns):
        parts.append(extra)
    parts.append(scores[contrib])
    table = pd.concat(parts, axis=1, join="inner")
    table.index.name = "code"
    table = table.reset_index()
    geom = regions.geometry.reindex(table["code"]).values
    out = gpd.GeoDataFrame(table, geometry=np.asarray(geom), crs=regions.crs)
    return out.sort_values(["rank", "code"]).reset_index(drop=True)

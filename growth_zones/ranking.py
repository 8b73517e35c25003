"""National ranking: every GB local authority scored, explained and tested for sensitivity.

Glue between layers, indicators and the pure scoring engine; writing files is in ``outputs``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .settings import Settings

log = logging.getLogger(__name__)

REGION_LAYERS = (
    "regions", "countries", "substations", "circuits", "tec_projects", "renewables", "landing_points",
    "internet_exchanges", "protected_areas", "coverage_areas", "population_by_region", "broadband_by_region",
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
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0).isoformat())

    def criteria(self) -> list[dict[str, Any]]:
        """Criteria in display order with label, unit and effective weight (for reports)."""
        return criteria_table(self.profile)


def criteria_table(profile: Any) -> list[dict[str, Any]]:
    weights = profile.weights
    return [
        {"name": c.name, "label": c.label or c.name, "unit": c.unit, "indicator": c.indicator,
         "section": c.section, "weight": float(weights.get(c.name, 0.0))}
        for c in profile.criteria
    ]


def load_layers(settings: Settings | None = None, *, layer_names: tuple[str, ...] = REGION_LAYERS) -> tuple[Any, Any]:
    """Ensure the layers are stored (pulling on first use) and return ``(LayerSet, Store)``."""
    from .indicators import LayerSet
    from .pull import ensure_layers

    store = ensure_layers(layer_names, settings, required=REQUIRED_LAYERS)
    return LayerSet.from_store(store), store


def _indicator_cache_key(store: Any, settings: Any) -> str:
    """Changes whenever an input dataset, the indicator settings or the indicator code changes."""
    import hashlib
    import json
    from pathlib import Path

    from . import indicators
    from .store import package_version

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
    from .indicators import REGION_INDICATORS, IndicatorSettings, IndicatorTable, region_indicators

    settings = settings or IndicatorSettings()
    if store is None:
        return region_indicators(layers, settings)
    path = store.settings.cache_dir / "derived" / f"region_indicators-{_indicator_cache_key(store, settings)}.parquet"
    if path.exists():
        frame = pd.read_parquet(path)
        pick = lambda prefix: frame[[c for c in frame.columns if c.startswith(prefix)]].rename(  # noqa: E731
            columns=lambda c: c[len(prefix):])
        values = pick("v:")
        for col in values.columns:
            if str(values[col].dtype) == "boolean" or values[col].dtype == bool:
                values[col] = values[col].astype("boolean")
        reasons = pick("r:").astype(object)  # as region_indicators builds them
        return IndicatorTable(values, reasons, dict(REGION_INDICATORS), pick("x:"), settings)
    table = region_indicators(layers, settings)
    frame = pd.concat([table.values.add_prefix("v:"), table.reasons.add_prefix("r:"),
                       table.extra.add_prefix("x:")], axis=1)
    from .outputs import write_parquet

    write_parquet(frame, path)
    return table


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

    from .indicators import IndicatorSettings

    if layers is None:
        layers, store = load_layers(settings)
    ind = region_indicator_table(layers, store, indicator_settings or IndicatorSettings())
    prof = profile if isinstance(profile, scoring.Profile) else scoring.load_profile(
        str(profile), indicators=list(ind.values.columns))
    result = scoring.score(ind.values, prof, reasons=ind.reasons)
    sens = None
    if sensitivity_draws > 0:
        sens = scoring.sensitivity(ind.values, prof, n_draws=sensitivity_draws, seed=seed, top_n=top_n,
                                   reasons=ind.reasons)
    regions = layers.regions.set_index("code")
    table = _assemble(regions, ind, result.table, sens)
    provenance = store.provenance_for_layers(REGION_LAYERS) if store is not None else []
    return RankingResult(table, result, ind, prof, sens, provenance, layers)


def _assemble(regions: gpd.GeoDataFrame, ind: Any, scores: pd.DataFrame, sens: pd.DataFrame | None) -> gpd.GeoDataFrame:
    head = ["score", "rank", "eligible", "excluded_by", "missing"]
    contrib = [c for c in scores.columns if c.startswith(("contrib_", "value_"))]
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

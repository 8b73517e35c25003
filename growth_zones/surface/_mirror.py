"""Build a LayerSet straight from a mirror directory by calling the normalisers (no store/cache).

Used by the surface benchmark and the data-marked integration test; the CLI goes through the store.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

SURFACE_LAYERS = ("regions", "countries", "substations", "circuits", "landing_points", "internet_exchanges",
                  "protected_areas", "coverage_areas", "population_grid")


def default_mirror() -> Path:
    """GROWTH_ZONES_MIRROR, else ``<repo>/../shared/data``."""
    env = os.environ.get("GROWTH_ZONES_MIRROR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _normalise(key: str, cat: dict[str, Any], mirror: Path, done: dict[str, Any]) -> Any:
    from ..loaders import RawInput, get_normaliser

    if key in done:
        return done[key]
    ds = cat[key]
    deps = {dep: _normalise(dep, cat, mirror, done).frame for dep in ds.requires}
    raw = RawInput(dataset=ds, paths=[mirror / p for p in ds.mirror_paths], deps=deps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = get_normaliser(ds.normaliser)(raw)
    done[key] = out
    return out


def load_layers(mirror: Path | None = None, layers: tuple[str, ...] = SURFACE_LAYERS) -> Any:
    """A ``growth_zones.indicators.layers.LayerSet`` (GB only) built from the raw mirror files."""
    from ..catalogue import datasets_for_layer, load_catalogue
    from ..indicators.layers import LayerSet, build_designation_coverage

    mirror = Path(mirror or default_mirror())
    cat = load_catalogue()
    done: dict[str, Any] = {}
    frames: dict[str, Any] = {}
    for name in layers:
        parts = []
        for ds in datasets_for_layer(name, cat):
            norm = _normalise(ds.key, cat, mirror, done)
            if name == "population_grid":
                frames[name] = norm.raster
                break
            if norm.frame is not None and len(norm.frame):
                parts.append(norm.frame)
        if name != "population_grid" and parts:
            if len(parts) == 1:
                frames[name] = parts[0]
            else:
                frames[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    coverage_areas = frames.pop("coverage_areas", None)
    ls = LayerSet(**{k: v for k, v in frames.items() if k in LayerSet.layer_names()}).gb_only()
    if ls.protected_areas is not None:
        ls.designation_coverage = build_designation_coverage(ls.protected_areas, coverage_areas, ls.regions,
                                                             ls.countries, catalogue=cat)
    return ls

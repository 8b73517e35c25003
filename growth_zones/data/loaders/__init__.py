"""Normalisers: one small function per catalogue entry that turns the raw published file(s)
into a canonical layer (see ``growth_zones.data.schemas``) in EPSG:27700.

Contract: ``normalise_<x>(raw: RawInput) -> Normalised``. A normaliser never downloads (the
fetcher has already put the raw files on disk) and never writes (the store does). It checks the raw
columns/CRS against the catalogue entry first (``growth_zones._validate``), so a changed upstream
format fails with a message naming the dataset, what was expected and what was found.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ...errors import CatalogueError
from ..catalogue import Dataset
from ..crs import TransformRecord


@dataclass
class RasterData:
    """A single-band raster in EPSG:27700: array plus a rasterio profile (transform, nodata, dtype)."""

    array: np.ndarray
    profile: dict[str, Any]


@dataclass
class RawInput:
    """What a normaliser receives: its catalogue entry, the raw files (the mirror copy's files in
    ``mirror_path`` order, or the one official download), the already-normalised frames of the
    datasets it ``requires``, and whether the files are the catalogue's pinned mirror copy (an
    older release or a sample, see ``Dataset.mirror_copy``)."""

    dataset: Dataset
    paths: list[Path]
    deps: dict[str, pd.DataFrame] = field(default_factory=dict)
    mirror_copy: bool = False

    @property
    def path(self) -> Path:
        return self.paths[0]

    @property
    def source(self) -> str:
        """What a reader opens: the file, or the catalogue's ``member`` inside a zip (GDAL path)."""
        if self.path.suffix.lower() == ".zip":
            if not self.dataset.member:
                from ...errors import SchemaError

                raise SchemaError(f"dataset {self.dataset.key}: a zip download needs the catalogue's member")
            return f"/vsizip/{self.path}/{self.dataset.member}"
        return str(self.path)

    @property
    def source_crs(self) -> str | None:
        """CRS the raw coordinates must be in: the mirror copy's own when it differs."""
        mc = self.dataset.mirror_copy
        if self.mirror_copy and mc is not None and mc.source_crs is not None:
            return mc.source_crs
        return self.dataset.source_crs

    @property
    def columns(self) -> tuple[str, ...]:
        """Raw columns the file must have: the mirror copy's own list when it differs."""
        mc = self.dataset.mirror_copy
        if self.mirror_copy and mc is not None and mc.columns is not None:
            return mc.columns
        return self.dataset.columns


@dataclass
class Normalised:
    """A normaliser's output. ``notes`` are counts for provenance: ``rows_in``, ``rows_out``,
    ``repaired_geometries``, ``dropped`` (reason -> count), anything else worth recording."""

    frame: pd.DataFrame | gpd.GeoDataFrame | None = None
    raster: RasterData | None = None
    transform: TransformRecord | None = None
    notes: dict[str, Any] = field(default_factory=dict)


Normaliser = Callable[[RawInput], Normalised]


def get_normaliser(spec: str) -> Normaliser:
    """Resolve ``"module:function"`` under ``growth_zones.data.loaders``."""
    module_name, _, func_name = spec.partition(":")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
        return getattr(module, func_name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as err:
        raise CatalogueError(f"normaliser {spec!r} not found in growth_zones.data.loaders: {err}") from err

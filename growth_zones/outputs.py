"""Writing results: CSV for spreadsheets, GeoPackage for GIS, GeoParquet on request, and a JSON
provenance sidecar naming every dataset (vintage, licence, hash) and the profile that went in.

Each file is written to a temp name and renamed, so an interrupted run never leaves a half file
that looks finished.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .errors import InvalidInputError
from .store import package_version


def _tmp_for(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL refuses to "create" over an existing empty file
    return Path(tmp)


def _publish(tmp: Path, dest: Path) -> Path:
    os.replace(tmp, dest)
    return dest


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL/CSV can hold: nullable booleans become 'true'/'false'/'' text-free floats."""
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        dtype = out[col].dtype
        if str(dtype) == "boolean":
            out[col] = out[col].astype("float64")
        elif str(dtype) in ("Int64", "Int32"):
            out[col] = out[col].astype("float64")
        elif dtype == object or str(dtype).startswith("str"):
            out[col] = out[col].astype("string").fillna("").astype(str)
    return out


def write_csv(frame: pd.DataFrame, dest: Path) -> Path:
    tmp = _tmp_for(dest)
    plain = frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame
    _flat(pd.DataFrame(plain)).to_csv(tmp, index=False)
    return _publish(tmp, dest)


def write_gpkg(frame: gpd.GeoDataFrame, dest: Path, layer: str) -> Path:
    tmp = _tmp_for(dest)
    _flat(frame).to_file(tmp, layer=layer, driver="GPKG")
    return _publish(tmp, dest)


def write_geoparquet(frame: gpd.GeoDataFrame, dest: Path) -> Path:
    tmp = _tmp_for(dest)
    _flat(frame).to_parquet(tmp, index=False)
    return _publish(tmp, dest)


def write_parquet(frame: pd.DataFrame, dest: Path) -> Path:
    """A plain (non-geo) table, dtypes kept as they are (nullable booleans included)."""
    tmp = _tmp_for(dest)
    frame.to_parquet(tmp)
    return _publish(tmp, dest)


def write_json(obj: Any, dest: Path) -> Path:
    tmp = _tmp_for(dest)
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return _publish(tmp, dest)


def provenance_record(*, kind: str, profile: Any, provenance: list[dict[str, Any]], generated_at: str,
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sidecar: what went in (datasets with vintage, licence, hash) and how it was scored."""
    return {
        "kind": kind,
        "generated_at": generated_at,
        "package_version": package_version(),
        "profile": profile.to_dict() if hasattr(profile, "to_dict") else str(profile),
        "datasets": [
            {k: p.get(k) for k in ("key", "title", "publisher", "vintage", "licence", "licence_url", "attribution",
                                   "non_commercial", "source_urls", "raw_sha256", "retrieved_at",
                                   "crs_transformation")}
            for p in provenance
        ],
        "non_commercial_datasets": [p["key"] for p in provenance if p.get("non_commercial")],
        **(extra or {}),
    }


def prepare_out_dir(out: Path, names: list[str], *, overwrite: bool) -> Path:
    """Refuse to clobber earlier results unless ``overwrite`` (the rasterio CLI convention)."""
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise InvalidInputError(
            f"{out} already holds {', '.join(existing)}; pass --overwrite to replace them or choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out

"""Small private helpers shared by the normalisers: reading raw files the same way everywhere,
parsing voltages, and assembling the ``Normalised`` result (schema columns, notes, final check)."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ...errors import SchemaError
from ..crs import TransformRecord
from ..schemas import LAYERS
from ..validate import check_layer, repair_geometries, require_crs
from . import Normalised, RawInput

NATION_BY_PREFIX = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}
NONE_TRANSFORM = "none (already EPSG:27700)"


def read_csv(path: Path | Any, **kwargs: Any) -> pd.DataFrame:
    """Publisher CSVs often carry a UTF-8 BOM; reading with utf-8-sig keeps the first header clean."""
    kwargs.setdefault("encoding", "utf-8-sig")
    return pd.read_csv(path, **kwargs)


def read_table(raw: RawInput, **kwargs: Any) -> pd.DataFrame:
    """A published table as the catalogue describes it: CSV or ``.xlsx`` (by the raw file's
    suffix), either possibly inside a zip (the catalogue's ``member``). CSV text uses the
    catalogue's ``encoding`` (default UTF-8 with or without BOM); ``kwargs`` go to the CSV reader."""
    import zipfile

    ds = raw.dataset
    path = raw.path
    if path.suffix.lower() == ".zip":
        member = ds.member or ""
        with zipfile.ZipFile(path) as zf:
            if member not in zf.namelist():
                raise SchemaError(f"dataset {ds.key}: {path.name} has no member {member!r}")
            data = zf.read(member)
        if member.lower().endswith(".xlsx"):
            return read_xlsx(io.BytesIO(data), raw)
        return read_csv(io.BytesIO(data), encoding=ds.encoding or "utf-8-sig", **kwargs)
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(path, raw)
    encoding = ds.encoding if ds.encoding and not raw.mirror_copy else "utf-8-sig"
    return read_csv(path, encoding=encoding, **kwargs)


def read_xlsx(source: Path | io.BytesIO, raw: RawInput) -> pd.DataFrame:
    """The catalogue's ``sheets`` of a workbook, header on row ``header_row`` (0-based; rows above
    it are titles), stacked into one table. With ``sheet_column`` each row gets its sheet's label
    there (e.g. the transmission owner of an ETYS sheet) and ``source_table`` the sheet name. Fully
    empty rows (separators) are dropped. A missing sheet fails naming the sheets the file has."""
    import openpyxl

    ds = raw.dataset
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - openpyxl raises several unrelated types
        raise SchemaError(
            f"dataset {ds.key}: not a readable .xlsx workbook ({type(err).__name__}: {err})"
        ) from err
    try:
        sheets = ds.sheets or ((book.sheetnames[0], book.sheetnames[0]),)
        missing = [name for name, _ in sheets if name not in book.sheetnames]
        if missing:
            raise SchemaError(
                f"dataset {ds.key}: workbook has no sheet(s) {missing}; it has {book.sheetnames}"
            )
        frames = []
        for name, label in sheets:
            rows = list(book[name].iter_rows(values_only=True))
            if len(rows) <= ds.header_row:
                raise SchemaError(f"dataset {ds.key}: sheet {name!r} has no header row {ds.header_row}")
            header = [
                str(h).strip() if h is not None else f"column_{i}" for i, h in enumerate(rows[ds.header_row])
            ]
            body = [r for r in rows[ds.header_row + 1 :] if any(v is not None and str(v).strip() for v in r)]
            frame = pd.DataFrame(body, columns=header) if body else pd.DataFrame(columns=header)
            frame = frame.loc[
                :, [not c.startswith("column_") or frame[c].notna().any() for c in frame.columns]
            ]
            if ds.sheet_column:
                frame.insert(0, "source_table", name)
                frame.insert(0, ds.sheet_column, label)
            frames.append(frame)
    finally:
        book.close()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_vector(raw: RawInput, path: Path | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON/shapefile (or the catalogue's member of a zip) with pyogrio and check its CRS
    against the catalogue.

    GDAL warns (RuntimeWarning) when a GeoJSON repeats a feature id and renumbers it; the feature
    ids are never used here (each normaliser uses an attribute as id), so that one warning is
    silenced locally instead of globally.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*features with id = .*", category=RuntimeWarning)
        gdf = gpd.read_file(path or raw.source, engine="pyogrio")
    require_crs(gdf, raw.dataset.key, raw.source_crs)
    return gdf


def text(series: pd.Series) -> pd.Series:
    """Text column with surrounding whitespace (including NBSP) stripped; missing -> ''."""
    return series.astype("str").str.strip().where(series.notna(), "").astype("str")


def number(series: pd.Series) -> pd.Series:
    """Numeric column from text that may carry stray whitespace (REPD has NBSP-padded numbers)."""
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    cleaned = series.astype("str").str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(cleaned.where(series.notna()), errors="coerce").astype("float64")


def max_kv_from_volts(series: pd.Series) -> pd.Series:
    """OSM voltage tags are ';'-lists in volts ("400000;275000"): the highest, in kV (NaN if none)."""
    parts = series.astype("str").where(series.notna()).str.split(";").explode()
    volts = pd.to_numeric(parts.str.strip(), errors="coerce")
    return (volts.groupby(level=0).max() / 1000.0).reindex(series.index).astype("float64")


# A run of voltages written before "kV": "33/11kv", "33 11kv" (= 33/11), "132/33/11kV", "33 6 6kv" (= 33/6.6).
_KV_RUN = re.compile(r"(?<![\w.])((?:\d+(?:\.\d+)?[ /]+)*\d+(?:\.\d+)?)\s*kv", re.IGNORECASE)
_GB_VOLTAGES = {0.4, 3.3, 6.6, 11.0, 20.0, 22.0, 25.0, 33.0, 66.0, 132.0, 220.0, 275.0, 400.0}


def max_kv_from_name(names: pd.Series) -> pd.Series:
    """Highest voltage stated in a site name ("Madeley 33/11kv" -> 33). Numbers that are not a
    standard GB voltage (street numbers, "No2") are ignored; NaN when the name states none."""
    runs = names.astype("str").str.extractall(_KV_RUN)[0]
    if runs.empty:
        return pd.Series(np.nan, index=names.index, dtype="float64")
    tokens = runs.str.split(r"[ /]+").explode()
    kv = pd.to_numeric(tokens, errors="coerce")
    kv = kv[kv.isin(_GB_VOLTAGES)]
    return kv.groupby(level=0).max().reindex(names.index).astype("float64")


def nation_from_code(codes: pd.Series, key: str) -> pd.Series:
    """ONS GSS codes start with the nation letter (E/W/S/N); anything else is a format change."""
    nation = codes.str[0].map(NATION_BY_PREFIX)
    if nation.isna().any():
        bad = sorted(codes[nation.isna()].unique().tolist())[:10]
        raise SchemaError(f"dataset {key}: codes without a UK nation prefix (E/W/S/N): {bad}")
    return nation.astype("str")


def require_dep(raw: RawInput, dep: str) -> pd.DataFrame:
    """A normalised dependency frame (catalogue ``requires``); missing means a wiring bug upstream."""
    frame = raw.deps.get(dep)
    if frame is None:
        raise SchemaError(f"dataset {raw.dataset.key}: needs the normalised dataset {dep!r} in raw.deps")
    return frame


def repair(gdf: gpd.GeoDataFrame, notes: dict[str, Any]) -> gpd.GeoDataFrame:
    """make_valid polygon layers and record how many geometries needed it."""
    gdf, n = repair_geometries(gdf)
    notes["repaired_geometries"] = int(notes.get("repaired_geometries", 0)) + n
    return gdf


def finish(
    frame: pd.DataFrame,
    raw: RawInput,
    *,
    rows_in: int,
    dropped: dict[str, int] | None = None,
    transform: TransformRecord | None = None,
    extra: tuple[str, ...] = (),
    notes: dict[str, Any] | None = None,
) -> Normalised:
    """Order columns as the schema (+ ``extra``), add ``dataset``, fill notes and check the layer."""
    schema = LAYERS[raw.dataset.layer]
    frame = frame.copy()
    frame["dataset"] = raw.dataset.key
    cols = list(schema.columns) + [c for c in extra if c not in schema.columns]
    if schema.kind == "vector":
        frame = gpd.GeoDataFrame(frame[cols + ["geometry"]], geometry="geometry", crs=frame.crs)
    else:
        frame = pd.DataFrame(frame[cols])
    frame = frame.reset_index(drop=True)
    out_notes: dict[str, Any] = dict(notes or {})
    out_notes.update(
        rows_in=int(rows_in),
        rows_out=int(len(frame)),
        dropped={k: int(v) for k, v in (dropped or {}).items() if v},
    )
    check_layer(frame, raw.dataset.layer, raw.dataset.key)
    return Normalised(frame=frame, transform=transform, notes=out_notes)


def bng_points(x: pd.Series, y: pd.Series, columns: dict[str, Any]) -> gpd.GeoDataFrame:
    """Point layer from coordinates that are already British National Grid metres."""
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(x, y), crs="EPSG:27700")


def already_bng(source: str = "EPSG:27700") -> TransformRecord:
    return TransformRecord(source, NONE_TRANSFORM, points=0)

"""ONS boundary files -> ``regions`` (LADs) and ``countries``.

The code/name columns carry the vintage in their name (LAD23CD, LAD25CD, CTRY22CD ...), so they are
found by pattern: a new vintage needs only a catalogue entry. Northern Ireland is kept in the stored
layer; dropping it is the reader's choice.
"""

from __future__ import annotations

import re

import geopandas as gpd

from ...errors import SchemaError
from ..crs import to_bng
from ..validate import require_columns
from . import Normalised, RawInput
from ._common import finish, nation_from_code, read_vector, repair, text

# Some redistributed copies rename ONS's LADnnCD/LADnnNM to lower tier names (ltlann_code/_name).
_ALIASES = {"LAD": ("ltla", "_code", "_name")}


def _vintage_columns(gdf: gpd.GeoDataFrame, prefix: str, key: str) -> tuple[str, str]:
    """Find the ``<prefix>NNCD`` / ``<prefix>NNNM`` pair (exactly one vintage expected)."""
    codes = [c for c in gdf.columns if re.fullmatch(rf"{prefix}\d\dCD", c)]
    if not codes and prefix in _ALIASES:
        alias, code_sfx, name_sfx = _ALIASES[prefix]
        alt = [c for c in gdf.columns if re.fullmatch(rf"{alias}\d\d{code_sfx}", c)]
        if len(alt) == 1:
            name = alt[0][: -len(code_sfx)] + name_sfx
            require_columns(gdf, key, [name])
            return alt[0], name
    if len(codes) != 1:
        raise SchemaError(f"dataset {key}: expected one {prefix}nnCD column, found {codes or 'none'}")
    name = codes[0][:-2] + "NM"
    require_columns(gdf, key, [name])
    return codes[0], name


def _normalise_gss(raw: RawInput, prefix: str) -> Normalised:
    key = raw.dataset.key
    gdf = read_vector(raw)
    require_columns(gdf, key, raw.columns)
    code_col, name_col = _vintage_columns(gdf, prefix, key)
    rows_in = len(gdf)
    gdf, record = to_bng(gdf)
    notes: dict = {"code_column": code_col}
    gdf = repair(gdf, notes)
    gdf["code"] = text(gdf[code_col])
    gdf["name"] = text(gdf[name_col])
    gdf["nation"] = nation_from_code(gdf["code"], key)
    notes["by_nation"] = {k: int(v) for k, v in gdf["nation"].value_counts().items()}
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes)


def normalise_lad(raw: RawInput) -> Normalised:
    """Local authority districts (any vintage) -> ``regions``; nation from the code prefix."""
    return _normalise_gss(raw, "LAD")


def normalise_countries(raw: RawInput) -> Normalised:
    """ONS Countries -> ``countries`` (land masks, 'in the sea' checks, nation tests)."""
    return _normalise_gss(raw, "CTRY")

"""ONS mid-year population estimates -> ``population_by_region`` (LAD rows only).

The file mixes the UK, nations, regions, counties and LADs; LADs are picked by GSS code prefix
(E06/E07/E08/E09 England, W06 Wales, S12 Scotland, N09 Northern Ireland) because the Geography
labels vary between releases.
"""

from __future__ import annotations

import pandas as pd

from ..validate import require_columns
from . import Normalised, RawInput
from ._common import finish, number, read_table, text

LAD_PREFIXES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")


def normalise_ons_mye(raw: RawInput) -> Normalised:
    """All-ages population per LAD as float (so NaN can mark a missing LAD downstream). The ONS
    workbook (sheet ``MYE2 - Persons``) calls the column ``All ages``; the mirror's CSV copy
    ``Population``."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    pop_col = "All ages" if "All ages" in df.columns else "Population"
    require_columns(df, raw.dataset.key, [pop_col])
    code = text(df["Code"])
    lad = code.str[:3].isin(LAD_PREFIXES)
    out = pd.DataFrame({"code": code, "name": text(df["Name"]), "population": number(df[pop_col])})[lad]
    return finish(
        out, raw, rows_in=len(df), dropped={"not a LAD (UK/nation/region/county)": int((~lad).sum())}
    )

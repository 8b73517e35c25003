"""Deprivation of a local authority within its own nation (``deprivation_percentile``).

England (IoD), Wales (WIMD) and Scotland (SIMD) publish separate indices that cannot be compared
across nations, so a region, a site or a surface cell takes its LAD's *within-nation* percentile
from the ``deprivation_by_region`` layer (1 = the most deprived LAD of its nation, 0 = the least).

Boundary vintages: the layer uses the LAD codes of its publications (IoD 2025: LAD 2024 codes,
those of the default May 2024 boundaries and identical to May 2023; WIMD: W06 codes unchanged
since 2021; SIMD: S12 codes of 2019 onwards), so the default regions all join. The districts
abolished on 1 April 2023 (Cumbria, North Yorkshire and Somerset, still in the December 2022
boundaries) take the value of the unitary authority that replaced them, and say so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.layers import LayerSet

LAD_SUCCESSORS_2023: dict[str, str] = {
    # The Cumbria (Structural Changes) Order 2022, https://www.legislation.gov.uk/uksi/2022/331
    "E07000026": "E06000063",  # Allerdale -> Cumberland
    "E07000028": "E06000063",  # Carlisle -> Cumberland
    "E07000029": "E06000063",  # Copeland -> Cumberland
    "E07000027": "E06000064",  # Barrow-in-Furness -> Westmorland and Furness
    "E07000030": "E06000064",  # Eden -> Westmorland and Furness
    "E07000031": "E06000064",  # South Lakeland -> Westmorland and Furness
    # The North Yorkshire (Structural Changes) Order 2022, https://www.legislation.gov.uk/uksi/2022/328
    "E07000163": "E06000065",  # Craven
    "E07000164": "E06000065",  # Hambleton
    "E07000165": "E06000065",  # Harrogate
    "E07000166": "E06000065",  # Richmondshire
    "E07000167": "E06000065",  # Ryedale
    "E07000168": "E06000065",  # Scarborough
    "E07000169": "E06000065",  # Selby
    # The Somerset (Structural Changes) Order 2022, https://www.legislation.gov.uk/uksi/2022/329
    "E07000187": "E06000066",  # Mendip
    "E07000188": "E06000066",  # Sedgemoor
    "E07000189": "E06000066",  # South Somerset
    "E07000246": "E06000066",  # Somerset West and Taunton
}
"""Districts abolished on 1 April 2023 -> the unitary authority that took over their area."""

EXTRA_COLUMNS = ("deprivation_index", "deprivation_rank", "deprivation_extent", "deprivation_code_used")


def deprivation_by_code(
    codes: pd.Series | np.ndarray, layers: LayerSet | Any
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Within-nation deprivation percentile of each LAD code (``layers``: a LayerSet or anything
    with a ``deprivation_by_region`` attribute).

    Returns ``(values, reasons, extra)``: float percentiles (NaN where missing), the reason each
    missing value is missing ("" where present), and descriptive columns (index name, "rank r of n
    in <nation>", the extent measure, and the code whose row was used when a successor stood in).
    """
    codes = pd.Series(np.asarray(codes, dtype=object)).fillna("").astype(str)
    n = len(codes)
    values = np.full(n, np.nan)
    reasons = np.full(n, "", dtype=object)
    extra = pd.DataFrame({c: pd.array([None] * n, dtype="string") for c in EXTRA_COLUMNS})
    extra["deprivation_extent"] = np.nan
    table = layers.deprivation_by_region
    if table is None:
        reasons[:] = "layer deprivation_by_region not available"
        return values, reasons, extra
    table = table.drop_duplicates("code").set_index("code")
    used = codes.where(codes.isin(table.index), codes.map(LAD_SUCCESSORS_2023)).fillna("")
    hit = used.isin(table.index).to_numpy()
    rows = table.reindex(used[hit])
    values[hit] = rows["percentile_in_nation"].to_numpy(dtype=float)
    extra.loc[hit, "deprivation_index"] = rows["index_name"].astype(str).to_numpy()
    extra.loc[hit, "deprivation_rank"] = [
        f"{int(r)} of {int(k)} in {nat}"
        for r, k, nat in zip(rows["rank_in_nation"], rows["n_in_nation"], rows["nation"], strict=True)
    ]
    extra.loc[hit, "deprivation_extent"] = rows["value"].to_numpy(dtype=float)
    extra.loc[hit, "deprivation_code_used"] = used[hit].to_numpy()
    nations = set(table["nation"].astype(str))
    for i in np.flatnonzero(~hit):
        code = codes.iloc[i]
        nation = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}.get(code[:1], "")
        if not code:
            reasons[i] = "no local authority"
        elif nation and nation not in nations:
            reasons[i] = f"no deprivation data for {nation} in the layer"
        else:
            reasons[i] = f"no deprivation row for {code} (boundary vintage mismatch)"
    return values, reasons, extra

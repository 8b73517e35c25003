"""TEC register rows that still queue for the network. Their free-text connection sites are
resolved to grid nodes by :mod:`growth_zones.indicators.nodes`."""

from __future__ import annotations

import pandas as pd


def contracted_not_built(tec: pd.DataFrame) -> pd.DataFrame:
    """TEC rows not yet Built, one per project: the register repeats a project per stage with a
    *cumulative* MW, so only each project's largest cumulative MW is kept."""
    t = tec[~tec["status"].astype(str).str.strip().str.lower().eq("built")].copy()
    t["mw"] = pd.to_numeric(t["mw"], errors="coerce")
    t = t.sort_values("mw", ascending=False, kind="stable")
    if "project_id" in t:
        has_id = t["project_id"].notna() & (t["project_id"].astype(str) != "")
        by = ["dataset", "project_id"] if "dataset" in t else ["project_id"]
        t = pd.concat([t[has_id].drop_duplicates(by), t[~has_id]])
    subset = [c for c in ("dataset", "project", "customer", "connection_site") if c in t]
    return t.drop_duplicates(subset)

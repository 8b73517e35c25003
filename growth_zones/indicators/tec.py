"""Place TEC register projects on the map by matching their free-text connection site to a
substation name (NESO publishes the register without coordinates)."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd

_KIND_RANK = {"transmission": 0, "gsp": 1, "bsp": 2, "switching": 3, "primary": 4, "other": 5}
PREFERRED_KINDS = ("transmission", "gsp")

_VOLTAGE = re.compile(r"\d+(?:\.\d+)?\s*(?:/\s*\d+(?:\.\d+)?\s*)*k\s*v\b")
_PHRASES = re.compile(
    r"\b(?:grid supply point|bulk supply point|switching station|sub[\s-]?station|s\s*stn|"
    r"gsp|bsp|substn|sub stn|ss)\b"
)


_GENERIC = frozenset({"wind", "farm", "wf", "onshore", "offshore", "collector"})


def normalise_site_name(text: object) -> str:
    """Lowercase, drop voltages ("400kV", "275/33kV"), "substation"/"GSP"/"grid supply point"/
    "switching station", punctuation, stand-alone digits ("New Deer 2" -> "new deer"), single
    letters ("Melksham B" -> "melksham") and generic words (wind farm, WF, onshore, collector):
    ``"Connah's Quay 400kV Substation"`` -> ``"connahs quay"``."""
    if not isinstance(text, str):
        return ""
    s = text.lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    s = s.replace("windfarm", "wind farm")
    s = _VOLTAGE.sub(" ", s)
    s = re.sub(r"[^a-z0-9 ]+", " ", s)
    s = _PHRASES.sub(" ", s)
    s = re.sub(r"\b\d+\b", " ", s)
    s = re.sub(r"\b(?:kv|v)\b", " ", s)
    # generic words and single-letter unit suffixes ("Melksham B", "Ferrybridge C") name the same site
    words = [w for w in s.split() if w not in _GENERIC and len(w) > 1]
    return " ".join(words)


def _token_key(norm: str) -> str:
    return " ".join(sorted(norm.split()))


def match_connection_sites(
    tec: pd.DataFrame, substations: gpd.GeoDataFrame, threshold: float = 0.85
) -> pd.DataFrame:
    """Match each TEC ``connection_site`` to one substation.

    Order: (1) identical normalised names (word order ignored) among transmission/GSP records,
    (2) identical names among all records, (3) best ``difflib`` ratio among transmission/GSP
    records sharing a word of 3+ letters, (4) the same among all records. Planned NESO
    "Connection Node" sites (e.g. "North Anglia Connection Node E") are only matched exactly:
    they have no substation yet, and a fuzzy hit would place them wrongly. Among records with the
    same name the preferred kind (transmission, then GSP, BSP ...) and then the highest voltage
    wins. A best score below ``threshold`` leaves the row unmatched (NaN).

    Returns a copy of ``tec`` with ``substation_id``, ``substation_name``, ``substation_kind``,
    ``match_score`` (0..1; 1 = exact), ``x``, ``y`` (EPSG:27700 m).
    """
    out = tec.copy()
    for col in ("substation_id", "substation_name", "substation_kind"):
        out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
    for col in ("match_score", "x", "y"):
        out[col] = np.nan
    if len(out) == 0 or substations is None or len(substations) == 0:
        return out

    subs = substations[~substations.geometry.is_empty & substations.geometry.notna()]
    norm = subs["name"].map(normalise_site_name)
    rank = subs["kind"].map(_KIND_RANK).fillna(9)
    volt = pd.to_numeric(subs["voltage_kv"], errors="coerce").fillna(-1)
    cand = pd.DataFrame(
        {
            "key": norm.map(_token_key),
            "norm": norm,
            "rank": rank,
            "volt": volt,
            "pos": np.arange(len(subs)),
            "preferred": subs["kind"].isin(PREFERRED_KINDS).to_numpy(),
        },
        index=subs.index,
    )
    cand = cand[cand["key"] != ""].sort_values(["rank", "volt"], ascending=[True, False], kind="stable")
    # best record per name, for the preferred pool and for all records
    best_all = cand.drop_duplicates("key")
    best_pref = cand[cand["preferred"]].drop_duplicates("key")
    pools = []
    for best in (best_pref, best_all):
        lookup = dict(zip(best["key"], best["pos"], strict=True))
        norms = dict(zip(best["key"], best["norm"], strict=True))
        index: dict[str, set[str]] = defaultdict(set)
        for key in lookup:
            for tok in key.split():
                if len(tok) >= 3:
                    index[tok].add(key)
        pools.append((lookup, norms, index))

    sites = pd.Series(out["connection_site"].dropna().unique())
    result: dict[str, tuple[int, float]] = {}
    for site in sites:
        n = normalise_site_name(site)
        if not n:
            continue
        key = _token_key(n)
        hit = next(((pool[0][key], 1.0) for pool in pools if key in pool[0]), None)
        if hit is None and "connection node" not in n:  # planned NESO nodes: no substation yet
            best_score, best_pos = 0.0, -1
            for lookup, norms, index in pools:
                cands = set().union(*(index.get(t, set()) for t in key.split() if len(t) >= 3))
                for c in cands:
                    sm = difflib.SequenceMatcher(None, n, norms[c])
                    if sm.real_quick_ratio() <= best_score or sm.quick_ratio() <= best_score:
                        continue
                    score = sm.ratio()
                    if score > best_score:
                        best_score, best_pos = score, lookup[c]
                if best_score >= threshold:
                    break
            if best_pos >= 0 and best_score >= threshold:
                hit = (best_pos, best_score)
        if hit is not None:
            result[site] = hit

    pos = out["connection_site"].map(lambda s: result.get(s, (-1, np.nan))[0] if isinstance(s, str) else -1)
    pos = pos.to_numpy(dtype=int)
    ok = pos >= 0
    if ok.any():
        chosen = subs.iloc[pos[ok]]
        out.loc[ok, "substation_id"] = chosen["id"].astype(str).to_numpy()
        out.loc[ok, "substation_name"] = chosen["name"].astype(str).to_numpy()
        out.loc[ok, "substation_kind"] = chosen["kind"].astype(str).to_numpy()
        out.loc[ok, "x"] = chosen.geometry.x.to_numpy()
        out.loc[ok, "y"] = chosen.geometry.y.to_numpy()
        scores = out.loc[ok, "connection_site"].map(lambda s: result[s][1])
        out.loc[ok, "match_score"] = scores.to_numpy(float)
    return out


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

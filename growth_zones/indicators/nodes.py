"""``grid_nodes``: one row per physical GB grid site, resolved across the published sources.

The same site appears as a FES grid supply point (GSP id, no voltage), an ETYS site code (voltages,
often no coordinates), one or more NGED records (one per voltage level), OSM substations and free
text in the TEC register. This module joins them (entity resolution) so that every site carries
its highest known voltage, kind, operator, the TEC capacity contracted there and its sources, and
so that a GSP whose voltage only ETYS states (Wylfa, Drax, Dumfries ...) is no longer scored as a
site of unknown voltage.

Records are joined in stages, each with a method, a distance and a confidence; two different ETYS
site codes never end up in one node (a cannot-link rule: Walham WALH and Port Ham PORH are 103 m
apart but are two sites in ETYS, joined by circuits):

1. FES GSP -> ETYS by code (GSP id prefix, the ``Comments`` code of split busbars, letters 1-3 + 5
   of 5-letter ids, ETYS codes starting with the first three letters of ``AAA9`` ids), confirmed by
   name similarity; never gated by distance, because community geocodes are often kilometres off
   (SAFO, Sandford, is geocoded 84 km away in Devon). Else a unique ETYS site of the same name, else
   a unique token-subset name (low confidence).
2. FES GSPs sharing a code within 1 km (split busbars, board-voltage twins); uncoded GSPs placed at
   the coordinate of exactly one coded GSP ("Canal Bank (Willesden 66kV)").
3. NGED records of one site (same name within 300 m); NGED Super Grid -> FES GSP of the same name
   within 2 km, else a unique ETYS name, else the nearest GSP within 1 km when unambiguous.
4. OSM ``ref`` = ETYS code; then names: NGED grid sites and named OSM/other records join the node
   of the same name within 2 km (5 km when the node's only coordinate is a geocode), unless a second
   node of that name is nearly as close (ambiguous: listed, not merged).
5. OSM/other records still alone join the nearest site node within 1 km when the next one is more
   than twice as far, their voltage is not higher and their name (if any) does not disagree.
6. TEC connection sites (no coordinates) by exact name key, then without generic wind-farm words,
   then space-free, then a strict fuzzy match; planned NESO "Connection Node"s are never matched.

Every threshold is a field of :class:`NodeRules` with the observation behind it. Unjoined and
ambiguous records are listed (``GridNodes.ambiguous``, ``GridNodes.unresolved``) and counted in
every output's provenance (:meth:`GridNodes.summary`).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..data.layers import LayerSet
from ..settings import BNG
from . import _geo
from .grid_names import (
    bracketed,
    loose_key,
    name_key,
    name_similarity,
    strip_voltages,
    voltages_in_text,
    without_brackets,
)
from .tec import contracted_not_built

SCOTTISH_TOS = frozenset({"SP Transmission", "SHE Transmission"})
TRANSMISSION_KV = 275.0
SCOTTISH_TRANSMISSION_KV = 132.0
NGED_GRID_TYPES = frozenset({"Super Grid Substation", "Bulk Supply Point", "132kv Switching Station"})
_NOT_A_SITE = re.compile(r"sealing end|tunnel shaft|cable tunnel", re.IGNORECASE)
_CONNECTION_NODE = re.compile(r"connection node", re.IGNORECASE)
_NUMBERED = re.compile(r"[A-Za-z] \d\b(?!\s*(?:/|kv|\d|\.))", re.IGNORECASE)
_SOURCE_ORDER = ("etys", "fes", "nged", "osm", "other", "tec")
_XY_ORDER = ("nged", "fes", "osm", "other", "etys")
_NGED_KIND = {
    "Super Grid Substation": "gsp",
    "Bulk Supply Point": "bsp",
    "Primary Substation": "primary",
    "Ehv Switching Station": "switching",
    "132kv Switching Station": "switching",
}


@dataclass(frozen=True)
class NodeRules:
    """Thresholds of the resolution, each with the observation it rests on (real files, 2024/25)."""

    fes_same_code_m: float = 1000.0
    """FES rows sharing a code are one site within this: the widest spread seen is 398 m (FERR)."""
    name_m: float = 2000.0
    """Same name between precisely placed sources (FES, NGED, OSM): FES-OSM p90 362 m, max 1.19 km."""
    name_geocode_m: float = 5000.0
    """... when one side is only a PyPSA-GB geocode: geocode-OSM p90 3.5 km, max 5.5 km."""
    nged_same_site_m: float = 300.0
    """NGED lists a site once per voltage level: 214 of 235 same-name pairs lie within 300 m; the
    next are 5 km+ apart and are different places (Axminster primary vs Axminster S.G.P.)."""
    nged_sgp_gsp_m: float = 1000.0
    """NGED Super Grid -> FES GSP by distance alone: all 52 lie within 429 m of a GSP; the nearest
    GSP at another site is 4.3 km away or more."""
    osm_distance_m: float = 1000.0
    """An unnamed OSM vertex joins the nearest site node within this (median 118 m)."""
    low_confidence_m: float = 500.0
    """Distance-only joins beyond this are marked low confidence."""
    ambiguity_ratio: float = 2.0
    """A distance/name join is ambiguous when the second candidate is less than this many times
    farther than the first."""
    code_name_similarity: float = 0.75
    """A shared code is confirmed by names this similar: 344 of 345 FES rows agree; the collision
    Dallas / Dalmally (DALL) scores 0.57."""
    geocode_conflict_m: float = 5000.0
    """Code and name agree but the geocode is farther than this: flagged, the FES location is used."""
    tec_fuzzy: float = 0.93
    """Fuzzy TEC matches need this ratio (same first two letters, length within 2): 0.90 would take
    "Clune" -> CLUNIE and "X Offshore" -> "X Onshore"."""
    circuit_slack_m: float = 12000.0
    """Two placed sites joined by an ETYS circuit may lie at most its published route length plus
    this apart (a straight line is never longer than the route). Between ends placed right the
    excess reaches 9.6 km (Iron Acton-Oldbury, NGED/OSM: ETYS lists 1.000 km, a length it gives 28
    circuits, for a 10.6 km link) and 11.4 km (Elstree-Hendon, the same 1.000 km); a community
    geocode of the right site is up to 5.5 km off. Wrong positions exceed it by 15-190 km. Any
    value from 12 to 15 km rejects the same 48 positions (2024/25 files)."""


# --------------------------------------------------------------------------------- results
@dataclass
class GridNodes:
    """The resolved grid sites.

    ``nodes`` (index ``node_id``, EPSG:27700; geometry None for sites no source places): name, kind
    (transmission / gsp / bsp / primary / switching / offshore / other), is_transmission (>= 275 kV,
    or >= 132 kV in Scotland), is_gsp, voltage_kv (highest stated by any member record),
    voltage_source (dataset that states it), voltages_kv, tec_voltages_kv (levels only a TEC
    string states: planned), operator, scottish, etys_code, fes_gsp_ids, nged_ids, osm_ids,
    sources, n_sources (excluding TEC), n_records, tec_contracted_mw (TEC projects not yet Built
    whose connection site resolved here), tec_projects, circuit_rating_mva / largest_circuit_mva /
    firm_capacity_mva (ETYS circuits of the node's site code; firm = sum minus the largest, i.e.
    what remains after losing one circuit: circuit capacity, not spare capacity), xy_source,
    xy_check (how the position fared against the ETYS circuit lengths: consistent, unchecked,
    replaced, rejected; see :func:`check_positions`), xy_circuits (circuits it was checked against),
    placed.

    ``members``: one row per joined record (node_id, source, dataset, record_id, name, method,
    distance_m, confidence). ``ambiguous``: records not joined because several nodes fit.
    ``unresolved``: TEC connection sites that match no node. ``conflicts``: joins the cannot-link
    rule blocked. ``excluded``: records that are not sites (ETYS border nodes, cable sealing ends).
    ``misplaced``: positions rejected because they contradict ETYS circuit lengths (node_id,
    etys_code, name, source, x, y, excess_km, contradicts, outcome). ``position_check``: whether
    that check ran, and its counts.
    """

    nodes: gpd.GeoDataFrame
    members: pd.DataFrame
    ambiguous: pd.DataFrame
    unresolved: pd.DataFrame
    conflicts: pd.DataFrame
    excluded: pd.DataFrame
    rules: NodeRules = field(default_factory=NodeRules)
    tec_rows: dict[str, int] = field(default_factory=dict)
    misplaced: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISPLACED_COLUMNS))
    position_check: dict[str, Any] = field(default_factory=dict)

    def placed(self, which: str = "all") -> gpd.GeoDataFrame:
        """Nodes with a location: ``"all"``, ``"transmission"``, ``"gsp"`` or ``"site"``
        (transmission or GSP: where a large demand connects)."""
        n = self.nodes[self.nodes["placed"]]
        if which == "transmission":
            return n[n["is_transmission"]]
        if which == "gsp":
            return n[n["is_gsp"]]
        if which == "site":
            return n[n["is_transmission"] | n["is_gsp"]]
        if which != "all":
            raise ValueError(f"unknown node set {which!r}; use all, transmission, gsp or site")
        return n

    def summary(self) -> dict[str, Any]:
        """Counts for provenance sidecars and reports."""
        n = self.nodes
        has_v = n["voltage_kv"].notna()
        stated = self.members.merge(
            n[["voltage_kv"]], left_on="node_id", right_index=True, how="left", validate="many_to_one"
        )
        unvolted = stated[stated["states_voltage"] & stated["voltage_kv"].isna()]
        return {
            "nodes": int(len(n)),
            "placed": int(n["placed"].sum()),
            "unplaced": int((~n["placed"]).sum()),
            "transmission": int(n["is_transmission"].sum()),
            "gsp": int(n["is_gsp"].sum()),
            "matched_2_or_more_sources": int((n["n_sources"] >= 2).sum()),
            "matched_2_or_more_sources_incl_tec": int((n["n_sources_incl_tec"] >= 2).sum()),
            "without_voltage": int((~has_v).sum()),
            "without_voltage_though_a_member_states_one": int(unvolted["node_id"].nunique()),
            "gsp_nodes_without_voltage": int((n["has_fes"] & ~has_v).sum()),
            "ambiguous_records": int(len(self.ambiguous)),
            "ambiguous_by_type": _counts(self.ambiguous, "type"),
            "cannot_link_blocked": int(len(self.conflicts)),
            "excluded_records": _counts(self.excluded, "reason"),
            "tec_connection_sites_unresolved": int(len(self.unresolved)),
            "tec_unresolved_by_reason": _counts(self.unresolved, "reason"),
            "tec_rows": dict(self.tec_rows),
            "position_check": dict(self.position_check),
            "positions_rejected": int(len(self.misplaced)),
            "rules": asdict(self.rules),
        }

    def provenance(self) -> dict[str, Any]:
        """:meth:`summary` plus the ambiguous records, the unresolved TEC connection sites and the
        blocked joins themselves (for the provenance sidecar of every output)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            plain = frame.astype(object).where(frame.notna(), None)
            return [{str(k): v for k, v in r.items()} for r in plain.to_dict("records")]

        return {
            **self.summary(),
            "ambiguous": records(self.ambiguous),
            "unresolved_tec_connection_sites": records(self.unresolved),
            "cannot_link_blocked_joins": records(self.conflicts),
            "positions_rejected_by_etys_circuits": records(self.misplaced),
        }


def _counts(frame: pd.DataFrame, col: str) -> dict[str, int]:
    if not len(frame):
        return {}
    return {str(k): int(v) for k, v in frame[col].value_counts().items()}


def grid_nodes(layers: LayerSet, rules: NodeRules | None = None) -> GridNodes:
    """The resolved grid nodes of ``layers`` (cached on the LayerSet)."""
    rules = rules or NodeRules()
    key = ("grid_nodes", rules)
    if key not in layers._cache:
        layers._cache[key] = build_grid_nodes(layers, rules)
    cached: GridNodes = layers._cache[key]
    return cached


# --------------------------------------------------------------------------------- records
def _role(dataset: str) -> str:
    if dataset.startswith("neso_fes"):
        return "fes"
    if dataset.startswith("neso_etys"):
        return "etys"
    if dataset.startswith("nged"):
        return "nged"
    if dataset.startswith("osm"):
        return "osm"
    return "other"


def _fes_code(gsp_id: str, comments: str) -> str | None:
    """The ETYS-style code a FES GSP id carries: its first four letters, else the code its comment
    names ('GSP "DUMF" modelled as 3 parts')."""
    if re.fullmatch(r"[A-Z]{4}", gsp_id[:4]):
        return gsp_id[:4]
    m = re.search(r'GSP "([A-Z]{4})"', comments)
    return m.group(1) if m else None


def _record(source: str, dataset: str, rid: str, name: str, x: float, y: float, **kw: Any) -> dict[str, Any]:
    alt = kw.pop("alt", None) or ([name] if name else [])
    return {
        "rid": f"{source}:{rid}",
        "source": source,
        "dataset": dataset,
        "record_id": rid,
        "name": name,
        "alt": tuple(alt),
        "keys": tuple(sorted({name_key(without_brackets(a)) for a in alt} - {""})),
        "x": float(x),
        "y": float(y),
        "kvs": frozenset(kw.pop("kvs", frozenset())),
        "kind": kw.pop("kind", ""),
        "code": kw.pop("code", None),
        "fes_code": kw.pop("fes_code", None),
        "operator": kw.pop("operator", ""),
        **kw,
    }


def _substation_records(subs: gpd.GeoDataFrame | None, with_etys: bool) -> tuple[list[dict[str, Any]], list]:
    rows: list[dict[str, Any]] = []
    excluded: list[tuple[str, str, str]] = []
    if subs is None or not len(subs):
        return rows, excluded
    s = subs[~(subs.geometry.isna() | subs.geometry.is_empty)]
    ds = s["dataset"].astype(str) if "dataset" in s else pd.Series("", index=s.index)
    x, y = s.geometry.x.to_numpy(), s.geometry.y.to_numpy()
    col = {
        c: (s[c].fillna("").astype(str).to_numpy() if c in s else np.full(len(s), "", object))
        for c in ("id", "name", "kind", "operator", "comments", "substation_type", "osm_type", "ref")
    }
    volt = (
        pd.to_numeric(s["voltage_kv"], errors="coerce").to_numpy()
        if "voltage_kv" in s
        else np.full(len(s), np.nan)
    )
    for i, dataset in enumerate(ds.to_numpy()):  # a few thousand records: building dicts
        role = _role(dataset)
        rid, name = col["id"][i], col["name"][i].strip()
        kvs = frozenset() if np.isnan(volt[i]) else frozenset({float(volt[i])})
        if role == "fes":
            rows.append(
                _record(
                    "fes",
                    dataset,
                    rid,
                    name,
                    x[i],
                    y[i],
                    kind="gsp",
                    operator=col["operator"][i],
                    fes_code=_fes_code(rid, col["comments"][i]),
                )
            )
        elif role == "etys":
            if with_etys:
                continue  # the full site table (grid_sites) replaces the placed-only layer rows
            rows.append(
                _record(
                    "etys",
                    dataset,
                    rid,
                    name,
                    x[i],
                    y[i],
                    kvs=kvs,
                    kind="etys",
                    code=rid.upper(),
                    operator=col["operator"][i],
                    geocode=True,
                )
            )
        elif role == "nged":
            rows.append(
                _record(
                    "nged",
                    dataset,
                    rid,
                    name,
                    x[i],
                    y[i],
                    kvs=kvs,
                    kind=col["substation_type"][i],
                    operator=col["operator"][i] or "NGED",
                )
            )
        else:
            if _NOT_A_SITE.search(name):
                excluded.append(
                    (f"{role}:{rid}", name, "not a substation (cable sealing end or tunnel shaft)")
                )
                continue
            alt = [t.strip() for t in name.split(";") if t.strip()] if role == "osm" else [name]
            ref = col["ref"][i].strip().upper()
            rows.append(
                _record(
                    role,
                    dataset,
                    rid if role == "osm" else f"{dataset}:{rid}",
                    name,
                    x[i],
                    y[i],
                    alt=alt,
                    kvs=kvs,
                    kind=col["osm_type"][i] or col["kind"][i],
                    operator=col["operator"][i],
                    code=ref if re.fullmatch(r"[A-Z]{4}", ref) else None,
                )
            )
    return rows, excluded


def _kv_set(text: str) -> frozenset[float]:
    return frozenset(float(v) for v in str(text).split(";") if v.strip())


def _etys_records(sites: pd.DataFrame | None) -> tuple[list[dict[str, Any]], list]:
    rows: list[dict[str, Any]] = []
    excluded: list[tuple[str, str, str]] = []
    if sites is None or not len(sites):
        return rows, excluded
    for r in sites.itertuples(index=False):  # ~890 site codes
        code = str(r.site_code)
        names = [n for n in str(r.names).split("|") if n] or ([str(r.name)] if r.name else [])
        if r.role == "virtual":
            excluded.append(
                (f"etys:{code}", str(r.name), "ETYS border/boundary node: a point on a line, not a site")
            )
            continue
        good = [n for n in names if re.sub(r"[^A-Z]", "", n.upper())[:4] == code]
        alt = good or names
        kind = {"offshore": "etys_offshore", "circuit_only": "etys_circuit_only"}.get(str(r.role), "etys")
        rows.append(
            _record(
                "etys",
                str(r.dataset),
                code,
                alt[0] if alt else "",
                r.x,
                r.y,
                alt=alt,
                kvs=_kv_set(r.voltages_kv) | _kv_set(r.circuit_voltages_kv),
                kind=kind,
                code=code,
                operator=str(r.operator),
                geocode=bool(np.isfinite(r.x)),
                circuit_rating_mva=float(r.circuit_rating_mva),
                largest_circuit_mva=float(r.largest_circuit_mva),
            )
        )
    return rows, excluded


def _tec_records(tec: pd.DataFrame | None) -> list[dict[str, Any]]:
    if tec is None or not len(tec) or "connection_site" not in tec:
        return []
    sites = tec["connection_site"].fillna("").astype(str).str.strip()
    ds = tec["dataset"].astype(str) if "dataset" in tec else pd.Series("tec_projects", index=tec.index)
    first = pd.Series(ds.to_numpy(), index=sites.to_numpy()).groupby(level=0).first()
    return [
        _record("tec", first[s], s, s, np.nan, np.nan, kvs=voltages_in_text(s), kind="tec")
        for s in sorted(set(sites) - {""})
    ]


def _records(layers: LayerSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    etys, ex1 = _etys_records(layers.grid_sites)
    subs, ex2 = _substation_records(layers.substations, with_etys=bool(etys))
    rows = etys + subs + _tec_records(layers.tec_projects)
    cols = [
        "rid",
        "source",
        "dataset",
        "record_id",
        "name",
        "alt",
        "keys",
        "x",
        "y",
        "kvs",
        "kind",
        "code",
        "fes_code",
        "operator",
    ]
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys(cols + [k for r in rows for k in r])))
    frame = frame.drop_duplicates("rid").set_index("rid", drop=False)
    frame["placed"] = np.isfinite(frame["x"].astype(float)) & np.isfinite(frame["y"].astype(float))
    excluded = pd.DataFrame(ex1 + ex2, columns=["record", "name", "reason"])
    return frame, excluded


# --------------------------------------------------------------------------------- union-find
class _Joins:
    """Union-find over records with a cannot-link rule: a node never holds two ETYS site codes."""

    def __init__(self, records: pd.DataFrame) -> None:
        self.parent = {r: r for r in records.index}
        code = records["code"].where(records["source"] == "etys")
        self.codes: dict[str, frozenset[str]] = {
            r: frozenset({c}) if isinstance(c, str) else frozenset() for r, c in code.items()
        }
        self.how: dict[str, tuple[str, float, str]] = {}
        self.conflicts: list[tuple[str, str, str, float, str]] = []

    def find(self, a: str) -> str:
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:
            self.parent[a], a = root, self.parent[a]
        return root

    def compatible(self, a: str, b: str) -> bool:
        ca, cb = self.codes[self.find(a)], self.codes[self.find(b)]
        return not (ca and cb and ca != cb)

    def join(self, target: str, incoming: str, method: str, distance: float, confidence: str) -> bool:
        """Join ``incoming`` to ``target``'s node; False (and a conflict row) when blocked."""
        ra, rb = self.find(target), self.find(incoming)
        if ra == rb:
            return True
        if not self.compatible(ra, rb):
            both = sorted(self.codes[ra] | self.codes[rb])
            self.conflicts.append((incoming, target, method, distance, f"different ETYS codes {both}"))
            return False
        self.parent[rb] = ra
        self.codes[ra] = self.codes[ra] | self.codes[rb]
        self.how.setdefault(incoming, (method, distance, confidence))
        return True

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for r in self.parent:
            out[self.find(r)].append(r)
        return out


@dataclass
class _State:
    rec: pd.DataFrame
    joins: _Joins
    rules: NodeRules
    ambiguous: list[tuple[str, str, str, float, str]] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    f: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Column -> {record: value}: plain dict look-ups for the joining loops."""

    def __post_init__(self) -> None:
        self.f = {c: dict(zip(self.rec.index, self.rec[c], strict=True)) for c in self.rec.columns}

    def dist(self, a: str, b: str) -> float:
        x, y = self.f["x"], self.f["y"]
        return float(np.hypot(x[a] - x[b], y[a] - y[b]))

    def flag(self, record: str, candidates: str, kind: str, distance: float, note: str) -> None:
        self.ambiguous.append((record, candidates, kind, distance, note))


# --------------------------------------------------------------------------------- stages
def _etys_by_key(st: _State) -> dict[str, list[str]]:
    rec = st.rec
    out: dict[str, list[str]] = defaultdict(list)
    for rid, keys in rec.loc[rec["source"] == "etys", "keys"].items():
        for k in keys:
            out[k].append(rid)
    return out


def _near_or_unplaced(st: _State, rid: str, cands: list[str], limit: float) -> list[str]:
    F = st.f
    return [h for h in sorted(set(cands)) if not F["placed"][h] or st.dist(rid, h) <= limit]


def _fes_to_etys(st: _State) -> None:
    """Stage 1: FES GSP -> ETYS site by code confirmed by name, else by unique name."""
    rec, rules = st.rec, st.rules
    F = st.f
    etys = rec[rec["source"] == "etys"]
    etys_ids = set(etys["record_id"])
    by_key = _etys_by_key(st)
    for rid, r in rec[rec["source"] == "fes"].iterrows():
        gid = str(r["record_id"])
        cands = [c for c in [r["fes_code"]] if isinstance(c, str)]
        if re.match(r"^[A-Z]{5}", gid):
            cands.append(gid[:3] + gid[4])
        if re.match(r"^[A-Z]{3}\d", gid):
            cands += sorted(c for c in etys_ids if c.startswith(gid[:3]))
        best: tuple[str, float, bool] | None = None
        for c in cands:
            er = f"etys:{c}"
            if er not in rec.index:
                continue
            alt = F["alt"][er]
            sim = max((name_similarity(without_brackets(r["name"]), a) for a in alt), default=0.0)
            if best is None or sim > best[1]:
                best = (er, sim, c == r["fes_code"])
        circuit_only = bool(
            best
            and best[1] < rules.code_name_similarity
            and F["kind"][best[0]] == "etys_circuit_only"
            and (best[0][5:] == r["fes_code"] or len(cands) == 1)
        )
        if best and circuit_only:
            best = (best[0], 1.0, True)  # circuit-only codes have no name: the exact code is the evidence
        if best and best[1] >= rules.code_name_similarity:
            target = best[0]
            d = st.dist(rid, target) if F["placed"][target] else np.nan
            if np.isfinite(d) and d > rules.geocode_conflict_m:
                st.flag(
                    rid,
                    target,
                    "etys_geocode_conflict",
                    d,
                    "code and name agree but the PyPSA-GB geocode is far: the FES location is used",
                )
            method = (
                "code (circuit-only ETYS code)"
                if circuit_only
                else ("code+name" if best[2] else "alternative code+name")
            )
            st.joins.join(target, rid, method, d, "medium" if circuit_only else "high")
            continue
        if best:
            st.flag(
                rid,
                best[0],
                "code_collision",
                np.nan,
                f"code shared but names differ (similarity {best[1]:.2f})",
            )
        hits = _near_or_unplaced(
            st, rid, [h for k in r["keys"] for h in by_key.get(k, [])], rules.name_geocode_m
        )
        if len(hits) == 1:
            d = st.dist(rid, hits[0]) if F["placed"][hits[0]] else np.nan
            st.joins.join(hits[0], rid, "name", d, "medium")
            continue
        if len(hits) > 1:
            st.flag(
                rid,
                ";".join(hits),
                "name_matches_several_etys_sites",
                np.nan,
                "FES name matches several ETYS sites",
            )
            continue
        words = [set(k.split()) for k in r["keys"]]
        sub = [
            h
            for h in etys.index
            if any(w and (w <= set(ek.split()) or set(ek.split()) <= w) for w in words for ek in F["keys"][h])
        ]
        sub = _near_or_unplaced(st, rid, sub, rules.name_geocode_m)
        if len(sub) == 1:
            d = st.dist(rid, sub[0]) if F["placed"][sub[0]] else np.nan
            st.joins.join(sub[0], rid, "partial name (unique)", d, "low")
        elif len(sub) > 1:
            st.flag(
                rid,
                ";".join(sub[:5]),
                "partial_name_several_etys_sites",
                np.nan,
                "FES name is a word subset of several ETYS names",
            )


def _fes_same_site(st: _State) -> None:
    """Stage 2: FES rows with one code within 1 km; uncoded GSPs at the coordinate of one coded GSP."""
    rec, joins = st.rec, st.joins
    F = st.f
    fes = rec[rec["source"] == "fes"]
    for _, g in fes[fes["fes_code"].notna()].groupby("fes_code", sort=True):
        ids = list(g.index)
        for a in ids[1:]:
            d = st.dist(ids[0], a)
            if d <= st.rules.fes_same_code_m:
                joins.join(ids[0], a, "same FES code", d, "high")
    at = fes["x"].round(0).astype(str) + "," + fes["y"].round(0).astype(str)
    for _, g in fes.groupby(at, sort=True):
        if len(g) < 2:
            continue
        coded = sorted({joins.find(r) for r in g.index if joins.codes[joins.find(r)]})
        for r in g.index:
            if joins.codes[joins.find(r)]:
                continue
            target = None
            if len(coded) == 1:
                target = coded[0]
            elif len(coded) > 1:
                parent = name_key(bracketed(F["name"][r]))
                hit = [c for c in coded if parent and parent in F["keys"][c]]
                target = hit[0] if len(hit) == 1 else None
                if target is None:
                    st.flag(
                        r,
                        ";".join(coded),
                        "fes_colocated_with_several_coded_gsps",
                        0.0,
                        "placed at one coordinate with several coded GSPs",
                    )
            if target is not None:
                joins.join(target, r, "FES GSP placed at its parent site", 0.0, "medium")
        if len(coded) > 1:
            codes = sorted(set().union(*(joins.codes[c] for c in coded)))
            st.flag(
                ";".join(sorted(g.index)),
                "",
                "fes_colocated_distinct_codes",
                0.0,
                "FES places GSPs of different ETYS sites at one coordinate: " + ",".join(codes),
            )


def _nged_same_site(st: _State) -> None:
    """Stage 3a: NGED records of one site at several voltage levels (same name within 300 m)."""
    rec = st.rec
    nged = rec[rec["source"] == "nged"]
    if len(nged) < 2:
        return
    tree = cKDTree(nged[["x", "y"]].to_numpy(float))
    pairs = np.array(sorted(tree.query_pairs(st.rules.nged_same_site_m)), dtype=int).reshape(-1, 2)
    ids = nged.index.to_numpy()
    keys = nged["keys"].to_numpy()
    for i, j in pairs:
        if set(keys[i]) & set(keys[j]):
            st.joins.join(
                ids[i], ids[j], "same NGED site (another voltage level)", st.dist(ids[i], ids[j]), "high"
            )


def _nged_super_grid(st: _State) -> None:
    """Stage 3b: NGED Super Grid records -> the FES GSP of the same name, else a unique ETYS name,
    else the nearest GSP within 1 km when no other GSP node is close."""
    rec, rules, joins = st.rec, st.rules, st.joins
    F = st.f
    fes = rec[rec["source"] == "fes"]
    sgp = rec[(rec["source"] == "nged") & (rec["kind"] == "Super Grid Substation")]
    if not len(fes) or not len(sgp):
        return
    by_key = _etys_by_key(st)
    tree = cKDTree(fes[["x", "y"]].to_numpy(float))
    k = min(3, len(fes))
    dist, pos = tree.query(sgp[["x", "y"]].to_numpy(float), k=k)
    dist, pos = dist.reshape(len(sgp), k), pos.reshape(len(sgp), k)
    for row, (rid, r) in enumerate(sgp.iterrows()):
        cand = [(float(d), fes.index[p]) for d, p in zip(dist[row], pos[row], strict=True)]
        named = [c for c in cand if c[0] <= rules.name_m and set(r["keys"]) & set(F["keys"][c[1]])]
        if named:
            joins.join(named[0][1], rid, "name+distance", named[0][0], "high")
            continue
        hits = _near_or_unplaced(
            st, rid, [h for key in r["keys"] for h in by_key.get(key, [])], rules.name_geocode_m
        )
        best_d, best = cand[0]
        if len(hits) == 1:
            d = st.dist(rid, hits[0]) if F["placed"][hits[0]] else np.nan
            if joins.join(hits[0], rid, "name (ETYS)", d, "medium"):
                if best_d <= rules.nged_sgp_gsp_m and joins.find(best) != joins.find(rid):
                    st.flag(
                        rid,
                        best,
                        "adjacent_distinct_sites",
                        best_d,
                        "NGED names a different ETYS site than the nearest FES GSP: kept apart",
                    )
                continue
        if best_d <= rules.nged_sgp_gsp_m:
            close = {joins.find(c[1]) for c in cand if c[0] <= max(best_d * rules.ambiguity_ratio, 50.0)}
            if len(close) == 1:
                joins.join(best, rid, "distance (NGED Super Grid to GSP)", best_d, "medium")
            else:
                st.flag(
                    rid,
                    ";".join(c[1] for c in cand),
                    "several_gsps_near",
                    best_d,
                    "several FES GSPs near an NGED Super Grid site",
                )


def _node_snapshot(st: _State) -> tuple[dict[str, list[str]], dict[str, tuple[float, float, str] | None]]:
    """Current nodes (root -> records) and each node's location (x, y, source) by source priority."""
    F = st.f
    groups = st.joins.groups()
    xy: dict[str, tuple[float, float, str] | None] = {}
    for root, members in groups.items():
        placed = [m for m in members if F["placed"][m] and F["source"][m] != "tec"]
        best = min(placed, key=lambda m: (_XY_ORDER.index(F["source"][m]), m), default=None)
        xy[root] = None if best is None else (F["x"][best], F["y"][best], F["source"][best])
    return groups, xy


def _node_keys(st: _State, groups: dict[str, list[str]]) -> dict[str, set[str]]:
    F = st.f
    out: dict[str, set[str]] = defaultdict(set)
    for root, members in groups.items():
        for m in members:
            if F["source"][m] != "tec":
                out[root] |= set(F["keys"][m])
    return out


def _tier(st: _State, members: list[str]) -> int:
    """1 for nodes holding a grid site record (ETYS, FES, OSM, other, NGED grid types), else 2."""
    F = st.f
    return (
        1
        if any(
            F["source"][m] in ("fes", "etys", "osm", "other") or F["kind"][m] in NGED_GRID_TYPES
            for m in members
        )
        else 2
    )


def _name_pass(st: _State, pool: pd.DataFrame, label: str) -> None:
    """Stage 4: join each record of ``pool`` to the node of the same name nearby."""
    rules, joins = st.rules, st.joins
    F = st.f
    groups, xy = _node_snapshot(st)
    by_key: dict[str, set[str]] = defaultdict(set)
    for root, keys in _node_keys(st, groups).items():
        for k in keys:
            by_key[k].add(root)
    for rid, r in pool.iterrows():
        me = joins.find(rid)
        cands = set().union(*(by_key.get(k, set()) for k in r["keys"])) - {me} if r["keys"] else set()
        scored: list[tuple[float, str]] = []
        for c in sorted(cands):
            if label == "nged" and all(F["source"][m] == "nged" for m in groups[c]):
                continue  # NGED duplicates were handled in stage 3a
            loc = xy.get(c)
            if loc is None:
                scored.append((np.nan, c))  # an unplaced ETYS site: by unique name only
                continue
            d = float(np.hypot(r["x"] - loc[0], r["y"] - loc[1]))
            if d <= (rules.name_geocode_m if loc[2] == "etys" else rules.name_m):
                scored.append((d, c))
        if not scored:
            continue
        best_tier = min(_tier(st, groups[c]) for _, c in scored)
        scored = [s for s in scored if _tier(st, groups[s[1]]) == best_tier]
        placed = sorted(s for s in scored if np.isfinite(s[0]))
        if placed:
            if (
                len(placed) > 1
                and placed[1][0] <= max(placed[0][0] * rules.ambiguity_ratio, 300.0)
                and joins.find(placed[0][1]) != joins.find(placed[1][1])
            ):
                st.flag(
                    rid,
                    ";".join(p[1] for p in placed[:3]),
                    f"{label}_name_matches_several_nodes",
                    placed[0][0],
                    "same name, several nodes nearby",
                )
                continue
            d, c = placed[0]
            joins.join(c, rid, f"name+distance ({label})", d, "high" if d <= 1000 else "medium")
        elif len(scored) == 1:
            joins.join(scored[0][1], rid, f"unique name, unplaced ETYS site ({label})", np.nan, "medium")
        else:
            st.flag(
                rid,
                ";".join(s[1] for s in scored),
                f"{label}_name_matches_several_unplaced_sites",
                np.nan,
                "same name, several unplaced ETYS sites",
            )


def _osm_ref(st: _State) -> None:
    """Stage 4a: an OSM ``ref`` that is an ETYS code, confirmed by name."""
    rec = st.rec
    F = st.f
    pool = rec[rec["source"].isin(["osm", "other"]) & rec["code"].notna()]
    for rid, r in pool.iterrows():
        er = f"etys:{r['code']}"
        if er not in rec.index:
            continue
        sim = max((name_similarity(a, b) for a in r["alt"] for b in F["alt"][er]), default=0.0)
        if sim >= st.rules.code_name_similarity:
            st.joins.join(er, rid, "OSM ref = ETYS code, confirmed by name", np.nan, "high")


def _distance_only(st: _State) -> None:
    """Stage 5: OSM/other records still alone join the nearest site node within 1 km."""
    rec, rules, joins = st.rec, st.rules, st.joins
    F = st.f
    groups, xy = _node_snapshot(st)
    targets = []
    for root, members in groups.items():
        if xy[root] is None:
            continue
        srcs = {F["source"][m] for m in members}
        kinds = {F["kind"][m] for m in members}
        if srcs & {"fes", "etys"} or "Super Grid Substation" in kinds or srcs <= {"osm", "other"}:
            targets.append(root)
    if not targets:
        return
    pts = np.array([xy[t][:2] for t in targets], dtype=float)  # type: ignore[index]
    tree = cKDTree(pts)
    flagged = {a[0] for a in st.ambiguous}
    node_keys = _node_keys(st, groups)
    pool = rec[rec["source"].isin(["osm", "other"])]
    k = min(4, len(targets))
    dist, pos = tree.query(pool[["x", "y"]].to_numpy(float), k=k)
    dist, pos = dist.reshape(len(pool), k), pos.reshape(len(pool), k)
    for row, (rid, r) in enumerate(pool.iterrows()):
        me = joins.find(rid)
        if len(groups.get(me, [rid])) > 1 or rid in flagged:
            continue
        near = [(float(d), targets[p]) for d, p in zip(dist[row], pos[row], strict=True) if targets[p] != me]
        if not near or near[0][0] > rules.osm_distance_m:
            continue
        d0, target = near[0]
        if len(near) > 1 and near[1][0] <= d0 * rules.ambiguity_ratio and near[1][0] <= rules.osm_distance_m:
            st.flag(
                rid,
                ";".join(n[1] for n in near[:2]),
                "osm_several_nodes_near",
                d0,
                "two nodes within the ratio",
            )
            continue
        node_kv = set().union(*(F["kvs"][m] for m in groups[target] if F["source"][m] != "tec"))
        if r["kvs"] and node_kv and max(r["kvs"]) > max(node_kv):
            st.flag(
                rid,
                target,
                "osm_voltage_higher",
                d0,
                f"OSM {max(r['kvs']):g} kV > node {max(node_kv):g} kV: not joined on distance alone",
            )
            continue
        tkeys = node_keys[target]
        if r["keys"] and not (set(r["keys"]) & tkeys):
            if {k_.split()[0] for k_ in r["keys"]} & {k_.split()[0] for k_ in tkeys}:
                joins.join(target, rid, "first name word + distance", d0, "medium")
            else:
                st.flag(rid, target, "osm_name_disagrees", d0, "close but the names differ")
            continue
        conf = "low" if d0 > rules.low_confidence_m else "medium"
        joins.join(target, rid, "distance only", d0, conf)


class _NameIndex:
    """Node look-ups by name key, by key without generic wind-farm words and by space-free key."""

    def __init__(self, node_keys: dict[str, set[str]]) -> None:
        self.exact: dict[str, set[str]] = defaultdict(set)
        self.loose: dict[str, set[str]] = defaultdict(set)
        self.compact: dict[str, set[str]] = defaultdict(set)
        for node, keys in node_keys.items():
            for k in keys:
                self.exact[k].add(node)
                self.compact[k.replace(" ", "")].add(node)
                # node names may also drop "onshore" ("BEATRICE ONSHORE" <- "Beatrice 400kV"); never "offshore"
                for lk in {loose_key(k), loose_key(re.sub(r"\bonshore\b", " ", k))} - {""}:
                    self.loose[lk].add(node)

    def find(self, text: str, keys: list[str]) -> tuple[set[str], str]:
        """Nodes a TEC connection-site string may name, and how they were found."""
        hit = set().union(*(self.exact.get(k, set()) for k in keys)) if keys else set()
        if hit:
            return hit, "name"
        if "offshore" not in text.lower():
            hit = set().union(*(self.loose.get(loose_key(k), set()) for k in keys)) if keys else set()
            if hit:
                return hit, "name without generic wind-farm words"
        hit = set().union(*(self.compact.get(k.replace(" ", ""), set()) for k in keys)) if keys else set()
        return hit, "space-free name"


def _fuzzy(
    keys: list[str], text: str, candidates: dict[str, set[str]], threshold: float
) -> tuple[set[str], float]:
    """Nodes whose space-free key is closest to one of ``keys`` (same first two letters, length
    within 2, same offshore-ness), if the ratio reaches ``threshold``."""
    offshore = "offshore" in text.lower()
    best: set[str] = set()
    top = 0.0
    for k1 in {k.replace(" ", "") for k in keys}:
        for node, kk in candidates.items():
            if offshore != any("offshore" in k for k in kk):
                continue
            for k2 in kk:
                if abs(len(k1) - len(k2)) > 2 or k1[:2] != k2[:2]:
                    continue
                sc = difflib.SequenceMatcher(None, k1, k2).ratio()
                if sc > top:
                    best, top = {node}, sc
                elif sc == top:
                    best.add(node)
    return (best, top) if top >= threshold else (set(), top)


def _tec_keys(text: str) -> list[str]:
    """Name keys of a TEC string and of its bracket and '/'-separated alternatives
    ("Fort Augustus GSP/New Fort Augustus GSP", "Elton (Merseyside 132kV Substation)")."""
    variants = [text] + text.split("/") if "/" in text and not re.search(r"\d\s*/\s*\d", text) else [text]
    keys: list[str] = []
    for v in variants:
        keys += [k for k in (name_key(without_brackets(v)), name_key(bracketed(v))) if k]
    return keys


def _tec_pass(st: _State) -> None:
    """Stage 6: TEC connection sites (free text, no coordinates) -> nodes by name."""
    rec, rules, joins = st.rec, st.rules, st.joins
    F = st.f
    groups, xy = _node_snapshot(st)
    live = {r: m for r, m in groups.items() if any(F["source"][x] != "tec" for x in m)}
    node_keys = {r: k for r, k in _node_keys(st, live).items() if k}
    tiers = {r: _tier(st, m) for r, m in live.items()}
    index = _NameIndex(node_keys)
    fuzzy_pool = {c: {k.replace(" ", "") for k in ks} for c, ks in node_keys.items() if tiers[c] == 1}
    node_kv = {r: set().union(*(F["kvs"][m] for m in mem)) for r, mem in live.items()}
    node_src = {r: {F["source"][m] for m in mem} for r, mem in live.items()}
    for rid in rec.index[rec["source"] == "tec"]:
        text, kvs = str(F["name"][rid]), F["kvs"][rid]
        if _CONNECTION_NODE.search(text):
            st.unresolved.append((rid, "planned NESO connection node (no substation yet)"))
            continue
        keys = _tec_keys(text)
        cands, method = index.find(text, keys)
        if not cands:
            cands, top = _fuzzy(keys, text, fuzzy_pool, rules.tec_fuzzy)
            method = f"fuzzy name ({top:.2f})"
        if not cands:
            st.unresolved.append((rid, "no node with this name"))
            continue

        def strength(c: str, kvs: frozenset[float] = kvs) -> tuple[int, bool]:
            return int("etys" in node_src[c]) + int("fes" in node_src[c]), bool(kvs & node_kv[c])

        best_tier = min(tiers[c] for c in cands)
        ranked = sorted(sorted(c for c in cands if tiers[c] == best_tier), key=strength, reverse=True)
        if len(ranked) > 1 and strength(ranked[0]) == strength(ranked[1]):
            a, b = xy.get(ranked[0]), xy.get(ranked[1])
            if not (a and b and np.hypot(a[0] - b[0], a[1] - b[1]) <= rules.name_m):
                st.flag(
                    rid,
                    ";".join(ranked[:3]),
                    "tec_name_matches_several_nodes",
                    np.nan,
                    "TEC name matches several nodes",
                )
                continue
        if _NUMBERED.search(text):
            method += " (numbered: may be a new site)"
        top_strength = strength(ranked[0])
        if "fuzzy" in method or "numbered" in method:
            conf = "low"
        elif top_strength[0] and (not kvs or top_strength[1]):
            conf = "high"
        else:
            conf = "medium"
        joins.join(ranked[0], rid, f"TEC {method}", np.nan, conf)


# --------------------------------------------------------------------------------- summary
def _display_name(F: dict[str, dict[str, Any]], members: list[str], node_id: str) -> str:
    by_src = defaultdict(list)
    for m in sorted(members):
        if F["name"][m]:
            by_src[F["source"][m]].append(F["name"][m])
    if by_src.get("fes"):
        return strip_voltages(by_src["fes"][0])
    if by_src.get("etys"):
        return by_src["etys"][0].title()
    for src in ("osm", "nged", "other"):
        if by_src.get(src):
            return strip_voltages(by_src[src][0].split(";")[0])
    return ""  # named after classification, with its voltage (see _classify)


def _node_id(F: dict[str, dict[str, Any]], members: list[str]) -> str:
    for src in ("etys", "fes", "nged", "osm", "other"):
        ids = sorted(m for m in members if F["source"][m] == src)
        if ids:
            return ids[0]
    return sorted(members)[0]


def _summarise(
    st: _State, layers: LayerSet, tec_mw: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    rec = st.rec
    F = st.f
    groups, xy = _node_snapshot(st)
    rows, members = [], []
    candidates: dict[str, list[tuple[float, float, str]]] = {}
    for root, mem in groups.items():
        site = [m for m in mem if F["source"][m] != "tec"]
        if not site:
            continue  # TEC strings that joined nothing are listed as unresolved
        node_id = _node_id(F, site)
        src = {F["source"][m] for m in site}
        kv_by = {m: F["kvs"][m] for m in site if F["kvs"][m]}
        kvs = set().union(*kv_by.values()) if kv_by else set()
        tec_kv = set().union(*(F["kvs"][m] for m in mem if F["source"][m] == "tec"))
        if not kv_by:  # only a TEC connection-site name states a voltage: use it, and say so
            kv_by = {m: F["kvs"][m] for m in mem if F["source"][m] == "tec" and F["kvs"][m]}
        vmax = max(set().union(*kv_by.values())) if kv_by else np.nan
        giver = min(
            (m for m, k in kv_by.items() if vmax in k),
            key=lambda m: (_SOURCE_ORDER.index(F["source"][m]), m),
            default=None,
        )
        etys = [m for m in site if F["source"][m] == "etys"]
        ops = [
            F["operator"][m]
            for s in ("etys", "fes", "nged", "osm", "other")
            for m in sorted(site)
            if F["source"][m] == s and F["operator"][m]
        ]
        loc = xy[root]
        nged_kinds = [_NGED_KIND.get(F["kind"][m], "other") for m in site if F["source"][m] == "nged"]
        ids = {
            s: ";".join(sorted(F["record_id"][m] for m in site if F["source"][m] == s))
            for s in ("fes", "nged", "osm", "other")
        }
        e0 = etys[0] if etys else None
        by_priority = sorted(
            (m for m in site if F["placed"][m]), key=lambda m: (_XY_ORDER.index(F["source"][m]), m)
        )
        seen: set[str] = set()
        candidates[node_id] = []
        for m in by_priority:  # one position per source, best first (the first is ``loc``)
            if F["source"][m] not in seen:
                seen.add(F["source"][m])
                candidates[node_id].append((F["x"][m], F["y"][m], F["source"][m]))
        rows.append(
            {
                "node_id": node_id,
                "name": _display_name(F, site, node_id),
                "voltage_kv": vmax,
                "voltage_source": F["dataset"][giver] if giver else "",
                "voltages_kv": ";".join(f"{v:g}" for v in sorted(kvs, reverse=True)),
                "tec_voltages_kv": ";".join(
                    f"{v:g}" for v in sorted({v for v in tec_kv if v >= 132} - kvs, reverse=True)
                ),
                "operator": ops[0] if ops else "",
                "etys_code": F["record_id"][e0] if e0 else "",
                "etys_offshore": bool(e0 and F["kind"][e0] == "etys_offshore"),
                "fes_gsp_ids": ids["fes"],
                "nged_ids": ids["nged"],
                "osm_ids": ids["osm"],
                "other_ids": ids["other"],
                "has_fes": "fes" in src,
                "nged_super_grid": "gsp" in nged_kinds,
                "nged_kind": min(nged_kinds, key=["gsp", "bsp", "switching", "primary", "other"].index)
                if nged_kinds
                else "",
                "other_kind": next(
                    (str(F["kind"][m]) for m in sorted(site) if F["source"][m] == "other"), ""
                ),
                "sources": ";".join(sorted({F["dataset"][m] for m in site})),
                "n_sources": len(src),
                "n_sources_incl_tec": len(src) + int(any(F["source"][m] == "tec" for m in mem)),
                "n_records": len(site),
                "tec_connection_sites": "; ".join(
                    sorted(F["record_id"][m] for m in mem if F["source"][m] == "tec")
                ),
                "circuit_rating_mva": F["circuit_rating_mva"][e0]
                if e0 and "circuit_rating_mva" in rec
                else np.nan,
                "largest_circuit_mva": F["largest_circuit_mva"][e0]
                if e0 and "largest_circuit_mva" in rec
                else np.nan,
                "x": loc[0] if loc else np.nan,
                "y": loc[1] if loc else np.nan,
                "xy_source": (f"{loc[2]} geocode" if loc[2] == "etys" else loc[2]) if loc else "",
            }
        )
        for m in mem:
            method, d, conf = st.joins.how.get(m, ("anchor" if len(mem) > 1 else "single record", np.nan, ""))
            members.append(
                {
                    "node_id": node_id,
                    "record": m,
                    "source": F["source"][m],
                    "dataset": F["dataset"][m],
                    "record_id": F["record_id"][m],
                    "name": F["name"][m],
                    "method": method,
                    "distance_m": d,
                    "confidence": conf,
                    "states_voltage": bool(F["kvs"][m]),
                }
            )
    nodes = pd.DataFrame(rows).set_index("node_id").sort_index()
    mem = pd.DataFrame(members)
    nodes, misplaced, check = check_positions(nodes, candidates, layers.grid_circuit_table, st.rules)
    nodes = _classify(nodes, layers)
    nodes = _with_tec(nodes, mem, tec_mw)
    geometry = [
        shapely.Point(x, y) if np.isfinite(x) else None for x, y in zip(nodes["x"], nodes["y"], strict=True)
    ]
    gdf = gpd.GeoDataFrame(nodes, geometry=geometry, crs=BNG)
    return gdf, mem.sort_values(["node_id", "record"]).reset_index(drop=True), misplaced, check


# --------------------------------------------------------------------------------- positions
MISPLACED_COLUMNS = [
    "node_id",
    "etys_code",
    "name",
    "source",
    "x",
    "y",
    "excess_km",
    "contradicts",
    "outcome",
]
_XY_TRUST = {"nged": 4.0, "fes": 3.0, "osm": 2.0, "other": 2.0, "etys": 1.0}
"""How much a position is trusted when a circuit says one of its two ends is wrong: NGED's surveyed
sites, then FES GSP locations, OSM mapping, and last a community geocode of the site's name."""


def _source_label(source: str) -> str:
    return "etys geocode" if source == "etys" else source


def _circuit_pairs(circuits: pd.DataFrame, codes: pd.Series) -> pd.DataFrame | None:
    """One row per pair of ETYS site codes joined by at least one circuit with a published length
    (``a``, ``b``: node ids; ``km``: the longest published route between them, so a single short
    or placeholder entry never condemns a position that a parallel circuit allows)."""
    need = {"site_1", "site_2", "length_km"}
    if not need <= set(circuits.columns):
        return None
    km = pd.to_numeric(circuits["length_km"], errors="coerce")
    s1, s2 = circuits["site_1"].astype(str), circuits["site_2"].astype(str)
    keep = (s1 != s2) & (km > 0)
    a = np.where(s1 < s2, s1, s2)[keep.to_numpy()]
    b = np.where(s1 < s2, s2, s1)[keep.to_numpy()]
    pairs = (
        pd.DataFrame({"ca": a, "cb": b, "km": km[keep].to_numpy()})
        .groupby(["ca", "cb"], as_index=False)["km"]
        .max()
    )
    node_of = pd.Series(codes.index.to_numpy(), index=codes.to_numpy())
    node_of = node_of[~node_of.index.duplicated()]
    pairs["a"], pairs["b"] = pairs["ca"].map(node_of), pairs["cb"].map(node_of)
    return pairs.dropna(subset=["a", "b"]).reset_index(drop=True)


def check_positions(
    nodes: pd.DataFrame,
    candidates: dict[str, list[tuple[float, float, str]]],
    circuits: pd.DataFrame | None,
    rules: NodeRules,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Check every node position against the ETYS circuit lengths, and drop those that contradict.

    A circuit from site A to site B of published route length L (overhead line plus cable) means
    A and B are at most L apart in a straight line; allowing ``rules.circuit_slack_m`` for
    position error and placeholder lengths, a pair farther apart than that has at least one end in
    the wrong place. The ends to blame are found greedily: while a contradiction remains, the
    position with the most contradictions per unit of trust (its source's trust,
    :data:`_XY_TRUST`, times one plus the circuits it satisfies) is rejected; the node then takes
    its next source's position (checked in turn) or, with none left, is left unplaced. A
    position is never moved to where its neighbours suggest: a circuit bounds a distance, not a
    place.

    Returns the nodes with ``x``, ``y``, ``xy_source``, ``xy_check`` and ``xy_circuits`` updated,
    the rejected positions (:data:`MISPLACED_COLUMNS`) and what the check did.
    """
    nodes = nodes.copy()
    n = len(nodes)
    ids = nodes.index.to_numpy()
    nodes["xy_check"] = np.where(np.isfinite(nodes["x"].to_numpy(float)), "unchecked", "")
    nodes["xy_circuits"] = 0
    empty = pd.DataFrame(columns=MISPLACED_COLUMNS)
    slack_km = rules.circuit_slack_m / 1000.0
    codes = nodes["etys_code"].astype(str)
    pairs = None if circuits is None else _circuit_pairs(circuits, codes[codes != ""])
    if pairs is None:
        why = (
            "layer grid_circuit_table not available"
            if circuits is None
            else "the stored ETYS circuit table has no route lengths (pull it again)"
        )
        nodes["xy_check"] = np.where(nodes["xy_check"] == "unchecked", "not checked", "")
        return nodes, empty, {"ran": False, "reason": f"positions not checked against ETYS circuits: {why}"}
    row = pd.Series(np.arange(n), index=ids)
    ia, ib = row[pairs["a"]].to_numpy(), row[pairs["b"]].to_numpy()
    limit = pairs["km"].to_numpy(float) + slack_km
    choice = np.zeros(n, dtype=int)  # index into each node's candidate positions
    cand = [candidates.get(i, []) for i in ids]
    x, y = nodes["x"].to_numpy(float).copy(), nodes["y"].to_numpy(float).copy()
    src = np.array([c[0][2] if c else "" for c in cand], dtype=object)
    rejected: list[dict[str, Any]] = []
    km_all = pairs["km"].to_numpy(float)
    while True:
        live = np.isfinite(x[ia]) & np.isfinite(x[ib])
        d = np.hypot(x[ia] - x[ib], y[ia] - y[ib]) / 1000.0
        bad = live & (d > limit)
        if not bad.any():
            break
        good = live & ~bad
        v = np.bincount(ia[bad], minlength=n) + np.bincount(ib[bad], minlength=n)
        ok = np.bincount(ia[good], minlength=n) + np.bincount(ib[good], minlength=n)
        trust = np.array([_XY_TRUST.get(str(t), 2.0) for t in src])
        score = v / (trust * (1.0 + ok))
        # the most contradicted per unit of trust; then the one explaining more contradictions
        k = int(min(np.flatnonzero(v > 0), key=lambda j: (-score[j], -v[j], trust[j], str(ids[j]))))
        mine = bad & ((ia == k) | (ib == k))
        partners = np.where(ia[mine] == k, ib[mine], ia[mine])
        # a partner standing exactly as k stands: the circuits cannot tell which end is wrong, so
        # neither position is used
        same = [int(o) for o in partners if (score[o], v[o], trust[o]) == (score[k], v[k], trust[k])]
        for j in [k, *sorted(set(same), key=lambda o: str(ids[o]))]:
            hit = bad & ((ia == j) | (ib == j))
            other = np.where(ia[hit] == j, ib[hit], ia[hit])
            words = [
                f"{codes.iloc[o] or ids[o]} {dd:,.1f} km away, circuit {km:,.2f} km"
                for o, dd, km in zip(other, d[hit], km_all[hit], strict=True)
            ]
            rejected.append(
                {
                    "node_id": ids[j],
                    "etys_code": codes.iloc[j],
                    "name": nodes["name"].iloc[j],
                    "source": _source_label(str(src[j])),
                    "x": x[j],
                    "y": y[j],
                    "excess_km": round(float((d[hit] - km_all[hit]).max()), 1),
                    "contradicts": "; ".join(words)
                    + (" (which end is wrong cannot be told: neither is used)" if same else ""),
                    "outcome": "",
                }
            )
        for j in {k, *same}:
            choice[j] += 1
            if choice[j] < len(cand[j]):
                x[j], y[j], src[j] = cand[j][choice[j]]
            else:
                x[j], y[j], src[j] = np.nan, np.nan, ""
    live = np.isfinite(x[ia]) & np.isfinite(x[ib])
    checked = np.bincount(ia[live], minlength=n) + np.bincount(ib[live], minlength=n)
    status = np.where(np.isfinite(x), np.where(checked > 0, "consistent", "unchecked"), "")
    moved = choice > 0
    status = np.where(moved, np.where(np.isfinite(x), "replaced", "rejected"), status)
    nodes["x"], nodes["y"] = x, y
    nodes["xy_source"] = [_source_label(str(t)) if t else "" for t in src]
    nodes["xy_check"] = status
    nodes["xy_circuits"] = checked.astype(int)
    out = pd.DataFrame(rejected, columns=MISPLACED_COLUMNS)
    if len(out):
        final = pd.Series(nodes["xy_source"].to_numpy(), index=ids)[out["node_id"]].to_numpy()
        last = ~out["node_id"].duplicated(keep="last").to_numpy()
        out["outcome"] = np.where(
            ~last, "replaced by the next source", np.where(final == "", "unplaced", "placed by " + final)
        )
    return (
        nodes,
        out,
        {
            "ran": True,
            "slack_km": slack_km,
            "circuit_pairs_compared": int(live.sum()),
            "positions_rejected": int(len(out)),
            "nodes_left_unplaced": int((status == "rejected").sum()),
            "nodes_placed_by_another_source": int((status == "replaced").sum()),
        },
    )


def _classify(nodes: pd.DataFrame, layers: LayerSet) -> pd.DataFrame:
    """placed, scottish, is_transmission, is_gsp, kind and the firm capacity of each node."""
    nodes = nodes.copy()
    nodes["placed"] = np.isfinite(nodes["x"].to_numpy(float))
    ops = nodes["operator"].astype(str)
    scot = np.array([bool(set(o.split("|")) & SCOTTISH_TOS) for o in ops], dtype=bool)
    placed = nodes["placed"].to_numpy()
    if placed.any():
        pts = shapely.points(nodes["x"].to_numpy(float)[placed], nodes["y"].to_numpy(float)[placed])
        scot[placed] |= _geo.nation_of(pts, layers) == "Scotland"
    nodes["scottish"] = scot
    v = nodes["voltage_kv"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        tx = (v >= TRANSMISSION_KV) | (scot & (v >= SCOTTISH_TRANSMISSION_KV))
    # records of datasets the resolver does not know (synthetic layers, future sources) keep the kind
    # their layer gives them
    tx = tx | (nodes["other_kind"] == "transmission").to_numpy()
    nodes["is_transmission"] = tx
    nodes["is_gsp"] = nodes["has_fes"] | nodes["nged_super_grid"] | (nodes["other_kind"] == "gsp")
    kind = np.where(
        nodes["nged_kind"] != "",
        nodes["nged_kind"],
        np.where(nodes["other_kind"] != "", nodes["other_kind"], "other"),
    )
    kind = np.where(nodes["etys_offshore"], "offshore", kind)
    kind = np.where(nodes["is_gsp"], "gsp", kind)
    nodes["kind"] = np.where(tx, "transmission", kind)
    unnamed = nodes["name"] == ""
    ids = nodes.index.to_series().str.replace(":", " ", regex=False).str.replace("osm", "OSM", regex=False)
    volt = nodes["voltage_kv"].map(lambda v: f"{v:g} kV " if np.isfinite(v) else "")
    nodes.loc[unnamed, "name"] = "unnamed " + volt[unnamed] + "node (" + ids[unnamed] + ")"
    firm = nodes["circuit_rating_mva"] - nodes["largest_circuit_mva"]
    nodes["firm_capacity_mva"] = firm.where(nodes["circuit_rating_mva"].notna())
    return nodes.drop(columns=["nged_kind", "other_kind", "etys_offshore", "nged_super_grid"])


def _with_tec(nodes: pd.DataFrame, members: pd.DataFrame, tec_mw: pd.DataFrame) -> pd.DataFrame:
    """tec_contracted_mw / tec_projects: TEC projects not yet Built, by the node their site joined."""
    site_node = members.loc[members["source"] == "tec"].set_index("record_id")["node_id"]
    node = tec_mw["connection_site"].map(site_node)
    per = tec_mw.assign(node_id=node).dropna(subset=["node_id"]).groupby("node_id")["mw"].agg(["sum", "size"])
    nodes["tec_contracted_mw"] = per["sum"].reindex(nodes.index).fillna(0.0).astype(float)
    nodes["tec_projects"] = per["size"].reindex(nodes.index).fillna(0).astype(int)
    return nodes


def build_grid_nodes(layers: LayerSet, rules: NodeRules | None = None) -> GridNodes:
    """Resolve the grid records of ``layers`` (substations, grid_sites, tec_projects) into nodes.

    Works with whatever is present: without ``grid_sites`` the placed ETYS rows of the
    substations layer stand in for the ETYS index; without ``tec_projects`` no TEC is attached.
    Records of datasets it does not know are joined like OSM records (by name, then distance).
    """
    rules = rules or NodeRules()
    rec, excluded = _records(layers)
    st = _State(rec, _Joins(rec), rules)
    _fes_to_etys(st)
    _fes_same_site(st)
    _nged_same_site(st)
    _nged_super_grid(st)
    _osm_ref(st)
    nged_grid = rec[(rec["source"] == "nged") & rec["kind"].isin(NGED_GRID_TYPES)]
    _name_pass(st, nged_grid, "nged")
    _name_pass(st, rec[rec["source"].isin(["osm", "other"]) & rec["keys"].map(bool)], "osm")
    _distance_only(st)
    _tec_pass(st)
    tec = layers.tec_projects
    pending = (
        contracted_not_built(tec)
        if tec is not None and len(tec)
        else pd.DataFrame({"connection_site": pd.Series(dtype=str), "mw": pd.Series(dtype=float)})
    )
    pending = pending.assign(connection_site=pending["connection_site"].astype(str).str.strip())
    nodes, members, misplaced, position_check = _summarise(st, layers, pending)
    tec_site_node = members.loc[members["source"] == "tec"].set_index("record_id")["node_id"]
    on_node = pending["connection_site"].map(tec_site_node)
    placed_nodes = set(nodes.index[nodes["placed"]])
    tec_rows = {
        "not_yet_built_projects": int(len(pending)),
        "on_a_placed_node": int(on_node.isin(placed_nodes).sum()),
        "on_an_unplaced_node": int((on_node.notna() & ~on_node.isin(placed_nodes)).sum()),
        "unmatched": int(on_node.isna().sum()),
    }
    cols5 = ["record", "candidates", "type", "distance_m", "note"]
    return GridNodes(
        nodes=nodes,
        members=members,
        ambiguous=pd.DataFrame(st.ambiguous, columns=cols5),
        unresolved=pd.DataFrame(st.unresolved, columns=["record", "reason"]),
        conflicts=pd.DataFrame(
            st.joins.conflicts, columns=["record", "target", "method", "distance_m", "note"]
        ),
        excluded=excluded,
        rules=rules,
        tec_rows=tec_rows,
        misplaced=misplaced,
        position_check=position_check,
    )

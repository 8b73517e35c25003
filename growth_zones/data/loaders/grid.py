"""Electricity grid datasets -> ``substations``, ``circuits``, ``grid_boundaries``, ``tec_projects``,
``renewables`` and the ``site_coordinates`` helper table.

Voltages are the highest at the site/circuit in kV (NaN when the source does not say); nothing is
guessed from location. Where the transmission/distribution split depends on the nation (132 kV is
transmission in Scotland only) and the source has no owner to tell, ``kind`` is left at "other" and
the indicator code decides with the ``countries`` layer.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...errors import SchemaError
from ...settings import BNG, WGS84
from ..crs import TransformRecord, points_from_lonlat, to_bng
from ..validate import require_columns
from . import Normalised, RawInput
from ._common import (
    already_bng,
    bng_points,
    finish,
    max_kv_from_name,
    max_kv_from_volts,
    number,
    read_table,
    read_vector,
    require_dep,
    text,
)

SITE_COORDS = "pypsa_gb_etys_site_coordinates"
CIRCUIT_TABLE = "neso_etys2024_circuit_table"
SCOTTISH_TOS = ("SP Transmission", "SHE Transmission")

# FES "GSP Group" is the DNO licence area the GSP feeds (Elexon GSP group ids).
GSP_GROUP_DNO = {
    "_A": "UK Power Networks (Eastern)",
    "_B": "NGED (East Midlands)",
    "_C": "UK Power Networks (London)",
    "_D": "SP Energy Networks (Manweb)",
    "_E": "NGED (West Midlands)",
    "_F": "Northern Powergrid (North East)",
    "_G": "Electricity North West",
    "_H": "SSEN (Southern)",
    "_J": "UK Power Networks (South Eastern)",
    "_K": "NGED (South Wales)",
    "_L": "NGED (South West)",
    "_M": "Northern Powergrid (Yorkshire)",
    "_N": "SP Energy Networks (Distribution)",
    "_P": "SSEN (North of Scotland)",
}

NGED_KIND = {
    "super grid substation": "transmission",
    "bulk supply point": "bsp",
    "primary substation": "primary",
    "ehv switching station": "switching",
    "132kv switching station": "switching",
}

# ETYS node codes: 4-letter site + voltage digit + suffix ("ABHA4A").
NODE_VOLTAGE_DIGIT = {"4": 400.0, "2": 275.0, "1": 132.0}
# ... every digit seen in the 2024/25 circuits (3 = 33 kV and 6 = 66 kV on OFTO and SHET ends)
ALL_NODE_VOLTAGE_DIGITS = {**NODE_VOLTAGE_DIGIT, "3": 33.0, "6": 66.0}
OSM_SITE_TYPES = ("substation", "sub_station", "merge")
PLACEHOLDER_MVA = 9999.0  # ETYS uses 9999 for zero-impedance couplers and "no limit"


# ----------------------------------------------------------------------------- substations
def normalise_fes_gsp(raw: RawInput) -> Normalised:
    """FES GSP list (lat/lon, 3 dp) -> substations of kind "gsp".

    voltage_kv stays NaN: names state the DNO side ("Acton Lane 66kV") while the site's highest
    voltage is the transmission one, which the file does not give (``grid_nodes`` takes it from
    ETYS by site code). ``comments`` is kept: split busbars name their ETYS code there
    ('GSP "DUMF" modelled as 3 parts').
    """
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    rows_in = len(df)
    ok = df["Latitude"].notna() & df["Longitude"].notna()
    df = df[ok]
    group = text(df["GSP Group"]) if "GSP Group" in df else pd.Series("", index=df.index)
    comments = text(df["Comments"]) if "Comments" in df else pd.Series("", index=df.index)
    gdf, record = points_from_lonlat(
        df["Longitude"].to_numpy(),
        df["Latitude"].to_numpy(),
        id=text(df["GSP ID"]).to_numpy(),
        name=text(df["Name"]).to_numpy(),
        voltage_kv=np.full(len(df), np.nan),
        operator=group.map(GSP_GROUP_DNO).fillna("").to_numpy(),
        kind=np.full(len(df), "gsp", dtype=object),
        gsp_group=group.to_numpy(),
        comments=comments.to_numpy(),
    )
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        dropped={"no coordinates": int((~ok).sum())},
        transform=record,
        extra=("gsp_group", "comments"),
    )


def normalise_site_coordinates(raw: RawInput) -> Normalised:
    """PyPSA-GB geocodes of ETYS site codes -> helper table (community-derived, expect errors)."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    rows_in = len(df)
    out = pd.DataFrame(
        {
            "site_code": text(df["site_code"]).str.upper(),
            "site_name": text(df["site_name"]),
            "lon": number(df["lon"]),
            "lat": number(df["lat"]),
            "geocode_source": text(df["source"]) if "source" in df else "",
        }
    )
    ok = out["lon"].notna() & out["lat"].notna()
    out = out[ok]
    dup = out["site_code"].duplicated()
    out = out[~dup]
    return finish(
        out,
        raw,
        rows_in=rows_in,
        extra=("geocode_source",),
        dropped={"no coordinates": int((~ok).sum()), "duplicate site_code": int(dup.sum())},
    )


def _site_points(coords: pd.DataFrame) -> tuple[pd.DataFrame, TransformRecord]:
    """Site code -> BNG x/y (OSTN15), plus the TransformRecord."""
    coords = coords.assign(site_code=coords["site_code"].astype("str").str.strip().str.upper())
    coords = coords.drop_duplicates("site_code").dropna(subset=["lon", "lat"])
    gdf, record = points_from_lonlat(
        coords["lon"].to_numpy(), coords["lat"].to_numpy(), site_code=coords["site_code"].to_numpy()
    )
    xy = pd.DataFrame(
        {"x": gdf.geometry.x.to_numpy(), "y": gdf.geometry.y.to_numpy()}, index=gdf["site_code"].to_numpy()
    )
    return xy, record


def normalise_etys_substations(raw: RawInput) -> Normalised:
    """ETYS App. B substation codes (one row per site and voltage) -> one point per geocoded site.

    Highest voltage per site; "transmission" when >= 275 kV, or >= 132 kV on a Scottish TO's
    site (132 kV is transmission in Scotland), else "other".
    """
    key = raw.dataset.key
    df = read_table(raw)
    require_columns(df, key, raw.columns)
    coords = require_dep(raw, SITE_COORDS)
    rows_in = len(df)
    df = pd.DataFrame(
        {
            "site_code": text(df["Site Code"]).str.upper(),
            "name": text(df["Site Name"]),
            "operator": text(df["TO"]),
            "kv": number(df["Voltage (kV)"]),
        }
    )
    df["is_tx"] = (df["kv"] >= 275) | (df["operator"].isin(SCOTTISH_TOS) & (df["kv"] >= 132))
    df = df.sort_values(["site_code", "kv"], ascending=[True, False], na_position="last")
    sites = df.groupby("site_code", sort=False).agg(
        name=("name", "first"),
        operator=("operator", "first"),
        voltage_kv=("kv", "max"),
        is_tx=("is_tx", "any"),
    )
    sites["kind"] = np.where(sites["is_tx"], "transmission", "other")
    xy, record = _site_points(coords)
    placed = sites.index.isin(xy.index)
    sites = sites[placed]
    sites["id"] = sites.index.to_numpy()
    sites["site_code"] = sites.index.to_numpy()
    gdf = bng_points(
        xy.loc[sites.index, "x"].to_numpy(),
        xy.loc[sites.index, "y"].to_numpy(),
        sites.reset_index(drop=True).to_dict("series"),
    )
    notes = {"sites": int(len(placed)), "voltage_unknown_sites": int(gdf["voltage_kv"].isna().sum())}
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        transform=record,
        extra=("site_code",),
        notes=notes,
        dropped={
            "repeat voltage rows of a site": rows_in - len(placed),
            "no coordinates": int((~placed).sum()),
        },
    )


_VIRTUAL_NAME = r"BORDER|BOUNDARY"
_OFFSHORE_NAME = r"OFFSHORE|PLATFORM"


def _etys_sites_from_index(df: pd.DataFrame) -> pd.DataFrame:
    """One row per site code from the App. B index (one row per site and voltage). ``name`` is a
    name that spells the code where there is one: ETYS labels ABHA's 400 kV row "ABERTHAW", but
    its circuits run to Exeter and Landulph (Abham, Devon); Aberthaw is ABTH."""
    idx = pd.DataFrame(
        {
            "site_code": text(df["Site Code"]).str.upper(),
            "name": text(df["Site Name"]),
            "operator": text(df["TO"]),
            "kv": number(df["Voltage (kV)"]),
        }
    )
    idx = idx[idx["site_code"] != ""].reset_index(drop=True)
    letters = idx["name"].str.upper().str.replace(r"[^A-Z]", "", regex=True)
    idx["spells"] = letters.str[:4] == idx["site_code"]
    idx["order"] = np.arange(len(idx))
    by_name = idx.sort_values(["site_code", "spells", "order"], ascending=[True, False, True])

    def joined(values: pd.Series) -> str:
        return "|".join(dict.fromkeys(v for v in values if v))

    sites = by_name.groupby("site_code", sort=True).agg(
        name=("name", "first"), names=("name", joined), operator=("operator", joined)
    )
    kv = idx.dropna(subset=["kv"]).groupby("site_code")["kv"]
    sites["voltages_kv"] = kv.agg(lambda v: ";".join(f"{k:g}" for k in sorted(set(v), reverse=True)))
    sites["voltage_kv"] = kv.max()
    sites["voltages_kv"] = sites["voltages_kv"].fillna("")
    sites["in_index"] = True
    return sites.reset_index()


def _published_km(df: pd.DataFrame) -> pd.Series:
    """ETYS App. B route length of each circuit: overhead line plus cable km (0 where neither is
    given)."""
    blank = pd.Series(np.nan, index=df.index)
    ohl = number(df["OHL Length (km)"]) if "OHL Length (km)" in df else blank
    cable = number(df["Cable Length (km)"]) if "Cable Length (km)" in df else blank
    return ohl.fillna(0) + cable.fillna(0)


def _etys_circuit_ends(circuits: pd.DataFrame) -> pd.DataFrame:
    """Both ends of every circuit of a ``grid_circuit_table``: (site_code, voltage the node code
    states, rating, between_sites)."""
    ends = []
    for me, other, kv in (("site_1", "site_2", "kv_1"), ("site_2", "site_1", "kv_2")):
        ends.append(
            pd.DataFrame(
                {
                    "site_code": circuits[me].astype(str),
                    "kv": pd.to_numeric(circuits[kv], errors="coerce"),
                    "rating": pd.to_numeric(circuits["rating_mva"], errors="coerce"),
                    "between_sites": (circuits[me] != circuits[other]).to_numpy(),
                }
            )
        )
    out = pd.concat(ends, ignore_index=True)
    return out[out["site_code"].str.len() == 4]


def normalise_etys_circuit_table(raw: RawInput) -> Normalised:
    """ETYS App. B circuits -> ``grid_circuit_table``: every circuit by site code, placed or not
    (the ``circuits`` layer keeps only those whose both ends are geocoded). ``kv_1``/``kv_2``: the
    voltage the node code's digit states (4 = 400, 2 = 275, 1 = 132, 6 = 66, 3 = 33 kV).
    ``rating_mva``: Winter Rating, or Rating for OFTO rows; NaN where unpublished or the 9999 MVA
    placeholder ETYS uses for couplers. ``length_km``: the published route length, overhead line
    plus cable; NaN where both are blank or zero (five OFTO cables list 0 km)."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    n1, n2 = text(df["Node 1"]).str.upper(), text(df["Node 2"]).str.upper()
    to = text(df["TO"])
    operator = to
    if "OFTO" in df:  # the OFTO name sits on the first row of each owner's block (merged cells)
        owner = text(df["OFTO"]).replace("", np.nan)[to == "OFTO"].ffill()
        operator = owner.reindex(df.index).fillna(to)
    rating = number(df["Winter Rating (MVA)"])
    if "Rating (MVA)" in df:
        rating = rating.fillna(number(df["Rating (MVA)"]))
    placeholder = rating >= PLACEHOLDER_MVA
    length = _published_km(df)
    out = pd.DataFrame(
        {
            "node_1": n1,
            "node_2": n2,
            "site_1": n1.str[:4],
            "site_2": n2.str[:4],
            "kv_1": n1.str[4].map(ALL_NODE_VOLTAGE_DIGITS).astype("float64"),
            "kv_2": n2.str[4].map(ALL_NODE_VOLTAGE_DIGITS).astype("float64"),
            "rating_mva": rating.mask(placeholder),
            "length_km": length.where(length > 0),
            "operator": operator.astype("str"),
        }
    )
    notes = {
        "rating_9999_as_nan": int(placeholder.sum()),
        "unrated": int(rating.isna().sum()),
        "no_published_length": int((~(length > 0)).sum()),
    }
    return finish(out, raw, rows_in=len(df), notes=notes)


def normalise_etys_site_index(raw: RawInput) -> Normalised:
    """ETYS App. B substation index (+ the circuit table) -> ``grid_sites``: every site code,
    placed or not.

    One row per 4-letter site code of the index plus the codes that appear only as circuit ends
    (OFTO connections such as SALL, CLTO). Every voltage level the index lists (``voltages_kv``)
    and those the circuit node codes state (``circuit_voltages_kv``). ``circuit_rating_mva`` is
    the sum of the published ratings of circuits from the site to another site and
    ``largest_circuit_mva`` the largest of them (placeholders and unpublished ratings are not
    counted). ``x``/``y``: the PyPSA-GB community geocode in BNG, NaN where there is none (579 of
    885 codes): ``grid_nodes`` places those through FES/NGED/OSM. ``role``: "site", "virtual"
    (border/boundary points on lines, not sites), "offshore" (platforms) or "circuit_only".
    """
    index = read_table(raw)
    require_columns(index, raw.dataset.key, raw.columns)
    coords = require_dep(raw, SITE_COORDS)
    ends = _etys_circuit_ends(require_dep(raw, CIRCUIT_TABLE))
    sites = _etys_sites_from_index(index)
    only = sorted(set(ends["site_code"]) - set(sites["site_code"]))
    names = coords.drop_duplicates("site_code").set_index("site_code")["site_name"]
    extra = pd.DataFrame(
        {
            "site_code": only,
            "name": [str(names.get(c, "")) for c in only],
            "operator": "",
            "voltages_kv": "",
            "voltage_kv": np.nan,
            "in_index": False,
        }
    )
    extra["names"] = extra["name"]
    sites = pd.concat([sites, extra], ignore_index=True)
    ckv = (
        ends.dropna(subset=["kv"])
        .groupby("site_code")["kv"]
        .agg(lambda v: ";".join(f"{k:g}" for k in sorted(set(v), reverse=True)))
    )
    between = ends[ends["between_sites"]]
    rating = between.groupby("site_code")["rating"].agg(["sum", "max", "count"])
    code = sites["site_code"]
    sites["circuit_voltages_kv"] = code.map(ckv).fillna("")
    rated = code.map(rating["count"]).fillna(0)
    sites["circuit_rating_mva"] = code.map(rating["sum"]).where(rated > 0)
    sites["largest_circuit_mva"] = code.map(rating["max"]).where(rated > 0)
    sites["rated_circuits"] = rated.astype("float64")
    all_names = sites["names"].astype(str)
    virtual = all_names.str.contains(_VIRTUAL_NAME, case=False)
    offshore = all_names.str.contains(_OFFSHORE_NAME, case=False) & ~all_names.str.contains(
        "ONSHORE", case=False
    )
    sites["role"] = np.select(
        [virtual, offshore, ~sites["in_index"].astype(bool)], ["virtual", "offshore", "circuit_only"], "site"
    )
    xy, record = _site_points(coords)
    placed = code.isin(xy.index)
    sites["x"] = code.map(xy["x"]).astype("float64")
    sites["y"] = code.map(xy["y"]).astype("float64")
    src = coords.drop_duplicates("site_code").set_index("site_code")
    sites["geocode_source"] = (
        code.map(src["geocode_source"]).fillna("").astype(str) if "geocode_source" in src else ""
    )
    notes = {
        "site_codes": int(len(sites)),
        "circuit_only_codes": only,
        "geocoded": int(placed.sum()),
        "not_geocoded": int((~placed).sum()),
        "roles": {str(k): int(v) for k, v in sites["role"].value_counts().items()},
        "with_rated_circuits": int((rated > 0).sum()),
    }
    return finish(sites, raw, rows_in=len(index), transform=record, notes=notes)


def normalise_nged_substations(raw: RawInput) -> Normalised:
    """NGED substation locations: Easting/Northing are already BNG (the *_temp columns are a
    third-party round trip and are ignored). voltage_kv only where the name states it."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    rows_in = len(df)
    x, y = number(df["Easting"]), number(df["Northing"])
    ok = x.notna() & y.notna()
    df, x, y = df[ok], x[ok], y[ok]
    stype = text(df["Substation Type"])
    kind = stype.str.lower().map(NGED_KIND)
    unknown = stype[kind.isna()].value_counts()
    name = text(df["Substation Name"])
    gdf = bng_points(
        x.to_numpy(),
        y.to_numpy(),
        {
            "id": text(df["Substation Number"]).to_numpy(),
            "name": name.to_numpy(),
            "voltage_kv": max_kv_from_name(name).to_numpy(),
            "operator": "NGED",
            "kind": kind.fillna("other").to_numpy(),
            "substation_type": stype.to_numpy(),
        },
    )
    notes = {"unknown_types_as_other": {str(k): int(v) for k, v in unknown.items()}}
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        transform=already_bng(),
        extra=("substation_type",),
        notes=notes,
        dropped={"no coordinates": int((~ok).sum())},
    )


def _osm_frame(raw: RawInput) -> pd.DataFrame:
    df = pd.read_csv(raw.path, sep="#", encoding="utf-8-sig", dtype={"voltage": "str"})
    require_columns(df, raw.dataset.key, raw.columns)
    return df


def normalise_osm_vertices(raw: RawInput) -> Normalised:
    """SciGRID OSM vertices -> substations: typ substation, sub_station and merge (SciGRID's merge
    of substation/plant polygons, which holds major sites such as Wylfa and Whitson); joints and
    plants are dropped. kind "transmission" for >= 275 kV, else "other": 132 kV sites in Scotland
    are transmission too, but OSM gives no owner, so the indicator code applies that rule with the
    countries layer. ``osm_type`` (typ) and ``ref`` (often an ETYS site code) are kept for
    ``grid_nodes``."""
    df = _osm_frame(raw)
    rows_in = len(df)
    typ = text(df["typ"])
    keep = typ.isin(OSM_SITE_TYPES)
    dropped = {f"typ {t}": int(n) for t, n in typ[~keep].value_counts().items()}
    df = df[keep]
    kv = max_kv_from_volts(df["voltage"])
    ref = text(df["ref"]) if "ref" in df else pd.Series("", index=df.index)
    # SciGRID writes names SQL-quoted: 'St John''s Wood substation'
    name = text(df["name"]).str.replace(r"^'(.*)'$", r"\1", regex=True).str.replace("''", "'", regex=False)
    gdf, record = points_from_lonlat(
        number(df["lon"]).to_numpy(),
        number(df["lat"]).to_numpy(),
        id=text(df["v_id"]).to_numpy(),
        name=name.to_numpy(),
        voltage_kv=kv.to_numpy(),
        operator=text(df["operator"]).to_numpy(),
        kind=np.where(kv.to_numpy() >= 275, "transmission", "other"),
        osm_type=typ[keep].to_numpy(),
        ref=ref.to_numpy(),
    )
    return finish(gdf, raw, rows_in=rows_in, dropped=dropped, transform=record, extra=("osm_type", "ref"))


# ----------------------------------------------------------------------------- circuits
def normalise_osm_links(raw: RawInput) -> Normalised:
    """SciGRID OSM lines: mapped route from the WKT (``SRID=4326;`` prefix stripped), length from
    the BNG geometry, highest voltage of the ';'-list; OSM has no ratings."""
    key = raw.dataset.key
    df = _osm_frame(raw)
    rows_in = len(df)
    srid = df["wkt_srid_4326"].astype("str").str.extract(r"^SRID=(\d+);")[0].dropna().unique()
    want = raw.dataset.source_crs or WGS84
    if any(f"EPSG:{s}" != want for s in srid):
        raise SchemaError(f"dataset {key}: expected CRS {want}, found WKT SRIDs {sorted(srid)}")
    wkt = df["wkt_srid_4326"].astype("str").str.replace(r"^SRID=\d+;", "", regex=True)
    geoms = shapely.from_wkt(wkt.where(df["wkt_srid_4326"].notna()).to_numpy(), on_invalid="ignore")
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    gdf = gpd.GeoDataFrame(
        {
            "id": text(df["l_id"]).to_numpy(),
            "voltage_kv": max_kv_from_volts(df["voltage"]).to_numpy(),
            "rating_mva": np.nan,
            "operator": text(df["operator"]).to_numpy(),
            "name": text(df["name"]).to_numpy(),
        },
        geometry=geoms,
        crs=WGS84,
    )[ok]
    gdf, record = to_bng(gdf)
    gdf["length_km"] = gdf.geometry.length / 1000.0
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        dropped={"no geometry": int((~ok).sum())},
        transform=record,
        extra=("name",),
    )


def _node_kv(nodes: pd.Series) -> pd.Series:
    return nodes.str[4].map(NODE_VOLTAGE_DIGIT).astype("float64")


def normalise_etys_circuits(raw: RawInput) -> Normalised:
    """ETYS App. B circuits 2024/25 -> straight lines between geocoded sites.

    Both ends are placed by site code (first 4 chars of the node code); circuits within one site
    (transformers, couplers) are dropped. rating = Winter Rating, or Rating for OFTO rows; 9999 MVA
    is ETYS's "no limit" placeholder and becomes NaN. length_km = published OHL + cable length,
    else the straight-line length.
    """
    key = raw.dataset.key
    df = read_table(raw)
    require_columns(df, key, raw.columns)
    coords = require_dep(raw, SITE_COORDS)
    rows_in = len(df)
    n1, n2 = text(df["Node 1"]).str.upper(), text(df["Node 2"]).str.upper()
    s1, s2 = n1.str[:4], n2.str[:4]
    to = text(df["TO"])
    operator = to
    if "OFTO" in df:  # the OFTO name sits on the first row of each owner's block (merged cells)
        is_ofto = to == "OFTO"
        owner = text(df["OFTO"]).replace("", np.nan)[is_ofto].ffill()
        operator = owner.reindex(df.index).fillna(to)
    rating = number(df["Winter Rating (MVA)"])
    if "Rating (MVA)" in df:
        rating = rating.fillna(number(df["Rating (MVA)"]))
    placeholder = rating >= PLACEHOLDER_MVA
    rating = rating.mask(placeholder)
    kv = pd.concat([_node_kv(n1), _node_kv(n2)], axis=1).max(axis=1)
    if "Voltage (kV)" in df:
        stated = number(text(df["Voltage (kV)"]).str.lstrip("±+-"))
        kv = stated.mask(stated >= PLACEHOLDER_MVA).fillna(kv)
    published_km = _published_km(df)
    base_id = n1 + "-" + n2
    dup_no = base_id.groupby(base_id).cumcount()
    frame = pd.DataFrame(
        {
            "id": base_id.where(dup_no == 0, base_id + "#" + (dup_no + 1).astype("str")),
            "voltage_kv": kv,
            "rating_mva": rating,
            "operator": operator.astype("str"),
            "published_km": published_km,
            "site_1": s1,
            "site_2": s2,
        }
    )
    same = s1 == s2
    xy, record = _site_points(coords)
    placed = s1.isin(xy.index) & s2.isin(xy.index)
    frame = frame[~same & placed]
    a = xy.loc[frame["site_1"], ["x", "y"]].to_numpy()
    b = xy.loc[frame["site_2"], ["x", "y"]].to_numpy()
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    gdf = gpd.GeoDataFrame(frame, geometry=lines, crs=BNG)
    straight_km = gdf.geometry.length / 1000.0
    gdf["length_km"] = gdf["published_km"].where(gdf["published_km"] > 0, straight_km)
    notes = {
        "rating_9999_as_nan": int(placeholder[~same & placed].sum()),
        "length_from_straight_line": int((gdf["published_km"] <= 0).sum()),
    }
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        transform=record,
        extra=("site_1", "site_2"),
        notes=notes,
        dropped={
            "same site (transformer/coupler)": int(same.sum()),
            "no coordinates": int((~same & ~placed).sum()),
        },
    )


def normalise_etys_boundaries(raw: RawInput) -> Normalised:
    """NESO ETYS boundary lines (shapefile in EPSG:3857) -> ``grid_boundaries``."""
    gdf = read_vector(raw)  # paths[0] is the .shp; GDAL finds the sidecars beside it
    require_columns(gdf, raw.dataset.key, raw.columns)
    rows_in = len(gdf)
    gdf, record = to_bng(gdf)
    name = text(gdf["Boundary_n"])
    gdf["id"] = name
    gdf["name"] = name
    return finish(gdf, raw, rows_in=rows_in, transform=record)


# ----------------------------------------------------------------------------- tables
def normalise_tec_register(raw: RawInput) -> Normalised:
    """NESO TEC register rows. Staged projects repeat Project ID per stage and mw is the
    *cumulative* capacity, so ``stage``/``project_number`` are kept to avoid double counting."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    pid = text(df["Project ID"]) if "Project ID" in df else pd.Series("", index=df.index)
    pnum = text(df["Project Number"]) if "Project Number" in df else pd.Series("", index=df.index)
    dates = pd.to_datetime(text(df["MW Effective From"]), format="%Y/%m/%d", errors="coerce")
    out = pd.DataFrame(
        {
            "project_id": pid.where(pid != "", pnum),
            "project": text(df["Project Name"]),
            "customer": text(df["Customer Name"]),
            "connection_site": text(df["Connection Site"]),
            "mw": number(df["Cumulative Total Capacity (MW)"]),
            "mw_connected": number(df["MW Connected"]),
            "status": text(df["Project Status"]),
            "effective_from": dates,
            "plant_type": text(df["Plant Type"]),
            "host_to": text(df["HOST TO"]),
            "project_number": pnum,
            "stage": number(df["Stage"]) if "Stage" in df else np.nan,
        }
    )
    return finish(
        out,
        raw,
        rows_in=len(df),
        extra=("project_number", "stage"),
        notes={"effective_from_unparsed": int(dates.isna().sum())},
    )


def normalise_interconnector_register(raw: RawInput) -> Normalised:
    """NESO interconnector register: mw = larger of import/export totals; dates are dd/mm/yyyy."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    pnum = text(df["Project Number"]) if "Project Number" in df else pd.Series("", index=df.index)
    dates = (
        pd.to_datetime(text(df["MW Effective From"]), format="%d/%m/%Y", errors="coerce")
        if "MW Effective From" in df
        else pd.Series(pd.NaT, index=df.index)
    )
    connected = pd.concat(
        [number(df[c]) for c in ("MW Import - Current", "MW Export - Current") if c in df]
        or [pd.Series(np.nan, index=df.index)],
        axis=1,
    ).max(axis=1)
    out = pd.DataFrame(
        {
            "project_id": pnum,
            "project": text(df["Project Name"]),
            "customer": text(df["Customer Name"]) if "Customer Name" in df else "",
            "connection_site": text(df["Connection Site"]),
            "mw": pd.concat([number(df["MW Import - Total"]), number(df["MW Export - Total"])], axis=1).max(
                axis=1
            ),
            "mw_connected": connected.astype("float64"),
            "status": text(df["Project Status"]),
            "effective_from": dates,
            "plant_type": "Interconnector",
            "host_to": text(df["HOST TO"]),
            "project_number": pnum,
            "stage": number(df["Stage"]) if "Stage" in df else np.nan,
        }
    )
    return finish(
        out,
        raw,
        rows_in=len(df),
        extra=("project_number", "stage"),
        notes={"effective_from_unparsed": int(dates.isna().sum())},
    )


def normalise_repd(raw: RawInput) -> Normalised:
    """DESNZ REPD: X/Y are BNG metres stored as text (some NBSP-padded, which is stripped);
    rows whose coordinates still do not parse are dropped and counted."""
    df = read_table(raw, dtype={"X-coordinate": "str", "Y-coordinate": "str"})
    require_columns(df, raw.dataset.key, raw.columns)
    rows_in = len(df)
    x, y = number(df["X-coordinate"]), number(df["Y-coordinate"])
    ok = x.notna() & y.notna()
    df, x, y = df[ok], x[ok], y[ok]
    gdf = bng_points(
        x.to_numpy(),
        y.to_numpy(),
        {
            "id": text(df["Ref ID"]).to_numpy(),
            "name": text(df["Site Name"]).to_numpy(),
            "technology": text(df["Technology Type"]).to_numpy(),
            "capacity_mw": number(df["Installed Capacity (MWelec)"]).to_numpy(),
            "status": text(df["Development Status (short)"]).to_numpy(),
            "country": text(df["Country"]).to_numpy(),
        },
    )
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        transform=already_bng(),
        dropped={"unparseable coordinates": int((~ok).sum())},
        notes={"capacity_missing": int(gdf["capacity_mw"].isna().sum())},
    )

"""Connectivity datasets -> ``landing_points``, ``submarine_cables``, ``internet_exchanges`` and
``broadband_by_region``.

The TeleGeography files are global; the UK subset is taken by their own attributes (name suffix,
country slug). Filtering to GB land (dropping Northern Ireland, Isle of Man, Channel Islands) is
left to the caller with the ``countries`` layer rather than ad-hoc lon/lat boxes.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import to_bng
from ..validate import require_columns
from . import Normalised, RawInput
from ._common import finish, number, read_table, read_vector, text

UK_SUFFIX = ", United Kingdom"
# Display filter only: cables touching this lon/lat box are kept and clipped to it.
CABLE_BOX = (-11.0, 49.0, 3.0, 61.5)


def normalise_landing_points(raw: RawInput) -> Normalised:
    """Landing points named "..., United Kingdom"; the file repeats some ids (Bude twice, 10 m
    apart), the first is kept."""
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.columns)
    rows_in = len(gdf)
    name = text(gdf["name"]).str.replace(r"\s+,", ",", regex=True)
    uk = name.str.endswith(UK_SUFFIX)
    gdf = gdf[uk].assign(name=name[uk], id=text(gdf["id"])[uk])
    dup = gdf["id"].duplicated()
    gdf = gdf[~dup]
    gdf, record = to_bng(gdf)
    return finish(
        gdf,
        raw,
        rows_in=rows_in,
        transform=record,
        dropped={"not in the United Kingdom": int((~uk).sum()), "duplicate id": int(dup.sum())},
        notes={
            "filter": "name ends ', United Kingdom' (includes NI/IoM/CI: "
            "filter to GB with the countries layer)"
        },
    )


def normalise_cables(raw: RawInput) -> Normalised:
    """Cable routes touching the GB display box (lon -11..3, lat 49..61.5), clipped to it so the
    OSTN15 transform stays near its extent. A display filter, not a "lands in GB" test."""
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.columns)
    rows_in = len(gdf)
    clipped = shapely.clip_by_rect(gdf.geometry.values, *CABLE_BOX)
    keep = ~shapely.is_empty(clipped) & ~shapely.is_missing(clipped)
    # clipping can leave GeometryCollections of lines and points: keep the line parts
    lines = [
        shapely.line_merge(
            shapely.MultiLineString([p for p in shapely.get_parts(g) if p.geom_type == "LineString"])
        )
        if g.geom_type not in ("LineString", "MultiLineString")
        else g
        for g in clipped[keep]
    ]
    slug = text(gdf["slug"])[keep]
    dup_no = slug.groupby(slug).cumcount()
    kept = gdf[keep]
    out = kept.set_geometry(gpd.GeoSeries(lines, index=kept.index, crs=gdf.crs)).assign(
        id=slug.where(dup_no == 0, slug + "#" + (dup_no + 1).astype("str")), name=slug
    )
    out = out[~out.geometry.is_empty]
    out, record = to_bng(out)
    return finish(
        out,
        raw,
        rows_in=rows_in,
        transform=record,
        dropped={"outside the GB display box": int((~keep).sum())},
        notes={"filter": f"intersects lon/lat box {list(CABLE_BOX)}, clipped to it (display filter)"},
    )


def _exchange_names(value: object) -> str:
    """The ``exchanges`` property is a list of objects; the first address line is the IX name."""
    if isinstance(value, str):
        value = json.loads(value)
    names = []
    for ex in value or []:
        addr = ex.get("address") or []
        names.append(str(addr[0]) if len(addr) else str(ex.get("slug", "")))
    return "; ".join(n for n in names if n)


def _address(value: object) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value.strip()
    return ", ".join(str(v).strip() for v in np.atleast_1d(value) if str(v).strip())


def normalise_ix_buildings(raw: RawInput) -> Normalised:
    """IX buildings with ``country == "united-kingdom"``; nested lists become '; '-joined text so the
    layer stays plain-typed for GeoParquet."""
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.columns)
    rows_in = len(gdf)
    uk = text(gdf["country"]) == "united-kingdom"
    gdf = gdf[uk]
    # 29 rows in the real file: a per-row pass over the nested JSON is clearer than vectorising it
    gdf = gdf.assign(
        id=text(gdf["building_id"]),
        name=[_address(v) for v in gdf["address"]] if "address" in gdf else "",
        metro=text(gdf["metro_area"]),
        exchanges=[_exchange_names(v) for v in gdf["exchanges"]],
    )
    gdf, record = to_bng(gdf)
    return finish(
        gdf, raw, rows_in=rows_in, transform=record, dropped={"not in the United Kingdom": int((~uk).sum())}
    )


OFCOM_MEASURES = {"full_fibre_pct": "Full Fibre", "gigabit_pct": "Gigabit", "sfbb_pct": "SFBB"}


def normalise_ofcom_laua(raw: RawInput) -> Normalised:
    """Ofcom Connected Nations fixed coverage by local authority (codes of the file's vintage).

    Percentages come from the ``<measure> availability (% premises)`` columns where the release has
    them, else from ``Number of premises with <measure> availability`` / ``All Premises`` (recent
    releases publish counts; the two agree on the 2021 file, which has both)."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    premises = number(df["All Premises"])
    out = pd.DataFrame({"code": text(df["laua"]), "name": text(df["laua_name"]), "premises": premises})
    from_counts = []
    for col, measure in OFCOM_MEASURES.items():
        pct, count = f"{measure} availability (% premises)", f"Number of premises with {measure} availability"
        if pct in df.columns:
            out[col] = number(df[pct])
        elif count in df.columns:
            with np.errstate(invalid="ignore", divide="ignore"):
                out[col] = 100.0 * number(df[count]) / premises.where(premises > 0)
            from_counts.append(col)
        else:
            require_columns(df, raw.dataset.key, [pct])  # fails naming what was expected and found
    return finish(out, raw, rows_in=len(df), extra=("name",), notes={"percent_from_counts": from_counts})

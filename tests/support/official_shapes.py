"""The real sample files in ../shared/data, re-shaped the way each official service publishes them,
for the loopback emulators in ``tests/_server.py``.

Nothing here invents data: every value comes from a real file. Only the *container* changes: a
workbook laid out like NESO's ETYS Appendix B or ONS's MYE tables (title rows above the header,
one sheet per transmission owner), a zip holding the files under the publisher's member names, a
GeoServer WFS layer in its native EPSG:27700, an OGC API collection in the current EA schema.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


def workbook(sheets: dict[str, tuple[list[str], pd.DataFrame]]) -> bytes:
    """An .xlsx with one sheet per entry: title rows, then the header, then the rows."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (titles, frame) in sheets.items():
        ws = book.create_sheet(name)
        for title in titles:
            ws.append([title])
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append([None if (isinstance(v, float) and np.isnan(v)) else v for v in row])
        ws.append([None] * len(frame.columns))  # a blank separator row, as in the ETYS sheets
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def etys_appendix_b(csv_path: Path, table: str) -> bytes:
    """ETYS Appendix B: sheets ``<table>a`` .. ``<table>d`` (one per owner), row 0 a title, row 1 the
    header, data from row 2, exactly the layout NESO publishes; from the CSV export of that workbook
    (whose TO and source_table columns the export added)."""
    df = pd.read_csv(csv_path, encoding="utf-8-sig")
    sheets = {}
    for sheet, part in df.groupby("source_table", sort=True):
        if not str(sheet).startswith(table):
            continue
        body = part.drop(columns=["TO", "source_table"]).dropna(axis=1, how="all")
        sheets[str(sheet)] = ([f"Table {sheet} ({part['TO'].iloc[0]})"], body)
    return workbook(sheets)


def ons_mye_workbook(csv_path: Path) -> bytes:
    """ONS mid-year estimates: sheet ``MYE2 - Persons``, seven rows of titles and notes, the header on
    row 8 (index 7) with ``All ages``; from the mirror's CSV of the same table."""
    df = pd.read_csv(csv_path, encoding="utf-8-sig").rename(columns={"Population": "All ages"})
    titles = [
        "MYE2: Population estimates: Persons by single year of age",
        "Mid-year population estimates",
        "This worksheet contains one table.",
        "Source: Office for National Statistics",
        "Units: persons",
        "",
        "",
    ]
    return workbook(
        {
            "Contents": (["Contents"], pd.DataFrame({"Sheet": ["MYE2 - Persons"]})),
            "MYE2 - Persons": (titles, df),
        }
    )


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def shapefile_zip(shp: Path, stem: str) -> bytes:
    """The shapefile's parts renamed to the publisher's ``stem`` (spaces kept), zipped."""
    parts = {}
    for sidecar in shp.parent.glob(shp.stem + ".*"):
        parts[stem + sidecar.suffix] = sidecar.read_bytes()
    return zip_of(parts)


def ofcom_counts_zip(csv_path: Path, member: str) -> bytes:
    """A Connected Nations zip whose local-authority CSV publishes premises *counts* only (as the
    recent releases do), Latin-1 encoded; from the 2021 file, which has both counts and percentages."""
    df = pd.read_csv(csv_path, encoding="utf-8-sig")
    df = df.drop(columns=[c for c in df.columns if "(% premises)" in c])
    return zip_of({member: df.to_csv(index=False).encode("latin-1")})


def collection_in(path: Path, crs: str) -> dict[str, Any]:
    """A GeoJSON file's FeatureCollection with coordinates transformed to ``crs`` (pyproj)."""
    import geopandas as gpd

    gdf = gpd.read_file(path).to_crs(crs)
    return json.loads(gdf.to_json(drop_id=True))


def ea_flood_zones_collection(calderdale: Path) -> dict[str, Any]:
    """The EA Calderdale extract (old schema: ``layer = 'Flood Zone 3'``, EPSG:27700) in the shape of
    today's OGC API collection Flood_Zones_2_3_Rivers_and_Sea: CRS84, ``flood_zone`` FZ3,
    ``flood_source``, ``origin``."""
    import geopandas as gpd

    gdf = gpd.read_file(calderdale)
    zone = gdf["layer"].map({"Flood Zone 3": "FZ3", "Flood Zone 2": "FZ2"})
    source = gdf["type"].str.lower().map(lambda t: "river" if "fluvial" in t else "sea")
    out = gpd.GeoDataFrame(
        {"flood_zone": zone, "flood_source": source, "origin": "modelled"}, geometry=gdf.geometry, crs=gdf.crs
    ).to_crs("OGC:CRS84")
    return json.loads(out.to_json(drop_id=True))

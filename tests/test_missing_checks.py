"""Checks that could not run (review items M2 and M6): which rows a dataset is blamed for, which
causes end a run with exit code 4 and which are documented coverage gaps, and that a correct
check row is never overwritten."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from growth_zones.data.catalogue import load_catalogue
from growth_zones.data.layers import designation_gaps
from growth_zones.policy import DESIGNATION_LABELS
from growth_zones.workflows.missing import (
    COVERAGE_GAP,
    UNAVAILABLE,
    UNDECIDED,
    MissingCheck,
    apply_to_checks,
    coverage_checks,
    designation_checks,
    rule_checks,
)

CAT = load_catalogue()
NATIONS = {"ENG": "England", "SCO": "Scotland", "WAL": "Wales"}


def _stored(*keys: str) -> gpd.GeoDataFrame:
    """A protected_areas layer holding one feature of each dataset ``keys`` (stored, official)."""
    rows = [
        {"designation": CAT[k].designations[0], "name": "", "dataset": k, "geometry": box(0, 0, 1, 1)}
        for k in keys
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=27700)


EVERYTHING = [d.key for d in CAT.values() if d.layer == "protected_areas" and d.default and not d.optional]
OFFICIAL = {k: {"copy": "official release"} for k in EVERYTHING}


def _status(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["site_id", "designation", "status", "reason"])


def test_a_welsh_outage_blames_only_welsh_sites_and_never_overwrites_english_rows():
    """M6: one nation's unavailable SSSI dataset used to mark every site in every nation "did not
    run", replacing the English site's correct "absent, nearest 0.1 km" row."""
    stored = _stored(*[k for k in EVERYTHING if k != "nrw_sssi_wales"])
    gaps = designation_gaps(
        stored, CAT, absent={"nrw_sssi_wales": "HTTP 503 from datamap.gov.wales"}, copies=OFFICIAL
    )
    status = _status(
        [
            ("ENG", "sssi", "absent", ""),
            ("SCO", "sssi", "present", ""),
            ("WAL", "sssi", "not checked", "not checked: no SSSI layer for Gwynedd (Wales)"),
        ]
    )
    missing = designation_checks(status, gaps, NATIONS)
    assert len(missing) == 1
    m = missing[0]
    assert m.check == "Designation: SSSI" and m.ids == ("WAL",) and m.datasets == ("nrw_sssi_wales",)
    assert m.kind == UNAVAILABLE and m.blocking
    assert m.reason == (
        "dataset nrw_sssi_wales (Sites of Special Scientific Interest (Wales)) could not be had: "
        "HTTP 503 from datamap.gov.wales"
    )
    checks = pd.DataFrame(
        [
            ("ENG", "Designation: SSSI", "absent", "nearest 0.1 km away"),
            ("SCO", "Designation: SSSI", "present", "12% of the site"),
            ("WAL", "Designation: SSSI", "not checked", "not checked: no SSSI layer for Gwynedd (Wales)"),
        ],
        columns=["id", "check", "status", "detail"],
    )
    # even a missing check that (wrongly) named every site leaves decided rows alone
    everyone = MissingCheck(m.check, m.reason, m.datasets, ("ENG", "SCO", "WAL"), UNAVAILABLE)
    out = apply_to_checks(checks, [everyone]).set_index("id")
    assert out.loc["ENG", "status"] == "absent" and out.loc["ENG", "detail"] == "nearest 0.1 km away"
    assert out.loc["SCO", "status"] == "present"
    assert out.loc["WAL", "status"] == "not checked"
    assert out.loc["WAL", "detail"] == "did not run: " + m.reason
    assert len(out) == 3


def test_skipped_sample_and_optional_datasets_are_told_apart():
    """M2: a default dataset the mirror holds no copy of, or held only as a sample, could not be had
    (blocking: exit 4); an optional dataset with no machine-readable source is a coverage gap."""
    stored = _stored(*[k for k in EVERYTHING if k != "naturescot_sssi_scotland"])
    gaps = designation_gaps(
        stored,
        CAT,
        absent={"naturescot_sssi_scotland": "skipped: the mirror holds no copy (mirror has no file /m/x)"},
        copies={"planning_data_sssi_england": {"copy": "sample", "coverage_area": "north_east"}},
    )
    status = _status(
        [
            ("ENG", "sssi", "not checked", ""),
            ("SCO", "sssi", "not checked", ""),
            ("SCO", "ancient_woodland", "not checked", ""),
            ("WAL", "green_belt", "not checked", ""),
            ("WAL", "sssi", "absent", ""),
        ]
    )
    by = {(m.check, m.ids): m for m in designation_checks(status, gaps, NATIONS)}
    eng = by[("Designation: SSSI", ("ENG",))]
    assert eng.blocking and eng.datasets == ("planning_data_sssi_england",)
    assert "only a sample of dataset planning_data_sssi_england" in eng.reason
    assert "the north east area" in eng.reason
    sco = by[("Designation: SSSI", ("SCO",))]
    assert sco.blocking and sco.reason.endswith("could not be had: the mirror holds no copy")
    wood = by[("Designation: ancient woodland", ("SCO",))]
    assert wood.kind == COVERAGE_GAP and not wood.blocking
    assert wood.reason.startswith("no machine-readable national dataset for Scotland (Ancient Woodland")
    belt = by[("Designation: Green Belt", ("WAL",))]
    assert (
        belt.kind == COVERAGE_GAP and belt.reason == "no national Green Belt dataset for Wales is catalogued"
    )
    assert len(by) == 4  # the Welsh SSSI row was checked: nothing to say
    # a coverage gap marks its rows "not checked: ..." (not "did not run")
    checks = pd.DataFrame(
        [("SCO", "Designation: ancient woodland", "not checked", "x")],
        columns=["id", "check", "status", "detail"],
    )
    assert apply_to_checks(checks, [wood]).at[0, "detail"] == "not checked: " + wood.reason


def test_complete_national_data_leaves_only_the_documented_gaps():
    """With every default dataset stored from its publisher, what remains is permanent: Scotland's
    ancient woodland and Green Belt (optional) and Wales's Green Belt (none catalogued)."""
    gaps = designation_gaps(_stored(*EVERYTHING), CAT, copies=OFFICIAL)
    assert all(not g.blocking for g in gaps.values())
    assert set(gaps) == {
        ("ancient_woodland", "Scotland"),
        ("green_belt", "Scotland"),
        ("green_belt", "Wales"),
    }


def test_rules_blame_the_designations_of_their_indicator_in_the_rows_nation():
    """The region exclusion on protected_share: each row is blamed on the gaps of its own nation,
    for the designations the indicator reads (Green Belt is not part of the region share)."""
    stored = _stored(*[k for k in EVERYTHING if not k.startswith("nrw_")])
    gaps = designation_gaps(stored, CAT, copies=OFFICIAL)
    values = pd.DataFrame(
        {"protected_share": [0.2, np.nan, np.nan]}, index=pd.Index(["E1", "W1", "W2"], name="code")
    )

    class Spec:
        sources = ("regions", "protected_areas", "designation_coverage")

    missing = rule_checks(
        [("Exclusion: mostly_protected", "protected_share")],
        {"protected_share": Spec()},
        values,
        {},
        CAT,
        {"protected_share": ("national_park", "aonb", "sssi", "sac", "spa", "ramsar")},
        gaps=gaps,
        nations={"E1": "England", "W1": "Wales", "W2": "Wales"},
    )
    assert len(missing) == 1
    m = missing[0]
    assert m.ids == ("W1", "W2") and m.blocking
    assert set(m.datasets) == {
        "nrw_national_landscapes_wales",
        "nrw_sssi_wales",
        "nrw_sac_wales",
        "nrw_spa_wales",
        "nrw_ramsar_wales",
    }
    assert "green" not in m.reason.lower()
    assert m.reason.startswith("protected_share could not be computed because datasets nrw_")


def test_a_gate_the_data_cannot_decide_is_said_but_does_not_block():
    values = pd.DataFrame({"node_capacity_cover": [1.5, np.nan]}, index=["A", "B"])
    reasons = pd.DataFrame({"node_capacity_cover": ["", "node X has no ETYS site code"]}, index=["A", "B"])

    class Spec:
        sources = ("substations", "grid_sites")

    missing = rule_checks(
        [("Gate: node capacity", "node_capacity_cover")],
        {"node_capacity_cover": Spec()},
        values,
        {},
        CAT,
        reasons=reasons,
    )
    assert [(m.ids, m.kind, m.blocking) for m in missing] == [(("B",), UNDECIDED, False)]
    assert missing[0].reason == "node_capacity_cover missing: node X has no ETYS site code"
    checks = pd.DataFrame(
        [("B", "Gate: node capacity", "unknown", "node X has no ETYS site code")],
        columns=["id", "check", "status", "detail"],
    )
    assert apply_to_checks(checks, missing).equals(checks)  # the gate's own row says it already
    # the same gate blamed on a grid dataset that failed in this run blocks, for its nations only
    missing = rule_checks(
        [("Gate: node capacity", "node_capacity_cover")],
        {"node_capacity_cover": Spec()},
        values,
        {"neso_etys2024_site_index": "HTTP 500"},
        CAT,
        nations={"A": "England", "B": "Wales"},
    )
    assert missing[0].blocking and missing[0].datasets == ("neso_etys2024_site_index",)


def test_surface_cells_list_gaps_by_nation():
    stored = _stored(*[k for k in EVERYTHING if k != "nrw_sssi_wales"])
    gaps = designation_gaps(stored, CAT, absent={"nrw_sssi_wales": "HTTP 503"}, copies=OFFICIAL)
    rows = coverage_checks(gaps, ("sssi", "ancient_woodland"))
    assert [(m.check, m.kind) for m in rows] == [
        ("Designation: SSSI", UNAVAILABLE),
        ("Designation: ancient woodland", COVERAGE_GAP),
    ]
    assert rows[0].reason.startswith("in Wales: dataset nrw_sssi_wales") and rows[0].ids == ()
    assert rows[0].line("cell").startswith("check not run: Designation: SSSI, for every cell it applies to")


def test_missing_check_round_trips_through_the_sidecar():
    m = MissingCheck("Designation: SSSI", "why", ("k",), ("A",), COVERAGE_GAP)
    d = m.to_dict()
    assert d["kind"] == COVERAGE_GAP and d["blocking"] is False
    assert MissingCheck.from_dict(d) == m
    old = {k: v for k, v in d.items() if k not in ("kind", "blocking")}  # a sidecar before kinds
    assert MissingCheck.from_dict(old).kind == UNAVAILABLE


def test_a_long_banner_names_every_check_and_dataset_and_keeps_the_list_one_click_away():
    """The banner stays loud but short: past a few checks it names every check (grouped) and every
    dataset, with the full list (rows and reasons) in a <details>; printed pages keep it open."""
    import lxml.html

    from growth_zones.report._banner import missing_checks_banner
    from growth_zones.workflows.missing import MissingCheck

    designations = ["SSSI", "SAC", "SPA", "Ramsar", "scheduled monument"]
    missing = [
        MissingCheck(
            f"Designation: {d}", f"dataset nrw_{i} <could not> be had", (f"nrw_{i}",), ("GZ-1", "GZ-2")
        )
        for i, d in enumerate(designations)
    ] + [MissingCheck("Exclusion: flood_zone_3", "flood data not had", ("nrw_flood",), ("GZ-2",))]
    page = lxml.html.fromstring(missing_checks_banner(missing))
    summary = " ".join(page.xpath("string(.//p)").split())
    assert summary.startswith("6 checks on 2 sites:")
    assert "Designation: SSSI, SAC, SPA, Ramsar, scheduled monument; Exclusion: flood_zone_3." in summary
    assert "Datasets (6): nrw_0, nrw_1, nrw_2, nrw_3, nrw_4, nrw_flood." in summary
    (details,) = page.xpath(".//details")
    assert details.get("open") is None
    items = [" ".join(li.text_content().split()) for li in details.xpath(".//li")]
    assert len(items) == 6 and items[0] == "Designation: SSSI (2 sites): dataset nrw_0 <could not> be had"
    assert "&lt;could not&gt;" in missing_checks_banner(missing)  # escaped
    assert items[-1].startswith("Exclusion: flood_zone_3 (1 site):")
    printed = lxml.html.fromstring(missing_checks_banner(missing, collapse=False))
    assert printed.xpath(".//details")[0].get("open") is not None
    # A short list is shown in full, with no summary or details.
    few = lxml.html.fromstring(missing_checks_banner(missing[:2]))
    assert not few.xpath(".//details") and len(few.xpath(".//li")) == 2
    # On a site page the summary does not count sites.
    site = lxml.html.fromstring(missing_checks_banner(missing, row_id="GZ-2"))
    assert " ".join(site.xpath("string(.//p)").split()).startswith("6 checks:")
    assert "the sites it affects" not in site.xpath("string(.//summary)")


def _reference_apply(checks: pd.DataFrame, missing: list[MissingCheck]) -> pd.DataFrame:
    """apply_to_checks written row by row (a dict of marks, first one kept; a loop over rows)."""
    marks: dict[tuple[str, str], tuple[str, str]] = {}
    for m in missing:
        prefix = {UNDECIDED: "not decided", COVERAGE_GAP: "not checked"}.get(m.kind, "did not run")
        for i in m.ids:
            marks.setdefault((str(i), m.check), (m.kind, f"{prefix}: {m.reason}"))
    rows = [list(r) for r in checks[["id", "check", "status", "detail"]].itertuples(index=False)]
    seen = set()
    for r in rows:
        key = (str(r[0]), str(r[1]))
        if key in marks:
            seen.add(key)
            kind, text = marks[key]
            if (
                r[2] not in {"present", "absent", "pass", "fail", "claimed", "not claimed"}
                and kind != UNDECIDED
            ):
                r[2], r[3] = "not checked", text
    order = list(dict.fromkeys(str(r[0]) for r in rows))
    for (i, c), (_, text) in marks.items():
        if (i, c) not in seen:
            rows.append([i, c, "not checked", text])
    rank = {i: n for n, i in enumerate(order)}
    rows.sort(key=lambda r: rank.get(str(r[0]), len(order)))  # stable
    return pd.DataFrame(rows, columns=["id", "check", "status", "detail"])


def test_apply_to_checks_matches_a_row_by_row_reference() -> None:
    """Random long tables and overlapping missing checks (the same row named twice, ids with no row
    yet, undecided checks, decided rows): the column-at-a-time marking equals a plain loop."""
    rng = np.random.default_rng(7)
    names = [f"Designation: D{k}" for k in range(5)]
    statuses = ["present", "absent", "unknown", "not checked", "pass", "claimed", "fail"]
    for trial in range(30):
        ids = [f"s{k}" for k in range(int(rng.integers(0, 40)))]
        rows = [
            (i, c, statuses[int(rng.integers(len(statuses)))], f"detail {i} {c}")
            for i in ids
            for c in names
            if rng.random() < 0.7
        ]
        checks = pd.DataFrame(rows, columns=["id", "check", "status", "detail"])
        pool = ids + [f"new{k}" for k in range(5)]
        missing = [
            MissingCheck(
                names[int(rng.integers(len(names)))],
                f"reason {trial}.{k}",
                ("ds",),
                tuple(rng.choice(pool, size=int(rng.integers(0, 12)), replace=True).tolist()) if pool else (),
                [UNAVAILABLE, COVERAGE_GAP, UNDECIDED][int(rng.integers(3))],
            )
            for k in range(int(rng.integers(1, 6)))
        ]
        got = apply_to_checks(checks, missing).reset_index(drop=True)
        want = _reference_apply(checks, missing)
        assert got.astype(str).values.tolist() == want.astype(str).values.tolist(), trial


def test_designation_checks_match_a_row_by_row_reference() -> None:
    """Random status tables (gaps in some nations, own reasons, sites in no nation): the grouping by
    codes gives the same checks, reasons, datasets, kinds and id order as one loop over the rows."""
    from growth_zones.workflows.missing import CoverageGap

    rng = np.random.default_rng(11)
    des = ["sssi", "sac", "green_belt", "aonb"]
    nations = pd.Series({f"s{k}": ["England", "Wales", "Scotland", None][k % 4] for k in range(20)})
    for trial in range(100):
        n = int(rng.integers(0, 60))
        status = pd.DataFrame(
            {
                "site_id": [f"s{int(rng.integers(0, 20))}" for _ in range(n)],
                "designation": [des[int(rng.integers(4))] for _ in range(n)],
                "status": [["not checked", "present", "absent"][int(rng.integers(3))] for _ in range(n)],
                "reason": [[None, "not checked: x", "", "y"][int(rng.integers(4))] for _ in range(n)],
            }
        )
        gaps = {
            (d, nation): CoverageGap(f"gap {d} {nation}", (f"ds_{d}",), [UNAVAILABLE, COVERAGE_GAP][k % 2])
            for k, (d, nation) in enumerate((d, x) for d in des[:3] for x in ("England", "Wales", "Scotland"))
            if rng.random() < 0.6
        }
        groups: dict[tuple, list[str]] = {}
        for r in status.itertuples(index=False):
            if r.status != "not checked":
                continue
            nation = nations.get(r.site_id)
            gap = gaps.get((r.designation, nation)) if isinstance(nation, str) else None
            own = ("" if pd.isna(r.reason) else str(r.reason)).removeprefix("not checked: ") or "not checked"
            key = (
                f"Designation: {DESIGNATION_LABELS.get(r.designation, r.designation)}",
                gap.reason if gap else own,
                gap.datasets if gap else (),
                gap.kind if gap else UNDECIDED,
            )
            groups.setdefault(key, [])
            if r.site_id not in groups[key]:
                groups[key].append(r.site_id)
        order = {UNAVAILABLE: 0, COVERAGE_GAP: 1, UNDECIDED: 2}
        want = sorted(
            [(c, reason, ds, tuple(ids), kind) for (c, reason, ds, kind), ids in groups.items()],
            key=lambda t: order[t[4]],
        )
        got = [
            (m.check, m.reason, m.datasets, m.ids, m.kind) for m in designation_checks(status, gaps, nations)
        ]
        assert got == want, trial

"""The "checks that could not run" banner on report pages (a small, separate piece: the report
package's layout may change, the banner's content should not)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._html import esc

_STYLE = (
    "background:#fde8e8;border:2px solid #b30000;border-left:8px solid #b30000;"
    "padding:8px 10px;margin:8px 0;color:#5c0000"
)


_HEADS = {
    "unavailable": (
        "Checks that could not run.",
        "not checked against the following, because the data could not be had. A site or area may look "
        "eligible only because a check did not run.",
    ),
    "coverage gap": (
        "Not checked: no national data.",
        "not checked against the following, because no machine-readable national dataset exists for "
        "that place (a documented coverage gap).",
    ),
    "undecided": (
        "Not decided from the published data.",
        "left undecided by the following, because the published data cannot decide them.",
    ),
}


_LIST_AT_ONCE = 4
"""Up to this many checks of a kind are listed in the banner itself; more are summarised (which
checks, which datasets) with the full list one click away, so the banner stays loud without
pushing the map and the results off the first screen."""


def _count(n: int, noun: str) -> str:
    """``3 sites``, ``1 site``, ``1 local authority``."""
    if n != 1:
        return f"{n} {noun}"
    return f"1 {noun[:-3]}y" if noun.endswith("ies") else f"1 {noun.removesuffix('s')}"


def _summary(items: list[Any], noun: str, row_id: str | None) -> str:
    """One paragraph naming every check and every dataset of a long list (escaped HTML)."""
    by_kind: dict[str, list[str]] = {}
    for check in dict.fromkeys(str(m.check) for m in items):
        head, sep, name = check.partition(": ")
        by_kind.setdefault(head if sep else "", []).append(name if sep else check)
    checks = [f"{head}: {', '.join(names)}" if head else ", ".join(names) for head, names in by_kind.items()]
    datasets = list(dict.fromkeys(str(d) for m in items for d in getattr(m, "datasets", ())))
    rows = {str(i) for m in items for i in getattr(m, "ids", ())}
    where = "" if row_id is not None else (f" on {_count(len(rows), noun)}" if rows else "")
    text = f"<p style='margin:4px 0'><b>{len(items)} checks{esc(where)}:</b> {esc('; '.join(checks))}."
    if datasets:
        text += f" <b>Datasets ({len(datasets)}):</b> {esc(', '.join(datasets))}."
    return text + "</p>"


def missing_checks_banner(
    missing: Iterable[Any] | None, *, row_id: str | None = None, noun: str = "sites", collapse: bool = True
) -> str:
    """HTML (every string escaped) listing the checks that could not run, by kind (data not had,
    then coverage gaps, then undecided); ``row_id`` limits it to the checks affecting one row (a
    site page). A kind with more than a few checks is summarised (every check and dataset named)
    with the list, the rows and the reasons in a ``<details>`` (``collapse=False``: the list is
    shown open, for pages that are printed). Empty when there are none."""
    groups: dict[str, list[str]] = {}
    items: dict[str, list[Any]] = {}
    for m in missing or ():
        ids = [str(i) for i in getattr(m, "ids", ())]
        if row_id is not None and row_id not in ids:
            continue
        kind = str(getattr(m, "kind", "unavailable"))
        kind = kind if kind in _HEADS else "unavailable"
        if row_id is not None:
            scope = "this site"
        elif ids:
            scope = _count(len(ids), noun)
        else:
            scope = f"every {noun.rstrip('s')} it applies to"
        groups.setdefault(kind, []).append(f"<li><b>{esc(m.check)}</b> ({esc(scope)}): {esc(m.reason)}</li>")
        items.setdefault(kind, []).append(m)
    if not groups:
        return ""
    who = "This site was" if row_id is not None else f"These {noun} were"
    parts = []
    for kind in _HEADS:
        if kind in groups:
            title, body = _HEADS[kind]
            listed = f"<ul>{''.join(groups[kind])}</ul>"
            if len(groups[kind]) > _LIST_AT_ONCE:
                listed = _summary(items[kind], noun, row_id) + (
                    f"<details{'' if collapse else ' open'}><summary>Each check, "
                    f"{'' if row_id is not None else f'the {esc(noun)} it affects '}and why</summary>"
                    f"{listed}</details>"
                )
            parts.append(f"<div><b>{esc(title)}</b> {esc(who)} {esc(body)}{listed}</div>")
    return f'<div class="gz-missing" role="alert" style="{_STYLE}">' + "".join(parts) + "</div>"


def measured_where_html(r: Any) -> str:
    """Which point or polygon the site's indicators are taken for (escaped HTML)."""
    import math

    try:
        e, n = float(r.get("ref_easting")), float(r.get("ref_northing"))
        at = f" (E {e:,.0f}, N {n:,.0f}, EPSG:27700)" if math.isfinite(e) and math.isfinite(n) else ""
    except (TypeError, ValueError):
        at = ""
    return (
        "<p class='gz-note gz-where'><b>Where each number is measured.</b> Distances (grid node, internet "
        "exchange, cable landing), the site area and the designation and flood checks are for the whole "
        "site boundary. The local authority, nation, population within 30/50 km and round-trip time to "
        f"London are taken at the site's reference point{esc(at)}, a point inside the boundary "
        "(a site's parts are at most a few km apart, so one point stands for the site).</p>"
    )

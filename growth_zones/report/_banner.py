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


def missing_checks_banner(
    missing: Iterable[Any] | None, *, row_id: str | None = None, noun: str = "sites"
) -> str:
    """HTML (every string escaped) listing the checks that could not run, by kind (data not had,
    then coverage gaps, then undecided); ``row_id`` limits it to the checks affecting one row (a
    site page). Empty when there are none."""
    groups: dict[str, list[str]] = {}
    for m in missing or ():
        ids = [str(i) for i in getattr(m, "ids", ())]
        if row_id is not None and row_id not in ids:
            continue
        kind = str(getattr(m, "kind", "unavailable"))
        kind = kind if kind in _HEADS else "unavailable"
        if row_id is not None:
            scope = "this site"
        elif ids:
            scope = f"{len(ids)} {noun}"
        else:
            scope = f"every {noun.rstrip('s')} it applies to"
        groups.setdefault(kind, []).append(f"<li><b>{esc(m.check)}</b> ({esc(scope)}): {esc(m.reason)}</li>")
    if not groups:
        return ""
    who = "This site was" if row_id is not None else f"These {noun} were"
    parts = []
    for kind in _HEADS:
        if kind in groups:
            title, body = _HEADS[kind]
            parts.append(f"<b>{esc(title)}</b> {esc(who)} {esc(body)}<ul>{''.join(groups[kind])}</ul>")
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

"""Printable site briefs: one clean A4 page per site (Chromium's "Print to PDF", or any browser).

Each site page carries its brief (shown only when printed), and ``report/briefs.html`` holds every
brief in rank order, one per A4 page, for a committee pack. A brief holds what a planner must be
able to defend: the score by section, the DSIT checks, the gates and hard exclusions, the
designations, and the data sources with their vintages. Everything is escaped text; the layout
is CSS only (``@page { size: A4 }``, a fixed page box, ``break-after: page``), so the printout
does not depend on the map libraries. Long text is abbreviated to fit the page: the site page
and the CSVs hold the full text.
"""

from __future__ import annotations

import math
from typing import Any

from ._html import eligibility, eligibility_text, esc, fmt_num, is_missing, text

PAGE_W_MM, PAGE_H_MM, MARGIN_MM = 210, 297, 11
BRIEF_H_MM = PAGE_H_MM - 2 * MARGIN_MM - 1  # one mm of slack: a brief never spills onto a 2nd page

BRIEF_CSS = f"""
@page {{ size: A4 portrait; margin: {MARGIN_MM}mm; }}
.gz-brief {{ box-sizing: border-box; width: {PAGE_W_MM - 2 * MARGIN_MM}mm; height: {BRIEF_H_MM}mm;
  overflow: hidden; font: 8.6pt/1.3 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #111; background: #fff; display: flex; flex-direction: column; }}
.gz-brief.gz-tight {{ font-size: 7.6pt; }}
.gz-brief.gz-tighter {{ font-size: 6.8pt; }}
.gz-brief.gz-tightest {{ font-size: 6.2pt; }}
.gz-brief h1 {{ font-size: 1.75em; margin: 0 0 .2em; line-height: 1.15; font-weight: 700; }}
.gz-brief h2 {{ font-size: 1.12em; margin: .7em 0 .25em; padding-bottom: .1em; border-bottom: 1.2pt solid #333;
  font-weight: 700; }}
.gz-brief .gz-bmeta {{ color: #333; margin: 0 0 .15em; }}
.gz-brief .gz-bscore {{ display: flex; gap: 1.2em; align-items: baseline; margin: .4em 0 .2em; padding: .35em .6em;
  border: 1pt solid #999; background: #f4f4f4; }}
.gz-brief .gz-bscore b {{ font-size: 1.55em; }}
.gz-brief .gz-bcols {{ display: grid; grid-template-columns: 1fr 1fr; column-gap: 6mm; }}
.gz-brief table {{ width: 100%; border-collapse: collapse; }}
.gz-brief th, .gz-brief td {{ text-align: left; vertical-align: top; padding: .12em .3em;
  border-bottom: .5pt solid #ccc; }}
.gz-brief th {{ font-weight: 600; }}
.gz-brief td.num, .gz-brief th.num {{ text-align: right; white-space: nowrap; }}
.gz-brief .gz-st {{ white-space: nowrap; font-weight: 600; }}
.gz-brief .gz-st.ok {{ color: #1b5e20; }} .gz-brief .gz-st.bad {{ color: #8a1c00; }}
.gz-brief .gz-st.warn {{ color: #6b4e00; }} .gz-brief .gz-st.na {{ color: #444; }}
.gz-brief .gz-bbar {{ display: inline-block; width: 16mm; height: 2.2mm; border: .5pt solid #777; position: relative;
  vertical-align: middle; background: #fff; }}
.gz-brief .gz-bbar i {{ position: absolute; left: 0; top: 0; bottom: 0; background: #21918c; }}
.gz-brief .gz-bnote {{ color: #333; font-size: .92em; margin: .2em 0; }}
.gz-brief .gz-bexcl {{ color: #8a1c00; font-weight: 700; }}
.gz-brief .gz-bwarn {{ color: #6b4e00; font-weight: 700; }}
.gz-brief .gz-bnotrun {{ border: 1.2pt solid #b30000; border-left-width: 4pt; padding: .2em .5em; margin: .3em 0;
  color: #5c0000; font-size: .9em; }}
.gz-brief .gz-bnotrun ul {{ margin: .1em 0 0 1.1em; padding: 0; }}
.gz-brief .gz-bfoot {{ margin-top: auto; padding-top: .4em; border-top: .8pt solid #333; font-size: .85em;
  color: #222; }}
.gz-brief .gz-bfoot p {{ margin: .15em 0; }}
"""

SCREEN_CSS = """
@media screen {
  body.gz-briefs { background: #d9d9d9; margin: 0; padding: 12px 0; }
  body.gz-briefs .gz-brief { margin: 0 auto 12px; padding: 11mm; width: 210mm; height: 296mm;
    box-shadow: 0 1px 6px rgba(0,0,0,.35); }
  body.gz-briefs .gz-brief-intro { max-width: 210mm; margin: 0 auto 12px; font: 14px/1.4 Arial, sans-serif; }
}
@media print {
  body.gz-briefs { margin: 0; }
  body.gz-briefs .gz-brief-intro { display: none; }
  body.gz-briefs .gz-brief { break-after: page; page-break-after: always; }
  body.gz-briefs .gz-brief:last-child { break-after: auto; page-break-after: auto; }
}
"""

SITE_PAGE_PRINT_CSS = """
.gz-brief-print { display: none; }
@media print {
  html, body { height: auto !important; overflow: visible !important; background: #fff !important; }
  body > *:not(.gz-brief-print) { display: none !important; }
  .gz-brief-print { display: block !important; }
}
"""

FIT_JS = """
<script>
(function () {
  // Each brief takes the largest type that fits its A4 page box (the same box on screen and in
  // print), so a long brief is never cut off and a short one is not shrunk; without scripts the
  // class chosen in Python stays.
  var sizes = ["", "gz-tight", "gz-tighter", "gz-tightest"];
  function fit(b) {
    for (var i = 0; i < sizes.length; i++) {
      b.classList.remove("gz-tight", "gz-tighter", "gz-tightest");
      if (sizes[i]) { b.classList.add(sizes[i]); }
      if (b.scrollHeight <= b.clientHeight + 1) { return; }
    }
  }
  var holder = document.querySelector(".gz-brief-print");  // a site page: measured off screen
  if (holder) { holder.style.cssText = "display:block;position:absolute;left:-10000px;top:0"; }
  document.querySelectorAll(".gz-brief").forEach(fit);
  if (holder) { holder.style.cssText = ""; }
})();
</script>
"""

_STATUS = {  # status -> (symbol, class, words)
    "pass": ("✓", "ok", "pass"),
    "present": ("✓", "ok", "present"),
    "fail": ("✗", "bad", "fail"),
    "absent": ("✗", "bad", "absent"),
    "missing": ("?", "warn", "missing"),
    "unknown": ("?", "warn", "unknown"),
    "unverified": ("?", "warn", "unverified"),
    "claimed": ("○", "na", "claimed"),
    "not claimed": ("–", "na", "not claimed"),
    "not checked": ("–", "na", "not checked"),
}
_MAX_DETAIL = 110
_MAX_MISSING = 420


def status_cell(status: Any) -> str:
    s = text(status).strip().lower()
    sym, cls, words = _STATUS.get(s, ("?", "warn", s or "unknown"))
    return f'<span class="gz-st {cls}">{sym} {esc(words)}</span>'


def _short(value: Any, limit: int) -> str:
    s = " ".join(text(value).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def section_scores(r: Any, criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per section: label, weight share of the score, points earned (sum of the criteria's
    contributions; None when any is missing) and the criteria in it, in profile order."""
    total = sum(max(float(c.get("weight", 0) or 0), 0.0) for c in criteria) or 1.0
    out: dict[str, dict[str, Any]] = {}
    for c in criteria:
        key = text(c.get("section")) or "criteria"
        sec = out.setdefault(
            key,
            {
                "section": key,
                "label": text(c.get("section_label")) or key.replace("_", " ").capitalize(),
                "weight": 0.0,
                "points": 0.0,
                "criteria": [],
            },
        )
        sec["weight"] += max(float(c.get("weight", 0) or 0), 0.0) / total
        sec["criteria"].append(c["name"])
        contrib = r.get(f"contrib_{c['name']}")
        if sec["points"] is not None:
            sec["points"] = None if is_missing(contrib) else sec["points"] + float(contrib)
    return list(out.values())


def _float(value: Any) -> float | None:
    if is_missing(value):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def penalty_rows(r: Any, penalties: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The designation penalties of one row, as rows of its score: ``label`` ("Designation penalty:
    National Park ×(1−0.5)"), ``tier`` and ``points`` (what the penalty took off, negative, the
    row's ``penalty_<name>`` column), only where a penalty applies; then, when a designation's share
    could not be checked, one row naming them with ``points`` None (no penalty was applied, so the
    score may be too high). ``penalties``: the profile's penalising tiers
    (:func:`growth_zones.workflows.ranking.penalty_table`).

    The kernel multiplies the score before penalties by ``1 - sum(factors)`` (factors capped at 1 in
    total), and each penalty column is ``-score_before x factor``: the section points plus these
    rows sum to the score."""
    rows: list[dict[str, Any]] = []
    unchecked: list[str] = []
    nominal = 0.0
    for d in penalties or ():
        col = f"penalty_{d['name']}"
        try:
            present = col in r.index
        except AttributeError:
            present = col in r
        if not present:
            continue
        label = text(d.get("label")) or text(d["name"])
        share = _float(r.get(d.get("indicator", ""))) if d.get("indicator") else None
        points = _float(r.get(col))
        if points is None or (share is None and not points):
            unchecked.append(label)
            continue
        if points == 0:
            continue
        amount = float(d.get("penalty", 0.0) or 0.0)
        if d.get("tier") == "constraint" and share is not None:
            formula = f"×(1−{amount:g}×{min(max(share, 0.0), 1.0):.2f})"
            nominal += amount * min(max(share, 0.0), 1.0)
        else:
            formula = f"×(1−{amount:g})"
            nominal += amount
        rows.append(
            {
                "label": f"Designation penalty: {label} {formula}",
                "tier": text(d.get("tier")),
                "points": points,
                "share": share,
            }
        )
    if nominal > 1.0 + 1e-9:
        for row in rows:
            row["label"] += " (penalties capped at the whole score)"
    if unchecked:
        rows.append(
            {
                "label": "Designation penalty not checked (no penalty applied; data could not be had): "
                + ", ".join(unchecked),
                "tier": "",
                "points": None,
                "share": None,
            }
        )
    return rows


def score_rows(
    r: Any, criteria: list[dict[str, Any]], penalties: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The score as rows that sum to it: one per section (``kind`` "section", with its weight),
    the score before penalties when a penalty applies or was not checked, one per designation
    penalty (``kind`` "penalty"), and the score itself (``kind`` "total"). ``points`` is None where
    unknown (a section with a missing contribution, an unchecked penalty)."""
    out: list[dict[str, Any]] = [
        {
            "kind": "section",
            "section": s["section"],
            "label": s["label"],
            "points": s["points"],
            "weight": s["weight"],
        }
        for s in section_scores(r, criteria)
    ]
    pens = penalty_rows(r, penalties)
    if pens:
        parts = [s["points"] for s in out]
        before = None if any(p is None for p in parts) else float(sum(parts))
        out.append({"kind": "subtotal", "label": "Score before designation penalties", "points": before})
        out.extend({"kind": "penalty", **p} for p in pens)
    out.append({"kind": "total", "label": "Score", "points": _float(r.get("score"))})
    return out


SUM_NOTE = (
    "The sections plus the designation penalties sum to the score (shown to 3 decimals; the section_ "
    "and penalty_ columns of assessment.csv hold them in full)."
)


def _minus(v: float) -> str:
    return f"{v:.3f}".replace("-", "−")


def _sections_table(r: Any, criteria: list[dict[str, Any]], penalties: list[dict[str, Any]] | None) -> str:
    rows = []
    for s in score_rows(r, criteria, penalties):
        p = s["points"]
        kind = s["kind"]
        if kind == "section":
            w = s["weight"]
            if p is None:
                got, bar = "—", ""
            else:
                frac = min(max(p / w, 0.0), 1.0) if w > 0 else 0.0
                got = f"{p:.3f} of {w:.3f}"
                bar = (
                    f'<span class="gz-bbar"><i style="width:{100 * frac:.0f}%"></i></span> {100 * frac:.0f}%'
                )
            rows.append(
                f"<tr class='gz-part'><td>{esc(s['label'])}</td><td class='num'>{got}</td>"
                f"<td class='num'>{bar}</td></tr>"
            )
        elif kind == "penalty":
            got = "not applied" if p is None else _minus(p)
            cls = "gz-part gz-pen" if p is not None else "gz-pen"
            rows.append(
                f"<tr class='{cls}'><td>{esc(_short(s['label'], 2 * _MAX_DETAIL))}"
                f"</td><td class='num'>{got}</td><td></td></tr>"
            )
        else:
            got = "—" if p is None else f"{p:.3f}"
            cls = "gz-total" if kind == "total" else "gz-sub"
            rows.append(
                f"<tr class='{cls}'><td><b>{esc(s['label'])}</b></td><td class='num'><b>{got}</b></td>"
                "<td></td></tr>"
            )
    return (
        "<table class='gz-score-rows'><thead><tr><th>Section</th><th class='num'>Points (of weight)</th>"
        "<th class='num'>Share</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _gates(r: Any, columns: Any, gate_checks: list[dict[str, Any]]) -> str:
    parts = []
    if "deliverable" in columns:
        status = text(r.get("deliverable")) or "unknown"
        parts.append(f"<tr><td>Deliverable (every gate)</td><td>{status_cell(status)}</td></tr>")
        parts.extend(
            f"<tr><td>{esc(_short(text(c.get('check')).removeprefix('Gate: '), 70))}</td>"
            f"<td>{status_cell(c.get('status'))}</td></tr>"
            for c in gate_checks
        )
        if text(r.get("gate_reasons")):
            parts.append(
                f"<tr><td colspan='2' class='gz-bnote'>{esc(_short(r.get('gate_reasons'), 2 * _MAX_DETAIL))}</td></tr>"
            )
    else:
        parts.append(
            "<tr><td>Deliverability gates</td><td class='gz-bnote'>none declared by this profile</td></tr>"
        )
    state = eligibility(r)
    cell = {"eligible": status_cell("pass"), "excluded": status_cell("fail")}.get(
        state, '<span class="gz-st warn">? not fully checked</span>'
    )
    parts.append("<tr><td>Hard exclusions</td><td>" + cell + "</td></tr>")
    if state == "excluded":
        reason = text(r.get("excluded_by")) or "fails a hard constraint"
        parts.append(f"<tr><td colspan='2' class='gz-bexcl'>{esc(_short(reason, 2 * _MAX_DETAIL))}</td></tr>")
    elif state == "unknown":
        parts.append(
            "<tr><td colspan='2' class='gz-bwarn'>"
            + esc(_short(eligibility_text(r), 2 * _MAX_DETAIL))
            + "</td></tr>"
        )
    return "<table><tbody>" + "".join(parts) + "</tbody></table>"


def _eligibility_badge(r: Any) -> str:
    state = eligibility(r)
    if state == "excluded":
        return "<span><span class='gz-bexcl'>Excluded</span></span>"
    if state == "unknown":
        return "<span><span class='gz-bwarn'>Not fully checked</span></span>"
    return "<span>Eligible</span>"


_MAX_NOT_RUN = 6


def not_run_box(missing_checks: Any, app_id: str) -> str:
    """The checks that could not run for one site, abbreviated to fit the page (the site page and
    ``checks.csv`` hold every reason); empty when there are none."""
    mine = [m for m in missing_checks or () if app_id in {str(i) for i in getattr(m, "ids", ())}]
    if not mine:
        return ""
    blocking = [m for m in mine if getattr(m, "blocking", True)]
    other = [m for m in mine if not getattr(m, "blocking", True)]
    items = [
        f"<li><b>{esc(m.check)}</b>: {esc(_short(m.reason, 120))}</li>"
        for m in (blocking + other)[:_MAX_NOT_RUN]
    ]
    more = len(mine) - len(items)
    if more > 0:
        items.append(f"<li>and {more} more (see the site page and checks.csv)</li>")
    head = (
        f"<b>Checks that could not run ({len(blocking)})</b>: the data could not be had; " if blocking else ""
    ) + (f"<b>not checked for lack of national data ({len(other)})</b>" if other else "")
    return f"<div class='gz-bnotrun' role='note'>{head.rstrip('; ')}<ul>{''.join(items)}</ul></div>"


def _checks_table(rows: list[dict[str, Any]], empty: str, strip: str = "") -> str:
    if not rows:
        return f"<p class='gz-bnote'>{esc(empty)}</p>"
    body = "".join(
        f"<tr><td>{esc(_short(text(c.get('check')).removeprefix(strip), 70))}</td>"
        f"<td>{status_cell(c.get('status'))}</td>"
        f"<td class='gz-bnote'>{esc(_short(c.get('detail'), _MAX_DETAIL))}</td></tr>"
        for c in rows
    )
    return "<table><tbody>" + body + "</tbody></table>"


def sources_line(provenance: list[dict[str, Any]] | None) -> str:
    """Every dataset as 'title (vintage)', for the brief's footer."""
    if not provenance:
        return "No data-source list was supplied."
    items = []
    for p in provenance:
        title = text(p.get("title")) or text(p.get("key"))
        vintage = text(p.get("vintage"))
        items.append(f"{title} ({vintage})" if vintage else title)
    return "; ".join(items)


def site_brief(
    app_id: str,
    r: Any,
    *,
    columns: Any,
    criteria: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    nearest: list[tuple[str, str, str]],
    penalties: list[dict[str, Any]] | None = None,
    n_ranked: int,
    profile_title: str,
    generated_at: str,
    sources: str,
    non_commercial: list[str],
    missing_checks: Any = None,
) -> str:
    """One A4 brief (a ``<section class="gz-brief">``) for one assessed site.

    ``checks``: this site's rows of ``checks.csv`` (check, status, detail); ``nearest``: (what,
    name, distance text) for the nearest infrastructure; ``sources``: :func:`sources_line`;
    ``penalties``: the profile's penalising designation tiers (shown as rows of the score).

    ``missing_checks``: the run's checks that could not run (those of this site are boxed).
    """
    nm = text(r.get("name")) or app_id
    rank = r.get("rank")
    rank_s = "not ranked" if is_missing(rank) else f"{int(rank)} of {n_ranked}"
    designations = [c for c in checks if text(c.get("check")).startswith("Designation")]
    gate_checks = [c for c in checks if text(c.get("check")).startswith("Gate:")]
    dsit = [c for c in checks if c not in designations and c not in gate_checks]
    flags = text(r.get("designation_flags"))
    missing = text(r.get("missing"))
    load = (
        len(checks)
        + len(criteria) / 2
        + 2 * len(penalty_rows(r, penalties))
        + len(missing) / 120
        + len(sources) / 260
    )
    density = "" if load <= 30 else " gz-tight" if load <= 42 else " gz-tighter"
    where = " ".join(x for x in (text(r.get("la_name")), text(r.get("nation"))) if x)
    who = text(r.get("applicant"))
    near_rows = (
        "".join(
            f"<tr><td>{esc(what)}</td><td>{esc(_short(name, 60))}</td><td class='num'>{dist}</td></tr>"
            for what, name, dist in nearest
        )
        or "<tr><td colspan='3' class='gz-bnote'>None located.</td></tr>"
    )
    nc = (
        "<p><b>Licence notice:</b> contains data licensed for non-commercial use only: "
        + esc("; ".join(non_commercial))
        + ".</p>"
        if non_commercial
        else ""
    )
    return (
        f'<section class="gz-brief{density}" aria-label="Site brief: {esc(nm)}">'
        "<div class='gz-bnote'>AI Growth Zone application &#8212; site brief</div>"
        f"<h1>{esc(nm)}</h1>"
        f"<p class='gz-bmeta'>Application <b>{esc(app_id)}</b>"
        + (f" &#183; {esc(who)}" if who else "")
        + (f" &#183; {esc(where)}" if where else "")
        + f" &#183; {fmt_num(r.get('mw'), 'MW')} by {esc(text(r.get('target_year')) or '—')}"
        + (f" &#183; {fmt_num(r.get('site_area_ha'), 'ha')}" if "site_area_ha" in columns else "")
        + "</p>"
        f"<div class='gz-bscore'><span>Score <b>{fmt_num(r.get('score'), digits=3)}</b></span>"
        f"<span>Rank <b>{esc(rank_s)}</b></span>"
        + _eligibility_badge(r)
        + "</div>"
        + not_run_box(missing_checks, app_id)
        + "<div class='gz-bcols'><div>"
        "<h2>Score by section</h2>"
        + _sections_table(r, criteria, penalties)
        + (f"<p class='gz-bnote'>{esc(SUM_NOTE)}</p>" if penalty_rows(r, penalties) else "")
        + "<h2>DSIT checks and evidence</h2>"
        + _checks_table(dsit, "No DSIT checks recorded.")
        + "<h2>Gates and exclusions</h2>"
        + _gates(r, columns, gate_checks)
        + "</div><div>"
        "<h2>Nearest infrastructure</h2><table><tbody>" + near_rows + "</tbody></table>"
        "<h2>Designations</h2>"
        + (f"<p class='gz-bexcl'>{esc(_short(flags, 2 * _MAX_DETAIL))}</p>" if flags else "")
        + _checks_table(designations, "No designation checks recorded.", strip="Designation: ")
        + "</div></div>"
        + (
            f"<h2>Missing data</h2><p class='gz-bnote'>{esc(_short(missing, _MAX_MISSING))}</p>"
            if missing
            else ""
        )
        + "<div class='gz-bfoot'>"
        f"<p>Scoring profile: <b>{esc(profile_title) or '—'}</b> &#183; generated {esc(generated_at)} &#183; "
        "scores are relative (0&#8211;1) and explained criterion by criterion in the HTML report and "
        "assessment.csv.</p>"
        f"<p><b>Data sources and vintages:</b> {esc(sources)}</p>" + nc + "</div></section>"
    )


def briefs_page(briefs: list[str], *, title: str, generated_at: str, banner: str = "") -> str:
    """The committee pack: every brief, one A4 page each (print it, or "Save as PDF"). ``banner``:
    the checks-that-could-not-run banner (HTML), shown above the briefs on screen; each brief
    carries its own site's list when printed."""
    intro = (
        "<div class='gz-brief-intro'><h1>"
        + esc(title)
        + "</h1>"
        + banner
        + f"<p>{len(briefs)} site brief{'s' if len(briefs) != 1 else ''}, one A4 page each, in rank order; "
        f"generated {esc(generated_at)}. Print this page (or choose &#8220;Save as PDF&#8221; in the print "
        "dialogue) for a committee pack; the site pages and assessment.csv hold the full detail.</p></div>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><meta name='color-scheme' content='light'>"
        f"<style>{BRIEF_CSS}{SCREEN_CSS}</style></head><body class='gz-briefs'>"
        + intro
        + "".join(briefs)
        + FIT_JS
        + "</body></html>"
    )

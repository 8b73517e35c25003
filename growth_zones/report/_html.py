"""HTML helpers shared by the map reports: escaping, number formatting, the colour scale.

Everything that came from an application file or a download goes through :func:`esc` before it
reaches HTML. ``esc`` also neutralises the characters that are special inside JavaScript template
literals (backtick, ``$``, backslash) because folium pastes some HTML into such literals, and the
braces: branca compiles every rendered map script as a jinja template again, so ``{{ ... }}`` in
an application's name would otherwise be evaluated (code execution) while the report is written.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np

_JS_TEMPLATE_CHARS = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


RANKING_NOTE = (
    "Ranked by deliverability first (every gate passed, then a gate that could not be checked, then a "
    "failed gate; hard exclusions last), then by score. Scores are shown for every row."
)
"""The ranking rule in words, on every page and image that shows a ranking with gates."""


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute content (quotes too); ``None``/NaN/NA -> ''."""
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE_CHARS)


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pd.NA (scalars only)."""
    if value is None:
        return True
    try:
        import pandas as pd

        res = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(res) if isinstance(res, (bool, np.bool_)) else False


def text(value: Any) -> str:
    """A plain string for a value that may be missing ('' when missing)."""
    return "" if is_missing(value) else str(value)


def fmt_num(value: Any, unit: str = "", digits: int | None = None) -> str:
    """Human formatting of an indicator value (already escaped), e.g. ``12.3 km``; '—' when missing."""
    if is_missing(value):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        s = "yes" if value else "no"
    elif isinstance(value, (int, np.integer)):
        s = f"{int(value):,}"
    elif isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isinf(v):
            return "—"
        if digits is not None:
            s = f"{v:,.{digits}f}"
        elif v != 0 and abs(v) < 0.01:
            s = f"{v:.2g}"
        elif abs(v) >= 1000:
            s = f"{v:,.0f}"
        elif abs(v) >= 100:
            s = f"{v:.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        else:
            s = f"{v:.2f}".rstrip("0").rstrip(".") if "." in f"{v:.2f}" else f"{v:.2f}"
    else:
        s = str(value)
    unit = text(unit)
    return esc(f"{s} {unit}".strip() if unit and unit not in ("0/1",) else s)


def truthy(value: Any) -> bool:
    if is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return bool(value)


def eligibility(r: Any) -> str:
    """``eligible`` / ``excluded`` / ``unknown`` for a row (a mapping or Series): its
    ``eligibility`` column, else (outputs written before it existed) the boolean ``eligible``."""
    got = text(r.get("eligibility")).strip().lower()
    if got in ("eligible", "excluded", "unknown"):
        return got
    return "eligible" if truthy(r.get("eligible", True)) else "excluded"


def eligibility_text(r: Any, *, full: bool = True) -> str:
    """Plain words for a row's eligibility: "Eligible", "Excluded: <reasons>" or "Not fully checked:
    <exclusions> not checked" (``full``: with the reasons)."""
    state = eligibility(r)
    if state == "excluded":
        return "Excluded" + (": " + (text(r.get("excluded_by")) or "fails a hard constraint") if full else "")
    if state == "unknown":
        names = text(r.get("exclusions_not_checked")) or "some hard exclusion"
        return "Not fully checked" + (f": hard exclusions not checked: {names}" if full else "")
    return "Eligible"


ELIGIBILITY_WORDS = {"eligible": "eligible", "excluded": "excluded", "unknown": "not fully checked"}
"""How each eligibility value is counted in summaries ("9 eligible · 3 not fully checked · 1 excluded")."""


def eligibility_column(frame: Any) -> Any:
    """The eligibility of every row of a table as a pandas Series (vectorised :func:`eligibility`)."""
    import pandas as pd

    n = len(frame)
    if "eligibility" in frame:
        got = frame["eligibility"].astype("string").str.strip().str.lower()
        ok = got.isin(["eligible", "excluded", "unknown"]).fillna(False).to_numpy(dtype=bool)
    else:
        got, ok = pd.Series([""] * n, index=frame.index, dtype="string"), np.zeros(n, dtype=bool)
    if "eligible" in frame:
        flag = frame["eligible"].map(truthy).to_numpy(dtype=bool)
    else:
        flag = np.ones(n, dtype=bool)
    fallback = np.where(flag, "eligible", "excluded")
    return pd.Series(np.where(ok, got.fillna("").to_numpy(dtype=object), fallback), index=frame.index)


def eligibility_counts(rows: Any) -> dict[str, int]:
    """``{"eligible": n, "unknown": n, "excluded": n}`` over a table's rows."""
    out = {"eligible": 0, "unknown": 0, "excluded": 0}
    if rows is None or not len(rows):
        return out
    for k, v in eligibility_column(rows).value_counts().items():
        out[str(k)] = int(v)
    return out


def eligibility_summary(rows: Any) -> str:
    """ "9 eligible · 3 not fully checked · 1 excluded" (plain text)."""
    counts = eligibility_counts(rows)
    return " · ".join(f"{counts[k]} {ELIGIBILITY_WORDS[k]}" for k in ("eligible", "unknown", "excluded"))


# Viridis (matplotlib), 11 stops; colour-blind safe and perceptually uniform. Reversed for scores so
# that darker = higher score.
_VIRIDIS = [
    "#440154",
    "#482475",
    "#414487",
    "#355f8d",
    "#2a788e",
    "#21918c",
    "#22a884",
    "#44bf70",
    "#7ad151",
    "#bddf26",
    "#fde725",
]
SCORE_STOPS = list(reversed(_VIRIDIS))
EXCLUDED_FILL = "#9e9e9e"
NODATA_FILL = "#ffffff"


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def score_colour(score: Any) -> str:
    """Colour of a 0..1 score on the (reversed) viridis scale; ``NODATA_FILL`` when missing."""
    if is_missing(score):
        return NODATA_FILL
    s = min(max(float(score), 0.0), 1.0) * (len(SCORE_STOPS) - 1)
    i = min(int(s), len(SCORE_STOPS) - 2)
    t = s - i
    a, b = _hex(SCORE_STOPS[i]), _hex(SCORE_STOPS[i + 1])
    return "#{:02x}{:02x}{:02x}".format(*(round(x + (y - x) * t) for x, y in zip(a, b, strict=True)))


def gradient_css() -> str:
    n = len(SCORE_STOPS) - 1
    return (
        "linear-gradient(to right, "
        + ", ".join(f"{c} {100 * i / n:.0f}%" for i, c in enumerate(SCORE_STOPS))
        + ")"
    )


_SLUG_RE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_id(value: Any, taken: set[str] | None = None) -> str:
    """Filesystem-safe slug for a page name: ASCII letters, digits, ``-``, ``_``, ``.``; never
    starting with a dot (so no ``..``), at most 64 characters, unique within ``taken``."""
    raw = text(value)
    slug = _SLUG_RE.sub("-", raw).strip("-._")
    slug = re.sub(r"\.{2,}", ".", slug)[:64].strip("-._") or "site"
    if slug.lower() in {"con", "prn", "aux", "nul", "index"} or re.fullmatch(r"(?i)(com|lpt)\d", slug):
        slug = f"site-{slug}"
    if taken is not None:
        base, n = slug, 2
        while slug.lower() in taken:
            slug = f"{base}-{n}"
            n += 1
        taken.add(slug.lower())
    return slug

"""Grid-site names reduced to comparable keys, for joining the same physical site across FES, ETYS,
NGED, OSM and the TEC register (used by :mod:`growth_zones.indicators.nodes`).

A key drops what describes the asset rather than the place: voltages ("400/132kV"), asset words
("S.G.P.", "Grid Supply Point", "Substation", "(Ngt)", "National Grid Site"), brackets, stand-alone
numbers and single letters. It keeps words that name a different site: north/south/east/west,
main, tee, onshore/offshore ("Norwich Main" is not "Norwich"; "Beddington Tee" is not
"Beddington"; "X Offshore" is not "X Onshore").
"""

from __future__ import annotations

import difflib
import re

_VOLTAGE_RUN = re.compile(r"\d+(?:\.\d+)?\s*(?:/\s*\d+(?:\.\d+)?\s*)*k\s*v\b")
_ASSET_WORDS = re.compile(
    r"\b(?:grid supply point|bulk supply point|super ?grid(?: point| substation)?|"
    r"switching (?:station|site)|sub[\s-]?stations?|sub stataion|s\s*stn|sw\s*stn|switch\s*stn|"
    r"s g p|sgp|gsp|bsp|substn|sub stn|ss|national grid(?: site)?|ngt|ngc|gis|grid|power station|"
    r"nuclear|cable sealing end compound|electricity|lpn|spn|epn|border node|boundary|border)\b"
)
_GENERIC_WIND = re.compile(r"\b(?:wind farm|windfarm|wind|wf|collector)\b")
"""Words a TEC string and a node name may differ by for one wind-farm site. Not "farm" ("Ayr Farm" is
not Ayr), nor "offshore", "extension" or "new", which name other sites."""
_KV_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)*)\s*k\s*v", re.IGNORECASE)
_BRACKET = re.compile(r"\(([^)]*)\)")


def name_key(text: object) -> str:
    """Comparable key of a grid-site name: ``"Exeter Main  S.G.P."`` -> ``"exeter main"``,
    ``"Chesterfield 275/132kv (Ngt)"`` -> ``"chesterfield"``, ``"Connah's Quay 400kV Substation"``
    -> ``"connahs quay"``. Empty for anything that is not text."""
    if not isinstance(text, str):
        return ""
    s = text.lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    s = re.sub(r"\(.*?\)", " ", s)
    s = _VOLTAGE_RUN.sub(" ", s)
    s = re.sub(r"\b\d+(?:\.\d+)?\s*kv\b", " ", s)
    s = s.replace(".", "")
    s = re.sub(r"[^a-z0-9 ]+", " ", s)
    s = _ASSET_WORDS.sub(" ", s)
    s = re.sub(r"\b\d+(?:/\d+)*\b", " ", s)
    s = re.sub(r"\bst\b", "saint", s)
    words = [w for w in s.split() if w not in ("kv", "v", "the") and len(w) > 1]
    return " ".join(words)


def compact_key(text: object) -> str:
    """:func:`name_key` without spaces: "Clydesmill" = "CLYDE'S MILL", "Berryburn" = "BERRY BURN"."""
    return name_key(text).replace(" ", "")


def loose_key(key: str) -> str:
    """A key without generic wind-farm words ("aberdeen bay windfarm" -> "aberdeen bay")."""
    return " ".join(_GENERIC_WIND.sub(" ", key).split())


def bracketed(text: object) -> str:
    """The text in the first pair of brackets ("Hams Hall (Lea Marston 132kV)" -> "Lea Marston
    132kV"); "" if none."""
    m = _BRACKET.search(text) if isinstance(text, str) else None
    return m.group(1) if m else ""


def without_brackets(text: object) -> str:
    return re.sub(r"\(.*?\)", " ", text).strip() if isinstance(text, str) else ""


def voltages_in_text(text: object) -> frozenset[float]:
    """Every kV a name or TEC string states: "Alness 2 275/33 kV GSP" -> {275, 33}."""
    out: set[float] = set()
    for m in _KV_IN_TEXT.finditer(text if isinstance(text, str) else ""):
        for v in m.group(1).split("/"):
            try:
                out.add(float(v))
            except ValueError:
                continue
    return frozenset(out)


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names on their compact keys (difflib ratio); 1 when equal; at least
    0.8 when the first words agree and one name is a single word ("Exeter" / "Exeter Main")."""
    ca, cb = compact_key(a), compact_key(b)
    if not ca or not cb:
        return 0.0
    if ca == cb:
        return 1.0
    ka, kb = name_key(a).split(), name_key(b).split()
    ratio = difflib.SequenceMatcher(None, ca, cb).ratio()
    if ka[0] == kb[0] and (len(ka) == 1 or len(kb) == 1):
        ratio = max(ratio, 0.8)
    return ratio


def strip_voltages(text: str) -> str:
    """A display name without the voltages it states ("Drax 132kV" -> "Drax")."""
    s = re.sub(_VOLTAGE_RUN.pattern, " ", text, flags=re.IGNORECASE)
    s = re.sub(r"\(\s*\)", " ", s)
    return " ".join(s.split())

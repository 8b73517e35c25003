"""Where a report's map libraries come from, and what the page says when they cannot be had.

The libraries folium's maps load (Leaflet, jQuery, Bootstrap, Font Awesome, Leaflet.awesome-markers)
are catalogue assets: npm registry tarballs, fetched once through :mod:`growth_zones.data.fetch`,
verified against their pinned sha256 and cached (:mod:`growth_zones.data.assets`). This module reads
the files folium needs straight out of the cached tarballs (:class:`MapLibraries`):

* **bundled** (the default): the JavaScript and CSS are inlined into a single page (the national
  map) or written once into a report folder's ``assets/`` (``maplibs.js``, ``maplibs.css``) and
  linked by every page there; images and the one icon font the maps use become ``data:`` URIs.
  The page needs no network.
* **cdn** (``--cdn``, or when the tarballs could not be had): folium's CDN links. The page then
  carries a banner that says the map needs the network; it is visible from the start when the
  libraries could not be bundled (with the reason), and appears by itself whenever the libraries
  fail to load. A report is never a blank page.
"""

from __future__ import annotations

import base64
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._html import esc

LIBRARY_FILES: dict[str, tuple[str, str]] = {
    # folium asset name -> (npm package, member of the package tarball)
    "leaflet": ("leaflet", "package/dist/leaflet.js"),
    "jquery": ("jquery", "package/dist/jquery.min.js"),
    "bootstrap": ("bootstrap", "package/dist/js/bootstrap.bundle.min.js"),
    "awesome_markers": ("leaflet.awesome-markers", "package/dist/leaflet.awesome-markers.js"),
    "leaflet_css": ("leaflet", "package/dist/leaflet.css"),
    "bootstrap_css": ("bootstrap", "package/dist/css/bootstrap.min.css"),
    "awesome_markers_font_css": ("@fortawesome/fontawesome-free", "package/css/all.min.css"),
    "awesome_markers_css": ("leaflet.awesome-markers", "package/dist/leaflet.awesome-markers.css"),
}
"""The file behind each of folium's default JS/CSS links, inside the npm package tarballs."""
OMITTED: dict[str, str] = {
    "glyphicons_css": "Bootstrap 3 glyphicons are not published on npm as a file; the reports use none",
    "awesome_rotate_css": "folium's own rotation CSS is not on npm; the reports rotate no markers",
}
"""folium links that have no npm package (dropped from bundled pages)."""
KEEP_FONTS = frozenset({"fa-solid-900.woff2"})
"""The only web font embedded: Font Awesome's solid face (folium's ``fa`` icons); the other faces
(brands, regular, v4 shims) are dropped so a page does not carry 150 KB of unused fonts."""
MAX_IMAGE_BYTES = 24_000
"""Images referenced by the CSS are embedded up to this size; larger ones (marker sprites the
reports do not use) are dropped."""
SHARED_JS = "maplibs.js"
SHARED_CSS = "maplibs.css"
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".jpg": "image/jpeg",
}


class AssetsError(RuntimeError):
    """The map-library tarballs are not usable (a member is missing or unreadable)."""


def npm_package(url: str) -> str | None:
    """The npm package name of a registry tarball URL (``.../<@scope/name or name>/-/<file>.tgz``,
    the npm registry's layout), else None."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or "/-/" not in parsed.path or not parsed.path.endswith(".tgz"):
        return None
    parts = [p for p in parsed.path.split("/-/")[0].split("/") if p]
    if not parts:
        return None
    return "/".join(parts[-2:]) if len(parts) >= 2 and parts[-2].startswith("@") else parts[-1]


@dataclass(frozen=True)
class Package:
    """A bundled library, for the page's licence list."""

    title: str
    version: str
    licence: str
    licence_url: str


@dataclass(frozen=True)
class MapLibraries:
    """The map libraries of a page: ``bundled`` (the code, inlined or in a shared file) or ``cdn``.

    ``problem`` says why a page that should have been self-contained loads them from the CDN
    instead, in words for the page's banner (which stakeholders read: no file paths or hosts);
    ``detail`` holds the full reasons for the log. Both are empty when the user chose the CDN.
    """

    mode: str = "cdn"
    js: tuple[tuple[str, str], ...] = ()
    css: tuple[tuple[str, str], ...] = ()
    packages: tuple[Package, ...] = ()
    problem: str = ""
    detail: str = ""

    @property
    def bundled(self) -> bool:
        return self.mode == "bundled"

    @classmethod
    def cdn(cls, problem: str = "", detail: str = "") -> MapLibraries:
        """folium's CDN links (the page needs the network to draw its map)."""
        return cls(mode="cdn", problem=problem, detail=detail or problem)

    @classmethod
    def from_tarballs(cls, tarballs: dict[str, Path], packages: tuple[Package, ...] = ()) -> MapLibraries:
        """Read every file of :data:`LIBRARY_FILES` from ``tarballs`` (npm package -> verified
        ``.tgz``). Raises :class:`AssetsError` if a package or a member is missing."""
        key = tuple(
            sorted((name, str(p), p.stat().st_mtime_ns, p.stat().st_size) for name, p in tarballs.items())
        )
        js, css = _read_libraries(key)
        return cls(mode="bundled", js=js, css=css, packages=packages)

    def script_text(self) -> str:
        """All the JavaScript, in folium's order, safe to inline in one ``<script>`` element."""
        return "\n;\n".join(f"/* {name} */\n{_safe_inline(code, 'script')}" for name, code in self.js)

    def style_text(self) -> str:
        """All the CSS, in folium's order, safe to inline in one ``<style>`` element."""
        return "\n".join(f"/* {name} */\n{_safe_inline(code, 'style')}" for name, code in self.css)

    def licences_html(self) -> str:
        """One line naming the bundled libraries and their licences (empty for the CDN)."""
        if not self.bundled or not self.packages:
            return ""
        items = []
        for p in self.packages:
            lic = esc(p.licence)
            if p.licence_url.startswith("https://"):
                lic = f'<a href="{esc(p.licence_url)}" rel="noopener noreferrer" target="_blank">{lic}</a>'
            items.append(f"{esc(p.title)} ({lic})")
        return (
            '<p class="gz-src gz-libs">Map libraries bundled into this report: ' + "; ".join(items) + ".</p>"
        )


def _safe_inline(code: str, tag: str) -> str:
    # A literal "</script" (or "</style") would end the element early.
    return re.sub(rf"</({tag})", r"<\\/\1", code, flags=re.IGNORECASE)


@lru_cache(maxsize=4)
def _read_libraries(
    key: tuple[tuple[str, str, int, int], ...],
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    from ..data.assets import read_members
    from ..errors import DataSourceError

    tarballs = {name: Path(path) for name, path, _, _ in key}
    by_package: dict[str, list[str]] = {}
    for pkg, member in LIBRARY_FILES.values():
        if pkg not in tarballs:
            raise AssetsError(f"no tarball for the npm package {pkg!r} (needed for the map)")
        by_package.setdefault(pkg, []).append(member)
    files: dict[tuple[str, str], bytes] = {}
    try:
        for pkg, members in by_package.items():
            for member, data in read_members(tarballs[pkg], members).items():
                files[(pkg, member)] = data
        # second pass: what the stylesheets reference (images, the kept font)
        refs: dict[str, set[str]] = {}
        for pkg, member in LIBRARY_FILES.values():
            if member.endswith(".css"):
                text = files[(pkg, member)].decode("utf-8")
                for ref in _URL_RE.findall(text):
                    path = _resolve(member, ref[1])
                    if path and _wanted(path):
                        refs.setdefault(pkg, set()).add(path)
        for pkg, paths in refs.items():
            for member, data in _read_optional(tarballs[pkg], paths).items():
                files[(pkg, member)] = data
    except DataSourceError as err:
        raise AssetsError(str(err)) from err
    js, css = [], []
    for name, (pkg, member) in LIBRARY_FILES.items():
        text = files[(pkg, member)].decode("utf-8")
        if member.endswith(".css"):
            css.append(
                (name, _inline_css_urls(text, member, {m: d for (p, m), d in files.items() if p == pkg}))
            )
        else:
            js.append((name, text))
    return tuple(js), tuple(css)


def _read_optional(tarball: Path, names: set[str]) -> dict[str, bytes]:
    import tarfile

    out: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:*") as tar:
        for m in tar.getmembers():
            if m.name in names and m.isfile():
                fh = tar.extractfile(m)
                if fh is not None:
                    data = fh.read()
                    if m.name.endswith(".woff2") or len(data) <= MAX_IMAGE_BYTES:
                        out[m.name] = data
    return out


_URL_RE = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_FONT_FACE_RE = re.compile(r"@font-face\s*{[^}]*}", re.IGNORECASE)


def _resolve(css_member: str, ref: str) -> str | None:
    """The tarball member a CSS ``url()`` points to, or None (data:, absolute or external refs)."""
    clean = ref.split("?")[0].split("#")[0].strip()
    if not clean or clean.startswith(("data:", "#", "/")) or re.match(r"^[a-z]+:", clean, re.I):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(css_member), clean))
    return None if path.startswith("..") else path


def _wanted(path: str) -> bool:
    suffix = posixpath.splitext(path)[1].lower()
    if suffix == ".woff2":
        return posixpath.basename(path) in KEEP_FONTS
    return suffix in _MIME


def _inline_css_urls(css: str, css_member: str, files: dict[str, bytes]) -> str:
    """Embed the images and the kept font a stylesheet references as ``data:`` URIs; drop every
    other reference (a font face with no loadable source is dropped whole: glyphs fall back)."""

    def data_uri(ref: str) -> str | None:
        if ref.startswith("data:"):
            return ref
        path = _resolve(css_member, ref)
        if path is None or path not in files or not _wanted(path):
            return None
        mime = _MIME[posixpath.splitext(path)[1].lower()]
        return f"data:{mime};base64," + base64.b64encode(files[path]).decode("ascii")

    embedded: set[str] = set()

    def font_face(m: re.Match[str]) -> str:
        block = m.group(0)
        src = re.search(r"src\s*:([^;}]*)", block)
        if not src:
            return block
        kept = []
        for part in src.group(1).split(","):
            u = _URL_RE.search(part)
            if not u:
                continue
            path = _resolve(css_member, u.group(2))
            if path in embedded:  # the v4 shim faces reuse the same files: embed each once
                continue
            uri = data_uri(u.group(2))
            if uri is not None:
                embedded.add(path or "")
                kept.append(
                    f'url("{uri}") format("woff2")' if uri.startswith("data:font/woff2") else f'url("{uri}")'
                )
        if not kept:
            return ""
        return block[: src.start()] + "src:" + ",".join(kept) + block[src.end() :]

    css = _FONT_FACE_RE.sub(font_face, css)

    def other(m: re.Match[str]) -> str:
        uri = data_uri(m.group(2))
        return f'url("{uri}")' if uri is not None else "none"

    out, pos = [], 0
    for ff in _FONT_FACE_RE.finditer(css):
        out.append(_URL_RE.sub(other, css[pos : ff.start()]))
        out.append(ff.group(0))
        pos = ff.end()
    out.append(_URL_RE.sub(other, css[pos:]))
    return "".join(out)


def libraries_from_assets(asset_set: Any) -> MapLibraries:
    """:class:`MapLibraries` from a :class:`growth_zones.data.assets.AssetSet`: bundled when every
    tarball is there, else the CDN with the reason (one line per missing asset)."""
    if asset_set.problems:
        detail = "; ".join(f"{k}: {v}" for k, v in asset_set.problems.items())
        by_why: dict[str, list[str]] = {}
        for key, reason in asset_set.problems.items():
            ds = asset_set.datasets.get(key)
            name = ds.title.split(" (")[0] if ds is not None and ds.title else key
            by_why.setdefault(plain_reason(reason), []).append(name)
        said = "; ".join(f"{', '.join(names)}: {why}" for why, names in by_why.items())
        return MapLibraries.cdn(problem=f"the map libraries could not be fetched ({said})", detail=detail)
    tarballs: dict[str, Path] = {}
    packages = []
    for key, path in asset_set.paths.items():
        ds = asset_set.datasets[key]
        pkg = npm_package(ds.url)
        if pkg is None:
            continue
        tarballs[pkg] = path
        packages.append(Package(ds.title.split(" (")[0], ds.vintage, ds.licence, ds.licence_url))
    try:
        return MapLibraries.from_tarballs(tarballs, tuple(packages))
    except (AssetsError, OSError, UnicodeDecodeError) as err:
        return MapLibraries.cdn(
            problem="the map library files in the data cache are unusable",
            detail=f"the map library tarballs are unusable ({err})",
        )


_REASONS = (  # (words in a fetch error, what a reader of the page is told): never paths or hosts
    ("offline", "not in the cache (offline mode)"),
    ("could not be reached", "the download site could not be reached"),
    ("sha256", "the copy found failed its integrity check"),
    ("hash", "the copy found failed its integrity check"),
    ("mirror has no file", "no mirror location holds a copy"),
    ("holds no copy", "no mirror location holds a copy"),
)


def plain_reason(reason: str) -> str:
    """A fetch error in words for a report's banner, without file paths, URLs or host names (the
    full reason goes to the log): e.g. "no mirror location holds a copy"."""
    low = reason.lower()
    for needle, words in _REASONS:
        if needle in low:
            return words
    return "the download failed"


# ---------------------------------------------------------------- the banner

BANNER_CSS = """
.gz-nolib { position: fixed; z-index: 3000; top: 12px; left: 50%; transform: translateX(-50%);
  max-width: min(760px, calc(100% - 40px)); box-sizing: border-box; background: #fff4e5; color: #1a1a1a;
  border: 1px solid #e69f00; border-left: 6px solid #d55e00; padding: 10px 14px; font-size: 14px;
  line-height: 1.4; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
.gz-side ~ .gz-nolib { left: calc(50% + 190px); max-width: min(760px, calc(100% - 420px)); }
@media (max-width: 800px) { .gz-side ~ .gz-nolib { left: 50%; top: calc(45vh + 12px);
  max-width: calc(100% - 40px); } }
.gz-nolib[hidden] { display: none; }
.gz-nolib b { display: block; font-size: 15px; margin-bottom: 2px; }
.gz-nolib button { float: right; margin: -4px -6px 0 8px; border: 0; background: none; font-size: 20px;
  line-height: 1; cursor: pointer; color: #444; }
@media print { .gz-nolib { display: none !important; } }
"""


def banner_html(libraries: MapLibraries, *, shared_file: str = "") -> str:
    """The 'map needs the network' banner and the script that shows it when Leaflet is missing.

    Visible from the start when the libraries could not be bundled; otherwise hidden, and shown by
    the script if ``L`` (Leaflet) is undefined once the page's library scripts have run (CDN out
    of reach, or a report page opened without its ``assets/`` folder).
    """
    if libraries.bundled and shared_file:
        why = (
            f"The map libraries were not found next to this page ({esc(shared_file)}): keep the report "
            "folder together (the page and its assets/ folder) when copying or emailing it."
        )
        title = "The map cannot be drawn."
    elif libraries.bundled:
        why = "The map libraries embedded in this page did not load."
        title = "The map cannot be drawn."
    elif libraries.problem:
        why = (
            f"This report could not bundle its map libraries when it was written: {esc(libraries.problem)}. "
            "It loads them from the internet instead, so the map needs the network. To make it "
            "self-contained, write it again once with network access or with a mirror that holds the npm "
            "tarballs (GROWTH_ZONES_MIRROR or --mirror)."
        )
        title = "The map needs the network."
    else:
        why = (
            "This report was written with --cdn: its map libraries load from the internet, which cannot be "
            "reached. Open it with a network connection, or write it again without --cdn for a "
            "self-contained report."
        )
        title = "The map needs the network."
    hidden = "" if (libraries.problem and not libraries.bundled) else " hidden"
    return (
        f'<div id="gz-nolib" class="gz-nolib" role="alert"{hidden}>'
        '<button type="button" aria-label="Dismiss this message">&times;</button>'
        f"<b>{title}</b>{why} "
        "Everything else on this page (tables, scores, checks, sources) works without it.</div>"
        "<script>(function () { var b = document.getElementById('gz-nolib'); if (!b) { return; }"
        " if (typeof window.L === 'undefined') { b.hidden = false; }"
        " b.querySelector('button').addEventListener('click', function () { b.hidden = true; }); })();</script>"
    )

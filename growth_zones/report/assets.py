"""Where a report's JavaScript/CSS comes from: folium's CDN links, or a local copy inlined.

``assets="cdn"`` keeps folium's ``<script src>``/``<link>`` tags (the page then needs the
internet). ``assets=Path(dir)`` reads ``dir/manifest.json`` (written by
``tools/fetch_map_assets.sh``), and inlines every listed file into the page as ``<script>`` /
``<style>`` so that the HTML works from a double-click with no network. Images and fonts that a
stylesheet references are embedded as ``data:`` URIs when present and small; references that
cannot be embedded are dropped (an icon font that fails to load must never break the map).
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "GROWTH_ZONES_MAP_ASSETS"
_MAX_IMAGE_BYTES = 24_000
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".jpg": "image/jpeg",
}


class AssetsError(RuntimeError):
    """The local asset directory is missing, incomplete or unreadable."""


def local_assets_dir() -> Path | None:
    """The default local asset directory from ``GROWTH_ZONES_MAP_ASSETS`` (None when unset)."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env).expanduser() if env else None


@dataclass(frozen=True)
class LocalAssets:
    root: Path
    files: dict[str, str]

    @classmethod
    def load(cls, root: Path) -> LocalAssets:
        root = Path(root)
        manifest = root / "manifest.json"
        if not manifest.is_file():
            raise AssetsError(
                f"{manifest} not found: install the map assets with `tools/fetch_map_assets.sh {root}`"
            )
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AssetsError(f"{manifest}: unreadable manifest ({e})") from e
        files = data.get("files", {})
        if not isinstance(files, dict) or "leaflet" not in files or "leaflet_css" not in files:
            raise AssetsError(f"{manifest}: no 'files' mapping with at least leaflet and leaflet_css")
        for name, rel in files.items():
            p = (root / rel).resolve()
            if not p.is_file() or root.resolve() not in p.parents:
                raise AssetsError(f"{manifest}: asset {name!r} -> {rel!r} is missing or outside {root}")
        return cls(root, {str(k): str(v) for k, v in files.items()})

    def script(self, name: str) -> str | None:
        rel = self.files.get(name)
        if rel is None:
            return None
        js = (self.root / rel).read_text(encoding="utf-8")
        return "<script>" + _safe_inline(js, "script") + "</script>"

    def style(self, name: str) -> str | None:
        rel = self.files.get(name)
        if rel is None:
            return None
        path = self.root / rel
        css = _inline_css_urls(path.read_text(encoding="utf-8"), path.parent, self.root)
        return "<style>" + _safe_inline(css, "style") + "</style>"


def _safe_inline(code: str, tag: str) -> str:
    # A literal "</script" (or "</style") would end the element early.
    return re.sub(rf"</({tag})", r"<\\/\1", code, flags=re.IGNORECASE)


_URL_RE = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_FONT_FACE_RE = re.compile(r"@font-face\s*{[^}]*}", re.IGNORECASE)


def _inline_css_urls(css: str, base: Path, root: Path) -> str:
    root_r = root.resolve()

    def data_uri(ref: str) -> str | None:
        if ref.startswith(("data:", "#")):
            return ref
        clean = ref.split("?")[0].split("#")[0]
        if re.match(r"^[a-z]+:", clean, re.IGNORECASE) or clean.startswith("//"):
            return None
        p = (base / clean).resolve()
        if root_r not in p.parents or not p.is_file():
            return None
        mime = _MIME.get(p.suffix.lower())
        if mime is None:
            return None
        raw = p.read_bytes()
        if mime.startswith("image/") and len(raw) > _MAX_IMAGE_BYTES:
            return None
        return f"data:{mime};base64," + base64.b64encode(raw).decode("ascii")

    embedded_fonts: set[str] = set()

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
            ref = u.group(2).split("?")[0].split("#")[0]
            if ref in embedded_fonts:  # e.g. the v4 shim faces: embed each file once only
                continue
            uri = data_uri(ref)
            if uri is not None:
                embedded_fonts.add(ref)
                kept.append(
                    f'url("{uri}") format("woff2")' if uri.startswith("data:font/woff2") else f'url("{uri}")'
                )
        if not kept:
            return ""  # no loadable source: drop the face, glyphs fall back silently
        return block[: src.start()] + "src:" + ",".join(kept) + block[src.end() :]

    css = _FONT_FACE_RE.sub(font_face, css)

    def other(m: re.Match[str]) -> str:
        uri = data_uri(m.group(2))
        return f'url("{uri}")' if uri is not None else "none"

    # url() outside @font-face: images (a 'none' keeps the declaration valid for background-image)
    out, pos = [], 0
    for ff in re.finditer(r"@font-face\s*{[^}]*}", css, re.IGNORECASE):
        out.append(_URL_RE.sub(other, css[pos : ff.start()]))
        out.append(ff.group(0))
        pos = ff.end()
    out.append(_URL_RE.sub(other, css[pos:]))
    return "".join(out)


def apply_assets(m: Any, assets: str | Path | None) -> None:
    """Configure folium map ``m`` for ``assets`` (before rendering).

    ``"cdn"``: leave folium's defaults. A directory: replace every default JS/CSS link of the map
    with inline copies; a link with no local copy is dropped (the manifest names those as omitted).
    ``None``: use ``GROWTH_ZONES_MAP_ASSETS`` when set, else the CDN.
    """
    if assets is None:
        assets = local_assets_dir() or "cdn"
    if isinstance(assets, str) and assets == "cdn":
        return
    import folium

    local = LocalAssets.load(Path(assets))
    js_names = [name for name, _ in m.default_js]
    css_names = [name for name, _ in m.default_css]
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    # CSS first (leaflet's before bootstrap is folium's order too), then scripts in folium's order.
    for name in css_names:
        tag = local.style(name)
        if tag is not None:
            root.header.add_child(folium.Element(tag), name=f"inline_css_{name}")
    for name in js_names:
        tag = local.script(name)
        if tag is not None:
            root.header.add_child(folium.Element(tag), name=f"inline_js_{name}")
        elif name in ("leaflet",):
            raise AssetsError(f"local assets in {local.root} have no {name!r}")

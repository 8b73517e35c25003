"""Fake npm package tarballs with the layout of the real ones (``package/dist/leaflet.js``, ...) and
a catalogue of asset entries pinning their hashes: enough to test fetching, verifying, reading and
inlining map libraries with no network and no real tarballs. Nothing here is a real library."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from growth_zones.report.assets import LIBRARY_FILES

PNG_SMALL = b"\x89PNG\r\n\x1a\n" + b"small" * 10
PNG_BIG = b"\x89PNG\r\n\x1a\n" + b"B" * 30_000  # above MAX_IMAGE_BYTES: dropped
WOFF2 = b"wOF2fake-solid"
WOFF2_BRANDS = b"wOF2fake-brands"

VERSIONS = {
    "leaflet": "1.9.3",
    "jquery": "3.7.1",
    "bootstrap": "5.2.2",
    "@fortawesome/fontawesome-free": "6.2.0",
    "leaflet.awesome-markers": "2.0.5",
}


def tarball_name(package: str, version: str) -> str:
    """The file name ``npm pack`` gives a package (``@scope/name`` -> ``scope-name``)."""
    return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


def members(package: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {"package/package.json": b'{"name": "%s"}' % package.encode()}
    for name, (pkg, member) in LIBRARY_FILES.items():
        if pkg != package:
            continue
        if member.endswith(".js"):
            files[member] = f"window.FAKE_{name.upper()} = '</script>';".encode()
        else:
            files[member] = f".fake-{name} {{ color: red; }}".encode()
    if package == "leaflet":
        files["package/dist/leaflet.js"] = b"window.L = {version: 'fake'}; var s = '</script>';"
        files["package/dist/leaflet.css"] = (
            b".a{background:url(images/layers.png)} .b{background:url(x.png)} "
            b".c{background-image:url('images/big.png')} .d{behavior:url(data:x)}"
        )
        files["package/dist/images/layers.png"] = PNG_SMALL
        files["package/dist/images/big.png"] = PNG_BIG
    if package == "@fortawesome/fontawesome-free":
        files["package/css/all.min.css"] = (
            b'@font-face{font-family:"FA Solid";src:url(../webfonts/fa-solid-900.woff2) format("woff2"),'
            b'url(../webfonts/fa-solid-900.ttf) format("truetype")}'
            b'@font-face{font-family:"FA Brands";src:url(../webfonts/fa-brands-400.woff2) format("woff2")}'
            b".fa-x:before{content:'x'}"
        )
        files["package/webfonts/fa-solid-900.woff2"] = WOFF2
        files["package/webfonts/fa-solid-900.ttf"] = b"ttf"
        files["package/webfonts/fa-brands-400.woff2"] = WOFF2_BRANDS
    return files


def write_tarball(path: Path, files: dict[str, bytes]) -> str:
    """Write a gzipped tarball of ``files``; return its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    # gzip with a fixed header time: the same files give the same bytes (and sha256) in any second
    body = gzip.compress(raw.getvalue(), mtime=0)
    path.write_bytes(body)
    return hashlib.sha256(body).hexdigest()


def key_of(package: str) -> str:
    return "npm_" + package.lstrip("@").replace("/", "_").replace(".", "_").replace("-", "_")


def make_mirror(
    root: Path, *, skip: tuple[str, ...] = (), url_base: str = "https://registry.npmjs.org"
) -> str:
    """Fake tarballs under ``root/npm/`` and the TOML of their catalogue entries (official URLs
    below ``url_base``). Packages in ``skip`` get a catalogue entry but no file."""
    entries = []
    for package, version in VERSIONS.items():
        name = tarball_name(package, version)
        short = package.rsplit("/", 1)[-1]
        tar_path = root / "npm" / name
        sha = write_tarball(tar_path, members(package))
        if package in skip:
            tar_path.unlink()
        entries.append(
            f"""
[[dataset]]
key = "{key_of(package)}"
kind = "asset"
title = "{package} {version} (fake)"
publisher = "test"
url = "{url_base}/{package}/-/{short}-{version}.tgz"
format = "tgz"
mirror_path = "npm/{name}"
sha256 = "{sha}"
licence = "MIT"
licence_url = "https://example.org/licence"
attribution = "fake {package}"
vintage = "{version}"
"""
        )
    return "".join(entries)

#!/usr/bin/env bash
# Install an offline copy of the JS/CSS that folium's maps need, from the npm registry.
#
#   tools/fetch_map_assets.sh DIR
#
# DIR receives the files plus manifest.json, which maps folium's asset names (the keys of
# folium.folium._default_js/_default_css, e.g. "leaflet", "leaflet_css") to files relative to DIR.
# growth_zones.report inlines them into each HTML report (assets=DIR, or the environment variable
# GROWTH_ZONES_MAP_ASSETS=DIR) so that a report opened with a double-click needs no network.
# Package versions follow the URLs in the installed folium's templates (fallbacks below).
# Never commit DIR.
set -euo pipefail

if [[ $# -ne 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  [[ $# -eq 1 ]] && exit 0 || exit 2
fi
command -v npm >/dev/null || { echo "fetch_map_assets: npm not found on PATH" >&2; exit 3; }

DEST=$1
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Versions referenced by the installed folium (fallback: folium 0.20's).
PY=${PYTHON:-python3}
read -r V_LEAFLET V_JQUERY V_BOOTSTRAP V_FA < <("$PY" - <<'PYEOF' 2>/dev/null || echo "1.9.3 3.7.1 5.2.2 6.2.0"
import re
try:
    from folium.folium import _default_css, _default_js
    urls = dict(_default_js + _default_css)
except Exception:
    urls = {}
def ver(key, pat, default):
    m = re.search(pat, urls.get(key, ""))
    return m.group(1) if m else default
print(ver("leaflet", r"leaflet@([0-9.]+)", "1.9.3"),
      ver("jquery", r"jquery-([0-9.]+?)(?:\.min)?\.js", "3.7.1"),
      ver("bootstrap", r"bootstrap@([0-9.]+)", "5.2.2"),
      ver("awesome_markers_font_css", r"fontawesome-free@([0-9.]+)", "6.2.0"))
PYEOF
)
# folium links Leaflet.awesome-markers 2.0.2 from cdnjs; npm's newest 2.0.x is the same plugin.
V_AWESOME=${GZ_AWESOME_MARKERS_VERSION:-2.0.5}

SPECS=("leaflet@$V_LEAFLET" "jquery@$V_JQUERY" "bootstrap@$V_BOOTSTRAP"
       "@fortawesome/fontawesome-free@$V_FA" "leaflet.awesome-markers@$V_AWESOME")
echo "fetch_map_assets: npm pack ${SPECS[*]}" >&2
(cd "$WORK" && npm pack --silent --no-fund --no-audit "${SPECS[@]}" >"$WORK/packed.txt")

unpack() {  # unpack <tarball-glob> <dir>
  local tgz
  tgz=$(ls "$WORK"/$1 | head -n1)
  mkdir -p "$WORK/$2"
  tar -xzf "$tgz" -C "$WORK/$2"
}
unpack "leaflet-$V_LEAFLET.tgz" leaflet
unpack "jquery-$V_JQUERY.tgz" jquery
unpack "bootstrap-$V_BOOTSTRAP.tgz" bootstrap
unpack "fortawesome-fontawesome-free-$V_FA.tgz" fontawesome
unpack "leaflet.awesome-markers-$V_AWESOME.tgz" awesome

rm -rf "$DEST/leaflet" "$DEST/jquery" "$DEST/bootstrap" "$DEST/fontawesome" "$DEST/awesome-markers"
mkdir -p "$DEST/leaflet/images" "$DEST/jquery" "$DEST/bootstrap/js" "$DEST/bootstrap/css" \
         "$DEST/fontawesome/css" "$DEST/fontawesome/webfonts" "$DEST/awesome-markers/images"
P=$WORK
cp "$P/leaflet/package/dist/leaflet.js" "$P/leaflet/package/dist/leaflet.css" "$DEST/leaflet/"
cp "$P/leaflet/package/dist/images/"*.png "$DEST/leaflet/images/"
cp "$P/jquery/package/dist/jquery.min.js" "$DEST/jquery/"
cp "$P/bootstrap/package/dist/js/bootstrap.bundle.min.js" "$DEST/bootstrap/js/"
cp "$P/bootstrap/package/dist/css/bootstrap.min.css" "$DEST/bootstrap/css/"
cp "$P/fontawesome/package/css/all.min.css" "$DEST/fontawesome/css/"
# Only the solid face (folium's "fa" icons); the other faces are dropped from the inlined CSS.
cp "$P/fontawesome/package/webfonts/fa-solid-900.woff2" "$DEST/fontawesome/webfonts/"
AW=$(find "$P/awesome" -name 'leaflet.awesome-markers.js' -path '*dist*' | head -n1)
AWD=$(dirname "$AW")
cp "$AWD/leaflet.awesome-markers.js" "$AWD/leaflet.awesome-markers.css" "$DEST/awesome-markers/"
cp "$AWD/images/"*.png "$DEST/awesome-markers/images/" 2>/dev/null || true
for lic in leaflet/package/LICENSE jquery/package/LICENSE.txt bootstrap/package/LICENSE \
           fontawesome/package/LICENSE.txt awesome/package/LICENSE; do
  [[ -f "$P/$lic" ]] && cp "$P/$lic" "$DEST/$(basename "$(dirname "$(dirname "$lic")")")-$(basename "$lic")" || true
done

cat >"$DEST/manifest.json" <<JSON
{
  "format": 1,
  "files": {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/css/bootstrap.min.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css"
  },
  "omitted": {
    "glyphicons_css": "Bootstrap 3 glyphicons: not published on npm as a separate file; the reports use no glyphicons",
    "awesome_rotate_css": "folium's own rotate CSS (not on npm); the reports rotate no markers"
  },
  "packages": {
    "leaflet": "$V_LEAFLET",
    "jquery": "$V_JQUERY",
    "bootstrap": "$V_BOOTSTRAP",
    "@fortawesome/fontawesome-free": "$V_FA",
    "leaflet.awesome-markers": "$V_AWESOME"
  }
}
JSON
echo "fetch_map_assets: installed into $DEST" >&2

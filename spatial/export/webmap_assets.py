"""The vendored JavaScript and CSS of the web map (``spatial/export/assets``, pinned in its
``VERSIONS``), read and inlined into the page, images as ``data:`` URIs, so ``map.html``
opens offline.

:mod:`spatial.export.webmap` re-exports the public names.
"""

from __future__ import annotations

import base64
import functools
import re
from importlib import resources
from pathlib import Path

# --------------------------------------------------------------------------------------------
# Vendored assets, inlined


_ASSET_ROOT = "assets"
_CSS = (
    "leaflet/leaflet.css",
    "leaflet-measure/leaflet-measure.css",
    "leaflet.fullscreen/Control.FullScreen.css",
    "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.css",
    "webmap/webmap.css",
)
_JS = (
    "leaflet/leaflet.js",
    "leaflet-measure/leaflet-measure.min.js",
    "leaflet.fullscreen/Control.FullScreen.js",
    "leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js",
    "webmap/webmap.js",
)
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _asset(path: str):
    return resources.files("spatial.export").joinpath(_ASSET_ROOT, *path.split("/"))


@functools.cache
def asset_versions() -> dict[str, dict[str, str]]:
    """The vendored packages from ``assets/VERSIONS``: folder → package, version, license."""
    out = {}
    for line in _asset("VERSIONS").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        folder, package, version, license_, *_ = line.split()
        out[folder] = {"package": package, "version": version, "license": license_}
    return out


def _banner(path: str) -> str:
    folder = path.split("/")[0]
    info = asset_versions().get(folder)
    if info is None:
        return f"/* {path} (spatial-screening, MIT) */"
    return f"/* {info['package']} {info['version']} ({info['license']}): {path} */"


def _inline_css(path: str) -> str:
    text = _CSS_COMMENT.sub("", _asset(path).read_text(encoding="utf-8"))
    folder = path.rsplit("/", 1)[0]

    def data_uri(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("#", "data:")):
            return match.group(0)
        if "//" in ref:
            raise RuntimeError(f"{path} refers to a remote resource {ref!r}")
        target = f"{folder}/{ref}"
        mime = _MIME[Path(ref).suffix.lower()]
        payload = base64.b64encode(_asset(target).read_bytes()).decode("ascii")
        return f'url("data:{mime};base64,{payload}")'

    return _CSS_URL.sub(data_uri, text)


@functools.cache
def _inline_assets() -> str:
    parts = []
    for path in _CSS:
        css = _inline_css(path)
        if "</style" in css.lower():
            raise RuntimeError(f"{path} cannot be inlined in a <style> element")
        parts.append(f"<style>{_banner(path)}\n{css}</style>")
    for path in _JS:
        js = _asset(path).read_text(encoding="utf-8")
        if "</script" in js.lower():
            raise RuntimeError(f"{path} cannot be inlined in a <script> element")
        parts.append(f"<script>{_banner(path)}\n{js}</script>")
    return "\n".join(parts)

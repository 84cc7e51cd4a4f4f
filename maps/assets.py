"""Offline page assets: every script, stylesheet, font and image a map page loads, from the package.

Folium writes ``<script src="https://cdn...">`` links for Leaflet, jQuery, Bootstrap, Font
Awesome and awesome-markers; on a government intranet those pages stay blank. :func:`page_html`
renders a folium map (or any branca ``Figure``) with each such link replaced by a local copy:

- ``page_html(m)`` inlines the files (images and fonts as ``data:`` URIs): one HTML file that
  works from a USB stick, e-mail or ``file://``;
- ``page_html(m, static_url="/static")`` links to ``/static/<folder>/<file>``; a server mounts
  :func:`static_folders` under that prefix (the careplan service does).

Where the files come from (maintained asset packages where one exists):

=====================  ================================  ============================
folium link name       file                              from
=====================  ================================  ============================
leaflet, leaflet_css   leaflet/leaflet.js, leaflet.css   ``xstatic-leaflet`` (BSD-2)
jquery                 jquery/jquery.min.js              ``xstatic-jquery`` (MIT)
awesome_markers(_css)  awesome-markers/...               ``maps/static/awesome-markers``
                                                         (vendored, MIT, LICENSE beside)
awesome_markers_font…  font-awesome/css/all.min.css      ``xstatic-font-awesome`` (CC-BY/OFL/MIT)
=====================  ================================  ============================

Bootstrap (its CSS/JS and the Bootstrap 3 glyphicons) and the icon-rotation CSS are dropped:
folium itself uses neither; a ``folium.Icon`` must use ``prefix="fa"``. awesome-markers and Font
Awesome are included only when the page has a ``folium.Icon``. A link whose name is not known
raises :class:`UnknownAssetError`, so no CDN address can slip into a page.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Final

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

__all__ = ["UnknownAssetError", "external_resources", "page_html", "save_page", "static_folders"]


class UnknownAssetError(ValueError):
    """A page asks for a script or stylesheet careplan has no offline copy of."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One local file standing in for a folium CDN link.

    Attributes
    ----------
    folder
        Key of :func:`static_folders` (also the URL segment under ``static_url``).
    file
        Path inside that folder.
    kind
        ``js`` or ``css``.
    """

    folder: str
    file: str
    kind: str


#: folium link name -> local copy; ``None``: dropped (not needed by any careplan page).
ASSETS: Final[dict[str, Asset | None]] = {
    "leaflet": Asset("leaflet", "leaflet.js", "js"),
    "leaflet_css": Asset("leaflet", "leaflet.css", "css"),
    "jquery": Asset("jquery", "jquery.min.js", "js"),
    "awesome_markers": Asset("awesome-markers", "leaflet.awesome-markers.min.js", "js"),
    "awesome_markers_css": Asset("awesome-markers", "leaflet.awesome-markers.css", "css"),
    "awesome_markers_font_css": Asset("font-awesome", "css/all.min.css", "css"),
    "bootstrap": None, "bootstrap_css": None, "glyphicons_css": None, "awesome_rotate_css": None,
}
#: Only loaded when the page holds a ``folium.Icon``.
ICON_ASSETS: Final = frozenset({"awesome_markers", "awesome_markers_css",
                                "awesome_markers_font_css"})
_URL_IN_CSS: Final = re.compile(r"url\((['\"]?)(?!data:|#|https?:)([^'\")]+)\1\)")
_TTF_SRC: Final = re.compile(r',\s*url\([^)]*\.ttf\)\s*format\("truetype"\)')
_EXTERNAL: Final = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.IGNORECASE)


def static_folders() -> dict[str, Path]:
    """Folder key -> directory holding the files of :data:`ASSETS` (to serve under a prefix).

    Returns
    -------
    dict[str, Path]
        ``leaflet``, ``jquery``, ``font-awesome`` (xstatic packages) and ``awesome-markers``
        (``maps/static``, packaged with careplan).
    """
    import xstatic.pkg.font_awesome as x_font_awesome  # noqa: PLC0415 (asset packages)
    import xstatic.pkg.jquery as x_jquery  # noqa: PLC0415
    import xstatic.pkg.leaflet as x_leaflet  # noqa: PLC0415

    own = Path(str(resources.files("maps") / "static"))
    return {"leaflet": Path(x_leaflet.BASE_DIR), "jquery": Path(x_jquery.BASE_DIR),
            "font-awesome": Path(x_font_awesome.BASE_DIR),
            "awesome-markers": own / "awesome-markers"}


@lru_cache(maxsize=1)
def leaflet_inline() -> tuple[str, str]:
    """Leaflet's CSS and minified JS as text, to inline into a self-contained page that is not a
    folium map (the finder); read from the same folder as :func:`static_folders` serves."""
    folder = static_folders()["leaflet"]
    css = (folder / "leaflet.css").read_text(encoding="utf-8")
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    return css, js.replace("</script", "<\\/script")


def _elements(root: Element) -> Iterator[Element]:
    yield root
    for child in list(root._children.values()):
        yield from _elements(child)


def _wanted(figure: Figure) -> list[str]:
    """folium link names the page's elements ask for, in order, without duplicates."""
    names: list[str] = []
    has_icon = any(isinstance(e, folium.Icon) for e in _elements(figure))
    for element in _elements(figure):
        links = [*getattr(element, "default_js", []), *getattr(element, "default_css", [])]
        for name, url in links:
            if name not in ASSETS:
                msg = (f"no offline copy of {name!r} ({url}); add it to maps.assets.ASSETS "
                       "with a packaged file")
                raise UnknownAssetError(msg)
            if ASSETS[name] is None or (name in ICON_ASSETS and not has_icon) or name in names:
                continue
            names.append(name)
    return names


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".woff2":
        mime = "font/woff2"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    text = _TTF_SRC.sub("", path.read_text(encoding="utf-8"))
    return _URL_IN_CSS.sub(lambda m: f"url({_data_uri(path.parent / m.group(2))})", text)


def _tag(asset: Asset, folders: dict[str, Path], static_url: str | None) -> str:
    path = folders[asset.folder] / asset.file
    if static_url is not None:
        url = f"{static_url.rstrip('/')}/{asset.folder}/{asset.file}"
        if asset.kind == "js":
            return f'<script src="{url}"></script>'
        return f'<link rel="stylesheet" href="{url}"/>'
    if asset.kind == "js":
        return "<script>" + path.read_text(encoding="utf-8").replace("</script", "<\\/script") \
            + "</script>"
    return "<style>" + _inline_css(path) + "</style>"


def _default_icon(folders: dict[str, Path], static_url: str | None) -> str:
    """Point Leaflet's default marker icon at the local images (CSS detection fails inline)."""
    if static_url is not None:
        path = f"{static_url.rstrip('/')}/leaflet/images/"
        return f"<script>L.Icon.Default.imagePath = {path!r};</script>"
    images = folders["leaflet"] / "images"
    urls = {k: _data_uri(images / f) for k, f in (("iconUrl", "marker-icon.png"),
            ("iconRetinaUrl", "marker-icon-2x.png"), ("shadowUrl", "marker-shadow.png"))}
    opts = ", ".join(f"{k}: '{v}'" for k, v in urls.items())
    return ("<script>L.Icon.Default.imagePath = ''; "
            f"L.Icon.Default.mergeOptions({{{opts}}});</script>")


def page_html(page: folium.Map | Figure, *, static_url: str | None = None) -> str:
    """Render a folium map or figure with every CDN script/stylesheet replaced by a local copy.

    Parameters
    ----------
    page
        The map (its root figure is rendered) or a figure.
    static_url
        ``None``: inline every file (a single self-contained HTML file). Otherwise the URL
        prefix under which :func:`static_folders` are served (e.g. ``/static``).

    Returns
    -------
    str
        The HTML page; it references no ``http(s)://`` script, stylesheet or image.

    Raises
    ------
    UnknownAssetError
        An element asks for a file not in :data:`ASSETS`, or an external resource is left.
    """
    figure = page.get_root() if isinstance(page, folium.Map) else page
    assert isinstance(figure, Figure)
    names = _wanted(figure)
    folders = static_folders()
    tags = [_tag(a, folders, static_url) for n in names if (a := ASSETS[n]) is not None]
    if "leaflet" in names:
        tags.append(_default_icon(folders, static_url))
    saved = {el: (el.__dict__.get("default_js"), el.__dict__.get("default_css"))
             for el in _elements(figure) if hasattr(el, "default_js")}
    for key in [k for k, v in figure.header._children.items()
                if isinstance(v, JavascriptLink | CssLink)]:
        del figure.header._children[key]  # links of an earlier plain render
    try:
        for el in saved:  # folium's own links are replaced by the tags above
            setattr(el, "default_js", [])  # noqa: B010 (not declared on branca's Element)
            setattr(el, "default_css", [])  # noqa: B010
        figure.header.add_child(Element("\n".join(tags)), name="careplan_assets", index=0)
        html = str(figure.render())
    finally:
        figure.header._children.pop("careplan_assets", None)
        for el, (js, css) in saved.items():
            for attr, value in (("default_js", js), ("default_css", css)):
                if value is None:
                    el.__dict__.pop(attr, None)
                else:
                    setattr(el, attr, value)
    left = external_resources(html)
    if left:
        msg = f"the page still loads {left[0]} from outside; give it an offline copy in maps.assets"
        raise UnknownAssetError(msg)
    return html


def save_page(page: folium.Map | Figure, path: Path | str) -> Path:
    """Write :func:`page_html` (inlined, works as a single file offline) to ``path``."""
    target = Path(path)
    html = page_html(page)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)  # never a half-written page
    return target


def external_resources(html: str) -> list[str]:
    """Addresses of scripts, stylesheets, images or frames an HTML page loads from outside.

    Links a reader may click (``<a href>``) and tile URL templates in scripts are not counted.
    """
    return _EXTERNAL.findall(html)

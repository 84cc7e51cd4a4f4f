"""Base folium.Map for a study area: optional tiles (OSM, Amap, Tianditu), attribution, bounds.

``offline`` (the default) loads no tiles at all: the map's background is the study area's own
street drawing (:mod:`maps.background`), so a page works with no internet. The tile layers are
drawn above that background; one that fails leaves the background visible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final, Literal

import folium
from branca.element import MacroElement
from jinja2 import Template

from maps.runtime import Lang, js_json
from maps.styles import TEXT

Basemap = Literal["offline", "osm", "amap", "tianditu"]
BASEMAPS: Final[tuple[str, ...]] = ("offline", "osm", "amap", "tianditu")
#: Environment variable holding the Tianditu browser key (written into the page's tile URLs).
TIANDITU_KEY_ENV: Final = "CAREPLAN_TIANDITU_KEY"
#: Which base maps use GCJ-02 (every overlay must then be shifted to line up).
GCJ02_BASEMAPS: Final[frozenset[str]] = frozenset({"amap"})

#: Shown on every map: the streets, facilities and homes analysed come from OpenStreetMap.
OSM_ATTRIBUTION: Final = (
    '&copy; OpenStreetMap contributors (<a href="https://www.openstreetmap.org/copyright">ODbL</a>)'
)


@dataclass(frozen=True, slots=True)
class TileSource:
    """One XYZ tile service.

    Attributes
    ----------
    url
        Leaflet URL template (``{s}``, ``{x}``, ``{y}``, ``{z}``; ``{tk}`` for Tianditu's key).
    attribution
        Provider credit (HTML); :data:`OSM_ATTRIBUTION` is appended.
    subdomains
        Values of ``{s}``.
    max_zoom
        Deepest zoom level served.
    """

    url: str
    attribution: str
    subdomains: str
    max_zoom: int = 18


OSM_TILES: Final = TileSource("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                              "Tiles &copy; OpenStreetMap", "abc", 19)
AMAP_TILES: Final = TileSource(
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}", "Tiles &copy; 高德地图 AutoNavi (GCJ-02)", "1234", 18)
TIANDITU_VEC: Final = TileSource(
    "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={tk}",
    "Tiles &copy; 天地图 Tianditu", "01234567", 18)
#: Tianditu label overlays: Chinese (cva) and English (eva) annotation.
TIANDITU_LABELS: Final[dict[str, TileSource]] = {
    lang: TileSource(f"https://t{{s}}.tianditu.gov.cn/DataServer?T={code}_w&x={{x}}&y={{y}}"
                     "&l={z}&tk={tk}", "", "01234567", 18)
    for lang, code in (("zh", "cva"), ("en", "eva"))
}


def _tile_layer(source: TileSource, name: str, *, overlay: bool = False) -> folium.TileLayer:
    attribution = f"{source.attribution} | {OSM_ATTRIBUTION}" if source.attribution else ""
    layer = folium.TileLayer(tiles=source.url, attr=attribution or " ", name=name,
                             subdomains=source.subdomains, max_zoom=source.max_zoom,
                             max_native_zoom=source.max_zoom, overlay=overlay,
                             control=not overlay)
    if "{tk}" in source.url:
        layer.options["tk"] = ""  # filled in the browser from ?tk= (see TiandituKey)
    return layer


class TiandituKey(MacroElement):
    """Tianditu's key: from CAREPLAN_TIANDITU_KEY, else ``?tk=KEY`` in the page address.

    Without either the Tianditu layers are removed (the offline background shows) with a banner.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var layers = [{% for l in this.layers %}{{ l.get_name() }}{{ "," if not loop.last }}{% endfor %}];
  var tk = {{ this.key }} || new URLSearchParams(window.location.search).get('tk');
  if (tk) { layers.forEach(function (l) { l.options.tk = tk; l.redraw(); }); return; }
  layers.forEach(function (l) { map.removeLayer(l); });
  if (window.careplan) careplan.banner(map, {{ this.message }}, 'careplan-warn');
})();
{% endmacro %}
""")

    def __init__(self, layers: list[folium.TileLayer], lang: Lang) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "TiandituKey"
        self.layers = layers
        self.message = js_json(TEXT[lang]["tianditu_key"])
        self.key = js_json(os.environ.get(TIANDITU_KEY_ENV, "").strip())


def _add_tiles(m: folium.Map, basemap: Basemap, lang: Lang) -> None:
    text = TEXT[lang]
    if basemap == "offline":
        return
    if basemap == "osm":
        _tile_layer(OSM_TILES, text["osm_layer"]).add_to(m)
    elif basemap == "amap":
        _tile_layer(AMAP_TILES, text["amap_layer"]).add_to(m)
    else:
        vec = _tile_layer(TIANDITU_VEC, text["tianditu_layer"])
        labels = _tile_layer(TIANDITU_LABELS[lang], "tianditu_labels", overlay=True)
        m.add_child(vec)
        m.add_child(labels)
        m.add_child(TiandituKey([vec, labels], lang))


def base_map(bounds: tuple[float, float, float, float], *, lang: Lang = "zh",
             basemap: Basemap = "offline") -> folium.Map:
    """Build an empty map fitted to a study area, with the chosen tiles and attribution.

    Parameters
    ----------
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` in the base map's degrees (GCJ-02 for
        ``amap``, WGS-84 otherwise).
    lang
        Language of layer names and messages.
    basemap
        ``offline`` (no tiles; the caller adds :class:`maps.background.OfflineBackground`),
        ``osm`` (WGS-84), ``amap`` (Gaode, GCJ-02) or ``tianditu`` (WGS-84, CGCS2000 ≈ WGS-84,
        no shift; key from ``CAREPLAN_TIANDITU_KEY`` or ``?tk=KEY`` in the page address, else
        the tiles are dropped with a visible message).

    Returns
    -------
    folium.Map
        With scale bar, tiles and the bounds fitted.
    """
    min_lon, min_lat, max_lon, max_lat = bounds
    centre = [(min_lat + max_lat) / 2, (min_lon + max_lon) / 2]
    m = folium.Map(location=centre, zoom_start=14, tiles=None, control_scale=True)
    _add_tiles(m, basemap, lang)
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]])
    return m

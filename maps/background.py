"""Offline vector background: the study area's own streets, water and land use, under any tiles.

Light water, green-space and built-up polygons (``planner.io.osm_background``, when the run
read an OSM file) and a light grey street drawing from the analysed walking network,
in a pane below Leaflet's tile pane: with no tile server (an intranet, a USB stick) it is the
base map; when tiles load they cover it; when a tile layer fails, the background stays visible
and a banner says so (the page is never blank).
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Template

from maps.basemap import OSM_ATTRIBUTION
from maps.geojson import geojson_text, shift_to_gcj02
from maps.runtime import Lang, TextMacroElement, escape_json, js_json
from maps.street_image import street_image
from maps.styles import TEXT
from planner.network.graph import WalkNetwork

#: Degrees are rounded to this many decimals (about 1 m), which keeps the page small.
DECIMALS: Final = 5
#: Leaflet pane of the background (tile pane is 200, overlays 400).
PANE: Final = "careplanBackground"
#: Fill colour per background kind (light, so the analysis layers stand out).
AREA_COLOURS: Final = {"water": "#bcd7ee", "green": "#d5e8c4", "built": "#e9e4dc"}


def street_lines(network: WalkNetwork, *, to_gcj02: bool = False) -> gpd.GeoDataFrame:
    """Every walkable street segment of ``network`` as lon/lat lines (one feature).

    Parameters
    ----------
    network
        The analysed walking network (projected metres).
    to_gcj02
        Shift to GCJ-02 degrees (Amap tiles).

    Returns
    -------
    geopandas.GeoDataFrame
        One ``MultiLineString`` in EPSG:4326 degrees (GCJ-02 values when shifted), coordinates
        rounded to :data:`DECIMALS`; empty when the network has no edges.
    """
    u, v = network.edge_u, network.edge_v
    coords = np.stack([np.column_stack([network.x_m[u], network.y_m[u]]),
                       np.column_stack([network.x_m[v], network.y_m[v]])], axis=1)
    lines = shapely.linestrings(coords) if len(u) else np.array([], dtype=object)
    frame = gpd.GeoDataFrame(geometry=list(lines), crs=network.crs).to_crs("EPSG:4326")
    if to_gcj02 and len(frame):
        frame = shift_to_gcj02(frame)
    merged = shapely.set_precision(shapely.multilinestrings(frame.geometry.to_numpy()),
                                   10.0 ** -DECIMALS) if len(frame) else None
    return gpd.GeoDataFrame(geometry=[merged] if merged is not None else [], crs="EPSG:4326")


class OfflineBackground(TextMacroElement):
    """The street background (own pane under the tiles) and the "tiles failed" banner."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>.leaflet-container { background: #f5f3ef; }</style>
{% endmacro %}
{% macro script(this, kwargs) %}
/* careplan-background */
(function () {
  var map = {{ this._parent.get_name() }};
  map.createPane({{ this.pane }});
  map.getPane({{ this.pane }}).style.zIndex = 150;
  map.getPane({{ this.pane }}).style.pointerEvents = 'none';
  L.geoJSON({{ this.areas }}, {pane: {{ this.pane }}, interactive: false,
    style: function (f) { var c = {{ this.colours }}[f.properties.kind] || '#eeeeee';
      return {stroke: false, fillColor: c, fillOpacity: 1}; }}).addTo(map);
  L.geoJSON({{ this.data }}, {{ this.options }}).addTo(map);
  var image = {{ this.image }};  /* city scale: streets and land use as one picture */
  if (image) L.imageOverlay(image.url, image.bounds, {pane: {{ this.pane }}, interactive: false,
    attribution: {{ this.attribution }}}).addTo(map);
  var warned = false;
  map.eachLayer(function (layer) {
    if (!(layer instanceof L.TileLayer)) return;
    layer.on('tileerror', function () {
      if (warned) return;
      warned = true;
      if (window.careplan) careplan.banner(map, {{ this.message }}, 'careplan-warn');
    });
  });
})();
{% endmacro %}
""")

    def __init__(self, network: WalkNetwork, lang: Lang, *, to_gcj02: bool = False,
                 areas: gpd.GeoDataFrame | None = None, as_image: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "OfflineBackground"
        self.image, self.data, self.areas, self.n_features = "null", "null", "null", 0
        self.attribution = js_json(OSM_ATTRIBUTION)
        self.metres_per_px = 0.0
        if as_image:  # a city: one picture instead of a million segments (maps.street_image)
            picture = street_image(network, areas=areas, to_gcj02=to_gcj02)
            south, west, north, east = picture.bounds
            self.image = js_json({"url": picture.data_uri,
                                  "bounds": [[south, west], [north, east]]})
            self.metres_per_px = picture.metres_per_px
            areas = None
        else:
            lines = street_lines(network, to_gcj02=to_gcj02)
            self.data = escape_json(geojson_text(lines)) if len(lines) else "null"
            self.n_features = len(lines)
        if areas is not None and len(areas):
            shown = areas[["kind", areas.geometry.name]].to_crs("EPSG:4326")
            shown = shift_to_gcj02(shown) if to_gcj02 else shown
            self.areas = escape_json(geojson_text(shown))
        self.colours = js_json(AREA_COLOURS)
        self.pane = js_json(PANE)
        self.options = js_json({"pane": PANE, "interactive": False, "attribution": OSM_ATTRIBUTION,
                                "style": {"color": "#b9b4aa", "weight": 1.2, "opacity": 0.9}})
        self.message = js_json(TEXT[lang]["tiles_failed"])

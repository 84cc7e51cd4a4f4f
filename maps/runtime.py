"""Browser runtime of the care map: GeoJSON layer element, JS helpers, badge CSS, gap hatch."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import geopandas as gpd
from branca.element import Element, MacroElement
from jinja2 import Template

from maps import styles
from maps.geojson import geojson_text
from maps.packed import packed_text

Lang = Literal["zh", "en"]
#: Popup row: (property, label, format in "text" | "int" | "num" | "pct", value lookup or None).
PopupRow = tuple[str, str, str, Mapping[str, str] | None]

_JS_ESCAPES: Final = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                      "\u2029": "\\u2029"}


def escape_json(text: str) -> str:
    """Make JSON text safe to embed in an HTML ``<script>`` block (no ``</script>`` breakout)."""
    for raw, esc in _JS_ESCAPES.items():
        text = text.replace(raw, esc)
    return text


def js_json(value: object) -> str:
    """``value`` as JSON text safe to embed in an HTML ``<script>`` block."""
    return escape_json(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """How one overlay is filtered, styled and explained (mirrored by the browser runtime).

    Attributes
    ----------
    key
        Stable identifier, e.g. ``dissolved_15``.
    title
        Name shown in the layer control.
    source
        The :func:`maps.geojson.layer_frames` frame (or ``sites``) the features come from.
    filter
        Property equalities a feature must satisfy (e.g. ``{"threshold_min": 15.0}``).
    style
        Leaflet path options; ``by`` colours by a property, ``choropleth`` classes a number,
        ``badge`` draws points as lettered markers.
    popup
        Popup rows.
    show
        Whether the overlay is on when the page opens.
    """

    key: str
    title: str
    source: str
    filter: Mapping[str, object] = field(default_factory=dict)
    style: Mapping[str, object] = field(default_factory=dict)
    popup: tuple[PopupRow, ...] = ()
    show: bool = True

    def config(self, coords: str) -> dict[str, object]:
        """Return the JSON configuration the browser runtime reads."""
        return {"key": self.key, "filter": dict(self.filter), "coords": coords,
                "popup": [list(r) for r in self.popup], **self.style}


class _Text(Element):
    """Page text that is already rendered: inserted as is, never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text.removesuffix("\n")  # as a Jinja template would render it

    def render(self, **kwargs: object) -> str:
        """Return the text."""
        del kwargs
        return self.text


class TextMacroElement(MacroElement):
    """A MacroElement whose rendered macros go into the page as plain text.

    branca's ``MacroElement.render`` wraps each rendered macro in ``Element(text)``, which
    compiles that text as a new Jinja template and renders it again: for a layer inlining
    megabytes of GeoJSON the Jinja lexer was most of the page's cost, and a ``{{`` in the data
    (a facility's name) would be evaluated as template code. The page text is the same.
    """

    def render(self, **kwargs: object) -> None:  # type: ignore[override]  # as branca's
        """Add the header, html and script macros' text to the figure; render the children."""
        figure = self.get_root()
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Text(str(macro(self, kwargs))),
                                                name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class GeoJsonLayer(TextMacroElement):
    """Features of one :class:`LayerSpec`, inlined or fetched by viewport from ``url``."""

    _template = Template("""
{% macro script(this, kwargs) %}
/* careplan-layer: {{ this.spec.key }} */
var {{ this.get_name() }}_data = {{ this.data_json }};
var {{ this.get_name() }} = ({{ this.get_name() }}_data === null
    ? careplan.remote({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }},
                      {{ this.config_json }}, {{ this.url_json }})
    : careplan.layer({{ this.config_json }}, {{ this.get_name() }}_data)
        .addTo({{ this._parent.get_name() }}));
{% endmacro %}
""")

    def __init__(self, spec: LayerSpec, frame: gpd.GeoDataFrame | None, url: str | None,
                 coords: str, *, packed: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GeoJsonLayer"
        self.spec = spec
        self.url = url
        self.n_features = 0 if frame is None else len(_filtered(frame, spec.filter))
        self.data_json = ("null" if frame is None
                          else escape_json(_feature_json(frame, spec, packed=packed)))
        self.config_json = js_json(spec.config(coords))
        self.url_json = js_json(url)


def _filtered(frame: gpd.GeoDataFrame, conditions: Mapping[str, object]) -> gpd.GeoDataFrame:
    mask = None
    for column, value in conditions.items():
        hit = frame[column] == value
        mask = hit if mask is None else mask & hit
    return frame if mask is None else frame[mask]


def _feature_json(frame: gpd.GeoDataFrame, spec: LayerSpec, *, packed: bool = False) -> str:
    """GeoJSON (or :mod:`maps.packed`) text of the filtered frame keeping only the properties
    the layer reads."""
    sub = _filtered(frame, spec.filter)
    used = {row[0] for row in spec.popup} | set(spec.filter)
    for part in ("by", "choropleth", "badge"):
        conf = spec.style.get(part)
        if isinstance(conf, Mapping):
            used |= {str(conf[k]) for k in ("field", "colour_field", "text_field") if k in conf}
    keep = [c for c in sub.columns if c in used] + [sub.geometry.name]
    return packed_text(sub[keep]) if packed else geojson_text(sub[keep])




_RUNTIME_JS: Final = """
window.careplan = window.careplan || (function () {
  var ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
  function esc(v) { return String(v).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  function fmt(v, kind, lookup) {
    if (v === null || v === undefined || (typeof v === 'number' && isNaN(v))) return '\\u2013';
    if (lookup && lookup[v] !== undefined) return lookup[v];
    if (kind === 'pct') return (100 * v).toFixed(0) + '%';
    if (kind === 'int') return Math.round(v).toLocaleString();
    if (kind === 'num') return (+v).toFixed(1);
    return v;
  }
  function style(cfg, f) {
    var p = f.properties || {}, s = Object.assign({}, cfg.style || {}), c;
    if (cfg.by) {
      c = cfg.by.colours[p[cfg.by.field]] || cfg.by.fallback; s.color = c; s.fillColor = c;
    }
    if (cfg.choropleth) {
      var ch = cfg.choropleth, v = p[ch.field]; c = ch.missing;
      if (v !== null && v !== undefined) {
        for (var i = 0; i < ch.breaks.length; i++) { if (v >= ch.breaks[i]) c = ch.colours[i]; }
      }
      s.fillColor = c;
    }
    return s;
  }
  function popup(cfg, p) {
    return '<table class="careplan-popup">' + cfg.popup.map(function (r) {
      return '<tr><th>' + esc(r[1]) + '</th><td>' + esc(fmt(p[r[0]], r[2], r[3])) + '</td></tr>';
    }).join('') + '</table>';
  }
  function point(cfg, f, latlng) {
    var p = f.properties || {}, b = cfg.badge;
    if (!b) return L.circleMarker(latlng, Object.assign({radius: 7}, style(cfg, f),
                                                        cfg.canvas ? {renderer: canvas()} : {}));
    var txt = b.text_field ? p[b.text_field] : b.text;
    var html = '<div class="careplan-badge ' + b.shape + '" style="background:' + b.colour +
      ';width:' + b.size + 'px;height:' + b.size + 'px;line-height:' + b.size + 'px">' +
      esc(txt) + '</div>';
    return L.marker(latlng, {icon: L.divIcon({className: 'careplan-icon', html: html,
      iconSize: [b.size, b.size], iconAnchor: [b.size / 2, b.size / 2]}), keyboard: false});
  }
  function matches(cfg, f) {
    var p = f.properties || {};
    for (var k in cfg.filter) { if (p[k] !== cfg.filter[k]) return false; }
    return true;
  }
  var shared = null;
  function canvas() { if (!shared) shared = L.canvas({padding: 0.3}); return shared; }
  function ring(a, o, s) {
    var pts = new Array(a.length / 2), x = 0, y = 0;
    for (var i = 0; i < a.length; i += 2) {
      x += a[i]; y += a[i + 1]; pts[i / 2] = [o[0] + x / s, o[1] + y / s];
    }
    return pts;
  }
  function unpack(d) {  /* maps.packed: property columns, integer delta coordinates */
    if (!d || d.type !== 'careplan-packed') return d;
    var keys = Object.keys(d.props), o = d.origin, s = d.scale, out = new Array(d.n);
    var cols = keys.map(function (k) {  /* {values, codes}: a column of few distinct texts */
      var c = d.props[k];
      return Array.isArray(c) ? c : c.codes.map(function (j) { return c.values[j]; });
    });
    for (var i = 0; i < d.n; i++) {
      var p = {}, g;
      for (var k = 0; k < keys.length; k++) p[keys[k]] = cols[k][i];
      if (d.points) {
        g = {type: 'Point',
             coordinates: [o[0] + d.points[2 * i] / s, o[1] + d.points[2 * i + 1] / s]};
      } else {
        g = {type: 'MultiPolygon', coordinates: d.polygons[i].map(function (poly) {
          return poly.map(function (r) { return ring(r, o, s); }); })};
      }
      out[i] = {type: 'Feature', properties: p, geometry: g};
    }
    return {type: 'FeatureCollection', features: out};
  }
  function layer(cfg, data) {
    return L.geoJSON(unpack(data), {
      renderer: cfg.canvas ? canvas() : undefined,
      filter: function (f) { return matches(cfg, f); },
      style: function (f) { return style(cfg, f); },
      pointToLayer: function (f, ll) { return point(cfg, f, ll); },
      onEachFeature: function (f, l) { l.bindPopup(popup(cfg, f.properties || {})); }
    });
  }
  function remote(map, group, cfg, url) {
    var geo = layer(cfg, null).addTo(group), seq = 0;
    function load() {
      if (!map.hasLayer(group)) return;
      var b = map.getBounds(), mine = ++seq;
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (v) { return v.toFixed(6); }).join(',');
      var u = url.split('{bbox}').join(bbox).split('{zoom}').join(String(map.getZoom()))
        .split('{coords}').join(cfg.coords);
      fetch(u, {headers: {Accept: 'application/geo+json, application/json'}})
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
        .then(function (d) {
          if (mine !== seq) return;
          geo.clearLayers(); geo.addData(d); group.fire('careplan:loaded');
        })
        .catch(function (e) { console.error('careplan: could not load ' + u + ': ' + e); });
    }
    map.on('moveend', load);
    map.on('overlayadd', function (e) { if (e.layer === group) load(); });
    load();
    return geo;
  }
  function banner(map, text, cls) {
    var div = L.DomUtil.create('div', 'careplan-banner ' + (cls || ''), map.getContainer());
    div.textContent = text;
    L.DomEvent.disableClickPropagation(div);
    var all = map.getContainer().querySelectorAll('.careplan-banner');
    div.style.top = (8 + 34 * (all.length - 1)) + 'px';
    return div;
  }
  return {layer: layer, remote: remote, esc: esc, banner: banner, unpack: unpack};
})();
"""

_RUNTIME_CSS: Final = """
.careplan-icon { background: none; border: none; }
.careplan-badge { color: #fff; font: bold 12px/1 sans-serif; text-align: center;
  border: 2px solid #fff; box-shadow: 0 0 3px rgba(0,0,0,.6); box-sizing: border-box; }
.careplan-round { border-radius: 50%; }
.careplan-square { border-radius: 3px; color: #000; }
.careplan-banner { position: absolute; left: 50%; transform: translateX(-50%); z-index: 1000;
  padding: 5px 14px; font: bold 15px/1.3 sans-serif; border-radius: 4px; color: #fff;
  background: #b2182b; box-shadow: 0 1px 5px rgba(0,0,0,.5); pointer-events: auto;
  max-width: 70%; text-align: center; }
.careplan-banner.careplan-warn { background: #e08214; }
.careplan-legend { background: rgba(255,255,255,.92); padding: 8px 10px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font: 12px/1.35 sans-serif; max-height: 70vh;
  overflow-y: auto; }
.careplan-legend h4 { margin: 0 0 4px; font-size: 13px; }
.careplan-legend h5 { margin: 6px 0 2px; font-size: 12px; }
.careplan-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.careplan-legend .note { color: #555; font-size: 11px; }
.careplan-popup th { text-align: left; padding-right: 8px; font-weight: 600; }
"""


class Runtime(MacroElement):
    """The browser helpers every :class:`GeoJsonLayer` calls, badge CSS and the gap hatch."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>{{ this.css }}</style>
<script>{{ this.js }}</script>
{% endmacro %}
{% macro html(this, kwargs) %}
<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<pattern id="{{ this.hatch_id }}" patternUnits="userSpaceOnUse" width="8" height="8"
 patternTransform="rotate(45)"><rect width="8" height="8" fill="{{ this.colour }}"
 fill-opacity="0.08"/><line x1="0" y1="0" x2="0" y2="8" stroke="{{ this.colour }}"
 stroke-width="1.5"/></pattern></defs></svg>
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CareplanRuntime"
        self.css, self.js = _RUNTIME_CSS, _RUNTIME_JS
        self.hatch_id, self.colour = styles.HATCH_ID, styles.GAP_COLOUR

"""Legends and banners of the care map: facility badges, thresholds, coverage classes, gaps."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Final

from jinja2 import Template

from maps import styles
from maps.layers import coverage_breaks
from maps.runtime import Lang, TextMacroElement, js_json

_SWATCH: Final = ('<svg width="22" height="14" aria-hidden="true"><rect x="1" y="1" width="20" '
                  'height="12" fill="{fill}" fill-opacity="{opacity}" stroke="{stroke}" '
                  'stroke-width="{weight}" stroke-dasharray="{dash}"/></svg>')


def _swatch(fill: str, stroke: str, *, opacity: float = 0.6, weight: float = 1.0,
            dash: str = "") -> str:
    return _SWATCH.format(fill=fill, opacity=opacity, stroke=stroke, weight=weight, dash=dash)


def _badge(colour: str, text: str, shape: str = "careplan-round") -> str:
    return (f'<span class="careplan-badge {shape}" style="display:inline-block;background:{colour};'
            f'width:18px;height:18px;line-height:14px;font-size:10px">{html.escape(text)}</span>')


def _row(symbol: str, label: str) -> str:
    return f'<div class="row">{symbol}<span>{html.escape(label)}</span></div>'


def _type_rows(types: Sequence[str], labels: Mapping[str, str], lang: Lang) -> list[str]:
    return [_row(_badge(styles.TYPE_COLOURS.get(t, styles.DEFAULT_TYPE_COLOUR),
                        styles.TYPE_GLYPHS[lang].get(t, "?")), labels.get(t, t)) for t in types]


def _threshold_rows(thresholds_min: Sequence[float], lang: Lang) -> list[str]:
    rows = []
    for t in thresholds_min:
        st = styles.THRESHOLD_STYLES.get(float(t), styles.DEFAULT_THRESHOLD_STYLE)
        sw = _swatch("#777777", "#444444", opacity=float(str(st["fillOpacity"])) * 2,
                     weight=float(str(st["weight"])), dash=str(st["dashArray"] or ""))
        rows.append(_row(sw, styles.TEXT[lang]["minutes"].format(t=t)))
    return rows


def coverage_classes(target_share: float, lang: Lang) -> list[tuple[str, str]]:
    """Choropleth classes as ``(colour, label)``, e.g. ``("#1a9641", "≥ 80% 达标")``."""
    breaks = coverage_breaks(target_share)
    out = []
    for i, colour in enumerate(styles.COVERAGE_COLOURS):
        if i + 1 < len(breaks):
            out.append((colour, f"{breaks[i]:.0%} – {breaks[i + 1]:.0%}"))
        else:
            out.append((colour, f"≥ {breaks[i]:.0%} {styles.TEXT[lang]['target']}"))
    return out


def legend_html(*, lang: Lang, types: Sequence[str], labels: Mapping[str, str],
                thresholds_min: Sequence[float], coverage_label: str, target_share: float,
                walk_speed_m_s: float, with_sites: bool, notes: Sequence[str] = ()) -> str:
    """HTML of the legend.

    Parameters
    ----------
    lang
        ``zh`` or ``en``.
    types
        Facility types drawn, in order.
    labels
        Display label per type.
    thresholds_min
        Catchment thresholds in minutes.
    coverage_label
        Label of the type the choropleth shows by default.
    target_share
        Target covered share (0-1) separating gaps from served units.
    walk_speed_m_s
        Walking speed the catchments assume, metres per second.
    with_sites
        Whether proposed sites are drawn.
    notes
        Lines added at the end (e.g. what a city-scale map coarsened).

    Returns
    -------
    str
        An HTML fragment (classes ``careplan-legend`` rows).
    """
    text = styles.TEXT[lang]
    parts = [f"<h4>{html.escape(text['legend'])}</h4>",
             f"<h5>{html.escape(text['legend_types'])}</h5>", *_type_rows(types, labels, lang),
             f"<h5>{html.escape(text['legend_thresholds'])}</h5>",
             *_threshold_rows(thresholds_min, lang),
             f'<div class="note">{html.escape(text["walk_note"].format(speed=walk_speed_m_s))}'
             "</div>",
             f"<h5>{html.escape(text['legend_coverage'].format(label=coverage_label))}</h5>"]
    parts += [_row(_swatch(c, "#555555", opacity=0.8), lab)
              for c, lab in coverage_classes(target_share, lang)]
    gap_fill = f"url(#{styles.HATCH_ID})"
    parts.append(_row(_swatch(gap_fill, styles.GAP_COLOUR, opacity=1.0, weight=2.5),
                      text["legend_gap"].format(target=target_share)))
    if with_sites:
        parts.append(_row(_badge(styles.SITE_COLOUR, "1", "careplan-square"), text["legend_site"]))
    parts += [f'<div class="note careplan-scale-note">{html.escape(n)}</div>' for n in notes]
    return "".join(parts)


class Legend(TextMacroElement):
    """A Leaflet control (bottom left) holding :func:`legend_html`."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var legend = L.control({position: 'bottomleft'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'careplan-legend');
    div.innerHTML = {{ this.html_json }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, legend: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        self.html = legend
        self.html_json = js_json(legend)


class Banner(TextMacroElement):
    """A prominent message across the top of the map (synthetic data, assumed populations)."""

    _template = Template("""
{% macro script(this, kwargs) %}
careplan.banner({{ this._parent.get_name() }}, {{ this.text_json }}, {{ this.cls_json }});
{% endmacro %}
""")

    def __init__(self, text: str, *, warn: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Banner"
        self.text = text
        self.text_json = js_json(text)
        self.cls_json = js_json("careplan-warn" if warn else "careplan-synthetic")

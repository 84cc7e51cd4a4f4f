"""One function per map layer: facilities, catchments, coverage, gaps, proposed sites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd

from maps import styles
from maps.runtime import GeoJsonLayer, Lang, LayerSpec, PopupRow


def build_group(spec: LayerSpec, frame: gpd.GeoDataFrame | None, *, url: str | None = None,
                coords: str = "wgs84", packed: bool = False) -> folium.FeatureGroup:
    """Build a toggleable overlay for ``spec``: inline from ``frame``, or loaded from ``url``.

    Parameters
    ----------
    spec
        What to draw.
    frame
        Lon/lat features (EPSG:4326 or GCJ-02 degrees); ignored when ``url`` is given.
    url
        GeoJSON endpoint; ``{bbox}`` (viewport ``minlon,minlat,maxlon,maxlat`` in display
        degrees), ``{zoom}`` and ``{coords}`` (``wgs84`` or ``gcj02``) are filled in.
    coords
        Coordinate system of the displayed map, passed to the endpoint as ``{coords}``.
    packed
        Inline the features packed (:mod:`maps.packed`) instead of as GeoJSON.

    Returns
    -------
    folium.FeatureGroup
        Named ``spec.title``, shown when ``spec.show``.
    """
    group = folium.FeatureGroup(name=spec.title, show=spec.show)
    group.add_child(GeoJsonLayer(spec, None if url else frame, url, coords, packed=packed))
    return group


def _text(lang: Lang, key: str, **values: object) -> str:
    return styles.TEXT[lang][key].format(**values)


def facility_spec(ftype: str, label: str, lang: Lang, labels: Mapping[str, str]) -> LayerSpec:
    """Facilities of one type as lettered badges with a popup (name, type, capacity, snap)."""
    status = {k: _text(lang, k) for k in ("ok", "not_snapped", "disconnected")}
    colour = styles.TYPE_COLOURS.get(ftype, styles.DEFAULT_TYPE_COLOUR)
    badge = {"colour": colour, "text": styles.TYPE_GLYPHS[lang].get(ftype, "?"),
             "size": styles.BADGE_PX, "shape": "careplan-round"}
    popup: tuple[PopupRow, ...] = (
        ("name", _text(lang, "name"), "text", None), ("type", _text(lang, "type"), "text", labels),
        ("capacity", _text(lang, "capacity"), "int", None),
        ("snap_status", _text(lang, "snap_status"), "text", status))
    return LayerSpec(f"facilities_{ftype}", _text(lang, "facilities", label=label), "facilities",
                     {"type": ftype}, {"badge": badge}, popup)


def catchment_spec(threshold_min: float, lang: Lang, labels: Mapping[str, str], *,
                   per_facility: bool, show: bool) -> LayerSpec:
    """Catchment polygons at one threshold, coloured by facility type."""
    base = styles.THRESHOLD_STYLES.get(float(threshold_min), styles.DEFAULT_THRESHOLD_STYLE)
    source = "catchments" if per_facility else "dissolved"
    style: dict[str, Any] = {
        "style": {k: v for k, v in base.items() if v is not None},
        "by": {"field": "type", "colours": dict(styles.TYPE_COLOURS),
               "fallback": styles.DEFAULT_TYPE_COLOUR}}
    popup: list[PopupRow] = [("type", _text(lang, "facility_type"), "text", labels),
                             ("threshold_min", _text(lang, "threshold"), "num", None)]
    if per_facility:
        popup.insert(0, ("facility_id", "ID", "text", None))
    return LayerSpec(f"{source}_{threshold_min:g}", _text(lang, source, t=threshold_min), source,
                     {"threshold_min": float(threshold_min)}, style, tuple(popup), show)


def coverage_breaks(target_share: float) -> list[float]:
    """Return choropleth class lower bounds (0-1): fractions of the target share."""
    return [round(f * target_share, 4) for f in styles.COVERAGE_BREAKS_OF_TARGET]


def coverage_spec(ftype: str, label: str, target_share: float, lang: Lang, *,
                  show: bool) -> LayerSpec:
    """Units coloured by the covered share of one facility type (points drawn as circles)."""
    field_name = f"covered_share_{ftype}"
    style = {"style": dict(styles.UNIT_STYLE),
             "choropleth": {"field": field_name, "breaks": coverage_breaks(target_share),
                            "colours": list(styles.COVERAGE_COLOURS), "missing": "#cccccc"}}
    popup: tuple[PopupRow, ...] = (
        ("name", _text(lang, "unit"), "text", None),
        ("older_pop", _text(lang, "older_pop"), "int", None),
        (field_name, f"{_text(lang, 'covered_share')} ({label})", "pct", None),
        (f"threshold_min_{ftype}", _text(lang, "threshold"), "num", None))
    return LayerSpec(f"coverage_{ftype}", _text(lang, "coverage", label=label), "units", {},
                     style, popup, show)


def gap_spec(ftype: str, label: str, lang: Lang, labels: Mapping[str, str],
             reasons: Mapping[str, str], *, show: bool) -> LayerSpec:
    """Gap units of one required type: red outline over a red hatch, reason and uncovered pop."""
    popup: tuple[PopupRow, ...] = (
        ("unit_name", _text(lang, "unit"), "text", None),
        ("facility_type", _text(lang, "facility_type"), "text", labels),
        ("covered_share", _text(lang, "covered_share"), "pct", None),
        ("uncovered_pop", _text(lang, "uncovered_pop"), "int", None),
        ("reason", _text(lang, "reason"), "text", reasons),
        ("rank", _text(lang, "rank"), "int", None))
    return LayerSpec(f"gaps_{ftype}", _text(lang, "gaps", label=label), "gaps",
                     {"facility_type": ftype}, {"style": dict(styles.GAP_STYLE)}, popup, show)


def site_spec(lang: Lang) -> LayerSpec:
    """Proposed sites as gold badges carrying their rank."""
    badge = {"colour": styles.SITE_COLOUR, "text_field": "rank", "size": styles.BADGE_PX + 4,
             "shape": "careplan-square"}
    popup: tuple[PopupRow, ...] = (
        ("site_id", _text(lang, "site_id"), "text", None),
        ("rank", _text(lang, "rank"), "int", None),
        ("covered_gain", _text(lang, "covered_gain"), "int", None))
    return LayerSpec("sites", _text(lang, "sites"), "sites", {}, {"badge": badge}, popup)

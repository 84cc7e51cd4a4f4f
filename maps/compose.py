"""build_care_map(plan) assembles basemap + layers + legend + LayerControl into one folium.Map."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

import folium
import geopandas as gpd
import shapely

from maps import layers
from maps.background import OfflineBackground
from maps.basemap import BASEMAPS, GCJ02_BASEMAPS, Basemap, base_map
from maps.city_scale import CityChoices, MapScale, as_points, choose, compact_values, notes
from maps.geojson import layer_frame, shift_to_gcj02, sites_frame
from maps.legend import Banner, Legend, legend_html
from maps.runtime import Lang, LayerSpec, Runtime
from maps.styles import GAP_COLOUR, REASONS_ZH, TEXT
from planner.coverage.gaps import REASONS
from planner.errors import InputDataError
from planner.params import FACILITY_TYPES
from planner.pipeline import PlanResult

#: Layer names ``layer_urls`` may point at a GeoJSON endpoint.
REMOTE_LAYERS: Final[tuple[str, ...]] = (
    "facilities", "units", "catchments", "dissolved", "gaps", "sites",
)
#: Polygon simplification for inlined layers, metres (well below the 10 m catchment raster).
SIMPLIFY_M: Final = 2.0


@lru_cache(maxsize=2)
def type_labels(lang: Lang) -> dict[str, str]:
    """Display label of every facility type from the catalogue (the key when unreadable)."""
    from planner.io.catalogue import read_catalogue  # noqa: PLC0415 (reads a file: only on use)

    try:
        catalogue = read_catalogue()
    except InputDataError:
        return {t: t for t in FACILITY_TYPES}
    return {t: catalogue.label(t, lang) for t in FACILITY_TYPES}


def _check(lang: str, basemap: str, layer_urls: Mapping[str, str]) -> None:
    if lang not in TEXT:
        msg = f"lang={lang!r} is not supported; use 'zh' or 'en'"
        raise InputDataError(msg)
    if basemap not in BASEMAPS:
        msg = f"basemap={basemap!r} is not supported; use one of {', '.join(BASEMAPS)}"
        raise InputDataError(msg)
    unknown = sorted(set(layer_urls) - set(REMOTE_LAYERS))
    if unknown:
        msg = f"layer_urls has unknown layer(s) {unknown}; use {', '.join(REMOTE_LAYERS)}"
        raise InputDataError(msg)


def _bounds(result: PlanResult, gcj02: bool) -> tuple[float, float, float, float]:
    """Study-area bounds (lon/lat) from the units, else the facilities."""
    frame = result.units if len(result.units) else result.facilities
    box = gpd.GeoDataFrame(geometry=[shapely.box(*frame.total_bounds)], crs=frame.crs)
    box = box.to_crs("EPSG:4326")
    box = shift_to_gcj02(box) if gcj02 else box
    minx, miny, maxx, maxy = (float(v) for v in box.total_bounds)
    return minx, miny, maxx, maxy


def _default_threshold(result: PlanResult) -> float:
    """Return the threshold shown on opening (the urban coverage threshold if it is one)."""
    thresholds = result.params.coverage.thresholds_min
    urban = result.params.coverage.settlement_threshold_min.get("urban")
    return float(urban) if urban in thresholds else float(thresholds[len(thresholds) // 2])


def _specs(result: PlanResult, lang: Lang, *, per_facility: bool, with_sites: bool
           ) -> list[LayerSpec]:
    """Every overlay in drawing order (choropleth at the bottom, markers on top)."""
    labels = type_labels(lang)
    reasons = dict(REASONS_ZH if lang == "zh" else REASONS)
    required = result.params.coverage.required_types
    target = result.params.coverage.target_share
    specs = [layers.coverage_spec(t, labels.get(t, t), target, lang, show=i == 0)
             for i, t in enumerate(required)]
    shown = _default_threshold(result)
    for t in result.params.coverage.thresholds_min:
        specs.append(layers.catchment_spec(t, lang, labels, per_facility=False, show=t == shown))
    if per_facility:
        specs += [layers.catchment_spec(t, lang, labels, per_facility=True, show=False)
                  for t in result.params.coverage.thresholds_min]
    specs += [layers.gap_spec(t, labels.get(t, t), lang, labels, reasons, show=i == 0)
              for i, t in enumerate(required)]
    if with_sites:
        specs.append(layers.site_spec(lang))
    present = set(result.facilities["type"].astype(str))
    specs += [layers.facility_spec(t, labels.get(t, t), lang, labels)
              for t in FACILITY_TYPES if t in present]
    return specs


def _legend(result: PlanResult, lang: Lang, with_sites: bool, scale_notes: list[str]) -> Legend:
    labels = type_labels(lang)
    present = set(result.facilities["type"].astype(str))
    first = result.params.coverage.required_types[0] if result.params.coverage.required_types \
        else "day_care"
    return Legend(legend_html(
        lang=lang, types=[t for t in FACILITY_TYPES if t in present], labels=labels,
        thresholds_min=result.params.coverage.thresholds_min,
        coverage_label=labels.get(first, first), target_share=result.params.coverage.target_share,
        walk_speed_m_s=result.params.walk.speed_m_s, with_sites=with_sites, notes=scale_notes))


def _add_banners(m: folium.Map, result: PlanResult, lang: Lang) -> None:
    if result.summary.get("synthetic"):
        m.add_child(Banner(TEXT[lang]["synthetic"]))
    if result.summary.get("assumed_density"):
        m.add_child(Banner(TEXT[lang]["assumed_density"], warn=True))
    for entry in result.warnings.entries:  # indicators without data (planner.compliance)
        if entry["code"] == "indicators":
            m.add_child(Banner(entry["message"], warn=True))
    if result.summary.get("terrain"):
        m.add_child(Banner(TEXT[lang]["terrain"]))
    share = (result.summary.get("population") or {}).get("older_share")
    if share is not None:
        m.add_child(Banner(TEXT[lang]["assumed_share"].format(share=share), warn=True))


def _frame(result: PlanResult, source: str, gcj02: bool, city: CityChoices) -> gpd.GeoDataFrame:
    """One inlined layer's lon/lat frame, coarsened as ``city`` decided."""
    simplify_m = city.simplify_m if source == "dissolved" and city.simplify_m else SIMPLIFY_M
    points = city.unit_points and source in ("units", "gaps")
    frame = layer_frame(result, source, to_gcj02=gcj02, simplify_m=0.0 if points else simplify_m)
    frame = as_points(frame) if points else frame
    return compact_values(frame) if city.packed else frame


def _city_spec(spec: LayerSpec, city: CityChoices) -> LayerSpec:
    """Units drawn as points: small circles on a canvas (gaps filled red, no SVG hatch)."""
    if not city.unit_points or spec.source not in ("units", "gaps"):
        return spec
    style = dict(spec.style.get("style") or {})  # type: ignore[call-overload]
    style.update({"radius": 4, "weight": 0.5})
    if spec.source == "gaps":
        style.update({"fillColor": GAP_COLOUR, "fillOpacity": 0.6})
    return dataclasses.replace(spec, style={**spec.style, "style": style, "canvas": True})


def build_care_map(result: PlanResult, *, lang: Lang = "zh", basemap: Basemap = "offline",
                   layer_urls: Mapping[str, str] | None = None,
                   sites: gpd.GeoDataFrame | None = None,
                   background: gpd.GeoDataFrame | None = None,
                   scale: MapScale | None = None) -> folium.Map:
    """Build the interactive care map of a plan.

    Parameters
    ----------
    result
        A finished analysis.
    lang
        ``zh`` or ``en`` labels, popups and legend.
    basemap
        ``offline`` (default: no tiles, the study area's own streets as a light background),
        ``osm``, ``amap`` (Gaode, GCJ-02: every overlay is shifted WGS-84 -> GCJ-02 to line up)
        or ``tianditu`` (key from ``CAREPLAN_TIANDITU_KEY`` or ``?tk=KEY``). The street
        background is drawn under any tile layer, so a failing tile server never blanks the map.
    layer_urls
        Layer name (one of :data:`REMOTE_LAYERS`) -> GeoJSON endpoint; such a layer is not
        inlined but fetched by the browser for the current viewport on every ``moveend``.
        Placeholders: ``{bbox}`` (``minlon,minlat,maxlon,maxlat`` in the map's degrees: GCJ-02
        for ``amap``), ``{zoom}``, ``{coords}`` (``wgs84`` or ``gcj02``).
    sites
        Proposed sites (``site_id, rank, covered_gain``, points in any CRS; lon/lat if unset).
    background
        Water / green / built-up polygons (``kind``, geometry) drawn under the streets of the
        offline background, e.g. ``planner.io.osm_background.read_background_areas``.
    scale
        Limits beyond which the map is drawn at city scale (:mod:`maps.city_scale`: streets as
        an image, units as points, coarser catchment outlines, packed layers; the legend says
        so); default :class:`maps.city_scale.MapScale`.

    Returns
    -------
    folium.Map
        Base map, overlays (coverage per required type, catchments per threshold, gaps,
        proposed sites, facilities per type), layer control, legend and banners.

    Raises
    ------
    InputDataError
        Unknown ``lang``, ``basemap`` or ``layer_urls`` key.
    """
    urls = dict(layer_urls or {})
    _check(lang, basemap, urls)
    gcj02 = basemap in GCJ02_BASEMAPS
    coords = "gcj02" if gcj02 else "wgs84"
    city = choose(result.network.n_edges, len(result.units),
                  int(shapely.get_num_coordinates(result.dissolved.geometry.array).sum()),
                  scale or MapScale())
    m = base_map(_bounds(result, gcj02), lang=lang, basemap=basemap)
    m.add_child(Runtime())
    back = OfflineBackground(result.network, lang, to_gcj02=gcj02, areas=background,
                             as_image=city.street_image)
    m.add_child(back)
    with_sites = sites is not None or "sites" in urls
    per_facility = len(result.catchments) > 0 or "catchments" in urls
    frames: dict[str, gpd.GeoDataFrame] = {}
    for spec in _specs(result, lang, per_facility=per_facility, with_sites=with_sites):
        url = urls.get(spec.source)
        if url is None and spec.source not in frames:
            frames[spec.source] = (sites_frame(sites, to_gcj02=gcj02) if spec.source == "sites"
                                   and sites is not None else
                                   _frame(result, spec.source, gcj02, city))
        layers.build_group(_city_spec(spec, city), frames.get(spec.source), url=url,
                           coords=coords, packed=city.packed).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.add_child(_legend(result, lang, with_sites, notes(
        city, lang, metres_per_px=back.metres_per_px, n_units=len(result.units))))
    _add_banners(m, result, lang)
    return m

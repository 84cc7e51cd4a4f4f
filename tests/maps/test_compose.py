"""Tests of maps.compose.build_care_map: render the HTML and check layers, counts, legend, CRS."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point

from maps import build_care_map
from maps.geojson import layer_frames
from planner.errors import InputDataError
from planner.pipeline import PlanResult

LAYER_RE = re.compile(r"/\* careplan-layer: (\S+) \*/\nvar \w+_data = (.*);\n")


def _layers(html: str) -> dict[str, dict | None]:
    """Inlined GeoJSON (or None when loaded by URL) per layer key in the rendered page."""
    return {key: json.loads(data) for key, data in LAYER_RE.findall(html)}


def _attributions(html: str) -> list[str]:
    """Decoded ``attribution`` options of the tile layers."""
    pattern = r'"attribution": "((?:[^"\\]|\\.)*)"'
    return [json.loads(f'"{raw}"') for raw in re.findall(pattern, html)]


def _credits_osm(html: str) -> bool:
    return any("&copy; OpenStreetMap contributors" in a for a in _attributions(html))


def _expected_counts(result: PlanResult) -> dict[str, int]:
    frames = layer_frames(result)
    counts = {f"facilities_{t}": int((frames["facilities"]["type"] == t).sum())
              for t in set(frames["facilities"]["type"])}
    for t in result.params.coverage.thresholds_min:
        counts[f"dissolved_{t:g}"] = int((frames["dissolved"]["threshold_min"] == t).sum())
        counts[f"catchments_{t:g}"] = int((frames["catchments"]["threshold_min"] == t).sum())
    for t in result.params.coverage.required_types:
        counts[f"coverage_{t}"] = len(frames["units"])
        counts[f"gaps_{t}"] = int((frames["gaps"]["facility_type"] == t).sum())
    return counts


@pytest.fixture(scope="module")
def zh_html(grid_result: PlanResult) -> str:
    return build_care_map(grid_result).get_root().render()


def test_layer_names_and_feature_counts(grid_result: PlanResult, zh_html: str) -> None:
    layers = _layers(zh_html)
    expected = _expected_counts(grid_result)
    assert set(layers) == set(expected)
    for key, count in expected.items():
        assert len(layers[key]["features"]) == count, key  # type: ignore[index]
    for name in ("设施：日间照料中心", "15分钟步行圈（按类型合并）", "覆盖率：助餐点",
                 "服务缺口：日间照料中心", "5分钟步行圈（逐设施）"):
        assert json.dumps(name) in zh_html  # layer control entry
    assert "L.control.layers" in zh_html


def test_demo_district_counts(plan_result: PlanResult) -> None:
    html = build_care_map(plan_result).get_root().render()
    layers = _layers(html)
    for key, count in _expected_counts(plan_result).items():
        assert len(layers[key]["features"]) == count, key  # type: ignore[index]


def test_threshold_legend_attribution_and_banner(zh_html: str) -> None:
    for label in ("5 分钟", "15 分钟", "30 分钟", "步行速度 0.8 米/秒", "≥ 80% 达标", "图例"):
        assert label in zh_html
    assert _credits_osm(zh_html)
    assert "合成演示数据" in zh_html


def test_english_labels(grid_result: PlanResult) -> None:
    html = build_care_map(grid_result, lang="en").get_root().render()
    for label in ("Facilities: Day-care centre", "15-min walk catchments (dissolved)",
                  "Coverage: Meal point", "Gaps: Meal point", "Legend", "15 min",
                  "walking speed 0.8 m/s", "SYNTHETIC DEMO DATA"):
        assert label in html
    assert "图例" not in html


def test_no_banner_for_real_data(grid_result: PlanResult) -> None:
    real = dataclasses.replace(grid_result, summary={**grid_result.summary, "synthetic": False})
    assert "合成演示数据" not in build_care_map(real).get_root().render()


def _facility_lonlat(html: str) -> np.ndarray:
    coords = [f["geometry"]["coordinates"] for k, d in _layers(html).items()
              if k.startswith("facilities_") for f in d["features"]]  # type: ignore[index]
    return np.array(sorted(coords))


@pytest.mark.parametrize("basemap", ["osm", "tianditu"])
def test_wgs84_basemaps_are_not_shifted(grid_result: PlanResult, basemap: str) -> None:
    html = build_care_map(grid_result, basemap=basemap).get_root().render()  # type: ignore[arg-type]
    fac = layer_frames(grid_result)["facilities"]
    expected = np.array(sorted(zip(fac.geometry.x, fac.geometry.y, strict=True)))
    np.testing.assert_allclose(_facility_lonlat(html), expected, atol=1e-9)
    assert _credits_osm(html)


def test_amap_shifts_every_overlay_to_gcj02(grid_result: PlanResult, zh_html: str) -> None:
    html = build_care_map(grid_result, basemap="amap").get_root().render()
    a, b = _facility_lonlat(zh_html), _facility_lonlat(html)
    shift = np.asarray(Geod(ellps="WGS84").inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2])
    assert ((shift > 100) & (shift < 700)).all(), shift
    units_w = _layers(zh_html)["coverage_day_care"]["features"][0]  # type: ignore[index]
    units_g = _layers(html)["coverage_day_care"]["features"][0]  # type: ignore[index]
    assert units_w["geometry"] != units_g["geometry"]
    assert _credits_osm(html) and any("AutoNavi" in a for a in _attributions(html))
    assert "autonavi.com" in html


def test_tianditu_reads_key_from_page_address(grid_result: PlanResult,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREPLAN_TIANDITU_KEY", raising=False)
    html = build_care_map(grid_result, basemap="tianditu", lang="en").get_root().render()
    assert "tianditu.gov.cn" in html and "tk={tk}" in html
    assert 'var tk = "" || new URLSearchParams(window.location.search).get(\'tk\')' in html
    assert "Tianditu tiles need a key: set CAREPLAN_TIANDITU_KEY or add ?tk=YOUR_KEY" in html


def test_tianditu_key_from_environment(grid_result: PlanResult,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPLAN_TIANDITU_KEY", "abc123")
    html = build_care_map(grid_result, basemap="tianditu").get_root().render()
    assert 'var tk = "abc123" ||' in html


def test_offline_default_draws_own_streets_and_loads_no_tiles(grid_result: PlanResult) -> None:
    html = build_care_map(grid_result).get_root().render()
    assert "L.tileLayer" not in html and "tile.openstreetmap.org" not in html
    data = re.search(r"/\* careplan-background \*/.*?L\.geoJSON\((\{.*?\}), \{\"pane",
                     html, re.S)
    assert data is not None
    geometry = json.loads(data.group(1))["features"][0]["geometry"]
    n_lines = len(geometry["coordinates"])
    assert geometry["type"] == "MultiLineString"
    assert n_lines == grid_result.network.n_edges  # every walkable street segment is drawn
    assert _credits_osm(html)


def test_layer_urls_load_by_viewport(grid_result: PlanResult) -> None:
    urls = {"catchments": "/projects/1/collections/catchments/items?bbox={bbox}"}
    html = build_care_map(grid_result, layer_urls=urls).get_root().render()
    layers = _layers(html)
    assert layers["catchments_15"] is None and layers["dissolved_15"] is not None
    assert '"/projects/1/collections/catchments/items?bbox={bbox}"' in html
    assert "map.on('moveend', load)" in html


def test_proposed_sites(grid_result: PlanResult) -> None:
    sites = gpd.GeoDataFrame({"site_id": ["s1", "s2"], "rank": [1, 2], "covered_gain": [310., 95.]},
                             geometry=[Point(104.065, 30.645), Point(104.068, 30.655)],
                             crs="EPSG:4326")
    html = build_care_map(grid_result, sites=sites).get_root().render()
    feats = _layers(html)["sites"]["features"]  # type: ignore[index]
    assert [f["properties"]["rank"] for f in feats] == [1, 2]
    assert "建议选址" in html


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lang": "fr"}, "lang='fr'"), ({"basemap": "google"}, "basemap='google'"),
    ({"layer_urls": {"roads": "/r"}}, "unknown layer"),
])
def test_bad_options_are_refused(grid_result: PlanResult, kwargs: dict, match: str) -> None:
    with pytest.raises(InputDataError, match=match):
        build_care_map(grid_result, **kwargs)


def test_background_areas_are_drawn_under_the_streets(grid_result: PlanResult) -> None:
    import geopandas as gpd  # noqa: PLC0415
    from shapely.geometry import box as make_box  # noqa: PLC0415

    areas = gpd.GeoDataFrame({"kind": ["water", "green"]}, crs="EPSG:4326",
                             geometry=[make_box(104.050, 30.640, 104.055, 30.645),
                                       make_box(104.060, 30.650, 104.062, 30.652)])
    html = build_care_map(grid_result, background=areas).get_root().render()
    start = html.index("/* careplan-background */")
    drawn = html[start:html.index("L.geoJSON", html.index("L.geoJSON", start) + 1)]
    assert '"kind": "water"' in drawn and '"kind": "green"' in drawn

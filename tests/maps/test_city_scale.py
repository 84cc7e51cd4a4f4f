"""The care map at city scale (maps.city_scale): bounded size, every promised layer, in a browser.

The demo district is drawn with the city-scale limits lowered below its size, so every
coarsening applies (streets as an image, units as points, coarser catchment outlines, packed
layers) and the page is compared with the full-detail one.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from maps.assets import page_html
from maps.city_scale import MapScale, compact_values
from maps.compose import build_care_map
from maps.packed import GRID_DEG, packed_text, unpack
from planner.pipeline import PlanResult
from tests.maps.test_compose import _expected_counts
from tests.offline_browser import skip_reason, visit

CITY = MapScale(max_street_segments=10, max_unit_polygons=5, max_catchment_vertices=10)
LAYER_RE = re.compile(r"/\* careplan-layer: (\S+) \*/\nvar \w+_data = (.*);\n")


def _layers(html: str) -> dict[str, dict]:
    return {key: unpack(json.loads(data)) for key, data in LAYER_RE.findall(html)}


@pytest.fixture(scope="module")
def city_html(plan_result: PlanResult) -> str:
    return page_html(build_care_map(plan_result, lang="en", scale=CITY))


def test_every_promised_layer_is_there_with_all_features(plan_result: PlanResult,
                                                          city_html: str) -> None:
    layers = _layers(city_html)
    expected = _expected_counts(plan_result)
    assert set(layers) == set(expected)
    for key, count in expected.items():
        assert len(layers[key]["features"]) == count, key
    units = layers[f"coverage_{plan_result.params.coverage.required_types[0]}"]["features"]
    assert {f["geometry"]["type"] for f in units} == {"Point"}
    polygons = [f for k, v in layers.items() if k.startswith("dissolved") for f in v["features"]]
    assert polygons and {f["geometry"]["type"] for f in polygons} == {"MultiPolygon"}


def test_units_are_points_inside_their_unit_with_their_figures(plan_result: PlanResult,
                                                                city_html: str) -> None:
    ftype = plan_result.params.coverage.required_types[0]
    features = _layers(city_html)[f"coverage_{ftype}"]["features"]
    units = plan_result.units.to_crs("EPSG:4326").set_index(
        plan_result.units["unit_id"].astype(str).to_numpy())
    share = plan_result.coverage[plan_result.coverage["facility_type"] == ftype].set_index(
        plan_result.coverage["unit_id"].astype(str)[plan_result.coverage["facility_type"] == ftype]
    )["covered_share"]
    names = units["name"].astype(str)
    for f, (uid, unit) in zip(features, units.iterrows(), strict=True):
        assert f["properties"]["name"] == names[uid]
        point = shapely.Point(f["geometry"]["coordinates"])
        assert unit.geometry.buffer(2 * GRID_DEG).contains(point)
        got = f["properties"][f"covered_share_{ftype}"]
        # cut down to 4 decimals, never up (but for float noise: 0.79999999999 is 0.8)
        assert share[uid] - 1e-4 <= got <= share[uid] + 1e-9


def test_page_is_far_smaller_and_says_what_was_coarsened(plan_result: PlanResult,
                                                          city_html: str) -> None:
    full = page_html(build_care_map(plan_result, lang="en"))
    assert len(city_html) < 0.6 * len(full)
    assert "careplan-background */" in city_html and '"url": "data:image/png;base64,' in city_html
    assert "City scale: streets and land use drawn as one image" in city_html
    assert f"City scale: {len(plan_result.units)} units drawn as points" in city_html
    assert "simplified to 5 m for display" in city_html


def test_street_image_draws_every_street(plan_result: PlanResult, city_html: str) -> None:
    """Every segment's midpoint lies on a street-coloured pixel (or its neighbour)."""
    uri = re.search(r'"url": "data:image/png;base64,([A-Za-z0-9+/=]+)"', city_html)
    assert uri is not None
    bounds = json.loads(re.search(r'"bounds": (\[\[[^]]+\], \[[^]]+\]\])', city_html).group(1))
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.group(1)))).convert("RGBA"))
    (south, west), (north, east) = bounds
    net = plan_result.network
    frame = __import__("geopandas").GeoSeries(
        shapely.points((net.x_m[net.edge_u] + net.x_m[net.edge_v]) / 2,
                       (net.y_m[net.edge_u] + net.y_m[net.edge_v]) / 2), crs=net.crs
    ).to_crs("EPSG:4326")

    def merc(lat: np.ndarray) -> np.ndarray:
        return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))

    height, width = image.shape[:2]
    px = ((frame.x - west) / (east - west) * width).to_numpy().astype(int)
    py = ((merc(north) - merc(frame.y.to_numpy())) / (merc(north) - merc(south)) * height
          ).astype(int)
    street = np.zeros(image.shape[:2], bool)
    street |= (image[..., 3] == 255) & (image[..., 0] == 185)
    near = np.zeros_like(street)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(street, dy, 0), dx, 1)
    assert near[py.clip(0, height - 1), px.clip(0, width - 1)].all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(103.5, 104.5), st.floats(30.2, 31.0),
                          st.floats(1e-4, 0.01), st.integers(0, 3)), min_size=1, max_size=12))
def test_packed_polygons_round_trip_to_a_metre(boxes: list[tuple[float, float, float, int]]
                                               ) -> None:
    import geopandas as gpd

    geoms = [shapely.box(x, y, x + d, y + d).difference(shapely.box(
        x + d / 4, y + d / 4, x + d / 2, y + d / 2)) if hole else shapely.box(x, y, x + d, y + d)
        for x, y, d, hole in boxes]
    frame = gpd.GeoDataFrame({"k": list(range(len(geoms))), "t": ["a"] * len(geoms)},
                             geometry=geoms, crs="EPSG:4326")
    back = unpack(json.loads(packed_text(frame)))
    assert [f["properties"] for f in back["features"]] == [
        {"k": i, "t": "a"} for i in range(len(geoms))]
    for f, geom in zip(back["features"], geoms, strict=True):
        got = shapely.geometry.shape(f["geometry"])
        assert shapely.hausdorff_distance(got, geom) <= GRID_DEG
        assert abs(got.area - geom.area) <= 8 * GRID_DEG * geom.length


def test_compact_values_never_lift_a_share_over_a_break() -> None:
    import geopandas as gpd

    shares = np.array([0.79999999, 0.8, 0.2, 0.59995, 1.0, np.nan])
    frame = gpd.GeoDataFrame({"covered_share_x": shares, "older_pop": shares * 1000},
                             geometry=[shapely.Point(0, 0)] * len(shares), crs="EPSG:4326")
    out = compact_values(frame)["covered_share_x"].to_numpy()
    assert np.allclose(out[:5], [0.7999, 0.8, 0.2, 0.5999, 1.0]) and np.isnan(out[5])


@pytest.mark.browser
@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_city_scale_map_opens_in_chromium(plan_result: PlanResult, city_html: str,
                                          tmp_path: Path) -> None:
    page = tmp_path / "city.html"
    page.write_text(city_html, encoding="utf-8")
    probe = """() => ({
      image: document.querySelectorAll('.leaflet-careplanBackground-pane img').length,
      canvas: document.querySelectorAll('.leaflet-overlay-pane canvas').length,
      paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
      markers: document.querySelectorAll('.leaflet-marker-pane .careplan-icon').length,
      legend: (document.querySelector('.careplan-legend') || {}).textContent || '',
      overlays: document.querySelectorAll('.leaflet-control-layers-overlays label').length,
    })"""
    seen = visit(page.as_uri(), ready="window.L !== undefined && window.careplan !== undefined",
                 wait_for=".leaflet-careplanBackground-pane img", probe=probe,
                 shot=tmp_path / "city.png")
    seen.assert_clean()
    info = seen.info
    assert info["image"] == 1 and int(info["canvas"]) >= 1  # type: ignore[call-overload]
    assert int(info["paths"]) > 0  # the dissolved catchments shown on opening
    assert info["markers"] == len(plan_result.facilities)
    assert "City scale" in str(info["legend"])
    assert info["overlays"] == len(_expected_counts(plan_result))


def test_amap_city_scale_shifts_the_street_image_and_the_points(plan_result: PlanResult,
                                                                city_html: str) -> None:
    """GCJ-02 tiles: the background image and the packed points move as the vector layers do."""
    amap = page_html(build_care_map(plan_result, lang="en", basemap="amap", scale=CITY))
    pattern = r'"bounds": (\[\[[^]]+\], \[[^]]+\]\])'
    wgs = np.array(json.loads(re.search(pattern, city_html).group(1)))  # type: ignore[union-attr]
    gcj = np.array(json.loads(re.search(pattern, amap).group(1)))  # type: ignore[union-attr]
    shift = gcj - wgs
    assert 1e-4 < np.abs(shift).max() < 1e-2  # hundreds of metres, as GCJ-02 is in China
    ftype = plan_result.params.coverage.required_types[0]
    a = _layers(city_html)[f"coverage_{ftype}"]["features"][0]["geometry"]["coordinates"]
    b = _layers(amap)[f"coverage_{ftype}"]["features"][0]["geometry"]["coordinates"]
    assert 1e-4 < max(abs(b[0] - a[0]), abs(b[1] - a[1])) < 1e-2

"""Tests of maps.geojson (lon/lat and GCJ-02 frames), maps.layers and maps.runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod

from maps.geojson import LAYER_NAMES, coverage_wide, layer_frame, layer_frames
from maps.layers import build_group, catchment_spec, coverage_breaks, facility_spec
from maps.runtime import GeoJsonLayer, js_json
from planner.pipeline import PlanResult

GEOD = Geod(ellps="WGS84")


def _shift_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic distance in metres between rows of two (n, 2) lon/lat arrays."""
    return np.asarray(GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2])


def test_frames_are_lonlat_and_complete(grid_result: PlanResult) -> None:
    frames = layer_frames(grid_result)
    assert tuple(frames) == LAYER_NAMES
    for frame in frames.values():
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.name == frame.columns[-1]
    assert len(frames["facilities"]) == len(grid_result.facilities)
    assert len(frames["units"]) == len(grid_result.units)
    assert len(frames["catchments"]) == len(grid_result.catchments)
    assert len(frames["dissolved"]) == len(grid_result.dissolved)
    assert len(frames["gaps"]) == len(grid_result.gaps)
    assert len(frames["demand"]) == len(grid_result.demand)
    lon, lat = frames["facilities"].geometry.x, frames["facilities"].geometry.y
    assert lon.between(104.0, 104.1).all() and lat.between(30.6, 30.7).all()


def test_units_carry_covered_share_per_type(grid_result: PlanResult) -> None:
    units = layer_frame(grid_result, "units").set_index("unit_id")
    for ftype in grid_result.params.coverage.required_types:
        cov = grid_result.coverage[grid_result.coverage["facility_type"] == ftype]
        expected = cov.set_index("unit_id")["covered_share"]
        got = units.loc[expected.index, f"covered_share_{ftype}"]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy())
    assert coverage_wide(grid_result.coverage.iloc[0:0]).empty


def test_gaps_have_reason_population_and_unit_polygon(grid_result: PlanResult) -> None:
    gaps = layer_frame(grid_result, "gaps")
    assert {"reason", "uncovered_pop", "unit_id", "facility_type"} <= set(gaps.columns)
    assert (gaps.geometry.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    assert gaps["uncovered_pop"].gt(0).all()
    assert list(gaps["rank"]) == sorted(gaps["rank"])


def test_gcj02_shift_moves_chengdu_by_hundreds_of_metres(grid_result: PlanResult) -> None:
    wgs = layer_frames(grid_result)
    gcj = layer_frames(grid_result, to_gcj02=True)
    a = np.column_stack([wgs["facilities"].geometry.x, wgs["facilities"].geometry.y])
    b = np.column_stack([gcj["facilities"].geometry.x, gcj["facilities"].geometry.y])
    shift = _shift_m(a, b)
    assert ((shift > 100) & (shift < 700)).all(), shift
    assert (b[:, 0] > a[:, 0]).all()  # GCJ-02 lies east of WGS-84 in Chengdu
    ring_w = np.asarray(wgs["units"].geometry.iloc[0].exterior.coords)
    ring_g = np.asarray(gcj["units"].geometry.iloc[0].exterior.coords)
    assert ring_w.shape == ring_g.shape
    assert ((_shift_m(ring_w, ring_g) > 100) & (_shift_m(ring_w, ring_g) < 700)).all()


def test_unknown_layer_name_is_refused(grid_result: PlanResult) -> None:
    with pytest.raises(KeyError, match="unknown layer 'roads'"):
        layer_frame(grid_result, "roads")


def test_simplify_reduces_vertices_but_keeps_features(grid_result: PlanResult) -> None:
    exact = layer_frame(grid_result, "dissolved")
    simple = layer_frame(grid_result, "dissolved", simplify_m=5.0)
    assert len(simple) == len(exact)
    count = sum(len(g.exterior.coords) if g.geom_type == "Polygon" else
                sum(len(p.exterior.coords) for p in g.geoms) for g in simple.geometry)
    count_exact = sum(len(g.exterior.coords) if g.geom_type == "Polygon" else
                      sum(len(p.exterior.coords) for p in g.geoms) for g in exact.geometry)
    assert count <= count_exact


def test_layer_element_filters_and_keeps_only_used_properties(grid_result: PlanResult) -> None:
    frame = layer_frame(grid_result, "dissolved")
    spec = catchment_spec(15.0, "zh", {"day_care": "日间照料中心"}, per_facility=False, show=True)
    element = GeoJsonLayer(spec, frame, None, "wgs84")
    data = json.loads(element.data_json)
    assert element.n_features == int((frame["threshold_min"] == 15.0).sum()) == len(
        data["features"])
    assert {k for f in data["features"] for k in f["properties"]} == {"type", "threshold_min"}


def test_remote_layer_inlines_no_data(grid_result: PlanResult) -> None:
    spec = facility_spec("day_care", "Day-care centre", "en", {})
    group = build_group(spec, layer_frame(grid_result, "facilities"), url="/f?bbox={bbox}")
    element = next(iter(group._children.values()))
    assert element.data_json == "null" and element.url == "/f?bbox={bbox}"
    assert group.layer_name == "Facilities: Day-care centre"


def test_js_json_cannot_close_the_script_block() -> None:
    text = js_json({"name": "</script><script>alert(1)</script>"})
    assert "</script>" not in text and json.loads(text)["name"].startswith("</script>")


def test_coverage_breaks_end_at_target() -> None:
    assert coverage_breaks(0.8) == [0.0, 0.2, 0.4, 0.6, 0.8]

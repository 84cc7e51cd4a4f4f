"""The care map's city-scale output path: GeoJSON text, page text without Jinja re-compiling,
display simplification. Each fast path is compared with the slower one it replaced."""

from __future__ import annotations

import copy
import dataclasses
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from branca.element import MacroElement
from hypothesis import given, settings
from hypothesis import strategies as st

from maps import build_care_map
from maps.geojson import LAYER_NAMES, geojson_text, layer_frame, simplify_for_display
from maps.runtime import TextMacroElement
from planner.pipeline import PlanResult
from planner.warnings_log import WarningLog


def _same_json(a: object, b: object) -> bool:
    """Equal parsed JSON, NaN-free (``null`` stays ``None``)."""
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_geojson_text_is_what_geopandas_writes(plan_result: PlanResult, name: str) -> None:
    frame = layer_frame(plan_result, name, simplify_m=2.0)
    ours = json.loads(geojson_text(frame))
    theirs = json.loads(frame.to_json(drop_id=True, ensure_ascii=False))
    assert _same_json(ours, theirs)
    assert len(ours["features"]) == len(frame)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.floats(allow_infinity=False), st.integers(-10**6, 10**6)),
    st.one_of(st.none(), st.text(max_size=8)),
    st.floats(-180, 180), st.floats(-90, 90), st.booleans()), max_size=6))
def test_geojson_text_equals_geopandas_on_any_values(rows: list[tuple]) -> None:
    """Missing numbers and texts, unicode, quotes, points and empty geometries alike."""
    frame = gpd.GeoDataFrame(
        {"value": [r[0] for r in rows], "label": [r[1] for r in rows]},
        geometry=[shapely.Point(r[2], r[3]) if r[4] else None for r in rows], crs="EPSG:4326")
    ours = json.loads(geojson_text(frame))
    theirs = json.loads(frame.to_json(drop_id=True, ensure_ascii=False))
    assert ours == theirs


def test_page_text_is_branca_rendering(grid_result: PlanResult, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Same page, byte for byte, as branca's own MacroElement.render (ids kept by deepcopy)."""
    page = build_care_map(grid_result)
    ours = copy.deepcopy(page).get_root().render()
    monkeypatch.setattr(TextMacroElement, "render", MacroElement.render)
    theirs = copy.deepcopy(page).get_root().render()
    assert ours == theirs
    assert "careplan-layer: dissolved_15" in ours and "careplan-background" in ours


def test_template_syntax_in_data_stays_text(grid_result: PlanResult) -> None:
    """A facility name with Jinja syntax is shown as written, never evaluated."""
    fac = grid_result.facilities.copy()
    fac["name"] = ["{{ 7*7 }}", "{% if 1 %}x{% endif %}", *fac["name"].iloc[2:]]
    banner = {"code": "indicators", "count": 1, "message": "no data in {{ file }}"}
    result = dataclasses.replace(grid_result, facilities=fac, warnings=WarningLog(
        entries=[*grid_result.warnings.entries, banner]))  # type: ignore[list-item]
    html = build_care_map(result).get_root().render()
    assert "{{ 7*7 }}" in html and "{% if 1 %}x{% endif %}" in html
    assert "no data in {{ file }}" in html


def test_display_simplification_is_valid_and_near_the_topology_preserving_one(
        plan_result: PlanResult) -> None:
    """Against GEOS's topology-preserving simplifier (what the map used before) on the demo
    district's dissolved catchments: valid, no more vertices, the area between the two results
    at most 0.01 % of the polygon's (measured 0.002 %), and the area change within tolerance x
    boundary length (no boundary point moves further than the tolerance, give or take)."""
    geoms = plan_result.dissolved.geometry.to_numpy()
    fast = simplify_for_display(geoms, 2.0)
    slow = shapely.simplify(geoms, 2.0, preserve_topology=True)
    assert shapely.is_valid(fast).all()
    assert (shapely.get_num_coordinates(fast) <= shapely.get_num_coordinates(slow)).all()
    assert (shapely.get_num_coordinates(fast) < shapely.get_num_coordinates(geoms)).all()
    between = shapely.area(shapely.symmetric_difference(fast, slow))
    assert (between <= 1e-4 * shapely.area(geoms)).all(), between / shapely.area(geoms)
    change = np.abs(shapely.area(fast) - shapely.area(geoms))
    assert (change <= 2.0 * shapely.length(geoms)).all()

"""Water, green and built-up polygons of the Chengdu extract for the offline care map."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
import shapely

import planner.io.osm_background as osm_background
from planner.errors import InputDataError
from planner.io.osm_background import read_background_areas


def test_docstring_examples() -> None:
    assert doctest.testmod(osm_background).failed == 0


def test_chengdu_extract_has_water_green_and_built_areas(chengdu_osm: Path) -> None:
    box = shapely.box(104.06, 30.66, 104.10, 30.70)
    areas = read_background_areas(chengdu_osm, box)
    counts = areas["kind"].value_counts().to_dict()
    assert set(counts) == {"water", "green", "built"}, counts  # the Jin river, parks, housing
    assert areas.geometry.within(box.buffer(1e-9)).all()  # clipped to the study area
    assert areas.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    whole = read_background_areas(chengdu_osm)
    assert len(whole) >= len(areas) and whole.total_bounds[2] > 104.10


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not found"):
        read_background_areas(tmp_path / "none.osm")

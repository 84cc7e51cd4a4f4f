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


def test_filtered_pass_reads_what_the_unfiltered_one_did(chengdu_osm: Path) -> None:
    """Every area through Python and classified there (the reader before the filters): the same
    rows, kinds and geometries."""
    import geopandas as gpd
    import osmium

    wkb = osmium.geom.WKBFactory()
    rows = [(kind, shapely.from_wkb(wkb.create_multipolygon(a)))
            for a in osmium.FileProcessor(str(chengdu_osm)).with_areas()
            if isinstance(a, osmium.osm.Area)
            and (kind := osm_background.background_kind({t.k: t.v for t in a.tags}))]
    old = gpd.GeoDataFrame({"kind": [r[0] for r in rows]}, geometry=[r[1] for r in rows])
    old["geometry"] = old.geometry.simplify(osm_background.SIMPLIFY_DEG)
    new = read_background_areas(chengdu_osm)
    assert len(new) == len(old) > 100
    assert list(new["kind"]) == list(old["kind"])
    assert shapely.equals_exact(new.geometry.to_numpy(), old.geometry.to_numpy(), 0).all()

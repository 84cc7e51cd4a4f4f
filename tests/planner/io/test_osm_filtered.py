"""The filtered, array-based OSM reader against the reader it replaced (every object to Python,
a dict of node locations, one Python list entry per segment) on the real Chengdu extract (PBF
and XML) and on written files with awkward cases: identical RawNetwork arrays, POIs and
residential areas."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely

from planner.io.catalogue import read_catalogue
from planner.io.osm import OsmExtract, assemble, collect, read_osm_file
from planner.io.osm_collect import Collector, poi_keys
from planner.network.walkable import is_walkable
from planner.schema import RawNetwork

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "osm"
CHENGDU = [DATA / "chengdu_center_2018.osm.pbf", DATA / "chengdu_center_2018.osm"]


class _OldCollector(Collector):
    """Today's way handling before this change: per-node locations in a dict, Python lists."""

    def __init__(self, catalogue) -> None:  # type: ignore[no-untyped-def]
        super().__init__(catalogue)
        self.seg: list[tuple[int, int, int, str]] = []
        self.node_xy: dict[int, tuple[float, float]] = {}

    def way(self, way: osmium.osm.Way) -> None:
        tags = {t.k: t.v for t in way.tags}
        if not is_walkable(tags):
            return
        refs = []
        for node in way.nodes:
            if not node.location.valid():
                continue
            refs.append(node.ref)
            self.node_xy[node.ref] = (node.location.lon, node.location.lat)
        self.seg += [(a, b, way.id, tags["highway"])
                     for a, b in zip(refs[:-1], refs[1:], strict=True) if a != b]

    def segments(self):  # type: ignore[no-untyped-def]
        u = np.array([s[0] for s in self.seg], dtype=np.int64)
        v = np.array([s[1] for s in self.seg], dtype=np.int64)
        xy = np.array([self.node_xy[i] for i in np.concatenate([u, v])]).reshape(-1, 2)
        return (u, v, xy[:, 0], xy[:, 1], np.array([s[2] for s in self.seg], dtype=np.int64),
                np.array([s[3] for s in self.seg], dtype=str))


def _old_read(path: Path, study_area=None,  # type: ignore[no-untyped-def]
              catalogue=None) -> OsmExtract:
    col = _OldCollector(catalogue or read_catalogue())
    processor = osmium.FileProcessor(str(path)).with_locations().with_areas()
    return assemble(path, col, collect(path, col, processor, study_area))


def _assert_same(new: OsmExtract, old: OsmExtract) -> None:
    for name in RawNetwork.__dataclass_fields__:
        a, b = getattr(new.network, name), getattr(old.network, name)
        assert a.dtype.kind == b.dtype.kind and np.array_equal(a, b), name
    for frame, ref in ((new.pois, old.pois), (new.residential, old.residential)):
        assert list(frame.columns) == list(ref.columns)
        assert frame.drop(columns="geometry").equals(ref.drop(columns="geometry"))
        assert shapely.equals_exact(frame.geometry.to_numpy(), ref.geometry.to_numpy(), 0).all()
    assert new.study_area.equals(old.study_area)


@pytest.mark.parametrize("path", CHENGDU, ids=["pbf", "xml"])
def test_same_extract_as_the_unfiltered_reader_on_chengdu(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} not present")
    new, old = read_osm_file(path, read_catalogue()), _old_read(path)
    assert new.network.n_edges > 5_000 and len(new.pois) > 0 and len(new.residential) > 0
    _assert_same(new, old)


def test_same_extract_clipped_to_a_study_area() -> None:
    path = CHENGDU[0]
    if not path.is_file():
        pytest.skip(f"{path} not present")
    box = shapely.box(104.05, 30.65, 104.08, 30.68)
    _assert_same(read_osm_file(path, read_catalogue(), study_area=box), _old_read(path, box))


def test_awkward_ways_nodes_and_areas(tmp_path: Path) -> None:
    """Repeated and missing nodes, closed and non-walkable ways, a POI known only by its name,
    a care amenity drawn as an area, a residential multipolygon relation, untagged areas."""
    path = tmp_path / "awkward.osm.pbf"
    loc = {i: (104.0 + 0.001 * i, 30.6 + 0.0007 * (i * i % 7)) for i in range(1, 30)}
    w = osmium.SimpleWriter(str(path))
    for i, xy in loc.items():
        tags = {"name": "幸福日间照料中心"} if i == 3 else (
            {"amenity": "social_facility", "social_facility": "nursing_home"} if i == 4 else {})
        w.add_node(osmium.osm.mutable.Node(id=i, location=xy, tags=tags))
    ways = [
        ([1, 2, 2, 3, 99, 4, 1], {"highway": "footway"}),  # repeat, missing node 99, closed
        ([4, 5, 6], {"highway": "trunk"}),  # not walkable
        ([6, 7, 8], {"highway": "trunk", "foot": "yes"}),
        ([8, 9], {"highway": "service", "access": "private"}),
        ([9, 10, 11], {"highway": "residential", "name": "x"}),
        ([12, 13, 14, 12], {"amenity": "social_facility", "social_facility": "nursing_home"}),
        ([15, 16, 17, 15], {"landuse": "residential", "name": "小区"}),
        ([18, 19, 20, 18], {}),
        ([21, 22, 23, 24, 21], {}),
        ([25, 26, 27, 25], {"building": "apartments"}),
    ]
    for k, (nodes, tags) in enumerate(ways, start=1):
        w.add_way(osmium.osm.mutable.Way(id=k, nodes=nodes, tags=tags))
    w.add_relation(osmium.osm.mutable.Relation(
        id=1, members=[("w", 7, "outer")], tags={"type": "multipolygon", "landuse": "residential"}))
    w.add_relation(osmium.osm.mutable.Relation(
        id=2, members=[("w", 8, "outer")], tags={"type": "multipolygon", "natural": "water"}))
    w.close()
    new, old = read_osm_file(path, read_catalogue()), _old_read(path)
    _assert_same(new, old)
    assert set(new.pois["facility_id"]) >= {"osm_n3", "osm_n4", "osm_w6"}
    assert set(new.residential["osm_id"]) == {"w7", "r1", "w10"}
    assert isinstance(new.residential, gpd.GeoDataFrame)


def test_a_catalogue_tag_set_matching_anything_turns_the_key_filters_off() -> None:
    """An empty tag set matches every tagged object: no key can pre-select POIs then."""
    path = CHENGDU[0]
    if not path.is_file():
        pytest.skip(f"{path} not present")
    cat = read_catalogue()
    first = dataclasses.replace(cat.types[0], osm_tags=({},))
    anything = dataclasses.replace(cat, types=(first, *cat.types[1:]))
    assert poi_keys(anything) is None and poi_keys(cat) is not None
    new = read_osm_file(path, anything)
    _assert_same(new, _old_read(path, catalogue=anything))
    assert len(new.pois) > 10 * len(read_osm_file(path, cat).pois)

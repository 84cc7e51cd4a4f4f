"""The numpy PBF reader against the pyosmium reader (libosmium decodes, assembles the areas):
identical network arrays, POIs and residential areas on the real Chengdu extract, a synthetic
district, awkward hand-made files in every PBF flavour libosmium writes, random networks
(hypothesis); plus the decoding primitives on hand-worked bytes and damaged files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osmium.osm.mutable import Node, Relation, Way

from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file, read_osm_pyosmium
from planner.io.pbf_blocks import PbfUnsupportedError, decode_packed, delta_decode, repeated, zigzag
from planner.io.pbf_collect import WALK_KEYS
from planner.io.pbf_groups import Grid
from planner.io.pbf_read import read_pbf
from planner.network.walkable import is_walkable
from planner.synthetic.district import build_demo_district
from tests.planner.io.test_osm_filtered import CHENGDU, _assert_same

CATALOGUE = read_catalogue()
FLAVOURS = ["pbf", "pbf,pbf_dense_nodes=false", "pbf,pbf_compression=none"]
CARE = {"amenity": "social_facility", "social_facility": "nursing_home"}


def _write(path: Path, nodes: dict[int, tuple[tuple[float, float], dict[str, str]]],
           ways: list[tuple[list[int], dict[str, str]]],
           relations: tuple[tuple[list[tuple[str, int, str]], dict[str, str]], ...] = (),
           flavour: str = "pbf") -> Path:
    writer = osmium.SimpleWriter(osmium.io.File(str(path), flavour), overwrite=True)
    for i, ((x, y), tags) in sorted(nodes.items()):
        writer.add_node(Node(id=i, location=(float(x), float(y)), tags=tags))
    for k, (refs, tags) in enumerate(ways, start=1):
        writer.add_way(Way(id=k, nodes=refs, tags=tags))
    for k, (members, tags) in enumerate(relations, start=1):
        writer.add_relation(Relation(id=k, members=members, tags=tags))
    writer.close()
    return path


def _both(path: Path, study_area: shapely.Geometry | None = None) -> None:
    _assert_same(read_osm_file(path, CATALOGUE, study_area=study_area),
                 read_osm_pyosmium(path, CATALOGUE, study_area=study_area))


@pytest.mark.parametrize("clip", [None, shapely.box(104.05, 30.65, 104.08, 30.68)])
def test_chengdu_pbf(clip: shapely.Geometry | None) -> None:
    path = CHENGDU[0]
    if not path.is_file():
        pytest.skip(f"{path} not present")
    parts = read_pbf(path, CATALOGUE)  # decoded by numpy, its relations sent to libosmium
    assert parts.area_relations and parts.segments()[0].size > 10_000
    _both(path, clip)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_synthetic_district(tmp_path: Path, flavour: str) -> None:
    """A small synthetic district: streets as chains of segments, land use, facilities."""
    inputs = build_demo_district(seed=5, target_nodes=3000, n_facilities=40)
    net = inputs.network
    nodes = {int(i): ((x, y), {}) for i, x, y in zip(net.node_id, net.lon, net.lat, strict=True)}
    ways = [([int(net.node_id[a]), int(net.node_id[b])], {"highway": str(h)})
            for a, b, h in zip(net.edge_u, net.edge_v, net.edge_highway, strict=True)]
    next_id = int(net.node_id.max()) + 1
    for geom in inputs.residential.geometry:
        poly = geom if geom.geom_type == "Polygon" else max(geom.geoms, key=lambda g: g.area)
        ids = []
        for x, y in shapely.get_coordinates(poly.exterior)[:-1]:
            nodes[next_id] = ((x, y), {})
            ids.append(next_id)
            next_id += 1
        ways.append(([*ids, ids[0]], {"landuse": "residential"}))
    for pt, name in zip(inputs.facilities.geometry, inputs.facilities["name"], strict=True):
        nodes[next_id] = ((pt.x, pt.y), {**CARE, "name": str(name)})
        next_id += 1
    path = _write(tmp_path / "district.osm.pbf", nodes, ways, flavour=flavour)
    parts = read_pbf(path, CATALOGUE)
    assert not parts.area_relations and parts.timings_s["areas"] >= 0
    _both(path)
    _both(path, shapely.box(*np.percentile(np.c_[net.lon, net.lat], [10, 60], axis=0).ravel()))


def _awkward() -> tuple[dict[int, tuple[tuple[float, float], dict[str, str]]],
                        list[tuple[list[int], dict[str, str]]]]:
    nodes = {i: ((104.0 + 0.001 * (i % 10), 30.6 + 0.001 * (i // 10)), {}) for i in range(1, 60)}
    nodes[3] = (nodes[3][0], {"name": "幸福日间照料中心"})
    nodes[4] = (nodes[4][0], dict(CARE))
    nodes[5] = ((999.0, 30.6), dict(CARE))  # no valid location
    nodes[60] = (nodes[21][0], {})  # the location of node 21 again
    ways = [
        ([1, 2, 2, 3, 99, 4, 1], {"highway": "footway"}),  # repeat, missing node, closed
        ([4, 5, 6], {"highway": "trunk"}),
        ([6, 7, 8], {"highway": "trunk", "foot": "yes"}),
        ([8, 9], {"highway": "service", "access": "private"}),
        ([11, 12, 13], {"highway": "residential", "name": "x", "highway:x": "y"}),
        ([11, 12, 22, 21, 11], {**CARE, "name": "敬老院"}),  # a POI area
        ([13, 14, 24, 23, 13], {"landuse": "residential", "name": "小区"}),
        ([15, 16, 26, 25, 15], {"building": "apartments", "area": "no"}),
        ([31, 32, 42, 41, 31], {"building": "house"}),
        ([33, 34, 34, 44, 43, 33], {"landuse": "residential"}),  # repeated node
        ([35, 46, 36, 45, 35], {"landuse": "residential"}),  # crosses itself
        ([51, 52, 53], {"landuse": "residential"}),  # not closed
        ([21, 22, 32, 60, 31, 21], {"building": "residential"}),  # a location twice
    ]
    return nodes, ways


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_awkward_objects_without_relations(tmp_path: Path, flavour: str) -> None:
    nodes, ways = _awkward()
    _both(_write(tmp_path / "awkward.osm.pbf", nodes, ways, flavour=flavour))
    simple = [w for w in ways if w[0] not in ([35, 46, 36, 45, 35], [21, 22, 32, 60, 31, 21])]
    path = _write(tmp_path / "simple.osm.pbf", nodes, simple, flavour=flavour)
    assert read_pbf(path, CATALOGUE).residential_columns()["osm_id"] == ["w7", "w9", "w10"]
    _both(path)


def test_multipolygon_relations_with_inner_rings(tmp_path: Path) -> None:
    nodes, ways = _awkward()
    for i, (x, y) in enumerate([(104.1, 30.7), (104.11, 30.7), (104.11, 30.71), (104.1, 30.71),
                                (104.102, 30.702), (104.104, 30.702), (104.104, 30.704)]):
        nodes[100 + i] = ((x, y), {})
    ways += [([100, 101, 102], {}), ([102, 103, 100], {}), ([104, 105, 106, 104], {})]
    n = len(ways)
    rels = (([("w", n - 2, "outer"), ("w", n - 1, "outer"), ("w", n, "inner")],
             {"type": "multipolygon", "landuse": "residential", "name": "花园"}),
            ([("w", n, "outer")], {"type": "multipolygon", **CARE}),
            ([("w", 9, "outer")], {"type": "multipolygon", "natural": "water"}))
    path = _write(tmp_path / "relations.osm.pbf", nodes, ways, rels)
    assert read_pbf(path, CATALOGUE).area_relations
    new = read_osm_file(path, CATALOGUE)
    _both(path)
    assert {"r1", "w7"} <= set(new.residential["osm_id"])
    assert "osm_r2" in set(new.pois["facility_id"])


def test_damaged_files_raise_one_line(tmp_path: Path) -> None:
    path = CHENGDU[0]
    if not path.is_file():
        pytest.skip(f"{path} not present")
    data = path.read_bytes()
    for name, content in (("cut.osm.pbf", data[: len(data) // 2]),
                          ("noise.osm.pbf", bytes(range(256)) * 4),
                          ("flipped.osm.pbf", data[:400] + bytes(200) + data[600:])):
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(InputDataError, match=name) as err:
            read_osm_file(bad, CATALOGUE)
        assert "\n" not in str(err.value) and "valid, complete OSM file" in str(err.value)


@pytest.mark.parametrize(("flavour", "reason"), [
    ("pbf,pbf_compression=lz4", "lz4-compressed blocks"),
    ("pbf,locations_on_ways=true", "optional feature LocationsOnWays")])
def test_what_the_reader_leaves_to_pyosmium(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            flavour: str, reason: str) -> None:
    nodes, ways = _awkward()
    path = _write(tmp_path / "other.osm.pbf", nodes, ways, flavour=flavour)
    with caplog.at_level(logging.INFO, logger="planner.io.osm"):
        _both(path)
    assert f"{reason}; reading it with pyosmium" in caplog.text


def test_is_walkable_reads_only_the_walk_keys() -> None:
    """The reader decides per distinct (highway, foot, access): nothing else may matter."""

    class Recorder(dict[str, str]):
        seen: set[str] = set()

        def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
            Recorder.seen.add(key)
            return super().get(key, default)

    for hw in ("footway", "trunk", "construction", "cycleway"):
        for foot in (None, "yes", "no"):
            for access in (None, "private"):
                tags = {"highway": hw, "foot": foot, "access": access, "oneway": "yes"}
                is_walkable(Recorder({k: v for k, v in tags.items() if v is not None}))
    assert Recorder.seen == set(WALK_KEYS)


def test_decoding_primitives_on_hand_worked_bytes() -> None:
    """300 = 0b10_0101100 -> bytes 0xAC 0x02; zigzag 3 -> -2, 4 -> 2; deltas restart per way;
    granularity 1000 nanodegrees with offsets -> fixed-point 1e-7 degrees, truncated."""
    data = np.array([0x96, 0x01, 0xAC, 0x02, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], dtype=np.uint8)
    assert decode_packed(data).tolist() == [150, 300, 0, 2**32 - 1]
    assert zigzag(np.array([0, 1, 2, 3, 4], dtype=np.uint64)).tolist() == [0, -1, 1, -2, 2]
    deltas, counts = np.array([5, 1, 1, 7, -2]), np.array([3, 0, 2])
    assert delta_decode(deltas, counts).tolist() == [5, 6, 7, 7, 5]
    grid = Grid(granularity=1000, lat_offset=150, lon_offset=-150)
    assert grid.fixed(np.array([2, -2]), -150).tolist() == [18, -21]
    assert Grid().fixed(np.array([1_040_000_000]), 0).tolist() == [1_040_000_000]


@st.composite
def _networks(draw: st.DrawFn) -> tuple[dict[int, tuple[tuple[float, float], dict[str, str]]],
                                        list[tuple[list[int], dict[str, str]]]]:
    n = draw(st.integers(4, 30))
    cells = draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=n,
                          max_size=n, unique=True))
    nodes = {3 * i + 1: ((104.0 + 1e-4 * x, 30.6 + 1e-4 * y),
                         draw(st.sampled_from([{}, {}, CARE, {"name": "社区养老服务站"}])))
             for i, (x, y) in enumerate(cells)}
    ids = sorted(nodes)
    ways = []
    for _ in range(draw(st.integers(1, 12))):
        refs = draw(st.lists(st.sampled_from([*ids, 2]), min_size=1, max_size=7))
        tags = {"highway": draw(st.sampled_from(["footway", "trunk", "steps", "proposed"]))}
        tags |= draw(st.sampled_from([{}, {"foot": "yes"}, {"access": "no"}, {"foot": "no"}]))
        ways.append((refs, tags))
    for _ in range(draw(st.integers(0, 4))):
        ring = draw(st.lists(st.sampled_from(ids), min_size=3, max_size=6, unique=True))
        tags = draw(st.sampled_from([{"landuse": "residential"}, {"building": "house"}, CARE,
                                     {"building": "garage"}, {"landuse": "residential",
                                                              "name": "小区", **CARE}]))
        ways.append(([*ring, ring[0]], tags))
    return nodes, ways


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_networks())
def test_random_networks(tmp_path: Path, net: tuple[dict[int, tuple[tuple[float, float],
                                                                      dict[str, str]]],
                                                     list[tuple[list[int], dict[str, str]]]]
                         ) -> None:
    nodes, ways = net
    path = _write(tmp_path / "random.osm.pbf", nodes, ways)
    try:
        old = read_osm_pyosmium(path, CATALOGUE)
    except InputDataError:  # no walkable way: the numpy reader must say so too
        with pytest.raises(InputDataError, match="no walkable way"):
            read_osm_file(path, CATALOGUE)
        return
    _assert_same(read_osm_file(path, CATALOGUE), old)


def test_nodes_after_ways_are_read_by_pyosmium(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """libosmium locates a way's nodes only from nodes before it: an unsorted file goes there."""
    nodes, ways = _awkward()
    path = tmp_path / "unsorted.osm.pbf"
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    for first in (True, False):
        for i, ((x, y), tags) in sorted(nodes.items()):
            if (i < 30) == first:
                writer.add_node(Node(id=i, location=(x, y), tags=tags))
        for k, (refs, tags) in enumerate(ways if first else [], start=1):
            writer.add_way(Way(id=k, nodes=refs, tags=tags))
    writer.close()
    with caplog.at_level(logging.INFO, logger="planner.io.osm"):
        _both(path)
    assert "nodes after ways" in caplog.text


def _entry(field: int, body: bytes) -> bytes:
    size, out = len(body), bytearray([(field << 3) | 2])
    while size >= 0x80:
        out.append(size & 0x7F | 0x80)
        size >>= 7
    return bytes(out) + bytes([size]) + body


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=40), st.integers(1, 4),
       st.binary(max_size=5))
def test_repeated_entries_of_a_group(bodies: list[bytes], field: int, before: bytes) -> None:
    """Entries (lengths of one and two bytes, contents full of key bytes) are found one after
    the other, and a run that does not end where it should is refused."""
    run = b"".join(_entry(field, b) for b in bodies)
    buf = before + run + b"\x1a\x05"
    starts, ends = repeated(buf, len(before), len(before) + len(run), field)
    assert [buf[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)] == bodies
    with pytest.raises((PbfUnsupportedError, IndexError)):
        repeated(buf, len(before), len(before) + len(run) + 1, field)


def test_highway_strings_as_wide_as_before(tmp_path: Path) -> None:
    """The highway array's dtype (string width) is the pyosmium reader's: only walkable ways'
    values count, a longer non-walkable value does not widen it."""
    nodes, ways = _awkward()
    ways.append(([1, 2], {"highway": "construction_site_long_value"}))
    path = _write(tmp_path / "wide.osm.pbf", nodes, ways)
    new, old = read_osm_file(path, CATALOGUE), read_osm_pyosmium(path, CATALOGUE)
    assert new.network.edge_highway.dtype == old.network.edge_highway.dtype == np.dtype("<U11")


def test_flat_ring_in_integer_coordinates(tmp_path: Path) -> None:
    """Three nodes on one line in 1e-7 degrees (not quite, once divided into doubles): no area
    for libosmium, none here (hypothesis found it)."""
    nodes = {1: ((104.0, 30.6001), {}), 4: ((104.0, 30.6004), {}), 19: ((104.0022, 30.6017), {}),
             22: ((104.0024, 30.6006), {}), 37: ((104.0018, 30.6039), {})}
    ways = [([1, 4], {"highway": "footway"}), ([37, 19, 22, 37], {"landuse": "residential"})]
    path = _write(tmp_path / "flat.osm.pbf", nodes, ways)
    assert len(read_osm_file(path, CATALOGUE).residential) == 0
    _both(path)

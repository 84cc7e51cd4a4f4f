"""Reading an .osm.pbf in pieces (all nodes + a run of way blocks each) equals one read of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.io.osm_split import AREA_COST, Blob, PbfLayout, combine_extracts, read_piece, scan_pbf
from tests.conftest import SHARED_OSM

SIDE = 150  # nodes per grid side: 22,350 short ways, more than two blocks of 8,000 ways


def _node(i: int, j: int) -> int:
    return 1 + j * SIDE + i


def _tags(n: int) -> dict[str, str]:
    """Mostly walkable streets, some not walkable (foot=no), all kinds interleaved."""
    if n % 97 == 0:
        return {"highway": "primary", "foot": "no"}
    return {"highway": ("footway", "residential", "service")[n % 3]}


def _write(path: Path) -> None:
    """A grid of streets with residential areas, care POIs as nodes and as closed ways.

    The header box is smaller than the data, so the reader's clipping to it is exercised too.
    """
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(104.0005, 30.6005, 104.0135, 30.6135))
    writer = osmium.SimpleWriter(str(path), 4096 * 1024, header)
    for j in range(SIDE):
        for i in range(SIDE):
            tags = {}
            if (i * SIDE + j) % 499 == 0:
                tags = {"amenity": "clinic"} if i % 2 else {"name": "幸福养老院"}
            writer.add_node(osmium.osm.mutable.Node(id=_node(i, j), tags=tags,
                                                    location=(104.0 + i * 1e-4, 30.6 + j * 1e-4)))
    way = 0
    for j in range(SIDE):
        for i in range(SIDE - 1):
            way += 1
            if way % 41 == 0 and j + 1 < SIDE:  # a closed square: residential land or a care home
                ring = [_node(i, j), _node(i + 1, j), _node(i + 1, j + 1), _node(i, j + 1),
                        _node(i, j)]
                tags = ({"landuse": "residential", "name": f"小区{way}"} if way % 3 else
                        {"amenity": "nursing_home", "building": "residential"})
                writer.add_way(osmium.osm.mutable.Way(id=way, nodes=ring, tags=tags))
            else:
                writer.add_way(osmium.osm.mutable.Way(id=way, nodes=[_node(i, j), _node(i + 1, j)],
                                                      tags=_tags(way)))
    writer.close()


@pytest.fixture(scope="module")
def grid_pbf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split") / "grid.osm.pbf"
    _write(path)
    return path


@pytest.mark.parametrize("pieces", [2, 3])
def test_pieces_put_together_equal_one_read(grid_pbf: Path, tmp_path: Path, pieces: int) -> None:
    whole = read_osm_file(grid_pbf, read_catalogue())
    layout = scan_pbf(grid_pbf)
    assert layout is not None and len(layout.ways) >= 3 and not layout.relations
    runs = layout.way_runs(pieces)
    assert len(runs) == pieces and sum(map(len, runs)) == len(layout.ways)
    got = combine_extracts([read_piece(grid_pbf, layout, run, tmp_path) for run in runs])
    for field in ("node_id", "lon", "lat", "edge_u", "edge_v", "edge_highway", "edge_way_id"):
        np.testing.assert_array_equal(getattr(got.network, field), getattr(whole.network, field))
    assert whole.network.n_edges > 10_000 and len(whole.pois) > 30 and len(whole.residential) > 100
    assert set(whole.pois["facility_id"].str[:5]) == {"osm_n", "osm_w"}  # node and area POIs
    assert got.pois.equals(whole.pois) and got.residential.equals(whole.residential)
    assert got.study_area.equals(whole.study_area)
    assert not list(tmp_path.iterdir())  # piece files are removed


def test_a_piece_without_walkable_way_raises(grid_pbf: Path, tmp_path: Path) -> None:
    layout = scan_pbf(grid_pbf)
    assert layout is not None
    with pytest.raises(InputDataError, match="no walkable way"):
        read_piece(grid_pbf, layout, (), tmp_path)


def test_files_that_cannot_be_split(tmp_path: Path) -> None:
    chengdu = SHARED_OSM / "chengdu_center_2018.osm.pbf"
    if not chengdu.is_file():
        pytest.skip(f"{chengdu} missing")
    layout = scan_pbf(chengdu)
    assert layout is not None and len(layout.relations) == 1  # relations: read whole
    assert scan_pbf(chengdu.with_suffix("")) is None  # XML
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(chengdu.read_bytes()[:5000])
    assert scan_pbf(broken) is None


@settings(max_examples=80, deadline=None)
@given(sizes=st.lists(st.tuples(st.integers(1, 10_000), st.booleans()), min_size=1, max_size=60),
       pieces=st.integers(1, 8))
def test_way_runs_partition_the_blocks_in_runs_of_about_equal_cost(
        sizes: list[tuple[int, bool]], pieces: int) -> None:
    """Runs are consecutive, hold every way block once, are at most ``pieces``, and none costs
    more than its share plus one block (blocks with areas weigh ``AREA_COST`` per byte)."""
    starts = np.cumsum([0, *(s for s, _ in sizes)])
    ways = tuple(Blob(int(a), int(a) + s, "way", areas)
                 for a, (s, areas) in zip(starts, sizes, strict=False))
    layout = PbfLayout(Blob(0, 0, "header"), (), ways, ())
    runs = layout.way_runs(pieces)
    assert [b for run in runs for b in run] == list(ways) and 1 <= len(runs) <= pieces
    total = sum(b.cost for b in ways)
    largest = max(b.cost for b in ways)
    assert all(sum(b.cost for b in run) <= total / pieces + largest for run in runs)
    assert Blob(0, 10, "way", True).cost == 10 * AREA_COST

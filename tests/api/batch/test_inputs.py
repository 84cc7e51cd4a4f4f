"""The batch's whole area read as tasks (OSM pieces + side inputs) equals one read in process."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

from api.batch.cluster import Cluster
from api.batch.config import BatchConfig
from api.batch.inputs import read_area
from planner.io.region_parts import read_whole_area
from planner.io.rules import read_profile
from tests.planner.io.test_osm_split import _write


def test_area_read_in_pieces_on_two_workers_equals_one_read(tmp_path: Path) -> None:
    osm = tmp_path / "grid.osm.pbf"
    _write(osm)
    profile = read_profile("national")
    cfg = BatchConfig(osm=osm, regions=osm, out=str(tmp_path / "out"),
                      params=profile.plan_params(), profile=profile, workers=2)
    said: list[str] = []
    with ExitStack() as stack:
        got = read_area(cfg, tmp_path / "out", Cluster(None, 2, said.append, stack), said.append)
    assert any("in 3 pieces on the cluster" in line for line in said), said  # 3 way blocks
    whole = read_whole_area(osm, cfg.params, zone_settlement=profile.zone_settlement)
    for field in ("node_id", "lon", "lat", "edge_u", "edge_v", "edge_highway", "edge_way_id"):
        np.testing.assert_array_equal(getattr(got.network, field), getattr(whole.network, field))
    assert got.facilities.equals(whole.facilities) and got.residential.equals(whole.residential)
    assert got.units.equals(whole.units) and got.crs == whole.crs and not got.units_given
    assert len(got.units) > 100 and len(got.facilities) > 30

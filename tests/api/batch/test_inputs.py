"""The batch's whole area read as tasks (OSM pieces + side inputs) equals one read in process."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import distributed
import numpy as np
import shapely

from api.batch.cluster import Cluster
from api.batch.config import BatchConfig
from api.batch.inputs import cut_area, read_area
from planner.batch.parts import cut_region, plan_cut
from planner.batch.pieces import NetworkFacts, with_facts
from planner.io.district_files import grid_regions
from planner.io.region_parts import load_own, read_part, read_whole_area
from planner.io.rules import read_profile
from planner.schema import WGS84
from tests.planner.batch.test_pieces import _assert_parts_equal
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


def _assert_reads_spread(stream: list[dict[str, Any]], client: Any) -> None:
    """Each worker read one side input and one OSM piece, and split that piece where it was
    read; the workers run without work stealing, without Dask's malloc trim threshold and
    without its profiler thread."""
    where = {str(t["key"]).rsplit("-", 1)[0]: t["worker"] for t in stream}
    assert where["careplan-side-register"] != where["careplan-side-units"]
    assert where["careplan-osm-piece-0"] != where["careplan-osm-piece-1"]
    for k in (0, 1):
        assert where[f"careplan-osm-split-{k}"] == where[f"careplan-osm-piece-{k}"]
    extensions = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.extensions))
    assert "stealing" not in extensions
    assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
    profiling = client.run(lambda dask_worker: dask_worker.profile_recent["count"])
    assert set(profiling.values()) == {0}  # no stack was sampled on any worker


def test_parts_cut_as_tasks_from_pieces_equal_the_cut_of_one_read(tmp_path: Path) -> None:
    """With a units file and a register, every step of the cut is a task on the 2 workers; the
    part files equal the parts cut here from one read of the whole file."""
    osm = tmp_path / "grid.osm.pbf"
    _write(osm)
    profile = read_profile("national")
    params = profile.plan_params()
    whole = read_whole_area(osm, params, zone_settlement=profile.zone_settlement)
    units = whole.units.to_crs(WGS84).iloc[::2].reset_index(drop=True)  # a units file
    units.to_file(tmp_path / "units.gpkg", driver="GPKG", engine="pyogrio")
    register = whole.facilities.iloc[::3].drop(columns="geometry").assign(
        lon=whole.facilities.geometry.x.iloc[::3], lat=whole.facilities.geometry.y.iloc[::3])
    register.to_csv(tmp_path / "register.csv", index=False)
    regions = grid_regions(shapely.box(*units.total_bounds), 2, 2)
    cfg = BatchConfig(osm=osm, regions=osm, out=str(tmp_path / "out"), params=params,
                      profile=profile, workers=2, units=tmp_path / "units.gpkg",
                      facilities=tmp_path / "register.csv")
    said: list[str] = []
    folder = tmp_path / "out" / "_parts"
    with ExitStack() as stack:
        cluster = Cluster(None, 2, said.append, stack)
        with distributed.get_task_stream(cluster.get()) as stream:
            cut = cut_area(cfg, regions, folder, 500.0, cluster, said.append)
        _assert_reads_spread(stream.data, cluster.get())
    assert any("2 pieces and cut them on the cluster" in line for line in said), said
    assert not (folder / "pieces").exists()  # the pieces' shares are removed after the cut
    here = read_whole_area(osm, params, facilities=cfg.facilities, units=cfg.units,
                           zone_settlement=profile.zone_settlement)
    plan = plan_cut(here.network, regions, here.facilities, here.units, here.residential,
                    halo_m=500.0, crs=here.crs, units_given=True)
    assert cut.crs == here.crs and cut.nodes_total == here.network.n_nodes
    assert len(here.facilities) > 10 and len(cut.entries) == 4
    for r, region_id in enumerate(regions["region_id"]):
        got = with_facts(read_part(folder / cut.entries[region_id]["file"]),
                         load_own(folder / str(cut.facts_file), NetworkFacts))
        want = cut_region(plan, r)
        assert got.network.n_edges > 0 and got.owned_unit_ids == want.owned_unit_ids
        _assert_parts_equal(got, want)

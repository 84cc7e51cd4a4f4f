"""Cut the region parts on the cluster from the OSM file's pieces, all as tasks.

The task graph (``k`` pieces, ``n`` regions; every box is a task, the starting process only
submits and collects small results):

    register ───┬─ side plan (boxes, ownership) ─┐
    units file ─┘                                ├─ split 1..k ─┬─ network facts
    piece 1..k (read) ───────────────────────────┘              └─ part 1..n

The reads do not wait for each other: the register, the units file and the OSM pieces are read
side by side from the start (each worker gets one side read and one piece, so both are busy
throughout), and only the split of a piece by region box waits for the side plan. A piece's
data never leaves the worker that read it: its split runs where the read's result is kept and
writes each region's share to the run's ``_parts/pieces`` folder (shared local disk, or a
shared folder on a real cluster), and each part task reads its region's shares from it. Only
the small facts (boxes, CRS, node count) and the side plan travel between processes; the ids
of the nodes off the network's main part are written beside the parts and applied by each
region task.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from dask.sizeof import sizeof

from api.batch.outputs import safe_name
from planner.batch.pieces import (
    PieceShare,
    SidePlan,
    assemble_part,
    network_facts,
    plan_side,
    split_piece,
)
from planner.io.osm import OsmExtract
from planner.io.osm_split import PbfLayout, read_piece
from planner.io.region_parts import (
    SideInputs,
    dump_atomically,
    load_own,
    read_side_inputs,
    write_part,
)
from planner.schema import RawNetwork

#: The whole network's facts (:class:`planner.batch.pieces.NetworkFacts`) in the parts folder;
#: each region task applies them to its part.
FACTS_FILE = "network_facts.pkl"


def side_task(box: Any, options: dict[str, Any]) -> tuple[SideInputs, list[Any]]:
    """Read (part of) the register and units file; also return the warnings raised meanwhile."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        side = read_side_inputs(box, **options)
    return side, [(w.message, w.category) for w in seen]


def side_notes(read: tuple[SideInputs, list[Any]]) -> tuple[pd.DataFrame | None, list[Any]]:
    """The small part of a side read the starting process needs: hierarchy and warnings."""
    return read[0].hierarchy, read[1]


def _sizeof_side(side: SideInputs) -> int:
    """Bytes of a side read, so that Dask runs its users where it is instead of moving it."""
    frames = (side.facilities, side.units, side.hierarchy)
    return sum(int(sizeof(f)) for f in frames if f is not None)


_register: Any = sizeof.register  # dask.sizeof is untyped
_register(SideInputs)(_sizeof_side)


def side_plan_task(register: tuple[SideInputs, list[Any]], units: tuple[SideInputs, list[Any]],
                   regions: gpd.GeoDataFrame, halo_m: float) -> SidePlan:
    """Boxes and ownership from the register's and the units file's read results."""
    assert units[0].units is not None  # only runs with a units file come here
    return plan_side(regions, register[0].facilities, units[0].units, halo_m)


def _skeleton(net: RawNetwork) -> RawNetwork:
    """The nodes and segment ends of ``net`` (what the network facts need)."""
    return RawNetwork(net.node_id, net.lon, net.lat, net.edge_u, net.edge_v,
                      np.empty(0, dtype="<U1"), np.empty(0, dtype=np.int64))


def read_task(osm: Path, layout: PbfLayout, run: tuple[Any, ...], folder: Path) -> OsmExtract:
    """Read one piece of the OSM file (kept in its worker's memory for :func:`split_task`)."""
    return read_piece(osm, layout, run, folder)


def _sizeof_extract(extract: OsmExtract) -> int:
    """Bytes of a piece's extract, so that Dask runs its split where it is instead of moving it."""
    net = extract.network
    arrays = (net.node_id, net.lon, net.lat, net.edge_u, net.edge_v, net.edge_highway,
              net.edge_way_id)
    return sum(a.nbytes for a in arrays) + sum(
        int(sizeof(f)) for f in (extract.pois, extract.residential))


_register(OsmExtract)(_sizeof_extract)


def split_task(extract: OsmExtract, register: tuple[SideInputs, list[Any]],
               units: tuple[SideInputs, list[Any]], regions: gpd.GeoDataFrame, halo_m: float,
               folder: Path, k: int) -> str:
    """Split piece ``k`` by region box; write each region's share and the piece's skeleton
    network (runs on the worker that read the piece: its data never leaves it).

    The side plan is made here again (0.2 s at 67,811 facilities and 33,507 units) rather than
    waited for: a plan task would wait behind a piece read on a busy worker.
    """
    side = side_plan_task(register, units, regions, halo_m)
    pois = extract.pois if side.facilities is None else None
    shares = split_piece(extract.network, pois, extract.residential, side, first=k == 0)
    target = folder / "pieces" / str(k)
    for r, share in enumerate(shares):
        dump_atomically(share, target / f"{r}.pkl")
    dump_atomically(_skeleton(extract.network), target / "network.pkl")
    return str(target)


def facts_task(pieces: list[str], target: Path) -> tuple[str, int]:
    """Write the whole network's facts to ``target``; return its CRS and node count."""
    facts = network_facts([load_own(Path(p) / "network.pkl", RawNetwork) for p in pieces])
    dump_atomically(facts, target)
    return facts.crs, facts.n_nodes


def part_task(side: SidePlan, r: int, pieces: list[str],
              folder: Path) -> tuple[str, dict[str, Any]]:
    """Put the ``r``-th region's part together from the pieces' shares and write it."""
    shares = [load_own(Path(p) / f"{r}.pkl", PieceShare) for p in pieces]
    part = assemble_part(side, r, shares)
    name = f"{safe_name(part.region_id)}.pkl"
    digest = write_part(part, folder / name)
    return part.region_id, {"file": name, "sha256": digest, "nodes": part.network.n_nodes,
                            "units": len(part.owned_unit_ids)}


def submit_cut(client: Any, osm: Path, layout: PbfLayout, runs: list[Any], box: Any,
               options: dict[str, Any], regions: gpd.GeoDataFrame, halo_m: float,
               folder: Path) -> dict[str, Any]:
    """Submit the whole graph; return the futures of the side reads, the facts and the parts."""
    stamp = time.time_ns()
    opts = {"register": {k: options[k] for k in ("facilities", "coords")},
            "units": {k: options[k] for k in ("units", "units_coords", "zone_settlement")}}

    def submit(fn: Any, *args: Any, name: str) -> Any:
        return client.submit(fn, *args, pure=False, key=f"careplan-{name}-{stamp}")

    # each worker gets one side read and then one piece, pinned (allow_other_workers lets a
    # task run elsewhere when its worker is lost): left to itself Dask started both side reads
    # and ran the pieces after them, or sent the pieces after the side plan's worker
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])

    def pinned(fn: Any, *args: Any, name: str, at: int) -> Any:
        return client.submit(fn, *args, pure=False, key=f"careplan-{name}-{stamp}",
                             workers=[workers[at % len(workers)]], allow_other_workers=True)

    side = {n: pinned(side_task, box, o, name=f"side-{n}", at=i)
            for i, (n, o) in enumerate(opts.items())}
    notes = {n: submit(side_notes, read, name=f"side-notes-{n}") for n, read in side.items()}
    # the first piece (node POIs, the larger split) beside the units file (the shorter read)
    reads = [pinned(read_task, osm, layout, run, folder, name=f"osm-piece-{k}", at=k + 1)
             for k, run in enumerate(runs)]
    splits = [pinned(split_task, read, side["register"], side["units"], regions, halo_m,
                     folder, k, name=f"osm-split-{k}", at=k + 1)
              for k, read in enumerate(reads)]
    plan = submit(side_plan_task, side["register"], side["units"], regions, halo_m,
                  name="side-plan")  # for the parts; its place in the queue does not matter
    facts = submit(facts_task, splits, folder / FACTS_FILE, name="network-facts")
    parts = [submit(part_task, plan, r, splits, folder, name=f"cut-{r}")
             for r in range(len(regions))]
    return {"side": side, "notes": notes, "facts": facts, "parts": parts, "reads": reads,
            "all": [plan, *splits]}


def collect_cut(futures: dict[str, Any], folder: Path
                ) -> tuple[pd.DataFrame | None, tuple[str, int], dict[str, Any]]:
    """Wait for the graph: the units file's hierarchy (the side reads' warnings raised here),
    the network's CRS and node count, the parts' entries."""
    for read in futures["reads"]:  # split: the pieces' data is no longer needed
        read.release()
    _, seen_r = futures["notes"]["register"].result()
    hierarchy, seen_u = futures["notes"]["units"].result()
    for message, category in [*seen_r, *seen_u]:
        warnings.warn(message, category, stacklevel=2)
    entries = dict(f.result() for f in futures["parts"])
    crs, nodes = futures["facts"].result()
    for future in [*futures["side"].values(), *futures["notes"].values(), futures["facts"],
                   *futures["parts"], *futures["all"]]:
        future.release()
    shutil.rmtree(folder / "pieces", ignore_errors=True)
    return hierarchy, (crs, nodes), entries

"""Way vertices of the synthetic demo district and their assembly into a deduplicated segment network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from planner.synthetic.lattice import Lattice, map_blocks

HIGHWAYS: tuple[str, ...] = (
    "primary",
    "secondary",
    "tertiary",
    "residential",
    "service",
    "unclassified",
    "track",
    "footway",
    "steps",
)
HW = {name: code for code, name in enumerate(HIGHWAYS)}
#: Highway code of vertices inserted into another way: the way's own class applies.
INHERIT = -1
#: Offsets that make synthetic ids look like OSM ids without colliding with real ones.
NODE_ID_BASE = 9_000_000_000
WAY_ID_BASE = 900_000_000
_DROP_SHARE = 0.08
#: Vertex columns of :class:`WayPoints`: block, u, v, way, order, highway, droppable.
Columns: TypeAlias = tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.int8],
    NDArray[np.bool_],
]


class WayPoints:
    """Collector of way vertices in block-local (u, v) coordinates.

    Every vertex belongs to one way (``way`` key) at a position along it (``order``); vertices
    of different ways at bit-identical coordinates become one network node.
    """

    def __init__(self) -> None:
        self._parts: list[Columns] = []
        self._next_way = 0

    def new_ways(self, n: int) -> NDArray[np.int64]:
        """Reserve ``n`` fresh way keys."""
        keys = np.arange(self._next_way, self._next_way + n, dtype=np.int64)
        self._next_way += n
        return keys

    def add(
        self,
        block: object,
        u: object,
        v: object,
        way: object,
        order: object,
        highway: object,
        *,
        droppable: bool = False,
    ) -> None:
        """Add vertices (arguments broadcast together); vertices with ``way < 0`` are skipped."""
        arrays = np.broadcast_arrays(
            np.asarray(block, dtype=np.int64),
            np.asarray(u, dtype=np.float64),
            np.asarray(v, dtype=np.float64),
            np.asarray(way, dtype=np.int64),
            np.asarray(order, dtype=np.float64),
            np.asarray(highway, dtype=np.int8),
        )
        flat = [a.ravel() for a in arrays]
        keep = (flat[3] >= 0) & np.isfinite(flat[1]) & np.isfinite(flat[2])
        drop_flag = np.full(int(keep.sum()), droppable)
        block_k, u_k, v_k, way_k, order_k, hw_k = (a[keep] for a in flat)
        self._parts.append((block_k, u_k, v_k, way_k, order_k, hw_k, drop_flag))

    def arrays(self) -> Columns:
        """Concatenated (block, u, v, way, order, highway, droppable) arrays."""
        block, u, v, way, order, hw, drop = (
            np.concatenate([p[k] for p in self._parts]) for k in range(7)
        )
        return block, u, v, way, order, hw, drop


@dataclass(frozen=True, slots=True)
class Sides:
    """Arterial sides of every block: way key (-1 where there is no road) and highway code.

    ``h_way[i, j]`` runs from corner (i, j) to (i + 1, j); ``v_way[i, j]`` from (i, j) to (i, j + 1).
    """

    h_way: NDArray[np.int64]
    v_way: NDArray[np.int64]
    h_hw: NDArray[np.int8]
    v_hw: NDArray[np.int8]


def _side_class(
    rng: np.random.Generator,
    line: NDArray[np.int64],
    urban: NDArray[np.bool_],
    inside: NDArray[np.bool_],
) -> tuple[NDArray[np.bool_], NDArray[np.int8]]:
    """Presence and highway of sides given their lattice line number and neighbour classes."""
    even = line % 2 == 0
    track_line = rng.random(int(line.max()) + 1) < 0.5
    rural_hw = np.where(
        even,
        np.where(line % 6 == 0, HW["secondary"], HW["unclassified"]),
        np.where(track_line[line], HW["track"], HW["unclassified"]),
    )
    hw = np.where(urban, np.where(line % 3 == 0, HW["primary"], HW["secondary"]), rural_hw)
    present = inside & (urban | (rng.random(line.shape) < np.where(even, 0.92, 0.4)))
    return present, hw.astype(np.int8)


def _pad(mask: NDArray[np.bool_], axis: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Neighbour masks on both sides of the sides normal to ``axis``."""
    width = [(0, 0), (0, 0)]
    width[axis] = (1, 1)
    padded = np.pad(mask, width)
    lo = padded[:-1, :] if axis == 0 else padded[:, :-1]
    hi = padded[1:, :] if axis == 0 else padded[:, 1:]
    return lo, hi


def _run_keys(
    builder: WayPoints, present: NDArray[np.bool_], hw: NDArray[np.int8]
) -> NDArray[np.int64]:
    """Way keys per side: one way per run of present sides of one class along a lattice line.

    ``present`` and ``hw`` are line-major, shape (n_lines, n_sides_per_line).
    """
    prev_present = np.pad(present, ((0, 0), (1, 0)))[:, :-1]
    prev_hw = np.pad(hw, ((0, 0), (1, 0)), constant_values=-1)[:, :-1]
    start = present & (~prev_present | (prev_hw != hw))
    run = np.cumsum(start.ravel()).reshape(present.shape) - 1
    keys = builder.new_ways(int(start.sum()))
    return np.where(present, keys[np.maximum(run, 0)], -1)


def build_sides(
    rng: np.random.Generator, builder: WayPoints, lattice: Lattice, forced: NDArray[np.bool_]
) -> Sides:
    """Decide which arterial sides exist and emit their end vertices.

    Sides touching the urban core are primary (every third line) or secondary; rural sides are
    secondary/unclassified on even lines (92 % present) and unclassified/track on odd lines (40 %).
    Sides of ``forced`` blocks (town seats) always exist; the four sides at the remote corner never.
    """
    nx, ny = lattice.shape
    inc_lo, inc_hi = _pad(lattice.included, 1)
    urb_lo, urb_hi = _pad(lattice.core, 1)
    frc_lo, frc_hi = _pad(forced, 1)
    h_line = np.broadcast_to(np.arange(ny + 1), (nx, ny + 1))
    h_present, h_hw = _side_class(rng, h_line, urb_lo | urb_hi, inc_lo | inc_hi)
    h_present |= frc_lo | frc_hi
    inc_lo, inc_hi = _pad(lattice.included, 0)
    urb_lo, urb_hi = _pad(lattice.core, 0)
    frc_lo, frc_hi = _pad(forced, 0)
    v_line = np.broadcast_to(np.arange(nx + 1)[:, None], (nx + 1, ny))
    v_present, v_hw = _side_class(rng, v_line, urb_lo | urb_hi, inc_lo | inc_hi)
    v_present |= frc_lo | frc_hi
    ri, rj = lattice.remote_corner
    h_present[ri - 1 : ri + 1, rj] = False
    v_present[ri, rj - 1 : rj + 1] = False
    h_way = _run_keys(builder, h_present.T, h_hw.T).T
    v_way = _run_keys(builder, v_present, v_hw)
    _emit_side_ends(builder, lattice, h_way, v_way, h_hw, v_hw)
    return Sides(h_way, v_way, h_hw, v_hw)


def _emit_side_ends(
    builder: WayPoints,
    lattice: Lattice,
    h_way: NDArray[np.int64],
    v_way: NDArray[np.int64],
    h_hw: NDArray[np.int8],
    v_hw: NDArray[np.int8],
) -> None:
    """Emit both end corners of every present side, in the coordinates of an adjacent block."""
    nx, ny = lattice.shape
    i, j = np.meshgrid(np.arange(nx), np.arange(ny + 1), indexing="ij")
    top = j == ny
    block = i * ny + np.where(top, ny - 1, j)
    for t in (0.0, 1.0):
        builder.add(block, t, np.where(top, 1.0, 0.0), h_way, i + t, h_hw)
    i, j = np.meshgrid(np.arange(nx + 1), np.arange(ny), indexing="ij")
    right = i == nx
    block = np.where(right, nx - 1, i) * ny + j
    for t in (0.0, 1.0):
        builder.add(block, np.where(right, 1.0, 0.0), t, v_way, j + t, v_hw)


@dataclass(frozen=True, slots=True)
class Network:
    """Assembled segments in metres, before projection to WGS-84.

    Attributes
    ----------
    x_m, y_m
        Node coordinates, local metric frame.
    edge_u, edge_v
        Node positions of each segment's ends.
    edge_hw
        Highway code (index into ``HIGHWAYS``).
    edge_way
        Way id.
    edge_block
        Block (flat index) owning the segment; a point moved from the segment towards this
        block's centre stays inside the block.
    """

    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_hw: NDArray[np.int8]
    edge_way: NDArray[np.int64]
    edge_block: NDArray[np.int64]


def _merge_nodes(
    x_m: NDArray[np.float64], y_m: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Node index per vertex (vertices within the same centimetre cell merge) and first vertex per node."""
    qx = np.round(x_m * 100).astype(np.int64) + (1 << 30)
    qy = np.round(y_m * 100).astype(np.int64) + (1 << 30)
    _, first, node = np.unique((qx << 31) | qy, return_index=True, return_inverse=True)
    return node.ravel(), first


def assemble_network(rng: np.random.Generator, builder: WayPoints, lattice: Lattice) -> Network:
    """Turn collected vertices into segments: merge nodes, chain ways, drop self-loops and repeats.

    A share of droppable segments (open-street residential lines) is removed as missing links;
    nodes left without segments are removed.
    """
    block, u, v, way, order, hw, droppable = builder.arrays()
    x_m, y_m = map_blocks(lattice, block, u, v)
    node, first = _merge_nodes(x_m, y_m)
    seq = np.lexsort((order, way))
    a, b = seq[:-1], seq[1:]
    same = way[a] == way[b]
    a, b = a[same], b[same]
    na, nb = node[a], node[b]
    keep = na != nb
    keep &= ~(droppable[a] & (rng.random(a.size) < _DROP_SHARE))
    a, b, na, nb = a[keep], b[keep], na[keep], nb[keep]
    pair = np.minimum(na, nb) * (int(node.max()) + 1) + np.maximum(na, nb)
    _, uniq = np.unique(pair, return_index=True)
    uniq.sort()
    a, b, na, nb = a[uniq], b[uniq], na[uniq], nb[uniq]
    used = np.zeros(first.size, dtype=bool)
    used[na] = used[nb] = True
    new_index = np.cumsum(used) - 1
    way_hw = np.full(int(way.max()) + 1, INHERIT, dtype=np.int8)
    np.maximum.at(way_hw, way, hw)
    _, way_rank = np.unique(way[a], return_inverse=True)
    return Network(
        x_m=x_m[first[used]],
        y_m=y_m[first[used]],
        edge_u=new_index[na],
        edge_v=new_index[nb],
        edge_hw=way_hw[way[a]],
        edge_way=way_rank.ravel().astype(np.int64) + WAY_ID_BASE,
        edge_block=block[a],
    )

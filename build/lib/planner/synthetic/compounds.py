"""Gated residential compounds (小区), open blocks and mid-block passages of the synthetic demo district."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.synthetic.blocks import (
    DIAGONAL,
    GATED,
    Cells,
    attach_to_sides,
    emit_template,
    snap_uv,
)
from planner.synthetic.streets import HW, WayPoints

# Ring compound template in cell-local (p, q); m is the ring inset, filled in per compound.
_M = -1.0
_RING_P = [
    _M,
    0.5,
    1 - _M,
    1 - _M,
    1 - _M,
    0.5,
    _M,
    _M,
    0.5,
    0.5,
    1.0,
    0.5,
    0.0,
    0.5,
    0.5,
    0.3,
    0.7,
    0.3,
    0.7,
    0.58,
]
_RING_Q = [
    _M,
    _M,
    _M,
    0.5,
    1 - _M,
    1 - _M,
    1 - _M,
    0.5,
    0.5,
    0.0,
    0.5,
    1.0,
    0.5,
    0.35,
    0.65,
    0.35,
    0.35,
    0.65,
    0.65,
    0.5,
]
_GATES = ([9, 1], [10, 3], [11, 5], [12, 7])  # bottom, right, top, left gate stubs
_GATE_POINT = (9, 10, 11, 12)


@dataclass(frozen=True, slots=True)
class ResidentialCells:
    """Cells that hold housing: their rows in :class:`Cells` and kind (``gated`` or ``open``)."""

    cell: NDArray[np.int64]
    gated: NDArray[np.bool_]


def _ring_points(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Template points for ``n`` compounds with ring insets of 16-24 % of the cell."""
    inset = rng.uniform(0.16, 0.24, (n, 1))
    p, q = np.array(_RING_P)[None, :], np.array(_RING_Q)[None, :]
    p = np.where(p == _M, inset, np.where(p == 1 - _M, 1 - inset, p))
    q = np.where(q == _M, inset, np.where(q == 1 - _M, 1 - inset, q))
    return p, q


def _compound_ways(
    rng: np.random.Generator, n: int
) -> tuple[list[tuple[list[int], NDArray[np.int64] | int]], NDArray[np.bool_]]:
    """Template ways and which of them each compound has (1-2 gates, optional spine)."""
    n_gates = 1 + (rng.random(n) < 0.45)
    rank = np.argsort(np.argsort(rng.random((n, 4)), axis=1), axis=1)
    gate_on = rank < n_gates[:, None]
    second_hw = np.where(rng.random(n) < 0.5, HW["footway"], HW["service"])
    spine = rng.random(n) < 0.7
    steps = np.where(rng.random(n) < 0.2, HW["steps"], HW["footway"])
    ways: list[tuple[list[int], NDArray[np.int64] | int]] = [
        ([0, 1, 2, 3, 4, 5, 6, 7, 0], HW["service"]),
        ([1, 13, 8, 14, 5], HW["service"]),
        ([7, 8], HW["footway"]),
        ([8, 19], steps),
        ([19, 3], HW["footway"]),
        ([13, 15], HW["footway"]),
        ([13, 16], HW["footway"]),
        ([14, 17], HW["footway"]),
        ([14, 18], HW["footway"]),
    ]
    mask = np.ones((n, len(ways) + 4), dtype=bool)
    mask[:, 1] = spine
    mask[:, 5:9] = spine[:, None]
    for g, stub in enumerate(_GATES):
        hw = np.where(rank[:, g] == 0, HW["service"], second_hw)
        ways.append((stub, hw))
    mask[:, 9:] = gate_on
    return ways, mask


def emit_compounds(
    rng: np.random.Generator, builder: WayPoints, cells: Cells, pick: NDArray[np.int64]
) -> None:
    """Emit service rings, spines, footways and 1-2 gates of the compounds in cells ``pick``."""
    sub = _subset(cells, pick)
    p, q = _ring_points(rng, pick.size)
    u, v = sub.to_uv(p, q)
    u, v = snap_uv(u), snap_uv(v)
    ways, mask = _compound_ways(rng, pick.size)
    emit_template(builder, sub.block, u, v, ways, mask)
    for side, point in enumerate(_GATE_POINT):
        attach_to_sides(
            builder,
            cells,
            pick,
            np.full(pick.size, side),
            u[:, point],
            v[:, point],
            mask[:, 9 + side],
        )


def emit_passages(
    rng: np.random.Generator, builder: WayPoints, cells: Cells, pick: NDArray[np.int64]
) -> None:
    """Emit mid-block footpaths (some with a flight of steps) across cells ``pick``."""
    sub = _subset(cells, pick)
    p = np.full((pick.size, 4), 0.5)
    q = np.broadcast_to(np.array([0.0, 0.45, 0.55, 1.0]), (pick.size, 4))
    u, v = sub.to_uv(p, q)
    u, v = snap_uv(u), snap_uv(v)
    steps = np.where(rng.random(pick.size) < 0.3, HW["steps"], HW["footway"])
    emit_template(
        builder,
        sub.block,
        u,
        v,
        [([0, 1], HW["footway"]), ([1, 2], steps), ([2, 3], HW["footway"])],
    )
    enabled = np.ones(pick.size, dtype=bool)
    attach_to_sides(
        builder, cells, pick, np.zeros(pick.size, dtype=np.int64), u[:, 0], v[:, 0], enabled
    )
    attach_to_sides(builder, cells, pick, np.full(pick.size, 2), u[:, 3], v[:, 3], enabled)


def _subset(cells: Cells, pick: NDArray[np.int64]) -> Cells:
    return Cells(*(getattr(cells, f)[pick] for f in Cells.__slots__))


def emit_cells(rng: np.random.Generator, builder: WayPoints, cells: Cells) -> ResidentialCells:
    """Fill cells: 80 % of gated-block cells are compounds; open cells get housing and passages.

    Returns
    -------
    ResidentialCells
        Cells holding housing (compounds and 65 % of open, non-diagonal cells).
    """
    draw = rng.random(cells.block.size)
    gated = cells.kind == GATED
    compound = np.flatnonzero(gated & (draw < 0.8))
    emit_compounds(rng, builder, cells, compound)
    open_ok = ~gated & (cells.kind != DIAGONAL)
    passage = np.flatnonzero(open_ok & (rng.random(cells.block.size) < 0.2))
    emit_passages(rng, builder, cells, passage)
    housing = np.flatnonzero(open_ok & (draw < 0.65))
    cell = np.concatenate([compound, housing])
    return ResidentialCells(cell, np.arange(cell.size) < compound.size)


def cell_outlines(
    cells: Cells, pick: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Block and block-local outline (16 vertices, closed) of cells ``pick``, inset by 6 % of the cell."""
    sub = _subset(cells, pick)
    t = np.linspace(0.06, 0.94, 5)[:-1]
    p = np.concatenate([t, np.full(4, 0.94), t[::-1] + 0.22, np.full(4, 0.06)])
    q = np.concatenate([np.full(4, 0.06), t, np.full(4, 0.94), t[::-1] + 0.22])
    p, q = np.append(p, p[0]), np.append(q, q[0])
    u, v = sub.to_uv(
        np.broadcast_to(p, (pick.size, p.size)), np.broadcast_to(q, (pick.size, q.size))
    )
    return sub.block, u, v

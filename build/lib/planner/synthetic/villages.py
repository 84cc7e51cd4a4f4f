"""Village clusters, field tracks and town seats in the rural fringe of the synthetic demo district."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.synthetic.blocks import emit_template, snap_uv
from planner.synthetic.lattice import Lattice
from planner.synthetic.streets import HW, INHERIT, Sides, WayPoints

# Village template, offsets in block units around the village centre; point 2 is the centre.
_VILLAGE_X = [-0.22, -0.1, 0.0, 0.1, 0.22, -0.12, -0.14, 0.12, 0.08, 0.3, 0.36, 0.0]
_VILLAGE_Y = [0.03, 0.0, 0.0, 0.0, -0.04, 0.12, 0.21, 0.1, -0.1, -0.1, -0.2, 0.14]
_VILLAGE_WAYS: list[tuple[list[int], NDArray[np.int64] | int]] = [
    ([0, 1, 2, 3, 4], HW["residential"]),
    ([1, 5, 6], HW["service"]),
    ([3, 7], HW["service"]),
    ([3, 8], HW["footway"]),
    ([4, 9, 10], HW["track"]),
    ([5, 11, 7], HW["footway"]),
]


def remote_blocks(lattice: Lattice) -> NDArray[np.int64]:
    """Flat indices of the four blocks around the remote corner (kept roadless)."""
    ri, rj = lattice.remote_corner
    ny = lattice.shape[1]
    return np.array([(ri - 1) * ny + rj - 1, (ri - 1) * ny + rj, ri * ny + rj - 1, ri * ny + rj])


def find_seats(
    lattice: Lattice, unit_of_block: NDArray[np.int64], table: pd.DataFrame
) -> NDArray[np.int64]:
    """One town-seat block per town: the rural block nearest the town's mean unit centre."""
    cx, cy = (c.ravel() for c in lattice.block_centres_m())
    rural = (lattice.included & ~lattice.core).ravel()
    rural[remote_blocks(lattice)] = False
    blocks = np.flatnonzero(rural)
    town = table["parent"].to_numpy()[unit_of_block[blocks]]
    towns = (
        table[table["settlement"] == "rural"].groupby("parent")[["centre_x_m", "centre_y_m"]].mean()
    )
    dist = np.hypot(
        cx[blocks] - towns.loc[town, "centre_x_m"].to_numpy(),
        cy[blocks] - towns.loc[town, "centre_y_m"].to_numpy(),
    )
    order = np.lexsort((dist, town))
    first = np.unique(town[order], return_index=True)[1]
    return blocks[order[first]]


def _side_choice(
    rng: np.random.Generator, sides: Sides, block: NDArray[np.int64], ny: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Pick a present side per block (bottom, right, top, left), preferring even lattice lines."""
    i, j = np.divmod(block, ny)
    keys = np.column_stack(
        [sides.h_way[i, j], sides.v_way[i + 1, j], sides.h_way[i, j + 1], sides.v_way[i, j]]
    )
    line = np.column_stack([j, i + 1, j + 1, i])
    score = (keys >= 0) * (2.0 + (line % 2 == 0)) + rng.random(keys.shape)
    side = np.argmax(score, axis=1)
    rows = np.arange(block.size)
    offset = np.where(side % 2 == 0, i, j).astype(np.float64)
    return side, np.where(score[rows, side] >= 2.0, keys[rows, side], -1), offset


def pick_village_blocks(
    rng: np.random.Generator,
    lattice: Lattice,
    unit_of_block: NDArray[np.int64],
    seats: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Blocks holding a village cluster: the central block of every village plus 30 % of the rest."""
    cx, cy = (c.ravel() for c in lattice.block_centres_m())
    rural = (lattice.included & ~lattice.core).ravel()
    rural[remote_blocks(lattice)] = False
    rural[seats] = False
    blocks = np.flatnonzero(rural)
    unit = unit_of_block[blocks]
    counts = np.bincount(unit)
    mx = np.bincount(unit, cx[blocks])[unit] / counts[unit]
    my = np.bincount(unit, cy[blocks])[unit] / counts[unit]
    order = np.lexsort((np.hypot(cx[blocks] - mx, cy[blocks] - my), unit))
    central = np.zeros(blocks.size, dtype=bool)
    central[order[np.unique(unit[order], return_index=True)[1]]] = True
    return blocks[central | (rng.random(blocks.size) < 0.3)]


def emit_villages(
    rng: np.random.Generator, builder: WayPoints, sides: Sides, block: NDArray[np.int64], ny: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Emit village lanes with a connector road to a present side; return village outlines.

    Returns
    -------
    tuple
        Block, block-local u and v of each village outline (11 vertices, closed).
    """
    side, key, offset = _side_choice(rng, sides, block, ny)
    block, side, key, offset = block[key >= 0], side[key >= 0], key[key >= 0], offset[key >= 0]
    n = block.size
    centre = rng.uniform(0.38, 0.62, (n, 2))
    scale = rng.uniform(0.7, 0.8, (n, 1))
    angle = (side * np.pi / 2)[:, None]
    x = np.array(_VILLAGE_X)[None, :] * scale + rng.uniform(-0.015, 0.015, (n, len(_VILLAGE_X)))
    y = np.array(_VILLAGE_Y)[None, :] * scale + rng.uniform(-0.015, 0.015, (n, len(_VILLAGE_Y)))
    x[:, 2] = y[:, 2] = 0.0
    u = snap_uv(centre[:, :1] + np.cos(angle) * x - np.sin(angle) * y)
    v = snap_uv(centre[:, 1:] + np.sin(angle) * x + np.cos(angle) * y)
    emit_template(builder, block, u, v, _VILLAGE_WAYS)
    end_u = np.select([side == 1, side == 3], [1.0, 0.0], u[:, 2])
    end_v = np.select([side == 0, side == 2], [0.0, 1.0], v[:, 2])
    conn = builder.new_ways(n)
    hw = np.where(rng.random(n) < 0.5, HW["unclassified"], HW["residential"])
    builder.add(
        block[:, None],
        np.column_stack([u[:, 2], end_u]),
        np.column_stack([v[:, 2], end_v]),
        conn[:, None],
        np.array([[0.0, 1.0]]),
        hw[:, None],
    )
    builder.add(block, end_u, end_v, key, offset + np.where(side % 2 == 0, end_u, end_v), INHERIT)
    ring = np.linspace(0, 2 * np.pi, 11)
    radius = rng.uniform(0.85, 1.15, (n, 11)) * scale
    radius[:, -1] = radius[:, 0]
    ou = (
        centre[:, :1]
        + 0.3 * radius * np.cos(ring) * np.abs(np.cos(angle))
        + 0.2 * radius * np.sin(ring) * np.abs(np.sin(angle))
    )
    ov = (
        centre[:, 1:]
        + 0.2 * radius * np.sin(ring) * np.abs(np.cos(angle))
        + 0.3 * radius * np.cos(ring) * np.abs(np.sin(angle))
    )
    return block, ou, ov


def emit_tracks(
    rng: np.random.Generator, builder: WayPoints, sides: Sides, block: NDArray[np.int64], ny: int
) -> None:
    """Field tracks crossing 30 % of empty rural blocks bottom to top, joined to present sides."""
    block = block[rng.random(block.size) < 0.3]
    i, j = np.divmod(block, ny)
    bottom, top = sides.h_way[i, j], sides.h_way[i, j + 1]
    keep = (bottom >= 0) | (top >= 0)
    block, i, bottom, top = block[keep], i[keep], bottom[keep], top[keep]
    u = np.round(rng.uniform(0.3, 0.7, block.size) * 200) / 200
    keys = builder.new_ways(block.size)
    ends = np.array([[0.0, 1.0]])
    builder.add(block[:, None], u[:, None], ends, keys[:, None], ends, HW["track"])
    builder.add(block, u, 0.0, bottom, i + u, INHERIT)
    builder.add(block, u, 1.0, top, i + u, INHERIT)

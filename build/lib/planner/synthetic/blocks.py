"""Street-lined blocks of the synthetic demo district: local streets, gated compounds, open blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from planner.synthetic.streets import HW, INHERIT, Sides, WayPoints

GATED, OPEN, CURVED, DIAGONAL = 0, 1, 2, 3
_GRID = 400.0

_ScalarT = TypeVar("_ScalarT", bound=np.generic)


@dataclass(frozen=True, slots=True)
class LinedBlocks:
    """Blocks cut by local streets; line arrays are padded to 5: side, up to 3 lines, side, NaN.

    Attributes
    ----------
    block
        Flat block index, shape (s,).
    kind
        ``GATED``, ``OPEN``, ``CURVED`` or ``DIAGONAL``.
    u_line, amp, v_line
        Positions (block-local) of vertical lines, their bulge, and of horizontal lines, (s, 5).
    v_key, v_off, h_key, h_off
        Way key of each vertical / horizontal line and the offset added to its order.
    """

    block: NDArray[np.int64]
    kind: NDArray[np.int64]
    u_line: NDArray[np.float64]
    amp: NDArray[np.float64]
    v_line: NDArray[np.float64]
    v_key: NDArray[np.int64]
    v_off: NDArray[np.float64]
    h_key: NDArray[np.int64]
    h_off: NDArray[np.float64]
    n_u: NDArray[np.int64]
    n_v: NDArray[np.int64]

    def local(self, values: NDArray[_ScalarT], *, vertical: bool, fill: float) -> NDArray[_ScalarT]:
        """The (s, 3) slice of a padded line array restricted to local lines (sides -> ``fill``)."""
        n = self.n_u if vertical else self.n_v
        return np.where(np.arange(3)[None, :] < n[:, None], values[:, 1:4], fill)


def curve_u(
    u0: NDArray[np.float64], amp: NDArray[np.float64], v: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """Block-local u of a vertical line at ``u0`` bulging by ``amp`` at height ``v``."""
    return u0 + amp * np.sin(np.pi * v)


def _line_positions(rng: np.random.Generator, n: NDArray[np.int64]) -> NDArray[np.float64]:
    """Padded positions (side 0, lines, side 1, NaN) of ``n`` evenly spread, jittered lines."""
    k = np.arange(3)
    base = (k[None, :] + 1) / (n[:, None] + 1) + rng.uniform(-0.05, 0.05, (n.size, 3))
    lines = np.where(k[None, :] < n[:, None], np.round(base * 200) / 200, np.nan)
    out = np.full((n.size, 5), np.nan)
    out[:, 0] = 0.0
    out[:, 1:4] = lines
    out[np.arange(n.size), n + 1] = 1.0
    return out


def _line_keys(
    builder: WayPoints,
    sides: Sides,
    block: NDArray[np.int64],
    n: NDArray[np.int64],
    ny: int,
    *,
    vertical: bool,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Way keys and order offsets of the padded line arrays (sides use the lattice ways)."""
    i, j = np.divmod(block, ny)
    keys = np.full((block.size, 5), -1, dtype=np.int64)
    off = np.zeros((block.size, 5))
    keys[:, 1:4] = builder.new_ways(block.size * 3).reshape(-1, 3)
    rows = np.arange(block.size)
    low = sides.v_way[i, j] if vertical else sides.h_way[i, j]
    high = sides.v_way[i + 1, j] if vertical else sides.h_way[i, j + 1]
    keys[:, 1:4] = np.where(np.arange(3)[None, :] < n[:, None], keys[:, 1:4], -1)
    keys[:, 0], keys[rows, n + 1] = low, high
    off[:, 0] = off[rows, n + 1] = j if vertical else i
    return keys, off


def plan_lined_blocks(
    rng: np.random.Generator,
    builder: WayPoints,
    sides: Sides,
    urban: NDArray[np.int64],
    seats: NDArray[np.int64],
    ny: int,
) -> LinedBlocks:
    """Choose a layout for urban blocks (60 % gated) and town seats (open), and reserve way keys."""
    block = np.concatenate([urban, seats])
    draw = rng.random(block.size)
    kind = np.select([draw < 0.6, draw < 0.72, draw < 0.8], [GATED, CURVED, DIAGONAL], OPEN)
    kind[urban.size :] = OPEN
    n_u = np.where((kind == OPEN) & (draw > 0.9), 3, rng.integers(1, 3, block.size))
    n_v = np.where(kind == OPEN, rng.integers(1, 4, block.size), rng.integers(1, 3, block.size))
    u_line, v_line = _line_positions(rng, n_u), _line_positions(rng, n_v)
    amp = np.zeros_like(u_line)
    bulge = rng.uniform(0.04, 0.08, (block.size, 3)) * rng.choice([-1.0, 1.0], (block.size, 3))
    local = np.arange(3)[None, :] < n_u[:, None]
    amp[:, 1:4] = np.where((kind[:, None] == CURVED) & local, bulge, 0.0)
    v_key, v_off = _line_keys(builder, sides, block, n_u, ny, vertical=True)
    h_key, h_off = _line_keys(builder, sides, block, n_v, ny, vertical=False)
    return LinedBlocks(block, kind, u_line, amp, v_line, v_key, v_off, h_key, h_off, n_u, n_v)


def emit_local_lines(rng: np.random.Generator, builder: WayPoints, lined: LinedBlocks) -> None:
    """Emit local streets: crossings, ends on the arterial sides, bends of curved streets."""
    blk = lined.block[:, None, None]
    u_loc = lined.local(lined.u_line, vertical=True, fill=np.nan)
    v_loc = lined.local(lined.v_line, vertical=False, fill=np.nan)
    u0, amp, v0 = u_loc[:, :, None], lined.amp[:, 1:4, None], v_loc[:, None, :]
    vkey = lined.local(lined.v_key, vertical=True, fill=-1)[:, :, None]
    hkey = lined.local(lined.h_key, vertical=False, fill=-1)[:, None, :]
    is_open = lined.kind != GATED
    hw_line = np.where(rng.random((lined.block.size, 6)) < 0.2, HW["tertiary"], HW["residential"])
    vhw, hhw = hw_line[:, :3, None], hw_line[:, None, 3:]
    for droppable in (False, True):
        sel = (is_open == droppable)[:, None, None]
        vk, hk = np.where(sel, vkey, -1), np.where(sel, hkey, -1)
        cross_u = curve_u(u0, amp, v0)
        builder.add(blk, cross_u, v0, vk, v0, vhw, droppable=droppable)
        builder.add(blk, cross_u, v0, hk, cross_u, hhw, droppable=droppable)
        for end in (0.0, 1.0):
            end_u = curve_u(u0, amp, np.float64(end))
            builder.add(blk, end_u, end, vk, end, vhw, droppable=droppable)
            builder.add(blk, end, v0, hk, end, hhw, droppable=droppable)
        bend_v = np.arange(1, 8)[None, None, :] / 8
        near = (np.abs(bend_v[..., None] - v_loc[:, None, None, :]) < 0.03).any(-1)
        bend_key = np.where(near | (amp == 0), -1, vk)
        builder.add(
            blk, curve_u(u0, amp, bend_v), bend_v, bend_key, bend_v, vhw, droppable=droppable
        )
    _emit_line_ends(builder, lined)
    _emit_diagonals(rng, builder, lined)


def _emit_line_ends(builder: WayPoints, lined: LinedBlocks) -> None:
    """Attach the ends of local lines to the arterial side ways."""
    rows = np.arange(lined.block.size)
    n_u, n_v = lined.n_u, lined.n_v
    blk = lined.block[:, None]
    u0 = lined.local(lined.u_line, vertical=True, fill=np.nan)
    v0 = lined.local(lined.v_line, vertical=False, fill=np.nan)
    amp = lined.amp[:, 1:4]
    for end, side in ((0.0, lined.h_key[:, 0]), (1.0, lined.h_key[rows, n_v + 1])):
        end_u = curve_u(u0, amp, np.float64(end))
        builder.add(blk, end_u, end, side[:, None], lined.h_off[:, :1] + end_u, INHERIT)
    for end, side in ((0.0, lined.v_key[:, 0]), (1.0, lined.v_key[rows, n_u + 1])):
        builder.add(blk, end, v0, side[:, None], lined.v_off[:, :1] + v0, INHERIT)


def _emit_diagonals(rng: np.random.Generator, builder: WayPoints, lined: LinedBlocks) -> None:
    """Diagonal streets corner to corner across ``DIAGONAL`` blocks, crossing every local line."""
    diag = lined.kind == DIAGONAL
    anti = rng.random(lined.block.size) < 0.5
    keys = np.where(diag, builder.new_ways(lined.block.size), -1)[:, None]
    hw = np.where(rng.random(lined.block.size) < 0.5, HW["tertiary"], HW["residential"])[:, None]
    blk = lined.block[:, None]

    def along(u: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(anti[:, None], 1.0 - u, u)

    u0 = lined.local(lined.u_line, vertical=True, fill=np.nan)
    v0 = lined.local(lined.v_line, vertical=False, fill=np.nan)
    vk = np.where(diag[:, None], lined.local(lined.v_key, vertical=True, fill=-1), -1)
    hk = np.where(diag[:, None], lined.local(lined.h_key, vertical=False, fill=-1), -1)
    builder.add(blk, u0, along(u0), vk, along(u0), INHERIT)
    builder.add(blk, u0, along(u0), keys, u0, hw)
    hu = along(v0)
    builder.add(blk, hu, v0, hk, hu, INHERIT)
    builder.add(blk, hu, v0, keys, hu, hw)
    ends = np.array([[0.0, 1.0]])
    builder.add(blk, ends, along(ends), keys, ends, hw)


@dataclass(frozen=True, slots=True)
class Cells:
    """Cells between the lines of lined blocks (one row per cell)."""

    block: NDArray[np.int64]
    kind: NDArray[np.int64]
    u_lo: NDArray[np.float64]
    u_hi: NDArray[np.float64]
    amp_lo: NDArray[np.float64]
    amp_hi: NDArray[np.float64]
    v_lo: NDArray[np.float64]
    v_hi: NDArray[np.float64]
    side_key: NDArray[np.int64]
    side_off: NDArray[np.float64]

    def to_uv(
        self, p: NDArray[np.float64], q: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Map cell-local (p, q) in [0, 1]^2, shape (c, k), to block-local (u, v)."""
        v = self.v_lo[:, None] + q * (self.v_hi - self.v_lo)[:, None]
        left = curve_u(self.u_lo[:, None], self.amp_lo[:, None], v)
        right = curve_u(self.u_hi[:, None], self.amp_hi[:, None], v)
        return left + p * (right - left), v


def build_cells(lined: LinedBlocks) -> Cells:
    """List the cells of lined blocks with the way keys of their bottom, right, top and left sides."""
    grid_a, grid_b = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    all_a, all_b = grid_a.ravel(), grid_b.ravel()
    valid = np.isfinite(lined.u_line[:, all_a + 1]) & np.isfinite(lined.v_line[:, all_b + 1])
    row, pos = np.nonzero(valid)
    a, b = all_a[pos], all_b[pos]
    side_key = np.column_stack(
        [lined.h_key[row, b], lined.v_key[row, a + 1], lined.h_key[row, b + 1], lined.v_key[row, a]]
    )
    side_off = np.column_stack(
        [lined.h_off[row, b], lined.v_off[row, a + 1], lined.h_off[row, b + 1], lined.v_off[row, a]]
    )
    return Cells(
        lined.block[row],
        lined.kind[row],
        lined.u_line[row, a],
        lined.u_line[row, a + 1],
        lined.amp[row, a],
        lined.amp[row, a + 1],
        lined.v_line[row, b],
        lined.v_line[row, b + 1],
        side_key,
        side_off,
    )


def emit_template(
    builder: WayPoints,
    block: NDArray[np.int64],
    u: NDArray[np.float64],
    v: NDArray[np.float64],
    ways: list[tuple[list[int], NDArray[np.int64] | int]],
    mask: NDArray[np.bool_] | None = None,
) -> None:
    """Emit one way per (instance, template way); ``mask`` (instances x ways) switches ways off."""
    for w, (index, hw) in enumerate(ways):
        keys = builder.new_ways(block.size)
        if mask is not None:
            keys = np.where(mask[:, w], keys, -1)
        hw_arr = np.broadcast_to(np.asarray(hw), block.shape)[:, None]
        builder.add(
            block[:, None],
            u[:, index],
            v[:, index],
            keys[:, None],
            np.arange(len(index))[None, :],
            hw_arr,
        )


def attach_to_sides(
    builder: WayPoints,
    cells: Cells,
    pick: NDArray[np.int64],
    side: NDArray[np.int64],
    u: NDArray[np.float64],
    v: NDArray[np.float64],
    enabled: NDArray[np.bool_],
) -> None:
    """Insert points lying on cell side ``side`` (0 bottom, 1 right, 2 top, 3 left) into that side's way."""
    key = np.where(enabled, cells.side_key[pick, side], -1)
    order = cells.side_off[pick, side] + np.where(side % 2 == 0, u, v)
    builder.add(cells.block[pick], u, v, key, order, INHERIT)


def snap_uv(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round block-local coordinates to a 1/400 grid (about 1.25 m) to avoid sliver segments."""
    return np.round(u * _GRID) / _GRID

"""Jittered arterial lattice, district outline and urban core of the synthetic demo district."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.errors import InputDataError

#: Mean network nodes generated per urban / rural block (calibrated on the generator itself).
URBAN_BLOCK_NODES = 64.0
RURAL_BLOCK_NODES = 4.4
#: Share of the outline radius taken by the urban core.
CORE_RADIUS_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Lattice:
    """Blocks between jittered arterials, in a local metric frame centred on the district.

    Attributes
    ----------
    corner_x_m, corner_y_m
        Arterial crossings in metres, shape (nx + 1, ny + 1); block (i, j) has corners
        (i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1).
    included
        Blocks inside the district, shape (nx, ny).
    core
        Blocks of the urban core, shape (nx, ny) (a subset of ``included``).
    remote_corner
        Lattice corner (i, j) whose four blocks stay roadless (a remote facility goes there).
    """

    corner_x_m: NDArray[np.float64]
    corner_y_m: NDArray[np.float64]
    included: NDArray[np.bool_]
    core: NDArray[np.bool_]
    remote_corner: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """Number of blocks along i and j."""
        return int(self.included.shape[0]), int(self.included.shape[1])

    def block_centres_m(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean of the four corners of every block, each of shape (nx, ny), in metres."""
        cx, cy = self.corner_x_m, self.corner_y_m
        x = (cx[:-1, :-1] + cx[1:, :-1] + cx[:-1, 1:] + cx[1:, 1:]) / 4
        y = (cy[:-1, :-1] + cy[1:, :-1] + cy[:-1, 1:] + cy[1:, 1:]) / 4
        return x, y


def _outline(
    size: int, radius: float, phases: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """District and core masks on a ``size`` x ``size`` block grid for an outline radius in blocks."""
    idx = np.arange(size) + 0.5 - size / 2
    di, dj = np.meshgrid(idx, idx, indexing="ij")
    r = np.hypot(di, dj)
    theta = np.arctan2(dj, di)
    edge = 1 + 0.12 * np.sin(2 * theta + phases[0]) + 0.07 * np.sin(3 * theta + phases[1])
    edge += 0.04 * np.sin(5 * theta + phases[2])
    core_edge = 1 + 0.10 * np.sin(2 * theta + phases[3]) + 0.06 * np.sin(3 * theta + phases[4])
    included = r < radius * edge
    core = included & (r < CORE_RADIUS_SHARE * radius * core_edge)
    return included, core


def _fit_outline(
    target_nodes: int, phases: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Find the outline radius whose expected node count matches ``target_nodes``."""
    share = CORE_RADIUS_SHARE**2
    per_block = share * URBAN_BLOCK_NODES + (1 - share) * RURAL_BLOCK_NODES
    radius = math.sqrt(target_nodes / per_block / math.pi)
    size = 2 * math.ceil(1.5 * radius) + 6
    for _ in range(6):
        included, core = _outline(size, radius, phases)
        expected = URBAN_BLOCK_NODES * core.sum() + RURAL_BLOCK_NODES * (included & ~core).sum()
        radius *= math.sqrt(target_nodes / max(expected, 1.0))
    included, core = _outline(size, radius, phases)
    rows = np.flatnonzero(included.any(axis=1))
    cols = np.flatnonzero(included.any(axis=0))
    i0, i1, j0, j1 = rows[0] - 1, rows[-1] + 2, cols[0] - 1, cols[-1] + 2
    return included[i0:i1, j0:j1], core[i0:i1, j0:j1]


def _build_corners(
    rng: np.random.Generator, nx: int, ny: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Arterial crossings: lines 420-580 m apart, smoothly warped, jittered and rotated."""
    col_m = np.concatenate([[0.0], np.cumsum(rng.uniform(420.0, 580.0, nx))])
    row_m = np.concatenate([[0.0], np.cumsum(rng.uniform(420.0, 580.0, ny))])
    x, y = np.meshgrid(col_m - col_m.mean(), row_m - row_m.mean(), indexing="ij")
    wave = rng.uniform(0, 2 * np.pi, 4)
    length_m = rng.uniform(3500.0, 7000.0, 4)
    warp_x = 110 * np.sin(2 * np.pi * y / length_m[0] + wave[0]) + 60 * np.sin(
        2 * np.pi * x / length_m[1] + wave[1]
    )
    warp_y = 110 * np.sin(2 * np.pi * x / length_m[2] + wave[2]) + 60 * np.sin(
        2 * np.pi * y / length_m[3] + wave[3]
    )
    x = x + warp_x + rng.uniform(-35.0, 35.0, x.shape)
    y = y + warp_y + rng.uniform(-35.0, 35.0, y.shape)
    angle = rng.uniform(-0.3, 0.3)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    return cos_a * x - sin_a * y, sin_a * x + cos_a * y


def _find_remote_corner(
    rng: np.random.Generator, included: NDArray[np.bool_], core: NDArray[np.bool_]
) -> tuple[int, int]:
    """A corner whose four blocks are rural and inside the district."""
    rural = (included & ~core).astype(np.int64)
    nx, ny = rural.shape
    window = np.zeros((nx + 1, ny + 1), dtype=np.int64)
    window[1:, 1:] = rural.cumsum(0).cumsum(1)
    full = window[2:, 2:] - window[:-2, 2:] - window[2:, :-2] + window[:-2, :-2]
    cand_i, cand_j = np.nonzero(full == 4)
    if cand_i.size == 0:
        msg = "the district is too small for a rural fringe; use target_nodes >= 2000"
        raise InputDataError(msg)
    pick = int(rng.integers(cand_i.size))
    return int(cand_i[pick]) + 1, int(cand_j[pick]) + 1


def build_lattice(rng: np.random.Generator, target_nodes: int) -> Lattice:
    """Lay out the arterial lattice, district outline and urban core for ``target_nodes`` nodes.

    Parameters
    ----------
    rng
        Seeded generator.
    target_nodes
        Wanted number of network nodes; the outline radius is fitted to it.

    Returns
    -------
    Lattice
        Corners in metres (local frame, origin near the district centre) and block masks.

    Raises
    ------
    InputDataError
        The district is too small to hold a rural fringe.
    """
    phases = rng.uniform(0, 2 * np.pi, 5)
    included, core = _fit_outline(target_nodes, phases)
    corner_x_m, corner_y_m = _build_corners(rng, included.shape[0], included.shape[1])
    remote = _find_remote_corner(rng, included, core)
    return Lattice(corner_x_m, corner_y_m, included, core, remote)


def map_blocks(
    lattice: Lattice, block: NDArray[np.int64], u: NDArray[np.float64], v: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Map block-local (u, v) in [0, 1]^2 to metres by bilinear interpolation of the corners.

    The sum is written so that a point on a shared side gets bit-identical coordinates from
    either block (the weights of the far corners are exact zeros).
    """
    ny = lattice.shape[1]
    i, j = np.divmod(block, ny)
    out = []
    for corners in (lattice.corner_x_m, lattice.corner_y_m):
        w00, w10 = (1 - u) * (1 - v), u * (1 - v)
        w01, w11 = (1 - u) * v, u * v
        c00, c10 = corners[i, j], corners[i + 1, j]
        c01, c11 = corners[i, j + 1], corners[i + 1, j + 1]
        out.append(((w00 * c00 + w10 * c10) + w01 * c01) + w11 * c11)
    return out[0], out[1]

"""Slope-aware, direction-aware walking times from a terrain model (DEM).

Walking-speed function
----------------------
Tobler's hiking function (W. Tobler, "Three presentations on geographical analysis and
modeling", NCGIA Technical Report 93-1, 1993)::

    W(S) = 6 * exp(-3.5 * |S + 0.05|)   km/h,   S = dh/dx (rise over horizontal run)

It peaks at a gentle downhill (S = -0.05) and gives 5.04 km/h on flat ground. careplan keeps
Tobler's *shape* and scales it so that flat ground gives the profile's older-adult speed ``v0``::

    v(S) = v0 * exp(-3.5 * |S + 0.05|) / exp(-3.5 * 0.05)

so v(0) = v0 (0.8 m/s by default), v(+0.10) = 0.705 * v0 uphill, v(-0.05) = 1.191 * v0 (the
fastest, gentle downhill), v(-0.10) = v0 and v(-0.20) = 0.705 * v0 (steep downhill slows too).

Sampling
--------
Each segment is cut into ``n = ceil(length / 20 m)`` equal pieces; the elevation is read
(bilinear) at its end nodes and at every cut, i.e. at the vertices and about every 20 m. Each
piece of horizontal length ``d`` and rise ``dz`` takes ``d / v(dz / d)`` seconds walked from u to
v and ``d / v(-dz / d)`` from v to u. Steps keep their own factor (flat time times
``steps_factor``, no grade term: the factor already stands for climbing). Segments with any sample
over DEM nodata keep flat times (counted).

Hand-worked example: a 100 m segment rising 10 m (S = 0.1) at v0 = 0.8 m/s: uphill
100 / (0.8 * exp(-3.5 * 0.15) / exp(-3.5 * 0.05)) = 100 / (0.8 * 0.7047) = 177.4 s; downhill
(S = -0.1, |S + 0.05| = 0.05) 100 / 0.8 = 125.0 s, the same as on the flat.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyproj
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork, build_directed_csr
from planner.params import WalkProfile
from planner.schema import RasterWindow

#: Spacing of the elevation samples along a segment, metres.
SAMPLE_SPACING_M = 20.0
#: Tobler's constants: decay per unit grade and the grade of the fastest walk.
TOBLER_DECAY = 3.5
TOBLER_PEAK_GRADE = -0.05


@dataclass(frozen=True, slots=True)
class TerrainReport:
    """What applying the DEM did (for summary.json and warnings).

    Attributes
    ----------
    samples
        Elevation samples read.
    nodata_segments
        Segments with a sample over nodata (they keep flat times).
    mean_abs_grade
        Length-weighted mean absolute grade of the sampled segments.
    """

    samples: int
    nodata_segments: int
    mean_abs_grade: float


def tobler_speed_m_s(grade: NDArray[np.float64], flat_speed_m_s: float) -> NDArray[np.float64]:
    """Walking speed on ``grade`` (rise/run), Tobler's shape scaled to ``flat_speed_m_s`` at 0."""
    scale = np.exp(-TOBLER_DECAY * abs(TOBLER_PEAK_GRADE))
    speed: NDArray[np.float64] = flat_speed_m_s * np.exp(
        -TOBLER_DECAY * np.abs(np.asarray(grade, dtype=float) - TOBLER_PEAK_GRADE)) / scale
    return speed


def sample_elevation(dem: RasterWindow, x: NDArray[np.float64], y: NDArray[np.float64],
                     crs: str) -> NDArray[np.float64]:
    """Bilinear elevation (m) at points given in ``crs``; NaN next to nodata or off the DEM."""
    to_dem = pyproj.Transformer.from_crs(crs, dem.crs, always_xy=True)
    dx, dy = to_dem.transform(x, y)
    a, b, c, d, e, f = dem.transform
    inv = np.linalg.inv(np.array([[a, b], [d, e]]))
    col = inv[0, 0] * (dx - c) + inv[0, 1] * (dy - f) - 0.5  # cell centres at integer positions
    row = inv[1, 0] * (dx - c) + inv[1, 1] * (dy - f) - 0.5
    c0, r0 = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
    tc, tr = col - c0, row - r0
    rows, cols = dem.values.shape
    ok = (c0 >= 0) & (r0 >= 0) & (c0 + 1 < cols) & (r0 + 1 < rows)
    c0, r0 = np.where(ok, c0, 0), np.where(ok, r0, 0)
    v = dem.values
    z = ((1 - tr) * ((1 - tc) * v[r0, c0] + tc * v[r0, c0 + 1])
         + tr * ((1 - tc) * v[r0 + 1, c0] + tc * v[r0 + 1, c0 + 1]))
    out: NDArray[np.float64] = np.where(ok, z, np.nan)
    return out


def directed_times(network: WalkNetwork, dem: RasterWindow, walk: WalkProfile,
                   spacing_m: float = SAMPLE_SPACING_M
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64], TerrainReport]:
    """Walking times u->v and v->u of every segment over the DEM (see the module docstring)."""
    length = network.edge_length_m
    pieces = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(pieces + 1)[:-1]])
    edge = np.repeat(np.arange(network.n_edges), pieces + 1)
    t = (np.arange(edge.size) - starts[edge]) / pieces[edge]
    xu, yu = network.x_m[network.edge_u][edge], network.y_m[network.edge_u][edge]
    xv, yv = network.x_m[network.edge_v][edge], network.y_m[network.edge_v][edge]
    z = sample_elevation(dem, xu + t * (xv - xu), yu + t * (yv - yu), network.crs)
    dz = np.diff(z)
    within = np.ones(z.size - 1, dtype=bool)
    within[starts[1:] - 1] = False  # drop the step from one segment's end to the next's start
    dz = dz[within]
    piece_edge = np.repeat(np.arange(network.n_edges), pieces)
    d = length[piece_edge] / pieces[piece_edge]
    grade = np.where(d > 0, dz / np.where(d > 0, d, 1.0), 0.0)
    v0 = walk.speed_m_s
    up = np.bincount(piece_edge, weights=d / tobler_speed_m_s(grade, v0), minlength=network.n_edges)
    down = np.bincount(piece_edge, weights=d / tobler_speed_m_s(-grade, v0),
                       minlength=network.n_edges)
    bad = np.bincount(piece_edge, weights=np.isnan(dz).astype(float),
                      minlength=network.n_edges) > 0
    keep_flat = bad | network.edge_is_steps
    uv = np.where(keep_flat, network.edge_walk_s, up)
    vu = np.where(keep_flat, network.edge_walk_s, down)
    ok = ~np.isnan(grade)
    mean_grade = float(np.sum(np.abs(grade[ok]) * d[ok]) / max(float(d[ok].sum()), 1e-9))
    return uv, vu, TerrainReport(int(z.size), int(bad.sum()), mean_grade)


def apply_terrain(network: WalkNetwork, dem: RasterWindow, walk: WalkProfile
                  ) -> tuple[WalkNetwork, TerrainReport]:
    """The network with direction-dependent times and reversed arcs (times *to* facilities).

    ``edge_walk_s`` becomes the shorter direction (a lower bound for direction-free uses);
    ``graph[a, b]`` is the time to walk from b to a over the main part.
    """
    uv, vu, report = directed_times(network, dem, walk)
    main = network.edge_in_main
    graph = build_directed_csr(network.n_nodes, network.edge_u[main], network.edge_v[main],
                               vu[main], uv[main])
    terrain = dataclasses.replace(network, edge_walk_s=np.minimum(uv, vu), graph=graph,
                                  edge_uv_s=uv, edge_vu_s=vu)
    return terrain, report

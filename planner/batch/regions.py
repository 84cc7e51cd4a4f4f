"""Region halos and ownership: which data a region task reads and which results it keeps.

A region task runs the whole pipeline on the streets within its **box**: the bounding box of
the region (and of the units it owns) widened by a halo of

    halo_m = safety × speed_m_s × horizon_s + max_snap_m

Every walking path of at most ``horizon_s`` that starts in the region stays within
``speed_m_s × horizon_s`` of its start (a path is never shorter than the straight line; steps
only slow walkers down), and every facility such a path reaches snaps to a segment within
``max_snap_m`` of it, so all of them lie inside the box. Times up to the horizon are therefore
exactly those of one run over the whole area; the default horizon is the largest threshold,
so covered populations are exact. ``safety`` (1.1) absorbs the UTM scale factor (< 1.001) and
the degree/metre conversion of the box. Worked example: 30 min at 0.8 m/s with a 300 m snap
gives 1.1 × 0.8 × 1800 + 300 = 1884 m.

Each unit and facility belongs to exactly one region: the first region (in the given order)
whose polygon covers its representative point. Facilities in the halo serve the region's
units; units in the halo are dropped, so nothing is counted twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from planner.params import PlanParams

#: Halo safety factor (see the module docstring).
HALO_SAFETY = 1.1
#: Metres per degree of latitude, rounded down (the box grows, never shrinks).
M_PER_DEG_LAT = 110_000.0
#: A region with more than this many times the median node count is reported as large.
LARGE_FACTOR = 4.0


@dataclass(frozen=True, slots=True)
class Halo:
    """How far around a region its task reads, and up to which time its results are exact.

    Attributes
    ----------
    horizon_s
        Times up to this are exact; longer ones are reported as not reached.
    speed_m_s, max_snap_m, safety
        The walking speed, snapping distance and safety factor of the formula.
    """

    horizon_s: float
    speed_m_s: float
    max_snap_m: float
    safety: float = HALO_SAFETY

    @property
    def halo_m(self) -> float:
        """Halo width in metres."""
        return self.safety * self.speed_m_s * self.horizon_s + self.max_snap_m


def largest_threshold_min(params: PlanParams) -> float:
    """The largest coverage or catchment threshold of the parameters, minutes."""
    return params.coverage.max_threshold_min


def make_halo(params: PlanParams, horizon_min: float | None = None) -> Halo:
    """The halo of a run; ``horizon_min`` defaults to (and may not be below) the largest threshold.

    Raises
    ------
    ValueError
        ``horizon_min`` below the largest threshold (covered populations would be wrong).
    """
    largest = largest_threshold_min(params)
    horizon = largest if horizon_min is None else float(horizon_min)
    if horizon < largest:
        msg = (f"--horizon-min {horizon_min} is below the largest threshold {largest:g} min; "
               f"give at least {largest:g}")
        raise ValueError(msg)
    return Halo(horizon * 60.0, params.walk.speed_m_s, params.snap.max_snap_m)


def widen_box(bounds: tuple[float, float, float, float], halo_m: float) -> tuple[float, ...]:
    """A WGS-84 box ``(w, s, e, n)`` widened by ``halo_m`` metres on every side (conservatively)."""
    w, s, e, n = bounds
    dlat = halo_m / M_PER_DEG_LAT
    lat_max = min(89.0, max(abs(s - dlat), abs(n + dlat)))
    dlon = halo_m / (M_PER_DEG_LAT * math.cos(math.radians(lat_max)))
    return (w - dlon, s - dlat, e + dlon, n + dlat)


def assign_owner(points: NDArray[np.object_], regions: NDArray[np.object_]) -> NDArray[np.int64]:
    """Per point, the position of the first region covering it, or -1 when none does."""
    owner = np.full(points.shape[0], -1, dtype=np.int64)
    if points.shape[0] == 0 or regions.shape[0] == 0:
        return owner
    pi, ri = shapely.STRtree(regions).query(points, predicate="covered_by")
    order = np.lexsort((ri, pi))
    pi, ri = pi[order], ri[order]
    first = np.ones(pi.shape[0], dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    owner[pi[first]] = ri[first]
    return owner


def segments_in_box(lon_u: NDArray[np.float64], lat_u: NDArray[np.float64],
                    lon_v: NDArray[np.float64], lat_v: NDArray[np.float64],
                    box: tuple[float, ...]) -> NDArray[np.bool_]:
    """True for segments whose bounding box meets ``box`` (a superset of those crossing it).

    Keeping a few extra segments is harmless: they only add paths longer than the halo.
    """
    w, s, e, n = box
    keep: NDArray[np.bool_] = ((np.minimum(lon_u, lon_v) <= e) & (np.maximum(lon_u, lon_v) >= w)
                               & (np.minimum(lat_u, lat_v) <= n) & (np.maximum(lat_u, lat_v) >= s))
    return keep


def large_regions(node_counts: dict[str, int], factor: float = LARGE_FACTOR) -> list[str]:
    """Regions with more than ``factor`` times the median node count (reported, not split)."""
    if len(node_counts) < 3:
        return []
    median = float(np.median(list(node_counts.values())))
    return sorted(k for k, v in node_counts.items() if median > 0 and v > factor * median)

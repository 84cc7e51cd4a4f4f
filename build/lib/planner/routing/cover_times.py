"""Sparse demand x site cover matrices from bounded network searches (never dense).

A site ``j`` covers demand point ``i`` when the walking time from ``j`` to ``i`` is within the
threshold of ``i``'s unit. Times are those of :mod:`planner.routing.travel`: one bounded search per site
(:func:`planner.routing.travel.iter_source_reach`), then the point rule
``min(t[u] + g*w, t[v] + (1-g)*w) + access`` or the direct along-segment time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.network.graph import WalkNetwork
from planner.network.snap import SnapResult
from planner.routing.travel import iter_source_reach


def _endpoint_times(network: WalkNetwork, reach: sp.csc_matrix, points: SnapResult,
                    ok: NDArray[np.int64]) -> pd.DataFrame:
    """(site, point, time_s) via either segment end of each routable point."""
    e = points.edge[ok]
    w = network.edge_walk_s[e]
    parts = []
    for nodes, along in ((network.edge_u[e], points.frac[ok] * w),
                         (network.edge_v[e], (1.0 - points.frac[ok]) * w)):
        sub = reach[:, nodes].tocoo()
        parts.append(pd.DataFrame({"site": sub.row, "point": ok[sub.col],
                                   "time_s": sub.data + along[sub.col]}))
    return pd.concat(parts, ignore_index=True)


def _direct_times(network: WalkNetwork, points: SnapResult, sites: SnapResult) -> pd.DataFrame:
    """(site, point, time_s) along a shared segment, without the access legs."""
    p_idx = np.flatnonzero(points.routable)
    s_idx = np.flatnonzero(sites.routable)
    pairs = pd.DataFrame({"point": p_idx, "edge": points.edge[p_idx]}).merge(
        pd.DataFrame({"site": s_idx, "edge": sites.edge[s_idx]}), on="edge")
    p, s, e = (pairs[c].to_numpy() for c in ("point", "site", "edge"))
    time_s = np.abs(points.frac[p] - sites.frac[s]) * network.edge_walk_s[e]
    time_s = time_s + sites.access_m[s] / network.speed_m_s
    return pd.DataFrame({"site": s, "point": p, "time_s": time_s})


def compute_cover_times(network: WalkNetwork, sites: SnapResult, points: SnapResult,
                        limit_s: float) -> sp.csr_matrix:
    """Sparse ``(points x sites)`` walking times in seconds, kept only when <= ``limit_s``.

    Parameters
    ----------
    network
        The walking network.
    sites
        Sites snapped to the network.
    points
        Demand points snapped to the network.
    limit_s
        Longest walking time kept, seconds.

    Returns
    -------
    scipy.sparse.csr_matrix
        Times (at least 1e-9 s so no entry is an implicit zero). Unroutable sites and points
        have empty columns and rows.
    """
    n_p, n_s = points.edge.shape[0], sites.edge.shape[0]
    ok = np.flatnonzero(points.routable)
    if ok.size == 0 or not sites.routable.any():
        return sp.csr_matrix((n_p, n_s))
    frames = []
    for src, node, t_s in iter_source_reach(network, sites, limit_s=limit_s):
        reach = sp.csc_matrix((t_s, (src, node)), shape=(n_s, network.n_nodes))
        frames.append(_endpoint_times(network, reach, points, ok))
    frames.append(_direct_times(network, points, sites))
    allt = pd.concat(frames, ignore_index=True)
    allt = allt.groupby(["point", "site"], sort=False)["time_s"].min().reset_index()
    p = allt["point"].to_numpy()
    time_s = allt["time_s"].to_numpy() + points.access_m[p] / network.speed_m_s
    keep = time_s <= limit_s
    return sp.csr_matrix((np.maximum(time_s[keep], 1e-9), (p[keep], allt["site"].to_numpy()[keep])),
                         shape=(n_p, n_s))


def build_cover(times: sp.csr_matrix, threshold_s: NDArray[np.float64]) -> sp.csr_matrix:
    """Boolean ``(points x sites)`` cover: time within each point's own threshold (seconds).

    Parameters
    ----------
    times
        Sparse walking times, as from :func:`compute_cover_times`.
    threshold_s
        Threshold of each point (row), seconds.

    Returns
    -------
    scipy.sparse.csr_matrix
        True where a stored time is within the row's threshold.
    """
    coo = times.tocoo()
    keep = coo.data <= threshold_s[coo.row]
    return sp.csr_matrix((np.ones(int(keep.sum()), dtype=bool),
                          (coo.row[keep], coo.col[keep])), shape=times.shape)

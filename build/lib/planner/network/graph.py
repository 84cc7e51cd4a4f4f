"""Raw walkable segments -> WalkNetwork: projection, edge walk_s, CSR arrays, components."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from planner.errors import NetworkError
from planner.network.crs import choose_utm_crs, project_lonlat
from planner.params import WalkProfile
from planner.schema import RawNetwork

logger = logging.getLogger(__name__)

#: walk_s below this is raised to it: scipy's csgraph treats stored zeros as missing edges.
MIN_EDGE_S = 1e-6


@dataclass(frozen=True, slots=True)
class ComponentReport:
    """Connectivity of the walking network.

    Attributes
    ----------
    n_components
        Number of connected parts.
    main_nodes, main_length_m
        Nodes and street length of the largest part (the one used for routing).
    other_nodes, other_length_m
        Nodes and street length on the other, disconnected parts (reported, not routed).
    """

    n_components: int
    main_nodes: int
    main_length_m: float
    other_nodes: int
    other_length_m: float


@dataclass(frozen=True, slots=True)
class WalkNetwork:
    """The prepared, read-only walking network.

    Attributes
    ----------
    node_id
        OSM node ids, shape (n,).
    x_m, y_m
        Projected node coordinates in metres (``crs``), shape (n,).
    edge_u, edge_v
        Node positions of each undirected segment, shape (m,); duplicate segments are merged.
    edge_length_m
        Segment lengths in metres.
    edge_walk_s
        Walking time in seconds at the profile's speed, steps penalised.
    edge_is_steps
        True for ``highway=steps``.
    edge_in_main
        True for segments on the largest connected part (the routing part).
    node_component
        Connected-part label per node; ``main_component`` is the label of the largest.
    graph
        Symmetric CSR matrix (n x n) of ``edge_walk_s`` over the main part only.
    crs
        Projected CRS of ``x_m, y_m`` (UTM zone of the study area).
    speed_m_s
        Walking speed used for access legs and partial edges.
    components
        Connectivity report.
    """

    node_id: NDArray[np.int64]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_walk_s: NDArray[np.float64]
    edge_is_steps: NDArray[np.bool_]
    edge_in_main: NDArray[np.bool_]
    node_component: NDArray[np.int32]
    main_component: int
    graph: sp.csr_matrix
    crs: str
    speed_m_s: float
    components: ComponentReport

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_id.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of undirected segments."""
        return int(self.edge_u.shape[0])


def _dedupe_segments(
    u: NDArray[np.int64], v: NDArray[np.int64], walk_s: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Indices of the segments to keep: no self-loops, one (fastest) per node pair."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    ok = np.flatnonzero(lo != hi)
    order = ok[np.lexsort((walk_s[ok], hi[ok], lo[ok]))]
    pair = lo[order] * (int(hi.max(initial=0)) + 1) + hi[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    return np.sort(order[first])


def build_symmetric_csr(
    n: int, u: NDArray[np.int64], v: NDArray[np.int64], weight: NDArray[np.float64]
) -> sp.csr_matrix:
    """Symmetric n x n CSR matrix with ``weight`` on (u, v) and (v, u); zeros raised to MIN_EDGE_S."""
    w = np.maximum(weight, MIN_EDGE_S)
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    mat = sp.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))
    mat.sum_duplicates()
    return mat


def build_walk_network(raw: RawNetwork, walk: WalkProfile, *, crs: str | None = None) -> WalkNetwork:
    """Project raw segments, time them at the walk profile's speed and index them for routing.

    Parameters
    ----------
    raw
        Walkable segments in WGS-84.
    walk
        Walking speed (m/s) and steps penalty.
    crs
        Projected metric CRS to use; default the UTM zone of the data's centre.

    Raises
    ------
    NetworkError
        The network has no segments.
    """
    if raw.n_edges == 0:
        msg = "the walking network has no segments; check the study area and the OSM file"
        raise NetworkError(msg)
    crs = crs or choose_utm_crs(raw.lon, raw.lat)
    x, y = project_lonlat(raw.lon, raw.lat, crs)
    length = np.hypot(x[raw.edge_u] - x[raw.edge_v], y[raw.edge_u] - y[raw.edge_v])
    is_steps = raw.edge_highway == "steps"
    walk_s = length / walk.speed_m_s * np.where(is_steps, walk.steps_factor, 1.0)
    keep = _dedupe_segments(raw.edge_u, raw.edge_v, walk_s)
    u, v = raw.edge_u[keep], raw.edge_v[keep]
    n = raw.n_nodes
    full = build_symmetric_csr(n, u, v, walk_s[keep])
    n_comp, labels = connected_components(full, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    main = int(np.argmax(sizes))
    in_main = labels[u] == main
    graph = build_symmetric_csr(n, u[in_main], v[in_main], walk_s[keep][in_main])
    lengths = length[keep]
    report = ComponentReport(
        n_components=int(n_comp),
        main_nodes=int(sizes[main]),
        main_length_m=float(lengths[in_main].sum()),
        other_nodes=int(n - sizes[main]),
        other_length_m=float(lengths[~in_main].sum()),
    )
    logger.info(
        "walk network: %d nodes, %d segments, %.1f km; %d parts, main part %d nodes (%.1f%%)",
        n, keep.shape[0], lengths.sum() / 1000, n_comp, sizes[main], 100 * sizes[main] / n,
    )
    return WalkNetwork(
        node_id=raw.node_id, x_m=x, y_m=y, edge_u=u, edge_v=v, edge_length_m=lengths,
        edge_walk_s=walk_s[keep], edge_is_steps=is_steps[keep], edge_in_main=in_main,
        node_component=labels.astype(np.int32), main_component=main, graph=graph, crs=crs,
        speed_m_s=walk.speed_m_s, components=report,
    )

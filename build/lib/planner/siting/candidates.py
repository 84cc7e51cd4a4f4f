"""Candidate sites for new facilities: generated on the walking network or given by the planner.

Generated candidates are network nodes on the main (routing) part that lie inside the units to
improve (by default the gap units of the type), thinned so no two are closer than
``min_spacing_m``. Given a ``preferred`` node mask (see :func:`street_node_mask`: nodes on
residential streets), a unit's candidates are its preferred nodes; a unit with none falls back to
any main-part node. Every candidate has a ``candidate_id`` and the ``unit_id`` it lies in.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from planner.errors import InputDataError
from planner.network.graph import WalkNetwork

CANDIDATE_COLUMNS = ("candidate_id", "unit_id", "capacity", "cost")
DEFAULT_SPACING_M = 150.0
#: Street kinds a new care facility's door is expected on (quiet, walkable, inside the estates).
RESIDENTIAL_HIGHWAYS = frozenset({"residential", "living_street", "service", "footway",
                                  "pedestrian"})


def street_node_mask(n_nodes: int, edge_u: NDArray[np.int64], edge_v: NDArray[np.int64],
                     edge_highway: NDArray[np.str_]) -> NDArray[np.bool_]:
    """True for nodes (positions) touching an edge whose highway is in RESIDENTIAL_HIGHWAYS.

    Parameters
    ----------
    n_nodes
        Number of network nodes.
    edge_u, edge_v
        End nodes (positions) of each edge.
    edge_highway
        OSM ``highway`` value of each edge.

    Returns
    -------
    numpy.ndarray
        Boolean ``(n_nodes,)`` mask.
    """
    hit = np.isin(np.asarray(edge_highway, dtype=str), sorted(RESIDENTIAL_HIGHWAYS))
    mask = np.zeros(int(n_nodes), dtype=bool)
    mask[np.asarray(edge_u, dtype=np.int64)[hit]] = True
    mask[np.asarray(edge_v, dtype=np.int64)[hit]] = True
    return mask


def thin_points(x_m: NDArray[np.float64], y_m: NDArray[np.float64],
                min_spacing_m: float) -> NDArray[np.int64]:
    """Positions of a subset of points in which no two are closer than ``min_spacing_m``.

    Points are visited grid cell by grid cell (cells of ``min_spacing_m``, input order within a
    cell); a point is kept unless a kept point lies within the spacing.

    Parameters
    ----------
    x_m, y_m
        Projected coordinates, metres.
    min_spacing_m
        Smallest distance between two kept points, metres (> 0).

    Returns
    -------
    numpy.ndarray
        Sorted positions of the kept points.

    Raises
    ------
    InputDataError
        If ``min_spacing_m`` is not > 0.
    """
    if min_spacing_m <= 0:
        msg = f"min_spacing_m={min_spacing_m!r} must be > 0 metres; e.g. 150"
        raise InputDataError(msg)
    n = int(np.asarray(x_m).size)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cell = np.floor(np.column_stack([x_m, y_m]) / min_spacing_m).astype(np.int64)
    order = np.lexsort((np.arange(n), cell[:, 1], cell[:, 0]))
    tree = cKDTree(np.column_stack([x_m, y_m]))
    blocked = np.zeros(n, dtype=bool)
    kept: list[int] = []
    for i in order:
        if blocked[i]:
            continue
        kept.append(int(i))
        blocked[tree.query_ball_point((x_m[i], y_m[i]), min_spacing_m * (1 - 1e-9))] = True
    return np.sort(np.asarray(kept, dtype=np.int64))


def assign_units(points: gpd.GeoSeries, units: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """``unit_id`` of the unit each point lies in (None outside every unit; first match wins).

    Parameters
    ----------
    points
        Points, any CRS.
    units
        Units with ``unit_id`` and polygons.

    Returns
    -------
    numpy.ndarray
        Object array of ``unit_id`` values, one per point.
    """
    frame = gpd.GeoDataFrame({"pos": np.arange(len(points))}, geometry=points.to_numpy(),
                             crs=points.crs)
    hit = gpd.sjoin(frame, units[["unit_id", "geometry"]].to_crs(points.crs), how="left",
                    predicate="within")
    hit = hit.sort_values(["pos"], kind="mergesort").drop_duplicates("pos")
    unit_ids: NDArray[np.object_] = hit["unit_id"].to_numpy(dtype=object)
    return unit_ids


def generate_candidates(network: WalkNetwork, units: gpd.GeoDataFrame, *,
                        unit_ids: Sequence[str] | None = None,
                        min_spacing_m: float = DEFAULT_SPACING_M,
                        capacity: float = np.nan, cost: float = 1.0,
                        preferred: NDArray[np.bool_] | None = None) -> gpd.GeoDataFrame:
    """Candidate points on main-part network nodes inside ``unit_ids`` (all units if None).

    Parameters
    ----------
    network
        The prepared walking network (projected CRS).
    units
        Units with ``unit_id`` and polygons.
    unit_ids
        Units to place candidates in, e.g. the gap units of a type.
    min_spacing_m
        Smallest distance between two candidates, metres.
    capacity
        Capacity given to every candidate (NaN: uncapacitated).
    cost
        Cost given to every candidate (reported with the chosen sites).
    preferred
        Per node (position), True where a candidate is preferred, e.g. :func:`street_node_mask`;
        within a unit only preferred nodes are used unless the unit has none.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS`, points in the network CRS; ids ``c0001``, ...
    """
    on_main = network.node_component == network.main_component
    nodes = np.flatnonzero(on_main)
    pts = gpd.GeoSeries(gpd.points_from_xy(network.x_m[nodes], network.y_m[nodes]),
                        crs=network.crs)
    chosen = units if unit_ids is None else units[units["unit_id"].isin(list(unit_ids))]
    unit_of = assign_units(pts, chosen)
    inside = pd.notna(unit_of)
    nodes, unit_of = nodes[inside], unit_of[inside]
    if preferred is not None:
        pref = np.asarray(preferred, dtype=bool)
        if pref.size != network.x_m.size:
            msg = f"preferred has {pref.size} entries for {network.x_m.size} network nodes"
            raise InputDataError(msg)
        pref = pref[nodes]
        with_pref = pd.unique(unit_of[pref])
        use = pref | ~pd.Series(unit_of).isin(with_pref).to_numpy()
        nodes, unit_of = nodes[use], unit_of[use]
    keep = thin_points(network.x_m[nodes], network.y_m[nodes], min_spacing_m)
    nodes, unit_of = nodes[keep], unit_of[keep]
    frame = pd.DataFrame({"candidate_id": [f"c{i + 1:04d}" for i in range(nodes.size)],
                          "unit_id": unit_of, "capacity": float(capacity), "cost": float(cost)})
    geom = gpd.points_from_xy(network.x_m[nodes], network.y_m[nodes])
    return gpd.GeoDataFrame(frame, geometry=geom, crs=network.crs)


def prepare_candidates(frame: gpd.GeoDataFrame, units: gpd.GeoDataFrame,
                       crs: str) -> gpd.GeoDataFrame:
    """Given candidates (points or polygons, any CRS) as points in ``crs`` with ids and units.

    Polygons are replaced by a point inside them; missing ids become ``c0001``...; ``capacity``
    and ``cost`` default to NaN and 1.

    Parameters
    ----------
    frame
        The planner's candidates, with a CRS and optional ``candidate_id, capacity, cost``.
    units
        Units with ``unit_id`` and polygons.
    crs
        CRS of the result (the network's).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CANDIDATE_COLUMNS`, points in ``crs``.

    Raises
    ------
    InputDataError
        If ``frame`` has no CRS, no rows or repeated ids.
    """
    if frame.crs is None:
        msg = "candidates have no CRS; give lon/lat (EPSG:4326) or set the file's CRS"
        raise InputDataError(msg)
    if len(frame) == 0:
        msg = "the candidate file has no rows; give at least one point or polygon"
        raise InputDataError(msg)
    out = frame.to_crs(crs).reset_index(drop=True)
    geom = out.geometry
    is_pt = (geom.geom_type == "Point").to_numpy()
    pts = np.where(is_pt, geom.to_numpy(), geom.representative_point().to_numpy())
    ids = out["candidate_id"].astype(str) if "candidate_id" in out else pd.Series(
        [f"c{i + 1:04d}" for i in range(len(out))])
    if ids.duplicated().any():
        msg = f"candidate_id {ids[ids.duplicated()].iat[0]!r} is repeated; give unique ids"
        raise InputDataError(msg)
    points = gpd.GeoSeries(pts, crs=crs)
    res = pd.DataFrame({"candidate_id": ids.to_numpy(), "unit_id": assign_units(points, units),
                        "capacity": pd.to_numeric(out.get("capacity", np.nan), errors="coerce"),
                        "cost": pd.to_numeric(out.get("cost", 1.0), errors="coerce")})
    return gpd.GeoDataFrame(res, geometry=points.to_numpy(), crs=crs)

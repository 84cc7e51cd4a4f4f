"""Cut the whole area's data into region parts (pure): streets, facilities, units per region box."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from planner.batch.regions import assign_owner, segments_in_box, widen_box
from planner.schema import UNIT_ID, WGS84, RawNetwork


@dataclass(frozen=True, slots=True)
class RegionPart:
    """Everything one region task needs (geometry in WGS-84).

    Attributes
    ----------
    region_id
        The region's code.
    box
        ``(w, s, e, n)``: the region and its units widened by the halo.
    network
        Walkable segments meeting the box.
    main_nodes
        Per node of ``network``: on the whole area's main (routing) part.
    facilities
        All facilities in the box, with a boolean ``owned`` column (inside the region).
    units
        The units the region owns (a units file was given), or ``None`` (units are derived from
        residential land inside the task, and only ``owned_unit_ids`` are kept).
    owned_unit_ids
        Ids of the units the region owns.
    residential
        Residential polygons meeting the box.
    crs
        The whole area's projected CRS (one for all regions, so lengths agree).
    """

    region_id: str
    box: tuple[float, ...]
    network: RawNetwork
    main_nodes: NDArray[np.bool_]
    facilities: gpd.GeoDataFrame
    units: gpd.GeoDataFrame | None
    owned_unit_ids: tuple[str, ...]
    residential: gpd.GeoDataFrame
    crs: str


def main_node_mask(raw: RawNetwork) -> NDArray[np.bool_]:
    """True for nodes on the largest connected part of the whole network."""
    n = raw.n_nodes
    ones = np.ones(raw.n_edges, dtype=np.int8)
    mat = sp.coo_matrix((ones, (raw.edge_u, raw.edge_v)), shape=(n, n)).tocsr()
    _, labels = connected_components(mat, directed=False)
    mask: NDArray[np.bool_] = labels == int(np.argmax(np.bincount(labels)))
    return mask


def sorted_unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The distinct values, sorted (what ``np.unique`` gives; sorting is several times faster
    than numpy's hash-based unique on millions of node ids)."""
    ordered = np.sort(values)
    if ordered.shape[0] < 2:
        return ordered
    keep = np.empty(ordered.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    out: NDArray[np.int64] = ordered[keep]
    return out


def slice_network(raw: RawNetwork, keep: NDArray[np.bool_]) -> tuple[RawNetwork, NDArray[np.int64]]:
    """The segments selected by ``keep`` and their nodes; also the kept nodes' old positions."""
    on = np.zeros(raw.n_nodes, dtype=bool)  # node positions are dense: a mask, not a unique
    on[raw.edge_u[keep]] = True
    on[raw.edge_v[keep]] = True
    used = np.flatnonzero(on)
    remap = np.full(raw.n_nodes, -1, dtype=np.int64)
    remap[used] = np.arange(used.shape[0])
    part = RawNetwork(raw.node_id[used], raw.lon[used], raw.lat[used], remap[raw.edge_u[keep]],
                      remap[raw.edge_v[keep]], raw.edge_highway[keep], raw.edge_way_id[keep])
    return part, used


def representative_points(frame: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """A point on each geometry's surface, WGS-84 (the basis of ownership)."""
    pts: NDArray[np.object_] = shapely.point_on_surface(frame.to_crs(WGS84).geometry.to_numpy())
    return pts


@dataclass(frozen=True, slots=True)
class CutPlan:
    """What the cut of every region needs, decided once for all regions (picklable).

    Ownership (first region covering the representative point) and the main part of the
    network are whole-area facts, so they are computed here; :func:`cut_region` then only
    selects by box and can run for each region on its own (on a cluster worker).
    """

    raw: RawNetwork
    ends: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                NDArray[np.float64]]
    main: NDArray[np.bool_]
    region_ids: tuple[str, ...]
    region_bounds: NDArray[np.float64]
    facilities: gpd.GeoDataFrame
    fac_owner: NDArray[np.int64]
    fac_xy: NDArray[np.float64]
    units: gpd.GeoDataFrame
    unit_owner: NDArray[np.int64]
    unit_bounds: NDArray[np.float64]
    residential: gpd.GeoDataFrame
    res_bounds: NDArray[np.float64]
    halo_m: float
    crs: str
    units_given: bool


def plan_cut(raw: RawNetwork, regions: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
             units: gpd.GeoDataFrame, residential: gpd.GeoDataFrame, *, halo_m: float,
             crs: str, units_given: bool) -> CutPlan:
    """The whole-area facts of the cut (``regions``: ``region_id`` and polygon, WGS-84).

    ``units`` are the units file's (``units_given``) or those derived from residential land for
    the whole area; either way ownership is decided once, here, for all regions.
    """
    geoms = regions.geometry.to_numpy()
    units_wgs = units.to_crs(WGS84)
    return CutPlan(
        raw, (raw.lon[raw.edge_u], raw.lat[raw.edge_u], raw.lon[raw.edge_v], raw.lat[raw.edge_v]),
        main_node_mask(raw), tuple(regions["region_id"].astype(str)), shapely.bounds(geoms),
        facilities, assign_owner(representative_points(facilities), geoms),
        shapely.get_coordinates(representative_points(facilities)), units_wgs,
        assign_owner(representative_points(units), geoms),
        shapely.bounds(units_wgs.geometry.to_numpy()), residential,
        shapely.bounds(residential.geometry.to_numpy()).reshape(-1, 4), halo_m, crs, units_given)


def in_box(bounds: NDArray[np.float64], box: tuple[float, ...]) -> NDArray[np.bool_]:
    """Rows whose ``(minx, miny, maxx, maxy)`` meet ``box`` (edges included, like an STRtree)."""
    w, s, e, n = box
    hit: NDArray[np.bool_] = ((bounds[:, 0] <= e) & (bounds[:, 2] >= w) & (bounds[:, 1] <= n)
                              & (bounds[:, 3] >= s))
    return hit


def region_box(region_bounds: NDArray[np.float64], unit_bounds: NDArray[np.float64],
               halo_m: float) -> tuple[float, ...]:
    """The box of a region: its bounds and those of its own units, widened by the halo."""
    bounds = np.vstack([region_bounds[None, :], unit_bounds])
    return widen_box((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(),
                      bounds[:, 3].max()), halo_m)


def cut_region(plan: CutPlan, r: int) -> RegionPart:
    """The part of the ``r``-th region: its box, and the data in it."""
    own = plan.unit_owner == r
    box = region_box(plan.region_bounds[r], plan.unit_bounds[own], plan.halo_m)
    network, used = slice_network(plan.raw, segments_in_box(*plan.ends, box))
    hit = in_box(np.hstack([plan.fac_xy, plan.fac_xy]).reshape(-1, 4), box)
    fac = plan.facilities[hit].assign(owned=plan.fac_owner[hit] == r).reset_index(drop=True)
    res = plan.residential[in_box(plan.res_bounds, box)].reset_index(drop=True)
    unit_ids = plan.units[UNIT_ID].astype(str).to_numpy()[own]
    return RegionPart(plan.region_ids[r], box, network, plan.main[used], fac,
                      plan.units[own].reset_index(drop=True) if plan.units_given else None,
                      tuple(unit_ids), res, plan.crs)

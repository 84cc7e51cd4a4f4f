"""Cut the whole area's data into region parts (pure): streets, facilities, units per region box."""

from __future__ import annotations

from collections.abc import Iterator
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


def slice_network(raw: RawNetwork, keep: NDArray[np.bool_]) -> tuple[RawNetwork, NDArray[np.int64]]:
    """The segments selected by ``keep`` and their nodes; also the kept nodes' old positions."""
    used = np.unique(np.concatenate([raw.edge_u[keep], raw.edge_v[keep]]))
    remap = np.full(raw.n_nodes, -1, dtype=np.int64)
    remap[used] = np.arange(used.shape[0])
    part = RawNetwork(raw.node_id[used], raw.lon[used], raw.lat[used], remap[raw.edge_u[keep]],
                      remap[raw.edge_v[keep]], raw.edge_highway[keep], raw.edge_way_id[keep])
    return part, used


def representative_points(frame: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """A point on each geometry's surface, WGS-84 (the basis of ownership)."""
    pts: NDArray[np.object_] = shapely.point_on_surface(frame.to_crs(WGS84).geometry.to_numpy())
    return pts


def cut_parts(raw: RawNetwork, regions: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
              units: gpd.GeoDataFrame, residential: gpd.GeoDataFrame, *, halo_m: float,
              crs: str, units_given: bool) -> Iterator[RegionPart]:
    """Yield one part per region (rows of ``regions``: ``region_id`` and polygon, WGS-84).

    ``units`` are the units file's (``units_given``) or those derived from residential land for
    the whole area; either way ownership is decided once, here, for all regions.
    """
    geoms = regions.geometry.to_numpy()
    main = main_node_mask(raw)
    fac_owner = assign_owner(representative_points(facilities), geoms)
    unit_owner = assign_owner(representative_points(units), geoms)
    units_wgs = units.to_crs(WGS84)
    unit_bounds = shapely.bounds(units_wgs.geometry.to_numpy())
    fac_xy = shapely.get_coordinates(representative_points(facilities))
    res_tree = shapely.STRtree(residential.geometry.to_numpy())
    for r, region_id in enumerate(regions["region_id"].astype(str)):
        own = unit_owner == r
        bounds = np.vstack([shapely.bounds(geoms[r])[None, :], unit_bounds[own]])
        box = widen_box((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(),
                         bounds[:, 3].max()), halo_m)
        keep = segments_in_box(raw.lon[raw.edge_u], raw.lat[raw.edge_u], raw.lon[raw.edge_v],
                               raw.lat[raw.edge_v], box)
        network, used = slice_network(raw, keep)
        w, s, e, n = box
        in_box = ((fac_xy[:, 0] >= w) & (fac_xy[:, 0] <= e) & (fac_xy[:, 1] >= s)
                  & (fac_xy[:, 1] <= n)) if len(facilities) else np.zeros(0, dtype=bool)
        fac = facilities[in_box].assign(owned=fac_owner[in_box] == r).reset_index(drop=True)
        res = residential.iloc[np.sort(res_tree.query(shapely.box(*box)))].reset_index(drop=True)
        yield RegionPart(region_id, box, network, main[used], fac,
                         units_wgs[own].reset_index(drop=True) if units_given else None,
                         tuple(units[UNIT_ID].astype(str)[own]), res, crs)

"""Region parts cut straight from the pieces of the OSM file (pure), never the whole area at once.

The OSM file is read in pieces (``planner.io.osm_split``); instead of putting the pieces back
together into the whole area and cutting that, each piece's data is split by region box where
it was read (:func:`split_piece`), and each region's part is put together from its share of
every piece (:func:`assemble_part`). The whole-area facts the cut needs are small: the boxes and
ownership of units and register facilities (:func:`plan_side`, from the register and units file
alone), and the projected CRS and the nodes off the main part of the network
(:func:`network_facts`, from the pieces' node and segment arrays), applied to each part when its
region task starts (:func:`with_facts`), so the parts are put together while they are computed.

The result is exactly :func:`planner.batch.parts.cut_region` of the whole area: a piece keeps a
segment where its way is, so the pieces' segments in piece order are the file's, and selecting
by box commutes with putting pieces together (the nodes are the sorted ids of the kept
segments' ends either way). Tested against ``cut_region`` in ``tests/planner/batch``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.batch.parts import (
    RegionPart,
    in_box,
    main_node_mask,
    region_box,
    representative_points,
    slice_network,
    sorted_unique,
)
from planner.batch.regions import assign_owner, segments_in_box
from planner.network.crs import choose_utm_crs
from planner.schema import FACILITY_ID, UNIT_ID, WGS84, RawNetwork


def combine_networks(nets: list[RawNetwork]) -> RawNetwork:
    """The segments of ``nets`` in order, over the sorted union of their nodes."""
    ids = sorted_unique(np.concatenate([n.node_id for n in nets]))
    lon = np.empty(ids.shape[0], dtype=np.float64)
    lat = np.empty(ids.shape[0], dtype=np.float64)
    edge_u, edge_v = [], []
    for net in nets:
        pos = np.searchsorted(ids, net.node_id)
        lon[pos], lat[pos] = net.lon, net.lat
        edge_u.append(pos[net.edge_u])
        edge_v.append(pos[net.edge_v])
    return RawNetwork(ids, lon, lat, np.concatenate(edge_u), np.concatenate(edge_v),
                      np.concatenate([n.edge_highway for n in nets]),
                      np.concatenate([n.edge_way_id for n in nets]))


def concat_frames(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The rows of ``frames`` in order (empty ones left out, so dtypes follow the rows)."""
    kept = [f for f in frames if len(f)] or frames[:1]
    return gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), geometry="geometry",
                            crs=frames[0].crs)


@dataclass(frozen=True, slots=True)
class SidePlan:
    """The boxes and ownership decided from the regions, units file and register alone.

    Attributes
    ----------
    region_ids
        The regions' codes, in the given order.
    boxes
        Per region ``(w, s, e, n)``: the region and its own units widened by the halo.
    region_geoms
        The region polygons (ownership of OSM facilities is decided per piece).
    facilities
        The register's facilities (WGS-84), or ``None`` (facilities come from OSM).
    fac_owner, fac_xy
        Per facility: the owning region's position (-1: none) and representative point.
    units, unit_owner
        The units file's units (WGS-84) and per unit its owning region's position.
    """

    region_ids: tuple[str, ...]
    boxes: NDArray[np.float64]
    region_geoms: NDArray[np.object_]
    facilities: gpd.GeoDataFrame | None
    fac_owner: NDArray[np.int64]
    fac_xy: NDArray[np.float64]
    units: gpd.GeoDataFrame
    unit_owner: NDArray[np.int64]


def plan_side(regions: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None,
              units: gpd.GeoDataFrame, halo_m: float) -> SidePlan:
    """Boxes and ownership (``regions``: ``region_id`` and polygon, WGS-84; ``units`` given)."""
    geoms = regions.geometry.to_numpy()
    units_wgs = units.to_crs(WGS84)
    owner = assign_owner(representative_points(units), geoms)
    unit_bounds = shapely.bounds(units_wgs.geometry.to_numpy()).reshape(-1, 4)
    region_bounds = shapely.bounds(geoms)
    boxes = np.array([region_box(region_bounds[r], unit_bounds[owner == r], halo_m)
                      for r in range(len(geoms))], dtype=np.float64).reshape(-1, 4)
    fac_owner, fac_xy = np.empty(0, dtype=np.int64), np.empty((0, 2))
    if facilities is not None:
        points = representative_points(facilities)
        fac_owner, fac_xy = assign_owner(points, geoms), shapely.get_coordinates(points)
    return SidePlan(tuple(regions["region_id"].astype(str)), boxes, geoms, facilities, fac_owner,
                    fac_xy, units_wgs, owner)


@dataclass(frozen=True, slots=True)
class PieceShare:
    """One region's share of one piece: segments, OSM facilities (or ``None``), residential."""

    network: RawNetwork
    pois: gpd.GeoDataFrame | None
    residential: gpd.GeoDataFrame


def _owned_pois(pois: gpd.GeoDataFrame, first: bool,
                geoms: NDArray[np.object_]) -> tuple[gpd.GeoDataFrame, NDArray[np.int64],
                                                     NDArray[np.float64]]:
    """The piece's OSM facilities (node ones from the first piece only), owners and points."""
    pois = pois.drop(columns=["osm_tags"], errors="ignore")
    if not first:  # every piece holds every node: node facilities come from the first piece
        pois = pois[~pois[FACILITY_ID].astype(str).str.startswith("osm_n")]
    points = representative_points(pois)
    return pois, assign_owner(points, geoms), shapely.get_coordinates(points).reshape(-1, 2)


def split_piece(network: RawNetwork, pois: gpd.GeoDataFrame | None,
                residential: gpd.GeoDataFrame, side: SidePlan, first: bool) -> list[PieceShare]:
    """Each region's share of one piece (``pois``: the piece's OSM facilities, or ``None`` when
    the register gives the facilities)."""
    ends = (network.lon[network.edge_u], network.lat[network.edge_u],
            network.lon[network.edge_v], network.lat[network.edge_v])
    res_bounds = shapely.bounds(residential.geometry.to_numpy()).reshape(-1, 4)
    owned = None if pois is None else _owned_pois(pois, first, side.region_geoms)
    shares = []
    for r, box in enumerate(map(tuple, side.boxes)):
        sub = slice_network(network, segments_in_box(*ends, box))[0]
        fac = None
        if owned is not None:
            frame, owner, xy = owned
            hit = in_box(np.hstack([xy, xy]), box)
            fac = frame[hit].assign(owned=owner[hit] == r)
        shares.append(PieceShare(sub, fac, residential[in_box(res_bounds, box)]))
    return shares


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    """The whole network's projected CRS, node count and sorted ids of nodes off its main part."""

    crs: str
    n_nodes: int
    off_main: NDArray[np.int64]


def network_facts(nets: list[RawNetwork]) -> NetworkFacts:
    """The facts of the network the pieces' networks make together."""
    whole = combine_networks(nets)
    main = main_node_mask(whole)
    return NetworkFacts(choose_utm_crs(whole.lon, whole.lat), whole.n_nodes, whole.node_id[~main])


def assemble_part(side: SidePlan, r: int, shares: list[PieceShare]) -> RegionPart:
    """The ``r``-th region's part from its share of every piece (in piece order).

    The network facts are not needed yet (so parts are put together while they are computed):
    every node counts as on the main part and the CRS is empty until :func:`with_facts`.
    """
    box = tuple(float(v) for v in side.boxes[r])
    network = combine_networks([s.network for s in shares])
    if side.facilities is not None:
        hit = in_box(np.hstack([side.fac_xy, side.fac_xy]).reshape(-1, 4), box)
        fac = side.facilities[hit].assign(owned=side.fac_owner[hit] == r)
    else:
        fac = concat_frames([s.pois for s in shares if s.pois is not None])
        fac = fac.drop_duplicates(FACILITY_ID)
    own = side.unit_owner == r
    units = side.units[own].reset_index(drop=True)
    return RegionPart(side.region_ids[r], box, network, np.ones(network.n_nodes, dtype=bool),
                      fac.reset_index(drop=True), units, tuple(units[UNIT_ID].astype(str)),
                      concat_frames([s.residential for s in shares]).reset_index(drop=True), "")


def with_facts(part: RegionPart, facts: NetworkFacts) -> RegionPart:
    """``part`` with its nodes on the whole network's main part and the whole area's CRS."""
    main = ~np.isin(part.network.node_id, facts.off_main, assume_unique=True)
    return replace(part, main_nodes=main, crs=facts.crs)

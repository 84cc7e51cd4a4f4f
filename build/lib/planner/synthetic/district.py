"""Deterministic synthetic study areas (grid streets, facilities, demand) for examples, tests and demos.

The demo district (示范区) is fictional: a jittered arterial grid around lon 104.06, lat 30.66
(Chengdu) with an urban core of communities (社区) grouped into streets (街道), gated compounds
(小区) reachable only through their gates, open blocks with curved and diagonal streets, and a
rural fringe of villages (村) grouped into towns (镇). Facilities of every type are placed with
deliberate gaps. Everything is built in a local metric frame and projected to WGS-84 through
UTM zone 48N (EPSG:32648).

Examples
--------
>>> from planner.synthetic.district import build_demo_district
>>> inputs = build_demo_district(seed=7, target_nodes=3000)
>>> inputs.is_synthetic, sorted(inputs.units["settlement"].unique())
(True, ['rural', 'urban'])
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from planner.errors import InputDataError
from planner.schema import WGS84, PlanInputs, RawNetwork
from planner.synthetic.blocks import build_cells, emit_local_lines, plan_lined_blocks
from planner.synthetic.compounds import cell_outlines, emit_cells
from planner.synthetic.facilities import (
    build_facility_table,
    place_facilities,
    plan_facilities,
    units_with_edges,
)
from planner.synthetic.lattice import Lattice, build_lattice, map_blocks
from planner.synthetic.names import build_compound_names
from planner.synthetic.streets import (
    HIGHWAYS,
    NODE_ID_BASE,
    Network,
    WayPoints,
    assemble_network,
    build_sides,
)
from planner.synthetic.units import UnitPlan, build_units
from planner.synthetic.villages import (
    emit_tracks,
    emit_villages,
    find_seats,
    pick_village_blocks,
    remote_blocks,
)

logger = logging.getLogger(__name__)

__all__ = ["CENTRE_LON_LAT", "DEMO_LABEL", "METRIC_CRS", "build_demo_district"]

#: Centre of the demo district (Chengdu), WGS-84 degrees.
CENTRE_LON_LAT = (104.06, 30.66)
#: Metric CRS the district is built in (UTM zone 48N).
METRIC_CRS = "EPSG:32648"
DEMO_LABEL = "示范区 (synthetic demo district)"
MIN_TARGET_NODES = 2000
MAX_TARGET_NODES = 5_000_000


class _Frame:
    """Local metric frame centred on ``CENTRE_LON_LAT`` and its conversion to WGS-84."""

    def __init__(self) -> None:
        self._to_metric = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
        self._to_wgs84 = Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)
        self.x0_m, self.y0_m = self._to_metric.transform(*CENTRE_LON_LAT)

    def lon_lat(
        self, x_m: NDArray[np.float64], y_m: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Local metres to lon/lat degrees (vectorised)."""
        lon, lat = self._to_wgs84.transform(
            np.asarray(x_m) + self.x0_m, np.asarray(y_m) + self.y0_m
        )
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def geometries(self, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        """Local-metre shapely geometries to WGS-84."""
        out: NDArray[np.object_] = shapely.transform(
            geoms, lambda xy: np.column_stack(self.lon_lat(xy[:, 0], xy[:, 1]))
        )
        return out


def _check_args(seed: int, target_nodes: int, n_facilities: int | None) -> None:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        msg = f"seed={seed!r} must be a non-negative integer; e.g. seed=7"
        raise InputDataError(msg)
    if (
        not isinstance(target_nodes, (int, np.integer))
        or not MIN_TARGET_NODES <= target_nodes <= MAX_TARGET_NODES
    ):
        msg = f"target_nodes={target_nodes!r} is out of range; use {MIN_TARGET_NODES}-{MAX_TARGET_NODES}"
        raise InputDataError(msg)
    if n_facilities is not None and not isinstance(n_facilities, (int, np.integer)):
        msg = f"n_facilities={n_facilities!r} must be an integer or None; e.g. 3000"
        raise InputDataError(msg)


def _build_streets(
    rng: np.random.Generator, lattice: Lattice, units: UnitPlan
) -> tuple[Network, list[tuple[str, NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]]:
    """Emit every way of the district and assemble the network; return housing outlines too."""
    ny = lattice.shape[1]
    seats = find_seats(lattice, units.unit_of_block, units.table)
    forced = np.zeros(lattice.shape, dtype=bool)
    forced.ravel()[seats] = True
    builder = WayPoints()
    sides = build_sides(rng, builder, lattice, forced)
    urban = np.flatnonzero((lattice.core & lattice.included).ravel())
    lined = plan_lined_blocks(rng, builder, sides, urban, seats, ny)
    emit_local_lines(rng, builder, lined)
    cells = build_cells(lined)
    housing = emit_cells(rng, builder, cells)
    villages = pick_village_blocks(rng, lattice, units.unit_of_block, seats)
    village_outline = emit_villages(rng, builder, sides, villages, ny)
    rural = (lattice.included & ~lattice.core).ravel()
    rural[np.concatenate([seats, villages, remote_blocks(lattice)])] = False
    emit_tracks(rng, builder, sides, np.flatnonzero(rural), ny)
    network = assemble_network(rng, builder, lattice)
    gated = housing.cell[housing.gated]
    outlines = [
        ("gated_compound", *cell_outlines(cells, gated)),
        ("open_block", *cell_outlines(cells, housing.cell[~housing.gated])),
        ("village_cluster", *village_outline),
    ]
    return network, outlines


def _raw_network(network: Network, frame: _Frame) -> RawNetwork:
    lon, lat = frame.lon_lat(network.x_m, network.y_m)
    return RawNetwork(
        node_id=np.arange(network.x_m.size, dtype=np.int64) + NODE_ID_BASE,
        lon=lon,
        lat=lat,
        edge_u=network.edge_u.astype(np.int64),
        edge_v=network.edge_v.astype(np.int64),
        edge_highway=np.array(HIGHWAYS)[network.edge_hw],
        edge_way_id=network.edge_way.astype(np.int64),
    )


def _block_polygons(lattice: Lattice, blocks: NDArray[np.int64]) -> NDArray[np.object_]:
    """Quadrilaterals of blocks in metres."""
    corner_u = np.array([0.0, 1.0, 1.0, 0.0, 0.0])
    corner_v = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
    x, y = map_blocks(
        lattice,
        np.repeat(blocks, 5),
        np.tile(corner_u, blocks.size),
        np.tile(corner_v, blocks.size),
    )
    polygons: NDArray[np.object_] = shapely.polygons(np.stack([x, y], axis=-1).reshape(-1, 5, 2))
    return polygons


def _units_frame(lattice: Lattice, units: UnitPlan, frame: _Frame) -> gpd.GeoDataFrame:
    """Unit polygons (dissolved blocks) with the contract columns, in WGS-84."""
    blocks = np.flatnonzero(units.unit_of_block >= 0)
    quads = gpd.GeoDataFrame(
        {"unit": units.unit_of_block[blocks]}, geometry=_block_polygons(lattice, blocks)
    )
    merged = quads.dissolve(by="unit", method="coverage").sort_index()
    table = units.table
    columns = ["unit_id", "name", "older_pop", "settlement", "parent_id", "parent_name"]
    out = table[columns].astype({"name": str, "parent_name": str})
    return gpd.GeoDataFrame(out, geometry=frame.geometries(merged.geometry.to_numpy()), crs=WGS84)


def _residential_frame(
    rng: np.random.Generator,
    lattice: Lattice,
    units: UnitPlan,
    outlines: list[tuple[str, NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]],
    frame: _Frame,
) -> gpd.GeoDataFrame:
    """Housing polygons (compounds, open blocks, village clusters) named and tagged with their unit."""
    parts = []
    for kind, block, u, v in outlines:
        x, y = map_blocks(lattice, np.repeat(block, u.shape[1]), u.ravel(), v.ravel())
        unit = units.unit_of_block[block]
        geoms = shapely.polygons(np.stack([x, y], axis=-1).reshape(block.size, -1, 2))
        parts.append(pd.DataFrame({"kind": kind, "unit": unit, "geometry": geoms}))
    res = pd.concat(parts, ignore_index=True)
    unit_names = units.table["name"].to_numpy(dtype=object)[res["unit"].to_numpy()]
    number = (res.groupby(["kind", "unit"]).cumcount() + 1).astype(str).to_numpy(dtype=object)
    compound = build_compound_names(rng, len(res)).astype(object)
    names = np.select(
        [res["kind"] == "gated_compound", res["kind"] == "open_block"],
        [compound, unit_names + number + "号院落"],
        unit_names + number + "组",
    )
    return gpd.GeoDataFrame(
        {
            "name": names.astype(str),
            "kind": res["kind"].to_numpy(),
            "unit_id": units.table["unit_id"].to_numpy()[res["unit"].to_numpy()],
        },
        geometry=frame.geometries(res["geometry"].to_numpy()),
        crs=WGS84,
    )


def _facilities_frame(
    rng: np.random.Generator,
    network: Network,
    lattice: Lattice,
    units: UnitPlan,
    n_facilities: int | None,
    frame: _Frame,
) -> gpd.GeoDataFrame:
    has_edges = units_with_edges(network, units.unit_of_block)
    plan = plan_facilities(rng, units.table, has_edges, n_facilities)
    placed = place_facilities(rng, plan, network, units.unit_of_block, lattice)
    table = build_facility_table(rng, placed, units.table)
    lon, lat = frame.lon_lat(table.pop("x_m").to_numpy(), table.pop("y_m").to_numpy())
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


def build_demo_district(
    *, seed: int = 7, target_nodes: int = 6000, n_facilities: int | None = None
) -> PlanInputs:
    """Generate the synthetic demo district (示范区) deterministically.

    Parameters
    ----------
    seed
        Seed of the ``numpy.random.default_rng`` generator; the same seed gives identical output.
    target_nodes
        Wanted number of network nodes (2,000-5,000,000); the result lands within about 10 %.
    n_facilities
        Exact number of facilities spread over the six types, or ``None`` for the default
        density (per unit and per street/town).

    Returns
    -------
    PlanInputs
        ``network`` (segments, WGS-84), ``facilities`` (``facility_id, name, type, capacity,
        unit_id``, points), ``units`` (``unit_id, name, older_pop, settlement, parent_id,
        parent_name``, polygons), ``residential`` (``name, kind, unit_id``, polygons),
        ``study_area`` (WGS-84 polygon), labelled synthetic.

    Raises
    ------
    InputDataError
        ``seed``, ``target_nodes`` or ``n_facilities`` out of range.
    """
    _check_args(seed, target_nodes, n_facilities)
    rng = np.random.default_rng(seed)
    frame = _Frame()
    lattice = build_lattice(rng, int(target_nodes))
    units = build_units(rng, lattice)
    network, outlines = _build_streets(rng, lattice, units)
    units_gdf = _units_frame(lattice, units, frame)
    residential = _residential_frame(rng, lattice, units, outlines, frame)
    facilities = _facilities_frame(rng, network, lattice, units, n_facilities, frame)
    raw = _raw_network(network, frame)
    logger.info(
        "built synthetic district: %d nodes, %d segments, %d units, %d facilities",
        raw.n_nodes,
        raw.n_edges,
        len(units_gdf),
        len(facilities),
    )
    return PlanInputs(
        network=raw,
        facilities=facilities,
        units=units_gdf,
        residential=residential,
        study_area=shapely.coverage_union_all(units_gdf.geometry.to_numpy()),
        label=DEMO_LABEL,
        is_synthetic=True,
        sources={"synthetic": f"planner.synthetic.district seed={seed} target_nodes={target_nodes}"},
    )

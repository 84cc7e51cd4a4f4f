"""Write a walking network (and residential outlines) as a real OSM file with pyosmium."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from planner.schema import RawNetwork


def way_runs(raw: RawNetwork) -> list[tuple[NDArray[np.int64], str]]:
    """Chains of node positions with their highway tag, one per run of segments of one way.

    Segments of one way that follow each other (``v`` of one is ``u`` of the next, same tag)
    form one chain; any break starts a new chain, so every segment is written exactly once.
    """
    order = np.argsort(raw.edge_way_id, kind="stable")
    u, v, way = raw.edge_u[order], raw.edge_v[order], raw.edge_way_id[order]
    hw = raw.edge_highway[order]
    start = np.ones(order.shape[0], dtype=bool)
    start[1:] = (way[1:] != way[:-1]) | (u[1:] != v[:-1]) | (hw[1:] != hw[:-1])
    bounds = np.append(np.flatnonzero(start), order.shape[0])
    return [(np.concatenate([u[a:a + 1], v[a:b]]), str(hw[a]))
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


#: Margin of the header box around the written nodes, degrees (about 0.1 m): readers keep
#: what lies strictly inside the box, so nodes on the data's edge need it.
BOX_MARGIN_DEG = 1e-6


def _header(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> osmium.io.Header:
    """A file header whose box holds every node (as extracts from Geofabrik or osmium have)."""
    header = osmium.io.Header()
    if lon.size:
        m = BOX_MARGIN_DEG
        header.add_box(osmium.osm.Box(float(lon.min()) - m, float(lat.min()) - m,
                                      float(lon.max()) + m, float(lat.max()) + m))
    return header


def write_osm(raw: RawNetwork, path: Path, *, residential: gpd.GeoDataFrame | None = None) -> Path:
    """Write nodes, highway ways and ``landuse=residential`` outlines to ``path`` (.osm.pbf or .osm).

    Residential polygons (WGS-84) become closed ways of their exterior rings with new node ids
    above the network's. The header's box holds every node. The file is written to a temporary
    name and then renamed.
    """
    path = Path(path)
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.unlink(missing_ok=True)
    rings = []
    if residential is not None and len(residential):
        polys = shapely.get_parts(residential.geometry.to_numpy())
        rings = [np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(p)))
                 for p in polys if shapely.get_type_id(p) == 3]
    next_id = int(raw.node_id.max(initial=0)) + 1
    xy = np.vstack([np.column_stack([raw.lon, raw.lat]), *rings]) if rings else np.column_stack(
        [raw.lon, raw.lat])
    writer = osmium.SimpleWriter(str(tmp), 4096 * 1024, _header(xy[:, 0], xy[:, 1]))
    try:
        for i in range(raw.n_nodes):
            writer.add_node(osmium.osm.mutable.Node(id=int(raw.node_id[i]),
                                                    location=(float(raw.lon[i]), float(raw.lat[i]))))
        ring_ids = []
        for ring in rings:
            ids = list(range(next_id, next_id + len(ring) - 1))
            next_id += len(ids)
            for nid, (x, y) in zip(ids, ring[:-1], strict=True):
                writer.add_node(osmium.osm.mutable.Node(id=nid, location=(float(x), float(y))))
            ring_ids.append([*ids, ids[0]])
        way_id = 1
        for chain, hw in way_runs(raw):
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=[int(n) for n in raw.node_id[chain]],
                                                  tags={"highway": hw}))
            way_id += 1
        for ids in ring_ids:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=ids,
                                                  tags={"landuse": "residential"}))
            way_id += 1
    finally:
        writer.close()
    tmp.replace(path)
    return path

"""On-disk cache of parsed OSM extracts and prepared walking networks (keyed by file hash + params)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely

from planner.io.osm import OsmExtract
from planner.network.graph import ComponentReport, WalkNetwork
from planner.params import WalkProfile
from planner.schema import WGS84, RawNetwork

logger = logging.getLogger(__name__)
CACHE_VERSION = "2"
_RAW = ("node_id", "lon", "lat", "edge_u", "edge_v", "edge_highway", "edge_way_id")
_NET = ("node_id", "x_m", "y_m", "edge_u", "edge_v", "edge_length_m", "edge_walk_s",
        "edge_is_steps", "edge_in_main", "node_component")


def cache_key(file_sha256: str, walk: WalkProfile, study_area: shapely.Geometry | None) -> str:
    """Key of one prepared network: input file hash, walk profile, study area and cache version."""
    parts = [CACHE_VERSION, file_sha256, repr(walk.speed_m_s), repr(walk.steps_factor),
             study_area.wkt if study_area is not None else "bounds"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def save_cached(cache_dir: Path, key: str, extract: OsmExtract, network: WalkNetwork) -> Path:
    """Store the extract and the prepared network under ``cache_dir/key`` (atomic rename)."""
    target = cache_dir / key
    tmp = cache_dir / f".{key}.{os.getpid()}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    arrays = {f"raw_{k}": getattr(extract.network, k) for k in _RAW}
    arrays.update({f"net_{k}": getattr(network, k) for k in _NET})
    g = network.graph
    arrays.update(graph_indptr=g.indptr, graph_indices=g.indices, graph_data=g.data)
    np.savez(tmp / "network.npz", **arrays)
    meta = {"crs": network.crs, "speed_m_s": network.speed_m_s, "main": network.main_component,
            "comp": [network.components.n_components, network.components.main_nodes,
                     network.components.main_length_m, network.components.other_nodes,
                     network.components.other_length_m],
            "study_area": extract.study_area.wkt}
    (tmp / "meta.json").write_text(json.dumps(meta, default=str), encoding="utf-8")
    for name, frame in (("pois", extract.pois), ("residential", extract.residential)):
        frame.to_file(tmp / f"{name}.gpkg", driver="GPKG", engine="pyogrio")
    if target.exists():  # another run cached the same key meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        return target
    tmp.rename(target)
    return target


def load_cached(cache_dir: Path, key: str) -> tuple[OsmExtract, WalkNetwork] | None:
    """The cached extract and network for ``key``, or ``None`` when not cached."""
    folder = cache_dir / key
    if not (folder / "meta.json").is_file():
        return None
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    with np.load(folder / "network.npz") as data:
        raw = RawNetwork(**{k: data[f"raw_{k}"] for k in _RAW})
        n = data["net_node_id"].shape[0]
        graph = sp.csr_matrix((data["graph_data"], data["graph_indices"], data["graph_indptr"]),
                              shape=(n, n))
        net_arrays = {k: data[f"net_{k}"] for k in _NET}
    network = WalkNetwork(**net_arrays, main_component=int(meta["main"]), graph=graph,
                          crs=meta["crs"], speed_m_s=float(meta["speed_m_s"]),
                          components=ComponentReport(int(meta["comp"][0]), int(meta["comp"][1]),
                                                     float(meta["comp"][2]), int(meta["comp"][3]),
                                                     float(meta["comp"][4])))
    pois = gpd.read_file(folder / "pois.gpkg", engine="pyogrio")
    residential = gpd.read_file(folder / "residential.gpkg", engine="pyogrio")
    pois = pois.set_crs(WGS84, allow_override=True)
    residential = residential.set_crs(WGS84, allow_override=True)
    extract = OsmExtract(raw, pois, residential, shapely.from_wkt(meta["study_area"]))
    logger.info("loaded prepared network %s from cache", key)
    return extract, network

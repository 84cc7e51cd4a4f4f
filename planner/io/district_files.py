"""Write a (synthetic) study area as the files a user would give: .osm.pbf, units, register."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.io.osm_write import write_osm
from planner.schema import PlanInputs


@dataclass(frozen=True, slots=True)
class DistrictFiles:
    """Paths of the written files."""

    osm: Path
    units: Path
    facilities: Path


def write_district_files(inputs: PlanInputs, folder: Path, stem: str = "district") -> DistrictFiles:
    """Write ``<stem>.osm.pbf``, ``<stem>_units.gpkg`` and ``<stem>_facilities.csv`` to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    osm = write_osm(inputs.network, folder / f"{stem}.osm.pbf", residential=inputs.residential)
    units_path = folder / f"{stem}_units.gpkg"
    if inputs.units is not None:
        cols = [c for c in ("unit_id", "name", "older_pop", "settlement", "parent_id", "parent_name")
                if c in inputs.units.columns]
        inputs.units[[*cols, "geometry"]].to_file(units_path, driver="GPKG", engine="pyogrio")
    fac = inputs.facilities
    xy = shapely.get_coordinates(fac.geometry.to_numpy())
    table = pd.DataFrame({"facility_id": fac["facility_id"].astype(str), "name": fac["name"],
                          "type": fac["type"], "lon": np.round(xy[:, 0], 7),
                          "lat": np.round(xy[:, 1], 7), "capacity": fac["capacity"]})
    fac_path = folder / f"{stem}_facilities.csv"
    table.to_csv(fac_path, index=False, encoding="utf-8")
    return DistrictFiles(osm, units_path, fac_path)


def irregular_regions(area: shapely.Geometry, n: int, seed: int) -> gpd.GeoDataFrame:
    """``n`` irregular regions (Voronoi cells of random seeds) tiling ``area``'s bounding box.

    Returns ``region_id`` (``R01``…), ``name`` and polygons in WGS-84.
    """
    rng = np.random.default_rng(seed)
    w, s, e, nn = shapely.bounds(area)
    pts = shapely.multipoints(np.column_stack([rng.uniform(w, e, n), rng.uniform(s, nn, n)]))
    frame = shapely.box(w - 0.01, s - 0.01, e + 0.01, nn + 0.01)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    ids = [f"R{i + 1:02d}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"region_id": ids, "name": [f"区域 {i}" for i in ids]},
                            geometry=cells, crs="EPSG:4326")


def grid_regions(area: shapely.Geometry, nx: int, ny: int) -> gpd.GeoDataFrame:
    """An ``nx`` × ``ny`` grid of rectangular regions over ``area``'s bounding box (WGS-84)."""
    w, s, e, n = shapely.bounds(area)
    xs, ys = np.linspace(w, e, nx + 1), np.linspace(s, n, ny + 1)
    xs[0], ys[0], xs[-1], ys[-1] = w - 1e-6, s - 1e-6, e + 1e-6, n + 1e-6
    boxes = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(ny) for i in range(nx)]
    ids = [f"G{j:02d}{i:02d}" for j in range(ny) for i in range(nx)]
    return gpd.GeoDataFrame({"region_id": ids, "name": ids}, geometry=boxes, crs="EPSG:4326")

"""The faster demand-point builder equals the one it replaced (kept here as the oracle): the
same points, units, placements and order; weights equal to the last bit or two (an area taken
from the residential polygon itself rather than from its overlay with the unit, whose ring
starts elsewhere)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from planner.coverage.demand import (
    MAX_POINTS_PER_PIECE,
    build_demand_points,
    derive_units_from_residential,
)
from planner.params import DemandParams
from planner.schema import OLDER_POP, UNIT_ID, validate_units
from planner.synthetic.district import build_demo_district


def _old_grid(polys: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    bounds = shapely.bounds(polys)
    area = np.maximum(shapely.area(polys), 1.0)
    spacing = np.maximum(spacing_m, np.sqrt(area / MAX_POINTS_PER_PIECE))
    nx = np.maximum(0, np.floor((bounds[:, 2] - bounds[:, 0]) / spacing).astype(np.int64))
    ny = np.maximum(0, np.floor((bounds[:, 3] - bounds[:, 1]) / spacing).astype(np.int64))
    count = nx * ny
    owner = np.repeat(np.arange(polys.size), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    ix, iy = k % np.repeat(np.maximum(nx, 1), count), k // np.repeat(np.maximum(nx, 1), count)
    pts = shapely.points(bounds[owner, 0] + (ix + 0.5) * spacing[owner],
                         bounds[owner, 1] + (iy + 0.5) * spacing[owner])
    inside = shapely.contains(polys[owner], pts)
    owner, pts = owner[inside], pts[inside]
    empty = np.setdiff1d(np.arange(polys.size), owner)
    return (np.concatenate([owner, empty]),
            np.concatenate([pts, shapely.point_on_surface(polys[empty])]))


def old_demand(units: gpd.GeoDataFrame, residential: gpd.GeoDataFrame, params: DemandParams,
               crs: str) -> gpd.GeoDataFrame:
    """build_demand_points (given units, or projected derived ones) as it was: every piece cut
    by a GEOS overlay."""
    units_p = units if units.crs == crs else units.to_crs(crs)
    units_p = units_p.set_geometry(shapely.make_valid(units_p.geometry.to_numpy()))
    res = shapely.make_valid(residential.to_crs(crs).geometry.to_numpy())
    geoms = units_p.geometry.to_numpy()
    ui, ri = shapely.STRtree(res).query(geoms, predicate="intersects")
    pieces = shapely.intersection(geoms[ui], res[ri])
    area = shapely.area(pieces)
    ok = area > 1.0
    frame = pd.DataFrame({"unit": ui[ok], "area": area[ok], "placement": "residential"})
    frame["geometry"] = pieces[ok]
    missing = np.setdiff1d(np.arange(len(geoms)), frame["unit"].to_numpy())
    frame = pd.concat([frame, pd.DataFrame({"unit": missing, "area": shapely.area(geoms[missing]),
                                            "placement": "even", "geometry": geoms[missing]})],
                      ignore_index=True)
    frame["share"] = frame["area"] / frame.groupby("unit")["area"].transform("sum")
    owner, pts = _old_grid(frame["geometry"].to_numpy(), params.point_spacing_m)
    per_piece = np.bincount(owner, minlength=len(frame))
    pop = units_p[OLDER_POP].to_numpy(dtype=float)
    unit_idx = frame["unit"].to_numpy()[owner]
    weight = pop[unit_idx] * frame["share"].to_numpy()[owner] / per_piece[owner]
    rows = pd.DataFrame({UNIT_ID: units_p[UNIT_ID].to_numpy()[unit_idx], OLDER_POP: weight,
                         "placement": frame["placement"].to_numpy()[owner]})
    order = np.argsort(unit_idx, kind="stable")
    rows = rows.iloc[order].reset_index(drop=True)
    rows.insert(0, "demand_id", np.arange(len(rows)))
    return gpd.GeoDataFrame(rows, geometry=list(pts[order]), crs=crs)


def assert_same_demand(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    for col in ("demand_id", UNIT_ID, "placement"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy())
    np.testing.assert_array_equal(shapely.get_coordinates(got.geometry.to_numpy()),
                                  shapely.get_coordinates(want.geometry.to_numpy()))
    np.testing.assert_allclose(got[OLDER_POP].to_numpy(), want[OLDER_POP].to_numpy(),
                               rtol=4e-16 * 8, atol=0)


def test_synthetic_district_equals_the_overlay_method() -> None:
    """Residential blocks wholly inside their communities (the shortcut everywhere)."""
    inputs = build_demo_district(seed=5, target_nodes=20_000)
    params = DemandParams()
    units = validate_units(inputs.units)
    crs = "EPSG:32648"
    got = build_demand_points(units, inputs.residential, params, crs).points
    assert_same_demand(got, old_demand(units, inputs.residential, params, crs))
    assert len(got) > 5000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_areas_crossing_unit_borders_equal_the_overlay_method(seed: int) -> None:
    """Random residential boxes, many cut by the 4 unit squares, some wholly inside, some in
    no unit; one unit without residential land (points spread evenly)."""
    rng = np.random.default_rng(seed)
    crs = "EPSG:32648"
    x0, y0 = 400_000.0, 3_400_000.0
    squares = [shapely.box(x0 + i * 600, y0 + j * 600, x0 + (i + 1) * 600, y0 + (j + 1) * 600)
               for i in range(2) for j in range(2)] + [shapely.box(x0 + 1300, y0, x0 + 1500,
                                                                    y0 + 200)]
    units = gpd.GeoDataFrame({UNIT_ID: [f"u{i}" for i in range(5)],
                              "name": [f"社区{i}" for i in range(5)],
                              OLDER_POP: rng.uniform(100, 900, 5), "settlement": "urban"},
                             geometry=squares, crs=crs).to_crs("EPSG:4326")
    lo = rng.uniform(-100, 1150, (40, 2))
    size = rng.uniform(20, 300, (40, 2))
    boxes = [shapely.box(x0 + a, y0 + b, x0 + a + w, y0 + b + h)
             for (a, b), (w, h) in zip(lo, size, strict=True)]
    boxes.append(shapely.Polygon([(x0 + 100, y0 + 100), (x0 + 400, y0 + 400),  # a bow-tie:
                                  (x0 + 400, y0 + 100), (x0 + 100, y0 + 400)]))  # made valid
    residential = gpd.GeoDataFrame({"kind": ["landuse"] * len(boxes)}, geometry=boxes,
                                   crs=crs).to_crs("EPSG:4326")
    units = validate_units(units)
    params = DemandParams()
    got = build_demand_points(units, residential, params, crs).points
    assert_same_demand(got, old_demand(units, residential, params, crs))
    assert {"residential", "even"} <= set(got["placement"])


def test_units_derived_from_residential_land_equal_the_overlay_method() -> None:
    """No units file: each residential area is a unit, its own piece (not intersected with
    itself); neighbours touching it or overlapping it are still cut as before."""
    inputs = build_demo_district(seed=4, target_nodes=20_000)
    residential = inputs.residential.copy()
    first = residential.geometry.iloc[0]  # one area overlapping another: a real overlay piece
    moved = residential.iloc[[0]].set_geometry([shapely.affinity.translate(first, 2e-4, 1e-4)])
    residential = pd.concat([residential, moved], ignore_index=True)
    assert residential.geometry.iloc[-1].intersection(first).area > 0
    params = DemandParams()
    crs = "EPSG:32648"
    got = build_demand_points(None, residential, params, crs)
    assert got.assumed_density and len(got.units) == (residential["kind"] == "landuse").sum()
    want = old_demand(derive_units_from_residential(residential, params, crs), residential,
                      params, crs)
    assert_same_demand(got.points.drop(columns=[c for c in got.points.columns
                                                if c not in want.columns]), want)

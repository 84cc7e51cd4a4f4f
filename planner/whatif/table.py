"""The facility table of a what-if state: arrays for the hot path, the GeoDataFrame on demand.

A scenario touches a handful of facilities; rebuilding a GeoDataFrame of all of them for each
one costs more than the routing it triggers on a district. :class:`FacilityTable` keeps the ids,
types and projected coordinates as arrays and builds the frame only when it is asked for (once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from planner.errors import InputDataError
from planner.schema import FACILITY_ID, FACILITY_TYPE, WGS84


@dataclass(frozen=True, slots=True)
class FacilityChange:
    """One facility to add or move: id, WGS-84 lon/lat (degrees), type (adds), capacity."""

    facility_id: str
    lon: float
    lat: float
    facility_type: str = ""
    capacity: float = float("nan")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named set of changes: facilities to add, move and remove (by id)."""

    name: str
    add: tuple[FacilityChange, ...] = ()
    move: tuple[FacilityChange, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class FacilityTable:
    """Facilities in the network CRS: ``ids``, ``types``, ``x_m``, ``y_m`` per position.

    ``keys`` number the facilities for good (a key is never renumbered when others are
    removed; ``key_ids[key]`` is its id). ``build`` makes the full GeoDataFrame (all columns)
    when :meth:`frame` is first called.
    """

    ids: NDArray[np.object_]
    types: NDArray[np.object_]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    keys: NDArray[np.int64]
    key_ids: NDArray[np.object_]
    build: Callable[[], gpd.GeoDataFrame]
    _cache: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame) -> FacilityTable:
        """The table of a projected facility GeoDataFrame (kept as its frame)."""
        geom = frame.geometry
        ids = frame[FACILITY_ID].astype(str).to_numpy(dtype=object)
        return cls(ids, frame[FACILITY_TYPE].astype(str).to_numpy(dtype=object),
                   geom.x.to_numpy(dtype=float) if len(frame) else np.zeros(0),
                   geom.y.to_numpy(dtype=float) if len(frame) else np.zeros(0),
                   np.arange(ids.size, dtype=np.int64), ids, lambda: frame, {"frame": frame})

    def __len__(self) -> int:
        return int(self.ids.size)

    def frame(self) -> gpd.GeoDataFrame:
        """The facilities as a GeoDataFrame (built once)."""
        if "frame" not in self._cache:
            self._cache["frame"] = self.build()
        got: gpd.GeoDataFrame = self._cache["frame"]
        return got

    def of_type(self, ftype: str) -> NDArray[np.int64]:
        """Positions of the facilities of ``ftype`` (ascending; found once per type)."""
        key = f"type:{ftype}"
        if key not in self._cache:
            self._cache[key] = np.flatnonzero(self.types == ftype)
        got: NDArray[np.int64] = self._cache[key]  # type: ignore[assignment]
        return got

    def position(self) -> dict[str, int]:
        """Position of each facility id (built once)."""
        if "position" not in self._cache:
            self._cache["position"] = {str(f): i for i, f in enumerate(self.ids)}
        got: dict[str, int] = self._cache["position"]  # type: ignore[assignment]
        return got


@lru_cache(maxsize=8)
def _from_wgs84(crs: str) -> Transformer:
    """The lon/lat -> network CRS transformer (made once per CRS; making one takes ~20 ms)."""
    return Transformer.from_crs(WGS84, crs, always_xy=True)


def _project(crs: str, changes: tuple[FacilityChange, ...]) -> tuple[
        NDArray[np.float64], NDArray[np.float64]]:
    """Network-CRS coordinates of ``changes`` (one scalar call each: a few changes only)."""
    transform = _from_wgs84(crs).transform
    xy = [transform(float(c.lon), float(c.lat)) for c in changes]
    return (np.array([p[0] for p in xy], dtype=float).reshape(-1),
            np.array([p[1] for p in xy], dtype=float).reshape(-1))


def _check_ids(table: FacilityTable, scenario: Scenario, types: set[str]) -> None:
    where = table.position()
    for fid in [*scenario.remove, *(m.facility_id for m in scenario.move)]:
        if fid not in where:
            msg = f"facility {fid!r} is not in the plan; use an existing facility_id"
            raise InputDataError(msg)
    for a in scenario.add:
        if a.facility_id in where:
            raise InputDataError(f"new facility {a.facility_id!r} already exists; give a new id")
        if a.facility_type not in types:
            msg = f"new facility {a.facility_id!r} has type {a.facility_type!r}; use one of "
            raise InputDataError(msg + ", ".join(sorted(types)))


def _frame_after(old: FacilityTable, kept: NDArray[np.bool_], moved_at: NDArray[np.int64],
                 scenario: Scenario, crs: str) -> Callable[[], gpd.GeoDataFrame]:
    """A builder of the GeoDataFrame after the scenario (removed dropped, moved in place, added
    appended with ``name`` = id)."""
    def build() -> gpd.GeoDataFrame:
        fac = old.frame()
        table = fac[kept].reset_index(drop=True)
        if scenario.move:
            x, y = _project(crs, scenario.move)
            table.loc[moved_at, "geometry"] = gpd.points_from_xy(x, y, crs=crs)
        if scenario.add:
            x, y = _project(crs, scenario.add)
            rows = gpd.GeoDataFrame({FACILITY_ID: [c.facility_id for c in scenario.add],
                                     "name": [c.facility_id for c in scenario.add],
                                     FACILITY_TYPE: [c.facility_type for c in scenario.add],
                                     "capacity": [c.capacity for c in scenario.add]},
                                    geometry=gpd.points_from_xy(x, y), crs=crs)
            table = pd.concat([table, rows], ignore_index=True)
        return gpd.GeoDataFrame(table, geometry="geometry", crs=fac.crs)
    return build


def table_after(old: FacilityTable, scenario: Scenario, crs: str, types: set[str]) -> tuple[
        FacilityTable, NDArray[np.int64], NDArray[np.bool_]]:
    """Facilities after ``scenario``: removed dropped, moved in place, added appended.

    Returns the table, the new position of each old facility (-1 if removed) and a flag per new
    position for facilities that are new or moved (they are added by a search). ``types`` are
    the facility types a new facility may have.
    """
    _check_ids(old, scenario, types)
    where = old.position()
    n_add = len(scenario.add)
    kept = np.ones(len(old), dtype=bool)
    kept[[where[f] for f in scenario.remove]] = False
    new_pos = np.cumsum(kept) - 1
    new_pos[~kept] = -1
    moved_at = new_pos[[where[m.facility_id] for m in scenario.move]].astype(np.int64)
    x_m, y_m = _project(crs, scenario.move + scenario.add)
    n_kept = new_pos.size - len(scenario.remove)
    fresh = np.zeros(n_kept + n_add, dtype=bool)
    fresh[moved_at] = True
    fresh[n_kept:] = True
    def after(values: NDArray[Any], added: list[Any] | NDArray[Any]) -> NDArray[Any]:
        return np.concatenate([values[kept] if scenario.remove else values,
                               np.asarray(added, dtype=values.dtype)])

    add_ids = np.array([a.facility_id for a in scenario.add], dtype=object)
    xs, ys = after(old.x_m, x_m[len(scenario.move):]), after(old.y_m, y_m[len(scenario.move):])
    xs[moved_at], ys[moved_at] = x_m[:len(scenario.move)], y_m[:len(scenario.move)]
    table = FacilityTable(
        after(old.ids, add_ids), after(old.types, [a.facility_type for a in scenario.add]), xs,
        ys, after(old.keys, np.arange(old.key_ids.size, old.key_ids.size + n_add)),
        np.concatenate([old.key_ids, add_ids]), _frame_after(old, kept, moved_at, scenario, crs))
    return table, new_pos, fresh

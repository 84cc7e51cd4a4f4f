"""Communities and villages (units) grouped into streets and towns for the synthetic demo district."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.errors import InputDataError
from planner.synthetic.lattice import Lattice
from planner.synthetic.names import build_parent_names, build_unit_names

#: Fictional county-level code (not assigned in Chengdu's 5101xx range).
DISTRICT_CODE = "510199"
BLOCKS_PER_COMMUNITY = 2.2
BLOCKS_PER_VILLAGE = 6.0
UNITS_PER_STREET = 9.0
UNITS_PER_TOWN = 8.0


@dataclass(frozen=True, slots=True)
class UnitPlan:
    """Which unit every block belongs to, and the unit table.

    Attributes
    ----------
    unit_of_block
        Unit position per block, shape (nx * ny,), -1 outside the district.
    table
        One row per unit, in unit order: ``unit_id, name, older_pop, settlement, parent_id,
        parent_name, n_blocks, centre_x_m, centre_y_m``.
    """

    unit_of_block: NDArray[np.int64]
    table: pd.DataFrame


def _farthest_seeds(
    rng: np.random.Generator, xy: NDArray[np.float64], k: int
) -> NDArray[np.float64]:
    """Pick ``k`` well-spread points by farthest-point sampling (O(k n), fine for k <= 10^4)."""
    first = int(rng.integers(len(xy)))
    chosen = [first]
    dist = np.hypot(xy[:, 0] - xy[first, 0], xy[:, 1] - xy[first, 1])
    for _ in range(k - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(xy[:, 0] - xy[nxt, 0], xy[:, 1] - xy[nxt, 1]))
    return xy[chosen]


def _cluster(rng: np.random.Generator, xy: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Group points into about ``k`` compact clusters: spread seeds, then two Lloyd steps."""
    k = int(min(max(k, 1), len(xy)))
    seeds = _farthest_seeds(rng, xy, k)
    points = shapely.points(xy)
    label = np.zeros(len(xy), dtype=np.int64)
    for _ in range(3):
        tree = shapely.STRtree(shapely.points(seeds))
        label = tree.query_nearest(points, all_matches=False)[1]
        _, label = np.unique(label, return_inverse=True)
        counts = np.bincount(label)
        seeds = (
            np.column_stack([np.bincount(label, xy[:, 0]), np.bincount(label, xy[:, 1])])
            / counts[:, None]
        )
    return label


def _units_of_class(
    rng: np.random.Generator, xy: NDArray[np.float64], blocks_per_unit: float
) -> NDArray[np.int64]:
    return _cluster(rng, xy, max(2, round(len(xy) / blocks_per_unit)))


def _unit_frame(
    labels: NDArray[np.int64], xy: NDArray[np.float64], settlement: str
) -> pd.DataFrame:
    counts = np.bincount(labels)
    return pd.DataFrame(
        {
            "settlement": settlement,
            "n_blocks": counts,
            "centre_x_m": np.bincount(labels, xy[:, 0]) / counts,
            "centre_y_m": np.bincount(labels, xy[:, 1]) / counts,
        }
    )


def _assign_parents(
    rng: np.random.Generator, table: pd.DataFrame, per_parent: float, min_parents: int
) -> NDArray[np.int64]:
    xy = table[["centre_x_m", "centre_y_m"]].to_numpy()
    return _cluster(rng, xy, max(min_parents, round(len(xy) / per_parent)))


def _older_pop(rng: np.random.Generator, table: pd.DataFrame) -> NDArray[np.float64]:
    """Older adults per unit: urban 800-3000 per community, rural 200-900 per village."""
    urban = (table["settlement"] == "urban").to_numpy()
    noise = rng.lognormal(0.0, 0.25, len(table))
    raw: NDArray[np.float64] = np.where(urban, 900.0, 110.0) * table["n_blocks"].to_numpy() * noise
    low, high = np.where(urban, 800.0, 200.0), np.where(urban, 3000.0, 900.0)
    clipped = np.clip(raw, low, high)  # a local: nested, mypy picks np.round's float16 overload
    return np.round(clipped)


def _codes(table: pd.DataFrame, n_streets: int) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    """12-digit unit codes and 9-digit parent codes in the 统计用区划代码 style.

    Streets take 001-099 and towns 100 onwards; past 999 parents the county code counts down
    from ``DISTRICT_CODE`` (large benchmark districts only).
    """
    urban = (table["settlement"] == "urban").to_numpy()
    parent = table["parent"].to_numpy()
    town_base = max(100, n_streets + 1)
    parent_no = np.where(urban, parent + 1, parent - n_streets + town_base) - 1
    county = int(DISTRICT_CODE) - parent_no // 999
    rank = table.groupby("parent").cumcount().to_numpy()
    unit_no = np.where(urban, rank + 1, rank + 201)
    if unit_no.max() > 999 or county.min() < int(DISTRICT_CODE) - 98:
        msg = (
            f"{parent_no.max() + 1} streets and towns exceed the code range; use fewer target_nodes"
        )
        raise InputDataError(msg)
    local = np.char.zfill((parent_no % 999 + 1).astype(str), 3)
    parent_code = np.char.add(county.astype(str), local)
    return np.char.add(parent_code, np.char.zfill(unit_no.astype(str), 3)), parent_code


def _label_parents(rng: np.random.Generator, table: pd.DataFrame) -> pd.DataFrame:
    """Attach streets to communities and towns to villages, with codes and names."""
    urban = table["settlement"] == "urban"
    streets = _assign_parents(rng, table[urban], UNITS_PER_STREET, 2)
    towns = _assign_parents(rng, table[~urban], UNITS_PER_TOWN, 1)
    n_streets = int(streets.max()) + 1
    table = table.assign(parent=np.concatenate([streets, towns + n_streets]))
    table = table.sort_values(["parent", "centre_y_m", "centre_x_m"], kind="stable")
    street_names, town_names = build_parent_names(rng, n_streets, int(towns.max()) + 1)
    unit_ids, parent_ids = _codes(table, n_streets)
    names_urban, names_rural = build_unit_names(rng, int(urban.sum()), int((~urban).sum()))
    is_urban = (table["settlement"] == "urban").to_numpy()
    names = np.empty(len(table), dtype=object)
    names[is_urban], names[~is_urban] = names_urban, names_rural
    return table.assign(
        unit_id=unit_ids,
        name=names,
        parent_id=parent_ids,
        parent_name=np.array(street_names + town_names, dtype=object)[table["parent"].to_numpy()],
    )


def build_units(rng: np.random.Generator, lattice: Lattice) -> UnitPlan:
    """Group blocks into communities (core) and villages (fringe), then into streets and towns.

    Parameters
    ----------
    rng
        Seeded generator.
    lattice
        The district's block lattice.

    Returns
    -------
    UnitPlan
        Block-to-unit map and the unit table (see :class:`UnitPlan`).

    Raises
    ------
    InputDataError
        More streets and towns than 3-digit codes allow.
    """
    cx, cy = lattice.block_centres_m()
    flat_core = lattice.core.ravel()
    flat_inc = lattice.included.ravel()
    xy = np.column_stack([cx.ravel(), cy.ravel()])
    unit_of_block = np.full(flat_inc.size, -1, dtype=np.int64)
    frames, offset = [], 0
    for settlement, mask, per in (
        ("urban", flat_core, BLOCKS_PER_COMMUNITY),
        ("rural", flat_inc & ~flat_core, BLOCKS_PER_VILLAGE),
    ):
        labels = _units_of_class(rng, xy[mask], per)
        unit_of_block[mask] = labels + offset
        frames.append(_unit_frame(labels, xy[mask], settlement))
        offset += int(labels.max()) + 1
    table = _label_parents(rng, pd.concat(frames, ignore_index=True))
    order = table.index.to_numpy()
    new_pos = np.empty_like(order)
    new_pos[order] = np.arange(len(order))
    unit_of_block = np.where(unit_of_block >= 0, new_pos[np.maximum(unit_of_block, 0)], -1)
    table = table.reset_index(drop=True)
    table["older_pop"] = _older_pop(rng, table)
    return UnitPlan(unit_of_block, table)

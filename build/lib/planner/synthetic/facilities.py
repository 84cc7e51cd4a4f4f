"""Elderly-care facilities of the synthetic demo district, with deliberate coverage gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.errors import InputDataError
from planner.params import FACILITY_TYPES
from planner.synthetic.lattice import Lattice
from planner.synthetic.names import build_home_names, number_duplicates
from planner.synthetic.streets import HW, Network

#: Share of each type when ``n_facilities`` is given.
TYPE_SHARES = {
    "day_care": 0.27,
    "meal_point": 0.30,
    "community_complex": 0.06,
    "service_station": 0.21,
    "nursing_home": 0.07,
    "health": 0.09,
}
_ID_PREFIX = {
    "day_care": "DC",
    "meal_point": "MP",
    "community_complex": "CC",
    "service_station": "SS",
    "nursing_home": "NH",
    "health": "HC",
}
_CAPACITY = {
    "day_care": (30, 80),
    "meal_point": (80, 200),
    "community_complex": (100, 200),
    "service_station": (20, 40),
    "nursing_home": (50, 300),
}
_GAP_RADIUS_M = {"urban": 900.0, "rural": 1600.0}
_NEEDS_GAP = ("day_care", "meal_point")


def find_gap_units(
    rng: np.random.Generator, table: pd.DataFrame, has_edges: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Units left without day-care centres and meal points: one urban and one rural cluster."""
    gap = np.zeros(len(table), dtype=bool)
    xy = table[["centre_x_m", "centre_y_m"]].to_numpy()
    for settlement, radius_m in _GAP_RADIUS_M.items():
        same = (table["settlement"] == settlement).to_numpy()
        pool = np.flatnonzero(same & has_edges)
        centre = xy[pool[rng.integers(pool.size)]]
        gap |= same & (np.hypot(*(xy - centre).T) < radius_m)
    return gap


def _weighted_units(
    rng: np.random.Generator, weight: NDArray[np.float64], n: int
) -> NDArray[np.int64]:
    eligible = int((weight > 0).sum())
    return rng.choice(weight.size, size=n, replace=n > eligible, p=weight / weight.sum())


def _best_units(table: pd.DataFrame, has_edges: NDArray[np.bool_]) -> pd.Series:
    """Most populous unit with streets of every parent."""
    pop = np.where(has_edges, table["older_pop"].to_numpy(), -1.0)
    return pd.Series(pop).groupby(table["parent"].to_numpy()).idxmax()


def _default_rows(
    rng: np.random.Generator,
    table: pd.DataFrame,
    has_edges: NDArray[np.bool_],
    gap: NDArray[np.bool_],
    skip: int,
) -> list[tuple[str, NDArray[np.int64], bool]]:
    """Facility (type, units, parent-level) groups at the default density."""
    urban = (table["settlement"] == "urban").to_numpy()
    rows = []
    for kind, p_urban, p_rural in (
        ("day_care", 0.65, 0.35),
        ("meal_point", 0.75, 0.45),
        ("service_station", 0.5, 0.3),
    ):
        ok = has_edges & (~gap if kind in _NEEDS_GAP else True)
        rows.append(
            (
                kind,
                np.flatnonzero(ok & (rng.random(len(table)) < np.where(urban, p_urban, p_rural))),
                False,
            )
        )
    best = _best_units(table, has_edges)
    rows.append(("community_complex", best.drop(index=skip).to_numpy(), True))
    rows.append(("health", best.to_numpy(), True))
    rows.append(
        ("health", np.flatnonzero(~urban & has_edges & (rng.random(len(table)) < 0.3)), False)
    )
    n_homes = max(2, round(len(table) / 10)) - 1
    rows.append(
        (
            "nursing_home",
            _weighted_units(rng, table["older_pop"].to_numpy() * has_edges, n_homes),
            False,
        )
    )
    return rows


def _type_counts(n_facilities: int) -> dict[str, int]:
    """Split ``n_facilities`` over the six types by ``TYPE_SHARES`` (largest remainder, >= 1 each)."""
    raw = np.array([TYPE_SHARES[t] for t in FACILITY_TYPES]) * (n_facilities - len(FACILITY_TYPES))
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: n_facilities - len(FACILITY_TYPES) - counts.sum()]] += 1
    return dict(zip(FACILITY_TYPES, (counts + 1).tolist(), strict=True))


def _counted_rows(
    rng: np.random.Generator,
    table: pd.DataFrame,
    has_edges: NDArray[np.bool_],
    gap: NDArray[np.bool_],
    skip: int,
    n_facilities: int,
) -> list[tuple[str, NDArray[np.int64], bool]]:
    """Facility groups for an exact total ``n_facilities``."""
    counts = _type_counts(n_facilities)
    pop = table["older_pop"].to_numpy() * has_edges
    best = _best_units(table, has_edges).drop(index=skip).to_numpy()
    best = rng.permutation(best)
    return [
        ("day_care", _weighted_units(rng, pop * ~gap, counts["day_care"]), False),
        ("meal_point", _weighted_units(rng, pop * ~gap, counts["meal_point"]), False),
        ("community_complex", best[np.arange(counts["community_complex"]) % best.size], True),
        ("service_station", _weighted_units(rng, pop, counts["service_station"]), False),
        ("nursing_home", _weighted_units(rng, pop, counts["nursing_home"] - 1), False),
        ("health", _weighted_units(rng, pop, counts["health"]), False),
    ]


def plan_facilities(
    rng: np.random.Generator,
    table: pd.DataFrame,
    has_edges: NDArray[np.bool_],
    n_facilities: int | None,
) -> pd.DataFrame:
    """Decide the type and unit of every facility (the remote nursing home comes last).

    Returns
    -------
    pandas.DataFrame
        ``type, unit, parent_level, remote`` per facility.

    Raises
    ------
    InputDataError
        ``n_facilities`` is below one per type.
    """
    if n_facilities is not None and n_facilities < len(FACILITY_TYPES):
        msg = f"n_facilities={n_facilities} is below one per type; use at least {len(FACILITY_TYPES)} or None"
        raise InputDataError(msg)
    gap = find_gap_units(rng, table, has_edges)
    streets = table.loc[table["settlement"] == "urban", "parent"].unique()
    skip = int(streets[rng.integers(streets.size)])
    if n_facilities is None:
        groups = _default_rows(rng, table, has_edges, gap, skip)
    else:
        groups = _counted_rows(rng, table, has_edges, gap, skip, n_facilities)
    frame = pd.concat(
        [
            pd.DataFrame({"type": kind, "unit": units, "parent_level": level})
            for kind, units, level in groups
        ],
        ignore_index=True,
    )
    frame["remote"] = False
    remote = pd.DataFrame(
        {"type": ["nursing_home"], "unit": [-1], "parent_level": [False], "remote": [True]}
    )
    frame = pd.concat([frame, remote], ignore_index=True)
    frame["type"] = pd.Categorical(frame["type"], categories=FACILITY_TYPES)
    return frame.sort_values("type", kind="stable").reset_index(drop=True)


def _candidate_edges(
    network: Network, unit_of_block: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Street segments (no footways, steps or tracks) sorted by unit, with per-unit start and count."""
    bad = np.isin(network.edge_hw, [HW["footway"], HW["steps"], HW["track"]])
    edge = np.flatnonzero(~bad)
    unit = unit_of_block[network.edge_block[edge]]
    edge, unit = edge[unit >= 0], unit[unit >= 0]
    order = np.argsort(unit, kind="stable")
    counts = np.bincount(unit, minlength=int(unit_of_block.max()) + 1)
    return edge[order], np.concatenate([[0], np.cumsum(counts)[:-1]]), counts


def units_with_edges(network: Network, unit_of_block: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each unit has at least one street segment to put a facility on."""
    return _candidate_edges(network, unit_of_block)[2] > 0


def _share_segments(
    rng: np.random.Generator, plan: pd.DataFrame, edge: NDArray[np.int64], frac: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Move up to three service stations or meal points onto the segment of a day-care centre."""
    unit: NDArray[np.int64] = plan["unit"].to_numpy().copy()
    hosts = np.flatnonzero((plan["type"] == "day_care").to_numpy())
    guests = np.flatnonzero(plan["type"].isin(["service_station", "meal_point"]).to_numpy())
    for host, guest in zip(hosts[:3], rng.permutation(guests)[:3], strict=False):
        edge[guest], unit[guest] = edge[host], unit[host]
        frac[guest] = frac[host] + (0.3 if frac[host] < 0.5 else -0.3)
    return unit


def place_facilities(
    rng: np.random.Generator,
    plan: pd.DataFrame,
    network: Network,
    unit_of_block: NDArray[np.int64],
    lattice: Lattice,
) -> pd.DataFrame:
    """Put each facility 8-25 m off a random street segment of its unit, inside the unit.

    The remote nursing home goes to the roadless corner, 500 m or so from the nearest road.

    Returns
    -------
    pandas.DataFrame
        ``plan`` plus ``unit`` (final), ``x_m``, ``y_m`` (local metric frame).
    """
    edges, start, count = _candidate_edges(network, unit_of_block)
    unit = np.maximum(plan["unit"].to_numpy(), 0)
    pick = start[unit] + np.floor(rng.random(unit.size) * count[unit]).astype(np.int64)
    edge = edges[np.minimum(pick, edges.size - 1)]
    frac = rng.uniform(0.2, 0.8, unit.size)
    unit = _share_segments(rng, plan, edge, frac)
    a, b = network.edge_u[edge], network.edge_v[edge]
    x = network.x_m[a] + frac * (network.x_m[b] - network.x_m[a])
    y = network.y_m[a] + frac * (network.y_m[b] - network.y_m[a])
    block = network.edge_block[edge]
    ri, rj = lattice.remote_corner
    remote = plan["remote"].to_numpy()
    x[remote], y[remote] = lattice.corner_x_m[ri, rj], lattice.corner_y_m[ri, rj]
    block[remote] = ri * lattice.shape[1] + rj
    unit[remote] = unit_of_block[block[remote]]
    cx, cy = (c.ravel()[block] for c in lattice.block_centres_m())
    step = np.where(remote, 20.0, rng.uniform(8.0, 25.0, unit.size)) / np.hypot(cx - x, cy - y)
    return plan.assign(unit=unit, x_m=x + step * (cx - x), y_m=y + step * (cy - y))


def _names(rng: np.random.Generator, placed: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    """Chinese facility names from unit / street / town names and the type."""
    unit = table.iloc[placed["unit"].to_numpy()].reset_index(drop=True)
    kind = placed["type"].astype(str).to_numpy()
    urban = (unit["settlement"] == "urban").to_numpy()
    level = placed["parent_level"].to_numpy()
    un, pn = unit["name"].to_numpy(dtype=object), unit["parent_name"].to_numpy(dtype=object)
    homes = build_home_names(rng, len(placed)).astype(object)
    names = np.select(
        [
            kind == "day_care",
            kind == "meal_point",
            kind == "service_station",
            (kind == "community_complex") & urban,
            kind == "community_complex",
            (kind == "health") & level & urban,
            (kind == "health") & level,
            (kind == "health") & urban,
            kind == "health",
            placed["remote"].to_numpy(),
            (kind == "nursing_home") & ~urban,
        ],
        [
            un + "日间照料中心",
            un + "老年助餐点",
            un + "养老服务站",
            pn + "综合养老服务中心",
            pn + "区域养老服务中心",
            pn + "社区卫生服务中心",
            pn + "卫生院",
            un + "社区卫生服务站",
            un + "卫生室",
            homes.astype(str).astype(object) + "（山居）",
            np.char.rstrip(pn.astype(str), "镇").astype(object) + "敬老院",
        ],
        homes,
    )
    return number_duplicates(pd.Series(names, dtype=object))


def _capacity(rng: np.random.Generator, kind: NDArray[np.str_]) -> NDArray[np.float64]:
    """Older adults served (beds for nursing homes, meals/day for meal points); NaN for health."""
    capacity = np.full(kind.size, np.nan)
    for name, (low, high) in _CAPACITY.items():
        sel = kind == name
        step = 10 if name == "nursing_home" else 1
        capacity[sel] = rng.integers(low // step, high // step + 1, int(sel.sum())) * step
    return capacity


def build_facility_table(
    rng: np.random.Generator, placed: pd.DataFrame, table: pd.DataFrame
) -> pd.DataFrame:
    """Final facility table: ``facility_id, name, type, capacity, unit_id, x_m, y_m``."""
    kind = placed["type"].astype(str).to_numpy()
    rank = placed.groupby("type", observed=True).cumcount().to_numpy() + 1
    prefix = np.array([_ID_PREFIX[k] for k in kind], dtype=object)
    return pd.DataFrame(
        {
            "facility_id": prefix + pd.Series(rank).astype(str).str.zfill(5).to_numpy(dtype=object),
            "name": _names(rng, placed, table).to_numpy(),
            "type": kind.astype(object),
            "capacity": _capacity(rng, kind),
            "unit_id": table["unit_id"].to_numpy()[placed["unit"].to_numpy()],
            "x_m": placed["x_m"].to_numpy(),
            "y_m": placed["y_m"].to_numpy(),
        }
    )

"""Roll per-unit tables up the administrative hierarchy: community -> street/town -> district -> city."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import pandas as pd

from planner.errors import InputDataError

#: Levels from the top; street and town share a tier, as do community and village.
LEVELS: tuple[str, ...] = ("city", "district", "street", "town", "community", "village")
LEVEL_TIER: Mapping[str, int] = MappingProxyType(
    {"city": 0, "district": 1, "street": 2, "town": 2, "community": 3, "village": 3}
)
LEVEL_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "city": ("市", "city"), "district": ("区（市）县", "district/county"),
    "street": ("街道", "street"), "town": ("乡镇", "town"),
    "community": ("社区", "community"), "village": ("村", "village"),
})
ALL_ID = "all"
HIERARCHY_COLUMNS = ("unit_id", "name", "level", "parent_id")


def build_hierarchy(units: pd.DataFrame) -> pd.DataFrame:
    """A minimal hierarchy from a units frame's ``parent_id``/``parent_name`` (one level up).

    Returns
    -------
    pandas.DataFrame
        ``unit_id, name, level, parent_id``; parents get level ``town`` when their name ends in
        镇/乡, else ``street``.
    """
    rows = [
        {"unit_id": str(u), "name": str(n), "level": str(lv or "community"), "parent_id": str(p or "")}
        for u, n, lv, p in zip(
            units["unit_id"], units.get("name", units["unit_id"]),
            units.get("level", pd.Series("community", index=units.index)),
            units.get("parent_id", pd.Series("", index=units.index)).fillna(""), strict=True,
        )
    ]
    parent_names = units.get("parent_name", units.get("parent_id"))
    if parent_names is not None and "parent_id" in units.columns:
        for pid, pname in zip(units["parent_id"].fillna(""), parent_names.fillna(""), strict=True):
            if pid:
                level = "town" if str(pname).endswith(("镇", "乡")) else "street"
                rows.append({"unit_id": str(pid), "name": str(pname or pid), "level": level,
                             "parent_id": ""})
    return pd.DataFrame(rows, columns=list(HIERARCHY_COLUMNS)).drop_duplicates("unit_id")


def find_ancestors(hierarchy: pd.DataFrame) -> pd.DataFrame:
    """Every unit paired with itself and each of its ancestors.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, ancestor_id, depth`` (0 = the unit itself).

    Raises
    ------
    InputDataError
        The parent links form a cycle.
    """
    parent = dict(zip(hierarchy["unit_id"].astype(str), hierarchy["parent_id"].fillna("").astype(str), strict=True))
    rows: list[tuple[str, str, int]] = []
    for uid in parent:
        node, depth, seen = uid, 0, set()
        while node:
            if node in seen:
                msg = f"unit hierarchy has a cycle through {node!r}; fix its parent_id"
                raise InputDataError(msg)
            seen.add(node)
            rows.append((uid, node, depth))
            node, depth = parent.get(node, ""), depth + 1
    return pd.DataFrame(rows, columns=["unit_id", "ancestor_id", "depth"])


def roll_up(
    table: pd.DataFrame,
    hierarchy: pd.DataFrame,
    *,
    sum_columns: Sequence[str] = ("older_pop", "covered_pop"),
    shares: Mapping[str, tuple[str, str]] | None = None,
    by: Sequence[str] = ("facility_type",),
) -> pd.DataFrame:
    """Aggregate a per-unit table to every ancestor level and a jurisdiction total.

    Parameters
    ----------
    table
        One row per bottom unit (and per ``by`` key), with ``unit_id`` and ``sum_columns``.
    hierarchy
        ``unit_id, name, level, parent_id`` for all levels (see :func:`build_hierarchy`).
    sum_columns
        Population or count columns summed up the tree (e.g. ``older_pop``, ``covered_pop``).
    shares
        ``{share: (numerator, denominator)}`` recomputed after summing (default
        ``covered_share = covered_pop / older_pop``); NaN where the denominator is 0.
    by
        Key columns kept apart (e.g. ``facility_type``); those absent from ``table`` are ignored.

    Returns
    -------
    pandas.DataFrame
        ``unit_id, name, level, parent_id, *by, n_units, *sum_columns, *shares`` for the units,
        every ancestor, and a ``unit_id = "all"``, ``level = "city"`` total unless the hierarchy
        has a single city root; ordered from the top level down.
    """
    shares = dict(shares) if shares is not None else {"covered_share": ("covered_pop", "older_pop")}
    keys = [c for c in by if c in table.columns]
    sums = [c for c in sum_columns if c in table.columns]
    base = table[["unit_id", *keys, *sums]].copy()
    base["unit_id"] = base["unit_id"].astype(str)
    known = set(hierarchy["unit_id"].astype(str))
    extra = sorted(set(base["unit_id"]) - known)
    hier = pd.concat([hierarchy[list(HIERARCHY_COLUMNS)].astype(str),
                      pd.DataFrame({"unit_id": extra, "name": extra, "level": "community",
                                    "parent_id": ""})], ignore_index=True)
    roots = hier.loc[hier["parent_id"].isin(["", "nan"]) | ~hier["parent_id"].isin(hier["unit_id"])]
    if not (len(roots) == 1 and roots["level"].iloc[0] == "city"):
        hier.loc[hier["unit_id"].isin(roots["unit_id"]), "parent_id"] = ALL_ID
        hier = pd.concat([hier, pd.DataFrame([{"unit_id": ALL_ID, "name": ALL_ID, "level": "city",
                                               "parent_id": ""}])], ignore_index=True)
    pairs = find_ancestors(hier)
    joined = base.merge(pairs, on="unit_id").drop(columns="unit_id")
    joined["n_units"] = 1
    grouped = joined.groupby(["ancestor_id", *keys], dropna=False, sort=False)
    out = grouped[["n_units", *sums]].sum().reset_index().rename(columns={"ancestor_id": "unit_id"})
    for share, (num, den) in shares.items():
        if num in out.columns and den in out.columns:
            out[share] = out[num] / out[den].where(out[den] > 0)
    out = hier.merge(out, on="unit_id")
    out["parent_id"] = out["parent_id"].replace("nan", "")
    out["_tier"] = out["level"].map(LEVEL_TIER).fillna(9)
    out = out.sort_values(["_tier", "unit_id", *keys], kind="stable").drop(columns="_tier")
    return out.reset_index(drop=True)

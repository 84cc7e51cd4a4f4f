"""Coverage on people: each person's walking time to the service their need calls for.

Every person of the register is snapped to the walking network like a demand point and gets,
per facility type, the time to the nearest facility (the analysis's nearest-time field, same
rules as :mod:`planner.routing.travel`) and the unit's threshold for that type. A person is
covered for a type when that time is within the threshold. Needs map to services:
需要助餐 -> meal_point, 需要日间照料 -> day_care, 需要上门服务 -> service_station.

Hand-worked example (tests/planner/needs): three people in one urban unit (15-minute meal
circle) with meal times 5, 14.9 and 20 minutes, the last two needing meals: ``all`` has
people 3, covered 2; ``need_meal`` has people 2, covered 1, and one person with unmet need.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.network.snap import EdgeIndex, SnapResult
from planner.pipeline import PlanResult
from planner.routing.travel import compute_point_times
from planner.schema import FACILITY_ID, FACILITY_TYPE, NAME, SETTLEMENT

FLAGS = ("disability", "alone", "empty_nest", "low_income", "oldest_old")
NEEDS = ("need_meal", "need_day_care", "need_home_care")
NEED_SERVICE = {"need_meal": "meal_point", "need_day_care": "day_care",
                "need_home_care": "service_station"}
GROUPS = ("all", *FLAGS, *NEEDS)
PEOPLE_COLUMNS = ("person_id", "name", "age", "located_by", "unit_id", *FLAGS, *NEEDS)
COVERAGE_COLUMNS = ("unit_id", "unit_name", "facility_type", "group", "people", "covered")


def _type_snap(snap: SnapResult, mask: np.ndarray) -> SnapResult:
    """All facilities, with those not of the type made unroutable (positions stay global)."""
    status = np.where(mask, snap.status, "not_snapped")
    return SnapResult(snap.edge, snap.frac, snap.access_m, status)


def person_times(plan: PlanResult, people: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per person and type: ``time_s`` to the nearest facility, its id, and the threshold (s).

    Returns a long frame: ``person, facility_type, time_s, facility_id, threshold_s`` (``person``
    is the row position in ``people``; unroutable people get ``inf``).
    """
    pts = people.to_crs(plan.network.crs)
    snap = EdgeIndex(plan.network).snap(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(),
                                        plan.params.snap.max_snap_m)
    settlement = people["unit_id"].map(plan.units.set_index("unit_id")[SETTLEMENT]).fillna("urban")
    fsnap = plan.facility_snap
    ids = plan.facilities[FACILITY_ID].astype(str).to_numpy()
    parts = []
    for ftype, nearest in plan.nearest.items():
        mask = (plan.facilities[FACILITY_TYPE] == ftype).to_numpy()
        if fsnap is None:
            continue
        time_s, src = compute_point_times(plan.network, nearest, snap, _type_snap(fsnap, mask))
        thr = settlement.map(lambda s, t=ftype: 60.0 * plan.params.coverage.threshold_min(t, s))
        parts.append(pd.DataFrame({
            "person": np.arange(len(people)), "facility_type": ftype, "time_s": time_s,
            "facility_id": np.where(src >= 0, ids[np.clip(src, 0, None)], None),
            "threshold_s": thr.to_numpy(dtype=float)}))
    return pd.concat(parts, ignore_index=True)


def _groups_types(plan: PlanResult) -> list[tuple[str, str]]:
    types = sorted(set(plan.params.coverage.required_types) | set(NEED_SERVICE.values()))
    types = [t for t in types if t in plan.nearest]
    pairs = [(g, t) for g in ("all", *FLAGS) for t in types]
    return pairs + [(n, NEED_SERVICE[n]) for n in NEEDS if NEED_SERVICE[n] in plan.nearest]


def needs_coverage(plan: PlanResult, people: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    """Exact people and covered counts per unit, facility type and group (protected figures).

    Groups: ``all`` older adults of the register, each flag, and each need (with its service).
    """
    wide = times.assign(ok=times["time_s"] <= times["threshold_s"]).pivot(
        index="person", columns="facility_type", values="ok")
    base = pd.DataFrame({"unit_id": people["unit_id"].to_numpy()}).join(wide)
    rows = []
    for group, ftype in _groups_types(plan):
        member = (np.ones(len(people), dtype=bool) if group == "all"
                  else people[group].to_numpy(dtype=bool))
        part = base.loc[member]
        counts = part.groupby("unit_id", dropna=False)[ftype].agg(["size", "sum"])
        rows += [{"unit_id": u, "facility_type": ftype, "group": group, "people": int(n),
                  "covered": int(c)} for u, (n, c) in counts.iterrows()]
    out = pd.DataFrame(rows, columns=[c for c in COVERAGE_COLUMNS if c != "unit_name"])
    names = plan.units.set_index("unit_id")[NAME]
    out.insert(1, "unit_name", out["unit_id"].map(names).fillna(""))
    return out


def outreach_list(plan: PlanResult, people: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    """PROTECTED: one row per person and unmet need, most unmet needs first, then farthest.

    Columns: person_id, name, unit_id, unit_name, age, need, facility_type, walk_min,
    threshold_min, nearest_facility, unmet_needs, flags, lon, lat.
    """
    key = times.set_index(["person", "facility_type"])
    names = plan.facilities.set_index(plan.facilities[FACILITY_ID].astype(str))[NAME]
    units = plan.units.set_index("unit_id")[NAME]
    rows = []
    for need in NEEDS:
        ftype = NEED_SERVICE[need]
        if ftype not in plan.nearest:
            continue
        for pos in np.flatnonzero(people[need].to_numpy(dtype=bool)):
            t = key.loc[(pos, ftype)]
            if t["time_s"] <= t["threshold_s"]:
                continue
            person = people.iloc[pos]
            rows.append({"person_id": person["person_id"], "name": person["name"],
                         "unit_id": person["unit_id"],
                         "unit_name": units.get(person["unit_id"], ""),
                         "age": person["age"], "need": need, "facility_type": ftype,
                         "walk_min": round(float(t["time_s"]) / 60.0, 1),
                         "threshold_min": float(t["threshold_s"]) / 60.0,
                         "nearest_facility": names.get(t["facility_id"], "") if t["facility_id"]
                         else "", "flags": int(sum(bool(person[f]) for f in FLAGS)),
                         "lon": round(person.geometry.x, 6), "lat": round(person.geometry.y, 6)})
    out = pd.DataFrame(rows, columns=["person_id", "name", "unit_id", "unit_name", "age", "need",
                                      "facility_type", "walk_min", "threshold_min",
                                      "nearest_facility", "flags", "lon", "lat"])
    out.insert(10, "unmet_needs", out.groupby("person_id")["need"].transform("size"))
    out = out.sort_values(["unmet_needs", "flags", "walk_min", "person_id"],
                          ascending=[False, False, False, True], kind="stable")
    return out.reset_index(drop=True)

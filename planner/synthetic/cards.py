"""Synthetic finder details for the demo district: facility cards and everyday services.

Deterministic from the facility ids (and the seed): addresses, phone numbers, hours, fees and
meal details are invented for the demo and labelled so (the phone numbers use the reserved-looking
prefix 028-0000, which is not a Chengdu number).
"""

from __future__ import annotations

import zlib

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.schema import FACILITY_ID, FACILITY_TYPE, WGS84

_SERVICES = {
    "day_care": "日间照料、康复训练、文化娱乐（示范数据）",
    "meal_point": "老年助餐、堂食、送餐上门（示范数据）",
    "community_complex": "日间照料、助餐、助浴、康复、上门服务（示范数据）",
    "service_station": "上门探访、助洁、代购、健康咨询（示范数据）",
    "nursing_home": "长期照护、失能照护、医养结合（示范数据）",
    "health": "基本医疗、慢病管理、家庭医生签约（示范数据）",
}
_EVERYDAY = (("senior_university", "老年大学"), ("supermarket", "超市"), ("pharmacy", "大药房"))


def _n(text: str, mod: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % mod


def synthetic_cards(facilities: pd.DataFrame) -> pd.DataFrame:
    """Card columns (address, phone, hours, fees, services, meal fields, rating) per facility."""
    rows = []
    for fid, ftype in zip(facilities[FACILITY_ID].astype(str), facilities[FACILITY_TYPE],
                          strict=True):
        row = {"address": f"示范区{_n(fid, 9) + 1}号路{_n(fid + 'a', 300) + 1}号（示范数据）",
               "phone": f"028-0000{_n(fid + 'p', 10000):04d}",
               "hours": "08:30-17:30" if ftype != "nursing_home" else "全天",
               "services": _SERVICES.get(str(ftype), ""),
               "rating": ("一星", "二星", "三星", "四星")[_n(fid + "r", 4)]}
        if ftype == "meal_point":
            row.update(meal_times="午餐 11:30-13:00；晚餐 17:00-18:30",
                       meal_price=f"{10 + _n(fid + 'm', 6)}元/餐（60岁以上补贴2元）",
                       delivery="是" if _n(fid + "d", 2) else "否")
        else:
            row["fees"] = "免费" if ftype in ("service_station", "health") else "按服务项目收费"
        if ftype in ("day_care", "nursing_home"):
            row["free_places"] = str(_n(fid + "f", 12))
        rows.append(row)
    return pd.DataFrame(rows, index=facilities.index)


def synthetic_everyday(units: gpd.GeoDataFrame, seed: int = 7) -> gpd.GeoDataFrame:
    """One everyday service of each kind for every third urban unit, near its centre."""
    rng = np.random.default_rng(seed)
    metric = units.to_crs(units.estimate_utm_crs())
    rows = []
    for k, (uid, name, point) in enumerate(zip(metric["unit_id"], metric["name"],
                                               metric.geometry.representative_point(),
                                               strict=True)):
        if k % 3:
            continue
        kind, label = _EVERYDAY[(k // 3) % len(_EVERYDAY)]
        dx, dy = rng.uniform(-80, 80, 2)
        rows.append({"place_id": f"SYN-E{uid}", "name": f"{name}{label}（示范）", "type": kind,
                     "geometry": point.__class__(point.x + dx, point.y + dy)})
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=metric.crs)
    return frame.to_crs(WGS84)

"""A synthetic older-adult register for the demo district (every row says it is synthetic).

People are placed inside the demo's residential areas (else its units) in proportion to each
unit's older population (one person per ``per_person`` older adults), with ages 60-99 and needs
drawn at rough rates of Chengdu's surveys (失能 ~12 %, 独居 ~10 %, 空巢 ~30 %, 低保/特困 ~5 %,
需要助餐 ~20 %, 日间照料 ~8 %, 上门服务 ~10 %). Names are 合成老人NNNN and ids SYN-NNNNNN; about
one row in eight has only the community code and no coordinates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

RATES = {"失能等级": 0.12, "独居": 0.10, "空巢": 0.30, "低保/特困": 0.05, "需要助餐": 0.20,
         "需要日间照料": 0.08, "需要上门服务": 0.10}
LEVELS = ("轻度失能", "中度失能", "重度失能")


def _points_in(poly: shapely.Geometry, k: int,
               rng: np.random.Generator) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = poly.bounds
    out: list[tuple[float, float]] = []
    while len(out) < k:
        xs, ys = rng.uniform(x0, x1, 4 * k), rng.uniform(y0, y1, 4 * k)
        inside = shapely.contains_xy(poly, xs, ys)
        out.extend(zip(xs[inside].tolist(), ys[inside].tolist(), strict=True))
    return out[:k]


def synthetic_register(units: gpd.GeoDataFrame, *, per_person: float = 50.0,
                       seed: int = 7, this_year: int = 2026) -> pd.DataFrame:
    """Register rows with Chinese headers (编号, 姓名, 经度, 纬度, 社区代码, 出生年份, needs)."""
    rng = np.random.default_rng(seed)
    metric = units.to_crs(units.estimate_utm_crs())
    rows: list[dict[str, object]] = []
    for uid, pop, poly in zip(metric["unit_id"], metric["older_pop"], metric.geometry,
                              strict=True):
        k = int(round(float(pop) / per_person))
        for x, y in _points_in(poly, k, rng) if k else []:
            n = len(rows) + 1
            row: dict[str, object] = {"编号": f"SYN-{n:06d}", "姓名": f"合成老人{n:04d}",
                                      "x": x, "y": y, "社区代码": str(uid),
                                      "出生年份": int(this_year - rng.integers(60, 100))}
            for col, rate in RATES.items():
                hit = rng.random() < rate
                row[col] = (LEVELS[int(rng.integers(0, 3))] if hit else "能力完好") \
                    if col == "失能等级" else ("是" if hit else "否")
            row["高龄"] = "是" if this_year - int(str(row["出生年份"])) >= 80 else "否"
            row["备注"] = "合成示范数据 SYNTHETIC"
            rows.append(row)
    frame = pd.DataFrame(rows)
    lonlat = gpd.GeoSeries(gpd.points_from_xy(frame["x"], frame["y"]), crs=metric.crs).to_crs(4326)
    frame.insert(2, "经度", np.round(lonlat.x, 6))
    frame.insert(3, "纬度", np.round(lonlat.y, 6))
    frame = frame.drop(columns=["x", "y"])
    only_code = rng.random(len(frame)) < 0.125
    frame.loc[only_code, ["经度", "纬度"]] = np.nan
    return frame

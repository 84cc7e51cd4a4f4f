"""Chinese and English wording of compliance notes and binding flags (constants only)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: key -> (zh, en); ``{name}`` fields are filled by :func:`text`.
TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "needs": ("无法评估：需要", "not evaluable: needs "),
    "coverage": ("覆盖表（先运行步行可达分析）", "the coverage table (run the walking analysis)"),
    "cov_type": ("{t} 的覆盖结果", "coverage results for {t}"),
    "threshold": ("{t} 在 {m} 分钟的覆盖（表中为 {h} 分钟）", "coverage of {t} at {m} min (table has {h} min)"),
    "assignment": ("设施所属单元（单元边界或登记表“所属社区”列）",
                   "facility units (unit polygons or the register's 所属社区 column)"),
    "level": ("层级为 {lv} 的单元（12位统计用区划代码或“所属街道”列）",
              "units at level {lv} (12-digit codes or a parent column)"),
    "column": ("登记表“{c}”列", "the register's {c} column"),
    "zone_area": ("单元分区（{z}）", "the unit's zone ({z})"),
    "hukou": ("单元“户籍老年人口”列", "the units' 户籍老年人口 (older_pop_hukou) column"),
    "residential": ("新建居住区范围及建成年份（--residential，或 OSM landuse=residential 加 built_year）",
                    "new residential areas with their build year (--residential)"),
    "no_type": ("无法评估：输入中没有 {t}（请提供设施登记表）",
                "not evaluable: no {t} in the inputs (give a facility register)"),
    "unknown_fac": ("{n} 个设施数据缺失，结果未知", "{n} facility(ies) without the figure: unknown"),
    "all_unknown": ("{n} 个{what}均无数据", "none of {n} {what} report it"),
    "known_of": ("{n} 个{what}中 {k} 个有数据", "{k} of {n} {what} report it"),
    "partial_value": ("部分：{p}；介于 {lo} 与 {hi} 之间", "partial: {p}; between {lo} and {hi}"),
    "units": ("单元", "units"),
    "fac": ("设施", "facilities"),
    "areas": ("居住区", "residential areas"),
    "built_year": ("居住区的建成年份或“新建”标记", "the build year or 新建 flag of residential areas"),
    "unit_share": ("单元达标线：{s:.0%} 的老年人在服务圈内（来源：{src}）",
                   "a unit is within the circle when {s:.0%} of its older adults are (source: {src})"),
    "history": ("历史目标（目标年份已过）", "history (target year passed)"),
    "future": ("未到期目标（以更早目标为准）", "later target (an earlier one is in force)"),
    "total_pop": ("单元“常住人口”列", "the units' total population (常住人口) column"),
    "health": ("登记表中的医疗卫生机构", "health facilities in the register"),
    "no_pop": ("无老年人口", "no older people"),
    "conditional": ("有条件的：不计入指标", "where conditions allow: not counted in the indicator"),
    "qualitative": ("定性目标，仅报告计算值", "qualitative target; computed value reported only"),
    "no_units": ("无适用单元", "no applicable units"),
    "no_fac": ("无该类设施", "no facility of the type"),
    "bound_any": ("多类型取单元内最大覆盖率（下界）", "several types: best type per unit (a lower bound)"),
    "absent_types": ("输入中没有 {t}，未计入", "no {t} in the inputs, left out"),
    "all": ("全域", "whole area"),
})

#: binding flag -> (zh, en) as printed in the plans' tables.
BINDING_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "binding": ("约束性", "binding"), "expected": ("预期性", "expected"),
    "advocated": ("倡导性", "advocated"), "unspecified": ("—", "unspecified"),
})


def text(key: str, lang: str, **fields: object) -> str:
    """A note in ``zh`` or ``en`` with its fields filled."""
    zh, en = TEXTS[key]
    return (zh if lang == "zh" else en).format(**fields)

#: Register / unit columns as a planner reads them (Chinese header, canonical name).
COLUMN_NAMES: Mapping[str, str] = MappingProxyType({
    "floor_area_m2": "建筑面积 (floor_area_m2)", "usable_area_m2": "使用面积 (usable_area_m2)",
    "site_area_m2": "占地面积 (site_area_m2)", "land_area_m2": "用地面积 (land_area_m2)",
    "beds": "床位 (beds)", "nursing_beds": "护理型床位 (nursing_beds)",
    "operation": "运营方式 (operation)", "inclusive": "普惠 (inclusive)",
    "hardship_support": "特困供养 (hardship_support)",
})

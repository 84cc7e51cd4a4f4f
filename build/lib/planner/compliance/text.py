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
    "floor_area": ("登记表“建筑面积”列", "the register's floor area (建筑面积) column"),
    "zone_area": ("单元分区（{z}）", "the unit's zone ({z})"),
    "beds": ("登记表“床位”列", "the register's beds (床位) column"),
    "nursing_beds": ("登记表“护理型床位”列", "the register's nursing beds (护理型床位) column"),
    "land": ("登记表“用地面积”列", "the register's land area (用地面积) column"),
    "total_pop": ("单元“常住人口”列", "the units' total population (常住人口) column"),
    "health": ("登记表中的医疗卫生机构", "health facilities in the register"),
    "no_pop": ("无老年人口", "no older people"),
    "conditional": ("有条件的：不计入指标", "where conditions allow: not counted in the indicator"),
    "qualitative": ("定性目标，仅报告计算值", "qualitative target; computed value reported only"),
    "partial": ("{n} 个单元无法评估", "{n} unit(s) not evaluable"),
    "partial_fac": ("{n} 个设施缺护理型床位数，未计入", "{n} facility(ies) lack nursing beds, left out"),
    "no_units": ("无适用单元", "no applicable units"),
    "no_fac": ("无该类设施", "no facility of the type"),
    "absent_type": ("无 {t} 设施，覆盖率按0计", "no {t} facility; coverage taken as 0"),
    "bound_any": ("多类型取单元内最大覆盖率（下界）", "several types: best type per unit (a lower bound)"),
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

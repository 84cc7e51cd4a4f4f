"""Report labels in Chinese and English: column headers, reasons, actions, sheet titles."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Column key -> (zh, en) header.
HEADERS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "rank": ("排序", "Rank"), "unit_id": ("单元编码", "Unit ID"), "unit_name": ("社区/村", "Unit"),
    "parent_name": ("街道/乡镇", "Street/town"), "area": ("区域", "Area"),
    "facility_type": ("设施类型代码", "Type key"), "type_label": ("设施类型", "Facility type"),
    "threshold_min": ("步行阈值(分钟)", "Walk threshold (min)"),
    "older_pop": ("老年人口", "Older adults"), "covered_pop": ("覆盖老年人口", "Covered older adults"),
    "covered_share": ("覆盖率", "Covered share"), "target_share": ("目标覆盖率", "Target share"),
    "uncovered_pop": ("未覆盖老年人口", "Uncovered older adults"),
    "median_time_min": ("步行时间中位数(分钟)", "Median walk (min)"),
    "p90_time_min": ("90%步行时间(分钟)", "P90 walk (min)"),
    "nearest_facility_id": ("最近设施编码", "Nearest facility"),
    "reason": ("原因代码", "Reason key"), "reason_label": ("缺口原因", "Reason"),
    "action": ("建议代码", "Action key"), "action_label": ("建议措施", "Suggested action"),
    "facility_id": ("设施编码", "Facility ID"), "name": ("名称", "Name"),
    "capacity": ("规模/床位", "Capacity"), "snap_access_m": ("接入路网距离(米)", "Snap distance (m)"),
    "snap_status": ("接入状态", "Snap status"), "warning": ("警示", "Warning"),
    "indicator": ("指标", "Indicator"), "baseline": ("基期值", "Baseline"), "target": ("目标值", "Target"),
    "target_year": ("目标年份", "Year"), "binding": ("属性", "Binding"),
    "computed": ("测算值", "Computed"), "met": ("是否达标", "Met?"), "source": ("依据", "Source"),
    "note": ("说明", "Note"), "key": ("项目", "Item"), "value": ("内容", "Value"),
    "rule_id": ("规则编号", "Rule"), "state": ("状态", "State"),
    "definition": ("口径", "Definition used"), "unit_of_measure": ("计量单位", "Unit of measure"),
    "status": ("目标状态", "Target status"),
    "band": ("步行时间段", "Walk-time band"), "pop": ("老年人口", "Older adults"),
    "id": ("指标编号", "Indicator ID"), "value_text": ("测算说明", "Computed (text)"),
    "baseline_text": ("基期值（文字）", "Baseline (text)"),
    "target_text": ("目标值（文字）", "Target (text)"),
})

REASON_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "no_facility_of_type": ("数据中无此类设施", "no facility of this type in the data"),
    "out_of_reach": ("步行阈值内无设施", "no facility in reach within the threshold"),
    "disconnected": ("住宅位于断开的路网", "homes on a disconnected part of the network"),
    "not_snapped": ("住宅距步行道路过远", "homes too far from any walkable street"),
})

ACTION_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "new_facility": ("新建{type}", "new facility of type {type}"),
    "enlarge": ("扩大{facility}的服务范围/规模", "enlarge {facility} (capacity / outreach)"),
    "co_locate": ("在{facility}内嵌入{type}", "co-locate a {type} in {facility}"),
    "improve_access": ("核查步行通道与路网数据", "check walking access and street data"),
})

SNAP_WARNINGS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "not_snapped": ("距步行道路超过接入距离，未计入覆盖", "too far from any walkable street; not counted"),
    "disconnected": ("位于断开的路网，覆盖偏小", "on a disconnected part of the network"),
})

SHEETS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "summary": ("指标汇总", "Summary"), "coverage": ("分单元覆盖", "Coverage by unit"),
    "gaps": ("缺口清单", "Gaps"), "facilities": ("设施台账", "Facilities"),
    "sites": ("建议选址", "Proposed sites"), "manifest": ("清单", "Manifest"),
})

NOT_EVALUATED: tuple[str, str] = ("未评估：请使用 --rules 运行", "not evaluated: run with --rules")
SYNTHETIC_LABEL: tuple[str, str] = ("合成演示数据，非真实地点", "SYNTHETIC DEMO DATA: not a real place")


def pick(pair: tuple[str, str], lang: str) -> str:
    """The ``zh`` or ``en`` member of a label pair."""
    return pair[0] if lang == "zh" else pair[1]


def header(key: str, lang: str) -> str:
    """Column header for ``key`` (the key itself when unlabelled)."""
    pair = HEADERS.get(key)
    return pick(pair, lang) if pair else key

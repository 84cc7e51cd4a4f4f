"""Palettes, threshold colours, stroke/fill styles and display text (constants only)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: Fill/stroke colour per facility type (categorical, distinguishable from the choropleth).
TYPE_COLOURS: Final[Mapping[str, str]] = MappingProxyType({
    "day_care": "#1f77b4",
    "meal_point": "#ff7f0e",
    "community_complex": "#9467bd",
    "service_station": "#17becf",
    "nursing_home": "#8c564b",
    "health": "#e377c2",
})
#: Colour of a type missing from :data:`TYPE_COLOURS`.
DEFAULT_TYPE_COLOUR: Final = "#7f7f7f"

#: One-character badge drawn in each facility marker, per language.
TYPE_GLYPHS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "zh": MappingProxyType({"day_care": "日", "meal_point": "餐", "community_complex": "综",
                            "service_station": "站", "nursing_home": "院", "health": "医"}),
    "en": MappingProxyType({"day_care": "D", "meal_point": "M", "community_complex": "C",
                            "service_station": "S", "nursing_home": "N", "health": "H"}),
})

#: Catchment outline/fill per threshold in minutes: fill opacity falls and the dash lengthens.
THRESHOLD_STYLES: Final[Mapping[float, Mapping[str, object]]] = MappingProxyType({
    5.0: MappingProxyType({"fillOpacity": 0.30, "weight": 2.0, "dashArray": None}),
    15.0: MappingProxyType({"fillOpacity": 0.18, "weight": 1.5, "dashArray": "6 4"}),
    30.0: MappingProxyType({"fillOpacity": 0.10, "weight": 1.0, "dashArray": "2 4"}),
})
#: Style of a threshold missing from :data:`THRESHOLD_STYLES`.
DEFAULT_THRESHOLD_STYLE: Final[Mapping[str, object]] = MappingProxyType(
    {"fillOpacity": 0.12, "weight": 1.0, "dashArray": "4 4"})

#: Choropleth colours from least to best covered (ColorBrewer RdYlGn, 5 classes); the last class
#: starts at the target share, so green means "meets the plan".
COVERAGE_COLOURS: Final[tuple[str, ...]] = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
#: Choropleth class breaks as fractions of the target share (0, t/4, t/2, 3t/4, t) plus 1.0.
COVERAGE_BREAKS_OF_TARGET: Final[tuple[float, ...]] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Choropleth polygon style.
UNIT_STYLE: Final[Mapping[str, object]] = MappingProxyType(
    {"color": "#555555", "weight": 1.0, "fillOpacity": 0.55})

#: Colour of gap outlines and hatching.
GAP_COLOUR: Final = "#d62728"
#: Id of the SVG hatch pattern used as the gaps' fill.
HATCH_ID: Final = "careplan-hatch"
#: Gap polygon style: thick red outline over a red hatch.
GAP_STYLE: Final[Mapping[str, object]] = MappingProxyType(
    {"color": GAP_COLOUR, "weight": 2.5, "fillColor": f"url(#{HATCH_ID})", "fillOpacity": 0.9})

#: Proposed-site marker colour.
SITE_COLOUR: Final = "#ffbf00"
#: Marker badge size in pixels.
BADGE_PX: Final = 22

#: Display text per language.
TEXT: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "zh": MappingProxyType({
        "facilities": "设施：{label}", "dissolved": "{t:g}分钟步行圈（按类型合并）",
        "catchments": "{t:g}分钟步行圈（逐设施）", "coverage": "覆盖率：{label}",
        "gaps": "服务缺口：{label}", "sites": "建议选址", "name": "名称", "type": "类型",
        "capacity": "床位/容量", "snap_status": "路网接入", "threshold": "步行时间（分钟）",
        "unit": "社区/村", "older_pop": "老年人口", "covered_share": "覆盖率",
        "uncovered_pop": "未覆盖老年人", "reason": "原因", "facility_type": "设施类型",
        "rank": "排序", "covered_gain": "新增覆盖老年人", "site_id": "选址编号",
        "legend": "图例", "legend_types": "设施类型", "legend_thresholds": "步行圈",
        "legend_coverage": "覆盖率（{label}）",
        "legend_gap": "服务缺口（覆盖率低于目标{target:.0%}）",
        "legend_site": "建议选址", "walk_note": "步行速度 {speed:g} 米/秒",
        "minutes": "{t:g} 分钟", "target": "达标",
        "synthetic": "合成演示数据：非真实数据，仅供演示",
        "assumed_density": "未提供社区人口：老年人口为按密度假设的估计值",
        "ok": "已接入", "not_snapped": "距道路过远，未接入", "disconnected": "位于孤立路网",
        "tianditu_key": "天地图需要密钥：请设置 CAREPLAN_TIANDITU_KEY 或在网址后加 ?tk=您的密钥；"
                        "当前显示离线底图",
        "tiles_failed": "在线底图无法加载：显示离线底图（OSM 路网）",
        "osm_layer": "OpenStreetMap", "amap_layer": "高德地图", "tianditu_layer": "天地图",
    }),
    "en": MappingProxyType({
        "facilities": "Facilities: {label}", "dissolved": "{t:g}-min walk catchments (dissolved)",
        "catchments": "{t:g}-min walk catchments (per facility)", "coverage": "Coverage: {label}",
        "gaps": "Gaps: {label}", "sites": "Proposed sites", "name": "Name", "type": "Type",
        "capacity": "Capacity", "snap_status": "Network access", "threshold": "Walk (min)",
        "unit": "Community/village", "older_pop": "Older adults", "covered_share": "Covered share",
        "uncovered_pop": "Uncovered older adults", "reason": "Reason",
        "facility_type": "Facility type", "rank": "Rank", "covered_gain": "Older adults gained",
        "site_id": "Site", "legend": "Legend", "legend_types": "Facility types",
        "legend_thresholds": "Walking catchments", "legend_coverage": "Covered share ({label})",
        "legend_gap": "Gap (below the {target:.0%} target)", "legend_site": "Proposed site",
        "walk_note": "walking speed {speed:g} m/s", "minutes": "{t:g} min", "target": "target",
        "synthetic": "SYNTHETIC DEMO DATA: not real, for demonstration only",
        "assumed_density": "No unit populations given: older adults are ASSUMED from a density",
        "ok": "on the network", "not_snapped": "too far from a street (not snapped)",
        "disconnected": "on a disconnected street part",
        "tianditu_key": "Tianditu tiles need a key: set CAREPLAN_TIANDITU_KEY or add ?tk=YOUR_KEY "
                        "to the page address; showing the offline background",
        "tiles_failed": "Online tiles could not be loaded: showing the offline background (OSM "
                        "streets)",
        "osm_layer": "OpenStreetMap", "amap_layer": "Amap (Gaode)", "tianditu_layer": "Tianditu",
    }),
})

#: Gap reasons in Chinese (English comes from ``planner.coverage.gaps.REASONS``).
REASONS_ZH: Final[Mapping[str, str]] = MappingProxyType({
    "no_facility_of_type": "数据中没有该类设施",
    "out_of_reach": "步行时限内无可达设施",
    "disconnected": "住宅位于孤立路网",
    "not_snapped": "住宅距步行道路过远",
})

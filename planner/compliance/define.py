"""The definition used (one sentence) and the unit of measure of each rule kind, in zh or en."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from planner.compliance.rules import Rule
from planner.compliance.text import COLUMN_NAMES

_LEVELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "community": ("社区", "communities"), "village": ("村", "villages"),
    "street": ("街道", "streets"), "town": ("镇", "towns"),
    "district": ("区（市）县", "districts/counties"), "city": ("市", "cities"),
})


def _levels(rule: Rule, zh: bool) -> str:
    names = [_LEVELS[lv][0 if zh else 1]
             for lv in rule.params.get("levels", ("community", "village"))]  # type: ignore[attr-defined]
    return ("、" if zh else " and ").join(names)


def _types(rule: Rule) -> str:
    return "/".join(list(rule.params.get("types", ("elderly facilities",))))  # type: ignore[call-overload]


def _area(rule: Rule, zh: bool) -> str:
    p = rule.params
    col = COLUMN_NAMES[str(p.get("area_column", "floor_area_m2"))]
    if "min_area_m2_by_zone" in p:
        need = ", ".join(f"{z} {v:g}" for z, v in dict(
            p["min_area_m2_by_zone"]).items())  # type: ignore[call-overload]
    elif "min_area_m2" in p:
        need = f"{float(p['min_area_m2']):g}"  # type: ignore[arg-type]
    else:
        return ""
    return f"（{col} ≥ {need} ㎡）" if zh else f" with {col} >= {need} m2"


def unit_of_measure(rule: Rule, lang: str) -> str:
    """What the value counts: share of communities, share of older adults, count, ..."""
    zh = lang == "zh"
    p = rule.params
    by_kind = {
        "presence": (f"{_levels(rule, True)}占比", f"share of {_levels(rule, False)}"),
        "unit_coverage": (f"{_levels(rule, True)}占比（步行服务圈）",
                          f"share of {_levels(rule, False)} (walking circle)"),
        "population_coverage": ("老年人占比", "share of older adults"),
        "count": ("个数", "count"),
        "beds_per_1000": ("张/千名老年人", "beds per 1,000 older adults"),
        "share": (f"{p.get('denominator', '')} 占比", f"share of {p.get('denominator', '')}"),
        "land_per_person": ("单元占比", "share of units"),
        "colocation": ("设施占比", "share of facilities"),
        "residential_provision": ("新建居住区占比", "share of new residential areas"),
    }
    return by_kind[rule.kind][0 if zh else 1]


def definition(rule: Rule, lang: str, unit_share: float) -> str:
    """The definition used for ``rule``: its own ``definition`` or one from its kind."""
    if rule.definition:
        return rule.definition
    zh, p, t = lang == "zh", rule.params, _types(rule)
    lv, n = _levels(rule, zh), int(p.get("min_count", 1))  # type: ignore[call-overload]
    where = ", ".join(f"{k} = {'/'.join(v)}" for k, v in dict(
        p.get("where", {})).items())  # type: ignore[call-overload]
    where = f" [{where}]" if where else ""
    if rule.kind == "presence":
        area = _area(rule, zh)
        if zh:
            tail = "；面积空白计为未知" if area else ""
            return f"辖区内至少有{n}处{t}{where}{area}的{lv}占全部{lv}的比例；无设施的单元计为未达标{tail}。"
        tail = ", a blank area is unknown" if area else ""
        return (f"Share of all {lv} holding at least {n} {t}{where}{area}; units without one "
                f"fail{tail}.")
    if rule.kind == "unit_coverage":
        return (f"老年人中至少 {unit_share:.0%} 在步行服务圈内可达 {t} 的{lv}占比（careplan 步行可达测度，非规划覆盖率）。"
                if zh else f"Share of {lv} where at least {unit_share:.0%} of older adults reach "
                f"{t} within their walking circle (careplan's walking measure, not a plan rate).")
    if rule.kind == "population_coverage":
        return (f"在步行服务圈内可达 {t} 的老年人占全部老年人的比例。" if zh else
                f"Share of all older adults who reach {t} within their walking circle.")
    if rule.kind == "count":
        return f"输入中 {t}{where} 的个数。" if zh else f"Number of {t}{where} in the inputs."
    if rule.kind == "beds_per_1000":
        pop = "户籍老年人" if p.get("population") == "older_pop_hukou" else "老年人"
        return (f"{t}{where} 床位数 / {pop}数 × 1000。" if zh else
                f"Beds of {t}{where} per 1,000 {'registered (户籍) ' if '户籍' in pop else ''}"
                "older adults.")
    if rule.kind == "share":
        nw = ", ".join(f"{k} = {'/'.join(v)}" for k, v in dict(
            p.get("numerator_where", {})).items())  # type: ignore[call-overload]
        num = f"{p['numerator']}" + (f" [{nw}]" if nw else "")
        return (f"{t}{where} 中 {num} / {p['denominator']}；缺失数据给出上下界。" if zh else
                f"{num} / {p['denominator']} over {t}{where}; missing figures give bounds.")
    if rule.kind == "land_per_person":
        return (f"{t} {COLUMN_NAMES[str(p.get('area_column', 'land_area_m2'))]} / 常住人口 ≥ "
                f"{p['min_m2_per_person']} ㎡ 的单元占比。" if zh else
                f"Share of units whose {t} land per resident is at least "
                f"{p['min_m2_per_person']} m2.")
    if rule.kind == "colocation":
        return (f"距社区医疗卫生设施 {p['max_distance_m']} 米以内的 {t} 占比。" if zh else
                f"Share of {t} within {p['max_distance_m']} m of a community health facility.")
    return ("建有或配套养老服务设施的新建居住区占全部新建居住区的比例。" if zh else
            "Share of new residential areas with an elderly-service facility inside or assigned.")

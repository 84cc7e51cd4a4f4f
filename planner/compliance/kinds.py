"""Keys of a rule profile: the rule kinds and their parameters, filters and top-level sections."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

BINDING_FLAGS: tuple[str, ...] = ("binding", "expected", "advocated", "unspecified")
_NUM = (int, float)
_LIST = (list,)
_TABLE = (dict,)
#: kind -> {param: (types, required)}; targets are shares (0-1) unless the kind says otherwise.
RULE_KINDS: Mapping[str, Mapping[str, tuple[tuple[type, ...], bool]]] = MappingProxyType({
    "presence": {"types": (_LIST, True), "levels": (_LIST, True),
                 "conditional_levels": (_LIST, False), "min_count": ((int,), False),
                 "settlement": ((str,), False), "where": (_TABLE, False),
                 "area_column": ((str,), False), "min_area_m2": (_NUM, False),
                 "min_area_m2_by_zone": (_TABLE, False)},
    "count": {"types": (_LIST, True), "settlement": ((str,), False), "where": (_TABLE, False),
              "type_contains": (_LIST, False), "measure": ((str,), False)},
    "unit_coverage": {"types": (_LIST, True), "combine": ((str,), False),
                      "settlement": ((str,), False), "levels": (_LIST, False),
                      "threshold_min": (_NUM, False)},
    "population_coverage": {"types": (_LIST, True), "combine": ((str,), False),
                            "settlement": ((str,), False), "threshold_min": (_NUM, False)},
    "beds_per_1000": {"types": (_LIST, False), "population": ((str,), False),
                      "where": (_TABLE, False)},
    "share": {"types": (_LIST, True), "numerator": ((str,), True), "denominator": ((str,), True),
              "where": (_TABLE, False), "numerator_where": (_TABLE, False),
              "type_contains": (_LIST, False)},
    "land_per_person": {"types": (_LIST, True), "zones": (_LIST, False),
                        "min_m2_per_person": (_NUM, True), "area_column": ((str,), False)},
    "colocation": {"types": (_LIST, True), "health_types": (_LIST, False),
                   "max_distance_m": (_NUM, True), "settlement": ((str,), False)},
    "residential_provision": {"types": (_LIST, True), "new_from_year": ((int,), False),
                              "min_land_m2_per_person": (_NUM, False),
                              "area_column": ((str,), False)},
})
#: Register columns a rule may filter on (``where``) and their values after normalising.
ATTRIBUTE_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "operation": ("public", "public_private", "private"),
    "inclusive": ("yes", "no"), "hardship_support": ("yes", "no"),
})
#: Area columns a rule may name: 建筑面积, 使用面积, 占地面积, 用地面积.
AREA_COLUMNS = ("floor_area_m2", "usable_area_m2", "site_area_m2", "land_area_m2")
#: Measures of the ``share`` kind.
SHARE_MEASURES = ("beds", "nursing_beds", "facilities")
_RULE_KEYS = {
    "id": ((str,), True), "kind": ((str,), True), "label_zh": ((str,), True),
    "label_en": ((str,), True), "source": (_LIST, True), "clause": ((str,), True),
    "quote": ((str,), False), "target_year": ((int,), False), "target": (_NUM, False),
    "baseline": (_NUM + (str,), False), "baseline_year": ((int,), False),
    "binding": ((str,), True), "note_zh": ((str,), False), "note_en": ((str,), False),
    "params": (_TABLE, True), "assumption": ((bool,), False), "definition": ((str,), False),
    "at_most": ((bool,), False),
}
_TOP = {
    "profile": {"name": ((str,), True), "label_zh": ((str,), True), "label_en": ((str,), True),
                "lang": ((str,), False), "population_basis": ((str,), False),
                "sources": (_TABLE, True), "note": ((str,), False),
                "villages_follow_zones": ((bool,), False)},
    "walk": {"speed_m_s": (_NUM, True), "steps_factor": (_NUM, False), "name": ((str,), False),
             "source": ((str,), True), "dem": ((str,), False)},
    "coverage": {"thresholds_min": (_LIST, False), "settlement_threshold_min": (_TABLE, True),
                 "type_threshold_min": (_TABLE, False), "required_types": (_LIST, True),
                 "target_share": (_NUM, True), "source": ((str,), True),
                 "target_share_source": ((str,), True),
                 "required_type_clauses": (_TABLE, True)},
    "zones": None,
    "access": {"zone_upper_min": (_LIST, True), "zone_weights": (_LIST, True),
               "source": ((str,), False)},
    "rules": None,
}

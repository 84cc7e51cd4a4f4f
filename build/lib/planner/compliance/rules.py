"""Jurisdiction rule profiles: validate a parsed profile into a frozen RuleProfile with PlanParams and Rules.

A profile (``data/rules/*.toml``) holds the walking model, thresholds per facility type and
settlement class, the service-circle types, the zone -> settlement map, demand weights and the
spatially checkable targets of one plan, each with its seed document and clause. Validation is
strict: an unknown or mistyped key is an error naming the key path and the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

import pandas as pd

from planner.coverage.hierarchy import LEVELS
from planner.errors import InputDataError
from planner.params import (
    FACILITY_TYPES,
    SETTLEMENTS,
    AccessParams,
    CoverageParams,
    PlanParams,
    WalkProfile,
)

BINDING_FLAGS: tuple[str, ...] = ("binding", "expected", "advocated", "unspecified")
_NUM = (int, float)
_LIST = (list,)
_TABLE = (dict,)
#: kind -> {param: (types, required)}; targets are shares (0-1) unless the kind says otherwise.
RULE_KINDS: Mapping[str, Mapping[str, tuple[tuple[type, ...], bool]]] = MappingProxyType({
    "unit_coverage": {"types": (_LIST, True), "combine": ((str,), False),
                      "settlement": ((str,), False), "levels": (_LIST, False),
                      "unit_share": (_NUM, False), "threshold_min": (_NUM, False)},
    "population_coverage": {"types": (_LIST, True), "combine": ((str,), False),
                            "settlement": ((str,), False), "threshold_min": (_NUM, False)},
    "presence": {"types": (_LIST, True), "levels": (_LIST, True),
                 "conditional_levels": (_LIST, False), "min_count": ((int,), False),
                 "min_floor_area_m2": (_NUM, False), "settlement": ((str,), False)},
    "count": {"types": (_LIST, True), "settlement": ((str,), False)},
    "floor_area": {"types": (_LIST, True), "min_floor_area_m2": (_NUM, False),
                   "min_floor_area_m2_by_zone": (_TABLE, False)},
    "beds_per_1000": {"types": (_LIST, False)},
    "nursing_bed_share": {"types": (_LIST, False)},
    "land_per_person": {"types": (_LIST, True), "zones": (_LIST, False),
                        "min_m2_per_person": (_NUM, True)},
    "colocation": {"types": (_LIST, True), "health_types": (_LIST, False),
                   "max_distance_m": (_NUM, True), "settlement": ((str,), False)},
})
_RULE_KEYS = {
    "id": ((str,), True), "kind": ((str,), True), "label_zh": ((str,), True),
    "label_en": ((str,), True), "source": (_LIST, True), "clause": ((str,), True),
    "quote": ((str,), False), "target_year": ((int,), True), "target": (_NUM, False),
    "baseline": (_NUM + (str,), False), "baseline_year": ((int,), False),
    "binding": ((str,), True), "note_zh": ((str,), False), "note_en": ((str,), False),
    "params": (_TABLE, True),
}
_TOP = {
    "profile": {"name": ((str,), True), "label_zh": ((str,), True), "label_en": ((str,), True),
                "lang": ((str,), False), "population_basis": ((str,), False),
                "sources": (_TABLE, True), "note": ((str,), False)},
    "walk": {"speed_m_s": (_NUM, True), "steps_factor": (_NUM, False), "name": ((str,), False),
             "source": ((str,), True)},
    "coverage": {"thresholds_min": (_LIST, False), "settlement_threshold_min": (_TABLE, True),
                 "type_threshold_min": (_TABLE, False), "required_types": (_LIST, True),
                 "target_share": (_NUM, True), "source": ((str,), True)},
    "zones": None, "demand": {"weights": (_TABLE, False), "source": ((str,), False)},
    "access": {"zone_upper_min": (_LIST, True), "zone_weights": (_LIST, True),
               "source": ((str,), False)},
    "rules": None,
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One checkable target of a plan.

    Attributes
    ----------
    id, kind
        Unique id and evaluation kind (a key of :data:`RULE_KINDS`).
    label_zh, label_en
        Indicator name as in the plan, and in English.
    source, clause, quote
        Seed document key(s), the clause (chapter/section/table row) and the verbatim text.
    target_year, target, baseline, baseline_year
        Target (a share 0-1, a count or a ratio, by kind; ``None`` for a qualitative target).
    binding
        ``binding`` (约束性), ``expected`` (预期性), ``advocated`` (倡导性) or ``unspecified``.
    params
        Kind-specific parameters (types, levels, thresholds ...).
    """

    id: str
    kind: str
    label_zh: str
    label_en: str
    source: tuple[str, ...]
    clause: str
    target_year: int
    binding: str
    params: Mapping[str, object]
    target: float | None = None
    baseline: float | str | None = None
    baseline_year: int | None = None
    quote: str = ""
    note_zh: str = ""
    note_en: str = ""

    def label(self, lang: str = "zh") -> str:
        """Indicator label in ``zh`` or ``en``."""
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True, slots=True)
class RuleProfile:
    """A validated jurisdiction profile (see module docstring)."""

    name: str
    label_zh: str
    label_en: str
    lang: str
    sources: Mapping[str, str]
    walk: WalkProfile
    coverage: CoverageParams
    zone_settlement: Mapping[str, str]
    demand_weights: Mapping[str, float]
    rules: tuple[Rule, ...]
    population_basis: str = "60+"
    origin: str = ""
    notes: Mapping[str, str] = field(default_factory=dict)
    access: AccessParams = field(default_factory=AccessParams)

    def plan_params(self) -> PlanParams:
        """The analysis parameters this profile implies (walk model, thresholds, circle types)."""
        return PlanParams(walk=self.walk, coverage=self.coverage, access=self.access,
                          profile_name=self.name)

    def rule(self, rule_id: str) -> Rule:
        """The rule with id ``rule_id``."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        msg = f"profile {self.name} has no rule {rule_id!r}; see `careplan rules show {self.name}`"
        raise InputDataError(msg)

    def weighted_older_pop(self, units: pd.DataFrame) -> pd.Series:
        """Demand weight per unit: ``older_pop + sum(weight_k * pop_k)`` over the profile's groups.

        Groups absent from ``units`` (e.g. no ``pop_disabled`` column) add nothing.
        """
        total = pd.to_numeric(units["older_pop"], errors="coerce").fillna(0.0).astype(float)
        for column, weight in self.demand_weights.items():
            if column in units.columns:
                total = total + weight * pd.to_numeric(units[column], errors="coerce").fillna(0.0)
        return total


def _fail(where: str, origin: str, what: str) -> InputDataError:
    return InputDataError(f"{origin}: {where} {what}")


def _check_keys(raw: Mapping[str, object], schema: Mapping[str, tuple[tuple[type, ...], bool]],
                where: str, origin: str) -> None:
    for key, value in raw.items():
        if key not in schema:
            near = difflib.get_close_matches(key, list(schema), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(schema)}"
            raise _fail(f"{where}.{key}".lstrip("."), origin, f"is not a known key; {hint}")
        types, _ = schema[key]
        if isinstance(value, bool) or not isinstance(value, types):
            names = "/".join(t.__name__ for t in types)
            raise _fail(f"{where}.{key}".lstrip("."), origin, f"= {value!r} must be {names}")
    for key, (_, required) in schema.items():
        if required and key not in raw:
            raise _fail(f"{where}.{key}".lstrip("."), origin, "is required; add it")


def _check_choice(value: object, choices: tuple[str, ...], where: str, origin: str) -> None:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if v not in choices:
            raise _fail(where, origin, f"= {v!r} is not one of {', '.join(choices)}")


def _build_rule(raw: Mapping[str, object], i: int, sources: Mapping[str, str], origin: str) -> Rule:
    where = f"rules[{i}]"
    _check_keys(raw, _RULE_KEYS, where, origin)
    kind = str(raw["kind"])
    _check_choice(kind, tuple(RULE_KINDS), f"{where}.kind", origin)
    _check_choice(raw["binding"], BINDING_FLAGS, f"{where}.binding", origin)
    _check_choice(raw["source"], tuple(sources), f"{where}.source", origin)
    params = dict(raw["params"])  # type: ignore[call-overload]
    _check_keys(params, RULE_KINDS[kind], f"{where}.params", origin)
    for key in ("types", "health_types"):
        if key in params:
            _check_choice(params[key], FACILITY_TYPES, f"{where}.params.{key}", origin)
    for key in ("levels", "conditional_levels"):
        if key in params:
            _check_choice(params[key], LEVELS, f"{where}.params.{key}", origin)
    if "combine" in params:
        _check_choice(params["combine"], ("any", "all"), f"{where}.params.combine", origin)
    if "settlement" in params:
        _check_choice(params["settlement"], (*SETTLEMENTS, "all"), f"{where}.params.settlement",
                      origin)
    target = raw.get("target")
    return Rule(
        id=str(raw["id"]), kind=kind, label_zh=str(raw["label_zh"]),
        label_en=str(raw["label_en"]), source=tuple(str(s) for s in raw["source"]),  # type: ignore[attr-defined]
        clause=str(raw["clause"]), target_year=int(raw["target_year"]),  # type: ignore[call-overload]
        binding=str(raw["binding"]), params=MappingProxyType(params),
        target=None if target is None else float(target),  # type: ignore[arg-type]
        baseline=raw.get("baseline"), baseline_year=raw.get("baseline_year"),  # type: ignore[arg-type]
        quote=str(raw.get("quote", "")), note_zh=str(raw.get("note_zh", "")),
        note_en=str(raw.get("note_en", "")),
    )


def build_profile(raw: Mapping[str, object], *, origin: str = "<profile>") -> RuleProfile:
    """Validate a parsed profile mapping (TOML) into a :class:`RuleProfile`.

    Raises
    ------
    InputDataError
        One line naming the file (``origin``), the key path (e.g. ``rules[3].params.typs``) and the
        fix: unknown or missing key, wrong type, unknown facility type, level, kind or source.
    """
    top = {k: ((dict, list), False) for k in _TOP}
    _check_keys(raw, {**top, "profile": ((dict,), True), "walk": ((dict,), True),
                      "coverage": ((dict,), True), "rules": ((list,), True)}, "", origin)
    for section, schema in _TOP.items():
        if schema is not None and section in raw:
            _check_keys(raw[section], schema, section, origin)  # type: ignore[arg-type]
    prof = cast(dict[str, Any], raw["profile"])
    walk = cast(dict[str, Any], raw["walk"])
    cov = cast(dict[str, Any], raw["coverage"])
    _check_choice(list(cov["settlement_threshold_min"]), SETTLEMENTS,
                  "coverage.settlement_threshold_min", origin)
    for t, m in dict(cov.get("type_threshold_min", {})).items():
        if not isinstance(m, dict):
            raise _fail(f"coverage.type_threshold_min.{t}", origin, "must be {urban = .., rural = ..}")
        _check_choice(list(m), SETTLEMENTS, f"coverage.type_threshold_min.{t}", origin)
    zones = dict(raw.get("zones", {}))  # type: ignore[call-overload]
    for zone, settle in zones.items():
        _check_choice(settle, SETTLEMENTS, f"zones.{zone}", origin)
    _check_choice(cov["required_types"], FACILITY_TYPES, "coverage.required_types", origin)
    _check_choice(list(cov.get("type_threshold_min", {})), FACILITY_TYPES,
                  "coverage.type_threshold_min", origin)
    weights = dict(dict(raw.get("demand", {})).get("weights", {}))  # type: ignore[call-overload]
    _check_choice(list(weights), ("pop_65", "pop_80", "pop_disabled", "pop_alone"),
                  "demand.weights", origin)
    for key, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, _NUM) or value < 0:
            raise _fail(f"demand.weights.{key}", origin, f"= {value!r} must be a number >= 0")
    sources = {str(k): str(v) for k, v in prof["sources"].items()}
    raw_rules = cast(list[Mapping[str, object]], raw["rules"])  # a list (checked) of tables
    rules = tuple(_build_rule(r, i, sources, origin) for i, r in enumerate(raw_rules))
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _fail("rules[].id", origin, f"repeats {dup}; give every rule its own id")
    try:
        walk_profile = WalkProfile(speed_m_s=float(walk["speed_m_s"]),
                                   steps_factor=float(walk.get("steps_factor", 2.0)),
                                   name=str(walk.get("name", "older_adult")))
    except InputDataError as exc:
        raise InputDataError(f"{origin}: walk.{exc}") from exc
    try:
        coverage = CoverageParams(
            thresholds_min=tuple(float(t) for t in cov.get("thresholds_min", (5, 15, 30))),
            settlement_threshold_min=MappingProxyType(
                {k: float(v) for k, v in cov["settlement_threshold_min"].items()}),
            type_threshold_min=MappingProxyType({
                t: MappingProxyType({k: float(v) for k, v in m.items()})
                for t, m in cov.get("type_threshold_min", {}).items()}),
            required_types=tuple(cov["required_types"]), target_share=float(cov["target_share"]))
    except InputDataError as exc:
        raise InputDataError(f"{origin}: coverage.{exc}") from exc
    acc = dict(raw.get("access", {}))  # type: ignore[call-overload]
    try:
        access = AccessParams(
            tuple(float(v) for v in acc.get("zone_upper_min", AccessParams().zone_upper_min)),
            tuple(float(v) for v in acc.get("zone_weights", AccessParams().zone_weights)))
    except (InputDataError, TypeError, ValueError) as exc:
        raise InputDataError(f"{origin}: access.{exc}") from exc
    return RuleProfile(
        name=str(prof["name"]), label_zh=str(prof["label_zh"]), label_en=str(prof["label_en"]),
        lang=str(prof.get("lang", "zh")), sources=MappingProxyType(sources), walk=walk_profile,
        coverage=coverage, zone_settlement=MappingProxyType({str(k): str(v) for k, v in zones.items()}),
        demand_weights=MappingProxyType({k: float(v) for k, v in weights.items()}), rules=rules,
        population_basis=str(prof.get("population_basis", "60+")), origin=origin,
        notes=MappingProxyType({"walk": str(walk["source"]), "coverage": str(cov["source"])}),
        access=access,
    )

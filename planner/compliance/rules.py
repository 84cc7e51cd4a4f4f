"""Jurisdiction rule profiles: validate a parsed profile into a frozen RuleProfile with PlanParams and Rules.

A profile (``data/rules/*.toml``) holds the walking model, thresholds per facility type and
settlement class, the service-circle types, the zone -> settlement map and the
spatially checkable targets of one plan, each with its seed document and clause. Validation is
strict: an unknown or mistyped key is an error naming the key path and the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, cast

from planner.compliance.kinds import (
    _RULE_KEYS,
    _TOP,
    AREA_COLUMNS,
    ATTRIBUTE_VALUES,
    BINDING_FLAGS,
    RULE_KINDS,
    SHARE_MEASURES,
)
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

__all__ = ["AREA_COLUMNS", "ATTRIBUTE_VALUES", "BINDING_FLAGS", "RULE_KINDS", "SHARE_MEASURES",
           "Rule", "RuleProfile", "build_profile"]


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
        Target (a share 0-1, a count or a ratio, by kind; ``None`` for a qualitative target);
        ``target_year`` 0 for a standing requirement (a standard) without a year.
    binding
        ``binding`` (约束性), ``expected`` (预期性), ``advocated`` (倡导性) or ``unspecified``.
    params
        Kind-specific parameters (types, levels, thresholds ...).
    assumption
        True for a rule the profile's author added without a plan clause requiring it; such
        rules are off unless asked for (``include_assumptions``).
    definition
        The definition used, one sentence (default: generated from the kind and parameters).
    at_most
        True when the target is an upper bound (e.g. 政府运营的养老床位占比 ≤ 40%).
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
    assumption: bool = False
    definition: str = ""
    at_most: bool = False

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
    rules: tuple[Rule, ...]
    population_basis: str = "60+"
    origin: str = ""
    notes: Mapping[str, str] = field(default_factory=dict)
    access: AccessParams = field(default_factory=AccessParams)
    villages_follow_zones: bool = False
    target_share_source: str = ""
    required_type_clauses: Mapping[str, tuple[str, str]] = field(default_factory=dict)

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


def _beside(origin: str, path: str) -> str:
    """``path`` relative to the profile file's folder (absolute paths and "" unchanged)."""
    if not path or PurePath(path).is_absolute() or not origin:
        return path
    return str(PurePath(origin).parent / path)


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
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
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
    _check_rule_params(params, f"{where}.params", origin)
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
        clause=str(raw["clause"]), target_year=int(raw.get("target_year", 0)),  # type: ignore[call-overload]
        binding=str(raw["binding"]), params=MappingProxyType(params),
        target=None if target is None else float(target),  # type: ignore[arg-type]
        baseline=raw.get("baseline"), baseline_year=raw.get("baseline_year"),  # type: ignore[arg-type]
        quote=str(raw.get("quote", "")), note_zh=str(raw.get("note_zh", "")),
        note_en=str(raw.get("note_en", "")), assumption=bool(raw.get("assumption", False)),
        definition=str(raw.get("definition", "")), at_most=bool(raw.get("at_most", False)),
    )


def _check_rule_params(params: Mapping[str, object], where: str, origin: str) -> None:
    """Check the values of ``where`` filters, area columns, share measures and populations."""
    for key in ("where", "numerator_where"):
        for col, values in dict(params.get(key, {})).items():  # type: ignore[call-overload]
            _check_choice(col, tuple(ATTRIBUTE_VALUES), f"{where}.{key}", origin)
            _check_choice(values, ATTRIBUTE_VALUES[col], f"{where}.{key}.{col}", origin)
    if "area_column" in params:
        _check_choice(params["area_column"], AREA_COLUMNS, f"{where}.area_column", origin)
    for key in ("numerator", "denominator", "measure"):
        if key in params:
            _check_choice(params[key], SHARE_MEASURES, f"{where}.{key}", origin)
    if "population" in params:
        _check_choice(params["population"], ("older_pop", "older_pop_hukou"),
                      f"{where}.population", origin)


def _required_type_clauses(cov: Mapping[str, Any], origin: str
                           ) -> Mapping[str, tuple[str, str]]:
    """Clause and quote of every required (service-circle) type; a type without one is an error."""
    raw = dict(cov["required_type_clauses"])
    out = {}
    for t in cov["required_types"]:
        entry = raw.get(t)
        if not isinstance(entry, dict) or not entry.get("clause") or not entry.get("quote"):
            raise _fail(f"coverage.required_type_clauses.{t}", origin,
                        "is required: give { clause = .., quote = .. } from the plan, or drop "
                        f"{t} from required_types")
        out[str(t)] = (str(entry["clause"]), str(entry["quote"]))
    return MappingProxyType(out)


def build_profile(raw: Mapping[str, object], *, origin: str = "<profile>") -> RuleProfile:
    """Validate a parsed profile mapping (TOML) into a :class:`RuleProfile`.

    Raises
    ------
    InputDataError
        One line naming the file (``origin``), the key path (e.g. ``rules[3].params.typs``) and the
        fix: unknown or missing key, wrong type, unknown facility type, level, kind or source.
    """
    top = dict.fromkeys(_TOP, ((dict, list), False))
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
    clauses = _required_type_clauses(cov, origin)
    _check_choice(list(cov.get("type_threshold_min", {})), FACILITY_TYPES,
                  "coverage.type_threshold_min", origin)
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
                                   name=str(walk.get("name", "older_adult")),
                                   dem=_beside(origin, str(walk.get("dem", ""))))
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
        rules=rules, villages_follow_zones=bool(prof.get("villages_follow_zones", False)),
        target_share_source=str(cov["target_share_source"]), required_type_clauses=clauses,
        population_basis=str(prof.get("population_basis", "60+")), origin=origin,
        notes=MappingProxyType({"walk": str(walk["source"]), "coverage": str(cov["source"])}),
        access=access,
    )

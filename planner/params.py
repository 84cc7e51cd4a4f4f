"""Frozen dataclasses for analysis parameters (walk profile, thresholds, snapping, demand) with validation.

Sources of the defaults
-----------------------
* Walking speed 0.8 m/s: measured mean gait speeds of adults aged 65-74 (0.80 m/s), 75-84
  (0.75 m/s), 85+ (0.71 m/s) and frail older adults (0.64 m/s, SPPB 4-7) in a cohort of 768 adults
  at risk of mobility disability (University of Bath research portal); 0.82 +/- 0.27 m/s measured
  near day-care centres in Kilkenny (doi:10.3109/09593985.2012.703760). General routing engines use
  1.0-1.33 m/s, which overstates an older adult's 15-minute reach by up to three times in area.
* ``gb50180`` preset, 1.0 m/s: GB 50180-2018 (城市居住区规划设计标准) reads the 15-minute life
  circle as a walk of about 800-1000 m; 900 m in 15 minutes is 1.0 m/s.
* Thresholds 5/15/30 minutes: the 5-minute life circle (Chengdu 14th FYP), the 15-minute
  elderly-service circle (all five plans) and the rural half-hour circle (Mianyang).
* Steps are walked at half speed (``steps_factor`` 2.0), a conservative reading of stair-climbing
  rates for older adults; set it per profile.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from planner.errors import InputDataError

Settlement = Literal["urban", "suburban", "rural"]
#: Settlement classes: 城区 (urban), 郊区 (suburban, e.g. Chengdu's 郊区新城), 农村 (rural).
SETTLEMENTS: tuple[str, ...] = ("urban", "suburban", "rural")
#: Classes every profile must give a threshold for (suburban is optional, see ``threshold_min``).
REQUIRED_SETTLEMENTS: tuple[str, ...] = ("urban", "rural")

#: Facility types of the catalogue, in display order.
FACILITY_TYPES: tuple[str, ...] = (
    "day_care",
    "meal_point",
    "community_complex",
    "service_station",
    "nursing_home",
    "health",
)

#: Walking-speed presets in m/s (see the module docstring for sources).
WALK_PRESETS_M_S: Mapping[str, float] = MappingProxyType(
    {
        "older_adult": 0.8,
        "age_65_74": 0.80,
        "age_75_84": 0.75,
        "age_85_plus": 0.71,
        "frail": 0.64,
        "gb50180": 1.0,
        "general": 1.33,
    }
)


#: Domain bounds (inclusive) of every numeric analysis input: the ONE place the command line, the
#: service (its request schemas and its own checks) and the rule profiles take them from.
#: Thresholds 1-120 minutes (the plans' circles are 5, 15 and 30 minutes; two hours is already far
#: beyond walking to a service); speeds 0.3-2.0 m/s (the frailest measured gait to a brisk walk);
#: snapping up to 2 km; steps at 1-10 times the walking time; target shares in (0, 1].
#: Siting: 1-500 new sites per run (a district's plan adds tens; 500 is also the most candidates
#: solved exactly); up to 10,000 candidate sites given by the user (150 m spacing over 200 km² of
#: gaps; generated candidates are not capped); solver time 1 s to 1 h; a site's capacity up to
#: 100,000 places and its relative cost up to 1e9. What-if: up to 1,000 added, moved or removed
#: facilities per scenario.
BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType({
    "threshold_min": (1.0, 120.0),
    "speed_m_s": (0.3, 2.0),
    "max_snap_m": (1.0, 2000.0),
    "steps_factor": (1.0, 10.0),
    "target_share": (0.0, 1.0),
    "sites_k": (1.0, 500.0),
    "candidate_sites": (1.0, 10_000.0),
    "solver_time_limit_s": (1.0, 3600.0),
    "site_capacity": (0.0, 100_000.0),
    "site_cost": (0.0, 1e9),
    "scenario_changes": (0.0, 1000.0),
})


def _check_positive(name: str, value: float, fix: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        msg = f"{name}={value!r} must be a positive number; {fix}"
        raise InputDataError(msg)


def check_bounded(name: str, value: float, bound: str, fix: str) -> None:
    """Raise :class:`InputDataError` unless ``value`` is positive and within ``BOUNDS[bound]``."""
    _check_positive(name, value, fix)
    low, high = BOUNDS[bound]
    if not low <= value <= high:
        msg = f"{name}={value!r} is outside {low:g}-{high:g}; {fix}"
        raise InputDataError(msg)


def check_siting(k: int | None, time_limit_s: float, n_candidates: int | None = None) -> None:
    """Raise :class:`InputDataError` unless the siting inputs are within :data:`BOUNDS`: ``k``
    new sites, the solver's time limit and the number of candidate sites the user gave."""
    if k is not None:
        check_bounded("k", k, "sites_k", "propose at most 500 sites per run (run again from "
                      "the result for more)")
    check_bounded("time_limit_s", time_limit_s, "solver_time_limit_s",
                  "give the solver 1 s to 1 h")
    if n_candidates is not None:
        check_bounded("candidates", n_candidates, "candidate_sites",
                      "give at most 10000 candidate sites, or none to generate them")


@dataclass(frozen=True, slots=True)
class WalkProfile:
    """How an older adult walks.

    Parameters
    ----------
    speed_m_s
        Walking speed in metres per second (default 0.8, older adults; see module docstring).
    steps_factor
        Multiplier on the walking time of ``highway=steps`` edges (default 2.0).
    name
        Preset or profile name, reported in every output.
    dem
        Terrain model (GeoTIFF path) for slope-aware walking, ``""`` for flat ground (the
        profile's ``[walk] dem``; ``--dem`` overrides it).
    """

    speed_m_s: float = 0.8
    steps_factor: float = 2.0
    name: str = "older_adult"
    dem: str = ""

    def __post_init__(self) -> None:
        check_bounded("speed_m_s", self.speed_m_s, "speed_m_s",
                      "older adults walk at about 0.6-1.0 m/s")
        check_bounded("steps_factor", self.steps_factor, "steps_factor", "use 1.0 for no penalty")

    @classmethod
    def from_preset(cls, name: str, *, steps_factor: float = 2.0) -> WalkProfile:
        """Build a profile from a preset name in ``WALK_PRESETS_M_S``."""
        if name not in WALK_PRESETS_M_S:
            msg = f"unknown walk preset {name!r}; choose one of {', '.join(WALK_PRESETS_M_S)}"
            raise InputDataError(msg)
        return cls(speed_m_s=WALK_PRESETS_M_S[name], steps_factor=steps_factor, name=name)


def _default_type_thresholds() -> Mapping[str, Mapping[str, float]]:
    return MappingProxyType({"service_station": MappingProxyType({"urban": 5.0, "rural": 30.0})})


@dataclass(frozen=True, slots=True)
class CoverageParams:
    """Which threshold applies to whom, and what counts as a gap.

    Parameters
    ----------
    thresholds_min
        Catchment thresholds in minutes (default 5, 15, 30).
    settlement_threshold_min
        Coverage threshold per settlement class in minutes: urban 15 (the 15-minute circle of all
        five plans), rural 30 (Mianyang's half-hour circle); ``suburban`` is optional and needed
        only when units of that class occur.
    type_threshold_min
        Per facility type overrides, ``{type: {settlement: minutes}}``; by default service
        stations use the 5-minute life circle in urban areas (Chengdu 14th FYP).
    required_types
        Facility types a unit must reach to not be flagged (default day-care and meal point).
    target_share
        Share of a unit's older adults that must be covered (default 0.8, Mianyang's "80% of older
        people served nearby", the only quantified share in the plans).
    """

    thresholds_min: tuple[float, ...] = (5.0, 15.0, 30.0)
    settlement_threshold_min: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"urban": 15.0, "rural": 30.0})
    )
    type_threshold_min: Mapping[str, Mapping[str, float]] = field(
        default_factory=_default_type_thresholds
    )
    required_types: tuple[str, ...] = ("day_care", "meal_point")
    target_share: float = 0.8

    def __post_init__(self) -> None:
        if not self.thresholds_min:
            msg = "thresholds_min is empty; give at least one threshold such as 15"
            raise InputDataError(msg)
        minutes = [*self.thresholds_min, *self.settlement_threshold_min.values()]
        minutes += [v for m in self.type_threshold_min.values() for v in m.values()]
        for t in minutes:
            check_bounded("threshold", t, "threshold_min", "thresholds are minutes, e.g. 5, 15, 30")
        for s in REQUIRED_SETTLEMENTS:
            if s not in self.settlement_threshold_min:
                msg = f"settlement_threshold_min lacks {s!r}; give minutes for urban and rural"
                raise InputDataError(msg)
        if not 0 < self.target_share <= 1:
            msg = f"target_share={self.target_share!r} must be in (0, 1]; e.g. 0.8 for 80%"
            raise InputDataError(msg)

    def threshold_min(self, facility_type: str, settlement: str) -> float:
        """Coverage threshold in minutes for a facility type and settlement class."""
        override = self.type_threshold_min.get(facility_type, {})
        if settlement in override:
            return float(override[settlement])
        if settlement not in self.settlement_threshold_min:
            msg = (f"no walking threshold for {settlement!r} units; add {settlement} = <minutes> "
                   "to the profile's coverage.settlement_threshold_min")
            raise InputDataError(msg)
        return float(self.settlement_threshold_min[settlement])

    @property
    def max_threshold_min(self) -> float:
        """Largest threshold of any kind, in minutes (the search bound)."""
        values = [*self.thresholds_min, *self.settlement_threshold_min.values()]
        values += [v for m in self.type_threshold_min.values() for v in m.values()]
        return float(max(values))


@dataclass(frozen=True, slots=True)
class SnapParams:
    """Attaching points to the walking network.

    Parameters
    ----------
    max_snap_m
        Farthest a facility or demand point may be from a walkable edge, in metres (default 300,
        about 6 minutes at 0.8 m/s: farther points are reported and not routed).
    """

    max_snap_m: float = 300.0

    def __post_init__(self) -> None:
        check_bounded("max_snap_m", self.max_snap_m, "max_snap_m", "use e.g. 300")


@dataclass(frozen=True, slots=True)
class DemandParams:
    """Spreading older adults over space.

    Parameters
    ----------
    point_spacing_m
        Spacing of evenly spaced demand points when a unit has no residential buildings or land
        use, in metres (default 50).
    default_older_per_km2
        Older adults per km2 of residential land when no units file is given (default 3,600:
        an assumed 20,000 residents per km2 of urban residential land times Chengdu's 2020 census
        ageing rate of 17.98%). Outputs say loudly when this assumption is used.
    """

    point_spacing_m: float = 50.0
    default_older_per_km2: float = 3600.0

    def __post_init__(self) -> None:
        _check_positive("point_spacing_m", self.point_spacing_m, "use e.g. 50")
        _check_positive("default_older_per_km2", self.default_older_per_km2, "use e.g. 3600")


@dataclass(frozen=True, slots=True)
class AccessParams:
    """Distance decay of the E2SFCA supply-demand ratio.

    Parameters
    ----------
    zone_upper_min
        Upper edges of the walking-time zones in minutes; the last is the catchment (default
        5, 10, 15: the 15-minute circle).
    zone_weights
        Weight per zone (default 1.0, 0.68, 0.22: the Gaussian-derived step weights of Luo and Qi
        2009, doi:10.1016/j.healthplace.2009.06.002).
    """

    zone_upper_min: tuple[float, ...] = (5.0, 10.0, 15.0)
    zone_weights: tuple[float, ...] = (1.0, 0.68, 0.22)

    def __post_init__(self) -> None:
        if len(self.zone_upper_min) != len(self.zone_weights) or not self.zone_upper_min:
            msg = (f"access zones {self.zone_upper_min!r} and weights {self.zone_weights!r} "
                   "differ in length; give one weight per zone")
            raise InputDataError(msg)


@dataclass(frozen=True, slots=True)
class PlanParams:
    """Everything an analysis run needs besides its data."""

    walk: WalkProfile = field(default_factory=WalkProfile)
    coverage: CoverageParams = field(default_factory=CoverageParams)
    snap: SnapParams = field(default_factory=SnapParams)
    demand: DemandParams = field(default_factory=DemandParams)
    access: AccessParams = field(default_factory=AccessParams)
    profile_name: str = "national"

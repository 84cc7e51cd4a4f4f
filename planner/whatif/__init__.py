"""Instant what-if: add, move or remove facilities and get the per-unit coverage change.

A scenario becomes a new facility table (:mod:`planner.whatif.table`, arrays; the GeoDataFrame is
built only when asked for); the nearest times of each type it touches are updated incrementally
and exactly by :mod:`planner.routing.nearest_update` (a move is a removal followed by an add);
then only the demand points and units those changes reach are recomputed
(:mod:`planner.coverage.patch`) — :mod:`planner.whatif.apply`.
"""

from planner.whatif.apply import apply_scenario, build_facility_table, compare_scenarios
from planner.whatif.snap import snap_local
from planner.whatif.state import WhatIfResult, WhatIfState, state_from_result
from planner.whatif.table import FacilityChange, FacilityTable, Scenario

__all__ = ["FacilityChange", "FacilityTable", "Scenario", "WhatIfResult", "WhatIfState",
           "apply_scenario", "build_facility_table", "compare_scenarios", "snap_local",
           "state_from_result"]

"""Run a process on a project: load inputs, compute, turn results into layers and summaries."""

from __future__ import annotations

import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from api.processes import (
    CoverageInputs,
    Outcome,
    Progress,
    build_params,
    compute_plan,
    find_hook,
    load_inputs,
)
from api.store import Store
from planner.pipeline import PlanResult

logger = logging.getLogger(__name__)

#: Collections every project offers (empty until a run fills them).
COLLECTIONS: dict[str, str] = {
    "facilities": "Elderly-care facilities by type (points)",
    "units": "Communities/villages with coverage shares per facility type",
    "catchments": "Walking catchments per facility and threshold",
    "dissolved": "Catchments dissolved per facility type and threshold",
    "gaps": "Ranked coverage gaps (units under target)",
    "candidates": "Candidate sites considered by the last siting run",
    "sites": "Proposed sites of the last siting run",
}
_PLAN_CACHE = 4


def build_frames(plan: PlanResult) -> dict[str, gpd.GeoDataFrame]:
    """WGS-84 layer frames of a plan (maps.geojson.layer_frames, or a minimal fallback)."""
    hook = find_hook("maps.geojson.layer_frames")
    if hook is not None:
        frames = dict(hook(plan))
    else:
        frames = {"facilities": plan.facilities, "units": plan.units, "catchments": plan.catchments,
                  "dissolved": plan.dissolved,
                  "gaps": plan.units[["unit_id", "geometry"]].merge(plan.gaps, on="unit_id")}
    frames.pop("demand", None)
    return {name: frame.to_crs(4326) for name, frame in frames.items() if name in COLLECTIONS}


def _run_writer(plan: PlanResult) -> Callable[[Path], None] | None:
    writer = find_hook("planner.io.writers.write_run")
    if writer is None:
        return None
    extra: dict[str, Callable[[Path], None]] = {}
    compose = find_hook("maps.compose.build_care_map")
    if compose is not None:
        extra["care_map.html"] = lambda target: compose(plan).save(str(target))
    return lambda folder: writer(plan, folder, extra_files=extra) if extra else writer(plan, folder)


class PlanCache:
    """In-memory LRU of PlanResults by result id (recomputed from the inputs after a restart)."""

    def __init__(self) -> None:
        self._plans: OrderedDict[str, PlanResult] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, result_id: str, plan: PlanResult) -> None:
        """Remember a plan."""
        with self._lock:
            self._plans[result_id] = plan
            while len(self._plans) > _PLAN_CACHE:
                self._plans.popitem(last=False)

    def get(self, result_id: str) -> PlanResult | None:
        """A remembered plan, or ``None``."""
        with self._lock:
            plan = self._plans.get(result_id)
            if plan is not None:
                self._plans.move_to_end(result_id)
            return plan

    def forget(self, result_ids: list[str]) -> None:
        """Drop plans (their project was deleted)."""
        with self._lock:
            for rid in result_ids:
                self._plans.pop(rid, None)


def run_coverage(inputs: CoverageInputs, project: dict[str, Any], uploads: list[dict[str, Any]],
                 store: Store, progress: Progress) -> Outcome:
    """The coverage process: run_plan on the project's inputs."""
    progress(5, "inputs")
    params = build_params(inputs)
    plan_inputs = load_inputs(project, uploads, store)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        plan = compute_plan(plan_inputs, params, progress)
    progress(90, "writing")
    summary = dict(plan.summary)
    summary["warnings"] = list(plan.warnings.entries)
    return Outcome(build_frames(plan), summary, plan, _run_writer(plan))



def run_siting(process_id: str, inputs: Any, plan: PlanResult, hook: Callable[..., Any],
               progress: Progress) -> Outcome:
    """Siting / what-if through a planner.siting entry point taking a PlanResult.

    The entry point returns an object with ``sites`` (and optionally ``candidates``) frames and a
    ``summary`` dict (or ``to_dict()``); proposed sites become the ``sites`` collection.
    """
    progress(50, process_id)
    params = inputs.model_dump(exclude={"project", "scenario"}, exclude_none=True)
    result = hook(plan, **params)
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name in ("sites", "candidates"):
        frame = getattr(result, name, None)
        if isinstance(frame, gpd.GeoDataFrame):
            frames[name] = frame.to_crs(4326) if frame.crs is not None else frame
    summary: dict[str, Any] = {"process": process_id}
    for name in getattr(result, "__slots__", ()) or vars(result):
        value = getattr(result, name, None)
        if isinstance(value, (str, int, float, bool)):
            summary[name] = value
    return Outcome(frames, summary)

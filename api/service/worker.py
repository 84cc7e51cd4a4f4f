"""The child process of one job: it runs the process's computation and writes the result folder
under a temporary name; the server (``api.service.jobs``) moves it into place, or kills the
child's whole process group when the job is dismissed.

Children are started from a ``forkserver`` that has imported this module (and so the planner,
geopandas, ...) once: a fork of it starts in milliseconds, shares those modules copy-on-write,
and inherits nothing of the server (no threads, no plan cache, no data-dir lock, no database
connections). Messages to the server over one pipe: ``("progress", percent, step)`` any number of
times, then ``("done", summary_json)`` or ``("error", message)``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from api.service.db import dumps
from api.service.errors import ProblemError, job_error_message
from api.service.execution import run_batch_process, run_coverage, run_siting, run_whatif
from api.service.guard import check_input
from api.service.inputs import (
    BatchInputs,
    CoverageInputs,
    WhatifInputs,
)
from api.service.processes import (
    PROCESSES,
    InputCheck,
    Outcome,
    Progress,
    find_hook,
)
from api.service.store import Store
from planner.errors import PlannerError

logger = logging.getLogger(__name__)

#: Modules the forkserver imports once so no job imports them again: this one (the planner,
#: geopandas, ...) and those the processes find at run time (layer frames, run writer, care map,
#: registers, what-if, siting), and ``api.service.warm``, which compiles the what-if kernels so
#: children inherit them. A module missing from a build is skipped.
PRELOAD = ("api.service.worker", "maps.geojson", "maps.compose", "maps.assets",
           "planner.io.writers", "planner.io.registers", "planner.io.units",
           "planner.io.scenarios", "planner.whatif", "planner.siting.propose",
           "api.service.warm")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """Everything a job's child needs, picklable (rows as plain dicts, paths as strings).

    Attributes
    ----------
    job_id, process_id
        The job and its process (``coverage``, ``siting``, ``whatif``, ``batch``).
    inputs
        The validated inputs, dumped (validated again in the child).
    project, uploads
        The project row and its upload rows.
    data_dir
        The data dir (absolute).
    base_path
        The stored path of the coverage result that siting and what-if start from.
    limits
        Largest expanded OSM XML (bytes), largest expanded XLSX (bytes), most register rows.
    """

    job_id: str
    process_id: str
    inputs: dict[str, Any]
    project: dict[str, Any]
    uploads: list[dict[str, Any]]
    data_dir: str
    base_path: str | None = None
    limits: tuple[int, int, int] = (4 << 30, 1 << 30, 2_000_000)


def _never() -> bool:
    return False


def _input_check(limits: tuple[int, int, int]) -> InputCheck:
    xml_bytes, expanded_bytes, rows = limits

    def check(path: Path, row: dict[str, Any]) -> None:
        check_input(path, str(row["detected"]), str(row["filename"]), max_xml_bytes=xml_bytes,
                    max_expanded_bytes=expanded_bytes, max_rows=rows, stopped=_never)
    return check


def _base_plan(store: Store, spec: JobSpec) -> Any:
    plan, _size = store.read_plan(spec.base_path or "")
    if plan is None:
        raise ProblemError(409, f"the coverage result of project {spec.project['id']} has no "
                                "stored analysis; run the coverage process first")
    return plan


def compute(spec: JobSpec, progress: Progress, scratch: Path) -> Outcome:
    """Run the job's process on its inputs (in the child; ``scratch`` for temporary files)."""
    process = PROCESSES[spec.process_id]
    inputs = process.inputs.model_validate(spec.inputs)
    store = Store(Path(spec.data_dir))
    if isinstance(inputs, BatchInputs):  # before CoverageInputs, which it extends
        return run_batch_process(inputs, spec.project, spec.uploads, store, progress, scratch)
    if isinstance(inputs, CoverageInputs):
        return run_coverage(inputs, spec.project, spec.uploads, store, progress,
                            _input_check(spec.limits))
    plan = _base_plan(store, spec)
    if isinstance(inputs, WhatifInputs):
        return run_whatif(inputs, plan, progress)
    hook = find_hook(process.needs)
    if hook is None:
        raise ProblemError(501, f"process {process.id!r} needs {process.needs}")
    return run_siting(process.id, inputs, plan, hook, progress)


def failure_message(exc: BaseException) -> str:
    """The one-line message of a failed job (before the server strips data-dir paths)."""
    if isinstance(exc, ProblemError):
        return exc.detail
    if isinstance(exc, PlannerError):
        return f"{type(exc).__name__}: {exc}"
    return job_error_message(exc)


def _watch_lifeline(lifeline: Connection) -> None:
    """Kill this job's process group when the server goes away (its end of the pipe closes)."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()
    os.killpg(0, signal.SIGKILL)


def child_main(spec: JobSpec, channel: Connection, lifeline: Connection, folder: str,
               scratch: str) -> None:
    """Entry point of a job's child process: its own process group (so a cancel reaches the
    forked workers of the routing step too), a watch on the server, the work, the folder."""
    os.setsid()
    threading.Thread(target=_watch_lifeline, args=(lifeline,), daemon=True).start()
    last = [-1]

    def progress(percent: int, step: str) -> None:
        if percent != last[0]:
            last[0] = percent
            channel.send(("progress", int(percent), str(step)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = compute(spec, progress, Path(scratch))
            Store(Path(spec.data_dir)).write_result_folder(
                Path(folder), outcome.frames, outcome.summary, outcome.run_writer,
                plan=outcome.plan)
        channel.send(("done", dumps(outcome.summary)))
    except BaseException as exc:  # the server must hear how the job ended
        if not isinstance(exc, (ProblemError, PlannerError)):
            logger.exception("job %s failed", spec.job_id)
        channel.send(("error", failure_message(exc)))
    finally:
        channel.close()

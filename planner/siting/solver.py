"""Linear and mixed-integer models solved by HiGHS (highspy); the only solver import.

HiGHS's log goes to the ``planner.siting.solver`` logger (``careplan site`` writes it to
``solver.log`` in the output folder), never to stdout: the banner HiGHS prints on its first
construction in a process is captured through a pipe and logged too.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.errors import SitingError

logger = logging.getLogger(__name__)
_FIRST_LOCK = threading.Lock()
_constructed = False


def _new_highs() -> highspy.Highs:
    """A Highs instance that logs to :data:`logger`; its stdout banner is captured, not printed."""
    global _constructed  # noqa: PLW0603 (HiGHS prints its banner once per process)
    with _FIRST_LOCK:
        if _constructed:
            solver = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            read_fd, write_fd = os.pipe()
            saved = os.dup(1)
            sys.stdout.flush()
            os.dup2(write_fd, 1)
            try:
                solver = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(saved)
                os.close(write_fd)
            banner = os.read(read_fd, 1 << 16).decode(errors="replace")
            os.close(read_fd)
            logger.info("%s", banner.rstrip())
            _constructed = True
    solver.setOptionValue("output_flag", True)
    solver.setOptionValue("log_to_console", False)
    solver.setCallback(_log_line, None)
    solver.startCallback(highspy.cb.HighsCallbackType.kCallbackLogging)
    return solver


def _log_line(kind: Any, message: str, *_: Any) -> None:
    logger.info("%s", message.rstrip("\n"))


#: HiGHS model statuses as reported in ``SitingResult.status``; any other one is an error.
_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kModelEmpty: "optimal",
}


@dataclass(frozen=True, slots=True)
class LinearModel:
    """A linear (mixed-integer) model in HiGHS form; the first ``n_candidates`` columns are y."""

    cost: NDArray[np.float64]
    bounds: tuple[NDArray[np.float64], NDArray[np.float64]]
    matrix: sp.spmatrix
    rows: tuple[NDArray[np.float64], NDArray[np.float64]]
    integer: NDArray[np.bool_]
    maximise: bool
    offset: float
    unreachable: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Solution:
    """A solved model: its status, column values, objective, bound, relative gap and run time."""

    status: str
    x: NDArray[np.float64]
    objective: float
    bound: float
    gap: float
    runtime_s: float


def _highs_lp(model: LinearModel, integer: NDArray[np.bool_]) -> highspy.HighsLp:
    csc = sp.csc_matrix(model.matrix, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(model.cost.size), int(csc.shape[0])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = model.cost, model.bounds[0], model.bounds[1]
    lp.row_lower_, lp.row_upper_ = model.rows[0], model.rows[1]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.sense_ = highspy.ObjSense.kMaximize if model.maximise else highspy.ObjSense.kMinimize
    if integer.any():
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(b)] for b in integer]
    return lp


def solve_linear(model: LinearModel, *, relax: bool, time_limit_s: float) -> Solution:
    """Solve ``model`` with HiGHS, or its LP relaxation.

    Parameters
    ----------
    model
        The model; columns marked in ``model.integer`` are integer unless ``relax``.
    relax
        Solve the LP relaxation (every column continuous).
    time_limit_s
        HiGHS time limit in seconds.

    Returns
    -------
    Solution
        Status ``"optimal"`` or ``"time_limit"``; an LP's bound is its objective and gap 0.

    Raises
    ------
    SitingError
        If HiGHS finds the model infeasible or has no solution within ``time_limit_s``.
    """
    integer = np.zeros_like(model.integer) if relax else model.integer
    solver = _new_highs()
    solver.setOptionValue("time_limit", float(time_limit_s))
    solver.setOptionValue("mip_rel_gap", 1e-6)
    solver.passModel(_highs_lp(model, integer))
    start = time.perf_counter()
    solver.run()
    runtime_s = time.perf_counter() - start
    status = _STATUS.get(solver.getModelStatus(), "error")
    info = solver.getInfo()
    has_x = info.primal_solution_status == 2
    if status in ("infeasible", "error") or not has_x:
        name = solver.modelStatusToString(solver.getModelStatus())
        msg = (
            f"HiGHS found no solution (status {name!r}) in {time_limit_s} s; "
            "raise time_limit_s or use greedy"
        )
        raise SitingError(msg)
    x = np.asarray(solver.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    is_mip = bool(integer.any())
    bound = float(info.mip_dual_bound) if is_mip else objective
    gap = float(info.mip_gap) if is_mip else 0.0
    return Solution(status, x, objective, bound, gap, runtime_s)

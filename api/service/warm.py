"""Imported by the job forkserver (:data:`api.service.worker.PRELOAD`): compiles the what-if
kernels once (:func:`planner.warmup.warm_up`), so every job child forked from it starts
with them compiled instead of compiling (seconds, on a machine with an empty numba cache) or
loading them from the on-disk cache (a few tenths of a second) itself.

Importing this module runs the warm-up; a failure is logged and never stops the forkserver
(the first what-if then compiles the kernels itself).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def _warm() -> None:
    try:
        from planner.warmup import warm_up

        logger.info("what-if kernels ready in %.2f s", warm_up())
    except Exception:  # never break the forkserver: the first what-if compiles them instead
        logger.exception("could not compile the what-if kernels ahead of the first what-if")


_warm()

"""Compiled kernels (numba) for the loops numpy cannot vectorise: the what-if hot path.

A what-if at city scale touches a few hundred nodes and a few thousand demand points; done with
numpy each step is tens of calls of 1-3 µs of overhead, and a Dijkstra in Python costs ~1 µs per
arc. :func:`kernel` compiles such a loop once per machine: numba's on-disk cache keeps the
machine code (next to the module, or in the user's cache folder when the package folder is read
only, or in ``NUMBA_CACHE_DIR``), so a later process loads it in milliseconds instead of
compiling again. Where no folder can be written the kernel is compiled in memory on first use.
``NUMBA_DISABLE_JIT=1`` runs the same kernels as plain Python (for debugging).

Kernels do IEEE arithmetic in the written order (no fast-math), so their sums are bit-for-bit
those of the numpy or pandas code they replace; each has an equality test against it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(fn: F) -> F:
    """``fn`` compiled in nopython mode, cached on disk where a cache folder can be written."""
    try:
        compiled = numba.njit(cache=True)(fn)
    except RuntimeError:  # numba found no writable cache location: compile in memory only
        compiled = numba.njit(fn)
    return cast(F, compiled)

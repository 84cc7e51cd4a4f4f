"""The compiled kernels' arithmetic (planner.routing.jit): the compensated sums are bit-for-bit pandas'
grouped kernels (which the full coverage tables run), and a kernel whose source has no file
(so no on-disk cache) still compiles and runs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.coverage.patch_kernels import kahan_add
from planner.coverage.tables import group_cumsums, group_sums
from planner.routing.jit import kernel

#: Values of very different magnitudes (where a plain running sum loses bits), ties and zeros.
VALUES = st.lists(st.sampled_from([0.0, 1.0, 0.1, 1e-9, 3.3, 1e16, -5e15, 97.0, 2.5e8]) |
                  st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=80)


@kernel
def _running(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.size)
    total, comp = 0.0, 0.0
    for i in range(values.size):
        total, comp = kahan_add(total, comp, values[i])
        out[i] = total
    return out


@settings(max_examples=200, deadline=None)
@given(values=VALUES)
def test_compensated_sum_is_pandas_bit_for_bit(values: list[float]) -> None:
    v = np.array(values)
    one = np.zeros(v.size, dtype=np.int64)
    running = _running(v)
    assert running[-1].tobytes() == group_sums(one, v, 1)[0].tobytes()
    assert running.tobytes() == group_cumsums(one, v, 1).tobytes()


def test_compensation_differs_from_a_plain_sum() -> None:
    v = np.array([1e16, 1.0, 1.0])
    assert _running(v)[-1] == 1e16 + 2.0 and np.cumsum(v)[-1] == 1e16


def test_kernel_without_a_source_file_compiles_in_memory() -> None:
    """numba cannot cache a function defined by exec (no file): :func:`kernel` compiles it
    without the on-disk cache instead of failing."""
    scope: dict[str, object] = {}
    exec("def twice(x):\n    return 2 * x\n", scope)  # noqa: S102 - a function with no file
    twice = kernel(scope["twice"])  # type: ignore[arg-type]
    assert twice(21) == 42
    assert len(twice.signatures) == 1  # type: ignore[attr-defined]  # it was compiled

"""Forked workers: results in order, equal to a plain loop, child errors raised in the parent."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from planner.routing.forkpool import can_fork, fork_map, fork_split

pytestmark = pytest.mark.skipif(not can_fork(), reason="this platform cannot fork")


def _sum_part(state: Mapping[str, Any], part: np.ndarray) -> tuple[int, float]:
    return os.getpid(), float(state["values"][part].sum())


def _fail_odd(state: Mapping[str, Any], part: int) -> int:
    if part % 2:
        raise ValueError(f"part {part} failed")
    return part


def test_split_and_map_equal_a_plain_loop_and_use_other_processes() -> None:
    values = np.arange(10_000, dtype=float)
    parts = [np.arange(i, values.size, 3) for i in range(3)]
    expected = [float(values[p].sum()) for p in parts]
    split = fork_split(_sum_part, parts, {"values": values})
    mapped = fork_map(_sum_part, parts, 2, {"values": values})
    assert [s for _, s in split] == expected and [s for _, s in mapped] == expected
    assert split[0][0] == os.getpid() and {pid for pid, _ in split[1:]}.isdisjoint({os.getpid()})
    assert os.getpid() not in {pid for pid, _ in mapped}


def test_a_childs_error_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match="part 1 failed"):
        fork_split(_fail_odd, [0, 1, 2], {})
    with pytest.raises(ValueError, match="part 3 failed"):
        fork_map(_fail_odd, [0, 2, 3], 2, {})

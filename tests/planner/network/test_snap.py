"""SnapResult.take: the selected points, field by field, in the order asked."""

from __future__ import annotations

import numpy as np

from planner.network.snap import NOT_SNAPPED, SNAPPED, SnapResult


def test_take_by_positions_and_by_mask() -> None:
    snap = SnapResult(np.array([4, -1, 7]), np.array([0.1, 0.0, 0.9]),
                      np.array([3.0, np.nan, 12.0]), np.array([SNAPPED, NOT_SNAPPED, SNAPPED]))
    picked = snap.take(np.array([2, 0]))
    assert picked.edge.tolist() == [7, 4] and picked.frac.tolist() == [0.9, 0.1]
    assert picked.access_m.tolist() == [12.0, 3.0] and picked.routable.tolist() == [True, True]
    masked = snap.take(np.array([False, True, True]))
    assert masked.edge.tolist() == [-1, 7] and masked.status.tolist() == [NOT_SNAPPED, SNAPPED]

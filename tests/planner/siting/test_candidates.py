"""Generated candidates: on the network, in the asked units, at least min spacing apart."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist

from planner.siting.candidates import generate_candidates, thin_points
from tests.planner.test_coverage_pipeline import plan, small_inputs


def test_thin_points_spacing() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 500), rng.uniform(0, 1000, 500)
    keep = thin_points(x, y, 150.0)
    assert pdist(np.column_stack([x[keep], y[keep]])).min() >= 150.0 - 1e-9
    assert keep.size > 10


def test_generated_in_units() -> None:
    r = plan(small_inputs([(150, 150, "day_care")]))
    c = generate_candidates(r.network, r.units, unit_ids=["u2", "u4"], min_spacing_m=150)
    assert len(c) > 0 and set(c["unit_id"]) <= {"u2", "u4"}
    assert c["candidate_id"].is_unique
    xy = np.column_stack([c.geometry.x, c.geometry.y])
    assert len(c) == 1 or pdist(xy).min() >= 150 - 1e-9

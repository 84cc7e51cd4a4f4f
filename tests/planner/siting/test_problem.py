"""Validation and reduction of siting problems (planner.siting.problem, planner.siting.reduction)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InputDataError
from planner.siting.problem import SitingProblem, check_k, check_target
from planner.siting.reduction import reduce_problem


def _cover(rows: list[list[int]], n_cand: int) -> sp.csr_matrix:
    data = np.zeros((len(rows), n_cand), dtype=bool)
    for i, cols in enumerate(rows):
        data[i, cols] = True
    return sp.csr_matrix(data)


def test_problem_normalises_cover_and_weights() -> None:
    cover = sp.csr_matrix(np.array([[1, 0], [0, 2], [0, 0]]))
    problem = SitingProblem(np.array([1, 2, 3]), cover, np.zeros(3, dtype=bool))
    assert problem.cover.dtype == np.bool_
    assert problem.weights_pop.dtype == np.float64
    assert (problem.n_demand, problem.n_candidates, problem.is_capacitated) == (3, 2, False)
    assert problem.covered_pop([1]) == 2.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights_pop": np.array([1.0, -1.0, 0.0])}, "weights_pop"),
        ({"cover": np.ones((3, 2))}, "scipy.sparse"),
        ({"cover": sp.csr_matrix(np.ones((2, 2)))}, "rows"),
        ({"existing_covered": np.zeros(3)}, "bool"),
        ({"candidate_capacity_pop": np.array([1.0])}, "candidate_capacity_pop"),
        ({"candidate_capacity_pop": np.array([1.0, -2.0])}, "negative"),
        ({"existing_cover": sp.csr_matrix(np.ones((3, 1)))}, "without candidate_capacity_pop"),
        ({"unit_of_demand": np.array([0, -1, 0])}, "unit_of_demand"),
        ({"unit_of_demand": np.array([0.5, 1.0, 0.0])}, "unit_of_demand"),
    ],
)
def test_problem_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {
        "weights_pop": np.ones(3),
        "cover": _cover([[0], [1], []], 2),
        "existing_covered": np.zeros(3, dtype=bool),
    }
    base.update(kwargs)
    with pytest.raises(InputDataError, match=match):
        SitingProblem(**base)  # type: ignore[arg-type]


def test_existing_cover_must_match_existing_covered() -> None:
    with pytest.raises(InputDataError, match="disagrees"):
        SitingProblem(
            np.ones(2),
            _cover([[0], [1]], 2),
            np.array([True, False]),
            candidate_capacity_pop=np.ones(2),
            existing_cover=_cover([[], [0]], 1),
            existing_capacity_pop=np.ones(1),
        )
    with pytest.raises(InputDataError, match="together"):
        SitingProblem(
            np.ones(2),
            _cover([[0], [1]], 2),
            np.zeros(2, dtype=bool),
            candidate_capacity_pop=np.ones(2),
            existing_cover=_cover([[], []], 1),
        )


def test_check_k_and_target() -> None:
    problem = SitingProblem(np.ones(2), _cover([[0], [1]], 2), np.zeros(2, dtype=bool))
    assert check_k(5, problem) == 2
    for bad in (-1, 1.5, True):
        with pytest.raises(InputDataError, match="k="):
            check_k(bad, problem)  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="unit_of_demand"):
        check_target(0.8, problem)
    with pytest.raises(InputDataError, match="target_share"):
        check_target(1.5, problem)


def test_reduce_drops_and_aggregates_rows() -> None:
    cover = _cover([[0, 1], [0, 1], [1], [], [0], [1]], 2)
    weights = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 0.0])
    existing = np.array([False, False, False, False, True, False])
    red = reduce_problem(SitingProblem(weights, cover, existing))
    # rows 0 and 1 share a pattern; row 3 has no cover; row 4 is already covered; row 5 weighs 0
    assert red.n_rows == 2
    assert sorted(red.weight_pop.tolist()) == [3.0, 4.0]
    assert red.row_of_demand[0] == red.row_of_demand[1]
    assert (red.row_of_demand[3:] == -1).all()
    units = np.array([0, 1, 0, 0, 0, 0])
    red_units = reduce_problem(SitingProblem(weights, cover, existing, unit_of_demand=units))
    assert red_units.n_rows == 3


def test_inputs_are_not_modified() -> None:
    weights = np.ones(3)
    covered = np.zeros(3, dtype=bool)
    cover = _cover([[0], [1], [0, 1]], 2)
    before = cover.toarray().copy()
    SitingProblem(weights, cover, covered)
    assert (cover.toarray() == before).all()
    assert weights.tolist() == [1.0, 1.0, 1.0]

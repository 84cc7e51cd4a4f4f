"""Assignment (flow) rows of capacitated models: older adults of a row sent to facilities.

Columns are ``[y, x_new, x_ex, s]``: open candidates, one assignment per nonzero of the reduced
candidate cover, one per nonzero of the existing cover, and one served total per unit. Rows are
``[demand; candidate; existing; unit]``: a row sends at most its weight, a candidate takes at most
its capacity when open, an existing facility at most its capacity, and a unit's served total
is at most what its rows are sent.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.reduction import ReducedProblem


def build_flow_constraints(red: ReducedProblem, n_units: int) -> tuple[sp.csr_matrix, int, int]:
    """Capacitated rows [demand; candidate; existing; unit] over columns [y, x_new, x_ex, s].

    Parameters
    ----------
    red
        The reduced problem (capacitated).
    n_units
        Number of unit rows and ``s`` columns; 0 for none.

    Returns
    -------
    tuple
        The constraint matrix and the numbers of candidate and existing assignment columns.
    """
    m, n = red.cover.shape
    cov = red.cover.tocoo()
    ex = red.existing.tocoo() if red.existing is not None else sp.coo_matrix((m, 0))
    nc, ne, n_ex = cov.nnz, ex.nnz, ex.shape[1]
    ones_c, ones_e = np.ones(nc), np.ones(ne)
    ar_c, ar_e = np.arange(nc), np.arange(ne)
    demand = sp.hstack(
        [
            sp.coo_matrix((m, n)),
            sp.coo_matrix((ones_c, (cov.row, ar_c)), (m, nc)),
            sp.coo_matrix((ones_e, (ex.row, ar_e)), (m, ne)),
            sp.coo_matrix((m, n_units)),
        ]
    )
    cap = red.candidate_capacity_pop if red.candidate_capacity_pop is not None else np.zeros(n)
    cand = sp.hstack(
        [
            sp.diags(-cap),
            sp.coo_matrix((ones_c, (cov.col, ar_c)), (n, nc)),
            sp.coo_matrix((n, ne)),
            sp.coo_matrix((n, n_units)),
        ]
    )
    exist = sp.hstack(
        [
            sp.coo_matrix((n_ex, n + nc)),
            sp.coo_matrix((ones_e, (ex.col, ar_e)), (n_ex, ne)),
            sp.coo_matrix((n_ex, n_units)),
        ]
    )
    blocks = [demand, cand, exist]
    if n_units:
        unit = red.unit if red.unit is not None else np.zeros(m, dtype=np.int64)
        blocks.append(
            sp.hstack(
                [
                    sp.coo_matrix((n_units, n)),
                    sp.coo_matrix((-ones_c, (unit[cov.row], ar_c)), (n_units, nc)),
                    sp.coo_matrix((-ones_e, (unit[ex.row], ar_e)), (n_units, ne)),
                    sp.identity(n_units),
                ]
            )
        )
    return sp.csr_matrix(sp.vstack(blocks)), nc, ne


def flow_row_bounds(
    red: ReducedProblem, n_units: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Row bounds of ``build_flow_constraints``: demand <= weight, capacity rows <= 0 or cap.

    Parameters
    ----------
    red
        The reduced problem (capacitated).
    n_units
        Number of unit rows, as given to ``build_flow_constraints``.

    Returns
    -------
    tuple
        Lower bounds (all ``-inf``) and upper bounds of the rows.
    """
    ex_cap = red.existing_capacity_pop if red.existing_capacity_pop is not None else np.zeros(0)
    upper = np.concatenate(
        [red.weight_pop, np.zeros(red.cover.shape[1]), ex_cap, np.zeros(n_units)]
    )
    lower = np.full(upper.size, -np.inf)
    return lower, upper

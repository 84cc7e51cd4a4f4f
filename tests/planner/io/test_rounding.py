"""Population columns are written at the inputs' precision: no 4.547474e-13 noise."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import planner.io.rounding as rounding
from planner.io.rounding import input_decimals, round_populations


def test_docstring_examples() -> None:
    assert doctest.testmod(rounding).failed == 0


def test_float_noise_becomes_zero_and_shares_stay() -> None:
    """Hand-worked: 2568 - 2365.59000192278 - 202.40999807721948 = 4.547e-13 in float."""
    frame = pd.DataFrame({"older_pop": [2568.0], "covered_pop": [202.40999807721948],
                          "uncovered_not_snapped_pop": [4.547473508864641e-13],
                          "uncovered_out_of_reach_pop": [-1e-13], "covered_share": [0.0788200927]})
    out = round_populations(frame, input_decimals(frame["older_pop"]) + 2)
    assert out.loc[0, "covered_pop"] == 202.41
    assert out.loc[0, "uncovered_not_snapped_pop"] == 0.0
    assert str(out.loc[0, "uncovered_out_of_reach_pop"]) == "0.0"  # not -0.0
    assert out.loc[0, "covered_share"] == 0.0788200927  # shares are not populations


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=20), st.integers(0, 3))
def test_input_decimals_recovers_the_written_precision(ints: list[int], decimals: int) -> None:
    values = np.array(ints, dtype=float) / 10**decimals
    assert input_decimals(values) <= decimals
    assert np.allclose(np.round(values, input_decimals(values)), values, atol=1e-9)

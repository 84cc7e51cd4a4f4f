"""Population columns written at the precision of the inputs (no ``4.547474e-13`` noise).

Populations are split over demand points and summed back, so a unit's uncovered older adults
may come out as ``4.547474e-13`` instead of 0 and ``202.40999807`` instead of 202.41. Written
tables round every ``*_pop`` column to the decimals of the input populations plus
:data:`EXTRA_DECIMALS` (a split person stays visible: 202.41 of 2,568), e.g. integer counts ->
2 decimals; 4.547474e-13 -> 0.0.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

#: Decimals kept beyond those of the input populations.
EXTRA_DECIMALS: Final = 2
#: Most decimals an input population is read with (beyond this is float noise).
MAX_INPUT_DECIMALS: Final = 6


def input_decimals(values: pd.Series | np.ndarray) -> int:
    """Decimals the input populations are given with (``[1376, 1907]`` -> 0, ``[12.5]`` -> 1).

    Examples
    --------
    >>> input_decimals(np.array([1376.0, 1907.0]))
    0
    >>> input_decimals(np.array([12.25, 3.0]))
    2
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    for decimals in range(MAX_INPUT_DECIMALS + 1):
        if np.allclose(finite, np.round(finite, decimals), rtol=0.0, atol=1e-9):
            return decimals
    return MAX_INPUT_DECIMALS


def round_populations(frame: pd.DataFrame, decimals: int = EXTRA_DECIMALS) -> pd.DataFrame:
    """A copy of ``frame`` with every float ``*_pop`` column rounded to ``decimals``.

    ``-0.0`` from rounding a tiny negative becomes ``0.0``.
    """
    out = frame.copy()
    for column in out.columns:
        if str(column).endswith("_pop") and pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(decimals) + 0.0
    return out

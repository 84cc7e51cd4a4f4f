"""Publication rule for counts of people: small cells suppressed, every count rounded to 5.

A public count n is shown as ``"<5"`` when n < 5, else as the nearest multiple of 5 (5-7 -> 5,
8-12 -> 10, 13-17 -> 15 ...). Why rounding as well as suppression: a suppressed cell could
otherwise be recovered by differencing two overlapping published figures (a community's total
minus its other cells, or "all older adults" minus "those without a need"). With rounding each
published count k >= 5 only says n is in [k-2, k+2], so the difference A - B of two published
counts only says the true difference is in [kA-kB-4, kA-kB+4] -- nine possible values, never
one -- and a "<5" cell says 0-4. No pair of published counts pins down a count of 1-4.

Examples
--------
>>> [publish_count(n) for n in (0, 3, 4, 5, 7, 8, 12, 13, 102)]
['<5', '<5', '<5', '5', '5', '10', '10', '15', '100']
>>> candidates("10"), candidates("<5")
(range(8, 13), range(0, 5))
"""

from __future__ import annotations

import math

SUPPRESSED = "<5"
MIN_CELL = 5
ROUND_TO = 5


def publish_count(n: float) -> str:
    """The public text of a count of people (see the module docstring)."""
    value = int(round(float(n)))
    if value < MIN_CELL:
        return SUPPRESSED
    return str(ROUND_TO * math.floor(value / ROUND_TO + 0.5))


def candidates(published: str) -> range:
    """Every true count consistent with a published text."""
    if published == SUPPRESSED:
        return range(0, MIN_CELL)
    k = int(published)
    low = max(MIN_CELL, k - ROUND_TO // 2)
    return range(low, k + ROUND_TO // 2 + 1)


def published_share(covered: str, people: str) -> float | None:
    """A share computed only from published counts (None when either is suppressed)."""
    if SUPPRESSED in (covered, people) or int(people) == 0:
        return None
    return round(min(1.0, int(covered) / int(people)), 2)

"""Facility cards of the finder: the register fields a resident needs, missing ones left out."""

from __future__ import annotations

import math
from collections.abc import Mapping

#: Card fields read from a register (data/columns.toml [facility_cards]) besides address.
CARD_FIELDS = ("phone", "hours", "fees", "services", "meal_times", "meal_price", "delivery",
               "free_places", "rating")
#: Everything a card may show, in display order.
CARD_ORDER = ("address", "phone", "hours", "fees", "services", "meal_times", "meal_price",
              "delivery", "capacity", "free_places", "rating")


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return str(value).strip() not in ("", "nan", "None")


def card_fields(row: Mapping[str, object]) -> dict[str, object]:
    """The card fields of one facility row that have a value (empty and NaN left out).

    >>> card_fields({"address": "玉林北路1号", "phone": "", "capacity": float("nan"), "x": 1})
    {'address': '玉林北路1号'}
    """
    out: dict[str, object] = {}
    for field in CARD_ORDER:
        value = row.get(field)
        if _present(value):
            out[field] = int(value) if field == "capacity" and isinstance(value, float) else (
                value if isinstance(value, (int, float)) else str(value).strip())
    return out

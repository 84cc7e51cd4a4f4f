"""One reader view of ``indicators.csv`` whatever its column set, and number formats for paper.

Two layouts exist: the first one (``rule_id, indicator, indicator_en, baseline, target,
target_year, binding, computed, met, source, note``) and the plan-fidelity one (``id, label_zh,
label_en, definition, unit_of_measure, baseline, target, target_year, binding, value, met``) in
which ``value`` is a number or a text such as ``"not evaluable: needs beds"`` / ``"partial ..."``.
:func:`normalize_indicators` maps both onto :data:`INDICATOR_COLUMNS`; nothing else in the report
reads the raw columns.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

#: Columns of the normalised indicator table (``computed`` is a float or NaN, ``value_text`` the
#: original text when the value is not a number).
INDICATOR_COLUMNS = ("id", "indicator", "baseline", "target", "target_year", "binding",
                     "computed", "value_text", "met", "unit_of_measure", "definition",
                     "source", "note", "baseline_text", "target_text")
_BINDING = {"binding": "binding", "约束性": "binding", "true": "binding", "mandatory": "binding",
            "expected": "expected", "预期性": "expected", "false": "expected",
            "indicative": "expected", "anticipatory": "expected"}
BINDING_LABELS = {"binding": ("约束性", "binding"), "expected": ("预期性", "expected"),
                  "": ("—", "—")}
MET_LABELS = {True: ("达标", "met"), False: ("未达标", "not met"), None: ("—", "—")}
_SHARE_UNITS = ("share", "ratio", "fraction", "%", "percent", "比例", "占比", "覆盖率")


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def binding_key(value: Any) -> str:
    """``"binding"``, ``"expected"`` or ``""`` from any spelling (约束性, True, "expected" ...)."""
    return _BINDING.get(_text(value).lower(), "")


def met_value(value: Any) -> bool | None:
    """``True``/``False`` from bools and their spellings; ``None`` when not judged."""
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("true", "1", "yes", "达标", "met"):
        return True
    if text in ("false", "0", "no", "未达标", "not met"):
        return False
    return None


def normalize_indicators(raw: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``indicators.csv`` in either layout as :data:`INDICATOR_COLUMNS` in ``lang``.

    Examples
    --------
    >>> old = pd.DataFrame({"rule_id": ["a"], "indicator": ["覆盖"], "indicator_en": ["cover"],
    ...                     "target": [0.8], "computed": [0.75], "met": [False]})
    >>> normalize_indicators(old, "en")[["id", "indicator", "computed", "met"]].values.tolist()
    [['a', 'cover', 0.75, False]]
    """
    def col(*names: str) -> pd.Series:
        for name in names:
            if name in raw:
                return raw[name]
        return pd.Series([None] * len(raw), index=raw.index, dtype=object)

    zh = col("label_zh", "indicator")
    label = col("label_en", "indicator_en") if lang == "en" else zh
    label = label.where(label.map(_text) != "", zh)
    value = col("value", "computed")

    def text_of(series: pd.Series) -> list[str]:
        return [_text(v) if math.isnan(_number(v)) else "" for v in series]
    out = pd.DataFrame({
        "id": col("id", "rule_id").map(_text), "indicator": label.map(_text),
        "baseline": col("baseline").map(_number), "target": col("target").map(_number),
        "target_year": col("target_year").map(_text).str.replace(r"\.0$", "", regex=True),
        "binding": col("binding").map(binding_key), "computed": value.map(_number),
        "value_text": text_of(value), "baseline_text": text_of(col("baseline")),
        "target_text": text_of(col("target")),
        "met": col("met").map(met_value), "unit_of_measure": col("unit_of_measure").map(_text),
        "definition": col("definition").map(_text), "source": col("source", "clause").map(_text),
        "note": col("note").map(_text)})
    return out[list(INDICATOR_COLUMNS)].reset_index(drop=True)


def is_share(row: pd.Series) -> bool:
    """Whether an indicator's values are shares (0..1) to print as percentages."""
    unit = str(row.get("unit_of_measure") or "").lower()
    if unit:
        return any(u in unit for u in _SHARE_UNITS)
    values = [v for v in (row["computed"], row["target"], row["baseline"]) if not math.isnan(v)]
    return bool(values) and all(0 <= v <= 1 for v in values) and "per_1000" not in row["id"]


def fmt_int(value: Any) -> str:
    """Whole number with thousands separators (``"12,345"``); empty for NaN."""
    number = _number(value)
    return "" if math.isnan(number) else f"{number:,.0f}"


def fmt_pct(value: Any) -> str:
    """Share as a percentage with one decimal (``0.5354 -> "53.5%"``); empty for NaN."""
    number = _number(value)
    return "" if math.isnan(number) else f"{number * 100:,.1f}%"


def fmt_num(value: Any) -> str:
    """Number with thousands separators and at most one decimal; empty for NaN."""
    number = _number(value)
    if math.isnan(number):
        return ""
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.1f}"


def fmt_indicator_value(row: pd.Series, key: str) -> str:
    """``baseline``/``target``/``computed`` of one normalised row as printed text.

    A value that is not a number (``"≥55%"``, ``"not evaluable: needs beds"``) prints as given.
    """
    value = row[key]
    if math.isnan(value):
        return str(row.get("value_text" if key == "computed" else f"{key}_text") or "")
    return fmt_pct(value) if is_share(row) else fmt_num(value)

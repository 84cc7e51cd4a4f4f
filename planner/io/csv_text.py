"""CSV tables written fast, byte for byte what ``frame.to_csv(path, index=False)`` writes.

pandas formats every float through Python (``repr``) and runs each row through the ``csv``
module: 4.8 million coverage rows took about 10 s. Here each column becomes one Arrow string
array in C++ (shortest round-trip digits, as ``repr``), the rows are joined by Arrow and the
text is written in one go. Only what Arrow would spell differently from pandas is formatted in
Python: integral floats (``15`` -> ``15.0``), exponent forms (``1e-05``), and object columns.
Strings are quoted as the ``csv`` module's ``QUOTE_MINIMAL`` does (when they hold ``,``, ``"`` or
``\\n``; inner quotes doubled). Frames this module cannot reproduce exactly (a single
column, categoricals, dates, nullable integers with gaps) are written by pandas.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Rows formatted per Arrow pass (bounds the memory of the text being built).
CHUNK_ROWS: Final = 500_000


def _quoted_chars() -> tuple[str, ...]:
    """The characters that make the csv module (as pandas calls it) quote a field."""
    out = io.StringIO()
    candidates = (",", '"', "\n", "\r", "\t", " ", "'")
    csv.writer(out, lineterminator="\n").writerow([f"a{c}b" for c in candidates] + ["x"])
    fields = out.getvalue()
    return tuple(c for c in candidates if f'"a{c}' in fields)  # quoted: starts with a quote


#: Characters that make a field quoted (``,``, ``"`` and ``\n`` in CPython 3.11).
_NEEDS_QUOTES: Final = _quoted_chars()


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _quoted(text: pa.Array) -> pa.Array:
    """Strings as the csv module writes them with QUOTE_MINIMAL and ``"`` as quote char."""
    need = None
    for char in _NEEDS_QUOTES:  # plain searches: faster than one regular expression
        hit = pc.match_substring(text, char)
        need = hit if need is None else pc.or_(need, hit)
    need = pc.fill_null(need, False)
    if not pc.any(need).as_py():
        return text
    inner = pc.replace_substring(text, '"', '""')
    wrapped = pc.binary_join_element_wise(_s('"'), inner, _s('"'), _s(""))
    return pc.if_else(need, wrapped, text)


def _float_text(values: np.ndarray) -> pa.Array:
    """Float column as pandas writes it: shortest round-trip digits, ``nan`` as empty."""
    text = pc.cast(pa.array(values, type=pa.float64()), pa.large_string())
    finite = np.isfinite(values)
    size = np.abs(values)
    odd = finite & ((size >= 1e16) | ((size < 1e-4) & (values != 0)))  # repr: exponent form
    odd |= np.asarray(pc.fill_null(pc.match_substring(text, "e"), False), dtype=bool) & finite
    integral = finite & ~odd & (np.floor(values) == values)
    text = pc.if_else(pa.array(integral), pc.binary_join_element_wise(text, _s(".0"), _s("")),
                      text)
    where = np.flatnonzero(odd)
    if where.size:  # as repr spells them (few: Arrow's exponent rules differ from Python's)
        spelled = pa.array([repr(float(v)) for v in values[where]], type=pa.large_string())
        text = pc.replace_with_mask(text, pa.array(odd), spelled)
    return pc.if_else(pa.array(np.isnan(values)), _s(""), text)


def _column_text(series: pd.Series) -> pa.Array | None:
    """One column as CSV field text, or ``None`` when only pandas spells it right."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.hasnans:
        return pa.array(np.where(series.to_numpy(dtype=bool), "True", "False"),
                        type=pa.large_string())
    if pd.api.types.is_integer_dtype(dtype) and not series.hasnans:
        return pc.cast(pa.array(series.to_numpy()), pa.large_string())
    if pd.api.types.is_float_dtype(dtype) and isinstance(dtype, np.dtype):
        return _float_text(series.to_numpy(dtype=np.float64))
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        try:  # Arrow-backed text converts without a Python string per row
            text = pc.cast(pa.array(series, from_pandas=True), pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # mixed objects: str() of each, as pandas does
        return _quoted(pc.fill_null(text, _s("")))
    return None


def _header(frame: pd.DataFrame) -> bytes:
    names = pa.array([str(c) for c in frame.columns], type=pa.large_string())
    return (",".join(_quoted(names).to_pylist()) + "\n").encode()


def _body(frame: pd.DataFrame) -> bytes | None:
    """The rows' text, or ``None`` when a column needs pandas."""
    columns = [_column_text(frame[c]) for c in frame.columns]
    if any(c is None for c in columns):
        return None
    *first, last = columns
    last = pc.binary_join_element_wise(last, _s("\n"), _s(""))
    rows = pc.binary_join_element_wise(*first, last, _s(",")) if first else last
    return b"".join(_data(chunk) for chunk in pa.chunked_array([rows]).chunks)


def _data(chunk: pa.Array) -> bytes:
    """The concatenated bytes of a string array without nulls."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:
                                                                  chunk.offset + len(chunk) + 1]
    data: bytes = chunk.buffers()[2].slice(int(offsets[0]),
                                           int(offsets[-1] - offsets[0])).to_pybytes()
    return data


def _simple(frame: pd.DataFrame) -> bool:
    """Frames whose pandas CSV this module reproduces."""
    return (frame.shape[1] > 1 and frame.columns.is_unique
            and not isinstance(frame.columns, pd.MultiIndex))


def write_csv(frame: pd.DataFrame, path: Path, *, encoding: str = "utf-8-sig") -> None:
    """Write ``frame`` without its index, as ``frame.to_csv(path, index=False,
    encoding=encoding)`` does (same bytes), in chunks of :data:`CHUNK_ROWS` rows."""
    codec = encoding.lower().replace("_", "-")
    if not _simple(frame) or codec not in ("utf-8-sig", "utf-8", "utf8"):
        frame.to_csv(path, index=False, encoding=encoding)
        return
    parts = [b"\xef\xbb\xbf" if codec == "utf-8-sig" else b"", _header(frame)]
    for start in range(0, len(frame), CHUNK_ROWS):
        body = _body(frame.iloc[start:start + CHUNK_ROWS])
        if body is None:
            frame.to_csv(path, index=False, encoding=encoding)
            return
        parts.append(body)
    with Path(path).open("wb") as handle:
        for part in parts:
            handle.write(part)

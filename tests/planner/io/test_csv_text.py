"""planner.io.csv_text.write_csv writes the same bytes as pandas' ``to_csv(index=False)``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.io import csv_text
from planner.io.csv_text import write_csv

EDGE_FLOATS = [0.0, -0.0, 0.1, 15.0, 1e-4, 9.99e-5, 1e-5, 3.5e-5, 1e-7, 1234567.0, 1e15, 1e16,
               2.5e16, 123456789012345.6, 1619280516192.667, 1 / 3, 0.30000000000000004,
               5e-324, 1.7976931348623157e308, np.nan, np.inf, -np.inf, -2.5, 202.41,
               4.547474e-13]


def _same_as_pandas(frame: pd.DataFrame, tmp: Path, encoding: str = "utf-8-sig") -> None:
    ours, theirs = tmp / "ours.csv", tmp / "pandas.csv"
    write_csv(frame, ours, encoding=encoding)
    frame.to_csv(theirs, index=False, encoding=encoding)
    assert ours.read_bytes() == theirs.read_bytes()


def test_edge_floats_ints_bools_and_text(tmp_path: Path) -> None:
    n = len(EDGE_FLOATS)
    frame = pd.DataFrame({
        "x": EDGE_FLOATS, "i": np.arange(n) - 3, "b": np.arange(n) % 2 == 0,
        "s": pd.array(["a", 'q"x', "c,d", None, "日间照料", "l\nn", "", "r\rr", " sp "] * 2
                      + ["z"] * (n - 18), dtype="str"),
        "o": np.array(["a", None, "b,c", "d"] * 6 + ["e"], dtype=object),
        "n,ame": -np.array(EDGE_FLOATS)})
    _same_as_pandas(frame, tmp_path)
    _same_as_pandas(frame, tmp_path, encoding="utf-8")


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [1.5, 2.0]}),  # one column: pandas quotes an empty field there
    pd.DataFrame({"a": [1, 2], "b": pd.Categorical(["x", "y"])}),
    pd.DataFrame({"a": [1, 2], "b": [pd.Timestamp("2024-01-01"), pd.NaT]}),
    pd.DataFrame({"a": [1, None], "b": pd.array([1, None], dtype="Int64")}),
    pd.DataFrame({"a": [1.0, 2.0], "b": np.array([1, "x"], dtype=object)}),
    pd.DataFrame({"a": [], "b": []}),
])
def test_frames_it_does_not_format_go_through_pandas(frame: pd.DataFrame, tmp_path: Path) -> None:
    _same_as_pandas(frame, tmp_path)


def test_chunks_join_seamlessly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_text, "CHUNK_ROWS", 7)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"id": [f"u{k}" for k in range(50)], "v": rng.random(50)})
    _same_as_pandas(frame, tmp_path)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-2**62, 2**62), st.booleans(),
                          st.one_of(st.none(), st.text(max_size=6))), min_size=1, max_size=30))
def test_random_rows_match_pandas(tmp_path_factory: pytest.TempPathFactory,
                                  rows: list[tuple[float, int, bool, str | None]]) -> None:
    frame = pd.DataFrame(rows, columns=["f", "i", "b", "s"])
    frame["s"] = frame["s"].astype(object)
    frame["r"] = np.round(frame["f"].where(np.isfinite(frame["f"]), 0.0) % 1000, 2)
    _same_as_pandas(frame, tmp_path_factory.mktemp("csv"))

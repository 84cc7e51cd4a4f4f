"""write_folder_atomically with writers in forked children: all or nothing, in order, timed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.errors import InputDataError
from planner.io.folder import write_folder_atomically


def _text(value: str):  # type: ignore[no-untyped-def]
    return lambda path: path.write_text(value, encoding="utf-8")


def _fail(path: Path) -> None:
    path.write_text("half", encoding="utf-8")
    msg = f"cannot write {path.name}"
    raise InputDataError(msg)


def test_forked_writers_write_into_the_folder_with_their_times(tmp_path: Path) -> None:
    pids: dict[str, int] = {}

    def pid_file(path: Path) -> None:
        path.write_text(str(os.getpid()), encoding="utf-8")

    made = {"first": "a"}

    def after_first(path: Path) -> None:  # a forked writer sees what the earlier ones made
        path.write_text(made["first"] + "b", encoding="utf-8")

    seconds: dict[str, float] = {}
    out = write_folder_atomically(tmp_path / "run", {
        "child.txt": pid_file, "first.txt": _text("a"), "second.txt": after_first,
        "summary.json": _text("{}")}, marker="summary.json", what="run",
        forked=("child.txt", "second.txt"), seconds=seconds)
    pids["child"] = int((out / "child.txt").read_text(encoding="utf-8"))
    assert pids["child"] != os.getpid()
    assert (out / "second.txt").read_text(encoding="utf-8") == "ab"
    assert set(seconds) == {"child.txt", "first.txt", "second.txt", "summary.json"}
    assert all(v >= 0 for v in seconds.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left


@pytest.mark.parametrize("failing", ["forked", "here"])
def test_a_failing_writer_leaves_the_previous_output(tmp_path: Path, failing: str) -> None:
    out = tmp_path / "run"
    write_folder_atomically(out, {"a.txt": _text("old"), "summary.json": _text("{}")},
                            marker="summary.json", what="run")
    writers = {"a.txt": _text("new"), "bad.txt": _fail, "summary.json": _text("{}")}
    with pytest.raises(InputDataError, match="cannot write bad.txt"):
        write_folder_atomically(out, writers, marker="summary.json", what="run",
                                forked=("bad.txt",) if failing == "forked" else ())
    assert (out / "a.txt").read_text(encoding="utf-8") == "old"
    assert not (out / "bad.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

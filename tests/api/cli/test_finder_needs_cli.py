"""`careplan needs demo-register`, `careplan demo --older-adults`, `careplan finder`, `careplan
report` and `careplan needs outreach` end to end: every byte of the run folder, the finder pages
and the report is searched for the register's names, ids and coordinates; only the protected
outreach export holds them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from api.cli.main import main
from planner.needs.publish import SUPPRESSED
from tests.privacy import Register


@pytest.fixture(scope="module")
def needs_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Register]:
    root = tmp_path_factory.mktemp("needs")
    register = root / "older.xlsx"
    assert main(["needs", "demo-register", "--out", str(register), "--nodes", "2000"]) == 0
    run = root / "run"
    assert main(["demo", "--out", str(run), "--nodes", "2000", "--older-adults",
                 str(register)]) == 0
    return run, register, Register(pd.read_excel(register))


def test_public_outputs_hold_no_personal_data(needs_run: tuple[Path, Path, Register],
                                              tmp_path: Path) -> None:
    run, _, reg = needs_run
    finder = tmp_path / "finder"
    assert main(["finder", "--run", str(run), "--out", str(finder)]) == 0
    report = tmp_path / "report"
    assert main(["report", str(run), "--out", str(report), "--formats", "html,xlsx"]) == 0
    files = [p for d in (run, finder, report) for p in d.rglob("*") if p.is_file()]
    assert {"coverage_needs.csv", "needs_gaps.csv", "finder.html", "meals.html",
            "careplan.gpkg"} <= {p.name for p in files}
    for path in files:
        assert reg.leaks(path.read_bytes()) == [], path.name


def test_needs_tables_are_published_counts(needs_run: tuple[Path, Path, Register]) -> None:
    run, _, _ = needs_run
    cov = pd.read_csv(run / "coverage_needs.csv", dtype=str, keep_default_na=False)
    assert {"all", "need_meal", "disability"} <= set(cov["group"])
    for col in ("people", "covered", "uncovered"):
        assert all(v == SUPPRESSED or int(v) % 5 == 0 for v in cov[col])
    gaps = pd.read_csv(run / "needs_gaps.csv", dtype=str, keep_default_na=False)
    assert list(gaps["rank"]) == [str(i) for i in range(1, len(gaps) + 1)]


def test_outreach_export_is_the_protected_list(needs_run: tuple[Path, Path, Register],
                                               tmp_path: Path) -> None:
    run, register, reg = needs_run
    out = tmp_path / "outreach.xlsx"
    assert main(["needs", "outreach", "--run", str(run), "--older-adults", str(register),
                 "--out", str(out), "--need", "need_meal"]) == 0
    table = pd.read_excel(out)
    assert len(table) and set(table["need"]) == {"need_meal"}
    assert (table["walk_min"].fillna(1e9) > table["threshold_min"]).all()
    names = set(pd.read_excel(register)["姓名"])
    assert set(table["name"]) <= names
    assert reg.leaks(out.read_bytes())  # the protected export does hold personal data
    assert main(["needs", "outreach", "--run", str(run), "--older-adults", str(register),
                 "--out", str(tmp_path / "x.csv")]) == 1

"""One small demo run and one report of it, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli.main import main


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run folder from ``careplan demo`` on a small synthetic district."""
    out = tmp_path_factory.mktemp("run") / "demo"
    assert main(["demo", "--out", str(out), "--nodes", "2000"]) == 0
    return out


@pytest.fixture(scope="session")
def report_dir(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``careplan report`` of :func:`run_dir` in every format (Chinese)."""
    out = tmp_path_factory.mktemp("report") / "rep"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    return out

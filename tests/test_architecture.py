"""Architecture rules (docs: architecture D1-D5) checked on the source itself."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = [p for p in sorted((ROOT / "planner").rglob("*.py"))
        if "io" not in p.relative_to(ROOT).parts]
IO_MARKERS = re.compile(r"open\(|\.to_file\(|read_file\(|os\.environ|graph_from_|features_from_|"
                        r"geocode")


def test_import_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """import-linter: api > maps > planner, no web/map/plot/network library in the core, no I/O
    in the pipeline (contracts in pyproject.toml)."""
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_import_contracts_catch_a_breach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same contracts fail on a copy of the core that imports folium."""
    from importlinter.cli import lint_imports

    for pkg in ("planner", "maps", "api"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "planner" / "coverage" / "measure.py").open("a", encoding="utf-8") as f:
        f.write("\nimport folium  # a breach\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.split(".")[0] in {"planner", "maps", "api"}]:
        monkeypatch.delitem(sys.modules, name)  # so the copy, not the loaded package, is found
    assert lint_imports(config_filename=str(tmp_path / "pyproject.toml")) == 1


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_modules_do_no_io(path: Path) -> None:
    """Only planner/io/ reads or writes files, reads the environment or downloads (D2)."""
    hits = [f"{path.name}:{i}: {line.strip()}"
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if IO_MARKERS.search(line)]
    assert not hits, "I/O outside planner/io: " + "; ".join(hits)


def test_types_check_strictly() -> None:
    """``mypy --strict`` on planner, maps and api (settings in pyproject.toml) finds nothing."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_no_import_cycle_anywhere() -> None:
    """No module of planner, maps or api takes part in an import cycle (lazy imports included)."""
    import grimp

    graph = grimp.build_graph("planner", "maps", "api")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert not cycles, "import cycles: " + "; ".join(cycles[:10])


def test_planner_root_holds_only_the_ties() -> None:
    """Concerns live in subpackages; the root keeps at most 8 modules (pipeline, what-if, ...)."""
    root_modules = sorted(p.name for p in (ROOT / "planner").glob("*.py"))
    assert len(root_modules) <= 8, root_modules
    for package in ("network", "routing", "catchments", "coverage", "compliance", "siting",
                    "report", "synthetic", "io"):
        init = ROOT / "planner" / package / "__init__.py"
        assert init.read_text(encoding="utf-8").startswith('"""'), f"{init} needs a docstring"

"""Locate careplan's data folder and read the facility-type catalogue."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from planner.errors import InputDataError
from planner.facilities import Catalogue, build_catalogue

#: The repository's data/ folder (rules, catalogue); the package is installed in editable mode.
DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def read_toml_file(path: Path, what: str, *, missing_fix: str) -> dict[str, Any]:
    """Parse a UTF-8 TOML file; one-line InputDataError naming ``what``, the path and the fix.

    Raises
    ------
    InputDataError
        The file is missing, not UTF-8 or not valid TOML.
    """
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"{what} {path} not found; {missing_fix}"
        raise InputDataError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"{what} {path} is not UTF-8 text; save it as UTF-8"
        raise InputDataError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"{what} {path} is not valid TOML ({exc}); fix the file"
        raise InputDataError(msg) from exc


def read_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the facility-type catalogue (default ``data/facility_types.toml``).

    Raises
    ------
    InputDataError
        The file is missing or not valid TOML.
    """
    path = path or DATA_DIR / "facility_types.toml"
    raw = read_toml_file(path, "facility catalogue",
                         missing_fix="reinstall careplan with `pip install -e .`")
    return build_catalogue(raw)

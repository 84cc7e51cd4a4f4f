"""Locate careplan's data folder and read the facility-type catalogue."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from planner.errors import InputDataError
from planner.facilities import Catalogue, build_catalogue

#: The package carrying ``data/`` in a built wheel (``setup.py`` maps the folder to it).
DATA_PACKAGE = "careplan_data"


def find_data_dir() -> Path:
    """careplan's data folder: rule profiles, facility catalogue, column maps.

    In a source checkout (editable install or ``PYTHONPATH``) it is the repository's ``data/``,
    edited in place; in an installed wheel it is the ``careplan_data`` package, found with
    :mod:`importlib.resources`.
    """
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "facility_types.toml").is_file():
        return checkout
    # careplan_data has no __init__.py (a namespace package): resolve through a file in it
    return Path(str(resources.files(DATA_PACKAGE).joinpath("facility_types.toml"))).parent


#: The data folder (see :func:`find_data_dir`).
DATA_DIR = find_data_dir()


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

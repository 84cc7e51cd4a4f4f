"""Locate careplan's data folder and read the facility-type catalogue."""

from __future__ import annotations

import tomllib
from pathlib import Path

from planner.errors import InputDataError
from planner.facilities import Catalogue, build_catalogue

#: The repository's data/ folder (rules, catalogue); the package is installed in editable mode.
DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def read_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the facility-type catalogue (default ``data/facility_types.toml``).

    Raises
    ------
    InputDataError
        The file is missing or not valid TOML.
    """
    path = path or DATA_DIR / "facility_types.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"facility catalogue {path} not found; reinstall careplan with `pip install -e .`"
        raise InputDataError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"facility catalogue {path} is not valid TOML ({exc}); fix the file"
        raise InputDataError(msg) from exc
    return build_catalogue(raw)

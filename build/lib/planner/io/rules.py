"""Read jurisdiction rule profiles (data/rules/*.toml) by name or path and list the shipped ones."""

from __future__ import annotations

from pathlib import Path

from planner.compliance.rules import RuleProfile, build_profile
from planner.errors import InputDataError
from planner.io.catalogue import DATA_DIR, read_toml_file

#: Folder of the shipped profiles.
RULES_DIR = DATA_DIR / "rules"


def list_profiles(rules_dir: Path | None = None) -> list[str]:
    """Names of the shipped profiles (file stems of ``data/rules/*.toml``), sorted."""
    return sorted(p.stem for p in (rules_dir or RULES_DIR).glob("*.toml"))


def resolve_profile_path(name_or_path: str | Path, rules_dir: Path | None = None) -> Path:
    """Path of a profile given a shipped name (``chengdu``) or a file path.

    Raises
    ------
    InputDataError
        Neither a shipped name nor an existing file.
    """
    text = str(name_or_path)
    shipped = (rules_dir or RULES_DIR) / f"{text}.toml"
    if "/" not in text and "\\" not in text and not text.endswith(".toml") and shipped.exists():
        return shipped
    path = Path(text)
    if path.is_file():
        return path
    msg = (f"rule profile {text!r} not found; use one of {', '.join(list_profiles(rules_dir))} "
           "or the path of a .toml file")
    raise InputDataError(msg)


def read_profile(name_or_path: str | Path, rules_dir: Path | None = None) -> RuleProfile:
    """Read and strictly validate a rule profile by shipped name or path.

    Raises
    ------
    InputDataError
        Not found, not TOML, or invalid (the message names the file and the bad key).
    """
    path = resolve_profile_path(name_or_path, rules_dir)
    raw = read_toml_file(path, "rule profile", missing_fix="give a shipped name or a .toml path")
    return build_profile(raw, origin=str(path))

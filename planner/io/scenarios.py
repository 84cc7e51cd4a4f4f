"""What-if scenario files (TOML/JSON) and the siting / what-if output folders.

A scenario file (TOML; the same keys in JSON; ``docs/examples/new_sites.toml``)::

    name = "A: two new canteens"
    remove = ["f3", "f9"]          # top-level keys come before the first [[table]]

    [[add]]
    facility_id = "new1"
    type = "meal_point"
    lon = 104.07
    lat = 30.66
    capacity = 80

    [[move]]
    facility_id = "f12"
    lon = 104.08
    lat = 30.67
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import InputDataError
from planner.io.rounding import round_populations
from planner.schema import WGS84
from planner.whatif import FacilityChange, Scenario


def _changes(items: list[dict[str, Any]], kind: str, path: Path) -> tuple[FacilityChange, ...]:
    out = []
    for item in items:
        try:
            out.append(FacilityChange(str(item["facility_id"]), float(item["lon"]),
                                      float(item["lat"]), str(item.get("type", "")),
                                      float(item.get("capacity", float("nan")))))
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{path.name}: {kind} entry {item!r} needs facility_id, lon, lat; add them"
            raise InputDataError(msg) from exc
    return tuple(out)


def read_scenario(path: Path) -> Scenario:
    """A :class:`planner.whatif.Scenario` from a ``.toml`` or ``.json`` file."""
    if not path.is_file():
        raise InputDataError(f"scenario file {path} not found; give an existing file")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError(f"{path.name} is not valid TOML/JSON ({exc}); fix its syntax") from exc
    return Scenario(str(data.get("name", path.stem)), _changes(data.get("add", []), "add", path),
                    _changes(data.get("move", []), "move", path),
                    tuple(str(r) for r in data.get("remove", [])))


def write_scenario(scenario: Scenario, path: Path) -> None:
    """Save a scenario as JSON (``.json``) readable by :func:`read_scenario`."""
    def rows(changes: tuple[FacilityChange, ...]) -> list[dict[str, Any]]:
        return [{"facility_id": c.facility_id, "type": c.facility_type, "lon": c.lon,
                 "lat": c.lat, **({"capacity": c.capacity} if c.capacity == c.capacity else {})}
                for c in changes]
    data = {"name": scenario.name, "add": rows(scenario.add), "move": rows(scenario.move),
            "remove": list(scenario.remove)}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` (e.g. a run's ``summary.json``)."""
    if not path.is_file():
        raise InputDataError(f"{path} not found; give a careplan run folder (careplan demo/analyze)")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write ``data`` as UTF-8 JSON (numpy scalars as numbers)."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2,
                               default=lambda v: v.item() if hasattr(v, "item") else str(v)),
                    encoding="utf-8")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """CSV with a BOM so Excel opens Chinese text correctly; ``*_pop`` columns rounded."""
    round_populations(frame).to_csv(path, index=False, encoding="utf-8-sig")


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    """GeoJSON in WGS-84 lon/lat."""
    frame.to_crs(WGS84).to_file(path, driver="GeoJSON", engine="pyogrio")


def prepare_out_dir(out: Path) -> Path:
    """Create ``out``; refuse a file or a non-empty folder without careplan siting outputs."""
    if out.is_file():
        raise InputDataError(f"--out {out} is a file; give a folder path")
    known = {"siting.json", "whatif.json"}
    if out.is_dir() and any(out.iterdir()) and not any((out / k).is_file() for k in known):
        raise InputDataError(f"--out {out} is a non-empty folder; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    return out

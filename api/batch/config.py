"""The options of a batch run (built by the command line and by the service)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.compliance.rules import RuleProfile
from planner.params import PlanParams


@dataclass(frozen=True)
class BatchConfig:
    """Everything a batch run needs (the CLI and the service build it)."""

    osm: Path
    regions: Path
    out: str
    params: PlanParams
    profile: RuleProfile
    region_id_column: str | None = None
    facilities: Path | None = None
    coords: str = "wgs84"
    units: Path | None = None
    units_coords: str = "wgs84"
    scheduler: str | None = None
    workers: int | None = None
    resume: bool = False
    fmt: str = "gpkg"
    retries: int = 2
    horizon_min: float | None = None
    lang: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

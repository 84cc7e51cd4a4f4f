"""Load a run folder (``careplan analyze``/``demo`` output) into tables: the report's only reader."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from planner.errors import InputDataError
from planner.facilities import Catalogue
from planner.io.catalogue import read_catalogue
from planner.io.folder import hash_file

GPKG_NAME = "careplan.gpkg"
REQUIRED_CSV = ("coverage.csv", "gaps.csv")
OPTIONAL_CSV = ("coverage_thresholds.csv", "indicators.csv", "compliance.csv", "sites.csv")
MAP_LAYERS = ("facilities", "units", "catchments", "catchments_dissolved", "gaps", "network_edges",
              "sites")


@dataclass(frozen=True)
class RunTables:
    """Everything the report needs from one run folder.

    Attributes
    ----------
    run_dir
        The folder read.
    summary
        Parsed ``summary.json``.
    tables
        CSV tables by file stem (``coverage``, ``gaps``, and ``coverage_thresholds``,
        ``indicators``, ``compliance``, ``sites`` when present).
    layers
        GeoPackage layers by name (WGS-84), those of :data:`MAP_LAYERS` that exist.
    checksums
        SHA-256 of every file in the folder, by file name.
    type_labels
        Facility type -> ``(label_zh, label_en)`` from the catalogue.
    """

    run_dir: Path
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    layers: dict[str, gpd.GeoDataFrame]
    checksums: dict[str, str] = field(default_factory=dict)
    type_labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        """A CSV table by stem, or ``None`` when the run folder has none."""
        return self.tables.get(name)


def _read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "summary.json"
    if not run_dir.is_dir():
        msg = f"RUN_DIR {run_dir} is not a folder; give the --out folder of `careplan analyze`/`demo`"
        raise InputDataError(msg)
    if not path.is_file():
        msg = (f"RUN_DIR {run_dir} has no summary.json; give the --out folder of "
               "`careplan analyze` or `careplan demo`")
        raise InputDataError(msg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid JSON ({exc}); re-run the analysis to rewrite it"
        raise InputDataError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path} holds {type(data).__name__}, not an object; re-run the analysis"
        raise InputDataError(msg)
    return data


def _read_csvs(run_dir: Path) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for name in REQUIRED_CSV + OPTIONAL_CSV:
        path = run_dir / name
        if not path.is_file():
            if name in REQUIRED_CSV:
                msg = f"RUN_DIR {run_dir} has no {name}; re-run `careplan analyze` into a new folder"
                raise InputDataError(msg)
            continue
        tables[path.stem] = pd.read_csv(path, encoding="utf-8-sig",
                                        dtype={"unit_id": str, "facility_id": str,
                                               "nearest_facility_id": str})
    return tables


def _read_layers(run_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    gpkg = run_dir / GPKG_NAME
    if not gpkg.is_file():
        msg = f"RUN_DIR {run_dir} has no {GPKG_NAME}; re-run `careplan analyze` into a new folder"
        raise InputDataError(msg)
    present = {str(row[0]) for row in pyogrio.list_layers(gpkg)}
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in MAP_LAYERS:
        if name in present:
            layers[name] = gpd.read_file(gpkg, layer=name, engine="pyogrio")
    for name in ("facilities", "units"):
        if name not in layers:
            msg = f"{gpkg} has no layer {name!r}; re-run `careplan analyze` into a new folder"
            raise InputDataError(msg)
    return layers


def _labels(catalogue: Catalogue) -> dict[str, tuple[str, str]]:
    return {t.key: (t.label_zh, t.label_en) for t in catalogue.types}


def _read_siting(site_dir: Path, summary: dict[str, Any], tables: dict[str, pd.DataFrame],
                 layers: dict[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """Add a `careplan site` output folder: sites table and layer, before/after in the summary."""
    site_dir = Path(site_dir).resolve()
    if not (site_dir / "siting.json").is_file():
        msg = f"--siting {site_dir} has no siting.json; give the --out folder of `careplan site`"
        raise InputDataError(msg)
    siting = json.loads((site_dir / "siting.json").read_text(encoding="utf-8"))
    sites = gpd.read_file(site_dir / "sites.geojson", engine="pyogrio")
    layers["sites"] = sites
    tables["sites"] = pd.DataFrame(sites.drop(columns="geometry")).assign(
        lon=sites.geometry.x, lat=sites.geometry.y)
    before_after = pd.read_csv(site_dir / "before_after.csv")
    summary["siting"] = {**{k: v for k, v in siting.items() if k != "sites"},
                         "covered_before_pop": float(before_after["before_pop"].sum()),
                         "covered_after_pop": float(before_after["after_pop"].sum()),
                         "total_pop": float(before_after["older_pop"].sum())}
    return {f"siting/{p.name}": hash_file(p) for p in sorted(site_dir.iterdir()) if p.is_file()}


def load_run(run_dir: Path, *, catalogue: Catalogue | None = None,
             siting_dir: Path | None = None) -> RunTables:
    """Read a run folder written by :func:`planner.io.writers.write_run`.

    Parameters
    ----------
    run_dir
        Folder with ``summary.json``, ``coverage.csv``, ``gaps.csv`` and ``careplan.gpkg``;
        ``indicators.csv``, ``compliance.csv``, ``sites.csv`` and a ``sites`` layer are optional.
    catalogue
        Facility-type catalogue for labels; the packaged one when ``None``.
    siting_dir
        Output folder of ``careplan site`` (``siting.json``, ``sites.geojson``,
        ``before_after.csv``) whose proposed sites and before/after coverage join the report.

    Raises
    ------
    InputDataError
        A required file is missing or unreadable.
    """
    run_dir = Path(run_dir).resolve()
    summary = _read_summary(run_dir)
    tables = _read_csvs(run_dir)
    layers = _read_layers(run_dir)
    checksums = {p.name: hash_file(p) for p in sorted(run_dir.iterdir()) if p.is_file()}
    if siting_dir is not None:
        checksums.update(_read_siting(siting_dir, summary, tables, layers))
    labels = _labels(catalogue or read_catalogue())
    return RunTables(run_dir, summary, tables, layers, checksums, labels)

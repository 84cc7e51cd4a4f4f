"""Write a PlanResult to a run folder: GeoPackage, CSV tables and summary.json, all or nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from planner.io.csv_text import write_csv
from planner.io.folder import write_folder_atomically
from planner.io.rounding import EXTRA_DECIMALS, input_decimals, round_populations
from planner.network.crs import unproject_xy
from planner.pipeline import PlanResult
from planner.schema import WGS84

logger = logging.getLogger(__name__)
GPKG_NAME = "careplan.gpkg"
SYNTHETIC_NOTE = "SYNTHETIC DEMO DATA (planner.synthetic.district): not a real place"


def build_unit_layer(result: PlanResult) -> gpd.GeoDataFrame:
    """Units with one covered-share and covered-pop column per facility type (a pivot)."""
    wide = result.coverage.pivot_table(index="unit_id", columns="facility_type",
                                       values=["covered_share", "covered_pop"], aggfunc="first")
    wide.columns = [f"{t}_{v.replace('covered_', '')}" for v, t in wide.columns]
    units = result.units.merge(wide, left_on="unit_id", right_index=True, how="left")
    units["gap_types"] = units["unit_id"].map(
        result.gaps.groupby("unit_id")["facility_type"].agg(lambda s: ",".join(sorted(s)))
    ).fillna("")
    return units.to_crs(WGS84)


def build_gap_layer(result: PlanResult) -> gpd.GeoDataFrame:
    """Gap rows joined to their unit geometry (WGS-84)."""
    geom = result.units.set_index("unit_id").geometry
    gaps = gpd.GeoDataFrame(result.gaps.copy(),
                            geometry=result.gaps["unit_id"].map(geom).to_numpy(),
                            crs=result.units.crs)
    return gaps.to_crs(WGS84)


def build_edge_layer(result: PlanResult) -> gpd.GeoDataFrame:
    """Network segments with length, walk time and main-part flag (WGS-84); with terrain also
    the time from ``u`` to ``v`` and back (``walk_s`` is then the faster of the two)."""
    net = result.network
    frame = pd.DataFrame({"u": net.node_id[net.edge_u], "v": net.node_id[net.edge_v],
                          "length_m": net.edge_length_m, "walk_s": net.edge_walk_s,
                          "is_steps": net.edge_is_steps, "in_main": net.edge_in_main})
    if net.edge_uv_s is not None and net.edge_vu_s is not None:  # terrain: both directions
        frame["walk_uv_s"], frame["walk_vu_s"] = net.edge_uv_s, net.edge_vu_s
    # the nodes are unprojected once (not every segment's two ends): the same degrees as
    # ``to_crs`` of the projected lines, a third of the work at a city's million nodes
    lon, lat = unproject_xy(net.x_m, net.y_m, net.crs)
    coords = np.empty((net.n_edges, 2, 2))
    coords[:, 0, 0], coords[:, 0, 1] = lon[net.edge_u], lat[net.edge_u]
    coords[:, 1, 0], coords[:, 1, 1] = lon[net.edge_v], lat[net.edge_v]
    lines = shapely.linestrings(coords) if net.n_edges else np.array([], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=lines, crs=WGS84)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def build_summary(result: PlanResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """summary.json content: headline figures, parameters, checksums, warnings, version."""
    from planner import __version__

    summary = dict(result.summary)
    summary["software"] = {"name": "careplan", "version": __version__}
    summary["warnings"] = list(result.warnings.entries)
    if summary.get("synthetic"):
        summary["note"] = SYNTHETIC_NOTE
    summary.update(extra or {})
    return summary


def _write_layers(result: PlanResult, gpkg: Path) -> None:
    layers = {
        "facilities": result.facilities.to_crs(WGS84),
        "units": build_unit_layer(result),
        "catchments": result.catchments.to_crs(WGS84),
        "catchments_dissolved": result.dissolved.to_crs(WGS84),
        "gaps": build_gap_layer(result),
        "network_edges": build_edge_layer(result),
    }
    for name, frame in layers.items():
        write_layer(frame, gpkg, name)


def write_layer(frame: gpd.GeoDataFrame, gpkg: Path, layer: str) -> None:
    """Add one layer to a GeoPackage through Arrow (one transaction per batch, no per-feature
    Python): what ``frame.to_file(gpkg, layer=layer, driver="GPKG")`` writes, about twice as
    fast on a city's million street segments."""
    pyogrio.write_dataframe(frame, gpkg, layer=layer, driver="GPKG", use_arrow=True)


def _csv(frame: pd.DataFrame, decimals: int = EXTRA_DECIMALS) -> Callable[[Path], None]:
    rounded = round_populations(frame, decimals)
    return lambda path: write_csv(rounded, path)


def write_run(result: PlanResult, out_dir: Path, *, extra: dict[str, Any] | None = None,
              extra_files: dict[str, Callable[[Path], None]] | None = None,
              seconds: dict[str, float] | None = None,
              forked: tuple[str, ...] = (GPKG_NAME,)) -> Path:
    """Write every output into ``out_dir`` atomically: a failed write leaves no partial folder.

    Outputs: ``careplan.gpkg`` (facilities, units, catchments, catchments_dissolved, gaps,
    network_edges), ``coverage.csv``, ``coverage_thresholds.csv``, ``gaps.csv``, ``access.csv``
    (E2SFCA supply-demand ratio per unit and type with capacity), ``summary.json``,
    plus ``extra_files`` (name -> writer called with the target path, e.g. the care map).
    The files are written in this order: the GeoPackage, ``extra_files``, the tables, the
    summary (built last, so it lists the warnings the writers added). Those named in ``forked``
    (default the GeoPackage) are written by forked children from their turn on, meanwhile the
    rest; ``seconds``, when given, receives each file's writing time (they overlap).

    Raises
    ------
    InputDataError
        ``out_dir`` exists and is a file, or is a non-empty folder that is not a careplan run.
    """
    def write_summary(path: Path) -> None:
        summary = build_summary(result, extra)
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default),
                        encoding="utf-8")

    given = result.units["older_pop"] if "older_pop" in result.units else pd.Series([], float)
    dec = input_decimals(given) + EXTRA_DECIMALS  # populations at the inputs' precision
    writers: dict[str, Callable[[Path], None]] = {
        GPKG_NAME: lambda path: _write_layers(result, path),
        **(extra_files or {}),
        "coverage.csv": _csv(result.coverage, dec),
        "coverage_thresholds.csv": _csv(result.threshold_coverage, dec),
        "gaps.csv": _csv(result.gaps, dec),
        "access.csv": _csv(result.access, dec),
        "summary.json": write_summary,
    }
    out_dir = write_folder_atomically(out_dir, writers, marker="summary.json", what="run",
                                      forked=forked, seconds=seconds)
    logger.info("wrote run outputs to %s", out_dir)
    return out_dir

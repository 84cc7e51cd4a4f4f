"""The terrain step of a run: apply a DEM to the network, report it, add flat-ground minutes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyproj

from planner.network.graph import WalkNetwork
from planner.network.terrain import SAMPLE_SPACING_M, apply_terrain
from planner.params import WalkProfile
from planner.schema import DemInput
from planner.warnings_log import WarningLog

#: How summary.json names the walking-speed function.
SPEED_FUNCTION = ("Tobler 1993 hiking function exp(-3.5|S+0.05|), scaled so that flat ground "
                  "gives the profile's speed; steps keep their factor")


def apply_dem(network: WalkNetwork, dem: DemInput, walk: WalkProfile, log: WarningLog
              ) -> tuple[WalkNetwork, dict[str, Any]]:
    """Direction-dependent network over ``dem`` and its summary.json entry.

    Segments over nodata keep flat times (a counted warning).
    """
    terrain, report = apply_terrain(network, dem.window, walk)
    if report.nodata_segments:
        log.add("dem_nodata_segments", report.nodata_segments,
                f"{report.nodata_segments} street segments lie over DEM nodata or outside the "
                "DEM; they keep flat walking times")
    t = dem.window.transform
    info = {"file": dem.path, "sha256": dem.sha256,
            "resolution": [float(np.hypot(t[0], t[3])), float(np.hypot(t[1], t[4]))],
            "crs": pyproj.CRS.from_user_input(dem.window.crs).to_string(),
            "sample_spacing_m": SAMPLE_SPACING_M,
            "samples": report.samples, "nodata_segments": report.nodata_segments,
            "mean_abs_grade": round(report.mean_abs_grade, 4),
            "speed_function": SPEED_FUNCTION,
            "direction": "times are walked from the home TO the facility (searches from the "
                         "facilities over reversed arcs)"}
    return terrain, info


def add_flat_minutes(coverage: pd.DataFrame, flat: pd.DataFrame) -> pd.DataFrame:
    """Coverage with ``median_time_flat_min``, ``terrain_extra_min`` and ``covered_share_flat``.

    ``flat`` is the same table computed on flat ground (same units, types and rows order keys).
    """
    keys = ["unit_id", "facility_type"]
    cols = flat[keys + ["median_time_min", "covered_share"]].rename(columns={
        "median_time_min": "median_time_flat_min", "covered_share": "covered_share_flat"})
    out = coverage.merge(cols, on=keys, how="left")
    out["terrain_extra_min"] = out["median_time_min"] - out["median_time_flat_min"]
    return out

"""`careplan analyze --dem` on the real Chengdu extract, and bad DEMs (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from api.cli.main import main
from planner.errors import InputDataError
from planner.io.dem import read_dem, write_dem

BBOX = "104.060,30.650,104.085,30.672"


def _tilted_dem(path: Path, west: float, north: float, *, holes: bool = False) -> None:
    """Geographic DEM (0.0003 degree cells, ~30 m) rising 4 m per cell to the east."""
    rows, cols = 100, 120
    z = 500.0 + 4.0 * np.arange(cols)[None, :] + np.zeros((rows, 1))
    if holes:
        z[:, :20] = np.nan  # the western streets lie over nodata
    write_dem(path, z, (0.0003, 0.0, west, 0.0, -0.0003, north), "EPSG:4326")


def test_analyze_with_dem_on_chengdu(chengdu_osm: Path, tmp_path: Path) -> None:
    dem = tmp_path / "dem.tif"
    _tilted_dem(dem, 104.058, 30.674, holes=True)
    out = tmp_path / "run"
    assert main(["analyze", "--osm", str(chengdu_osm), "--bbox", BBOX, "--no-cache",
                 "--dem", str(dem), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    terrain = summary["terrain"]
    assert summary["walk_direction"] == "to_facility"
    assert terrain["file"] == str(dem) and len(terrain["sha256"]) == 64
    assert terrain["resolution"] == pytest.approx([0.0003, 0.0003])
    assert terrain["nodata_segments"] > 0 and terrain["mean_abs_grade"] > 0.05
    codes = {w["code"] for w in summary["warnings"]}
    assert "dem_nodata_segments" in codes
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert {"median_time_flat_min", "terrain_extra_min", "covered_share_flat"} <= set(cov.columns)
    both = cov.dropna(subset=["median_time_min", "median_time_flat_min"])
    assert (both["terrain_extra_min"] - (both["median_time_min"]
                                         - both["median_time_flat_min"])).abs().max() < 1e-9
    assert summary["analyze_args"]["dem"] == str(dem)
    import geopandas as gpd

    edges = gpd.read_file(out / "careplan.gpkg", layer="network_edges")
    assert (edges["walk_s"] <= edges[["walk_uv_s", "walk_vu_s"]].min(axis=1) + 1e-6).all()
    assert (edges["walk_uv_s"] != edges["walk_vu_s"]).mean() > 0.5


def test_bad_dems_are_one_line_errors(tmp_path: Path) -> None:
    area = shapely.box(104.06, 30.65, 104.085, 30.672)
    far = tmp_path / "far.tif"
    _tilted_dem(far, 10.0, 10.0)
    with pytest.raises(InputDataError, match="--dem .* does not overlap the study area") as err:
        read_dem(far, area)
    assert "\n" not in str(err.value)
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", width=2, height=2, count=1,
                       dtype="float32") as dst:
        dst.write(np.ones((2, 2), dtype=np.float32), 1)
    with pytest.raises(InputDataError, match="--dem .* has no CRS"):
        read_dem(nocrs, area)
    with pytest.raises(InputDataError, match="--dem .* not found"):
        read_dem(tmp_path / "none.tif", area)


def test_demo_with_synthetic_hill_and_population(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Both offline demo paths at once: a generated hill and a generated population raster."""
    out = tmp_path / "demo"
    assert main(["demo", "--nodes", "2000", "--dem", "--synthetic-population",
                 "--out", str(out)]) == 0
    assert (out / "dem_synthetic.tif").is_file() and (out / "population_synthetic.tif").is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["terrain"]["file"] == "dem_synthetic.tif"
    assert summary["population"]["method"] == "raster"
    assert summary["older_pop"] == pytest.approx(summary["population"]["raster_older_pop"])
    text = capsys.readouterr().out
    assert "terrain:" in text and "demand: population raster" in text
    assert "坡度修正" in (out / "care_map.html").read_text(encoding="utf-8")

"""`careplan analyze --population` on the real Chengdu extract (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest

from api.cli.main import main
from planner.io.population import write_population_raster

BBOX = "104.060,30.650,104.085,30.672"


def _utm_raster(path: Path, lon: float, lat: float, shape: tuple[int, int]) -> float:
    """A UTM 48N raster of 100 m cells whose upper-left corner is at (lon, lat); return its sum."""
    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(
        lon, lat)
    counts = np.random.default_rng(5).uniform(0, 200, shape)
    counts[min(10, shape[0] - 1), min(10, shape[1] - 1)] = np.nan
    write_population_raster(path, counts, (100.0, 0, x0, 0, -100.0, y0), "EPSG:32648")
    return float(np.nansum(counts))


def test_analyze_with_total_population_raster(chengdu_osm: Path, tmp_path: Path) -> None:
    raster = tmp_path / "chn_ppp_2020_UNadj_constrained.tif"
    _utm_raster(raster, 104.055, 30.675, (30, 40))  # reaches past the bbox: clipped
    out = tmp_path / "run"
    assert main(["analyze", "--osm", str(chengdu_osm), "--bbox", BBOX, "--no-cache",
                 "--population", str(raster), "--older-share", "0.1798",
                 "--population-grid-m", "1000", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    pop = summary["population"]
    assert pop["method"] == "raster" and pop["older_share"] == 0.1798
    assert pop["older_share_assumed"] is True and str(raster) in pop["files"]
    assert pop["clipped_outside_pop"] > 0 and pop["nodata_cells"] == 1
    codes = {w["code"] for w in summary["warnings"]}
    assert {"assumed_older_share", "population_clipped"} <= codes
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    day = cov[cov["facility_type"] == "day_care"]
    assert day["unit_id"].str.startswith("g1km_").all()
    assert (day["older_share_assumed"] == 0.1798).all()
    assert day["older_pop"].sum() == pytest.approx(pop["raster_older_pop"], rel=1e-6)
    assert summary["older_pop"] == pytest.approx(pop["raster_older_pop"], rel=1e-6)
    assert (out / "coverage_residential.csv").is_file()
    assert summary["analyze_args"]["population"] == [str(raster)]


def test_analyze_population_errors_are_one_line(chengdu_osm: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    far = tmp_path / "far.tif"
    _utm_raster(far, 103.0, 29.0, (5, 5))
    for extra, words in ((["--population", str(far)], "does not overlap the study area"),
                         (["--older-share", "0.2"], "--older-share needs --population"),
                         (["--population", str(far), "--older-share", "2"], "must be in (0, 1]")):
        code = main(["analyze", "--osm", str(chengdu_osm), "--bbox", BBOX, "--no-cache",
                     *extra, "--out", str(tmp_path / "bad")])
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and len(lines) == 1 and lines[0].startswith("careplan: error:"), lines
        assert words in lines[0]
        assert not (tmp_path / "bad").exists()

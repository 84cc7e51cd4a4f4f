"""The run writers (Arrow GeoPackage in a forked child, Arrow CSV) against the previous ones.

``careplan analyze`` on the real Chengdu extract with a facility register, once with polygon
units and once with point units. Every GeoPackage layer read back equals the layer written the
previous way (``GeoDataFrame.to_file`` of the layer built with ``to_crs``), and every table is
the bytes ``DataFrame.to_csv`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import api.cli.run as cli_run
from api.cli.main import main
from planner.io import writers
from planner.io.rounding import EXTRA_DECIMALS, input_decimals, round_populations
from planner.network.snap import build_edge_lines
from planner.pipeline import PlanResult
from planner.schema import WGS84

BBOX = "104.055,30.655,104.095,30.685"


def _old_edge_layer(result: PlanResult) -> gpd.GeoDataFrame:
    """The previous network layer: projected lines reprojected with ``to_crs``."""
    net = result.network
    frame = pd.DataFrame({"u": net.node_id[net.edge_u], "v": net.node_id[net.edge_v],
                          "length_m": net.edge_length_m, "walk_s": net.edge_walk_s,
                          "is_steps": net.edge_is_steps, "in_main": net.edge_in_main})
    return gpd.GeoDataFrame(frame, geometry=build_edge_lines(net), crs=net.crs).to_crs(WGS84)


def _old_layers(result: PlanResult) -> dict[str, gpd.GeoDataFrame]:
    return {"facilities": result.facilities.to_crs(WGS84),
            "units": writers.build_unit_layer(result),
            "catchments": result.catchments.to_crs(WGS84),
            "catchments_dissolved": result.dissolved.to_crs(WGS84),
            "gaps": writers.build_gap_layer(result),
            "network_edges": _old_edge_layer(result)}


def _inputs(root: Path, points: bool) -> list[str]:
    w, s, e, n = map(float, BBOX.split(","))
    rng = np.random.default_rng(7)
    kinds = ["day_care"] * 3 + ["meal_point"] * 3 + ["nursing_home"] * 2
    lines = ["名称,类型,经度,纬度"] + [
        f"设施{k},{t},{w + (e - w) * a:.5f},{s + (n - s) * b:.5f}"
        for k, (t, a, b) in enumerate(zip(kinds, rng.random(8), rng.random(8), strict=True))]
    (root / "register.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    feats = []
    for k in range(6):
        x0, y0 = w + (e - w) * (k % 3) / 3, s + (n - s) * (k // 3) / 2
        x1, y1 = x0 + (e - w) / 3, y0 + (n - s) / 2
        geom = ({"type": "Point", "coordinates": [(x0 + x1) / 2, (y0 + y1) / 2]} if points else
                {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1],
                                                     [x0, y0]]]})
        feats.append({"type": "Feature", "geometry": geom, "properties": {
            "unit_id": f"u{k}", "name": f"社区{k}", "older_pop": 500 + 37 * k}})
    (root / "units.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                    "features": feats}, ensure_ascii=False),
                                        encoding="utf-8")
    return ["--facilities", str(root / "register.csv"), "--units", str(root / "units.geojson")]


@pytest.fixture(scope="module", params=["polygon_units", "point_units"])
def run(request: pytest.FixtureRequest, chengdu_osm: Path,
        tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlanResult]:
    """A run folder and the PlanResult it was written from."""
    root = tmp_path_factory.mktemp(request.param)
    seen: list[PlanResult] = []
    original = cli_run._write

    def keep(result: PlanResult, *args: object, **kwargs: object) -> None:
        seen.append(result)
        original(result, *args, **kwargs)  # type: ignore[arg-type]

    cli_run._write = keep  # type: ignore[assignment]
    try:
        assert main(["analyze", "--osm", str(chengdu_osm), *_inputs(
            root, request.param == "point_units"), "--bbox", BBOX, "--no-cache",
            "--rules", "chengdu", "--out", str(root / "run")]) == 0
    finally:
        cli_run._write = original  # type: ignore[assignment]
    return root / "run", seen[0]


def test_every_layer_reads_back_as_the_old_writer_wrote_it(run: tuple[Path, PlanResult],
                                                           tmp_path: Path) -> None:
    folder, result = run
    old = tmp_path / "old.gpkg"
    for name, frame in _old_layers(result).items():
        frame.to_file(old, layer=name, driver="GPKG", engine="pyogrio")
    assert [n for n, _ in pyogrio.list_layers(folder / "careplan.gpkg")] == \
        [n for n, _ in pyogrio.list_layers(old)]
    for name, _ in pyogrio.list_layers(old):
        ours = pyogrio.read_dataframe(folder / "careplan.gpkg", layer=name)
        theirs = pyogrio.read_dataframe(old, layer=name)
        assert len(ours) == len(theirs) and list(ours.columns) == list(theirs.columns), name
        pd.testing.assert_frame_equal(pd.DataFrame(ours.drop(columns="geometry")),
                                      pd.DataFrame(theirs.drop(columns="geometry")), obj=name)
        assert ours.crs == theirs.crs
        a, b = np.asarray(ours.geometry.array), np.asarray(theirs.geometry.array)
        assert shapely.equals_exact(a, b, tolerance=0.0).all() or (len(a) == 0), name
    if result.units.geom_type.iloc[0] == "Point":
        assert set(pyogrio.read_dataframe(folder / "careplan.gpkg", layer="units")
                   .geom_type) == {"Point"}


def test_every_table_is_what_pandas_writes(run: tuple[Path, PlanResult], tmp_path: Path) -> None:
    folder, result = run
    dec = input_decimals(result.units["older_pop"]) + EXTRA_DECIMALS
    for name, frame in (("coverage.csv", result.coverage),
                        ("coverage_thresholds.csv", result.threshold_coverage),
                        ("gaps.csv", result.gaps), ("access.csv", result.access)):
        expected = tmp_path / name
        round_populations(frame, dec).to_csv(expected, index=False, encoding="utf-8-sig")
        assert (folder / name).read_bytes() == expected.read_bytes(), name

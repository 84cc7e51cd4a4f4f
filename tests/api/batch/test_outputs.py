"""Batch outputs: fsspec URL staging and upload (a file:// URL, tested locally), safe names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.batch.outputs import safe_name, staging_dir, upload

ROOT = Path(__file__).resolve().parents[3]
CD = "../shared/data/osm/chengdu_center_2018.osm.pbf"
QUADS = "data/regions/chengdu_center_quadrants.geojson"


def test_url_output_is_staged_locally_and_uploaded_without_parts(tmp_path: Path) -> None:
    url = (tmp_path / "remote" / "run").as_uri()
    local = staging_dir(url)
    assert local != Path(url) and staging_dir(url) == local  # stable: --resume finds it again
    assert staging_dir(str(tmp_path / "plain")) == tmp_path / "plain"
    (local / "regions" / "SW").mkdir(parents=True, exist_ok=True)
    (local / "_parts").mkdir(exist_ok=True)
    (local / "summary.json").write_text("{}", "utf-8")
    (local / "regions" / "SW" / "coverage.csv").write_text("unit_id\n1\n", "utf-8")
    (local / "_parts" / "SW.pkl").write_bytes(b"x")
    upload(local, url)
    remote = tmp_path / "remote" / "run"
    assert (remote / "summary.json").read_text("utf-8") == "{}"
    assert (remote / "regions" / "SW" / "coverage.csv").is_file()
    assert not (remote / "_parts").exists()


def test_safe_names_are_unique_and_plain() -> None:
    assert safe_name("510104") == "510104"
    a, b = safe_name("成都/锦江"), safe_name("成都_锦江")
    assert a != b and "/" not in a


@pytest.mark.parametrize(("args", "needle"), [
    (["--osm", CD, "--regions", QUADS, "--region-id-column", "adcode"], "no id column"),
    (["--osm", CD, "--regions", QUADS, "--horizon-min", "10"], "below the largest threshold 30"),
])
def test_bad_batch_input_one_line_error(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "api.cli", "batch", *args, "--out", str(out)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("careplan: error:") and needle in lines[0]
    assert not out.exists()


def test_merge_counts_regions_without_units(tmp_path: Path) -> None:
    """A region without units writes a units file without columns; the counts and population
    decimals come from the others (a bench run with 500 tiny regions failed here)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from api.batch.merged import _counts_and_decimals

    with_units, empty = tmp_path / "A", tmp_path / "B"
    for folder in (with_units, empty):
        folder.mkdir()
    gpd.GeoDataFrame({"unit_id": ["u1", "u2"], "older_pop": [12.5, 3.0]},
                     geometry=[shapely.Point(0, 0)] * 2, crs="EPSG:4326").to_parquet(
        with_units / "units.parquet")
    gpd.GeoDataFrame({"unit_id": pd.Series(dtype=str)}, geometry=[], crs="EPSG:4326").to_parquet(
        empty / "units.parquet")
    for folder, n in ((with_units, 3), (empty, 1)):
        gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(n)]},
                         geometry=[shapely.Point(0, 0)] * n, crs="EPSG:4326").to_parquet(
            folder / "facilities.parquet")
    assert _counts_and_decimals([(with_units, "A"), (empty, "B")]) == (2, 4, 1 + 2)
    assert _counts_and_decimals([(empty, "B")]) == (0, 1, None)

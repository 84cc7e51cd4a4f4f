"""Raster inputs of `careplan demo` and `careplan analyze`: population grids (issue 19) and the
terrain model (issue 17), including the generated rasters of the offline demo."""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path

import shapely

from planner.errors import InputDataError
from planner.io.folder import hash_file
from planner.schema import DemInput, PlanInputs, PopulationInput


def load_dem(dem: str, area: shapely.Geometry) -> tuple[DemInput | None, dict[str, bytes]]:
    """The terrain model of ``--dem``/``[walk] dem`` (issue 17); "synthetic": a generated hill.

    Returns the DEM and, for the synthetic hill, its GeoTIFF bytes to copy into the run folder.
    """
    from planner.io.dem import read_dem, write_dem

    if not dem:
        return None, {}
    if dem != "synthetic":
        window, digest = read_dem(Path(dem), area)
        return DemInput(window, dem, digest), {}
    from planner.synthetic.terrain import synthetic_hill_dem

    hill = synthetic_hill_dem(area)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dem_synthetic.tif"
        write_dem(path, hill.values, hill.transform, hill.crs)
        window, digest = read_dem(path, area)
        return DemInput(window, path.name, digest), {path.name: path.read_bytes()}


def bytes_writer(data: bytes) -> Callable[[Path], None]:
    def write(target: Path) -> None:
        target.write_bytes(data)

    return write


def demo_population(inputs: PlanInputs) -> tuple[PlanInputs, dict[str, Callable[[Path], None]]]:
    """The demo district with demand from a generated raster read back like a user's file."""
    from planner.io.population import read_population, write_population_raster
    from planner.synthetic.population import synthetic_population_grid

    assert inputs.units is not None and inputs.study_area is not None
    counts, transform, crs = synthetic_population_grid(inputs.units)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "population_synthetic.tif"
        write_population_raster(path, counts, transform, crs)
        grids = read_population([path], (1,), inputs.study_area)
        data, digest = path.read_bytes(), hash_file(path)
    pop = PopulationInput(tuple(grids), None, 250, {path.name: digest}, (1,))
    sources = {**inputs.sources, path.name: digest}
    out = dataclasses.replace(inputs, units=None, population=pop, sources=sources)
    return out, {path.name: bytes_writer(data)}


def check_population_args(args: argparse.Namespace) -> None:
    """--older-share needs --population and lies in (0, 1] (checked before any loading)."""
    share = getattr(args, "older_share", None)
    if share is not None and not getattr(args, "population", None):
        raise InputDataError("--older-share needs --population FILE.tif; give the raster")
    if share is not None and not 0 < share <= 1:
        msg = f"--older-share {share!r} must be in (0, 1]; e.g. 0.1798 for 17.98% aged 60+"
        raise InputDataError(msg)


def read_population_args(args: argparse.Namespace, area: shapely.Geometry,
                     sources: dict[str, str]) -> PopulationInput | None:
    """--population rasters (issue 19), their checksums added to ``sources``."""
    from planner.io.population import read_population

    if not getattr(args, "population", None):
        return None
    bands = tuple(args.population_band or (1,))
    grids = read_population(args.population, bands, area)
    files = {str(p): hash_file(p) for p in args.population}
    sources.update(files)
    return PopulationInput(tuple(grids), args.older_share, args.population_grid_m, files, bands)

"""Load what the finder shows besides a run's facilities: everyday services, OSM names, cards.

For the synthetic demo district, cards and everyday services are generated (labelled synthetic);
for a real study area they come from the OSM extract (named places, everyday tags) and from the
facility register (everyday rows).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.finder.model import Finder, build_finder
from planner.io.places import read_everyday_catalogue, read_places, read_register_everyday
from planner.pipeline import PlanResult
from planner.synthetic.cards import synthetic_cards, synthetic_everyday


def load_finder(plan: PlanResult, *, osm: Path | None = None, register: Path | None = None,
                coords: str = "wgs84") -> Finder:
    """The finder of an analysis, with everyday services and searchable OSM names.

    Parameters
    ----------
    plan
        A finished analysis.
    osm
        The OSM file the analysis used (named places, everyday services), or None.
    register
        The facility register it used (everyday rows), or None.
    coords
        Coordinate system of the register.
    """
    if plan.summary.get("synthetic"):
        cards = synthetic_cards(plan.facilities)
        return build_finder(plan, synthetic_everyday(plan.units), None, cards=cards)
    everyday_cat = read_everyday_catalogue()
    parts: list[gpd.GeoDataFrame] = []
    names = None
    if osm is not None and Path(osm).is_file():
        names = read_places(Path(osm), everyday_cat)
        parts.append(names[names["everyday"] != ""].assign(type=lambda f: f["everyday"]))
    if register is not None and Path(register).is_file():
        parts.append(read_register_everyday(Path(register), everyday_cat, coords))
    everyday = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                 crs=parts[0].crs) if parts else None)
    return build_finder(plan, everyday, names)

"""Everyday services and searchable names: OSM tags of the Chengdu extract and register rows;
they reach the finder's everyday group and never a PlanResult's facilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from planner.finder.model import EVERYDAY, build_finder, nearby_geojson
from planner.finder.search import search
from planner.io.places import read_everyday_catalogue, read_places, read_register_everyday
from tests.conftest import lonlat_points
from tests.planner.needs.test_people import plan  # noqa: F401  (module fixture)


def test_osm_places_of_the_chengdu_extract(chengdu_osm: Path) -> None:
    places = read_places(chengdu_osm, read_everyday_catalogue())
    kinds = set(places["everyday"])
    assert {"supermarket", "hospital", "pharmacy"} <= kinds
    assert places["name"].str.len().min() > 0
    hospital = places[places["everyday"] == "hospital"]["name"]
    assert hospital.str.contains("医院|诊所|卫生|门诊").mean() > 0.5


def test_register_everyday_rows_reach_the_finder_only(plan, tmp_path: Path) -> None:  # noqa: F811, ANN001
    pts = lonlat_points(np.array([130.0, 250.0]), np.array([0.0, 0.0]))
    path = tmp_path / "register.csv"
    pd.DataFrame({"机构名称": ["幸福老年大学", "日照中心"], "类型": ["老年大学", "日间照料中心"],
                  "经度": pts.x, "纬度": pts.y, "联系电话": ["028-1", ""],
                  "开放时间": ["周一至周五", ""]}).to_csv(path, index=False)
    everyday = read_register_everyday(path, read_everyday_catalogue())
    assert everyday["name"].tolist() == ["幸福老年大学"]
    assert everyday["type"].tolist() == ["senior_university"]
    finder = build_finder(plan, everyday)
    assert "senior_university" not in set(plan.facilities["type"])
    lon, lat = lonlat_points(np.array([0.0]), np.array([0.0])).iloc[0].coords[0]
    feats = nearby_geojson(finder, lon, lat, 15.0)["features"]
    uni = [f["properties"] for f in feats if f["properties"]["group"] == EVERYDAY]
    assert len(uni) == 1 and uni[0]["phone"] == "028-1" and uni[0]["hours"] == "周一至周五"
    assert uni[0]["walk_min"] == round(130.0 / 0.8 / 60, 1)
    assert [e.name for e in search(finder.names, "xflndx")] == ["幸福老年大学"]

"""Real OpenStreetMap data: central Chengdu 2018 (../shared/data/osm), XML and PBF."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import shapely

from planner.errors import DataQualityWarning, InputDataError
from planner.io.catalogue import read_catalogue
from planner.io.osm import read_osm_file
from planner.network.graph import build_walk_network
from planner.network.walkable import is_walkable
from planner.params import PlanParams, WalkProfile
from planner.pipeline import run_plan
from planner.schema import PlanInputs

BOUNDS = shapely.box(104.0421, 30.6528, 104.1296, 30.7279)


@pytest.fixture(scope="module")
def extract_xml(chengdu_osm: Path):  # type: ignore[no-untyped-def]
    return read_osm_file(chengdu_osm, read_catalogue())


def test_xml_and_pbf_give_the_same_network(chengdu_osm: Path, extract_xml) -> None:  # type: ignore[no-untyped-def]
    pbf = read_osm_file(chengdu_osm.with_suffix(".osm.pbf"), read_catalogue(), study_area=BOUNDS)
    assert extract_xml.study_area.equals(BOUNDS)
    assert pbf.network.n_nodes == extract_xml.network.n_nodes
    assert pbf.network.n_edges == extract_xml.network.n_edges
    assert set(pbf.pois["facility_id"]) == set(extract_xml.pois["facility_id"])


def test_network_size_and_connectivity(extract_xml) -> None:  # type: ignore[no-untyped-def]
    net = build_walk_network(extract_xml.network, WalkProfile())
    # PROVENANCE.md: ~769 km of walkable street inside <bounds> (osmnx walk filter, simplified)
    total_km = (net.components.main_length_m + net.components.other_length_m) / 1000
    assert 650 < total_km < 850
    assert net.components.main_nodes / net.n_nodes > 0.9
    assert net.components.n_components > 1 and net.components.other_length_m > 0
    assert net.crs == "EPSG:32648"
    assert set(extract_xml.network.edge_highway) >= {"primary", "residential", "footway", "steps"}
    assert "motorway" not in set(extract_xml.network.edge_highway)


def test_pois_and_residential(extract_xml) -> None:  # type: ignore[no-untyped-def]
    pois = extract_xml.pois
    # PROVENANCE.md: no social facilities in this extract; clinics/doctors are (community-level)
    # health; its 20-45 hospitals are not (data/facility_types.toml: hospitals are not 社区医疗卫生设施)
    assert set(pois["type"]) == {"health"}
    assert 2 <= len(pois) <= 10
    # a hospital tag counts only when the name says 诊所 (a mis-tagged clinic)
    assert all("诊所" in name for name, tags in zip(pois["name"], pois["osm_tags"], strict=True)
               if "hospital" in str(tags))
    res = extract_xml.residential
    assert (res["kind"] == "landuse").sum() == 186


def test_whole_analysis_on_chengdu(extract_xml) -> None:  # type: ignore[no-untyped-def]
    inputs = PlanInputs(extract_xml.network, extract_xml.pois.drop(columns="osm_tags"), None,
                        extract_xml.residential, extract_xml.study_area, "chengdu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        result = run_plan(inputs, PlanParams(), max_catchment_facilities=0)
    assert any("ASSUMED" in str(w.message) for w in caught)
    assert result.summary["assumed_density"] is True
    assert result.summary["units"] == 186
    health = result.coverage[result.coverage.facility_type == "health"]
    assert 0 < health["covered_pop"].sum() < health["older_pop"].sum()
    day = result.gaps[result.gaps.facility_type == "day_care"]
    assert (day["reason"] == "no_facility_of_type").all() and len(day) == 186


def test_walk_filter_rules() -> None:
    assert is_walkable({"highway": "primary"})
    assert is_walkable({"highway": "cycleway", "foot": "designated"})
    assert not is_walkable({"highway": "cycleway"})
    assert not is_walkable({"highway": "footway", "foot": "no"})
    assert not is_walkable({"highway": "construction"})
    assert is_walkable({"highway": "service", "access": "private", "foot": "yes"})
    assert not is_walkable({"building": "yes"})


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id='1' lat='30.6' lon='104.0'>", encoding="utf-8")
    with pytest.raises(InputDataError, match="broken.osm"):
        read_osm_file(bad, read_catalogue())
    with pytest.raises(InputDataError, match="not found"):
        read_osm_file(tmp_path / "nope.osm.pbf", read_catalogue())
    with pytest.raises(InputDataError, match="not an OSM file"):
        read_osm_file(Path(__file__), read_catalogue())

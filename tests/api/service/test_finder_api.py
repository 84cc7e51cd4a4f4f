"""Finder routes on the demo project: search (Chinese, pinyin initials), nearby ranked by walking
minutes with routes, type filter, bad input, the finder and meal-map pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from maps.assets import leaflet_inline
from tests.api.conftest import assert_problem


@pytest.fixture(scope="module")
def demo_point(client: TestClient, demo_run: dict[str, str]) -> tuple[float, float]:
    """A unit's point in the demo district, found through search."""
    units = client.get(f"/projects/{demo_run['project']}/collections/units/items?limit=1").json()
    name = units["features"][0]["properties"]["name"]
    hits = client.get(f"/projects/{demo_run['project']}/search", params={"q": name}).json()
    assert hits["results"][0]["name"] == name
    return hits["results"][0]["lon"], hits["results"][0]["lat"]


def test_search_chinese_and_initials(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    zh = client.get(f"/projects/{pid}/search", params={"q": "社区"}).json()["results"]
    assert zh and all("社区" in r["name"] for r in zh)
    from planner.finder.search import initials

    target = zh[0]["name"]
    latin = client.get(f"/projects/{pid}/search", params={"q": initials(target)}).json()
    assert target in [r["name"] for r in latin["results"]]
    assert_problem(client.get(f"/projects/{pid}/search", params={"q": ""}), 422)


def test_nearby_sorted_with_routes(client: TestClient, demo_run: dict[str, str],
                                   demo_point: tuple[float, float]) -> None:
    lon, lat = demo_point
    resp = client.get(f"/projects/{demo_run['project']}/nearby",
                      params={"lon": lon, "lat": lat, "minutes": 30, "route": "true"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    feats: list[dict[str, Any]] = resp.json()["features"]
    assert feats, "the demo district has services within 30 minutes of a unit centre"
    mins = [f["properties"]["walk_min"] for f in feats]
    assert mins == sorted(mins) and max(mins) <= 30.0
    for f in feats:
        p = f["properties"]
        assert {"facility_id", "name", "type", "walk_min", "walk_m"} <= set(p)
        line = p["route"]["coordinates"]
        assert line[0] == pytest.approx([lon, lat], abs=1e-6)
        assert line[-1] == pytest.approx(f["geometry"]["coordinates"], abs=1e-6)
        assert all(v not in ("", None) for v in p.values())  # missing card fields left out
    groups = {f["properties"]["group"] for f in feats}
    assert "care" in groups
    meals = client.get(f"/projects/{demo_run['project']}/nearby",
                       params={"lon": lon, "lat": lat, "types": "meal_point"}).json()["features"]
    assert meals and {f["properties"]["type"] for f in meals} == {"meal_point"}
    assert all("meal_times" in f["properties"] for f in meals)


def test_nearby_bad_input(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    assert_problem(client.get(f"/projects/{pid}/nearby", params={"lon": 104.0, "lat": 30.6,
                                                                 "types": "spa"}), 400)
    assert_problem(client.get(f"/projects/{pid}/nearby", params={"lon": 104.0, "lat": 30.6,
                                                                 "minutes": 500}), 422)
    far = client.get(f"/projects/{pid}/nearby", params={"lon": 10.0, "lat": 10.0}).json()
    assert far["features"] == []


def test_pages_are_self_contained(client: TestClient, demo_run: dict[str, str]) -> None:
    for mode in ("care", "meals"):
        page = client.get(f"/projects/{demo_run['project']}/finder", params={"mode": mode})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text.replace(leaflet_inline()[1], "")  # Leaflet's own strings (attribution)
        for remote in ('src="http', "src='http", 'href="http', "url(http", "url('http",
                       "<script src=", '<link rel="stylesheet"'):
            assert remote not in html
        title = html.split("<title>")[1].split("</title>")[0]
        assert title == ("助餐服务地图" if mode == "meals" else "养老服务关爱地图")

"""OGC API Features collections: listing, items, bbox, property filters, paging, zoom."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient

from tests.api.conftest import KEY, assert_problem, wait_job


def _items(client: TestClient, pid: str, cid: str, **params: object) -> dict:
    response = client.get(f"/projects/{pid}/collections/{cid}/items", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    for feature in body["features"]:
        assert feature["type"] == "Feature" and "properties" in feature
        assert shapely.geometry.shape(feature["geometry"]).is_valid or feature["geometry"]
    return body


def test_list_and_get(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    ids = [c["id"] for c in client.get(f"/projects/{pid}/collections").json()["collections"]]
    assert {"facilities", "units", "catchments", "gaps", "candidates", "sites"} <= set(ids)
    assert client.get(f"/projects/{pid}/collections/units").json()["id"] == "units"
    assert_problem(client.get(f"/projects/{pid}/collections/nope"), 404)
    assert_problem(client.get(f"/projects/{pid}/collections/nope/items"), 404)
    assert_problem(client.get("/projects/nope/collections"), 404)


def test_items_filters_and_paging(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    everything = _items(client, pid, "facilities", limit=10000)
    assert everything["numberMatched"] == everything["numberReturned"] > 0
    day = _items(client, pid, "facilities", type="day_care", limit=10000)
    assert 0 < day["numberMatched"] < everything["numberMatched"]
    assert {f["properties"]["type"] for f in day["features"]} == {"day_care"}
    page = _items(client, pid, "facilities", limit=5, offset=5)
    assert page["numberReturned"] == 5
    assert any(link["rel"] == "next" for link in page["links"])
    lons = sorted(f["geometry"]["coordinates"][0] for f in everything["features"])
    lats = sorted(f["geometry"]["coordinates"][1] for f in everything["features"])
    bbox = f"{lons[0]},{lats[0]},{lons[len(lons) // 2]},{lats[-1]}"
    west = _items(client, pid, "facilities", bbox=bbox, limit=10000)
    assert 0 < west["numberMatched"] < everything["numberMatched"]


def test_items_errors(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    url = f"/projects/{pid}/collections/facilities/items"
    assert_problem(client.get(url, params={"bbox": "1,2,3"}), 400)
    assert_problem(client.get(url, params={"bbox": "5,5,1,1"}), 400)
    body = assert_problem(client.get(url, params={"colour": "red"}), 400)
    assert "facility_id" in body["detail"]
    assert_problem(client.get(url, params={"limit": 0}), 422)


def test_zoom_simplifies(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]

    def vertices(body: dict) -> int:
        return sum(shapely.get_num_coordinates(shapely.geometry.shape(f["geometry"]))
                   for f in body["features"])
    full = _items(client, pid, "dissolved", limit=10000)
    coarse = _items(client, pid, "dissolved", limit=10000, zoom=10)
    assert coarse["numberMatched"] == full["numberMatched"]
    assert vertices(coarse) < vertices(full)


def test_siting_layers_empty_before_siting(client: TestClient) -> None:
    """A project of its own: the shared demo run may have had a siting job by now."""
    pid = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
    started = client.post("/processes/coverage/execution", json={"inputs": {"project": pid}},
                          headers=KEY)
    assert wait_job(client, started.json()["jobID"])["status"] == "successful"
    for cid in ("sites", "candidates"):
        body = _items(client, pid, cid)
        assert body["numberMatched"] == 0 and body["features"] == []

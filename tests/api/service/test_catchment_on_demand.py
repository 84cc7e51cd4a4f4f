"""A facility's catchment built on demand equals the one the analysis built."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient

from tests.api.conftest import KEY, assert_problem


def _get(client: TestClient, pid: str, fid: str, **params: object):  # type: ignore[no-untyped-def]
    return client.get(f"/projects/{pid}/facilities/{fid}/catchment", params=params)


def test_on_demand_equals_the_analysis(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    stored = client.get(f"/projects/{pid}/collections/catchments/items",
                        params={"limit": 10000}).json()["features"]
    fid = stored[0]["properties"]["facility_id"]
    response = _get(client, pid, fid)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    built = response.json()["features"]
    assert [f["properties"]["threshold_min"] for f in built] == [5.0, 15.0, 30.0]
    for feature in built:
        props = feature["properties"]
        same = [f for f in stored if f["properties"]["facility_id"] == fid
                and f["properties"]["threshold_min"] == props["threshold_min"]]
        a = shapely.geometry.shape(feature["geometry"])
        b = shapely.geometry.shape(same[0]["geometry"])
        assert a.is_valid and a.area > 0
        assert shapely.symmetric_difference(a, b).area < 1e-6 * b.area
        assert props["reached_length_m"] == round(same[0]["properties"]["reached_length_m"], 1)
    one = _get(client, pid, fid, threshold_min=[10, 5]).json()["features"]
    assert [f["properties"]["threshold_min"] for f in one] == [5.0, 10.0]
    a, b = (shapely.geometry.shape(f["geometry"]) for f in one)
    assert shapely.difference(a, b).area < 1e-3 * a.area  # 5 min inside 10 min


def test_on_demand_errors(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    fid = client.get(f"/projects/{pid}/collections/facilities/items").json()[
        "features"][0]["properties"]["facility_id"]
    assert "nope" in assert_problem(_get(client, pid, "nope"), 404)["detail"]
    assert "1-120" in assert_problem(_get(client, pid, fid, threshold_min=500), 400)["detail"]
    assert_problem(_get(client, "no-such-project", fid), 404)
    fresh = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
    assert "no coverage result" in assert_problem(_get(client, fresh, fid), 409)["detail"]

"""Needs view of the service: roles (admin, organisations, public), audit, suppression, and no
personal value of the register in any public response or log."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from planner.needs.publish import SUPPRESSED, candidates
from planner.synthetic.district import build_demo_district
from planner.synthetic.older_adults import synthetic_register
from tests.api.conftest import API_KEY, KEY, assert_problem
from tests.privacy import Register

ORG = {"X-API-Key": "org-key-1"}
ORG2 = {"X-API-Key": "org-key-2"}


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    return synthetic_register(build_demo_district().units)


@pytest.fixture(scope="module")
def setup(client: TestClient, demo_run: dict[str, str],
          register: pd.DataFrame) -> Iterator[tuple[TestClient, str]]:
    """The shared demo project, with organisation keys configured and the register added."""
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    settings.org_keys = "探访中心:org-key-1, 社工站:org-key-2"
    pid = demo_run["project"]
    body = register.to_csv(index=False).encode("utf-8-sig")
    files = {"file": ("older.csv", body, "text/csv")}
    assert_problem(client.post(f"/projects/{pid}/older-adults", files=files), 401)
    assert_problem(client.post(f"/projects/{pid}/older-adults", files=files, headers=ORG), 403)
    assert client.post(f"/projects/{pid}/older-adults", files=files,
                       headers=KEY).status_code == 201
    yield client, pid
    settings.org_keys = None


def test_outreach_needs_an_organisation_key(setup: tuple[TestClient, str]) -> None:
    client, pid = setup
    assert_problem(client.get(f"/projects/{pid}/outreach"), 401)
    assert_problem(client.get(f"/projects/{pid}/outreach", headers={"X-API-Key": "nope"}), 403)
    body = client.get(f"/projects/{pid}/outreach", headers=ORG).json()
    people = body["people"]
    assert people and body["count"] == len(people)
    order = [(-p["unmet_needs"], -p["flags"], -(p["walk_min"] or 1e9)) for p in people]
    assert order == sorted(order)
    assert all(p["walk_min"] is None or p["walk_min"] > p["threshold_min"] for p in people)
    one = people[0]
    meal = client.get(f"/projects/{pid}/outreach", headers=ORG2,
                      params={"community": one["unit_name"], "need": "need_meal"}).json()
    assert all(p["unit_name"] == one["unit_name"] and p["need"] == "need_meal"
               for p in meal["people"])
    xlsx = client.get(f"/projects/{pid}/outreach", headers=ORG, params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.headers["cache-control"] == "no-store"
    assert len(pd.read_excel(io.BytesIO(xlsx.content))) == len(people)


def test_reads_are_audited_and_only_admin_lists_them(setup: tuple[TestClient, str]) -> None:
    client, pid = setup
    client.get(f"/projects/{pid}/outreach", headers=ORG2, params={"need": "need_day_care"})
    assert_problem(client.get("/audit"), 401)
    assert_problem(client.get("/audit", headers=ORG), 403)
    rows = client.get("/audit", headers=KEY).json()["audit"]
    last = rows[0]
    assert last["who"] == "org:社工站" and last["project_id"] == pid
    assert "need=need_day_care" in last["detail"] and last["records"] >= 0
    assert {"org:探访中心", "org:社工站", "admin"} <= {r["who"] for r in rows}
    assert "older-adults.upload" in {r["action"] for r in rows}


def _counts(body: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v for k, v in f["properties"].items() if k not in ("unit_id", "name", "cell")}
            for f in body["features"]]


def _never_pinned(a: str, b: str) -> bool:
    """Published a (superset) and b (subset): the true difference a-b is never one value 1-4."""
    diffs = {x - y for x in candidates(a) for y in candidates(b) if x >= y}
    return len(diffs) > 1


def test_public_aggregates_are_suppressed(setup: tuple[TestClient, str]) -> None:
    client, pid = setup
    layers = [client.get(f"/projects/{pid}/needs", params={"by": by}).json()
              for by in ("community", "grid")]
    for layer in layers:
        for cell in _counts(layer):
            for value in cell.values():
                assert value == SUPPRESSED or (int(value) % 5 == 0 and int(value) >= 5)
            for need in ("need_meal", "need_day_care", "need_home_care"):
                for sup, sub in ((cell["people"], cell[need]), (cell[need], cell[f"{need}_unmet"])):
                    assert _never_pinned(sup, sub)
    # a community against the grid cells (overlapping queries): no pair pins a small count
    for com, cell in itertools.product(_counts(layers[0])[:5], _counts(layers[1])[:60]):
        assert _never_pinned(com["people"], cell["people"]) or com["people"] == SUPPRESSED
    table = client.get(f"/projects/{pid}/needs/coverage").json()
    for row in table["coverage"]:
        assert _never_pinned(row["people"], row["covered"])
        assert _never_pinned(row["people"], row["uncovered"])


def test_no_personal_value_in_public_bytes_or_logs(setup: tuple[TestClient, str],
                                                   register: pd.DataFrame,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    client, pid = setup
    reg = Register(register)
    caplog.set_level(logging.DEBUG)
    urls = [f"/projects/{pid}/needs?by=community", f"/projects/{pid}/needs?by=grid",
            f"/projects/{pid}/needs/coverage", f"/projects/{pid}/finder",
            f"/projects/{pid}/finder?mode=meals", f"/projects/{pid}/map",
            f"/projects/{pid}/search?q=%E5%90%88%E6%88%90", f"/projects/{pid}",
            *(f"/projects/{pid}/collections/{c}/items?limit=10000"
              for c in ("facilities", "units", "gaps"))]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert reg.leaks(resp.content) == [], url
    for fmt in ("gpkg", "csv", "gaps_csv", "json", "html"):
        resp = client.get(f"/projects/{pid}/exports/{fmt}")
        assert resp.status_code == 200, fmt
        assert reg.leaks(resp.content) == [], fmt
    client.get(f"/projects/{pid}/outreach", headers=ORG)
    assert reg.leaks(caplog.text.encode()) == []
    assert API_KEY

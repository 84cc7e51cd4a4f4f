"""The care map page and the export downloads."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.service.processes import find_hook
from tests.api.conftest import KEY, assert_problem


def test_map_page(client: TestClient, demo_run: dict[str, str]) -> None:
    if find_hook("maps.compose.build_care_map") is None:
        pytest.skip("maps.compose.build_care_map is not in this build yet")
    response = client.get(f"/projects/{demo_run['project']}/map", params={"lang": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "leaflet" in response.text.lower()
    assert_problem(client.get(f"/projects/{demo_run['project']}/map",
                              params={"basemap": "bing"}), 422)


def test_map_needs_a_run(client: TestClient) -> None:
    pid = client.post("/projects", json={"source": "demo"}, headers=KEY).json()["id"]
    status = 409 if find_hook("maps.compose.build_care_map") else 501
    body = assert_problem(client.get(f"/projects/{pid}/map"), status)
    assert "coverage" in body["detail"]
    assert_problem(client.get(f"/projects/{pid}/exports/gpkg"), 404)


@pytest.mark.parametrize(("fmt", "magic"), [("gpkg", b"SQLite format 3"), ("csv", b"unit_id"),
                                             ("json", b"{")])
def test_exports(client: TestClient, demo_run: dict[str, str], fmt: str, magic: bytes) -> None:
    if find_hook("planner.io.writers.write_run") is None and fmt != "json":
        pytest.skip("planner.io.writers.write_run is not in this build yet")
    response = client.get(f"/projects/{demo_run['project']}/exports/{fmt}")
    assert response.status_code == 200
    assert response.content.lstrip(b"\xef\xbb\xbf").startswith(magic)
    assert "attachment" in response.headers["content-disposition"]


def test_export_errors(client: TestClient, demo_run: dict[str, str]) -> None:
    pid = demo_run["project"]
    assert_problem(client.get(f"/projects/{pid}/exports/odt"), 422)
    xlsx = client.get(f"/projects/{pid}/exports/xlsx", params={"lang": "en"})
    if xlsx.status_code != 200:  # not built yet: an anonymous read does not build a report
        assert "API key" in assert_problem(xlsx, 401)["detail"]


def test_xlsx_report_generated_on_request(client: TestClient, demo_run: dict[str, str]) -> None:
    import io

    from openpyxl import load_workbook

    if find_hook("planner.io.writers.write_run") is None:
        pytest.skip("planner.io.writers.write_run is not in this build yet")
    response = client.get(f"/projects/{demo_run['project']}/exports/xlsx", headers=KEY)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert {"指标汇总", "分单元覆盖", "缺口清单"} <= set(book.sheetnames)
    again = client.get(f"/projects/{demo_run['project']}/exports/xlsx")  # built: public
    assert again.status_code == 200 and load_workbook(io.BytesIO(again.content)).sheetnames


def test_report_html_generated_on_request(client: TestClient, demo_run: dict[str, str]) -> None:
    if find_hook("planner.io.writers.write_run") is None or find_hook(
            "maps.report.render_html") is None:
        pytest.skip("the HTML report is not in this build yet")
    anonymous = client.get(f"/projects/{demo_run['project']}/exports/report_html")
    assert_problem(anonymous, 401)  # building a report is work: only with the key
    response = client.get(f"/projects/{demo_run['project']}/exports/report_html", headers=KEY)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_docx_report_generated_on_request(client: TestClient, demo_run: dict[str, str]) -> None:
    import io

    import docx

    url = f"/projects/{demo_run['project']}/exports/docx?lang=en"
    assert client.get(url).status_code == 401  # not built yet: only a keyed request builds it
    response = client.get(url, headers=KEY)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    doc = docx.Document(io.BytesIO(response.content))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:2] == ["Summary", "Map sheets"] and "Gap list" in headings
    assert len(doc.inline_shapes) >= 1

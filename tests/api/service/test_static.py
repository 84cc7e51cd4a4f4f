"""The service serves every file its pages load: map assets, Swagger UI, ReDoc (no CDN)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from maps.assets import external_resources


def _local_refs(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html) + re.findall(
        r"url: ?['\"](/[^'\"]+)['\"]", html)


def test_docs_and_redoc_load_only_local_files(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert external_resources(html) == [], page
        refs = [r for r in _local_refs(html) if r.startswith("/static/")]
        assert refs, f"{page} loads no local script"
        for ref in refs:
            assert client.get(ref).status_code == 200, ref


def test_redoc_bundle_has_no_remote_logo(client: TestClient) -> None:
    js = client.get("/static/redoc/redoc.standalone.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "cdn.redoc.ly" not in js.text and "/static/docs/favicon.png" in js.text


def test_map_assets_are_served(client: TestClient) -> None:
    for path in ("/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css",
                 "/static/leaflet/images/layers.png", "/static/jquery/jquery.min.js",
                 "/static/awesome-markers/LICENSE", "/static/font-awesome/css/all.min.css"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/leaflet/../../etc/passwd").status_code == 404


def test_map_page_links_the_served_assets(client: TestClient,
                                          demo_run: dict[str, str]) -> None:
    html = client.get(f"/projects/{demo_run['project']}/map").text
    assert external_resources(html) == []
    refs = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert "/static/leaflet/leaflet.js" in refs
    for ref in refs:
        assert client.get(ref).status_code == 200, ref

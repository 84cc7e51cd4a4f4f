"""Property-based run of every operation in the OpenAPI schema: no response is a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.service.main import create_app
from api.service.settings import get_settings
from api.service.store import osm_io
from planner.errors import SourceUnavailableError
from tests.api.conftest import KEY


def _offline(place: str, catalogue: object, cache_dir: Path) -> Path:
    msg = f"cannot download {place!r}: offline test"
    raise SourceUnavailableError(msg)


@pytest.fixture(scope="module")
def api_schema(client: TestClient, demo_run: dict[str, str]) -> Any:
    """The schema of an app sharing the session client's data dir (so the demo run is there)."""
    shared = client.app.state.services.settings  # type: ignore[attr-defined]
    for lang in ("zh", "en"):  # reports are built by the first request with the key: warm them
        client.get(f"/projects/{demo_run['project']}/exports/pdf", params={"lang": lang},
                   headers=KEY)
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: shared
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, demo_run: dict[str, str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(osm_io, "download_place", _offline)
    params = case.path_parameters or {}
    if "project_id" in params and case.method != "DELETE" and not case.path.endswith("/map"):
        params["project_id"] = demo_run["project"]
    # a report export renders its map sheets on first request (seconds, more on a loaded machine)
    response = case.call(headers=KEY, timeout=120 if "/exports/" in case.path else 10)
    not_a_server_error_check(response, case)


def not_a_server_error_check(response: Any, case: Any) -> None:
    """Fail on any 5xx except the documented 501/503 problems (missing feature, offline)."""
    if response.status_code >= 500 and response.status_code not in (501, 503):
        pytest.fail(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:500]}")
    if response.status_code >= 400:
        ctype = response.headers.get("content-type") or [""]
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        assert ctype.startswith("application/problem+json"), (
            case.method, case.formatted_path, response.status_code, response.text[:200])

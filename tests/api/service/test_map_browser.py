"""End to end: the real uvicorn service runs demo coverage; headless Chromium opens its map."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.offline_browser import CHROMIUM, CHROMIUM_ARGS, skip_reason, visit

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
#: Where a copy of the screenshot goes for a human to look at.
SCREENSHOT_COPY = Path("/tmp/careplan_service_map.png")




def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stderr is not None:
        proc.stderr.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn api.service.main:app`` on a free loopback port with a temporary data dir (no API key)."""
    port = _free_port()
    env = {**os.environ, "CAREPLAN_DATA_DIR": str(tmp_path_factory.mktemp("service") / "data")}
    env.pop("CAREPLAN_API_KEY", None)
    env.pop("CAREPLAN_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.service.main:app", "--host", "127.0.0.1", "--port",
         str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"server exited: {err}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        _stop(proc)


def _demo_coverage(base: str) -> str:
    """Create a demo project, run ``coverage`` and wait for success; return the project id."""
    created = httpx.post(f"{base}/projects", json={"source": "demo"}, timeout=60)
    assert created.status_code == 201, created.text
    project = created.json()["id"]
    started = httpx.post(f"{base}/processes/coverage/execution",
                         json={"inputs": {"project": project}}, timeout=60)
    assert started.status_code in (200, 201, 202), started.text
    job_id = started.json()["jobID"]
    deadline = time.monotonic() + 180
    while True:
        job = httpx.get(f"{base}/jobs/{job_id}", timeout=10).json()
        if job["status"] in ("successful", "failed", "dismissed"):
            break
        assert time.monotonic() < deadline, f"job still {job['status']} after 180 s"
        time.sleep(0.3)
    assert job["status"] == "successful", job
    return str(project)


def _open_map(url: str, shot: Path) -> dict[str, object]:
    """Load the map, wait for Leaflet and the viewport item requests, measure, screenshot."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    pending: set[str] = set()
    finished: list[tuple[str, int]] = []
    failed: list[str] = []
    errors: list[str] = []
    blocked: list[str] = []
    local = url.split("/projects/")[0]

    def route(r: object) -> None:  # only the service itself is reachable
        target: str = r.request.url  # type: ignore[attr-defined]
        if target.startswith((local, "data:", "blob:")):
            r.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(target)
            r.abort()  # type: ignore[attr-defined]

    def console(msg: object) -> None:
        if msg.type == "error":  # type: ignore[attr-defined]
            errors.append(msg.text)  # type: ignore[attr-defined]

    def is_items(request: object) -> bool:
        return "/collections/" in request.url and "/items" in request.url  # type: ignore[attr-defined]

    def on_request(request: object) -> None:
        if is_items(request):
            pending.add(request.url)  # type: ignore[attr-defined]

    def on_finished(request: object) -> None:
        if is_items(request):
            pending.discard(request.url)  # type: ignore[attr-defined]
            resp = request.response()  # type: ignore[attr-defined]
            finished.append((request.url, resp.status if resp else 0))  # type: ignore[attr-defined]

    def on_failed(request: object) -> None:
        if is_items(request):
            pending.discard(request.url)  # type: ignore[attr-defined]
            failed.append(request.url)  # type: ignore[attr-defined]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", on_request)
            page.on("requestfinished", on_finished)
            page.on("requestfailed", on_failed)
            page.on("console", console)
            page.route("**/*", route)
            page.goto(url, wait_until="load", timeout=60000)
            page.wait_for_function("() => window.L !== undefined", timeout=15000)
            page.wait_for_selector(".leaflet-overlay-pane svg path", timeout=30000)
            # Large layers come from the items endpoints by viewport: wait until none is in flight.
            deadline = time.monotonic() + 60
            quiet_since = None
            while time.monotonic() < deadline:
                page.wait_for_timeout(200)
                if pending:
                    quiet_since = None
                elif quiet_since is None:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > 1.0:
                    break
            assert not pending, f"items requests still in flight: {sorted(pending)}"
            page.wait_for_timeout(300)
            info = page.evaluate("""() => ({
              control: document.querySelectorAll('.leaflet-control-layers').length,
              overlays: Array.from(document.querySelectorAll(
                  '.leaflet-control-layers-overlays label')).map(l => l.textContent.trim()),
              legend: (document.querySelector('.careplan-legend') || {}).textContent || '',
              paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
              markers: document.querySelectorAll('.leaflet-marker-pane .careplan-icon').length,
              polygons: Array.from(document.querySelectorAll('.leaflet-overlay-pane svg path'))
                  .filter(p => /z\\s*$/i.test(p.getAttribute('d') || '')).length,
            })""")
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    info.update(errors=errors, items=finished, items_failed=failed, blocked=blocked)
    return info


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_service_map_renders_in_chromium(service: str, tmp_path: Path) -> None:
    project = _demo_coverage(service)
    shot = tmp_path / "service_map.png"
    info = _open_map(f"{service}/projects/{project}/map", shot)
    assert info["blocked"] == [], "the map page reached outside the machine"
    assert info["errors"] == []
    assert info["items_failed"] == []
    assert all(status == 200 for _, status in info["items"]), info["items"]  # type: ignore[attr-defined]
    assert info["control"] == 1
    assert info["overlays"], "layer control lists no overlays"
    assert "图例" in str(info["legend"])
    assert int(info["paths"]) > 0  # type: ignore[call-overload]
    assert int(info["markers"]) > 0  # type: ignore[call-overload]
    assert int(info["polygons"]) > 0  # type: ignore[call-overload]
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_docs_and_redoc_render_offline(service: str) -> None:
    """Swagger UI and ReDoc come from the service itself (/static/docs), not from a CDN."""
    docs = visit(f"{service}/docs", local=service, ready="window.SwaggerUIBundle !== undefined",
                 wait_for=".swagger-ui .opblock",
                 probe="() => ({ops: document.querySelectorAll('.opblock').length})")
    docs.assert_clean()
    assert int(docs.info["ops"]) > 10  # type: ignore[call-overload]
    redoc = visit(f"{service}/redoc", local=service, ready="window.Redoc !== undefined",
                  wait_for="[data-section-id]",
                  probe="() => ({sections: document.querySelectorAll('[data-section-id]').length})")
    redoc.assert_clean()
    assert int(redoc.info["sections"]) > 10  # type: ignore[call-overload]

"""Open the care map in headless Chromium (Playwright): Leaflet runs, layers render, screenshot."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from maps.compose import build_care_map
from maps.geojson import layer_frame
from planner.pipeline import PlanResult

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Where a copy of the screenshot goes for a human to look at.
SCREENSHOT_COPY = Path("/tmp/careplan_map.png")


def _leaflet_dir() -> Path | None:
    """Leaflet 1.9.3 from the ``xstatic-leaflet`` wheel (the machines reach no CDN)."""
    if importlib.util.find_spec("xstatic.pkg.leaflet") is None:
        return None
    import xstatic.pkg.leaflet as xleaflet  # noqa: PLC0415

    return Path(xleaflet.BASE_DIR)


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} missing: apt-get install -y chromium"
    if importlib.util.find_spec("playwright") is None:
        return "playwright missing: pip install playwright"
    if _leaflet_dir() is None:
        return "xstatic-leaflet missing (serves Leaflet offline): pip install xstatic-leaflet"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A ``python -m http.server`` equivalent on 127.0.0.1 serving a temporary folder."""
    root = tmp_path_factory.mktemp("site")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output clean."""


def _route_offline(page: object, leaflet: Path) -> None:
    """Serve Leaflet from the wheel; abort every other outside request (tiles, CDNs)."""

    def handle(route: object) -> None:
        url: str = route.request.url  # type: ignore[attr-defined]
        name = url.rsplit("/", 1)[-1]
        if url.startswith("http://127.0.0.1"):
            route.continue_()  # type: ignore[attr-defined]
        elif "leaflet@" in url and name in ("leaflet.js", "leaflet.css"):
            route.fulfill(path=str(leaflet / name))  # type: ignore[attr-defined]
        else:
            route.abort()  # type: ignore[attr-defined]

    page.route("**/*", handle)  # type: ignore[attr-defined]


def _open(url: str, shot: Path, *, hatched: int = 0) -> dict[str, object]:
    """Load ``url``, wait for Leaflet and the overlays, measure the DOM, save a screenshot.

    ``hatched``: wait (up to 20 s) until that many gap polygons are drawn; layers loaded by
    viewport arrive asynchronously, later on a busy machine.
    """
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _route_offline(page, _leaflet_dir())  # type: ignore[arg-type]
            page.goto(url, wait_until="load")
            page.wait_for_function("() => window.L !== undefined && window.careplan !== undefined")
            page.wait_for_selector(".leaflet-overlay-pane svg path", timeout=15000)
            if hatched:
                page.wait_for_function(
                    "n => document.querySelectorAll('path[fill=\"url(#careplan-hatch)\"]')"
                    ".length >= n", arg=hatched, timeout=20000)
            page.wait_for_timeout(300)
            info = page.evaluate("""() => ({
              control: document.querySelectorAll('.leaflet-control-layers').length,
              overlays: Array.from(document.querySelectorAll(
                  '.leaflet-control-layers-overlays label')).map(l => l.textContent.trim()),
              legend: (document.querySelector('.careplan-legend') || {}).textContent || '',
              paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
              hatched: document.querySelectorAll('path[fill="url(#careplan-hatch)"]').length,
              markers: document.querySelectorAll('.leaflet-marker-pane .careplan-icon').length,
              banner: Array.from(document.querySelectorAll('.careplan-banner'))
                  .map(b => b.textContent),
              attribution: (document.querySelector('.leaflet-control-attribution') || {})
                  .textContent || '',
            })""")
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    info["errors"] = errors
    return info


def _shown_gaps(result: PlanResult) -> int:
    """Gap polygons drawn on opening: those of the first required type."""
    first = result.params.coverage.required_types[0]
    return int((result.gaps["facility_type"] == first).sum())


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_map_renders_in_chromium(plan_result: PlanResult, server: tuple[str, Path],
                                 tmp_path: Path) -> None:
    base, root = server
    (root / "care_map.html").write_text(
        build_care_map(plan_result, lang="zh").get_root().render(), encoding="utf-8")
    shot = tmp_path / "care_map.png"
    info = _open(f"{base}/care_map.html", shot)
    assert info["errors"] == []
    assert info["control"] == 1
    assert any("日间照料中心" in name for name in info["overlays"])  # type: ignore[attr-defined]
    assert "图例" in str(info["legend"]) and "15 分钟" in str(info["legend"])
    assert int(info["paths"]) > 0  # type: ignore[call-overload]
    assert int(info["hatched"]) == _shown_gaps(plan_result)  # type: ignore[call-overload]
    n_fac = len(plan_result.facilities)
    assert int(info["markers"]) == n_fac  # type: ignore[call-overload]
    assert "© OpenStreetMap contributors" in str(info["attribution"])
    if plan_result.summary.get("synthetic"):
        assert any("合成" in b for b in info["banner"])  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_layers_load_from_urls_by_viewport(plan_result: PlanResult, server: tuple[str, Path],
                                           tmp_path: Path) -> None:
    base, root = server
    for name in ("dissolved", "gaps"):
        (root / f"{name}.geojson").write_text(layer_frame(plan_result, name).to_json(),
                                              encoding="utf-8")
    urls = {"dissolved": "dissolved.geojson?bbox={bbox}&zoom={zoom}",
            "gaps": "gaps.geojson?bbox={bbox}"}
    html = build_care_map(plan_result, lang="en", layer_urls=urls).get_root().render()
    assert "Gaps: Day-care centre" in html and '"dissolved.geojson?bbox={bbox}' in html
    (root / "remote.html").write_text(html, encoding="utf-8")
    info = _open(f"{base}/remote.html", tmp_path / "remote.png", hatched=_shown_gaps(plan_result))
    assert info["errors"] == []
    assert int(info["hatched"]) == _shown_gaps(plan_result)  # type: ignore[call-overload]
    assert int(info["paths"]) > _shown_gaps(plan_result)  # type: ignore[call-overload]
    assert "Legend" in str(info["legend"])

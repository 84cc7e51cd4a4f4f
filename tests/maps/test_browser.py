"""Open the care map in headless Chromium (Playwright): Leaflet runs, layers render, screenshot."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from maps.assets import page_html, static_folders
from maps.compose import build_care_map
from maps.geojson import layer_frame
from planner.pipeline import PlanResult
from tests.offline_browser import skip_reason, visit

pytestmark = pytest.mark.browser

#: Where a copy of the screenshot goes for a human to look at.
SCREENSHOT_COPY = Path("/tmp/careplan_map.png")


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


def _open(url: str, shot: Path, *, hatched: int = 0, local: str) -> dict[str, object]:
    """Load ``url`` with the internet cut off; wait for Leaflet and the overlays; screenshot.

    ``hatched``: wait (up to 20 s) until that many gap polygons are drawn; layers loaded by
    viewport arrive asynchronously, later on a busy machine.
    """
    ready = "window.L !== undefined && window.careplan !== undefined"
    if hatched:
        ready += (" && document.querySelectorAll('path[fill=\"url(#careplan-hatch)\"]')"
                  f".length >= {hatched}")
    seen = visit(url, local=local, ready=ready, wait_for=".leaflet-overlay-pane svg path",
                 shot=shot)
    seen.assert_clean()
    return seen.info


def _shown_gaps(result: PlanResult) -> int:
    """Gap polygons drawn on opening: those of the first required type."""
    first = result.params.coverage.required_types[0]
    return int((result.gaps["facility_type"] == first).sum())


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_map_renders_in_chromium(plan_result: PlanResult, server: tuple[str, Path],
                                 tmp_path: Path) -> None:
    base, root = server
    (root / "care_map.html").write_text(
        page_html(build_care_map(plan_result, lang="zh"), static_url="static"), encoding="utf-8")
    for key, folder in static_folders().items():  # the files a server would serve
        shutil.copytree(folder, root / "static" / key, dirs_exist_ok=True)
    shot = tmp_path / "care_map.png"
    info = _open(f"{base}/care_map.html", shot, local=base)
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


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_layers_load_from_urls_by_viewport(plan_result: PlanResult, server: tuple[str, Path],
                                           tmp_path: Path) -> None:
    base, root = server
    for name in ("dissolved", "gaps"):
        (root / f"{name}.geojson").write_text(layer_frame(plan_result, name).to_json(),
                                              encoding="utf-8")
    urls = {"dissolved": "dissolved.geojson?bbox={bbox}&zoom={zoom}",
            "gaps": "gaps.geojson?bbox={bbox}"}
    html = page_html(build_care_map(plan_result, lang="en", layer_urls=urls))
    assert "Gaps: Day-care centre" in html and '"dissolved.geojson?bbox={bbox}' in html
    (root / "remote.html").write_text(html, encoding="utf-8")
    info = _open(f"{base}/remote.html", tmp_path / "remote.png", hatched=_shown_gaps(plan_result),
                 local=base)
    assert int(info["hatched"]) == _shown_gaps(plan_result)  # type: ignore[call-overload]
    assert int(info["paths"]) > _shown_gaps(plan_result)  # type: ignore[call-overload]
    assert "Legend" in str(info["legend"])


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_failing_tile_server_leaves_the_offline_background(plan_result: PlanResult,
                                                            tmp_path: Path) -> None:
    """OSM tiles configured but unreachable: the streets background stays, a banner explains."""
    page = tmp_path / "osm.html"
    page.write_text(page_html(build_care_map(plan_result, basemap="osm", lang="en")),
                    encoding="utf-8")
    seen = visit(page.as_uri(), ready="document.querySelector('.careplan-banner.careplan-warn')",
                 wait_for=".leaflet-careplanBackground-pane path")
    assert seen.blocked and all("tile.openstreetmap.org" in u for u in seen.blocked)
    assert seen.page_errors == []
    assert all("Failed to load resource" in e for e in seen.console_errors)  # the tiles only
    assert int(seen.info["background"]) > 0  # type: ignore[call-overload]
    assert int(seen.info["markers"]) == len(plan_result.facilities)  # type: ignore[call-overload]
    assert any("Online tiles could not be loaded" in b for b in seen.info["banner"])  # type: ignore[attr-defined]

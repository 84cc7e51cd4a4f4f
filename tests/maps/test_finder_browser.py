"""The finder in headless Chromium at 375x812 and 1280x800: offline file (kiosk/USB) and the
service page. Search, tap, list and route appear; every request that is not the local server or
file:// is blocked and fails the test; large text, touch targets and contrast are measured."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.errors import DataQualityWarning
from tests.api.service.test_map_browser import _demo_coverage, service  # noqa: F401
from tests.offline_browser import CHROMIUM, CHROMIUM_ARGS
from tests.offline_browser import skip_reason as _skip_reason

pytestmark = pytest.mark.browser
SIZES = ((375, 812), (1280, 800))
SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def offline_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """finder.html of a small demo district, written by the page builder, and its finder."""
    from maps.finder import build_finder_page
    from planner.io.finder_inputs import load_finder
    from planner.params import PlanParams
    from planner.pipeline import run_plan
    from planner.synthetic.district import build_demo_district

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        plan = run_plan(build_demo_district(seed=7, target_nodes=2500), PlanParams(),
                        max_catchment_facilities=0)
    finder = load_finder(plan)
    path = tmp_path_factory.mktemp("finder") / "finder.html"
    path.write_text(build_finder_page(finder, plan), encoding="utf-8")
    yield path, finder


def _luminance(rgb: str) -> float:
    vals = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in vals]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _drive(url: str, size: tuple[int, int], allowed: str, query: str) -> dict[str, Any]:
    """Open, search, pick the first hit, then tap the map; collect what the page shows."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    errors: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", guard)
            page.goto(url, wait_until="load", timeout=60000)
            page.fill("#search-input", query)
            page.click("#search-button")
            page.locator(".search-hit").first.click(timeout=15000)
            page.wait_for_selector(".place", timeout=15000)
            page.wait_for_selector("path.finder-route", timeout=15000)
            after_search = page.locator(".place").count()
            box = page.locator("#map").bounding_box()
            page.locator("#map").scroll_into_view_if_needed()
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
            page.wait_for_function("() => document.querySelector('#status').textContent.length",
                                   timeout=15000)
            page.wait_for_timeout(300)
            out = page.evaluate("""() => {
              const cs = (s) => getComputedStyle(document.querySelector(s));
              const btns = [...document.querySelectorAll('button, .button, input')]
                .filter(b => b.offsetParent !== null).map(b => b.getBoundingClientRect().height);
              const state = window.careplanFinder.state;
              return {fontPx: parseFloat(cs('body').fontSize), minTarget: Math.min(...btns),
                bodyFg: cs('body').color, bodyBg: cs('body').backgroundColor,
                btnFg: cs('#search-button').color, btnBg: cs('#search-button').backgroundColor,
                walkFg: cs('.walk') ? cs('.walk').color : cs('body').color,
                scrollW: document.documentElement.scrollWidth, places: state.hits.length,
                here: state.here, mins: state.hits.map(h => h.walk_min),
                ids: state.hits.map(h => h.place.id),
                routes: document.querySelectorAll('path.finder-route').length};
            }""")
            page.screenshot(path=str(SHOTS / f"careplan_finder_{size[0]}.png"))
        finally:
            browser.close()
    return {**out, "blocked": blocked, "errors": errors, "after_search": after_search}


def _check_page(out: dict[str, Any], width: int) -> None:
    assert out["blocked"] == [], f"requests left the machine: {out['blocked'][:3]}"
    assert out["errors"] == []
    assert out["after_search"] > 0 and out["routes"] >= 1
    assert out["fontPx"] >= 18
    assert out["minTarget"] >= 44
    assert out["scrollW"] <= width + 1, "the page scrolls sideways"
    for fg, bg in ((out["bodyFg"], out["bodyBg"]), (out["btnFg"], out["btnBg"]),
                   (out["walkFg"], out["bodyBg"])):
        assert _contrast(fg, bg) >= 4.5, (fg, bg)
    assert out["mins"] == sorted(out["mins"])


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_offline_finder_matches_the_planner(offline_page: tuple[Path, Any]) -> None:
    from planner.finder.model import nearby_geojson

    path, finder = offline_page
    unit = finder.names[0]
    query = unit.initials if unit.kind == "unit" else unit.name
    for size in SIZES:
        out = _drive(path.as_uri(), size, "file://", query)
        _check_page(out, size[0])
        assert out["places"] > 0
        lat, lon = out["here"]
        expect = nearby_geojson(finder, lon, lat, 30.0)["features"]
        want = {f["properties"]["facility_id"]: f["properties"]["walk_min"] for f in expect}
        # the page routes by itself: same places, same minutes (local projection: +-0.3 min)
        assert set(out["ids"]) == set(want) or len(set(out["ids"]) ^ set(want)) <= 1
        for fid, minutes in zip(out["ids"], out["mins"], strict=True):
            if fid in want:
                assert abs(minutes - want[fid]) <= 0.3, fid


@pytest.mark.slow  # ~50 s: a uvicorn service and a demo coverage run (pytest -m slow)
@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_service_finder_on_a_phone(service: str) -> None:  # noqa: F811
    project = _demo_coverage(service)
    first = httpx.get(f"{service}/projects/{project}/search", params={"q": "社区"}).json()
    out = _drive(f"{service}/projects/{project}/finder", (375, 812), service,
                 first["results"][0]["name"])
    _check_page(out, 375)
    assert out["places"] > 0
    assert os.path.exists(SHOTS / "careplan_finder_375.png")

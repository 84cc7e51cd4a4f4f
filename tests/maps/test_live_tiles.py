"""Online tile layers really load when the internet is there (marked ``live``: deselected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maps.assets import page_html
from maps.compose import build_care_map
from planner.pipeline import PlanResult
from tests.offline_browser import skip_reason, visit

pytestmark = [pytest.mark.live, pytest.mark.browser,
              pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))]


def test_osm_tiles_load_above_the_offline_background(grid_result: PlanResult,
                                                     tmp_path: Path) -> None:
    page = tmp_path / "osm.html"
    page.write_text(page_html(build_care_map(grid_result, basemap="osm")), encoding="utf-8")
    probe = """() => ({
      tiles: document.querySelectorAll('img.leaflet-tile-loaded').length,
      banner: document.querySelectorAll('.careplan-banner.careplan-warn').length})"""
    seen = visit(page.as_uri(), ready="document.querySelector('img.leaflet-tile-loaded')",
                 probe=probe, settle_ms=2000, allow=("https://tile.openstreetmap.org/",))
    seen.assert_clean()
    assert int(seen.info["tiles"]) > 0  # type: ignore[call-overload]
    assert seen.info["banner"] == 0  # no "tiles failed" banner when the server answers

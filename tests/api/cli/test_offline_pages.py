"""The files careplan writes open offline: care map, siting map and report HTML as ``file://``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.cli.main import main
from maps.assets import external_resources
from tests.offline_browser import skip_reason, visit

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))]

_MAP_READY = "window.L !== undefined && window.careplan !== undefined"
_DRAWN = ".leaflet-marker-pane .careplan-icon"


def _assert_map_drawn(info: dict[str, object]) -> None:
    assert int(info["markers"]) > 0, "no facility marker drawn"  # type: ignore[call-overload]
    assert int(info["polygons"]) > 0, "no coverage polygon drawn"  # type: ignore[call-overload]
    assert int(info["background"]) > 0, "no offline street background"  # type: ignore[call-overload]
    assert "OpenStreetMap contributors" in str(info["attribution"])


def test_demo_care_map_opens_as_a_file_offline(run_dir: Path, tmp_path: Path) -> None:
    page = run_dir / "care_map.html"
    assert external_resources(page.read_text(encoding="utf-8")) == []
    moved = tmp_path / "usb" / "care_map.html"  # a lone copy, as on a USB stick
    moved.parent.mkdir()
    moved.write_bytes(page.read_bytes())
    seen = visit(moved.as_uri(), ready=_MAP_READY, wait_for=_DRAWN, shot=tmp_path / "map.png")
    seen.assert_clean()
    _assert_map_drawn(seen.info)
    assert any("合成" in b for b in seen.info["banner"])  # type: ignore[attr-defined]
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_siting_map_opens_as_a_file_offline(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert main(["site", "--run", str(run_dir), "--type", "day_care", "--k", "2",
                 "--out", str(out), "--time-limit-s", "10"]) == 0
    page = out / "siting_map.html"
    seen = visit(page.as_uri(), ready=_MAP_READY, wait_for=_DRAWN)
    seen.assert_clean()
    _assert_map_drawn(seen.info)
    assert any(re.search(r"建议选址", o) for o in seen.info["overlays"])  # type: ignore[attr-defined]


def test_report_html_opens_as_a_file_offline(report_dir: Path) -> None:
    page = report_dir / "report.html"
    assert external_resources(page.read_text(encoding="utf-8")) == []
    probe = """() => ({images: Array.from(document.images).filter(
        i => i.complete && i.naturalWidth > 0).length, all: document.images.length,
        text: document.body.innerText.length})"""
    seen = visit(page.as_uri(), ready="document.readyState === 'complete'", probe=probe)
    seen.assert_clean()
    assert int(seen.info["all"]) > 0  # type: ignore[call-overload]
    assert seen.info["images"] == seen.info["all"], "a figure of the report did not load"
    assert int(seen.info["text"]) > 500  # type: ignore[call-overload]

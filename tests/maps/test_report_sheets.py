"""Map sheets: the scale bar measures what the print scale says; CJK fonts registered by path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from maps.fonts import DEBIAN_PACKAGE, FontMissingError, find_cjk_font_files, register_cjk_fonts
from maps.report_sheets import PRINT_DPI, SheetSpec, draw_sheet
from maps.sheet_frame import MAP_BOX, bar_length_m, fit_frame, nice_scale, sheet_size_mm

UTM48 = "EPSG:32648"


def _layers(width_m: float, height_m: float) -> dict[str, gpd.GeoDataFrame]:
    """One 'unit' of known size in UTM 48N (central Chengdu), in WGS-84 like a run's layers."""
    x0, y0 = 405_000.0, 3_390_000.0
    units = gpd.GeoDataFrame({"unit_id": ["U1"], "name": ["测试社区"], "day_care_share": [0.5]},
                             geometry=[box(x0, y0, x0 + width_m, y0 + height_m)], crs=UTM48)
    fac = gpd.GeoDataFrame({"facility_id": ["F1"], "type": ["day_care"], "name": ["日照"]},
                           geometry=[Point(x0 + 100, y0 + 100)], crs=UTM48)
    return {"units": units.to_crs(4326), "facilities": fac.to_crs(4326)}


def _spec(paper: str = "a4") -> SheetSpec:
    return SheetSpec("day_care", 15.0, "日间照料中心 15分钟步行圈", "日间照料中心", 0.8, "zh",
                     "数据来源：测试\n日期：2026-01-01", paper)


@pytest.mark.parametrize(("paper", "expected"), [("a4", 60_000.0), ("a3", 40_000.0)])
def test_scale_bar_matches_print_scale(paper: str, expected: float) -> None:
    """A 10 km x 6 km area. A4 landscape minus 8 mm margins is 281 x 194 mm; the map box is
    73.5 % x 88.5 % of it = 206.5 x 171.7 mm. Width needs 10,600 m (3 % padding each side) in
    0.2065 m of paper = 1:51,300 -> 1:60,000. On A3 (404 x 281 mm, box 296.9 x 248.7 mm):
    1:35,700 -> 1:40,000."""
    fig, frame = draw_sheet(_layers(10_000, 6_000), _spec(paper))
    assert frame.scale_denominator == expected
    fig.canvas.draw()
    ax = fig.axes[0]
    ax_mm = ax.get_window_extent().width / PRINT_DPI * 25.4
    assert ax_mm == pytest.approx(sheet_size_mm(paper)[0] * MAP_BOX[2], rel=1e-3)
    # the ground width shown equals the paper width times the scale
    xmin, xmax = ax.get_xlim()
    assert (xmax - xmin) == pytest.approx(ax_mm / 1000 * expected, rel=1e-3)
    bar = next(p for p in ax.patches if p.get_gid() == "scalebar")
    bar_mm = bar.get_window_extent().width / PRINT_DPI * 25.4
    length = bar_length_m(frame)
    assert bar_mm / 1000 * expected == pytest.approx(length, rel=0.01)
    label = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    assert label in [t.get_text() for t in ax.texts]
    assert f"1:{expected:,.0f}" in [t.get_text() for t in ax.texts]
    assert any(p.get_gid() == "north_arrow" for p in ax.patches)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_fit_frame_and_nice_scale_hand_worked() -> None:
    assert [nice_scale(v) for v in (9_999, 10_000, 12_600, 24_000, 26_000)] == [
        10_000, 10_000, 15_000, 25_000, 30_000]
    frame = fit_frame((0, 0, 1_000, 1_000), (100, 100))  # 1,060 m in 0.1 m -> 1:12,500
    assert frame.scale_denominator == 12_500
    assert (frame.xmin, frame.xmax) == (-125.0, 1_125.0)


def test_missing_cjk_font_is_one_line_error_naming_the_package(tmp_path: Path) -> None:
    assert find_cjk_font_files([tmp_path]) == []
    with pytest.raises(FontMissingError) as err:
        register_cjk_fonts([tmp_path])
    assert DEBIAN_PACKAGE in str(err.value) and "\n" not in str(err.value)


STALE_CACHE = r"""
import warnings, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
# a cache written before fonts-noto-cjk was installed: no CJK font in matplotlib's list
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist
                                    if "CJK" not in f.name and "WenQuanYi" not in f.name]
font_manager.fontManager._findfont_cached.cache_clear()
if sys.argv[1] == "register":
    from maps.fonts import register_cjk_fonts
    print("family:", register_cjk_fonts())
else:
    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "DejaVu Sans"]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fig, ax = plt.subplots()
    ax.set_title("日间照料中心覆盖率")
    fig.savefig(sys.argv[2])
print("\n".join(str(w.message) for w in caught))
"""


def test_chinese_figure_has_no_missing_glyphs_with_a_stale_font_cache(tmp_path: Path) -> None:
    if not find_cjk_font_files():
        pytest.skip(f"no CJK font installed (Debian package {DEBIAN_PACKAGE})")
    root = Path(__file__).resolve().parents[2]
    env = {"PYTHONPATH": str(root), "MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": "/usr/bin"}
    runs = {}
    for mode in ("plain", "register"):
        runs[mode] = subprocess.run([sys.executable, "-c", STALE_CACHE, mode,
                                     str(tmp_path / f"{mode}.png")], cwd=root, env=env,
                                    capture_output=True, text=True, check=True).stdout
    assert "missing from font" in runs["plain"]  # the stale cache does draw empty boxes
    assert "missing from font" not in runs["register"], runs["register"]
    assert "family: Noto Sans CJK" in runs["register"]

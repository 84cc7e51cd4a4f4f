"""Map-sheet furniture in metres: paper sizes, a nice print scale, scale bar and north arrow.

A map sheet is drawn in a projected CRS (UTM, metres) with equal aspect, so one data unit is one
metre on the ground and ``scale_denominator`` metres of ground are one metre of paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.patches import FancyArrow, Rectangle

#: Landscape paper sizes in millimetres (width, height).
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}
#: Printable margin of a map sheet on every side (mm); the PDF page margin matches it.
SHEET_MARGIN_MM = 8.0
#: Map frame inside the drawable sheet, as figure fractions (left, bottom, width, height).
MAP_BOX = (0.012, 0.035, 0.735, 0.885)
_NICE = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5, 8.0, 10.0)


@dataclass(frozen=True)
class Frame:
    """Ground extent of a map frame at a print scale.

    Attributes
    ----------
    xmin, ymin, xmax, ymax
        Extent in metres (projected CRS).
    scale_denominator
        ``N`` of the print scale ``1:N`` on the sheet's paper.
    """

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    scale_denominator: float


def sheet_size_mm(paper: str) -> tuple[float, float]:
    """Drawable sheet size (paper minus margins) in millimetres."""
    width, height = PAPER_MM[paper]
    return width - 2 * SHEET_MARGIN_MM, height - 2 * SHEET_MARGIN_MM


def nice_scale(minimum: float) -> float:
    """Smallest 'round' scale denominator at least ``minimum`` (1, 1.25, 1.5, 2, 2.5 ... x 10^k).

    >>> nice_scale(41_300), nice_scale(50_000), nice_scale(50_001)
    (50000.0, 50000.0, 60000.0)
    """
    power = 10.0 ** math.floor(math.log10(max(minimum, 1.0)))
    for step in _NICE:
        if step * power >= minimum * (1 - 1e-9):
            return step * power
    return 10.0 * power  # pragma: no cover - _NICE ends at 10


def fit_frame(bounds: tuple[float, float, float, float], frame_mm: tuple[float, float],
              pad: float = 0.03) -> Frame:
    """Centre ``bounds`` (metres) in a frame of ``frame_mm`` at the next round print scale.

    Examples
    --------
    A 10 km x 4 km area in a 200 mm x 150 mm frame needs 10,300 m (3 % padding each side)
    in 0.2 m of paper, 1:51,500 -> 1:60,000, so the frame shows 12 km x 9 km.

    >>> f = fit_frame((0, 0, 10_000, 4_000), (200, 150))
    >>> f.scale_denominator, f.xmax - f.xmin, f.ymax - f.ymin
    (60000.0, 12000.0, 9000.0)
    """
    xmin, ymin, xmax, ymax = bounds
    width, height = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    need = max(width * (1 + 2 * pad) / (frame_mm[0] / 1000),
               height * (1 + 2 * pad) / (frame_mm[1] / 1000))
    denominator = nice_scale(need)
    half_w, half_h = frame_mm[0] / 2000 * denominator, frame_mm[1] / 2000 * denominator
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return Frame(cx - half_w, cy - half_h, cx + half_w, cy + half_h, denominator)


def bar_length_m(frame: Frame) -> float:
    """A 1/2/5 x 10^k length near a fifth of the frame width for the scale bar (metres)."""
    target = (frame.xmax - frame.xmin) / 5
    power = 10.0 ** math.floor(math.log10(target))
    return max(s * power for s in (1.0, 2.0, 5.0) if s * power <= target)


def _distance_text(metres: float, lang: str) -> str:
    if metres >= 1000:
        return f"{metres / 1000:g} {'千米' if lang == 'zh' else 'km'}"
    return f"{metres:g} {'米' if lang == 'zh' else 'm'}"


def draw_scale_bar(ax: Axes, frame: Frame, lang: str, fontsize: float) -> float:
    """Four-segment black/white scale bar in the frame's lower left; returns its length (m).

    The outer rectangle carries ``gid="scalebar"`` so that its drawn length can be measured.
    """
    length = bar_length_m(frame)
    height = (frame.ymax - frame.ymin) * 0.008
    x0 = frame.xmin + (frame.xmax - frame.xmin) * 0.03
    y0 = frame.ymin + (frame.ymax - frame.ymin) * 0.04
    ax.add_patch(Rectangle((x0 - length * 0.04, y0 - height * 1.6), length * 1.14, height * 6.2,
                           facecolor="white", edgecolor="none", alpha=0.85, zorder=20))
    for i in range(4):
        ax.add_patch(Rectangle((x0 + i * length / 4, y0), length / 4, height, zorder=21,
                               facecolor="black" if i % 2 == 0 else "white", edgecolor="black",
                               linewidth=0.6))
    ax.add_patch(Rectangle((x0, y0), length, height, fill=False, edgecolor="black",
                           linewidth=0.8, zorder=22, gid="scalebar"))
    for frac in (0.0, 0.5, 1.0):
        text = "0" if frac == 0 else _distance_text(length * frac, lang)
        ax.text(x0 + frac * length, y0 + height * 1.6, text, ha="center", va="bottom",
                fontsize=fontsize, zorder=23)
    ax.text(x0 + length / 2, y0 + height * 3.4, f"1:{frame.scale_denominator:,.0f}",
            ha="center", va="bottom", fontsize=fontsize, zorder=23)
    return length


def draw_north_arrow(ax: Axes, frame: Frame, lang: str, fontsize: float) -> None:
    """指北针: an arrow pointing up (grid north of the projected CRS) in the upper right."""
    span = frame.ymax - frame.ymin
    x = frame.xmax - (frame.xmax - frame.xmin) * 0.045
    y = frame.ymax - span * 0.16
    ax.add_patch(FancyArrow(x, y, 0, span * 0.08, width=span * 0.012, head_width=span * 0.04,
                            head_length=span * 0.04, length_includes_head=True, color="black",
                            zorder=22, gid="north_arrow"))
    ax.text(x, y + span * 0.085, "北" if lang == "zh" else "N", ha="center", va="bottom",
            fontsize=fontsize * 1.4, fontweight="bold", zorder=23)

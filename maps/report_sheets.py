"""Print map sheets (landscape A4/A3) per facility type and walking threshold, care-map symbols.

Each sheet carries what a Chinese planning drawing carries: title, legend, scale bar and print
scale, north arrow (指北针), data source and date, and the coordinate system.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from maps import styles  # noqa: E402
from maps.fonts import register_cjk_fonts  # noqa: E402
from maps.layers import coverage_breaks  # noqa: E402
from maps.mpl_geoms import add_lines, add_polygons  # noqa: E402
from maps.sheet_frame import (  # noqa: E402
    MAP_BOX,
    Frame,
    draw_north_arrow,
    draw_scale_bar,
    fit_frame,
    sheet_size_mm,
)

#: Print resolution of the map sheets (dots per inch).
PRINT_DPI = 200
#: Above this many units only the gap units are named on the map.
MAX_NAMED_UNITS = 120


@dataclass(frozen=True)
class SheetSpec:
    """What one sheet shows and its marginal text."""

    ftype: str
    threshold_min: float
    title: str
    type_label: str
    target_share: float
    lang: str
    footer: str
    paper: str = "a4"


def wrap_text(text: str, width_mm: float, fontsize_pt: float) -> str:
    r"""Break each line of ``text`` to fit ``width_mm`` (a CJK character is two Latin widths).

    20 mm at 7 pt holds int(20 / (7 * 0.3528 * 0.55)) = 14 Latin character widths:

    >>> wrap_text("数据来源：" + "a" * 30, 20.0, 7.0)
    '数据来源：aaaa\naaaaaaaaaaaaaa\naaaaaaaaaaaa'
    """
    limit = max(8, int(width_mm / (fontsize_pt * 0.3528 * 0.55)))
    out: list[str] = []
    for line in text.split("\n"):
        current, used = "", 0
        for ch in line:
            w = 2 if ord(ch) > 0x2E80 else 1
            if used + w > limit:
                out.append(current)
                current, used = "", 0
            current, used = current + ch, used + w
        out.append(current)
    return "\n".join(out)


def _share_colours(units: gpd.GeoDataFrame, column: str, target: float) -> list[str]:
    breaks = coverage_breaks(target)
    out = []
    for value in units[column] if column in units else [float("nan")] * len(units):
        k = sum(1 for b in breaks[1:len(styles.COVERAGE_COLOURS)] if value >= b)
        out.append("#dddddd" if value != value else styles.COVERAGE_COLOURS[k])
    return out


def _is_points(frame: gpd.GeoDataFrame) -> bool:
    return bool(len(frame)) and bool(frame.geom_type.isin(["Point", "MultiPoint"]).all())


def _draw_units(ax: Axes, units: gpd.GeoDataFrame, spec: SheetSpec, size: float) -> None:
    colours = _share_colours(units, f"{spec.ftype}_share", spec.target_share)
    style = styles.UNIT_STYLE
    if _is_points(units):
        ax.scatter(units.geometry.x, units.geometry.y, c=colours, s=size * 4,
                   edgecolors="#555555", linewidths=0.4, zorder=3)
    else:
        add_polygons(ax, units.geometry, facecolors=colours,
                     alpha=float(str(style["fillOpacity"])), zorder=1)
        add_lines(ax, units.geometry.boundary, color=str(style["color"]), linewidth=0.5,
                  zorder=4)


def _draw_gaps(ax: Axes, gaps: gpd.GeoDataFrame | None, spec: SheetSpec, size: float) -> None:
    if gaps is None or not len(gaps):
        return
    sel = gaps[(gaps["facility_type"] == spec.ftype)
               & (gaps["threshold_min"].astype(float) == spec.threshold_min)]
    if not len(sel):
        return
    if _is_points(sel):
        ax.scatter(sel.geometry.x, sel.geometry.y, facecolors="none", s=size * 14, hatch="//",
                   edgecolors=styles.GAP_COLOUR, linewidths=1.2, zorder=6)
        return
    add_polygons(ax, sel.geometry, edgecolor=styles.GAP_COLOUR, hatch="//", zorder=5)
    add_lines(ax, sel.geometry.boundary, color=styles.GAP_COLOUR, linewidth=1.4, zorder=6)


def _draw_catchment(ax: Axes, dissolved: gpd.GeoDataFrame | None, spec: SheetSpec) -> None:
    if dissolved is None or not len(dissolved):
        return
    sel = dissolved[(dissolved["type"] == spec.ftype)
                    & (dissolved["threshold_min"].astype(float) == spec.threshold_min)]
    if not len(sel):
        return
    colour = styles.TYPE_COLOURS.get(spec.ftype, styles.DEFAULT_TYPE_COLOUR)
    st = styles.THRESHOLD_STYLES.get(spec.threshold_min, styles.DEFAULT_THRESHOLD_STYLE)
    add_polygons(ax, sel.geometry, facecolors=colour, alpha=float(str(st["fillOpacity"])),
                 zorder=2)
    add_lines(ax, sel.geometry.boundary, color=colour, zorder=7,
              linewidth=float(str(st["weight"])) * 0.6,
              linestyle=(0, (4, 2)) if st["dashArray"] else "solid")


def _draw_facilities(ax: Axes, facilities: gpd.GeoDataFrame, spec: SheetSpec,
                     size: float) -> None:
    fac = facilities[facilities["type"] == spec.ftype]
    if not len(fac):
        return
    colour = styles.TYPE_COLOURS.get(spec.ftype, styles.DEFAULT_TYPE_COLOUR)
    glyph = styles.TYPE_GLYPHS.get(spec.lang, styles.TYPE_GLYPHS["en"]).get(spec.ftype, "")
    ax.scatter(fac.geometry.x, fac.geometry.y, s=(size * 2.6) ** 2, c=colour,
               edgecolors="white", linewidths=0.7, zorder=10)
    for x, y in zip(fac.geometry.x, fac.geometry.y, strict=True):
        ax.text(x, y, glyph, color="white", fontsize=size * 0.95, ha="center", va="center",
                fontweight="bold", zorder=11)


def _label_units(ax: Axes, units: gpd.GeoDataFrame, gap_ids: set[str], size: float) -> None:
    named = units if len(units) <= MAX_NAMED_UNITS else units[
        units["unit_id"].astype(str).isin(gap_ids)]
    for point, name in zip(named.geometry.representative_point(), named["name"], strict=True):
        ax.text(point.x, point.y, str(name), fontsize=size * 0.8, ha="center", va="top",
                color="#222222", zorder=12, clip_on=True,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})


def _legend(fig: Figure, spec: SheetSpec, size: float, with_sites: bool) -> None:
    colour = styles.TYPE_COLOURS.get(spec.ftype, styles.DEFAULT_TYPE_COLOUR)
    zh = spec.lang == "zh"
    handles: list[Patch | Line2D] = [
        Line2D([], [], marker="o", linestyle="", markersize=size * 1.3, markerfacecolor=colour,
               markeredgecolor="white", label=spec.type_label),
        Patch(facecolor=colour, alpha=0.35, edgecolor=colour, linestyle="--",
              label=(f"{spec.threshold_min:g}分钟步行圈" if zh
                     else f"{spec.threshold_min:g}-min walking circle")),
        Patch(facecolor="none", edgecolor=styles.GAP_COLOUR, hatch="//",
              label=styles.TEXT[spec.lang]["legend_gap"].format(target=spec.target_share)),
        Line2D([], [], color="#6f6f6f", linewidth=0.8, label="步行道路" if zh else "Streets"),
        Patch(facecolor="none", edgecolor="#555555",
              label="社区/村边界" if zh else "Unit boundary"),
    ]
    if with_sites:
        handles.append(Line2D([], [], marker="*", linestyle="", markersize=size * 1.6,
                              markerfacecolor=styles.SITE_COLOUR, markeredgecolor="black",
                              label=styles.TEXT[spec.lang]["legend_site"]))
    breaks = coverage_breaks(spec.target_share)
    for i, col in enumerate(styles.COVERAGE_COLOURS):
        text = (f"{breaks[i]:.0%} – {breaks[i + 1]:.0%}" if i + 1 < len(breaks)
                else f"≥ {breaks[i]:.0%} {styles.TEXT[spec.lang]['target']}")
        handles.append(Patch(facecolor=col, alpha=0.55, edgecolor="#555555",
                             label=("覆盖率 " if zh else "Covered ") + text))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.765, 0.905),
               title="图例" if zh else "Legend", fontsize=size, title_fontsize=size * 1.15,
               frameon=True, borderpad=0.8, labelspacing=0.9, handlelength=2.2)


def _sheet_figure(paper: str) -> tuple[Figure, Axes, tuple[float, float], float]:
    width_mm, height_mm = sheet_size_mm(paper)
    fig = plt.figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=PRINT_DPI)
    ax = fig.add_axes(MAP_BOX)
    frame_mm = (width_mm * MAP_BOX[2], height_mm * MAP_BOX[3])
    return fig, ax, frame_mm, 7.0 * (1.0 if paper == "a4" else 1.35)


def project_layers(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The non-empty layers in the UTM zone of the units (unchanged when already projected)."""
    units = layers["units"]
    if units.crs is not None and not units.crs.is_geographic:
        return {k: v for k, v in layers.items() if v is not None and len(v)}
    crs = units.estimate_utm_crs()
    return {k: v.to_crs(crs) for k, v in layers.items() if v is not None and len(v)}


def draw_sheet(layers: Mapping[str, gpd.GeoDataFrame], spec: SheetSpec) -> tuple[Figure, Frame]:
    """The sheet as a matplotlib figure (paper minus margins) and the frame it shows."""
    register_cjk_fonts()
    proj = project_layers(layers)
    crs = proj["units"].crs
    fig, ax, frame_mm, size = _sheet_figure(spec.paper)
    frame = fit_frame(tuple(proj["units"].total_bounds), frame_mm)
    if "network_edges" in proj:
        add_lines(ax, proj["network_edges"].geometry, color="#6f6f6f", linewidth=0.45,
                  zorder=2.5)
    _draw_units(ax, proj["units"], spec, size)
    _draw_catchment(ax, proj.get("catchments_dissolved"), spec)
    _draw_gaps(ax, proj.get("gaps"), spec, size)
    _draw_facilities(ax, proj["facilities"], spec, size)
    if "sites" in proj:
        sites = proj["sites"]
        ax.scatter(sites.geometry.x, sites.geometry.y, marker="*", s=(size * 3.2) ** 2,
                   c=styles.SITE_COLOUR, edgecolors="black", linewidths=0.6, zorder=13)
    gaps = proj.get("gaps")
    gap_ids = set() if gaps is None else set(gaps.loc[gaps["facility_type"] == spec.ftype,
                                                      "unit_id"].astype(str))
    _label_units(ax, proj["units"], gap_ids, size)
    ax.set_xlim(frame.xmin, frame.xmax)
    ax.set_ylim(frame.ymin, frame.ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    draw_scale_bar(ax, frame, spec.lang, size)
    draw_north_arrow(ax, frame, spec.lang, size)
    fig.text(0.012, 0.955, spec.title, fontsize=size * 2.1, fontweight="bold", va="center")
    crs_text = f"{'坐标系' if spec.lang == 'zh' else 'CRS'}: {crs.name} (EPSG:{crs.to_epsg()})"
    panel_mm = sheet_size_mm(spec.paper)[0] * (1 - 0.765 - 0.01)
    fig.text(0.765, 0.035, wrap_text(f"{spec.footer}\n{crs_text}", panel_mm, size * 0.85),
             fontsize=size * 0.85, va="bottom", linespacing=1.5)
    _legend(fig, spec, size, "sites" in proj)
    return fig, frame


def sheet_png(layers: Mapping[str, gpd.GeoDataFrame], spec: SheetSpec) -> bytes:
    """The sheet as PNG bytes at :data:`PRINT_DPI`."""
    fig, _ = draw_sheet(layers, spec)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PRINT_DPI, pil_kwargs={"compress_level": 2})
    plt.close(fig)
    return buf.getvalue()

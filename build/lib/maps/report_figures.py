"""Static report figures (matplotlib, Agg): a map per facility type and the coverage charts."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei")


def _setup_fonts() -> None:
    have = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [name for name in CJK_FONTS if name in have]
    plt.rcParams["font.sans-serif"] = [*cjk, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def type_map(layers: Mapping[str, gpd.GeoDataFrame], ftype: str, title: str,
             threshold_min: float) -> str:
    """PNG (base64) of units shaded by covered share, the type's catchment and facilities."""
    _setup_fonts()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    units = layers["units"]
    share = f"{ftype}_share"
    if share in units:
        units.plot(ax=ax, column=share, cmap="RdYlGn", vmin=0, vmax=1, edgecolor="#888",
                   linewidth=0.4, legend=True, legend_kwds={"shrink": 0.6})
    if "network_edges" in layers:
        layers["network_edges"].plot(ax=ax, color="#bbbbbb", linewidth=0.25)
    dis = layers.get("catchments_dissolved")
    if dis is not None and len(dis):
        sel = dis[(dis["type"] == ftype) & (dis["threshold_min"] == threshold_min)]
        if len(sel):
            sel.boundary.plot(ax=ax, color="#1f4e9c", linewidth=0.9)
    fac = layers["facilities"]
    fac[fac["type"] == ftype].plot(ax=ax, color="#c00000", markersize=14, zorder=5)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    return _png(fig)


def bar_chart(frame: pd.DataFrame, x: str, y: str, hue: str, title: str, *,
              percent: bool = False) -> str:
    """Grouped bar chart (base64 PNG) of ``y`` by ``x`` with one bar per ``hue`` value."""
    _setup_fonts()
    wide = frame.pivot_table(index=x, columns=hue, values=y, aggfunc="sum", sort=False)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    wide.plot.bar(ax=ax, width=0.8)
    if percent:
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("")
    ax.legend(fontsize=7, ncol=3)
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    return _png(fig)

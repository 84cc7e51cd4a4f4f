"""Draw shapely geometries as single matplotlib collections (no per-call figure redraws).

``GeoDataFrame.plot`` redraws the whole figure after each call, which made a print map sheet
several seconds slower; one ``PathCollection``/``LineCollection`` per layer draws once on save.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.path import Path
from shapely.geometry.base import BaseGeometry


def polygon_paths(geoms: Iterable[BaseGeometry]) -> list[Path]:
    """One compound path per (multi)polygon; holes cut out (exterior CCW, holes CW)."""
    paths = []
    for geom in geoms:
        rings: list[Path] = []
        for part in shapely.get_parts(np.asarray([geom], dtype=object)):
            if part is None or part.is_empty or part.geom_type != "Polygon":
                continue
            part = shapely.geometry.polygon.orient(part, 1.0)
            rings.extend(Path(np.asarray(r.coords)[:, :2], closed=True)
                         for r in [part.exterior, *part.interiors])
        paths.append(Path.make_compound_path(*rings) if rings else Path(np.zeros((1, 2))))
    return paths


def add_polygons(ax: Axes, geoms: Iterable[BaseGeometry], *,
                 facecolors: str | Sequence[str] = "none", edgecolor: str = "none",
                 linewidth: float = 0.0, alpha: float | None = None, hatch: str | None = None,
                 linestyle: Any = "solid", zorder: float = 1.0) -> PathCollection:
    """Fill/outline polygons as one collection."""
    coll = PathCollection(polygon_paths(geoms), facecolors=facecolors, edgecolors=edgecolor,
                          linewidths=linewidth, alpha=alpha, hatch=hatch, linestyles=linestyle,
                          zorder=zorder)
    ax.add_collection(coll, autolim=False)
    return coll


def add_lines(ax: Axes, geoms: Iterable[BaseGeometry], *, color: str, linewidth: float,
              linestyle: Any = "solid", zorder: float = 1.0) -> LineCollection:
    """(Multi)line strings (and polygon boundaries via ``.boundary``) as one collection."""
    segments = [np.asarray(part.coords)[:, :2]
                for geom in geoms if geom is not None and not geom.is_empty
                for part in shapely.get_parts(np.asarray([geom], dtype=object))
                if len(part.coords) >= 2]
    coll = LineCollection(segments, colors=color, linewidths=linewidth, linestyles=linestyle,
                          zorder=zorder)
    ax.add_collection(coll, autolim=False)
    return coll

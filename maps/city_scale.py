"""What a care map draws at city scale, so a million-node district still opens in a browser.

Below the limits of :class:`MapScale` the map inlines everything as before. Beyond them:

* streets (and the land-use background) are one image (:mod:`maps.street_image`) instead of
  a million vector segments;
* units (the coverage choropleth and the gaps) are drawn as points at a point inside each unit,
  on a canvas, instead of tens of thousands of SVG polygons;
* dissolved catchments are simplified to :attr:`MapScale.simplify_m` (half the 10 m raster
  cell they were built on) instead of 2 m;
* inlined layers are packed (:mod:`maps.packed`: property columns, 1 m integer coordinates).

The legend says which of these applied. Exact geometry stays in ``careplan.gpkg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from maps.runtime import Lang

#: Legend notes per coarsening, per language.
NOTES: Final = {
    "zh": {"streets": "城市尺度：街道与用地绘为一张底图（约{m:.0f}米/像素）",
           "points": "城市尺度：{n}个社区/单元以点表示（位于单元内）",
           "simplified": "城市尺度：步行圈轮廓按{m:g}米简化显示；精确几何见 careplan.gpkg"},
    "en": {"streets": "City scale: streets and land use drawn as one image (about {m:.0f} m a "
                      "pixel)",
           "points": "City scale: {n} units drawn as points (inside each unit)",
           "simplified": "City scale: catchment outlines simplified to {m:g} m for display; "
                         "exact geometry in careplan.gpkg"},
}


@dataclass(frozen=True, slots=True)
class MapScale:
    """Limits beyond which the care map coarsens what it inlines.

    Attributes
    ----------
    max_street_segments
        More street segments than this: the streets are drawn as one image.
    max_unit_polygons
        More units than this: units and gaps are drawn as points.
    max_catchment_vertices
        More dissolved-catchment vertices than this: they are simplified to ``simplify_m``.
    simplify_m
        Display simplification of dissolved catchments at city scale, metres.
    """

    max_street_segments: int = 200_000
    max_unit_polygons: int = 20_000
    max_catchment_vertices: int = 500_000
    simplify_m: float = 5.0


@dataclass(frozen=True, slots=True)
class CityChoices:
    """What :func:`choose` decided for one plan."""

    street_image: bool
    unit_points: bool
    simplify_m: float | None

    @property
    def packed(self) -> bool:
        """Whether inlined layers are packed (any city-scale coarsening applies)."""
        return self.street_image or self.unit_points or self.simplify_m is not None


def choose(n_segments: int, n_units: int, catchment_vertices: int, scale: MapScale
           ) -> CityChoices:
    """Which coarsenings apply to a plan of this size."""
    return CityChoices(n_segments > scale.max_street_segments, n_units > scale.max_unit_polygons,
                       scale.simplify_m if catchment_vertices > scale.max_catchment_vertices
                       else None)


def as_points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each feature at a point inside it (``point_on_surface``); points stay."""
    points = shapely.point_on_surface(np.asarray(frame.geometry.array, dtype=object))
    return frame.set_geometry(gpd.GeoSeries(points, index=frame.index, crs=frame.crs))


def compact_values(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shares cut to 4 decimals (down, so no unit crosses a class break or the target upwards)
    and populations to 1 decimal: what a popup shows, in fewer bytes."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name or not pd.api.types.is_float_dtype(out[column].dtype):
            continue
        if "share" in str(column):
            out[column] = np.floor(out[column] * 1e4 + 1e-9) / 1e4
        elif str(column).endswith("_pop"):
            out[column] = out[column].round(1)
    return out


def notes(choices: CityChoices, lang: Lang, *, metres_per_px: float, n_units: int) -> list[str]:
    """Legend lines naming each coarsening that applied."""
    text = NOTES[lang]
    out = []
    if choices.street_image:
        out.append(text["streets"].format(m=metres_per_px))
    if choices.unit_points:
        out.append(text["points"].format(n=n_units))
    if choices.simplify_m is not None:
        out.append(text["simplified"].format(m=choices.simplify_m))
    return out

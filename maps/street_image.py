"""A city's streets and land use as one PNG image: the care map's offline background at scale.

A million street segments inlined as GeoJSON made a 76 MB page section no browser opens; drawn
into one image of at most :data:`MAX_PX` pixels a side (a few metres a pixel) the same streets
take a few megabytes and still read as a street map down to block level. The image is drawn in
Web-Mercator pixels, which Leaflet's ``imageOverlay`` stretches linearly, so every street lies
where its vector would (to a pixel).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from planner.network.coords import wgs84_to_gcj02
from planner.network.crs import unproject_xy
from planner.network.graph import WalkNetwork

#: Longest side of the background image, pixels.
MAX_PX: Final = 4096
#: Street colour and land-use fills (as the vector background's, :mod:`maps.background`).
STREET_RGB: Final = (185, 180, 170)
AREA_RGB: Final = {"water": (188, 215, 238), "green": (213, 232, 196), "built": (233, 228, 220)}
_R: Final = 6378137.0
_ToPx = Callable[[NDArray[np.float64], NDArray[np.float64]],
                 tuple[NDArray[np.float64], NDArray[np.float64]]]


@dataclass(frozen=True, slots=True)
class StreetImage:
    """A PNG data URI and the lon/lat box it covers (``south, west, north, east``)."""

    data_uri: str
    bounds: tuple[float, float, float, float]
    metres_per_px: float
    size_px: tuple[int, int]


def _mercator(lon: NDArray[np.float64], lat: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = _R * np.radians(lon)
    y = _R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


def _frame(x: NDArray[np.float64], y: NDArray[np.float64], max_px: int
           ) -> tuple[float, float, float, int, int]:
    """Origin (west, north), mercator metres per pixel, width and height of the image."""
    west, east, south, north = x.min(), x.max(), y.min(), y.max()
    pad = 0.002 * max(east - west, north - south, 1.0)
    west, east, south, north = west - pad, east + pad, south - pad, north + pad
    step = max(east - west, north - south) / max_px
    return west, north, step, max(1, int(np.ceil((east - west) / step))), \
        max(1, int(np.ceil((north - south) / step)))


def _segment_pixels(px: NDArray[np.float64], py: NDArray[np.float64], u: NDArray[np.int64],
                    v: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pixels under each segment: samples at most 0.7 px apart (vectorised)."""
    steps = np.ceil(np.hypot(px[v] - px[u], py[v] - py[u]) / 0.7).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(u)), steps)
    start = np.cumsum(steps) - steps
    t = (np.arange(len(seg)) - start[seg]) / np.maximum(steps[seg] - 1, 1)
    xs = px[u][seg] + t * (px[v][seg] - px[u][seg])
    ys = py[u][seg] + t * (py[v][seg] - py[u][seg])
    return xs.astype(np.int64), ys.astype(np.int64)


def _areas(draw: ImageDraw.ImageDraw, areas: gpd.GeoDataFrame, to_px: _ToPx,
           to_gcj02: bool) -> None:
    """Fill each background polygon's outer rings in its kind's colour (vertices projected in
    one call, one PIL call per ring)."""
    shown = areas.to_crs("EPSG:4326")
    parts, which = shapely.get_parts(np.asarray(shown.geometry.array, dtype=object),
                                     return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    rings = shapely.get_exterior_ring(parts[polygons])
    kinds = shown["kind"].astype(str).to_numpy()[which[polygons]]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    if to_gcj02:
        coords = np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1]))
    xs, ys = to_px(coords[:, 0], coords[:, 1])
    flat = np.column_stack([xs, ys]).ravel().tolist()
    ends = np.searchsorted(ring_of, np.arange(len(rings) + 1))
    for k, kind in enumerate(kinds):
        colour = AREA_RGB.get(str(kind))
        if colour is not None and ends[k + 1] - ends[k] >= 3:
            draw.polygon(flat[2 * ends[k]:2 * ends[k + 1]], fill=colour)


def street_image(network: WalkNetwork, *, areas: gpd.GeoDataFrame | None = None,
                 to_gcj02: bool = False, max_px: int = MAX_PX) -> StreetImage:
    """Draw every street segment (and the background areas under them) into one PNG.

    Parameters
    ----------
    network
        The analysed walking network (projected metres).
    areas
        Water / green / built-up polygons (``kind``, geometry), drawn under the streets.
    to_gcj02
        Shift to GCJ-02 degrees (Amap tiles).
    max_px
        Longest side of the image in pixels.

    Returns
    -------
    StreetImage
        A ``data:image/png;base64`` URI (transparent where nothing is drawn) and its bounds.
    """
    lon, lat = unproject_xy(network.x_m, network.y_m, network.crs)
    if to_gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    mx, my = _mercator(lon, lat)
    west, north, step, width, height = _frame(mx, my, max_px)

    def to_px(lo: NDArray[np.float64], la: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x, y = _mercator(lo, la)
        return (x - west) / step, (north - y) / step

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if areas is not None and len(areas):
        _areas(ImageDraw.Draw(image), areas, to_px, to_gcj02)
    pixels = np.asarray(image).copy()
    xs, ys = _segment_pixels((mx - west) / step, (north - my) / step, network.edge_u,
                             network.edge_v)
    keep = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    pixels[ys[keep], xs[keep]] = (*STREET_RGB, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").quantize(colors=8, method=Image.Quantize.FASTOCTREE).save(
        buffer, format="PNG", compress_level=6)
    south = np.degrees(2 * np.arctan(np.exp((north - height * step) / _R)) - np.pi / 2)
    top = np.degrees(2 * np.arctan(np.exp(north / _R)) - np.pi / 2)
    east = np.degrees((west + width * step) / _R)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    metres = step * np.cos(np.radians(float(np.mean(lat))))  # mercator metres -> ground metres
    return StreetImage(uri, (float(south), float(np.degrees(west / _R)), float(top), float(east)),
                       float(metres), (width, height))

"""Folium presentation of a PlanResult: the interactive care map and its GeoJSON layers."""

from __future__ import annotations

from maps.compose import build_care_map
from maps.geojson import layer_frames

__all__ = ["build_care_map", "layer_frames"]

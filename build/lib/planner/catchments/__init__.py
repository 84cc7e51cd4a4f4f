"""Catchment polygons: reached street pieces, their samples, the raster build and the polygons per
facility and dissolved per type.

Owns: :mod:`street_samples`, :mod:`raster`, :mod:`polygons`.
May import: ``planner.routing``, ``planner.network`` and the root modules.
"""

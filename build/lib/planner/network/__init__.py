"""The walking network: which OSM ways are walkable, the network build, CRS choice, snapping, and
Chinese web-map coordinate systems (GCJ-02, BD-09).

Owns: :mod:`walkable` (way filter), :mod:`graph` (``WalkNetwork``, CSR arrays), :mod:`crs`,
:mod:`coords`, :mod:`snap`. May import: ``planner.errors``, ``planner.params``, ``planner.schema``
and ``planner.warnings_log`` only (it is the lowest layer of the analysis).
"""

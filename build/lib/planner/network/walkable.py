"""Which OpenStreetMap ways an older adult can walk on (the tag filter of the walking network)."""

from __future__ import annotations

from collections.abc import Mapping

#: highway values walkable by default (walking is two-way on all of them, oneway ignored).
WALK_HIGHWAYS: frozenset[str] = frozenset(
    {
        "footway", "pedestrian", "path", "steps", "living_street", "residential", "service",
        "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
        "unclassified", "track", "road", "corridor",
    }
)
#: highway values walkable only with explicit foot access.
FOOT_ONLY_HIGHWAYS: frozenset[str] = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "cycleway", "bridleway", "busway"}
)
NEVER_HIGHWAYS: frozenset[str] = frozenset(
    {"construction", "proposed", "abandoned", "platform", "raceway", "rest_area", "services"}
)
FOOT_ALLOWED: frozenset[str] = frozenset({"yes", "designated", "permissive"})
ACCESS_DENIED: frozenset[str] = frozenset({"private", "no"})


def is_walkable(tags: Mapping[str, str]) -> bool:
    """True when a way with these tags belongs to the walking network.

    Rules: ``highway`` in :data:`WALK_HIGHWAYS`, or any highway with ``foot=yes|designated|
    permissive``; motorway/trunk (and links), cycleways and bridleways only with such foot access;
    never ``foot=no``, construction/proposed ways or ``area:highway``-only features;
    ``access=private|no`` only when ``foot`` allows it.

    Examples
    --------
    >>> is_walkable({"highway": "residential", "oneway": "yes"})
    True
    >>> is_walkable({"highway": "trunk"})
    False
    >>> is_walkable({"highway": "trunk", "foot": "yes"})
    True
    >>> is_walkable({"highway": "service", "access": "private"})
    False
    """
    highway = tags.get("highway")
    if highway is None or highway in NEVER_HIGHWAYS:
        return False
    foot = tags.get("foot")
    if foot == "no":
        return False
    foot_ok = foot in FOOT_ALLOWED
    if tags.get("access") in ACCESS_DENIED and not foot_ok:
        return False
    if highway in FOOT_ONLY_HIGHWAYS:
        return foot_ok
    return highway in WALK_HIGHWAYS or foot_ok

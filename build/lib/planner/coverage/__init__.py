"""Who is covered: demand points, nearest times and covered flags, unit coverage, gaps, roll-up
along the administrative hierarchy, E2SFCA access and supply ratios, co-location with health care.

Owns: :mod:`demand`, :mod:`measure`, :mod:`gaps`, :mod:`hierarchy`, :mod:`access`, :mod:`supply`,
:mod:`colocation`. May import: ``planner.routing``, ``planner.network`` and the root modules.
"""

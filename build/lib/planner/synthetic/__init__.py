"""The deterministic synthetic demo district (示范区; fictional, labelled synthetic everywhere).

Owns: :mod:`district` (entry point) and its parts (lattice, streets, blocks, compounds, villages,
units, facilities, names). May import: ``planner.network`` and the root modules.
"""

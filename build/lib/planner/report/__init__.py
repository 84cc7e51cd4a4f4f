"""Report tables (indicators, coverage, ranked gaps with actions, register, sites) and their
Chinese/English labels; no rendering and no I/O.

Owns: :mod:`tables`, :mod:`text`. May import: ``planner.compliance`` and everything below it.
"""

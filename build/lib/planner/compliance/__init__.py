"""Rule profiles of the plans and their evaluation: per-unit pass/fail and the indicator table.

Owns: :mod:`rules` (profile validation), :mod:`evaluate` (entry point), :mod:`context`,
:mod:`coverage`, :mod:`provision`, :mod:`capacity`, :mod:`text`.
May import: ``planner.coverage``, ``planner.routing``, ``planner.network`` and the root modules.
"""

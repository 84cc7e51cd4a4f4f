"""Shortest walking times on the network: nearest-facility times, bounded per-facility searches
(cover times, shared by siting and E2SFCA), incremental what-if updates, forked workers.

Owns: :mod:`travel`, :mod:`cover_times`, :mod:`nearest_update`, :mod:`forkpool`.
May import: ``planner.network`` and the root modules (errors, params, schema).
"""

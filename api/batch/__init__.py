"""`careplan batch`: many regions on Dask distributed (orchestration and files; the logic is in
planner.batch)."""

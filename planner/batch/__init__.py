"""Batch runs over many regions: halo geometry, region ownership and merging (pure, no I/O)."""

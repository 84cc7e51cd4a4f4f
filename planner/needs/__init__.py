"""Needs view: coverage computed on the people of an older-adult register (protected)."""

"""The only part of planner that touches disk or the network."""

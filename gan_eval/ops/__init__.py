"""Shared numerics used by several metrics."""

"""Renderers: turn file results into diffs, text, JSON and SARIF. Pure functions."""

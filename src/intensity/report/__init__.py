"""Rendering: rich tables for the terminal (plots and the HTML report build on these)."""

"""Typer CLI ``objx-edge``: one module per command; parsing and printing only, no logic."""

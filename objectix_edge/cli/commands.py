"""Registers every command module on the app (one line each, so commands stay independent)."""

from objectix_edge.cli import info
from objectix_edge.cli.app import app

app.command("info")(info.info)

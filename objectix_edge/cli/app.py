"""The ``objx-edge`` Typer app: global options, error handling, and command registration."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup

from objectix_edge.cli.console import install_note_handler, print_error
from objectix_edge.errors import ObjxError

_state = {"debug": os.environ.get("OBJX_DEBUG", "") not in ("", "0")}


class ObjxGroup(TyperGroup):
    """Turns library errors into one red line and exit code 1 (a traceback only with --debug)."""

    # ctx is click's Context, which typer vendors under a private module (typer._click) with no public name.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ObjxError as exc:
            if _state["debug"]:
                raise
            print_error(str(exc))
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=ObjxGroup,
    name="objx-edge",
    help="Take vision models from PyTorch to an edge camera: train, export, calibrate, build, run, prove parity.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    """Global options."""
    install_note_handler()
    if debug:
        _state["debug"] = True


def _register() -> None:
    # commands.py registers each command on ``app`` (it imports this module), so it is imported once the
    # app exists. Command modules import only light modules at start-up (docs/architecture.md).
    from objectix_edge.cli import commands  # noqa: F401


_register()


def main() -> None:
    app()

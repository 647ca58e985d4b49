"""``objx-edge info``: versions of the stack and the accelerators this machine offers."""

from __future__ import annotations

import typer
from rich.table import Table

from objectix_edge.bench.env import stack_info
from objectix_edge.cli.console import console


def info() -> None:
    """Print versions of Python, torch, ONNX Runtime (+ execution providers), OpenCV, TensorRT and CUDA devices.

    Example: objx-edge info
    """

    table = Table(title="objectix-edge environment", show_header=False)
    for key, value in stack_info().items():
        table.add_row(key, value)
    console.print(table)
    raise typer.Exit(0)

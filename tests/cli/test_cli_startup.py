"""The CLI starts light: registering every command loads none of torch, torchvision, onnx, onnxruntime,
TensorRT or matplotlib.

Option defaults come from light configuration modules (docs/architecture.md); the heavy library is imported
inside a command when it runs, so ``objx-edge --help`` and shell completion stay quick.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "torchvision", "onnx", "onnxruntime", "tensorrt", "matplotlib")


def test_registering_every_command_loads_no_heavy_library() -> None:
    code = f"import sys\nimport objectix_edge.cli.commands\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""

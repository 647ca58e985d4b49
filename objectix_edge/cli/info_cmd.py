"""``objx-edge info``: versions of the stack and the accelerators this machine offers."""

from __future__ import annotations

import importlib
import platform

import typer
from rich.table import Table

from objectix_edge.cli.console import console


def _version(module: str) -> str:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return "not installed"
    except OSError as exc:  # a wheel whose native libraries are missing (e.g. tensorrt stubs)
        return f"unusable ({exc})"
    return str(getattr(mod, "__version__", "unknown"))


def collect_info() -> dict[str, str]:
    """Versions of Python and the libraries, ONNX Runtime providers and CUDA devices."""
    info = {"python": platform.python_version(), "platform": platform.platform()}
    for name, module in [
        ("objectix-edge", "objectix_edge"),
        ("torch", "torch"),
        ("torchvision", "torchvision"),
        ("onnx", "onnx"),
        ("onnxruntime", "onnxruntime"),
        ("opencv", "cv2"),
        ("numpy", "numpy"),
        ("tensorrt", "tensorrt"),
    ]:
        info[name] = _version(module)
    try:
        import onnxruntime

        info["onnxruntime providers"] = ", ".join(onnxruntime.get_available_providers())
    except ImportError:
        pass
    import torch

    if torch.cuda.is_available():
        devices = [
            f"{i}: {torch.cuda.get_device_name(i)} (sm_{''.join(map(str, torch.cuda.get_device_capability(i)))})"
            for i in range(torch.cuda.device_count())
        ]
        info["cuda devices"] = "; ".join(devices)
    else:
        info["cuda devices"] = "none"
    info["torch cuda build"] = str(torch.version.cuda or "cpu-only")
    return info


def info() -> None:
    """Print versions of Python, torch, ONNX Runtime (+ execution providers), OpenCV, TensorRT and CUDA devices.

    Example: objx-edge info
    """
    table = Table(title="objectix-edge environment", show_header=False)
    for key, value in collect_info().items():
        table.add_row(key, value)
    console.print(table)
    raise typer.Exit(0)

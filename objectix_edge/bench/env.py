"""The environment block of a benchmark: CPU model, cores and vector ISA, GPU and driver, library versions.

Numbers without the machine they came from cannot be compared, so every bench and deploy report
carries this block.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from objectix_edge.cpu_isa import host_isa, vector_isa

LIBRARIES = (
    ("objectix-edge", "objectix_edge"),
    ("python", None),
    ("torch", "torch"),
    ("onnx", "onnx"),
    ("onnxruntime", "onnxruntime"),
    ("tensorrt", "tensorrt"),
    ("opencv", "cv2"),
    ("numpy", "numpy"),
)


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _usable_cores() -> int:
    # The affinity mask, not the host's core count: containers often see fewer cores than exist.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _version(module: str) -> str:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return "not installed"
    except OSError as exc:  # a wheel whose native libraries are missing
        return f"unusable ({exc.__class__.__name__})"
    return str(getattr(mod, "__version__", "unknown"))


def library_versions() -> dict[str, str]:
    return {name: platform.python_version() if module is None else _version(module) for name, module in LIBRARIES}


def _nvidia_driver() -> str | None:
    """Driver version from nvidia-smi, or None where it is not installed."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if lines else None


def gpu_info() -> list[dict[str, Any]]:
    """One entry per CUDA device torch sees (name, compute capability, memory, driver, CUDA runtime)."""
    import torch

    if not torch.cuda.is_available():
        return []
    driver = _nvidia_driver()
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        gpus.append(
            {
                "index": index,
                "name": props.name,
                "compute_capability": f"{props.major}.{props.minor}",
                "memory_gib": round(props.total_memory / 2**30, 1),
                "driver": driver or "unknown",
                "cuda_runtime": torch.version.cuda or "unknown",
            }
        )
    return gpus


def ort_providers() -> list[str]:
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def collect_environment() -> dict[str, Any]:
    """Everything a reader needs to place the numbers: machine, threads, accelerators, versions."""
    import torch

    return {
        "cpu": {
            "model": cpu_model(),
            "logical_cores": os.cpu_count() or 1,
            "usable_cores": _usable_cores(),
            "machine": platform.machine(),
            # INT8 speed and ONNX Runtime's integer kernels depend on it (cpu_isa.py).
            "vector_isa": vector_isa(),
            "isa_class": host_isa().value,
        },
        "os": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "gpus": gpu_info(),
        "onnxruntime_providers": ort_providers(),
        "libraries": library_versions(),
    }


def environment_lines(env: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for a table or a Markdown list."""
    cpu = env["cpu"]
    gpus = env["gpus"]
    gpu_text = (
        "; ".join(
            f"{g['name']} (sm {g['compute_capability']}, {g['memory_gib']} GiB, driver {g['driver']}, "
            f"CUDA {g['cuda_runtime']})"
            for g in gpus
        )
        or "none"
    )
    rows = [
        ("CPU", f"{cpu['model']} ({cpu['usable_cores']} usable of {cpu['logical_cores']} logical cores)"),
        ("CPU ISA", f"{cpu.get('vector_isa', 'unknown')} (INT8 class {cpu.get('isa_class', 'unknown')})"),
        ("OS", env["os"]),
        ("torch threads", str(env["torch_threads"])),
        ("GPU", gpu_text),
        ("ONNX Runtime providers", ", ".join(env["onnxruntime_providers"]) or "none"),
    ]
    rows += [(name, version) for name, version in env["libraries"].items()]
    return rows


def _version_detail(module: str) -> str:
    """A module's version; why not, when it cannot be imported (the OSError's own words)."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return "not installed"
    except OSError as exc:  # a wheel whose native libraries are missing (e.g. tensorrt stubs)
        return f"unusable ({exc})"
    return str(getattr(mod, "__version__", "unknown"))


def stack_info() -> dict[str, str]:
    """``objx-edge info``: versions of Python and the libraries, ONNX Runtime providers and CUDA devices."""
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
        info[name] = _version_detail(module)
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

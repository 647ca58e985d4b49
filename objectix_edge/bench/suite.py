"""A benchmark run: every artifact × backend × batch, plus the PyTorch FP32 eager baseline of each model.

The baseline is measured in the same run on the same device and threads, so the speedup column is a
ratio of two numbers taken minutes apart on one machine. Its weights come from ``reference`` (or a
``.pt`` artifact in the list) when one matches the model; otherwise the baseline is the same
architecture with random weights, which times the same and is labelled so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from objectix_edge.bench.env import collect_environment
from objectix_edge.bench.harness import Timing, measure
from objectix_edge.bench.suite_config import SuiteConfig
from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import InputError
from objectix_edge.export.metadata import read_onnx_spec
from objectix_edge.models.checkpoint import load_checkpoint, model_from_spec, read_checkpoint_payload
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import backend_for, open_runner
from objectix_edge.runtime.torch_runner import TorchRunner
from objectix_edge.spec import ModelSpec

BASELINE_LABEL = "pytorch-fp32-eager"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Row:
    """One timed (runner, batch): identity, timing, and speedup over the model's baseline at that batch."""

    label: str
    artifact: str
    model: str
    model_key: str
    backend: str
    precision: str
    device: str
    timing: Timing
    int8_kernels: str = ""  # how ONNX Runtime ran an INT8 file here (runtime/int8_kernels.py), else ""
    is_baseline: bool = False
    baseline_weights: str = ""
    speedup: float | None = None


@dataclass
class SuiteResult:
    rows: list[Row]
    environment: dict[str, Any]
    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    accuracy: list[dict[str, Any]] = field(default_factory=list)


def model_key(spec: ModelSpec) -> str:
    """Identity of an architecture (what the baseline must match): name, input size, kwargs, classes."""
    kwargs = json.dumps(dict(spec.model_kwargs), sort_keys=True, default=str)
    return f"{spec.name}@{spec.input_size[0]}x{spec.input_size[1]}/{spec.num_classes}c/{kwargs}"


def combinations(config: SuiteConfig) -> tuple[list[tuple[Path, Backend | None]], list[str]]:
    """(artifact, backend) pairs to run, and notes for the pairs that cannot run."""
    pairs: list[tuple[Path, Backend | None]] = []
    notes: list[str] = []
    for path in config.artifacts:
        if not path.is_file():
            raise InputError(f"{path}: artifact not found; give a .pt checkpoint, an .onnx file or an .engine")
        kind = backend_for(path)
        if kind == Backend.TENSORRT and not config.device.startswith(("cuda", "tensorrt")):
            raise InputError(
                f"{path}: a TensorRT engine runs on a CUDA GPU, and its speedup must be taken against PyTorch on "
                "that GPU; pass --device cuda"
            )
        if not config.backends:
            pairs.append((path, None))
        elif kind in config.backends:
            pairs.append((path, kind))
        else:
            notes.append(
                f"skipped {path.name}: a {path.suffix} file runs on {kind.value}, not on the backends asked for"
            )
    if not pairs:
        raise InputError("no artifact can run on the backends asked for; drop --backend or add matching artifacts")
    return pairs, notes


def torch_device(device: str) -> str:
    """The torch device of a bench device: ``tensorrt:N`` (ONNX Runtime's TensorRT provider) is ``cuda:N``."""
    kind, sep, index = device.partition(":")
    return f"cuda{sep}{index}" if kind == "tensorrt" else device


def open_artifact(path: Path, backend: Backend | None, config: SuiteConfig, judge: bool = False) -> Runner:
    """``judge``: for accuracy records (an INT8 file runs as its target computes it), not for timing."""
    if backend_for(path) == Backend.TORCH:
        return open_runner(
            path,
            backend=backend,
            device=torch_device(config.device),
            precision=config.torch_precision,
            cuda_graph=config.cuda_graph,
        )
    return open_runner(path, backend=backend, device=config.device, threads=config.threads, judge=judge)


def _baseline_runner(spec: ModelSpec, config: SuiteConfig, checkpoints: dict[str, Path]) -> tuple[Runner, str]:
    """PyTorch FP32 eager runner for ``spec``'s model, with real weights when a matching checkpoint exists."""

    device = torch_device(config.device)
    ckpt = checkpoints.get(model_key(spec))
    if ckpt is not None:
        loaded = load_checkpoint(ckpt)
        return TorchRunner(loaded.model, loaded.spec, path=ckpt, device=device), str(ckpt)
    return TorchRunner(model_from_spec(spec).eval(), spec, device=device), "random (same architecture)"


def reference_checkpoints(config: SuiteConfig) -> dict[str, Path]:
    """model_key → checkpoint, from --reference and from the .pt artifacts in the list."""

    candidates = ([config.reference] if config.reference else []) + [
        p for p in config.artifacts if backend_for(p) == Backend.TORCH
    ]
    found: dict[str, Path] = {}
    for path in candidates:
        spec = ModelSpec.from_dict(read_checkpoint_payload(path)["spec"], source=str(path))
        found.setdefault(model_key(spec), path)
    if config.reference is not None:
        _check_reference(config.reference, found, config.artifacts)
    return found


def _check_reference(reference: Path, found: dict[str, Path], artifacts: tuple[Path, ...]) -> None:
    """Refuse a ``--reference`` no artifact came from (another task or architecture): it would be ignored."""

    ref_key = next(key for key, path in found.items() if path == reference) if reference in found.values() else None
    keys = set()
    for path in artifacts:
        kind = backend_for(path)
        if kind == Backend.TENSORRT:
            return  # an engine's spec needs TensorRT to read; nothing to compare it with here
        data = read_checkpoint_payload(path)["spec"] if kind == Backend.TORCH else None
        spec = ModelSpec.from_dict(data, str(path)) if data is not None else read_onnx_spec(path)
        keys.add(model_key(spec))
    if ref_key is not None and ref_key not in keys:
        ref = ModelSpec.from_dict(read_checkpoint_payload(reference)["spec"], source=str(reference))
        raise InputError(
            f"{reference}: --reference is a {ref.name} ({ref.task.value}) checkpoint, but no artifact was made from it; "
            "give the checkpoint the artifacts came from, or drop --reference"
        )


def _label(runner: Runner, path: Path | None, config: SuiteConfig) -> str:
    name = path.name if path is not None else BASELINE_LABEL
    graph = "+cuda-graph" if path is not None and config.cuda_graph and runner.backend == Backend.TORCH else ""
    kernels = _int8_kernels(runner)
    return f"{name} [{runner.backend.value}/{runner.precision.value}{graph}{' ' + kernels if kernels else ''}]"


def _int8_kernels(runner: Runner) -> str:
    kernels = runner.capabilities.int8_kernels
    return kernels.value if kernels is not None else ""


def _time_all(runner: Runner, config: SuiteConfig, progress: Progress | None, **row: Any) -> list[Row]:
    rows = []
    for batch in config.bench.batches:
        if progress:
            progress(f"timing {row['label']} at batch {batch}")
        timing = measure(runner, batch, config.bench)
        rows.append(
            Row(
                timing=timing,
                backend=runner.backend.value,
                precision=runner.precision.value,
                device=runner.device,
                int8_kernels=_int8_kernels(runner),
                **row,
            )
        )
    return rows


def _is_natural_baseline(runner: Runner, path: Path, config: SuiteConfig) -> bool:
    """A .pt artifact run eagerly in FP32 is the baseline itself (with its real weights)."""
    return backend_for(path) == Backend.TORCH and runner.precision == Precision.FP32 and not config.cuda_graph


def _with_speedups(rows: list[Row]) -> list[Row]:
    base = {(r.model_key, r.timing.batch): r.timing.latency.mean for r in rows if r.is_baseline}
    out = []
    for r in rows:
        ref = base.get((r.model_key, r.timing.batch))
        speedup = ref / r.timing.latency.mean if ref is not None and r.timing.latency.mean > 0 else None
        out.append(Row(**{**r.__dict__, "speedup": speedup}))
    return out


def run_suite(config: SuiteConfig, progress: Progress | None = None) -> SuiteResult:
    """Time every combination; add one baseline per model unless an artifact already is it."""
    import torch

    pairs, notes = combinations(config)
    checkpoints = reference_checkpoints(config)
    previous_threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)  # the torch baseline gets the same threads as the artifacts
    try:
        rows: list[Row] = []
        specs: dict[str, ModelSpec] = {}
        for path, backend in pairs:
            with open_artifact(path, backend, config) as runner:
                key = model_key(runner.spec)
                specs.setdefault(key, runner.spec)
                natural = _is_natural_baseline(runner, path, config)
                rows += _time_all(
                    runner,
                    config,
                    progress,
                    label=_label(runner, path, config),
                    artifact=str(path),
                    model=runner.spec.name,
                    model_key=key,
                    is_baseline=natural,
                    baseline_weights=str(path) if natural else "",
                )
        if config.baseline:
            have = {r.model_key for r in rows if r.is_baseline}
            for key, spec in specs.items():
                if key in have:
                    continue
                runner, weights = _baseline_runner(spec, config, checkpoints)
                with runner:
                    rows += _time_all(
                        runner,
                        config,
                        progress,
                        label=_label(runner, None, config),
                        artifact=weights,
                        model=spec.name,
                        model_key=key,
                        is_baseline=True,
                        baseline_weights=weights,
                    )
    finally:
        torch.set_num_threads(previous_threads)
    return SuiteResult(
        rows=_with_speedups(rows), environment=collect_environment(), config=suite_config_dict(config), notes=notes
    )


def suite_config_dict(config: SuiteConfig) -> dict[str, Any]:
    b = config.bench
    return {
        "artifacts": [str(p) for p in config.artifacts],
        "backends": [x.value for x in config.backends] or ["auto"],
        "device": config.device,
        "threads": config.threads,
        "reference": str(config.reference) if config.reference else None,
        "batches": list(b.batches),
        "warmup": b.warmup,
        "iters": b.iters,
        "seconds": b.seconds,
        "seed": b.seed,
        "torch_precision": config.torch_precision.value,
        "cuda_graph": config.cuda_graph,
    }

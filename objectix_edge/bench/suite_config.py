"""What a benchmark suite is asked to time: artifacts, backends, device, baseline. Plain data, light to import (the CLI reads its defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from objectix_edge.bench.harness import BenchConfig
from objectix_edge.enums import Backend, Precision


@dataclass(frozen=True)
class SuiteConfig:
    """What to benchmark and where. ``backends`` empty means each artifact's natural backend."""

    artifacts: tuple[Path, ...]
    bench: BenchConfig = field(default_factory=BenchConfig)
    backends: tuple[Backend, ...] = ()
    device: str = "cpu"
    threads: int | None = None
    reference: Path | None = None
    baseline: bool = True
    torch_precision: Precision = Precision.FP32  # for .pt artifacts (fp16 needs CUDA)
    cuda_graph: bool = False  # for .pt artifacts on CUDA: replay a captured graph

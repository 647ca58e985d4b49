"""What one run is asked to do (source options aside): models, outputs, cascade, loop, shadow and health settings.

Plain data, light to import: the CLI's options read their defaults from it at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from objectix_edge.cascade.frame_cascade import CascadeConfig
from objectix_edge.errors import InputError
from objectix_edge.serve.shadow import ShadowConfig
from objectix_edge.stream.frame_loop import LoopConfig
from objectix_edge.stream.health import HealthConfig

# Measured with benchmarks/run_fps.py (README, "End-to-end camera loop"): every 10 frames keeps the INT8
# cascade near the detector's own rate while a label is at most a third of a second old at 30 FPS.
DEFAULT_RECLASSIFY_EVERY = 10


@dataclass(frozen=True)
class RunConfig:
    """Models, outputs and limits of one run (the source is passed separately: it is a live object).

    ``threads``: intra-op threads of the detector; ``classifier_threads``: of the classifier (None: the
    same), so two ONNX Runtime sessions running side by side need not oversubscribe the cores.
    ``segment_s``: write ``--save`` video in closed segments of this many seconds; None: LIVE_SEGMENT_S on
    live sources (a camera loop runs for days: a crash loses at most one segment), one file otherwise;
    0: one file always. ``overwrite``: replace a previous run's outputs (else they are refused, and
    segments continue its numbering).
    """

    detector: Path
    classifier: Path | None = None
    show: bool = False
    save: Path | None = None
    jsonl: Path | None = None
    cascade: CascadeConfig = CascadeConfig()
    loop: LoopConfig = LoopConfig()
    device: str = "cpu"
    threads: int | None = None
    classifier_threads: int | None = None
    segment_s: float | None = None
    overwrite: bool = False
    shadow: Path | None = None  # the original (or any second detector) re-checking every shadow_every-th frame
    shadow_every: int = ShadowConfig.every
    frozen_s: float = HealthConfig.frozen_s  # warn when the picture has not changed for this long

    def __post_init__(self) -> None:
        if self.segment_s is not None and self.segment_s < 0:
            raise InputError(f"--segment-seconds must be positive (or 0 for one file), got {self.segment_s}")

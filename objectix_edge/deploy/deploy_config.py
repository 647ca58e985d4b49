"""Typed configuration of one deployment run (the CLI fills it; the steps read it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from objectix_edge.cpu_isa import CpuIsa
from objectix_edge.errors import InputError


@dataclass(frozen=True)
class DeployConfig:
    """Checkpoint → artifacts in ``out``, measured on the COCO set ``data`` / ``ann``.

    ``max_drop`` (points of mAP / top-1) turns on accuracy-budgeted INT8: the most sensitive layers stay
    FP32 until the drop is within it, or the INT8 step fails (the calibration step owns the budget's
    checks, so an impossible one is reported by that step). ``calib_images`` images calibrate; the
    budget and parity are measured on the others (the calibration never sees them).
    """

    checkpoint: Path
    data: Path | None
    ann: Path | None
    out: Path
    max_drop: float | None = None
    calib_images: int = 32
    parity_images: int = 50
    batches: tuple[int, ...] = (1, 4)
    warmup: int = 3
    iters: int = 20
    device: str = "cpu"
    threads: int | None = None
    seed: int = 0
    cpu_isa: CpuIsa | None = None  # the CPU ISA class of the int8cpu file (None: this machine's)
    # Your own footage instead of a labelled set: calibrate on its frames, judge agreement on its held-out end.
    video: Path | None = None
    detector: Path | None = None  # footage + ROI classifier: the detector whose boxes it classifies

    def validate(self) -> None:
        if not self.checkpoint.is_file():
            raise InputError(f"{self.checkpoint}: checkpoint not found; train one with objx-edge train")
        if self.video is not None:
            if not (self.video.is_file() or self.video.is_dir()):
                raise InputError(f"{self.video}: footage not found; give a video file or a frame folder with --video")
            if self.max_drop is not None:
                raise InputError(
                    "--max-drop bounds the metric's drop, which needs labels; on --video footage deploy judges "
                    "agreement only: drop --max-drop or pass --data and --ann"
                )
        elif self.data is None or not self.data.is_dir():
            raise InputError(f"{self.data}: image folder not found; give the COCO images folder with --data")
        elif self.ann is None or not self.ann.is_file():
            raise InputError(f"{self.ann}: annotations JSON not found; give the COCO instances JSON with --ann")
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"{self.out}: exists and is not a folder; choose another --out")
        if self.parity_images < 1:
            raise InputError(f"--parity-images must be >= 1, got {self.parity_images}")
        if self.calib_images < 1:
            raise InputError(f"--calib-images must be >= 1, got {self.calib_images}")

"""What the demo is asked to do: sizes, epochs, images and threads. Plain data, light to import (the CLI reads its defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from objectix_edge.errors import InputError


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo: images, epochs, video length; defaults fit ≈ 3-5 minutes on two CPU cores."""

    out: Path
    train_images: int = 96
    # Held-out images decide the INT8 verdicts (synthetic images are cheap): the INT8 limit is 1 % of the
    # detector's mAP (about 0.6 points); at 320 held-out images its paired 95 % interval still crossed it (measured).
    val_images: int = 512
    calib_images: int = 32
    det_epochs: int = 60
    cls_epochs: int = 15
    imgsz: int = 128
    cls_imgsz: int = 64
    video_frames: int = 40
    max_drop: float = 1.0
    # One intra-op thread: these tiny models gain little from more, and on a busy 2-core machine two
    # OpenMP threads made training 5x slower (measured: 57 s vs 280 s for the detector).
    threads: int | None = 1
    seed: int = 0

    def validate(self) -> None:
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"{self.out}: exists and is not a folder; choose another --out")
        if self.train_images < 8 or self.val_images < 8:
            raise InputError("the demo needs at least 8 training and 8 validation images")
        if not 1 <= self.calib_images <= self.val_images // 2:
            raise InputError(f"the demo calibrates on 1 to half of its {self.val_images} validation images")
        if self.video_frames < 1:
            raise InputError(f"--frames must be at least 1, got {self.video_frames}")

"""What parity is asked to judge: labelled images (ParityConfig) or the user's footage (FootageParityConfig).

Plain data, light to import: the CLI's options read their defaults from these dataclasses at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from objectix_edge.eval.budgets import Budget
from objectix_edge.eval.evidence import BootstrapConfig
from objectix_edge.eval.inference import DEFAULT_CONF
from objectix_edge.modelio.postprocess import AGREEMENT_CONF


@dataclass(frozen=True)
class ParityConfig:
    """What to compare on: images (folder + COCO JSON), how many, batch size, device, budget override."""

    images_dir: Path
    ann_file: Path
    max_images: int | None = 50
    batch: int = 4
    device: str = "cpu"
    threads: int | None = None
    iou_threshold: float = 0.5
    # Detections at or below this score are not matched: the tail of a trained heatmap is background
    # cells whose scores tie to the ulp, so which of them fill the last rows is arbitrary.
    conf: float = DEFAULT_CONF
    budget: Budget | None = None
    bootstrap: BootstrapConfig = BootstrapConfig()


@dataclass(frozen=True)
class FootageParityConfig:
    """Which frames of which footage, and how an ROI classifier gets its boxes (``detector``)."""

    footage: Path
    frames: tuple[int, int] | None = None  # [start, stop); None: the held-out stretch, or all of it
    every: int = 1
    max_frames: int | None = 300
    batch: int = 4
    device: str = "cpu"
    threads: int | None = None
    iou_threshold: float = 0.5
    conf: float = DEFAULT_CONF
    detector: Path | None = None  # classifiers: ROIs are this detector's boxes on the frames
    roi_conf: float = AGREEMENT_CONF
    rois_per_frame: int = 8
    budget: Budget | None = None
    bootstrap: BootstrapConfig = BootstrapConfig()

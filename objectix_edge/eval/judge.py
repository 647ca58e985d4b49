"""Which parity ``objx-edge parity`` runs: on labelled COCO images, or on footage without labels (agreement only).

The command parses its options and calls :func:`judge_parity`; the choice and its refusal live here.
"""

from __future__ import annotations

from pathlib import Path

from objectix_edge.errors import InputError
from objectix_edge.eval.footage_parity import frame_range, run_footage_parity
from objectix_edge.eval.parity import run_parity
from objectix_edge.eval.parity_config import FootageParityConfig, ParityConfig
from objectix_edge.eval.parity_report import ParityReport


def judge_parity(
    artifact: Path,
    reference: Path,
    *,
    data: Path | None,
    ann: Path | None,
    video: Path | None,
    images: Path | None,
    frames: str | None,
    every: int,
    max_frames: int | None,
    max_images: int | None,
    batch: int,
    device: str,
    detector: Path | None = None,
) -> ParityReport:
    """``artifact`` against ``reference``: on ``video`` (or a frame folder ``images`` without ``ann``) by
    agreement over ``frames`` (``START:STOP``; None: the stretch calibration held out), else on the labelled
    images ``data`` + ``ann``."""
    footage = video if video is not None else images if ann is None else None
    if footage is not None:
        config = FootageParityConfig(footage, frame_range(frames), every, max_frames, batch, device, detector=detector)
        return run_footage_parity(artifact, reference, config)

    if data is None or ann is None:
        raise InputError(
            "say what to judge on: --data COCO_IMAGES --ann JSON, or your footage: --video F / --images DIR"
        )
    labelled = ParityConfig(images_dir=data, ann_file=ann, max_images=max_images, batch=batch, device=device)
    return run_parity(artifact, reference, labelled)

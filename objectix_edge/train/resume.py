"""``train --resume`` continues one run exactly, so it may not change what that run computed.

The checkpoint records the configuration it was trained with; a flag given at resume that differs in
a setting the weights, the data order or the learning-rate schedule depend on is refused (one line
naming each flag, its value and the checkpoint's), instead of being silently used or ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from objectix_edge.errors import InputError
from objectix_edge.train.train_config import TrainConfig

# TrainConfig field → the flag that sets it; each one changes what the resumed steps compute.
EXACT_FLAGS = {
    "batch": "--batch",
    "lr": "--lr",
    "weight_decay": "--weight-decay",
    "imgsz": "--imgsz",
    "model_kwargs": "--model-arg/--head",
    "categories": "--categories",
    "schedule": "--schedule",
    "warmup_steps": "--warmup",
    "epochs": "--epochs",  # the cosine schedule spans all epochs
    "seed": "--seed",
    "freeze_until": "--freeze-until",
    "crop_scale": "--crop-scale",
}


def check_resume_config(cfg: TrainConfig, recorded: dict[str, Any] | None, checkpoint: Path) -> None:
    """Raise InputError listing every exactness-relevant flag of ``cfg`` that differs from ``recorded``
    (the checkpoint's ``train_state["config"]``; checkpoints without one are not checked)."""
    if not recorded:
        return
    now = cfg.to_dict()
    fields = [f for f in EXACT_FLAGS if not (f == "epochs" and now.get("schedule") == "plateau")]
    diffs = [
        f"{EXACT_FLAGS[f]} {now.get(f)!r} (the checkpoint's: {recorded[f]!r})"
        for f in fields
        if f in recorded and now.get(f) != recorded[f]
    ]
    if diffs:
        raise InputError(
            f"{checkpoint}: --resume continues its run exactly, but {'; '.join(diffs)} differ; "
            "pass the checkpoint's values, or train anew without --resume"
        )

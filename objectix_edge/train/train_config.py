"""Typed training configuration (one frozen dataclass; the CLI fills it, the loop reads it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from objectix_edge.spec import FrozenKwargs


class Schedule(str, Enum):
    COSINE = "cosine"
    PLATEAU = "plateau"


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs. ``model_kwargs`` go to ``create_model`` (e.g. width_mult)."""

    model: str
    data: Path
    ann: Path
    out: Path
    val_data: Path | None = None
    val_ann: Path | None = None
    epochs: int = 10
    batch: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    imgsz: int | None = None
    categories: tuple[str, ...] | None = None
    model_kwargs: Mapping[str, Any] = field(default_factory=FrozenKwargs)
    schedule: Schedule = Schedule.COSINE
    warmup_steps: int = 0
    save_every: int = 0  # steps; 0 = only at epoch ends
    keep_last: int = 3  # step checkpoints kept (newest first); 0 = keep all
    patience: int = 0  # epochs without validation improvement before stopping; 0 = never
    resume: Path | None = None
    seed: int = 0
    workers: int = 0
    device: str = "auto"
    freeze_until: str | None = None
    pretrained: Path | None = None
    crop_scale: float = 0.08  # classify: smallest area fraction of the random resized crop (torchvision's 0.08)
    init_from: Path | None = None  # an objectix-edge checkpoint (e.g. from objx-edge import) to fine-tune
    grad_clip: float = 10.0
    progress: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.model_kwargs, FrozenKwargs):  # frozen means frozen, as in ModelSpec
            object.__setattr__(self, "model_kwargs", FrozenKwargs(self.model_kwargs))

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, so it can ride inside a weights_only checkpoint."""
        out = {}
        for key, value in asdict(self).items():
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, Enum):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, FrozenKwargs):
                value = value.to_dict()
            out[key] = value
        return out

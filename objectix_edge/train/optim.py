"""Optimizer parameter groups and the learning-rate schedule of a training run."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from objectix_edge.train.train_config import Schedule, TrainConfig

MIN_LR_RATIO = 0.01


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: weights decay, BatchNorm parameters and biases do not."""
    # No decay on BatchNorm and biases: shrinking them only fights normalisation.
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
    """Per-step linear warmup then cosine to MIN_LR_RATIO of the base rate, or per-epoch plateau halving."""
    if cfg.schedule == Schedule.PLATEAU:
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)
    warmup = max(0, cfg.warmup_steps)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return MIN_LR_RATIO + (1 - MIN_LR_RATIO) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

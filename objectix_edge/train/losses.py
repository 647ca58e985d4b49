"""Losses: CenterNet penalty-reduced focal loss + L1 box terms; cross-entropy for the ROI classifier."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def focal_loss(logits: Tensor, target: Tensor, alpha: float = 2.0, beta: float = 4.0) -> Tensor:
    """CenterNet focal loss on heatmap logits, normalised by the number of object centres.

    Log-probabilities come from logsigmoid so FP16/AMP stays finite without clamping probabilities.
    """
    logits, target = logits.float(), target.float()
    prob = torch.sigmoid(logits)
    pos = target.eq(1).float()
    pos_loss = F.logsigmoid(logits) * (1 - prob).pow(alpha) * pos
    neg_loss = F.logsigmoid(-logits) * prob.pow(alpha) * (1 - target).pow(beta) * (1 - pos)
    num_pos = pos.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / num_pos


def gathered_l1(pred: Tensor, index: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """L1 between ``pred[B, 2, H, W]`` at flat ``index[B, M]`` and ``target[B, M, 2]`` where ``mask``."""
    b, c = pred.shape[:2]
    flat = pred.float().reshape(b, c, -1)
    picked = flat.gather(2, index.unsqueeze(1).expand(b, c, index.shape[1])).permute(0, 2, 1)
    m = mask.unsqueeze(-1)
    return (torch.abs(picked - target) * m).sum() / (m.sum() * c).clamp(min=1.0)


def centernet_loss(
    raw: dict[str, Tensor], batch: dict[str, Tensor], size_weight: float = 1.0, offset_weight: float = 1.0
) -> tuple[Tensor, dict[str, float]]:
    """Total detector loss and its parts (for logging)."""
    heat = focal_loss(raw["heatmap"], batch["heatmap"])
    size = gathered_l1(raw["size"], batch["index"], batch["size"], batch["mask"])
    offset = gathered_l1(raw["offset"], batch["index"], batch["offset"], batch["mask"])
    total = heat + size_weight * size + offset_weight * offset
    return total, {"heatmap": float(heat.detach()), "size": float(size.detach()), "offset": float(offset.detach())}


def classifier_loss(logits: Tensor, labels: Tensor) -> tuple[Tensor, dict[str, float]]:
    loss = F.cross_entropy(logits.float(), labels)
    return loss, {"ce": float(loss.detach())}

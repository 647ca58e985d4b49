"""What every importer shares: a safe read, format sniffing, strict placement of every key, the save.

A foreign file is read with ``torch.load(weights_only=True)``. Every tensor of it must land in the model:
a missing, unexpected or mis-shaped key is one error line naming it, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from objectix_edge.errors import ArtifactError
from objectix_edge.models.checkpoint import safe_torch_load

IMPORT_FORMATS = ("objectix", "torchvision-classifier", "mobilelike-det")
# Training state some formats store beside the weights: kept aside (for train --init-from), never "unplaced".
TRAINING_KEYS = ("optimizer_state_dict", "lr", "epoch", "batch_index", "loss")


@dataclass
class ImportResult:
    """The imported model (eval mode, weights placed), what was kept aside, and a one-line description."""

    model: nn.Module
    extras: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


def read_foreign(path: Path) -> Any:
    """``torch.load(weights_only=True)`` with one-line errors; a pickled whole model gets a how-to."""
    return safe_torch_load(
        path,
        "checkpoint not found; check the path",
        "holds a pickled whole model, which cannot be loaded safely; in the original project run "
        "torch.save(model.state_dict(), 'weights.pth') and import that file",
        "is not a readable PyTorch checkpoint (corrupt or truncated)",
    )


def split_state(payload: Any, path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A plain state dict, or a dict holding ``model_state_dict`` → (weights, training state kept aside)."""
    if not isinstance(payload, Mapping):
        raise ArtifactError(f"{path}: holds a {type(payload).__name__}, not a state dict; save model.state_dict()")
    tag = payload.get("format")
    if isinstance(tag, str) and tag.startswith("objx-checkpoint"):
        raise ArtifactError(f"{path}: is already an objectix-edge checkpoint; use it directly (no import needed)")
    if "model_state_dict" in payload:
        extras = {k: v for k, v in payload.items() if k != "model_state_dict"}
        unknown = [k for k in extras if k not in TRAINING_KEYS]
        if unknown:
            raise ArtifactError(
                f"{path}: unexpected entry {unknown[0]!r} beside model_state_dict; save only the weights"
            )
        state = payload["model_state_dict"]
    else:
        state, extras = payload, {}
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ArtifactError(f"{path}: entry {bad[0]!r} is not a tensor; is this a state dict?")
    return dict(state), extras


def guess_format(state: Mapping[str, Any]) -> str:
    """Which import format a state dict looks like (or a description of what it is)."""
    keys = list(state)
    if any(k.startswith(("Attentionlayer.", "ValeLayers.", "Net.")) for k in keys):
        return "objectix"
    if any(k.startswith("init_conv.") for k in keys):
        return "mobilelike-det"
    if "conv1.weight" in state and any(k.startswith("layer1.") for k in keys):
        return "torchvision-classifier"
    if any(k.startswith("roi_gate.") for k in keys):
        return "an objectix-edge resnet50-roi state dict"
    return "none of " + ", ".join(IMPORT_FORMATS)


def expect_format(state: Mapping[str, Any], fmt: str, path: Path) -> None:
    """Refuse a file whose keys belong to another format, saying which one it looks like."""
    looks = guess_format(state)
    if looks != fmt:
        hint = f"; try objx-edge import {looks}" if looks in IMPORT_FORMATS else ""
        raise ArtifactError(f"{path}: does not hold a {fmt} checkpoint (its keys look like {looks}){hint}")


def place(model: nn.Module, state: Mapping[str, torch.Tensor], path: Path) -> None:
    """Load every key of ``state`` into ``model``; the first missing, unexpected or mis-shaped key is the error."""
    own = model.state_dict()
    unexpected = [k for k in state if k not in own]
    if unexpected:
        raise ArtifactError(f"{path}: unexpected key {unexpected[0]!r} (no such weight in {model.spec.name})")  # type: ignore[union-attr]
    missing = [k for k in own if k not in state]
    if missing:
        raise ArtifactError(f"{path}: missing key {missing[0]!r} ({model.spec.name} needs it)")  # type: ignore[union-attr]
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ArtifactError(
                f"{path}: key {key!r} has shape {list(value.shape)}, the model needs {list(own[key].shape)}"
            )
    model.load_state_dict(state, strict=True)
    model.eval()

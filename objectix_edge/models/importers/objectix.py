"""ObjectiX checkpoints (``88000.torch``: a plain state dict; ``check.pth``: ``model_state_dict`` + training state).

The attention variant is read from the keys: ``Attentionlayer.*`` adds the mask features, ``ValeLayers.0.*``
multiplies them. The block count of each ResNet stage is read from the keys too (3, 4, 6, 3 for ResNet-50).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from objectix_edge.defaults import OBJECTIX_MAX_SIDE
from objectix_edge.errors import ArtifactError
from objectix_edge.models.importers.common import ImportResult, place
from objectix_edge.models.objectix_resnet50 import AttentionVariant, objectix_resnet50
from objectix_edge.spec import Category

_BLOCK = re.compile(r"^Net\.layer([1-4])\.(\d+)\.")


def read_variant(state: Mapping[str, torch.Tensor], path: Path) -> AttentionVariant:
    add = any(k.startswith("Attentionlayer.") for k in state)
    multiply = any(k.startswith("ValeLayers.") for k in state)
    if add and multiply:
        raise ArtifactError(f"{path}: holds both Attentionlayer.* and ValeLayers.* keys; which ObjectiX variant is it?")
    if not (add or multiply):
        raise ArtifactError(
            f"{path}: missing key 'Attentionlayer.weight' (or 'ValeLayers.0.weight'): no attention conv"
        )
    return AttentionVariant.ADD if add else AttentionVariant.MULTIPLY


def read_layers(state: Mapping[str, torch.Tensor], path: Path) -> list[int]:
    """Blocks per stage from the ``Net.layerN.K.*`` keys."""
    counts = [0, 0, 0, 0]
    for key in state:
        if m := _BLOCK.match(key):
            counts[int(m[1]) - 1] = max(counts[int(m[1]) - 1], int(m[2]) + 1)
    if not all(counts):
        stage = counts.index(0) + 1
        raise ArtifactError(f"{path}: missing keys 'Net.layer{stage}.0.*': not a ResNet-50 under 'Net'")
    return counts


def import_objectix(
    state: Mapping[str, torch.Tensor],
    path: Path,
    categories: Sequence[Category] | None = None,
    max_side: int = OBJECTIX_MAX_SIDE,
) -> ImportResult:
    """Build ``objectix-resnet50`` in the file's variant and place every key (80 COCO classes by default)."""
    variant = read_variant(state, path)
    layers = read_layers(state, path)
    model = objectix_resnet50(categories=categories, variant=variant.value, layers=layers, max_side=max_side)
    place(model, state, path)
    depth = "ResNet-50" if layers == [3, 4, 6, 3] else f"ResNet blocks {layers}"
    how = "added" if variant == AttentionVariant.ADD else "multiplied"
    summary = f"objectix-resnet50 ({depth}, attention {how}, {model.spec.num_classes} classes)"
    return ImportResult(model=model, summary=summary)

"""torchvision ResNet classifier state dicts (plain or in ``model_state_dict``) → ``resnet50-cls``.

The head is read from the keys: ``fc.weight`` is a plain Linear; ``fc.0.*`` + ``fc.3.*`` is
Linear → ReLU → Dropout → Linear (the COCO 4-class project's head). ``--categories`` must name as many
classes as the head has outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from objectix_edge.defaults import TORCHVISION_ARCH, TORCHVISION_IMGSZ
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.models.importers.common import ImportResult, place
from objectix_edge.models.resnet50_cls import resnet50_cls
from objectix_edge.spec import Category

ARCHS = {"resnet50": (3, 4, 6, 3)}


def read_head(state: Mapping[str, torch.Tensor], path: Path) -> tuple[int, int]:
    """(hidden width or 0, number of outputs) of the head in ``state``."""
    if "fc.weight" in state:
        return 0, int(state["fc.weight"].shape[0])
    if "fc.0.weight" in state and "fc.3.weight" in state:
        return int(state["fc.0.weight"].shape[0]), int(state["fc.3.weight"].shape[0])
    raise ArtifactError(f"{path}: missing key 'fc.weight' (or 'fc.0.weight' + 'fc.3.weight'): no classifier head")


def import_torchvision_classifier(
    state: Mapping[str, torch.Tensor],
    path: Path,
    categories: Sequence[Category] = (),
    arch: str = TORCHVISION_ARCH,
    imgsz: int = TORCHVISION_IMGSZ,
    layers: Sequence[int] | None = None,
) -> ImportResult:
    """Build ``resnet50-cls`` with the file's head and place every key."""
    if arch not in ARCHS:
        raise InputError(f"--arch {arch!r} is not supported; choose one of: {', '.join(ARCHS)}")
    hidden, outputs = read_head(state, path)
    if len(categories) != outputs:
        raise InputError(
            f"{path}: its head has {outputs} outputs but --categories names {len(categories)}; give {outputs} names"
        )
    model = resnet50_cls(categories=categories, imgsz=imgsz, layers=layers or ARCHS[arch], hidden=hidden)
    place(model, state, path)
    head = f"MLP head {hidden}" if hidden else "linear head"
    return ImportResult(model=model, summary=f"resnet50-cls ({arch}, {head}, {outputs} classes, {imgsz}×{imgsz})")

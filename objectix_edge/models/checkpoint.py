"""Checkpoints: weights + ModelSpec + optional training state, loaded with ``weights_only=True``."""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.fileio import atomic_path
from objectix_edge.models.registry import check_model_kwargs, create_model, list_models
from objectix_edge.spec import ModelSpec

CHECKPOINT_FORMAT = "objx-checkpoint-v1"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model (eval mode), its spec, and training state if any."""

    model: nn.Module
    spec: ModelSpec
    train_state: dict[str, Any] = field(default_factory=dict)


def model_from_spec(spec: ModelSpec) -> nn.Module:
    """Rebuild the architecture a spec describes (random weights)."""
    return create_model(spec.name, categories=spec.categories, **spec.model_kwargs)


def save_checkpoint(path: str | Path, model: nn.Module, train_state: dict[str, Any] | None = None) -> Path:
    """Write weights, spec and training state atomically; returns the path."""
    path = Path(path)
    spec: ModelSpec = model.spec  # type: ignore[assignment]
    payload = {
        "format": CHECKPOINT_FORMAT,
        "spec": spec.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "train_state": train_state or {},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def safe_torch_load(path: Path, missing: str, pickled: str, corrupt: str) -> Any:
    """``torch.load(weights_only=True)`` with each failure as one line: ``{path}: `` + the matching text."""
    if not path.is_file():
        raise InputError(f"{path}: {missing}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ArtifactError(f"{path}: {pickled}") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, RecursionError) as exc:
        raise ArtifactError(f"{path}: {corrupt}") from exc
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        # Not a pickle at all (e.g. a text file named .pt): the unpickler trips over arbitrary bytes.
        raise ArtifactError(f"{path}: {corrupt}") from exc


def read_checkpoint_payload(path: str | Path) -> dict[str, Any]:
    """Load the raw dict safely, translating every failure into a one-line ArtifactError."""
    path = Path(path)
    payload = safe_torch_load(
        path,
        "checkpoint not found; check the path or train one with objx-edge train",
        "is a pickled full-model file, which is unsafe to load; save a state-dict checkpoint "
        "with objx-edge train (or torch.save({'state_dict': model.state_dict()}))",
        "is not a readable checkpoint (corrupt or truncated); re-create it with objx-edge train",
    )
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ArtifactError(
            f"{path}: is not an objectix-edge checkpoint (no {CHECKPOINT_FORMAT!r} format tag); create one with objx-edge train"
        )
    return payload


def load_checkpoint(path: str | Path, expect_model: str | None = None) -> Checkpoint:
    """Load a checkpoint and rebuild its model; ``expect_model`` refuses a checkpoint of another model."""
    path = Path(path)
    payload = read_checkpoint_payload(path)
    spec = ModelSpec.from_dict(payload["spec"], source=str(path))
    if spec.name not in list_models():
        raise ArtifactError(f"{path}: holds unknown model {spec.name!r}; known: {', '.join(list_models())}")
    if expect_model is not None and spec.name != expect_model:
        raise ArtifactError(
            f"{path}: is a {spec.name} checkpoint, not {expect_model}; pass a {expect_model} checkpoint"
        )
    check_model_kwargs(spec.name, spec.model_kwargs, str(path))
    model = model_from_spec(spec)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as exc:
        raise ArtifactError(
            f"{path}: its weights do not fit model {spec.name} ({str(exc).splitlines()[0]}); re-create it"
        ) from exc
    model.eval()
    return Checkpoint(model=model, spec=spec, train_state=payload.get("train_state") or {})


def load_torchvision_backbone(model: nn.Module, weights: str | Path) -> list[str]:
    """Load a local torchvision ``resnet50-*.pth`` into a ResNetRoi backbone; returns the keys loaded.

    The classifier head (``fc``) is skipped when its shape differs (other category count).
    """
    weights = Path(weights)
    if not weights.is_file():
        raise InputError(
            f"{weights}: torchvision weights file not found; download resnet50-*.pth once and pass its path"
        )
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(
            f"{weights}: is not a readable torchvision state dict; use the official resnet50-*.pth file"
        ) from exc
    if isinstance(state, dict) and ("model_state_dict" in state or any(str(k).startswith("fc.0.") for k in state)):
        raise ArtifactError(
            f"{weights}: holds a trained classifier (wrapped or with an MLP head), whose head --pretrained would "
            "drop; import it with objx-edge import torchvision-classifier and train with --init-from"
        )
    own = model.state_dict()
    loadable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    backbone_keys = [k for k in own if not k.startswith(("roi_gate.", "fc."))]
    missing = [k for k in backbone_keys if k not in loadable]
    if missing:
        raise ArtifactError(
            f"{weights}: does not match the model's backbone ({len(missing)} tensors missing, e.g. {missing[0]}); use resnet50 weights with the default width"
        )
    model.load_state_dict(loadable, strict=False)
    return sorted(loadable)

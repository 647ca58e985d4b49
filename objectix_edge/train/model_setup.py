"""The model a training run starts from: fresh (seeded, optionally on a torchvision backbone), resumed
with its training state, or initialised from an objectix-edge checkpoint to fine-tune."""

from __future__ import annotations

from typing import Any

from torch import nn

from objectix_edge.data.coco import CocoSource
from objectix_edge.errors import InputError
from objectix_edge.models.checkpoint import load_checkpoint, load_torchvision_backbone
from objectix_edge.models.registry import create_model
from objectix_edge.train.resume import check_resume_config
from objectix_edge.train.train_config import TrainConfig


def start_model(cfg: TrainConfig, source: CocoSource) -> tuple[nn.Module, dict[str, Any]]:
    """A fresh model (seeded) or the resumed one with its training state."""
    if cfg.resume is not None:
        ckpt = load_checkpoint(cfg.resume, expect_model=cfg.model)
        check_resume_config(cfg, ckpt.train_state.get("config"), cfg.resume)
        if ckpt.spec.category_ids != [c.id for c in source.categories]:
            raise InputError(
                f"{cfg.resume}: was trained on other categories than {cfg.ann} gives; resume with the same --categories"
            )
        if not ckpt.train_state.get("optimizer"):
            raise InputError(
                f"{cfg.resume}: holds no training state; resume from last.pt or step-*.pt of objx-edge train"
            )
        return ckpt.model, ckpt.train_state
    if cfg.init_from is not None:
        return init_from_checkpoint(cfg, source), {}
    kwargs = dict(cfg.model_kwargs)
    if cfg.imgsz is not None:
        kwargs["imgsz"] = cfg.imgsz
    try:
        model = create_model(cfg.model, categories=source.categories, **kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"model {cfg.model}: bad model options {kwargs} ({exc}); fix --imgsz / --model-arg") from exc
    if cfg.pretrained is not None:
        load_torchvision_backbone(model, cfg.pretrained)
    return model, {}


def init_from_checkpoint(cfg: TrainConfig, source: CocoSource) -> nn.Module:
    """The weights of an objectix-edge checkpoint (e.g. an imported one), to fine-tune on ``source``."""
    assert cfg.init_from is not None
    ckpt = load_checkpoint(cfg.init_from, expect_model=cfg.model)
    if ckpt.spec.category_ids != [c.id for c in source.categories]:
        raise InputError(
            f"{cfg.init_from}: has categories {ckpt.spec.category_names[:5]}... but {cfg.ann} gives "
            f"{[c.name for c in source.categories][:5]}...; pass --categories in the checkpoint's order"
        )
    if cfg.pretrained is not None or cfg.model_kwargs or cfg.imgsz is not None:
        raise InputError(
            "--init-from takes the architecture from the checkpoint; drop --pretrained/--model-arg/--imgsz"
        )
    return ckpt.model

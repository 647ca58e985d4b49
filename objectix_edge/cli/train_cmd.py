"""``objx-edge train``: train or fine-tune a registered model on a COCO folder (single process or torchrun DDP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from objectix_edge.cli.console import say
from objectix_edge.defaults import default_of
from objectix_edge.errors import InputError
from objectix_edge.train.train_config import Schedule, TrainConfig


def parse_model_args(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values parse as JSON when they can (0.25, [1,1,1,1], true), else stay strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--model-arg {item!r}: expected key=value, e.g. --model-arg width_mult=0.5")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def train(
    model: str = typer.Option(
        ..., "--model", help="Model name: mobilenet-det, resnet50-roi, resnet50-cls, objectix-resnet50."
    ),
    data: Path = typer.Option(..., "--data", help="Folder with the training images."),
    ann: Path = typer.Option(..., "--ann", help="COCO instances JSON of the training images."),
    out: Path = typer.Option(..., "--out", help="Output folder: last.pt, best.pt, step-*.pt, metrics.csv."),
    val_data: Path | None = typer.Option(
        None, "--val-data", help="Folder with validation images (best.pt by validation)."
    ),
    val_ann: Path | None = typer.Option(None, "--val-ann", help="COCO instances JSON of the validation images."),
    epochs: int = typer.Option(default_of(TrainConfig, "epochs"), "--epochs", help="Epochs to train."),
    batch: int = typer.Option(default_of(TrainConfig, "batch"), "--batch", help="Batch size per process."),
    lr: float = typer.Option(default_of(TrainConfig, "lr"), "--lr", help="Peak learning rate (AdamW)."),
    weight_decay: float = typer.Option(
        default_of(TrainConfig, "weight_decay"), "--weight-decay", help="AdamW weight decay (not on norms and biases)."
    ),
    imgsz: int | None = typer.Option(
        default_of(TrainConfig, "imgsz"), "--imgsz", help="Input size (square); default: the model's."
    ),
    categories: str | None = typer.Option(
        None, "--categories", help="Comma-separated category subset, e.g. bird,airplane,train,boat."
    ),
    model_arg: list[str] = typer.Option(
        [], "--model-arg", help="Model option key=value, repeatable (e.g. width_mult=0.5)."
    ),
    schedule: str = typer.Option(
        default_of(TrainConfig, "schedule").value,
        "--schedule",
        help="cosine (per step) or plateau (per epoch, on validation).",
    ),
    warmup: int = typer.Option(
        default_of(TrainConfig, "warmup_steps"), "--warmup", help="Linear warm-up steps (cosine schedule)."
    ),
    save_every: int = typer.Option(
        default_of(TrainConfig, "save_every"),
        "--save-every",
        help="Also write step-N.pt every N steps (0: epoch ends only).",
    ),
    keep_last: int = typer.Option(
        default_of(TrainConfig, "keep_last"),
        "--keep-last",
        min=0,
        help="Step checkpoints to keep, newest first (0: all); last.pt/best.pt always stay.",
    ),
    patience: int = typer.Option(
        default_of(TrainConfig, "patience"),
        "--patience",
        help="Early stop after this many epochs without improvement (0: never).",
    ),
    resume: Path | None = typer.Option(None, "--resume", help="Checkpoint (last.pt / step-N.pt) to continue exactly."),
    seed: int = typer.Option(
        default_of(TrainConfig, "seed"), "--seed", help="Seed of initialisation, data order and augmentation."
    ),
    workers: int = typer.Option(default_of(TrainConfig, "workers"), "--workers", help="Data-loading worker processes."),
    device: str = typer.Option(
        default_of(TrainConfig, "device"),
        "--device",
        help="auto, cpu, cuda or cuda:N (under torchrun: LOCAL_RANK's GPU).",
    ),
    freeze_until: str | None = typer.Option(
        None,
        "--freeze-until",
        help="resnet50-roi/-cls, objectix-resnet50: freeze layers before this one (e.g. layer3).",
    ),
    pretrained: Path | None = typer.Option(
        None, "--pretrained", help="Local torchvision resnet50-*.pth for the backbone."
    ),
    init_from: Path | None = typer.Option(
        None, "--init-from", help="Fine-tune the weights of this checkpoint (e.g. one made by objx-edge import)."
    ),
    head: str | None = typer.Option(None, "--head", help="resnet50-cls head: linear or mlp:HIDDEN (e.g. mlp:256)."),
    crop_scale: float = typer.Option(
        default_of(TrainConfig, "crop_scale"),
        "--crop-scale",
        help="resnet50-cls: smallest area fraction of the random resized crop (torchvision: 0.08).",
    ),
    progress: bool = typer.Option(
        default_of(TrainConfig, "progress"), "--progress/--no-progress", help="Show the progress bar."
    ),
) -> None:
    """Train a model on a COCO folder: AdamW, cosine/plateau, checkpoints, exact --resume, early stop, metrics CSV.

    Multi-GPU / multi-node: torchrun --nproc_per_node 4 -m objectix_edge train ... (DDP, one batch per process).

    Example: objx-edge train --model mobilenet-det --data coco/images --ann coco/train.json --epochs 30 --out runs/det
    """
    from objectix_edge.train.trainer import train as run_training

    try:
        sched = Schedule(schedule)
    except ValueError:
        raise InputError(f"--schedule {schedule!r}: choose cosine or plateau") from None
    model_kwargs = parse_model_args(model_arg)
    if head is not None:
        from objectix_edge.models.resnet50_cls import parse_head

        model_kwargs["hidden"] = parse_head(head)
    cfg = TrainConfig(
        model=model,
        data=data,
        ann=ann,
        out=out,
        val_data=val_data,
        val_ann=val_ann,
        epochs=epochs,
        batch=batch,
        lr=lr,
        weight_decay=weight_decay,
        imgsz=imgsz,
        categories=tuple(c.strip() for c in categories.split(",") if c.strip()) if categories else None,
        model_kwargs=model_kwargs,
        schedule=sched,
        warmup_steps=warmup,
        save_every=save_every,
        keep_last=keep_last,
        patience=patience,
        resume=resume,
        seed=seed,
        workers=workers,
        device=device,
        freeze_until=freeze_until,
        pretrained=pretrained,
        init_from=init_from,
        crop_scale=crop_scale,
        progress=progress,
    )
    result = run_training(cfg)
    last = result.metrics
    summary = ", ".join(
        f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}"
        for k, v in last.items()
        if isinstance(v, float) and k != "seconds"
    )
    note = " (early stop)" if result.stopped_early else ""
    say(("trained", "green"), f" {result.steps} steps{note}: {summary}")
    say(f"  last {result.last}")
    if result.best:
        say(f"  best {result.best}")
    say(f"  metrics {result.metrics_csv}")

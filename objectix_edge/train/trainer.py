"""The training loop shared by both models: AdamW, cosine/plateau schedule, AMP on CUDA, checkpoints,
exact resume, early stopping, a rich progress bar, a per-epoch metrics CSV, and DDP under torchrun.

Exact resume rests on three things: the data order of an epoch is a seeded permutation
(DistributedSampler with ``seed`` + ``set_epoch``), each sample's augmentation is seeded by
(seed, epoch, index), and the checkpoint carries optimizer, scheduler, scaler and RNG states plus the
position inside the epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from objectix_edge.data.coco import load_coco
from objectix_edge.errors import InputError
from objectix_edge.models.checkpoint import save_checkpoint
from objectix_edge.spec import ModelSpec
from objectix_edge.train.ddp import DistContext, init_distributed
from objectix_edge.train.model_setup import start_model
from objectix_edge.train.optim import lr_scheduler, param_groups
from objectix_edge.train.progress import TrainProgress
from objectix_edge.train.state import capture_rng, restore_rng, seed_everything, write_metrics_csv
from objectix_edge.train.tasks import make_task, move
from objectix_edge.train.train_config import Schedule, TrainConfig

STEP_PREFIX = "step-"


def step_checkpoints(folder: Path) -> list[Path]:
    """The step-N.pt files of a run folder, oldest step first."""
    found = [p for p in folder.glob(f"{STEP_PREFIX}*.pt") if p.stem.removeprefix(STEP_PREFIX).isdigit()]
    return sorted(found, key=lambda p: int(p.stem.removeprefix(STEP_PREFIX)))


@dataclass
class TrainResult:
    """Where the run left its artifacts and what it measured."""

    last: Path
    best: Path | None
    metrics_csv: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    stopped_early: bool = False

    @property
    def metrics(self) -> dict[str, Any]:
        return self.history[-1] if self.history else {}


class Trainer:
    """Holds the pieces of one run; ``fit`` runs it."""

    def __init__(self, cfg: TrainConfig, ctx: DistContext) -> None:
        self.cfg, self.ctx = cfg, ctx
        seed_everything(cfg.seed)
        self.source = load_coco(cfg.data, cfg.ann, cfg.categories)
        self.val_source = None
        if (cfg.val_data is None) != (cfg.val_ann is None):
            raise InputError("--val-data and --val-ann go together; pass both or neither")
        if cfg.val_data is not None and cfg.val_ann is not None:
            self.val_source = load_coco(cfg.val_data, cfg.val_ann, [c.name for c in self.source.categories])
        model, self.state = start_model(cfg, self.source)
        if cfg.freeze_until is not None:
            freeze_until = getattr(model, "freeze_until", None)
            if freeze_until is None:
                raise InputError(f"--freeze-until applies to resnet50-roi only, not {cfg.model}; drop it")
            try:
                freeze_until(cfg.freeze_until)
            except ValueError as exc:
                raise InputError(str(exc)) from exc
        self.device = torch.device(ctx.device)
        self.model = model.to(self.device)
        self.spec = cast(ModelSpec, model.spec)  # registered models carry one; __getattr__ says Tensor | Module
        self.task = make_task(self.spec, self.source, cfg.seed, ctx.device, cfg.crop_scale)
        self.sampler: DistributedSampler[Any] = DistributedSampler(
            self.task.dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=cfg.seed
        )
        self.steps_per_epoch = len(self.sampler) // cfg.batch
        if self.steps_per_epoch == 0:
            raise InputError(
                f"{cfg.ann}: {len(self.task.dataset)} samples: no full batch of {cfg.batch} per process; lower --batch"
            )
        self.optimizer = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr)
        self.scheduler = lr_scheduler(cfg, self.optimizer, self.steps_per_epoch * cfg.epochs)
        self.use_amp = self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.net: nn.Module = model
        if ctx.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self._load_state()

    def _load_state(self) -> None:
        s = self.state
        self.step, self.epoch, self.batch_in_epoch = (
            int(s.get("step", 0)),
            int(s.get("epoch", 0)),
            int(s.get("batch_in_epoch", 0)),
        )
        self.loss_sum, self.best_score = float(s.get("loss_sum", 0.0)), s.get("best_score")
        self.bad_epochs, self.history = int(s.get("bad_epochs", 0)), list(s.get("history", []))
        if s:
            self.optimizer.load_state_dict(s["optimizer"])
            self.scheduler.load_state_dict(s["scheduler"])
            if s.get("scaler"):
                self.scaler.load_state_dict(s["scaler"])
            restore_rng(s.get("rng", {}))

    def _train_state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "loss_sum": self.loss_sum,
            "best_score": self.best_score,
            "bad_epochs": self.bad_epochs,
            "history": self.history,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.use_amp else {},
            "rng": capture_rng(),
            "config": self.cfg.to_dict(),
            "world_size": self.ctx.world_size,
        }

    def _save(self, path: Path) -> None:
        if self.ctx.is_main:
            save_checkpoint(path, self.model, self._train_state())

    def _save_step(self) -> None:
        """step-N.pt, then drop the oldest step checkpoints beyond ``keep_last`` (last/best are never pruned)."""
        self._save(self.cfg.out / f"{STEP_PREFIX}{self.step:06d}.pt")
        if self.ctx.is_main and self.cfg.keep_last > 0:
            for old in step_checkpoints(self.cfg.out)[: -self.cfg.keep_last]:
                old.unlink()

    def _loader(self) -> DataLoader:
        self.sampler.set_epoch(self.epoch)
        self.task.dataset.set_epoch(self.epoch)
        order = list(iter(self.sampler))[self.batch_in_epoch * self.cfg.batch :]
        return DataLoader(
            self.task.dataset,
            batch_size=self.cfg.batch,
            sampler=order,
            drop_last=True,
            num_workers=self.cfg.workers,
            collate_fn=self.task.collate,
            pin_memory=self.device.type == "cuda",
        )

    def _train_step(self, batch: dict[str, torch.Tensor]) -> float:
        batch = move(batch, self.device)
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.use_amp):
            loss, _parts = self.task.loss(self.net, batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.cfg.schedule == Schedule.COSINE:
            self.scheduler.step()
        return float(loss.detach())

    def _end_epoch(self, seconds: float) -> bool:
        """Validate, log, checkpoint; returns True when early stopping fires."""
        row: dict[str, Any] = {
            "epoch": self.epoch + 1,
            "step": self.step,
            "train_loss": self.loss_sum / self.steps_per_epoch,
            "lr": self.optimizer.param_groups[0]["lr"],
            "seconds": round(seconds, 2),
        }
        if self.val_source is not None and self.ctx.is_main:
            row.update(self.task.validate(self.model, self.val_source))
            self.model.train()
        row = self.ctx.broadcast(row)
        score = row.get(self.task.score_key, -row["train_loss"])
        if self.cfg.schedule == Schedule.PLATEAU:
            self.scheduler.step(score)
        improved = self.best_score is None or score > self.best_score
        self.best_score = score if improved else self.best_score
        self.bad_epochs = 0 if improved else self.bad_epochs + 1
        self.history.append(row)
        self.epoch, self.batch_in_epoch, self.loss_sum = self.epoch + 1, 0, 0.0
        out = self.cfg.out
        if self.ctx.is_main:
            write_metrics_csv(out / "metrics.csv", self.history)
        self._save(out / "last.pt")
        if improved:
            self._save(out / "best.pt")
        return self.cfg.patience > 0 and self.bad_epochs >= self.cfg.patience

    def fit(self) -> TrainResult:
        self.model.train()
        stopped = False
        total = self.steps_per_epoch * self.cfg.epochs
        with TrainProgress(total, self.step, enabled=self.cfg.progress and self.ctx.is_main) as bar:
            while self.epoch < self.cfg.epochs and not stopped:
                start = time.perf_counter()
                for batch in self._loader():
                    loss = self._train_step(batch)
                    self.step, self.batch_in_epoch, self.loss_sum = (
                        self.step + 1,
                        self.batch_in_epoch + 1,
                        self.loss_sum + loss,
                    )
                    bar.advance(self.epoch, loss, self.optimizer.param_groups[0]["lr"])
                    if self.cfg.save_every and self.step % self.cfg.save_every == 0:
                        self._save_step()
                stopped = self._end_epoch(time.perf_counter() - start)
        self.ctx.barrier()
        best = self.cfg.out / "best.pt"
        return TrainResult(
            self.cfg.out / "last.pt",
            best if best.exists() else None,
            self.cfg.out / "metrics.csv",
            self.history,
            self.step,
            stopped,
        )


def train(cfg: TrainConfig) -> TrainResult:
    """Train ``cfg.model`` on a COCO folder; under torchrun every process calls this (DDP)."""
    if cfg.epochs < 1 or cfg.batch < 1 or cfg.lr <= 0:
        raise InputError("--epochs and --batch must be ≥ 1 and --lr > 0")
    ctx = init_distributed(cfg.device)
    try:
        return Trainer(cfg, ctx).fit()
    finally:
        ctx.close()

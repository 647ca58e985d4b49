"""What differs between the model kinds in training: dataset, collate, loss, validation score."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from objectix_edge.data.classify import ClassifyDataset, ObjectixWindowDataset
from objectix_edge.data.coco import CocoSource, DetectionDataset, RoiDataset
from objectix_edge.enums import Task
from objectix_edge.eval.classification import evaluate_classifier, evaluate_image_classifier
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.runtime.torch_runner import TorchRunner
from objectix_edge.spec import ModelSpec, RoiMode
from objectix_edge.train.losses import centernet_loss, classifier_loss
from objectix_edge.train.targets import collate_classify, collate_detection, collate_padded_roi, collate_roi


@dataclass
class TaskAdapter:
    """Dataset + collate + loss + validation for one model kind; ``score`` is higher-is-better."""

    dataset: Any
    collate: Callable[[list], dict[str, Tensor]]
    loss: Callable[[nn.Module, dict[str, Tensor]], tuple[Tensor, dict[str, float]]]
    validate: Callable[[nn.Module, CocoSource], dict[str, float]]
    score_key: str


def _detector_loss(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
    return centernet_loss(model(batch["images"]), batch)


def _classifier_loss(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
    return classifier_loss(model(batch["images"], batch["roi_mask"]), batch["labels"])


def _image_classifier_loss(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
    return classifier_loss(model(batch["images"]), batch["labels"])


def _runner(model: nn.Module, device: str) -> Any:
    return TorchRunner(model, model.spec, device=device)  # type: ignore[arg-type]


def _validate_detector(device: str, model: nn.Module, source: CocoSource) -> dict[str, float]:
    metrics, _ = evaluate_detector(_runner(model, device), source, batch=16)
    return {"val_map": metrics.map, "val_ap50": metrics.ap50, "val_ap75": metrics.ap75, "val_ar100": metrics.ar100}


def _validate_classifier(device: str, model: nn.Module, source: CocoSource) -> dict[str, float]:
    m = evaluate_classifier(_runner(model, device), source, batch=64)
    return {"val_accuracy": m.accuracy, "val_mean_class_accuracy": m.mean_class_accuracy, "val_f1": m.f1}


def _validate_image_classifier(device: str, model: nn.Module, source: CocoSource) -> dict[str, float]:
    m = evaluate_image_classifier(_runner(model, device), source, batch=32)
    return {"val_accuracy": m.accuracy, "val_mean_class_accuracy": m.mean_class_accuracy, "val_f1": m.f1}


def make_task(spec: ModelSpec, source: CocoSource, seed: int, device: str, crop_scale: float = 0.08) -> TaskAdapter:
    if spec.task == Task.CLASSIFY:
        return TaskAdapter(
            dataset=ClassifyDataset(source, spec, train=True, seed=seed, crop_scale=crop_scale),
            collate=collate_classify,
            loss=_image_classifier_loss,
            validate=partial(_validate_image_classifier, device),
            score_key="val_accuracy",
        )
    if spec.roi_mode == RoiMode.FULL_IMAGE:  # ObjectiX: random windows around each instance, segmentation masks
        return TaskAdapter(
            dataset=ObjectixWindowDataset(source, spec, train=True, seed=seed),
            collate=collate_padded_roi,
            loss=_classifier_loss,
            validate=partial(_validate_classifier, device),
            score_key="val_accuracy",
        )
    if spec.task == Task.DETECT:
        stride = int(spec.model_kwargs.get("out_stride", 4))
        return TaskAdapter(
            dataset=DetectionDataset(source, spec, train=True, seed=seed),
            collate=partial(collate_detection, num_classes=spec.num_classes, stride=stride),
            loss=_detector_loss,
            validate=partial(_validate_detector, device),
            score_key="val_map",
        )
    return TaskAdapter(
        dataset=RoiDataset(source, spec, train=True, seed=seed),
        collate=collate_roi,
        loss=_classifier_loss,
        validate=partial(_validate_classifier, device),
        score_key="val_accuracy",
    )


def move(batch: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}

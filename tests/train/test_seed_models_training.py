"""Training and evaluating the seeds' models with our tools: the 4-class selection rule, resnet50-cls
training + eval (per-class figures, confusion PNG), ObjectiX fine-tuning from an imported checkpoint on
random windows with segmentation masks, and ObjectiX's own five figures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.data.classify import ObjectixWindowDataset, single_category_images, window_around
from objectix_edge.data.coco import load_coco
from objectix_edge.data.synth import write_synthetic_coco
from objectix_edge.eval.classification import OBJECTIX_FIGURES, objectix_figures
from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.models.registry import create_model
from tests.models.seed_reference import ObjectixRef, spread_weights

FOUR = ["bird", "airplane", "train", "boat"]


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_four_class_selection_rule_on_coco_mini(coco_mini: Path) -> None:
    """Only images whose annotations are all of one listed category: bird 2, airplane 3, boat 1, train 0."""
    source = load_coco(coco_mini / "images", coco_mini / "annotations" / "instances_train2017.json", FOUR)
    picked = single_category_images(source)
    assert Counter(FOUR[label] for _, label in picked) == {"bird": 2, "airplane": 3, "boat": 1}
    for image_id, label in picked:  # every annotation of a picked image is of its one category
        cats = {a["category_id"] for a in source.coco.imgToAnns[image_id]}
        assert cats == {source.categories[label].id}


def test_resnet50_cls_trains_and_evaluates_per_class(tmp_path: Path) -> None:
    train_dir, train_ann = write_synthetic_coco(tmp_path / "train", 24, seed=0, image_size=(64, 64), per_image=(1, 1))
    val_dir, val_ann = write_synthetic_coco(tmp_path / "val", 12, seed=1, image_size=(64, 64), per_image=(1, 1))
    out = tmp_path / "run"
    common = ["--categories", "circle,square,triangle", "--imgsz", 64, "--model-arg", "layers=[1,1,1,1]"]
    result = invoke(
        "train", "--model", "resnet50-cls", "--data", train_dir, "--ann", train_ann, "--out", out, "--epochs", 2,
        "--batch", 8, "--head", "mlp:16", "--freeze-until", "layer3", "--model-arg", "base_width=8", "--no-progress",
        *common,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ckpt = load_checkpoint(out / "last.pt")
    assert ckpt.spec.task.value == "classify" and ckpt.spec.model_kwargs["hidden"] == 16
    torch.manual_seed(0)  # the run's seed: the frozen stem is still its initialisation, layer3 is not
    seeded = create_model("resnet50-cls", categories=ckpt.spec.categories, **ckpt.spec.model_kwargs)
    assert torch.equal(ckpt.model.conv1.weight, seeded.conv1.weight)
    assert not torch.equal(ckpt.model.layer3[0].conv1.weight, seeded.layer3[0].conv1.weight)
    png, figures = tmp_path / "confusion.png", tmp_path / "eval.json"
    result = invoke(
        "eval", out / "last.pt", "--data", val_dir, "--ann", val_ann, "--confusion-png", png, "--json", figures
    )
    assert result.exit_code == 0, result.output
    report = json.loads(figures.read_text())["figures"]
    assert png.stat().st_size > 1000 and report["samples"] == 12
    confusion = np.asarray(report["confusion"])
    diag = np.diag(confusion) / np.maximum(confusion.sum(1), 1)
    assert list(report["per_class_accuracy"].values()) == pytest.approx(diag.tolist())
    assert set(report) >= {"per_class_precision", "per_class_recall", "per_class_f1"}
    assert "accuracy [circle]" in result.output and "f1 [triangle]" in result.output


def test_objectix_five_figures_by_their_definitions() -> None:
    # 3 classes (+1 spare slot); class 2 has no samples. TP = [2, 1, 0, 0]; FP = [1, 0, 1, 0]; FN = [0, 2, 0, 0].
    y_true, y_pred = [0, 0, 1, 1, 1], [0, 0, 1, 0, 2]
    got = objectix_figures(y_true, y_pred, num_classes=3)
    acc = [2 / 3, 1 / 3, 0, 0]
    precision, recall = [2 / 3, 1.0, 0, 0], [1.0, 1 / 3, 0, 0]
    f1 = [2 * p * r / (p + r) if p + r else 0 for p, r in zip(precision, recall, strict=True)]
    assert list(got) == list(OBJECTIX_FIGURES)
    assert got["Mean Accuracy All Class Average"] == pytest.approx(np.mean(acc) * 4 / 2)
    assert got["Mean Accuracy Images"] == pytest.approx(3 / 5)
    assert got["Mean Precision"] == pytest.approx(np.mean(precision))
    assert got["Mean Recall"] == pytest.approx(np.mean(recall))
    assert got["Mean F1 Score"] == pytest.approx(np.mean(f1))


def test_windows_contain_the_instance_within_160_to_1000_px() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        w, h = int(rng.integers(200, 1400)), int(rng.integers(200, 1400))
        x1, y1 = float(rng.uniform(0, w - 20)), float(rng.uniform(0, h - 20))
        box = (x1, y1, float(rng.uniform(x1 + 5, w)), float(rng.uniform(y1 + 5, h)))
        wx1, wy1, wx2, wy2 = window_around(box, w, h, rng)
        assert 0 <= wx1 <= box[0] and box[2] <= wx2 <= w and 0 <= wy1 <= box[1] and box[3] <= wy2 <= h
        assert min(160, w) <= wx2 - wx1 <= max(1000, np.ceil(box[2]) - np.floor(box[0]))


@pytest.fixture(scope="module")
def tiny_coco_mini(coco_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two coco-mini images with the fewest instances (all 80 categories listed), as their own file."""
    data = json.loads((coco_mini / "annotations" / "instances_train2017.json").read_text())
    counts = Counter(a["image_id"] for a in data["annotations"])
    ids = sorted(counts, key=lambda i: (counts[i], i))[:2]
    data["images"] = [im for im in data["images"] if im["id"] in ids]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in ids]
    path = tmp_path_factory.mktemp("tiny_coco") / "instances.json"
    path.write_text(json.dumps(data))
    return path


def test_objectix_fine_tune_from_import_and_eval_with_segmentation(
    coco_mini: Path, tiny_coco_mini: Path, tmp_path: Path
) -> None:
    src = tmp_path / "check.pth"
    state = spread_weights(ObjectixRef(multiply=False, layers=(1, 1, 1, 1)), seed=4).state_dict()
    torch.save({"model_state_dict": state, "optimizer_state_dict": {}, "lr": 1e-4}, src)
    assert invoke("import", "objectix", src, "-o", tmp_path / "ox.pt").exit_code == 0
    source = load_coco(coco_mini / "images", tiny_coco_mini)
    windows = ObjectixWindowDataset(source, load_checkpoint(tmp_path / "ox.pt").spec, train=True, seed=0)
    sample = windows[0]
    assert sample["images"].shape[1:] == sample["roi_mask"].shape[1:] and sample["roi_mask"].any()
    out = tmp_path / "run"
    args = ["--data", coco_mini / "images", "--ann", tiny_coco_mini]
    result = invoke(
        "train", "--model", "objectix-resnet50", "--init-from", tmp_path / "ox.pt", *args, "--out", out,
        "--epochs", 1, "--batch", 2, "--lr", 1e-5, "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tuned = load_checkpoint(out / "last.pt")
    assert tuned.spec == load_checkpoint(tmp_path / "ox.pt").spec
    assert not torch.equal(tuned.model.Attentionlayer.weight, state["Attentionlayer.weight"])
    result = invoke("eval", out / "last.pt", *args, "--roi-mask", "segmentation", "--per-class-images", 2)
    assert result.exit_code == 0, result.output
    for name in OBJECTIX_FIGURES:
        assert f"ObjectiX: {name}" in result.output

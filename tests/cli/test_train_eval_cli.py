"""objx-edge train / eval through the real CLI: files and figures they produce, and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.data.coco import load_coco
from objectix_edge.eval.detection import coco_map
from objectix_edge.models import create_model
from objectix_edge.models.checkpoint import load_checkpoint

TINY_DET_ARGS = [
    "--imgsz",
    "128",
    "--model-arg",
    "width_mult=0.25",
    "--model-arg",
    "depth_mult=0.34",
    "--model-arg",
    "neck_channels=32",
]


def _invoke(args: list[str]):
    return CliRunner().invoke(app, [str(a) for a in args])


def _one_error_line(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for needle in needles:
        assert needle in " ".join(result.output.split()), (needle, result.output)


def test_train_cli_writes_checkpoints_and_metrics(
    synth_coco: tuple[Path, Path], synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = _invoke(
        [
            "train",
            "--model",
            "mobilenet-det",
            "--data",
            synth_coco[0],
            "--ann",
            synth_coco[1],
            "--val-data",
            synth_coco_val[0],
            "--val-ann",
            synth_coco_val[1],
            "--epochs",
            "2",
            "--batch",
            "8",
            "--lr",
            "3e-3",
            "--out",
            out,
            "--categories",
            "square,circle",
            "--save-every",
            "2",
            "--keep-last",
            "2",
            "--no-progress",
            *TINY_DET_ARGS,
        ]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "best.pt",
        "last.pt",
        "metrics.csv",
        "step-000010.pt",
        "step-000012.pt",
    ]  # steps 2..12 were written; --keep-last 2 pruned the older ones
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"] and {"train_loss", "lr", "val_map", "val_ap50", "val_ar100"} <= set(
        rows[0]
    )
    ckpt = load_checkpoint(out / "last.pt")
    assert ckpt.spec.category_names == ["square", "circle"] and ckpt.spec.category_ids == [2, 1]
    assert ckpt.spec.input_size == (128, 128) and ckpt.spec.model_kwargs["width_mult"] == 0.25
    assert ckpt.train_state["step"] == 12 and ckpt.train_state["epoch"] == 2


def test_eval_cli_detector_json_and_detections(
    trained_detector_ckpt: Path, synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    report, dets = tmp_path / "out" / "det.json", tmp_path / "out" / "dets.json"
    result = _invoke(
        [
            "eval",
            trained_detector_ckpt,
            "--data",
            synth_coco_val[0],
            "--ann",
            synth_coco_val[1],
            "--json",
            report,
            "--save-detections",
            dets,
        ]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())["figures"]
    assert figures["ap50"] >= 0.5 and 0 < figures["map"] <= figures["ap50"]
    # Any COCO tool re-scores the saved detections to the same figures.
    rescored = coco_map(load_coco(*synth_coco_val).coco, json.loads(dets.read_text()))
    assert rescored.map == pytest.approx(figures["map"]) and rescored.ar100 == pytest.approx(figures["ar100"])
    assert "ap50" in result.output


def test_eval_cli_classifier_figures_and_confusion_png(
    trained_classifier_ckpt: Path, synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    report, png = tmp_path / "cls.json", tmp_path / "cm.png"
    result = _invoke(
        [
            "eval",
            trained_classifier_ckpt,
            "--data",
            synth_coco_val[0],
            "--ann",
            synth_coco_val[1],
            "--json",
            report,
            "--confusion-png",
            png,
        ]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())["figures"]
    assert set(figures["per_class_accuracy"]) == {"circle", "square", "triangle"}
    assert figures["accuracy"] >= 0.9
    for key in ("mean_class_accuracy", "images_all_rois_correct", "precision", "recall", "f1"):
        assert 0.7 <= figures[key] <= 1.0, key
    assert sum(map(sum, figures["confusion"])) == figures["samples"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_missing_image_folder(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _invoke(
        [
            "train",
            "--model",
            "mobilenet-det",
            "--data",
            tmp_path / "nope",
            "--ann",
            synth_coco[1],
            "--out",
            out,
            "--no-progress",
        ]
    )
    _one_error_line(result, str(tmp_path / "nope"), "image folder not found")
    assert not out.exists()


def test_train_json_not_coco_instances(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "captions.json"
    bad.write_text(json.dumps({"images": [], "annotations": []}))
    out = tmp_path / "run"
    result = _invoke(
        ["train", "--model", "mobilenet-det", "--data", synth_coco[0], "--ann", bad, "--out", out, "--no-progress"]
    )
    _one_error_line(result, str(bad), "not a COCO instances file", "give a COCO instances JSON")
    assert not out.exists()


def test_train_unknown_model(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _invoke(
        ["train", "--model", "yolo-v99", "--data", synth_coco[0], "--ann", synth_coco[1], "--out", out, "--no-progress"]
    )
    _one_error_line(result, "unknown model 'yolo-v99'", "mobilenet-det", "resnet50-roi")
    assert not out.exists()


def test_train_resume_from_the_other_model(
    trained_classifier_ckpt: Path, synth_coco: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = _invoke(
        [
            "train",
            "--model",
            "mobilenet-det",
            "--data",
            synth_coco[0],
            "--ann",
            synth_coco[1],
            "--out",
            out,
            "--resume",
            trained_classifier_ckpt,
            "--no-progress",
        ]
    )
    _one_error_line(result, str(trained_classifier_ckpt), "is a resnet50-roi checkpoint, not mobilenet-det")
    assert not out.exists()


def test_eval_pickled_full_model(synth_coco_val: tuple[Path, Path], tmp_path: Path) -> None:
    pickled = tmp_path / "model.pt"
    torch.save(create_model("resnet50-roi", imgsz=64, layers=(1, 1, 1, 1), base_width=8), pickled)
    report = tmp_path / "report.json"
    result = _invoke(["eval", pickled, "--data", synth_coco_val[0], "--ann", synth_coco_val[1], "--json", report])
    _one_error_line(result, str(pickled), "pickled full-model file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_eval_missing_image_folder(
    trained_detector_ckpt: Path, synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    result = _invoke(
        ["eval", trained_detector_ckpt, "--data", tmp_path / "gone", "--ann", synth_coco_val[1], "--json", report]
    )
    _one_error_line(result, str(tmp_path / "gone"), "image folder not found")
    assert not report.exists()

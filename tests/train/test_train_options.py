"""Early stopping, frozen layers with a local torchvision-format backbone file, and DDP on two CPU processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from objectix_edge.models import create_model
from objectix_edge.models.checkpoint import load_checkpoint, read_checkpoint_payload
from objectix_edge.spec import Category
from objectix_edge.train.trainer import train
from tests.conftest import REPO_ROOT, TINY_CLASSIFIER, TINY_DETECTOR
from tests.fixtures.trained import tiny_config


def test_early_stopping_stops_when_validation_stalls(
    synth_coco: tuple[Path, Path], synth_coco_val: tuple[Path, Path], tmp_path: Path
) -> None:
    # A learning rate this small cannot move mAP off zero, so epoch 2 is no better than epoch 1.
    cfg = tiny_config(
        "mobilenet-det",
        TINY_DETECTOR,
        {"epochs": 6, "batch": 16, "lr": 1e-9, "patience": 1},
        synth_coco,
        tmp_path,
        val_data=synth_coco_val[0],
        val_ann=synth_coco_val[1],
    )
    result = train(cfg)
    assert result.stopped_early and len(result.history) == 2 and result.steps == 2 * 3
    assert load_checkpoint(result.best).train_state["epoch"] == 1  # best.pt is the first epoch's


def test_freeze_until_keeps_pretrained_layers(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    cats = (Category(1, "circle"), Category(2, "square"), Category(3, "triangle"))
    source_model = create_model(
        "resnet50-roi", categories=cats[:2], **TINY_CLASSIFIER
    )  # other head size: fc is skipped
    weights = tmp_path / "resnet50-tiny.pth"
    state = {k: v for k, v in source_model.state_dict().items() if not k.startswith("roi_gate.")}
    torch.save(state, weights)
    cfg = tiny_config(
        "resnet50-roi",
        TINY_CLASSIFIER,
        {"epochs": 1, "batch": 16, "lr": 1e-2},
        synth_coco,
        tmp_path / "run",
        pretrained=weights,
        freeze_until="layer3",
    )
    trained = read_checkpoint_payload(train(cfg).last)["state_dict"]
    for key, value in state.items():
        if key.startswith(("conv1.", "bn1.", "layer1.", "layer2.")):
            assert torch.equal(trained[key], value), key  # frozen, BatchNorm statistics included
    changed = [
        k
        for k in trained
        if k.startswith("layer3.") and trained[k].is_floating_point() and not torch.equal(trained[k], state[k])
    ]
    assert changed


@pytest.mark.slow
def test_ddp_two_cpu_processes(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "objectix_edge",
        "train",
        "--model",
        "mobilenet-det",
        "--data",
        str(synth_coco[0]),
        "--ann",
        str(synth_coco[1]),
        "--epochs",
        "1",
        "--batch",
        "8",
        "--out",
        str(out),
        "--no-progress",
        "--device",
        "cpu",
        "--imgsz",
        "128",
        "--model-arg",
        "width_mult=0.25",
        "--model-arg",
        "depth_mult=0.34",
        "--model-arg",
        "neck_channels=32",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    payload = read_checkpoint_payload(out / "last.pt")
    state = payload["train_state"]
    assert state["world_size"] == 2
    assert state["step"] == 48 // 2 // 8  # each process saw its half of the data
    # Same format as a single-process checkpoint: it loads and runs.
    single = tiny_config("mobilenet-det", TINY_DETECTOR, {"epochs": 1, "batch": 8}, synth_coco, tmp_path / "single")
    reference = read_checkpoint_payload(train(single).last)
    assert set(payload) == set(reference) and set(state) == set(reference["train_state"])
    assert set(payload["state_dict"]) == set(reference["state_dict"])
    model = load_checkpoint(out / "last.pt").model
    assert model(torch.zeros(1, 3, 128, 128)).shape == (1, model.spec.max_det, 6)

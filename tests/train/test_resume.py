"""--resume from a mid-epoch checkpoint ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from objectix_edge.errors import InputError
from objectix_edge.models.checkpoint import read_checkpoint_payload
from objectix_edge.train.train_config import Schedule
from objectix_edge.train.trainer import train
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR
from tests.fixtures.trained import tiny_config


def _rows(path: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(path.open())]


@pytest.mark.parametrize(
    ("model", "tiny", "schedule", "resume_step"),
    [("mobilenet-det", TINY_DETECTOR, Schedule.COSINE, 4), ("resnet50-roi", TINY_CLASSIFIER, Schedule.PLATEAU, 14)],
)
def test_resume_matches_uninterrupted_run(
    model: str,
    tiny: dict,
    schedule: Schedule,
    resume_step: int,
    synth_coco: tuple[Path, Path],
    synth_coco_val: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    recipe = {"epochs": 2, "batch": 8, "lr": 3e-3, "schedule": schedule, "save_every": 2, "keep_last": 0}
    full_cfg = tiny_config(
        model, tiny, recipe, synth_coco, tmp_path / "full", val_data=synth_coco_val[0], val_ann=synth_coco_val[1]
    )
    full = train(full_cfg)
    mid = tmp_path / "full" / f"step-{resume_step:06d}.pt"
    state = read_checkpoint_payload(mid)["train_state"]
    assert state["step"] == resume_step and state["batch_in_epoch"] > 0  # taken inside an epoch
    resumed = train(replace(full_cfg, out=tmp_path / "resumed", resume=mid))
    assert resumed.steps == full.steps
    a, b = read_checkpoint_payload(full.last), read_checkpoint_payload(resumed.last)
    for key, value in a["state_dict"].items():
        if value.is_floating_point():
            assert torch.max(torch.abs(value - b["state_dict"][key])).item() <= 1e-6, key
        else:
            assert torch.equal(value, b["state_dict"][key]), key
    assert a["train_state"]["scheduler"] == b["train_state"]["scheduler"]
    assert _rows(full.metrics_csv) == _rows(resumed.metrics_csv)
    # Flags that would change what the resumed steps compute are refused, not silently used or ignored.
    changed = tmp_path / "changed"
    with pytest.raises(InputError) as info:
        train(replace(full_cfg, out=changed, resume=mid, batch=4, lr=1e-2))
    assert str(info.value) == (
        f"{mid}: --resume continues its run exactly, but --batch 4 (the checkpoint's: 8); "
        "--lr 0.01 (the checkpoint's: 0.003) differ; pass the checkpoint's values, or train anew without --resume"
    )
    assert not changed.exists() or not list(changed.glob("*.pt"))

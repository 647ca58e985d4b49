"""Splitting an instances file by image: disjoint, complete, seeded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.data.coco import load_coco
from objectix_edge.data.split import split_coco
from objectix_edge.errors import InputError


def test_split_is_disjoint_complete_and_seeded(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    train_json, val_json = split_coco(synth_coco[1], tmp_path / "a", val_images=10, seed=1)
    train, val = json.loads(train_json.read_text()), json.loads(val_json.read_text())
    full = json.loads(synth_coco[1].read_text())
    train_ids, val_ids = {i["id"] for i in train["images"]}, {i["id"] for i in val["images"]}
    assert len(val_ids) == 10 and not train_ids & val_ids and train_ids | val_ids == {i["id"] for i in full["images"]}
    assert len(train["annotations"]) + len(val["annotations"]) == len(full["annotations"])
    assert all(a["image_id"] in val_ids for a in val["annotations"])
    assert load_coco(synth_coco[0], val_json).categories == load_coco(*synth_coco).categories
    again, _ = split_coco(synth_coco[1], tmp_path / "b", val_images=10, seed=1)
    assert again.read_text() == train_json.read_text()


def test_split_cli_and_bad_count(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["data", "split", str(synth_coco[1]), str(tmp_path / "s"), "--val", "8"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "train.json").is_file() and (tmp_path / "s" / "val.json").is_file()
    with pytest.raises(InputError, match="--val must be between 1 and 47"):
        split_coco(synth_coco[1], tmp_path / "t", val_images=48)
    assert not (tmp_path / "t").exists()

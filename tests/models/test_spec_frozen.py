"""ModelSpec (and TrainConfig) are frozen all the way: model_kwargs cannot change in place, and round-trips stay as they were."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest

from objectix_edge.enums import Task
from objectix_edge.spec import Category, FrozenKwargs, ModelSpec
from objectix_edge.train.train_config import TrainConfig


def _spec(**kwargs: object) -> ModelSpec:
    return ModelSpec(
        "mobilenet-det", Task.DETECT, (64, 64), (Category(1, "a"),), ("images",), ("detections",), **kwargs
    )  # type: ignore[arg-type]


def test_model_kwargs_are_read_only_and_a_copy_of_what_was_given() -> None:
    given = {"width_mult": 0.25, "layers": [1, 2]}
    spec = _spec(model_kwargs=given)
    assert isinstance(spec.model_kwargs, FrozenKwargs) and spec.model_kwargs == given
    with pytest.raises(TypeError):
        spec.model_kwargs["width_mult"] = 1.0  # type: ignore[index]
    given["width_mult"] = 1.0
    given["layers"].append(3)  # type: ignore[attr-defined]
    assert spec.model_kwargs == {"width_mult": 0.25, "layers": [1, 2]}
    assert {**spec.model_kwargs, "imgsz": 96}["imgsz"] == 96 and dict(spec.model_kwargs)["layers"] == [1, 2]


def test_round_trips_copies_and_pickles_keep_the_spec() -> None:
    spec = _spec(model_kwargs={"imgsz": 64, "layers": [1, 1]}, max_det=7)
    data = spec.to_dict()
    assert type(data["model_kwargs"]) is dict and data["model_kwargs"] == {"imgsz": 64, "layers": [1, 1]}
    assert ModelSpec.from_json(spec.to_json()) == spec
    assert ModelSpec.from_dict(data) == spec
    assert copy.deepcopy(spec) == spec and pickle.loads(pickle.dumps(spec)) == spec
    assert json.loads(spec.to_json())["model_kwargs"] == {"imgsz": 64, "layers": [1, 1]}


def test_fields_a_spec_leaves_out_take_the_dataclass_defaults() -> None:
    data = _spec().to_dict()
    for key in ("max_det", "roi_context", "pad_value", "model_kwargs", "channel_order", "pixel_scale"):
        data.pop(key)
    for key in ("resize", "resize_kernel", "max_side", "roi_mode", "spec_version"):
        data.pop(key)
    assert ModelSpec.from_dict(data) == _spec()


def test_given_fields_are_still_checked() -> None:
    from objectix_edge.errors import ArtifactError

    for key, bad in (("max_det", 0), ("roi_context", -1.0), ("pixel_scale", 0), ("model_kwargs", [1]), ("resize", "x")):
        data = {**_spec().to_dict(), key: bad}
        with pytest.raises(ArtifactError, match=key):
            ModelSpec.from_dict(data)


def test_train_config_model_kwargs_are_frozen_too_and_checkpoint_as_a_plain_dict(tmp_path: Path) -> None:
    given = {"width_mult": 0.25}
    cfg = TrainConfig("mobilenet-det", tmp_path, tmp_path / "a.json", tmp_path / "out", model_kwargs=given)
    given["width_mult"] = 1.0
    with pytest.raises(TypeError):
        cfg.model_kwargs["width_mult"] = 2.0  # type: ignore[index]
    data = cfg.to_dict()
    assert type(data["model_kwargs"]) is dict and data["model_kwargs"] == {"width_mult": 0.25}

"""ModelSpec versions: a version-1 spec (before the preprocessing fields) means RGB, 0-1, ImageNet, as it did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from objectix_edge.errors import ArtifactError
from objectix_edge.export.metadata import read_onnx_spec, set_metadata
from objectix_edge.modelio.preprocess import preprocess_image
from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.spec import SPEC_METADATA_KEY, SPEC_VERSION, ChannelOrder, ModelSpec, ResizeKernel, ResizePolicy

NEW_FIELDS = ("channel_order", "pixel_scale", "resize", "resize_kernel", "max_side", "roi_mode")


def _as_version_1(spec: ModelSpec) -> dict:
    data = spec.to_dict()
    for key in NEW_FIELDS:
        data.pop(key)
    data["spec_version"] = 1
    return data


def test_version_1_spec_reads_as_rgb_unit_scale_imagenet(tiny_det_ckpt: Path) -> None:
    spec = load_checkpoint(tiny_det_ckpt).spec
    old = ModelSpec.from_dict(_as_version_1(spec))
    assert old == spec and spec.to_dict()["spec_version"] == SPEC_VERSION == 2
    assert (old.channel_order, old.pixel_scale, old.resize, old.resize_kernel) == (
        ChannelOrder.RGB,
        1.0,
        ResizePolicy.LETTERBOX,
        ResizeKernel.AREA,
    )
    # Version 1's arithmetic, written out: letterboxed BGR → RGB, /255, ImageNet mean/std.
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    got, _ = preprocess_image(image, old)
    rgb = image[..., ::-1].astype(np.float32) / 255.0  # 128 wide → 128 input: no resize, pad rows only
    h, w = old.input_size
    top = (h - 96) // 2
    expect = (rgb - np.asarray(old.mean, np.float32)) / np.asarray(old.std, np.float32)
    assert np.abs(got[:, top : top + 96, :] - expect.transpose(2, 0, 1)).max() < 1e-5


def test_version_1_checkpoint_and_onnx_still_open(tiny_cls_ckpt: Path, tiny_cls_onnx: Path, tmp_path: Path) -> None:
    payload = torch.load(tiny_cls_ckpt, weights_only=True)
    payload["spec"] = _as_version_1(ModelSpec.from_dict(payload["spec"]))
    old_ckpt = tmp_path / "old.pt"
    torch.save(payload, old_ckpt)
    assert load_checkpoint(old_ckpt).spec == load_checkpoint(tiny_cls_ckpt).spec
    proto = onnx.load(str(tiny_cls_onnx))
    set_metadata(proto, {SPEC_METADATA_KEY: json.dumps(_as_version_1(read_onnx_spec(tiny_cls_onnx)))})
    old_onnx = tmp_path / "old.onnx"
    onnx.save(proto, str(old_onnx))
    assert read_onnx_spec(old_onnx) == read_onnx_spec(tiny_cls_onnx)


def test_newer_spec_version_is_refused(tiny_det_ckpt: Path) -> None:
    data = load_checkpoint(tiny_det_ckpt).spec.to_dict()
    data["spec_version"] = SPEC_VERSION + 1
    with pytest.raises(ArtifactError, match="newer than this objectix-edge reads"):
        ModelSpec.from_dict(data, source="x.pt")

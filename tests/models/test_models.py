"""Registry, both model families, their specs and checkpoints."""

from __future__ import annotations

import pytest
import torch

from objectix_edge.enums import Task
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.models import create_model, list_models, register_model
from objectix_edge.models.checkpoint import load_checkpoint, load_torchvision_backbone, save_checkpoint
from objectix_edge.models.mobilenet_det import decode_centernet
from objectix_edge.spec import Category, ModelSpec
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR

SHAPES = (Category(1, "circle"), Category(2, "square"), Category(3, "triangle"))


def test_registry_lists_both_models_and_rejects_duplicates() -> None:
    assert {"mobilenet-det", "resnet50-roi"} <= set(list_models())
    with pytest.raises(ValueError, match="already registered"):
        register_model("mobilenet-det")(lambda: None)
    with pytest.raises(InputError, match="unknown model 'yolo'"):
        create_model("yolo")


def test_detector_eval_output_contract() -> None:
    model = create_model("mobilenet-det", **TINY_DETECTOR).eval()
    assert model.spec.task is Task.DETECT and model.spec.num_classes == 80
    out = model(torch.rand(3, 3, 128, 128))
    assert out.shape == (3, TINY_DETECTOR["max_det"], 6)
    boxes, scores, classes = out[..., :4], out[..., 4], out[..., 5]
    assert torch.all(boxes >= 0) and torch.all(boxes <= 128)
    assert torch.all(boxes[..., 2] >= boxes[..., 0]) and torch.all(boxes[..., 3] >= boxes[..., 1])
    assert torch.all((scores >= 0) & (scores <= 1))
    assert torch.all(classes == classes.round()) and classes.max() < 80
    # Scores come sorted from TopK.
    assert torch.all(scores[:, :-1] >= scores[:, 1:])


def test_detector_uses_depthwise_convolutions_and_relu6() -> None:
    model = create_model("mobilenet-det", **TINY_DETECTOR)
    depthwise = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.groups == m.in_channels > 1]
    assert len(depthwise) >= 10
    assert any(isinstance(m, torch.nn.ReLU6) for m in model.modules())


def test_decode_places_a_single_peak_at_the_right_box() -> None:
    stride, size = 4, 32
    heat = torch.full((1, 3, size, size), -10.0)
    heat[0, 2, 10, 5] = 5.0  # class 2 at grid (x=5, y=10)
    log_size = torch.zeros(1, 2, size, size)
    log_size[0, 0, 10, 5] = torch.log(torch.tensor(4.0))  # width 4 strides = 16 px
    log_size[0, 1, 10, 5] = torch.log(torch.tensor(2.0))  # height 8 px
    offset = torch.full((1, 2, size, size), 0.5)
    dets = decode_centernet({"heatmap": heat, "size": log_size, "offset": offset}, stride, 5, (128, 128))
    x1, y1, x2, y2, score, cls = dets[0, 0].tolist()
    assert cls == 2 and score == pytest.approx(torch.sigmoid(torch.tensor(5.0)).item())
    assert (x1, y1, x2, y2) == pytest.approx((22 - 8, 42 - 4, 22 + 8, 42 + 4))
    assert torch.all(dets[0, 1:, 4] < 1e-3)


def test_detector_train_mode_returns_raw_maps() -> None:
    model = create_model("mobilenet-det", categories=SHAPES, **TINY_DETECTOR).train()
    raw = model(torch.rand(2, 3, 128, 128))
    assert raw["heatmap"].shape == (2, 3, 32, 32)
    assert raw["size"].shape == raw["offset"].shape == (2, 2, 32, 32)


def test_roi_classifier_mask_changes_the_logits() -> None:
    model = create_model("resnet50-roi", categories=SHAPES, **TINY_CLASSIFIER).eval()
    images = torch.rand(2, 3, 64, 64)
    full = model(images, torch.ones(2, 1, 64, 64))
    corner = torch.zeros(2, 1, 64, 64)
    corner[..., :16, :16] = 1
    assert full.shape == (2, 3)
    assert not torch.allclose(full, model(images, corner))


def test_resnet50_default_matches_torchvision_parameter_names(tmp_path) -> None:
    import torchvision

    reference = torchvision.models.resnet50(num_classes=1000)
    path = tmp_path / "resnet50-local.pth"
    torch.save(reference.state_dict(), path)
    model = create_model("resnet50-roi")
    loaded = load_torchvision_backbone(model, path)
    assert "layer4.2.conv3.weight" in loaded and "fc.weight" not in loaded  # 80 classes, not 1000
    assert torch.equal(model.layer3[0].conv1.weight, reference.layer3[0].conv1.weight)


def test_freeze_until_layer3_freezes_stem_to_layer2_only() -> None:
    model = create_model("resnet50-roi", categories=SHAPES, **TINY_CLASSIFIER)
    frozen = model.freeze_until("layer3")
    assert frozen == ["stem", "layer1", "layer2"]
    assert not any(p.requires_grad for p in model.layer2.parameters())
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert all(p.requires_grad for p in model.roi_gate.parameters())
    model.train()
    assert not model.layer1.training and model.layer3.training
    with pytest.raises(ValueError, match="freeze-until"):
        model.freeze_until("layer9")


def test_checkpoint_round_trip_rebuilds_model_and_spec(tmp_path) -> None:
    model = create_model("mobilenet-det", categories=SHAPES, **TINY_DETECTOR).eval()
    path = save_checkpoint(tmp_path / "det.pt", model, {"step": 7})
    ckpt = load_checkpoint(path, expect_model="mobilenet-det")
    assert ckpt.spec == model.spec and ckpt.train_state == {"step": 7}
    x = torch.rand(1, 3, 128, 128)
    assert torch.equal(ckpt.model(x), model(x))
    assert ModelSpec.from_json(model.spec.to_json()) == model.spec


def test_checkpoint_errors_are_one_line(tmp_path) -> None:
    model = create_model("resnet50-roi", categories=SHAPES, **TINY_CLASSIFIER)
    path = save_checkpoint(tmp_path / "cls.pt", model)
    with pytest.raises(ArtifactError, match="is a resnet50-roi checkpoint, not mobilenet-det"):
        load_checkpoint(path, expect_model="mobilenet-det")
    pickled = tmp_path / "full.pt"
    torch.save(model, pickled)
    with pytest.raises(ArtifactError, match="pickled full-model"):
        load_checkpoint(pickled)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ArtifactError, match="corrupt or truncated"):
        load_checkpoint(corrupt)
    assert not list(tmp_path.glob(".*.tmp"))

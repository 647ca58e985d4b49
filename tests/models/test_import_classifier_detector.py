"""The 4-class torchvision ResNet-50 and the MobileNet-inspired detector: import, predict, export, exactly.

References are written from the issue's facts (tests/models/seed_reference.py): the classifier through PIL
and torchvision-style transforms, the detector through ``F.interpolate``; both start from the image file.
The classifier's ResNet has one block per stage (full widths) to keep the suite fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from objectix_edge.categories import categories_from_names
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models.importers import import_to_checkpoint
from objectix_edge.serve.predict import predict_file
from tests.models.seed_reference import FourClassRef, MobileLikeRef, fit_batchnorm, spread_weights

FOUR = categories_from_names("bird,airplane,train,boat")
IMAGES = ("000000000009.jpg", "000000000025.jpg")
TOL = 1e-4


def test_four_class_import_predict_export_equal_reference(coco_mini: Path, tmp_path: Path) -> None:
    torch.manual_seed(5)  # the convs' default init: deterministic whatever ran before
    ref = spread_weights(FourClassRef(layers=(1, 1, 1, 1)), seed=5)
    src = tmp_path / "resnet50_best_45.pth"
    torch.save({"model_state_dict": ref.net.state_dict()}, src)
    out, result = import_to_checkpoint(
        "torchvision-classifier", src, tmp_path / "cls.pt", categories=FOUR, layers=(1, 1, 1, 1)
    )
    assert "MLP head 256" in result.summary
    onnx_path = export_onnx(out, tmp_path / "cls.onnx")
    for name in IMAGES:
        image = coco_mini / "images" / name
        expected = ref(image)
        for artifact in (out, onnx_path):
            got = np.asarray(predict_file(artifact, image).probabilities)
            assert np.abs(got - expected).max() < TOL, artifact.name
        assert np.abs(got - ref(image, rgb=False)).max() > TOL  # BGR fed instead of RGB
        assert np.abs(got - ref(image, cv2_resize=True)).max() > TOL  # OpenCV bilinear instead of Pillow's


def test_classifier_category_count_must_match_head(tmp_path: Path) -> None:
    src = tmp_path / "cls.pth"
    torch.save(FourClassRef(layers=(1, 1, 1, 1)).net.state_dict(), src)
    with pytest.raises(InputError, match="head has 4 outputs but --categories names 3"):
        import_to_checkpoint("torchvision-classifier", src, tmp_path / "x.pt", categories=FOUR[:3], layers=(1, 1, 1, 1))
    assert not (tmp_path / "x.pt").exists()


def _expected_detections(ref: MobileLikeRef, image: Path, max_det: int, **mistake: bool) -> np.ndarray:
    """The reference's top ``max_det`` rows by score, class = argmax, xywh → xyxy, in original pixels (clipped)."""
    import cv2

    h, w = cv2.imread(str(image)).shape[:2]
    scores, boxes = ref(image, **mistake)
    best, cls = scores.max(1), scores.argmax(1)
    order = np.argsort(-best, kind="stable")[:max_det]
    xywh = boxes[order]
    xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]] * (w / 640), 0, w)
    xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]] * (h / 640), 0, h)
    return np.concatenate([xyxy, best[order, None], cls[order, None]], axis=1)


def _same_set(got: np.ndarray, expected: np.ndarray) -> bool:
    """Same rows in score order: equal classes, scores within 1e-4, boxes within 1e-3 px (relative to size)."""
    if got.shape != expected.shape or not np.array_equal(got[:, 5], expected[:, 5]):
        return False
    scale = max(1.0, float(np.abs(expected[:, :4]).max()))
    return bool(
        np.abs(got[:, 4] - expected[:, 4]).max() < TOL and np.abs(got[:, :4] - expected[:, :4]).max() < 1e-3 * scale
    )


@pytest.mark.parametrize("scaled", [False, True], ids=["raw-boxes", "boxes-scaled"])
def test_mobilelike_import_predict_export_same_detections(scaled: bool, coco_mini: Path, tmp_path: Path) -> None:
    image = coco_mini / "images" / IMAGES[0]
    torch.manual_seed(7)
    ref = fit_batchnorm(spread_weights(MobileLikeRef(classes=3, boxes=2, scaled=scaled), seed=7), image)
    src = tmp_path / "v2weights.ckpt"
    torch.save(
        {"epoch": 3, "batch_index": 10, "model_state_dict": ref.state_dict(), "optimizer_state_dict": {}, "loss": 0.5},
        src,
    )
    out, _ = import_to_checkpoint(
        "mobilelike-det", src, tmp_path / "det.pt", num_classes=3, boxes=2, boxes_scaled=scaled, max_det=5
    )
    onnx_path = export_onnx(out, tmp_path / "det.onnx")
    expected = _expected_detections(ref, image, 5)
    for artifact in (out, onnx_path):
        got = np.asarray(predict_file(artifact, image).detections)
        assert _same_set(got, expected), artifact.name
    assert not _same_set(got, _expected_detections(ref, image, 5, rgb=False))


def test_mobilelike_unused_loc_layers_still_placed(tmp_path: Path) -> None:
    state = MobileLikeRef(classes=3, boxes=2, scaled=False).state_dict()
    state.pop("loc_layers.1.bias")
    src = tmp_path / "v2weights.ckpt"
    torch.save({"model_state_dict": state}, src)
    with pytest.raises(ArtifactError, match="missing key 'loc_layers.1.bias'"):
        import_to_checkpoint("mobilelike-det", src, tmp_path / "det.pt", num_classes=3, boxes=2)


def test_wrong_format_and_pickled_model_are_one_line(tmp_path: Path) -> None:
    src = tmp_path / "v2weights.ckpt"
    torch.save({"model_state_dict": MobileLikeRef(classes=3, boxes=2, scaled=False).state_dict()}, src)
    with pytest.raises(
        ArtifactError, match="does not hold a objectix checkpoint \\(its keys look like mobilelike-det\\)"
    ):
        import_to_checkpoint("objectix", src, tmp_path / "x.pt")
    whole = tmp_path / "whole.pth"
    torch.save(torch.nn.Linear(2, 2), whole)
    with pytest.raises(ArtifactError, match="pickled whole model.*torch.save\\(model.state_dict\\(\\)"):
        import_to_checkpoint("objectix", whole, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_pretrained_refuses_a_trained_head_and_points_to_import(tmp_path: Path) -> None:
    from objectix_edge.models.checkpoint import load_torchvision_backbone
    from objectix_edge.models.registry import create_model

    src = tmp_path / "resnet50_best_45.pth"
    torch.save({"model_state_dict": FourClassRef(layers=(1, 1, 1, 1)).net.state_dict()}, src)
    model = create_model("resnet50-cls", categories=FOUR, layers=(1, 1, 1, 1))
    with pytest.raises(ArtifactError, match="import torchvision-classifier and train with --init-from"):
        load_torchvision_backbone(model, src)


def test_whole_image_classifier_gets_crops_in_the_cascade_preprocessing(coco_mini: Path) -> None:
    import cv2

    from objectix_edge.modelio.roi_feeds import preprocess_rois
    from objectix_edge.models.registry import create_model

    spec = create_model("resnet50-cls", categories=FOUR, layers=(1, 1, 1, 1), base_width=8, imgsz=64).spec
    frame = cv2.imread(str(coco_mini / "images" / IMAGES[0]))
    feeds = preprocess_rois(frame, [[10, 20, 110, 90], [200, 100, 260, 300]], spec)
    assert list(feeds) == ["images"] and feeds["images"].shape == (2, 3, 64, 64)
    assert list(preprocess_rois(frame, [], spec)) == ["images"]

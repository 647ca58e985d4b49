"""ObjectiX checkpoints (both attention variants, both file layouts) imported, predicted and exported exactly.

The reference forward (tests/models/seed_reference.py) is written from the issue's facts; predict starts
from the image file, like the seeds' RunPrediction.py. ResNet stages are shallower than ResNet-50's here
(1, 1, 1, 1 blocks) to keep the suite fast; one test imports the full ResNet-50 key set.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from objectix_edge.errors import ArtifactError
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models.checkpoint import load_checkpoint
from objectix_edge.models.importers import import_checkpoint, import_to_checkpoint
from objectix_edge.serve.predict import predict_file
from objectix_edge.spec import ChannelOrder, ResizePolicy, RoiMode
from tests.models.seed_reference import ObjectixRef, spread_weights

SHALLOW = (1, 1, 1, 1)
SIZES = ((120, 160), (200, 96))  # (h, w): two image sizes through the same dynamic-size model
BOX = (20, 30, 80, 95)
TOL = 1e-4  # on the probabilities


@pytest.fixture(scope="module")
def objectix_images(coco_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """A real coco-mini photo at two sizes (lossless PNG) with a box mask PNG of each image's size."""
    out = tmp_path_factory.mktemp("objectix_images")
    photo = cv2.imread(str(coco_mini / "images" / "000000000009.jpg"))
    pairs = []
    for h, w in SIZES:
        image, mask = out / f"img_{h}x{w}.png", out / f"mask_{h}x{w}.png"
        cv2.imwrite(str(image), cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA))
        m = np.zeros((h, w), np.uint8)
        m[BOX[1] : BOX[3], BOX[0] : BOX[2]] = 255
        cv2.imwrite(str(mask), m)
        pairs.append((image, mask))
    return pairs


def _mask(path: Path) -> np.ndarray:
    return (cv2.imread(str(path), cv2.IMREAD_UNCHANGED) > 0).astype(np.float32)


@pytest.mark.parametrize(
    ("multiply", "wrapped"), [(False, False), (True, True)], ids=["added-88000", "multiplied-check"]
)
def test_objectix_import_predict_export_equal_reference(
    multiply: bool, wrapped: bool, objectix_images: list[tuple[Path, Path]], tmp_path: Path
) -> None:
    torch.manual_seed(int(multiply))  # the convs' default init: deterministic whatever ran before
    ref = spread_weights(ObjectixRef(multiply=multiply, layers=SHALLOW), seed=int(multiply))
    src = tmp_path / ("check.pth" if wrapped else "88000.torch")
    state = ref.state_dict()
    torch.save({"model_state_dict": state, "optimizer_state_dict": {}, "lr": 1e-4} if wrapped else state, src)
    out, result = import_to_checkpoint("objectix", src, tmp_path / "objectix.pt")
    assert ("multiplied" if multiply else "added") in result.summary
    ckpt = load_checkpoint(out)
    spec = ckpt.spec
    assert (spec.channel_order, spec.pixel_scale, spec.resize, spec.roi_mode) == (
        ChannelOrder.BGR,
        255.0,
        ResizePolicy.KEEP,
        RoiMode.FULL_IMAGE,
    )
    assert ckpt.train_state["imported"].get("lr") == (1e-4 if wrapped else None)
    onnx_path = export_onnx(out, tmp_path / "objectix.onnx")
    for image, mask_png in objectix_images:
        expected = ref(image, _mask(mask_png))
        for artifact in (out, onnx_path):
            got = np.asarray(predict_file(artifact, image, mask=mask_png).probabilities)
            assert np.abs(got - expected).max() < TOL, (artifact.name, image.name)
        by_box = np.asarray(predict_file(out, image, box=",".join(map(str, BOX))).probabilities)
        assert np.abs(by_box - expected).max() < TOL  # a box and its mask PNG are the same ROI
        # Sensitivity: the same comparison fails against each mistaken reference.
        for mistake in ({"rgb": True}, {"swap_op": True}, {"align_corners": True}):
            wrong = ref(image, _mask(mask_png), **mistake)
            assert np.abs(got - wrong).max() > TOL, mistake


def test_full_resnet50_keys_import(tmp_path: Path) -> None:
    """The real ObjectiX layout (ResNet-50 3-4-6-3, 80 classes) imports; a tiny image runs equal to the reference."""
    torch.manual_seed(3)
    ref = spread_weights(ObjectixRef(multiply=True), seed=3)
    src = tmp_path / "88000.torch"
    torch.save(ref.state_dict(), src)
    result = import_checkpoint("objectix", src)
    assert "ResNet-50" in result.summary and result.model.spec.num_classes == 80
    image = tmp_path / "tiny.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    mask = np.zeros((48, 64), np.float32)
    mask[10:30, 5:40] = 1
    from objectix_edge.runtime.torch_runner import TorchRunner
    from objectix_edge.serve.predict import predict_image

    runner = TorchRunner(result.model, result.model.spec)
    got = predict_image(runner, cv2.imread(str(image)), mask=mask > 0).probabilities
    assert np.abs(np.asarray(got) - ref(image, mask)).max() < TOL


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("Net.bn1.running_mean"), "missing key 'Net.bn1.running_mean'"),
        (lambda s: s.__setitem__("Net.extra.weight", torch.zeros(1)), "unexpected key 'Net.extra.weight'"),
        (
            lambda s: s.__setitem__("Net.fc.weight", torch.zeros(81, 2048)),
            "key 'Net.fc.weight' has shape \\[81, 2048\\]",
        ),
    ],
    ids=["missing", "unexpected", "81-class-fc"],
)
def test_objectix_bad_keys_one_line_nothing_written(edit, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = ObjectixRef(multiply=False, layers=SHALLOW).state_dict()
    edit(state)
    src, out = tmp_path / "bad.torch", tmp_path / "out" / "bad.pt"
    torch.save(state, src)
    with pytest.raises(ArtifactError, match=message):
        import_to_checkpoint("objectix", src, out)
    assert not out.parent.exists()

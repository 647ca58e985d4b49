"""CenterNet targets decode back to the ground truth through the model's own decoder; losses behave."""

from __future__ import annotations

import math

import numpy as np
import torch

from objectix_edge.models.mobilenet_det import decode_centernet
from objectix_edge.train.losses import centernet_loss, focal_loss
from objectix_edge.train.targets import collate_detection, encode_image, gaussian_radius


def test_targets_decode_to_ground_truth() -> None:
    boxes = np.array([[10.0, 12.0, 50.0, 40.0], [70.5, 80.25, 120.0, 126.0], [3.0, 90.0, 20.0, 110.0]], np.float32)
    labels = np.array([0, 2, 1])
    stride, hw = 4, (32, 32)
    t = encode_image(boxes, labels, num_classes=3, out_hw=hw, stride=stride)
    assert t["mask"].sum() == 3 and (t["heatmap"] == 1).sum() == 3
    # Perfect raw maps: logits +/- 20 from the target peaks, sizes and offsets written at the centres.
    heat = np.where(t["heatmap"] == 1, 20.0, -20.0).astype(np.float32)
    size = np.zeros((2, *hw), np.float32)
    offset = np.zeros((2, *hw), np.float32)
    for k in range(3):
        y, x = divmod(int(t["index"][k]), hw[1])
        size[:, y, x], offset[:, y, x] = t["size"][k], t["offset"][k]
    raw = {name: torch.from_numpy(a)[None] for name, a in (("heatmap", heat), ("size", size), ("offset", offset))}
    det = decode_centernet(raw, stride, max_det=5, image_hw=(128, 128))[0].numpy()
    top = det[det[:, 4] > 0.5]
    got = {int(r[5]): r[:4] for r in top}
    assert len(top) == 3
    for box, label in zip(boxes, labels, strict=True):
        np.testing.assert_allclose(got[int(label)], box, atol=1e-3)


def test_gaussian_radius_grows_with_box() -> None:
    assert gaussian_radius(4, 4) < gaussian_radius(16, 16) < gaussian_radius(64, 64)
    assert math.isclose(gaussian_radius(10, 10, 0.7), gaussian_radius(10, 10), rel_tol=0)


def test_focal_loss_is_small_for_a_perfect_heatmap_and_large_otherwise() -> None:
    target = torch.zeros(1, 2, 8, 8)
    target[0, 1, 3, 4] = 1.0
    perfect = torch.where(target == 1, torch.tensor(12.0), torch.tensor(-12.0))
    assert float(focal_loss(perfect, target)) < 1e-4
    assert float(focal_loss(torch.zeros_like(target), target)) > 1.0


def test_centernet_loss_on_a_collated_batch() -> None:
    samples = [
        {
            "images": np.zeros((3, 64, 64), np.float32),
            "boxes": np.array([[4, 4, 30, 30]], np.float32),
            "labels": np.array([1]),
        },
        {
            "images": np.zeros((3, 64, 64), np.float32),
            "boxes": np.zeros((0, 4), np.float32),
            "labels": np.zeros(0, np.int64),
        },
    ]
    batch = collate_detection(samples, num_classes=2, stride=4)
    assert batch["heatmap"].shape == (2, 2, 16, 16) and batch["mask"].sum() == 1
    raw = {
        "heatmap": torch.zeros(2, 2, 16, 16, requires_grad=True),
        "size": torch.zeros(2, 2, 16, 16),
        "offset": torch.zeros(2, 2, 16, 16),
    }
    loss, parts = centernet_loss(raw, batch)
    loss.backward()
    assert torch.isfinite(loss) and set(parts) == {"heatmap", "size", "offset"}
    # log(26/4) for both sides: the size term is exactly that L1.
    assert math.isclose(parts["size"], math.log(26 / 4), rel_tol=1e-5)

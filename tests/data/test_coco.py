"""COCO loading and validation, crowd handling, category subsets, datasets and training transforms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from objectix_edge.data.coco import DetectionDataset, RoiDataset, load_coco, read_image
from objectix_edge.data.transforms import hflip, letterbox_sample, random_resize, random_resized_crop
from objectix_edge.errors import InputError
from objectix_edge.modelio.preprocess import preprocess_detector
from objectix_edge.modelio.roi_feeds import preprocess_rois
from objectix_edge.models import create_model
from objectix_edge.spec import Category
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR

CATS = (Category(1, "circle"), Category(2, "square"), Category(3, "triangle"))


def _with_crowd(synth_coco: tuple[Path, Path], tmp_path: Path) -> Path:
    data = json.loads(synth_coco[1].read_text())
    crowd = dict(data["annotations"][0], id=10_000, iscrowd=1)
    data["annotations"].append(crowd)
    path = tmp_path / "crowd.json"
    path.write_text(json.dumps(data))
    return path


def test_missing_image_folder_names_it(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="image folder not found; pass the folder"):
        load_coco(tmp_path / "nowhere", synth_coco[1])


@pytest.mark.parametrize(
    "content", ['{"images": []}', "[1, 2]", '{"images": [], "annotations": [{"id": 1}], "categories": []}', "not json"]
)
def test_non_coco_json_is_refused(synth_coco: tuple[Path, Path], tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(InputError) as err:
        load_coco(synth_coco[0], bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_missing_images_are_named(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="48 images listed in instances.json are missing"):
        load_coco(tmp_path / "empty", synth_coco[1])


def test_crowd_boxes_are_not_targets(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    plain = load_coco(*synth_coco)
    crowded = load_coco(synth_coco[0], _with_crowd(synth_coco, tmp_path))
    image_id = plain.coco.dataset["annotations"][0]["image_id"]
    assert len(crowded.coco.imgToAnns[image_id]) == len(plain.coco.imgToAnns[image_id]) + 1
    np.testing.assert_array_equal(crowded.targets(image_id).boxes, plain.targets(image_id).boxes)


def test_category_subset_keeps_official_ids_and_contiguous_labels(synth_coco: tuple[Path, Path]) -> None:
    source = load_coco(*synth_coco, categories=["triangle", "circle"])
    assert source.categories == (Category(3, "triangle"), Category(1, "circle"))
    assert source.label_of == {3: 0, 1: 1}
    for image_id in source.image_ids:
        t = source.targets(image_id)
        ids = sorted(a["category_id"] for a in source.coco.imgToAnns[image_id] if a["category_id"] != 2)
        assert sorted([3, 1][label] for label in t.labels) == ids
    with pytest.raises(InputError, match="has no categories \\['hexagon'\\]"):
        load_coco(*synth_coco, categories=["hexagon"])


def test_detection_dataset_eval_matches_inference_preprocessing(synth_coco: tuple[Path, Path]) -> None:
    source = load_coco(*synth_coco)
    model = create_model("mobilenet-det", categories=CATS, **TINY_DETECTOR)
    ds = DetectionDataset(source, model.spec, train=False)
    sample = ds[0]
    t = source.targets(source.image_ids[0])
    expected, lb = preprocess_detector(read_image(t.path), model.spec)
    np.testing.assert_array_equal(sample["images"], expected)
    np.testing.assert_allclose(
        sample["boxes"], t.boxes * lb.scale + [lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y], atol=1e-4
    )


def test_detection_dataset_augmentation_is_seeded_per_epoch(synth_coco: tuple[Path, Path]) -> None:
    source = load_coco(*synth_coco)
    model = create_model("mobilenet-det", categories=CATS, **TINY_DETECTOR)
    ds = DetectionDataset(source, model.spec, train=True, seed=3)
    a, b = ds[5], ds[5]
    np.testing.assert_array_equal(a["images"], b["images"])
    ds.set_epoch(1)
    assert not np.array_equal(ds[5]["images"], a["images"])
    assert a["images"].shape == (3, 128, 128)
    boxes = np.concatenate([ds[i]["boxes"] for i in range(10)])
    assert (boxes >= 0).all() and (boxes <= 128).all()
    assert ((boxes[:, 2] - boxes[:, 0]) >= 2).all()


def test_roi_dataset_eval_uses_inference_crops(synth_coco: tuple[Path, Path]) -> None:
    source = load_coco(*synth_coco)
    model = create_model("resnet50-roi", categories=CATS, **TINY_CLASSIFIER)
    ds = RoiDataset(source, model.spec, train=False)
    assert len(ds) == len(source.coco.dataset["annotations"])
    t = source.targets(source.image_ids[0])
    expected = preprocess_rois(read_image(t.path), t.boxes, model.spec)
    for k in range(len(t.labels)):
        s = ds[k]
        np.testing.assert_array_equal(s["images"], expected["images"][k])
        np.testing.assert_array_equal(s["roi_mask"], expected["roi_mask"][k])
        assert s["labels"] == t.labels[k]
    train_ds = RoiDataset(source, model.spec, train=True)
    s = train_ds[0]
    assert s["images"].shape == (3, 64, 64) and s["roi_mask"].shape == (1, 64, 64) and s["roi_mask"].sum() > 0


def test_transforms_move_boxes_with_pixels() -> None:
    rng = np.random.default_rng(0)
    img = np.zeros((100, 200, 3), np.uint8)
    img[20:40, 30:70] = 255  # one white box
    boxes = np.array([[30, 20, 70, 40]], np.float32)
    labels = np.array([1])

    def box_of(image: np.ndarray) -> list[float]:
        ys, xs = np.nonzero(image[:, :, 0] > 200)
        return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]

    flipped, fboxes = hflip(img, boxes, rng, p=1.0)
    np.testing.assert_allclose(fboxes[0], box_of(flipped))
    boxed, lboxes = letterbox_sample(img, boxes, (128, 128))
    np.testing.assert_allclose(lboxes[0], box_of(boxed), atol=1.0)
    for seed in range(5):
        r = np.random.default_rng(seed)
        out, rboxes, rlabels = random_resize(img, boxes, labels, (128, 128), r, (0.8, 1.2))
        assert out.shape == (128, 128, 3)
        if len(rboxes):
            np.testing.assert_allclose(rboxes[0], box_of(out), atol=1.5)
        crop, cboxes, clabels = random_resized_crop(img, boxes, labels, np.random.default_rng(seed), scale=(0.5, 1.0))
        assert len(cboxes) == len(clabels)
        for b in cboxes:
            assert 0 <= b[0] < b[2] <= crop.shape[1] and 0 <= b[1] < b[3] <= crop.shape[0]

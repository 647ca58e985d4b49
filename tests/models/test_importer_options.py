"""models/importers/options.importer_options: import's options → what each format's importer takes."""

from __future__ import annotations

import pytest

from objectix_edge.errors import InputError
from objectix_edge.models.importers.options import importer_options
from objectix_edge.spec import Category

OPTIONS = {
    "arch": "resnet50",
    "imgsz": 224,
    "num_classes": 2,
    "boxes": 3,
    "box_format": "xyxy",
    "boxes_scaled": True,
    "max_side": 512,
}


def test_each_format_gets_its_own_options() -> None:
    assert importer_options("objectix", None, **OPTIONS) == {"categories": None, "max_side": 512}
    assert importer_options("torchvision-classifier", "cat,dog", **OPTIONS) == {
        "categories": (Category(17, "cat"), Category(18, "dog")),
        "arch": "resnet50",
        "imgsz": 224,
    }
    assert importer_options("mobilelike-det", "a,b", **OPTIONS) == {
        "num_classes": 2,
        "boxes": 3,
        "box_format": "xyxy",
        "boxes_scaled": True,
        "categories": (Category(0, "a"), Category(1, "b")),
    }


def test_a_torchvision_classifier_needs_its_class_names() -> None:
    with pytest.raises(InputError, match="torchvision-classifier needs --categories"):
        importer_options("torchvision-classifier", None, **OPTIONS)

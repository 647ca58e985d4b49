"""A decoded image whose size is not the JSON's width × height: EXIF-rotated photos are read unrotated (as
their boxes are) and said once; any other mismatch is one line naming the image and both sizes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from objectix_edge.data.coco import load_coco
from objectix_edge.errors import InputError

EXIF_ORIENTATION = 0x0112
ROTATE_90 = 6  # "rotate 90° clockwise to display": decoders that honour EXIF swap width and height


def write_set(folder: Path, json_size: tuple[int, int], orientation: int | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :30] = 255  # left half white: shows which way it was read
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    Image.fromarray(pixels).save(folder / "a.jpg", exif=exif.tobytes(), quality=95)
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": json_size[0], "height": json_size[1]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 20, 20], "area": 400, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "thing"}],
    }
    (folder / "instances.json").write_text(json.dumps(data))
    return folder


def test_an_exif_rotated_photo_is_read_as_its_boxes_were_drawn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_set(tmp_path / "set", (60, 40), ROTATE_90)
    source = load_coco(folder, folder / "instances.json")
    with caplog.at_level(logging.WARNING, logger="objectix_edge"):
        image = source.read(1)
        source.read(1)
    assert image.shape == (40, 60, 3) and image[:, :25].mean() > 200 and image[:, 35:].mean() < 50
    notes = [r.getMessage() for r in caplog.records if "EXIF orientation" in r.getMessage()]
    assert notes == [
        f"{folder / 'a.jpg'}: its EXIF orientation turns it to 40x60, but instances.json gives 60x40; read "
        "unrotated, as its boxes are (every image like it is read the same way)"
    ]


def test_any_other_size_mismatch_is_one_line(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "set", (120, 80), None)
    source = load_coco(folder, folder / "instances.json")
    with pytest.raises(InputError) as info:
        source.read(1)
    assert str(info.value) == (
        f"{folder / 'a.jpg'}: decoded 60x40 but instances.json gives 120x80; its boxes would be misplaced: "
        "fix the width/height in the JSON or replace the image"
    )

"""Licence-aware subsets of a COCO set, and the bundled samples made with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from objectix_edge.cli.app import app
from objectix_edge.data.coco import load_coco
from objectix_edge.data.subset import REDISTRIBUTABLE_LICENSES, SubsetConfig, subset_coco
from objectix_edge.errors import InputError
from tests.conftest import REPO_ROOT

SAMPLES = REPO_ROOT / "samples" / "coco"
COCO_MINI_ANN = ("annotations", "instances_train2017.json")


def _licence_names(data: dict) -> dict[int, str]:
    return {lic["id"]: lic["name"] for lic in data["licenses"]}


def test_redistributable_subset_of_coco_mini(coco_mini: Path, tmp_path: Path) -> None:
    ann = coco_mini.joinpath(*COCO_MINI_ANN)
    result = subset_coco(
        coco_mini / "images", ann, tmp_path / "s", SubsetConfig(max_images=12, seed=3, redistributable_only=True)
    )
    data = json.loads(result.ann_file.read_text())
    full = json.loads(ann.read_text())
    names = _licence_names(full)
    ids = {img["id"] for img in data["images"]}
    assert result.num_images == len(ids) == 12
    assert all(names[img["license"]] in REDISTRIBUTABLE_LICENSES for img in data["images"])
    assert {lic["id"] for lic in data["licenses"]} == {img["license"] for img in data["images"]}
    expected_anns = [a for a in full["annotations"] if a["image_id"] in ids]
    assert data["annotations"] == expected_anns and result.num_annotations == len(expected_anns)
    assert data["categories"] == full["categories"]
    for img in data["images"]:
        copied = (result.images_dir / img["file_name"]).read_bytes()
        assert copied == (coco_mini / "images" / img["file_name"]).read_bytes()
        assert f"| {img['file_name']} | {img['id']} |" in result.attribution.read_text()
    assert load_coco(result.images_dir, result.ann_file).image_ids == sorted(ids)
    again = subset_coco(
        coco_mini / "images", ann, tmp_path / "t", SubsetConfig(max_images=12, seed=3, redistributable_only=True)
    )
    assert again.ann_file.read_text() == result.ann_file.read_text()


def test_ids_keep_their_order_and_unknown_ids_are_refused(coco_mini: Path, tmp_path: Path) -> None:
    ann = coco_mini.joinpath(*COCO_MINI_ANN)
    result = subset_coco(coco_mini / "images", ann, tmp_path / "s", SubsetConfig(image_ids=(599, 71)))
    assert [img["id"] for img in json.loads(result.ann_file.read_text())["images"]] == [599, 71]
    non_commercial = next(
        img["id"]
        for img in json.loads(ann.read_text())["images"]
        if _licence_names(json.loads(ann.read_text()))[img["license"]] not in REDISTRIBUTABLE_LICENSES
    )
    with pytest.raises(InputError, match="licence does not allow copying"):
        subset_coco(
            coco_mini / "images",
            ann,
            tmp_path / "u",
            SubsetConfig(image_ids=(non_commercial,), redistributable_only=True),
        )
    assert not (tmp_path / "u").exists()


def test_sets_without_redistributable_images_are_refused(synth_coco: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["data", "subset", str(synth_coco[0]), str(synth_coco[1]), str(tmp_path / "s"), "--redistributable"]
    )
    assert result.exit_code == 1
    assert "no image passes the filter; drop --redistributable" in result.output
    assert not (tmp_path / "s").exists()
    unlicensed = tmp_path / "unlicensed.json"
    unlicensed.write_text(
        json.dumps({k: v for k, v in json.loads(synth_coco[1].read_text()).items() if k != "licenses"})
    )
    with pytest.raises(InputError, match="has no 'licenses' list"):
        subset_coco(synth_coco[0], unlicensed, tmp_path / "s", SubsetConfig(redistributable_only=True))
    ok = CliRunner().invoke(
        app, ["data", "subset", str(synth_coco[0]), str(synth_coco[1]), str(tmp_path / "s"), "--images", "5"]
    )
    assert ok.exit_code == 0, ok.output
    assert len(list((tmp_path / "s" / "images").iterdir())) == 5


def test_bundled_samples_are_redistributable_and_attributed() -> None:
    data = json.loads((SAMPLES / "annotations" / "instances.json").read_text())
    names = _licence_names(data)
    attribution = (SAMPLES / "ATTRIBUTION.md").read_text()
    files = sorted(p.name for p in (SAMPLES / "images").iterdir())
    assert files == sorted(img["file_name"] for img in data["images"])
    for img in data["images"]:
        assert names[img["license"]] in REDISTRIBUTABLE_LICENSES
        assert img["file_name"] in attribution and img["flickr_url"] in attribution
    source = load_coco(SAMPLES / "images", SAMPLES / "annotations" / "instances.json")
    assert len(source.categories) == 80 and sum(len(source.targets(i).boxes) for i in source.image_ids) > 0


@pytest.mark.parametrize("kind", ["climbs-out", "absolute"])
def test_a_file_name_that_leaves_the_output_folder_is_refused_before_any_copy(tmp_path: Path, kind: str) -> None:
    images = tmp_path / "a" / "b" / "images"
    images.mkdir(parents=True)
    (images / "ok.jpg").write_bytes(b"ok")
    outside = tmp_path / "a" / "escape.jpg"  # images/../../escape.jpg
    outside.write_bytes(b"original")
    name = "../../escape.jpg" if kind == "climbs-out" else str(outside)
    ann = tmp_path / "instances.json"
    cats = [{"id": 1, "name": "thing"}]
    pics = [
        {"id": 1, "file_name": "ok.jpg", "width": 4, "height": 4},
        {"id": 2, "file_name": name, "width": 4, "height": 4},
    ]
    ann.write_text(json.dumps({"images": pics, "annotations": [], "categories": cats}))
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        subset_coco(images, ann, out, SubsetConfig(image_ids=(1, 2)))
    assert str(info.value) == (
        f"{ann}: file_name {name!r} would be written outside {out / 'images'}; "
        "file names must be relative paths inside the image folder"
    )
    assert outside.read_bytes() == b"original" and not (tmp_path / "escape.jpg").exists() and not out.exists()

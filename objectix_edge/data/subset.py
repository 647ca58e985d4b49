"""Carve a self-contained subset out of a COCO folder: copied images, their annotations, an attribution file.

Made for sets that travel with a project or a device image (calibration sets, samples): with
``redistributable_only`` it keeps just the images whose Flickr licence allows copying with attribution,
and ATTRIBUTION.md names each image's author page, licence and COCO source.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from objectix_edge.data.coco import _validate_instances
from objectix_edge.errors import InputError
from objectix_edge.fileio import atomic_path, read_json, write_json_atomic, write_text_atomic
from objectix_edge.outputs import check_outputs, inside

# COCO's licence names that allow copying the image elsewhere, given attribution (coco-mini's README rule).
REDISTRIBUTABLE_LICENSES = frozenset(
    {"Attribution License", "Attribution-ShareAlike License", "No known copyright restrictions"}
)
ANNOTATIONS_LICENSE = "COCO annotations: CC BY 4.0 (https://cocodataset.org/#termsofuse)"


@dataclass(frozen=True)
class SubsetConfig:
    """Which images to keep: given ids (in that order) or a seeded random choice of ``max_images``."""

    image_ids: tuple[int, ...] = ()
    max_images: int | None = None
    seed: int = 0
    redistributable_only: bool = False


@dataclass(frozen=True)
class SubsetResult:
    images_dir: Path
    ann_file: Path
    attribution: Path
    num_images: int
    num_annotations: int


def _licenses_by_id(data: dict) -> dict[int, dict]:
    return {int(lic["id"]): lic for lic in data.get("licenses", []) if isinstance(lic, dict) and "id" in lic}


def _choose(data: dict, licenses: dict[int, dict], ann_file: Path, config: SubsetConfig) -> list[dict]:
    images = data["images"]
    if config.redistributable_only:
        if not licenses:
            raise InputError(
                f"{ann_file}: has no 'licenses' list, so no image can be shown to be redistributable; "
                "drop --redistributable or use the official COCO annotations"
            )
        images = [
            img for img in images if licenses.get(img.get("license", -1), {}).get("name") in REDISTRIBUTABLE_LICENSES
        ]
    if config.image_ids:
        by_id = {img["id"]: img for img in images}
        missing = [i for i in config.image_ids if i not in by_id]
        if missing:
            why = (
                "are not in it or their licence does not allow copying"
                if config.redistributable_only
                else "are not in it"
            )
            raise InputError(f"{ann_file}: image ids {missing} {why}; choose ids listed in its 'images'")
        return [by_id[i] for i in config.image_ids]
    if not images:
        raise InputError(f"{ann_file}: no image passes the filter; drop --redistributable or use another set")
    order = np.random.default_rng(config.seed).permutation(len(images))
    count = len(images) if config.max_images is None else min(config.max_images, len(images))
    return [images[i] for i in sorted(order[:count])]


def _attribution_text(chosen: list[dict], licenses: dict[int, dict], source: Path) -> str:
    lines = [
        "# Image attribution",
        "",
        f"Images listed in {source.name} (COCO format), copied with the licence each author gave on Flickr; COCO records no author names, so the Flickr link is the credit.",
        f"{ANNOTATIONS_LICENSE}.",
        "",
        "| file | COCO image id | licence | Flickr original (author's upload) | COCO copy |",
        "|---|---|---|---|---|",
    ]
    for img in chosen:
        lic = licenses.get(img.get("license", -1), {})
        licence = f"[{lic['name']}]({lic['url']})" if "url" in lic else str(lic.get("name", "unknown"))
        lines.append(
            f"| {img['file_name']} | {img['id']} | {licence} | {img.get('flickr_url', '')} | {img.get('coco_url', '')} |"
        )
    return "\n".join(lines) + "\n"


def subset_coco(
    images_dir: str | Path, ann_file: str | Path, out_dir: str | Path, config: SubsetConfig
) -> SubsetResult:
    """Write ``out_dir/images/*``, ``out_dir/annotations/instances.json`` and ``out_dir/ATTRIBUTION.md``."""
    images_dir, ann_file, out_dir = Path(images_dir), Path(ann_file), Path(out_dir)
    data = _validate_instances(read_json(ann_file, "COCO instances JSON"), ann_file)
    licenses = _licenses_by_id(data)
    chosen = _choose(data, licenses, ann_file, config)
    sources = [images_dir / img["file_name"] for img in chosen]
    absent = [p for p in sources if not p.is_file()]
    if absent:
        raise InputError(f"{absent[0]}: image listed in {ann_file.name} not found; pass the matching image folder")

    out_images = out_dir / "images"
    out_ann = out_dir / "annotations" / "instances.json"
    # Every name is checked before the first copy: data never writes outside OUT, nor over its inputs.
    targets = [inside(out_images, str(img["file_name"]), ann_file) for img in chosen]
    check_outputs(
        {"OUT": out_ann, **{f"OUT image {t.name}": t for t in targets}}, {"ANN": ann_file, "IMAGES": images_dir}
    )
    for src, target in zip(sources, targets, strict=True):
        with atomic_path(target) as tmp:
            shutil.copyfile(src, tmp)
    keep = {img["id"] for img in chosen}
    used = {img.get("license") for img in chosen}
    subset = {
        "info": {**data.get("info", {}), "description": f"subset of {ann_file.name} ({len(chosen)} images)"},
        "licenses": [lic for lid, lic in sorted(licenses.items()) if lid in used],
        "images": chosen,
        "annotations": [a for a in data["annotations"] if a["image_id"] in keep],
        "categories": data["categories"],
    }
    write_json_atomic(out_ann, subset)
    attribution = out_dir / "ATTRIBUTION.md"
    write_text_atomic(attribution, _attribution_text(chosen, licenses, ann_file))
    return SubsetResult(out_images, out_ann, attribution, len(chosen), len(subset["annotations"]))

"""``objx-edge data``: dataset utilities (synthetic sets, train/val splits, licence-aware subsets)."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.cli.console import say
from objectix_edge.data.split import split_coco
from objectix_edge.data.subset import SubsetConfig, subset_coco
from objectix_edge.data.synth import write_synthetic_coco
from objectix_edge.defaults import default_arg, default_of
from objectix_edge.errors import InputError

app = typer.Typer(help="Dataset utilities.", no_args_is_help=True)


def _parse_size(text: str) -> tuple[int, int]:
    h, sep, w = text.lower().partition("x")
    if not sep or not h.isdigit() or not w.isdigit():
        raise InputError(f"--size {text!r}: expected HxW, e.g. 240x320")
    return int(h), int(w)


@app.command("synth")
def synth(
    out: Path = typer.Argument(..., help="Folder to write: OUT/images/*.jpg and OUT/annotations/instances.json."),
    images: int = typer.Option(64, "--images", help="Number of images."),
    seed: int = typer.Option(
        default_arg(write_synthetic_coco, "seed"), "--seed", help="Seed; the same seed gives the same files."
    ),
    size: str = typer.Option(
        "x".join(map(str, default_arg(write_synthetic_coco, "image_size"))), "--size", help="Image size HxW."
    ),
) -> None:
    """Write a synthetic COCO-format set: circles, squares and triangles on textured backgrounds.

    Example: objx-edge data synth /tmp/shapes --images 64 --seed 0
    """

    images_dir, ann = write_synthetic_coco(out, images, seed=seed, image_size=_parse_size(size))
    say(("wrote", "green"), f" {images} images to {images_dir} and annotations {ann}")


@app.command("split")
def split(
    ann: Path = typer.Argument(..., help="COCO instances JSON to split."),
    out: Path = typer.Argument(..., help="Folder to write train.json and val.json (same image folder)."),
    val: int = typer.Option(..., "--val", help="Number of images for validation."),
    seed: int = typer.Option(default_arg(split_coco, "seed"), "--seed", help="Seed of the image choice."),
) -> None:
    """Split an instances JSON by image into train.json / val.json (the images stay where they are).

    Example: objx-edge data split coco-mini/annotations/instances_train2017.json runs/split --val 53
    """

    train_json, val_json = split_coco(ann, out, val, seed)
    say(("wrote", "green"), f" {train_json} and {val_json}")


def _parse_ids(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise InputError(f"--ids {text!r}: expected comma-separated COCO image ids, e.g. 71,86,360") from exc


@app.command("subset")
def subset(
    images: Path = typer.Argument(..., help="Folder that holds the images of ANN."),
    ann: Path = typer.Argument(..., help="COCO instances JSON."),
    out: Path = typer.Argument(
        ..., help="Folder to write: OUT/images/, OUT/annotations/instances.json, OUT/ATTRIBUTION.md."
    ),
    ids: str = typer.Option(
        ",".join(map(str, default_of(SubsetConfig, "image_ids"))),
        "--ids",
        help="Comma-separated image ids to keep, in this order.",
    ),
    count: int | None = typer.Option(
        default_of(SubsetConfig, "max_images"), "--images", min=1, help="Keep this many images, chosen with --seed."
    ),
    seed: int = typer.Option(default_of(SubsetConfig, "seed"), "--seed", help="Seed of the image choice."),
    redistributable: bool = typer.Option(
        default_of(SubsetConfig, "redistributable_only"),
        "--redistributable",
        help="Keep only images whose licence allows copying with attribution.",
    ),
) -> None:
    """Copy a subset of a COCO set (images, annotations, attribution) into a self-contained folder.

    Example: objx-edge data subset coco/train2017 coco/annotations/instances_train2017.json calib-set --images 64 --redistributable
    """

    config = SubsetConfig(_parse_ids(ids), count, seed, redistributable)
    result = subset_coco(images, ann, out, config)
    say(
        ("wrote", "green"),
        f" {result.num_images} images and {result.num_annotations} annotations to {out} "
        f"(attribution: {result.attribution})",
    )

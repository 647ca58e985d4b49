"""COCO's 80 detection categories with their official ids (contiguous index = position)."""

from __future__ import annotations

from objectix_edge.spec import Category

COCO_CATEGORIES: tuple[Category, ...] = (
    Category(1, "person"),
    Category(2, "bicycle"),
    Category(3, "car"),
    Category(4, "motorcycle"),
    Category(5, "airplane"),
    Category(6, "bus"),
    Category(7, "train"),
    Category(8, "truck"),
    Category(9, "boat"),
    Category(10, "traffic light"),
    Category(11, "fire hydrant"),
    Category(13, "stop sign"),
    Category(14, "parking meter"),
    Category(15, "bench"),
    Category(16, "bird"),
    Category(17, "cat"),
    Category(18, "dog"),
    Category(19, "horse"),
    Category(20, "sheep"),
    Category(21, "cow"),
    Category(22, "elephant"),
    Category(23, "bear"),
    Category(24, "zebra"),
    Category(25, "giraffe"),
    Category(27, "backpack"),
    Category(28, "umbrella"),
    Category(31, "handbag"),
    Category(32, "tie"),
    Category(33, "suitcase"),
    Category(34, "frisbee"),
    Category(35, "skis"),
    Category(36, "snowboard"),
    Category(37, "sports ball"),
    Category(38, "kite"),
    Category(39, "baseball bat"),
    Category(40, "baseball glove"),
    Category(41, "skateboard"),
    Category(42, "surfboard"),
    Category(43, "tennis racket"),
    Category(44, "bottle"),
    Category(46, "wine glass"),
    Category(47, "cup"),
    Category(48, "fork"),
    Category(49, "knife"),
    Category(50, "spoon"),
    Category(51, "bowl"),
    Category(52, "banana"),
    Category(53, "apple"),
    Category(54, "sandwich"),
    Category(55, "orange"),
    Category(56, "broccoli"),
    Category(57, "carrot"),
    Category(58, "hot dog"),
    Category(59, "pizza"),
    Category(60, "donut"),
    Category(61, "cake"),
    Category(62, "chair"),
    Category(63, "couch"),
    Category(64, "potted plant"),
    Category(65, "bed"),
    Category(67, "dining table"),
    Category(70, "toilet"),
    Category(72, "tv"),
    Category(73, "laptop"),
    Category(74, "mouse"),
    Category(75, "remote"),
    Category(76, "keyboard"),
    Category(77, "cell phone"),
    Category(78, "microwave"),
    Category(79, "oven"),
    Category(80, "toaster"),
    Category(81, "sink"),
    Category(82, "refrigerator"),
    Category(84, "book"),
    Category(85, "clock"),
    Category(86, "vase"),
    Category(87, "scissors"),
    Category(88, "teddy bear"),
    Category(89, "hair drier"),
    Category(90, "toothbrush"),
)


def categories_by_name(names: list[str], pool: tuple[Category, ...] = COCO_CATEGORIES) -> tuple[Category, ...]:
    """Subset of ``pool`` in the order given; unknown names raise ValueError naming them."""
    by_name = {c.name: c for c in pool}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; known: {', '.join(by_name)}")
    return tuple(by_name[n] for n in names)


def categories_from_names(text: str | list[str]) -> tuple[Category, ...]:
    """``"bird,airplane"`` → categories in that order: COCO ids when every name is a COCO class, else 0, 1, ..."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else [n.strip() for n in text]
    names = [n for n in names if n]
    coco = {c.name: c for c in COCO_CATEGORIES}
    if all(n in coco for n in names):
        return tuple(coco[n] for n in names)
    return tuple(Category(i, n) for i, n in enumerate(names))

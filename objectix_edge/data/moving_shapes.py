"""A generated video of persistent moving shapes with known boxes: ground truth for tracking.

Four objects, each in its own lane so none ever hides another: a circle moving right, a square
moving left, a triangle that stays still, and a square that grows in place (its area more than
doubles over the video). Drawn like ``synth.py``'s shapes on one fixed textured background, so the
detector trained on those sets finds them. The output depends only on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from objectix_edge.data.synth import _background, _colour, _draw

# (category id, lane top as a fraction of the height, x start as a fraction of the width, width fraction
# moved over the video, side at the start and end as fractions of the short side)
_OBJECTS = (
    (1, 0.04, 0.05, 0.6, 0.25, 0.25),  # circle → right
    (2, 0.36, 0.70, -0.6, 0.25, 0.25),  # square ← left
    (3, 0.66, 0.08, 0.0, 0.25, 0.25),  # triangle, still
    (2, 0.66, 0.55, 0.0, 0.18, 0.28),  # square growing in place
)
NAMES = ("circle right", "square left", "triangle still", "square growing")


@dataclass(frozen=True)
class MovingObject:
    """Object ``index`` (into NAMES) of category ``category_id`` at ``box`` (x1, y1, x2, y2) on one frame."""

    index: int
    category_id: int
    box: tuple[float, float, float, float]


def moving_shapes(
    num_frames: int, image_size: tuple[int, int] = (120, 160), seed: int = 0
) -> tuple[list[np.ndarray], list[list[MovingObject]]]:
    """``num_frames`` BGR frames of ``image_size`` (h, w) and the objects on each, in NAMES order."""
    h, w = image_size
    rng = np.random.default_rng(seed)
    background = _background(rng, h, w)
    short = min(h, w)
    colours = []
    for _cat, top, x0, _dx, s0, _s1 in _OBJECTS:
        x, y, s = int(x0 * w), int(top * h), int(s0 * short)
        colours.append(_colour(rng, background, x, y, s))
    frames: list[np.ndarray] = []
    truth: list[list[MovingObject]] = []
    for f in range(num_frames):
        t = f / max(1, num_frames - 1)
        img = background.copy()
        objects = []
        for i, (cat, top, x0, dx, s0, s1) in enumerate(_OBJECTS):
            s = int(round((s0 + (s1 - s0) * t) * short))
            x, y = int(round((x0 + dx * t) * w)), int(top * h)
            bx, by, bw, bh = _draw(img, cat, x, y, s, colours[i])
            objects.append(MovingObject(i, cat, (bx, by, bx + bw, by + bh)))
        frames.append(img)
        truth.append(objects)
    return frames, truth

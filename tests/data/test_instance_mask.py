"""An instance's mask in a training window is the full image's mask cut to that window, box-only or not."""

from __future__ import annotations

import numpy as np

from objectix_edge.data.classify import instance_mask, window_around


def test_box_only_mask_in_a_window_is_the_full_image_mask_cut_to_it() -> None:
    h, w = 300, 400
    empty = np.zeros((h, w), np.uint8)  # what annToMask gives a box-only annotation
    rng = np.random.default_rng(0)
    for _ in range(50):
        bw, bh = rng.uniform(2, 80, size=2)
        x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        bbox = [x, y, bw, bh]
        full = instance_mask(empty, bbox, (0, 0, w, h))
        wx1, wy1, wx2, wy2 = window_around((x, y, x + bw, y + bh), w, h, rng)
        cut = instance_mask(empty, bbox, (wx1, wy1, wx2, wy2))
        assert cut.any()
        np.testing.assert_array_equal(cut, full[wy1:wy2, wx1:wx2])


def test_segmentation_mask_is_cut_not_redrawn() -> None:
    full = np.zeros((120, 160), np.uint8)
    full[30:50, 40:90] = 1  # a segmentation covering part of its box
    bbox = [35.0, 25.0, 60.0, 30.0]
    cut = instance_mask(full, bbox, (20, 10, 120, 100))
    np.testing.assert_array_equal(cut, full[10:100, 20:120])

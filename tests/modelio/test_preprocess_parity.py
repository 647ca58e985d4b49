"""Fast preprocessing gives today's numbers: every mode against the formulation it replaced (issue #17).

The ``_reference_*`` functions are the preprocessing code as it was before the uint8 / in-place rewrite,
kept here verbatim (not saved outputs) so any image, size and spec can be checked against it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np
import pytest

from objectix_edge.enums import Task
from objectix_edge.modelio import preprocess as pp
from objectix_edge.modelio import roi_feeds
from objectix_edge.spec import Category, ChannelOrder, ModelSpec, ResizeKernel, ResizePolicy, RoiMode
from tests.conftest import REPO_ROOT

TOL = 1e-6
PHOTOS = sorted((REPO_ROOT / "samples" / "coco" / "images").iterdir())


# --- the replaced formulation -------------------------------------------------------------------------


def _reference_resize_image(image: np.ndarray, size_wh: tuple[int, int], kernel: ResizeKernel) -> np.ndarray:
    h, w = image.shape[:2]
    if (w, h) == tuple(size_wh):
        return image
    if kernel == ResizeKernel.BILINEAR:
        return cv2.resize(image.astype(np.float32), size_wh, interpolation=cv2.INTER_LINEAR)
    if kernel == ResizeKernel.PIL_BILINEAR:
        from PIL import Image

        return np.asarray(Image.fromarray(image).resize(size_wh, Image.Resampling.BILINEAR))
    return cv2.resize(image, size_wh, interpolation=cv2.INTER_AREA if size_wh[0] < w else cv2.INTER_LINEAR)


def _reference_letterbox(
    image: np.ndarray, size: tuple[int, int], pad_value: int, kernel: ResizeKernel
) -> tuple[np.ndarray, pp.Letterbox]:
    h, w = image.shape[:2]
    th, tw = size
    scale = min(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = _reference_resize_image(image, (nw, nh), kernel)
    top, left = (th - nh) // 2, (tw - nw) // 2
    out = np.full((th, tw, 3), pad_value, dtype=resized.dtype)
    out[top : top + nh, left : left + nw] = resized
    return out, pp.Letterbox(scale=scale, pad_x=float(left), pad_y=float(top), orig_h=h, orig_w=w)


def _reference_fit(image: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, pp.Letterbox]:
    h, w = image.shape[:2]
    if spec.resize == ResizePolicy.LETTERBOX:
        return _reference_letterbox(image, spec.input_size, spec.pad_value, spec.resize_kernel)
    th, tw = spec.input_size if spec.resize == ResizePolicy.STRETCH else pp.keep_size(h, w, spec.max_side)
    resized = _reference_resize_image(image, (tw, th), spec.resize_kernel)
    return resized, pp.Letterbox(scale=tw / w, pad_x=0.0, pad_y=0.0, orig_h=h, orig_w=w, scale_y=th / h)


def _reference_normalize(image_bgr: np.ndarray, spec: ModelSpec) -> np.ndarray:
    pixels = image_bgr[..., ::-1] if spec.channel_order == ChannelOrder.RGB else image_bgr
    mean, inv_std = pp.channel_stats(spec)
    out = (pixels.astype(np.float32) - mean) * inv_std
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _reference_preprocess_image(image_bgr: np.ndarray, spec: ModelSpec) -> tuple[np.ndarray, pp.Letterbox]:
    fitted, lb = _reference_fit(image_bgr, spec)
    return _reference_normalize(fitted, spec), lb


def _reference_box_mask(box: Sequence[float], lb: pp.Letterbox, h: int, w: int) -> np.ndarray:
    x1, y1, x2, y2 = (float(v) for v in box)
    mx1 = int(np.clip(np.floor(x1 * lb.sx + lb.pad_x), 0, w))
    my1 = int(np.clip(np.floor(y1 * lb.sy + lb.pad_y), 0, h))
    mx2 = int(np.clip(np.ceil(x2 * lb.sx + lb.pad_x), 0, w))
    my2 = int(np.clip(np.ceil(y2 * lb.sy + lb.pad_y), 0, h))
    mask = np.zeros((1, h, w), dtype=np.float32)
    mask[0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
    return mask


def _reference_crop_roi(image_bgr: np.ndarray, box: Sequence[float], spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    if spec.roi_mode == RoiMode.FULL_IMAGE:
        image, lb = _reference_preprocess_image(image_bgr, spec)
        return image, _reference_box_mask(box, lb, image.shape[1], image.shape[2])
    img_h, img_w = image_bgr.shape[:2]
    cx1, cy1, cx2, cy2 = roi_feeds.context_box(box, spec.roi_context, img_w, img_h)
    crop = image_bgr[cy1:cy2, cx1:cx2]
    th, tw = spec.input_size
    sx, sy = tw / crop.shape[1], th / crop.shape[0]
    resized = _reference_resize_image(crop, (tw, th), spec.resize_kernel)
    mask = np.zeros((1, th, tw), dtype=np.float32)
    x1, y1, x2, y2 = (float(v) for v in box)
    mx1, my1 = int(np.clip(np.floor((x1 - cx1) * sx), 0, tw)), int(np.clip(np.floor((y1 - cy1) * sy), 0, th))
    mx2, my2 = int(np.clip(np.ceil((x2 - cx1) * sx), 0, tw)), int(np.clip(np.ceil((y2 - cy1) * sy), 0, th))
    mask[0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
    return _reference_normalize(resized, spec), mask


def _reference_preprocess_rois(
    image_bgr: np.ndarray, boxes: Sequence[Sequence[float]], spec: ModelSpec
) -> dict[str, np.ndarray]:
    if spec.roi_mode == RoiMode.FULL_IMAGE:
        image, lb = _reference_preprocess_image(image_bgr, spec)
        _, h, w = image.shape
        box_masks = [_reference_box_mask(b, lb, h, w) for b in boxes]
        stacked = np.stack(box_masks) if box_masks else np.zeros((0, 1, h, w), np.float32)
        return {"images": np.repeat(image[None], len(box_masks), axis=0), "roi_mask": stacked}
    crops, masks = zip(*(_reference_crop_roi(image_bgr, b, spec) for b in boxes), strict=True)
    return {k: v for k, v in {"images": np.stack(crops), "roi_mask": np.stack(masks)}.items() if k in spec.input_names}


def _reference_preprocess_masked(
    image_bgr: np.ndarray, masks: Sequence[np.ndarray], spec: ModelSpec
) -> dict[str, np.ndarray]:
    image, _ = _reference_preprocess_image(image_bgr, spec)
    _, h, w = image.shape
    stacked = np.stack([roi_feeds.resize_mask(m, h, w) for m in masks]) if masks else np.zeros((0, 1, h, w), np.float32)
    return {"images": np.repeat(image[None], len(stacked), axis=0), "roi_mask": stacked}


# --- inputs ---------------------------------------------------------------------------------------------


def _images() -> list[np.ndarray]:
    """Real photos, an odd-sized non-contiguous crop of one, and a 1080p frame made from one."""
    photos: list[np.ndarray] = [np.asarray(cv2.imread(str(p))) for p in PHOTOS[:4]]
    odd = photos[0][7:340, 3:520]  # 333×517, a view with the parent's row stride
    full_hd = cv2.resize(photos[1], (1920, 1080), interpolation=cv2.INTER_CUBIC)
    return [*photos, odd, full_hd]


IMAGES = _images()


def _spec(
    resize: ResizePolicy,
    kernel: ResizeKernel,
    order: ChannelOrder,
    scale: float,
    size: tuple[int, int] = (320, 320),
    **kw: object,
) -> ModelSpec:
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    if scale == 255.0:
        mean, std = (103.53, 116.28, 123.675), (57.375, 57.12, 58.395)
    return ModelSpec(
        name="t",
        task=Task.DETECT,
        input_size=size,
        categories=(Category(1, "a"),),
        input_names=("images", "roi_mask"),
        output_names=("out",),
        mean=mean,
        std=std,
        channel_order=order,
        pixel_scale=scale,
        resize=resize,
        resize_kernel=kernel,
        **kw,  # type: ignore[arg-type]
    )


COLOURS = list(itertools.product(ChannelOrder, (1.0, 255.0)))
KERNELS = list(ResizeKernel)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape and a.dtype == b.dtype
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0


def _boxes(image: np.ndarray) -> list[list[float]]:
    h, w = image.shape[:2]
    return [
        [0.3 * w, 0.2 * h, 0.55 * w, 0.7 * h],
        [10.5, 12.25, 60.75, 40.0],
        [w - 30.2, h - 22.7, w + 5.0, h + 3.0],  # over the edge
        [0.5 * w, 0.5 * h, 0.5 * w + 0.4, 0.5 * h + 0.4],  # under one pixel
        [0.0, 0.0, float(w), float(h)],
    ]


# --- the tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [ResizePolicy.LETTERBOX, ResizePolicy.STRETCH])
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize(("order", "scale"), COLOURS)
def test_detector_input_equals_the_reference(
    policy: ResizePolicy, kernel: ResizeKernel, order: ChannelOrder, scale: float
) -> None:
    for size in ((320, 320), (193, 250)):
        spec = _spec(policy, kernel, order, scale, size)
        for image in IMAGES:
            got, lb = pp.preprocess_image(image, spec)
            want, want_lb = _reference_preprocess_image(image, spec)
            assert lb == want_lb and got.flags.c_contiguous
            assert _diff(got, want) <= TOL
        batch, boxes = pp.preprocess_detector_batch(IMAGES[:3], spec)
        want_batch = np.stack([_reference_preprocess_image(i, spec)[0] for i in IMAGES[:3]])
        assert _diff(batch, want_batch) <= TOL and len(boxes) == 3
        boxed, _ = pp.letterbox_batch(IMAGES[:3], spec)
        want_boxed = np.stack([_reference_fit(i, spec)[0] for i in IMAGES[:3]])
        assert _diff(boxed, want_boxed) == 0.0


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize(("order", "scale"), COLOURS)
@pytest.mark.parametrize("max_side", [0, 512])
def test_full_image_rois_and_masks_equal_the_reference(
    kernel: ResizeKernel, order: ChannelOrder, scale: float, max_side: int
) -> None:
    spec = _spec(ResizePolicy.KEEP, kernel, order, scale, max_side=max_side, roi_mode=RoiMode.FULL_IMAGE)
    for image in IMAGES[::2] if max_side == 0 else IMAGES:
        boxes = _boxes(image)
        got, want = roi_feeds.preprocess_rois(image, boxes, spec), _reference_preprocess_rois(image, boxes, spec)
        assert got.keys() == want.keys() and all(_diff(got[k], want[k]) <= TOL for k in want)
        image_in, mask = roi_feeds.crop_roi(image, boxes[0], spec)
        want_image, want_mask = _reference_crop_roi(image, boxes[0], spec)
        assert _diff(image_in, want_image) <= TOL and _diff(mask, want_mask) == 0.0
        seg = np.zeros(image.shape[:2], np.uint8)
        seg[20:90, 40:200] = 3
        masks = [seg, seg.T[: image.shape[0], : image.shape[1]].copy() if min(image.shape[:2]) > 200 else seg]
        got, want = roi_feeds.preprocess_masked(image, masks, spec), _reference_preprocess_masked(image, masks, spec)
        assert all(_diff(got[k], want[k]) <= TOL for k in want)
        empty = roi_feeds.preprocess_rois(image, [], spec)
        assert empty["images"].shape[0] == 0 and empty["roi_mask"].shape[0] == 0


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize(("order", "scale"), COLOURS)
def test_roi_crops_with_context_equal_the_reference(kernel: ResizeKernel, order: ChannelOrder, scale: float) -> None:
    for size in ((224, 224), (64, 96)):
        spec = _spec(ResizePolicy.STRETCH, kernel, order, scale, size, roi_mode=RoiMode.CROP)
        for image in IMAGES:
            boxes = _boxes(image)
            got, want = roi_feeds.preprocess_rois(image, boxes, spec), _reference_preprocess_rois(image, boxes, spec)
            assert got.keys() == want.keys() and all(_diff(got[k], want[k]) <= TOL for k in want)
            for box in boxes[:2]:
                crop, mask = roi_feeds.crop_roi(image, box, spec)
                want_crop, want_mask = _reference_crop_roi(image, box, spec)
                assert _diff(crop, want_crop) <= TOL and _diff(mask, want_mask) == 0.0
    images_only = replace(spec, input_names=("images",))
    got = roi_feeds.preprocess_rois(IMAGES[0], _boxes(IMAGES[0]), images_only)
    assert list(got) == ["images"]


@pytest.mark.parametrize(("order", "scale"), COLOURS)
def test_normalize_equals_the_reference_on_any_pixels(order: ChannelOrder, scale: float) -> None:
    spec = _spec(ResizePolicy.STRETCH, ResizeKernel.AREA, order, scale)
    image = IMAGES[0]
    for pixels in (image, image[5:300:2, 9:400], image.astype(np.float32) + 0.25, image.astype(np.float64) / 3):
        got = pp.normalize(pixels, spec)
        assert got.flags.c_contiguous and _diff(got, _reference_normalize(pixels, spec)) <= TOL


def test_box_mask_rule_is_one_for_both_roi_modes() -> None:
    """Crop-mode masks come from ``box_mask`` on the crop's own mapping, so the two modes cannot drift."""
    lb = pp.Letterbox(scale=64 / 60, pad_x=0.0, pad_y=0.0, orig_h=60, orig_w=60, scale_y=64 / 60)
    for box in ([10.0, 10.0, 50.0, 50.0], [-3.0, 2.5, 70.0, 20.1], [30.0, 30.0, 30.2, 30.2]):
        assert _diff(roi_feeds.box_mask(box, lb, 64, 64), _reference_box_mask(box, lb, 64, 64)) == 0.0


def test_the_bilinear_kernel_is_f_interpolate() -> None:
    """The one float resize (spec.py, ResizeKernel) is there to equal torch's; uint8 bilinear would not."""
    import torch
    import torch.nn.functional as F

    image = IMAGES[0]
    pixels = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    for size, tol in (((213, 320), 0.0), ((320, 320), 0.02), ((640, 640), 0.02), ((250, 193), 0.02)):
        ours = pp.resize_image(image, (size[1], size[0]), ResizeKernel.BILINEAR)
        torch_out = F.interpolate(pixels, size=size, mode="bilinear", align_corners=False, antialias=False)
        assert _diff(ours, torch_out[0].permute(1, 2, 0).numpy()) <= tol
        as_uint8 = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        assert _diff(as_uint8, torch_out[0].permute(1, 2, 0).numpy()) > 0.1


def test_box_only_annotation_masks_keep_their_pixels() -> None:
    """data/classify.py's box-only masks now go through ``box_mask`` (identity mapping): same pixels as the
    inline slice it replaced, for boxes at, over and past the edges of the image or window."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        mh, mw = (int(v) for v in rng.integers(20, 120, 2))
        x, y, w, h = (int(round(v)) for v in rng.uniform([0, 0, 1, 1], [mw + 10, mh + 10, 80, 80]))
        before = np.zeros((mh, mw), np.uint8)
        before[max(0, y) : y + max(1, h), max(0, x) : x + max(1, w)] = 1
        after = np.zeros((mh, mw), np.uint8)
        roi_feeds.box_mask(
            (x, y, x + max(1, w), y + max(1, h)), pp.Letterbox(1.0, 0.0, 0.0, mh, mw), mh, mw, out=after[None]
        )
        assert np.array_equal(before, after), (mh, mw, x, y, w, h)

"""Host preprocessing per mode: the project's function beside the best OpenCV/numpy formulation of the same output.

For each mode the script times ``objectix_edge.modelio.preprocess`` and hand-written OpenCV/numpy
formulations of the same numbers (``cv2.dnn.blobFromImage(swapRB=True)`` + in-place ``-= mean; *= 1/std``;
``cv2.resize`` into a preallocated padded buffer + per-plane in-place maths), in interleaved rounds on
one thread, and prints the median milliseconds, project / best, the max |difference| (must be ≤ 1e-6)
and the CPU (model and vector ISA). Modes: letterbox 320² and 640² (detector, RGB 0-1, area kernel),
letterbox of a 1080p frame, stretch to 320² (area kernel), stretch of a 1080p frame with the float
bilinear kernel (mobilelike-det: exact against F.interpolate), five 224² crops with context + masks
(resnet50-roi), and the ObjectiX full-image mode (own size, long side ≤ 640, BGR 0-255) with five
box masks.

    python benchmarks/preprocess.py [--rounds 200] [--image samples/coco/images/000000000520.jpg]

Run it with nothing else busy; it pins OpenCV to one thread itself (set OMP/MKL threads to 1 as well).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from objectix_edge.bench.env import cpu_model  # noqa: E402
from objectix_edge.cpu_isa import vector_isa  # noqa: E402
from objectix_edge.enums import Task  # noqa: E402
from objectix_edge.modelio import preprocess as pp
from objectix_edge.modelio import roi_feeds  # noqa: E402
from objectix_edge.models.objectix_resnet50 import OBJECTIX_MEAN, OBJECTIX_STD  # noqa: E402
from objectix_edge.spec import Category, ChannelOrder, ModelSpec, ResizeKernel, ResizePolicy, RoiMode  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "samples" / "coco" / "images" / "000000000520.jpg"  # 640×480
BOXES = [[100.0, 80.0, 260.0, 300.0], [300.5, 120.25, 420.0, 200.0], [10.0, 10.0, 90.0, 60.0],
         [500.0, 300.0, 639.0, 479.0], [200.0, 200.0, 330.0, 410.0]]  # fmt: skip


def spec(**kw: Any) -> ModelSpec:
    base: dict[str, Any] = dict(
        name="bench", task=Task.DETECT, input_size=(320, 320), categories=(Category(1, "a"),),
        input_names=("images", "roi_mask"), output_names=("out",),
    )  # fmt: skip
    return ModelSpec(**{**base, **kw})


def stats(s: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """(mean, 1/std) per output channel, float32, in 0-255 units (the spec's arithmetic)."""
    to_px = np.float32(255.0 / s.pixel_scale)
    return np.asarray(s.mean, np.float32) * to_px, np.float32(1.0) / (np.asarray(s.std, np.float32) * to_px)


# --- best OpenCV/numpy formulations, written independently of the package ------------------------------


def norm_blob(pixels: np.ndarray, s: ModelSpec) -> np.ndarray:
    """cv2.dnn.blobFromImage (HWC → CHW float32, swapRB) then in-place ``-= mean; *= 1/std``."""
    mean, inv = stats(s)
    blob = cv2.dnn.blobFromImage(pixels, swapRB=s.channel_order == ChannelOrder.RGB)[0]
    blob -= mean[:, None, None]
    blob *= inv[:, None, None]
    return blob


def norm_planes(pixels: np.ndarray, s: ModelSpec, out: np.ndarray) -> np.ndarray:
    """cv2.split then per plane ``np.subtract(plane, mean, out, dtype=float32); out *= 1/std``."""
    mean, inv = stats(s)
    planes = cv2.split(pixels)
    for c in range(3):
        src = planes[2 - c] if s.channel_order == ChannelOrder.RGB else planes[c]
        np.subtract(src, mean[c], out=out[c], dtype=np.float32)
        out[c] *= inv[c]
    return out


def letterbox_formulations(image: np.ndarray, s: ModelSpec) -> dict[str, Callable[[], np.ndarray]]:
    h, w = image.shape[:2]
    th, tw = s.input_size
    scale = min(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    top, left = (th - nh) // 2, (tw - nw) // 2
    interp = cv2.INTER_AREA if nw < w else cv2.INTER_LINEAR
    padded = np.full((th, tw, 3), s.pad_value, np.uint8)  # borders written once: the buffer is reused
    out = np.empty((3, th, tw), np.float32)

    def resized() -> np.ndarray:
        cv2.resize(image, (nw, nh), dst=padded[top : top + nh, left : left + nw], interpolation=interp)
        return padded

    return {
        "resize-into-pad + blobFromImage": lambda: norm_blob(resized(), s),
        "resize-into-pad + split/in-place": lambda: norm_planes(resized(), s, out),
    }


def stretch_formulations(image: np.ndarray, s: ModelSpec) -> dict[str, Callable[[], np.ndarray]]:
    th, tw = s.input_size
    w = image.shape[1]
    as_float = np.empty(image.shape, np.float32)
    out = np.empty((3, th, tw), np.float32)

    def resized() -> np.ndarray:
        if s.resize_kernel != ResizeKernel.BILINEAR:  # area / bilinear on uint8 (the spec's area rule)
            return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)
        np.copyto(as_float, image)  # float bilinear, as F.interpolate: the frame must be float first
        return cv2.resize(as_float, (tw, th), interpolation=cv2.INTER_LINEAR)

    return {
        "resize + blobFromImage": lambda: norm_blob(resized(), s),
        "resize + split/in-place": lambda: norm_planes(resized(), s, out),
    }


def crop_formulations(image: np.ndarray, boxes: list[list[float]], s: ModelSpec) -> dict[str, Callable[[], Any]]:
    th, tw = s.input_size
    h, w = image.shape[:2]
    windows = [roi_feeds.context_box(b, s.roi_context, w, h) for b in boxes]  # geometry only
    images = np.empty((len(boxes), 3, th, tw), np.float32)
    masks = np.zeros((len(boxes), 1, th, tw), np.float32)
    resized = np.empty((len(boxes), th, tw, 3), np.uint8)

    def marks() -> np.ndarray:
        masks[:] = 0.0
        for i, ((x1, y1, x2, y2), (cx1, cy1, cx2, cy2)) in enumerate(zip(boxes, windows, strict=True)):
            sx, sy = tw / (cx2 - cx1), th / (cy2 - cy1)
            mx1, my1 = int(np.clip(np.floor((x1 - cx1) * sx), 0, tw)), int(np.clip(np.floor((y1 - cy1) * sy), 0, th))
            mx2, my2 = int(np.clip(np.ceil((x2 - cx1) * sx), 0, tw)), int(np.clip(np.ceil((y2 - cy1) * sy), 0, th))
            masks[i, 0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
        return masks

    def crops() -> None:
        for i, (cx1, cy1, cx2, cy2) in enumerate(windows):
            interp = cv2.INTER_AREA if tw < cx2 - cx1 else cv2.INTER_LINEAR
            cv2.resize(image[cy1:cy2, cx1:cx2], (tw, th), dst=resized[i], interpolation=interp)

    def blobs() -> dict[str, np.ndarray]:
        crops()
        mean, inv = stats(s)
        blob = cv2.dnn.blobFromImages(list(resized), swapRB=s.channel_order == ChannelOrder.RGB)
        blob -= mean[:, None, None]
        blob *= inv[:, None, None]
        return {"images": blob, "roi_mask": marks()}

    def planes() -> dict[str, np.ndarray]:
        crops()
        for i in range(len(boxes)):
            norm_planes(resized[i], s, images[i])
        return {"images": images, "roi_mask": marks()}

    return {"resize-into-batch + blobFromImages": blobs, "resize-into-batch + split/in-place": planes}


def full_image_formulations(image: np.ndarray, boxes: list[list[float]], s: ModelSpec) -> dict[str, Callable[[], Any]]:
    h, w = image.shape[:2]
    th, tw = pp.keep_size(h, w, s.max_side)
    sx, sy = tw / w, th / h
    images = np.empty((len(boxes), 3, th, tw), np.float32)
    masks = np.zeros((len(boxes), 1, th, tw), np.float32)

    def resized() -> np.ndarray:
        if (th, tw) == (h, w):
            return image
        return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)

    def marks() -> np.ndarray:
        masks[:] = 0.0
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            mx1, my1 = int(np.clip(np.floor(x1 * sx), 0, tw)), int(np.clip(np.floor(y1 * sy), 0, th))
            mx2, my2 = int(np.clip(np.ceil(x2 * sx), 0, tw)), int(np.clip(np.ceil(y2 * sy), 0, th))
            masks[i, 0, my1 : max(my2, my1 + 1), mx1 : max(mx2, mx1 + 1)] = 1.0
        return masks

    def blob() -> dict[str, np.ndarray]:
        images[:] = norm_blob(resized(), s)  # one normalized frame, broadcast into the batch
        return {"images": images, "roi_mask": marks()}

    def planes() -> dict[str, np.ndarray]:
        norm_planes(resized(), s, images[0])
        images[1:] = images[0]
        return {"images": images, "roi_mask": marks()}

    return {"blobFromImage + broadcast": blob, "split/in-place + broadcast": planes}


# --- measuring -----------------------------------------------------------------------------------------


def max_diff(a: Any, b: Any) -> float:
    if isinstance(a, dict):
        return max(max_diff(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        a = a[0]
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def measure(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median ms per function, the functions interleaved round by round (drifting load hits all alike)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()  # warm-up: first-call allocations, PIL import
    for _ in range(rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--image", type=Path, default=PHOTO)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    read = cv2.imread(str(args.image))
    if read is None:
        raise SystemExit(f"{args.image}: not a readable image")
    photo = np.asarray(read)
    frame = cv2.resize(photo, (1920, 1080), interpolation=cv2.INTER_CUBIC)  # a 1080p frame of real content
    fx, fy = 1920 / photo.shape[1], 1080 / photo.shape[0]
    boxes_1080 = [[x1 * fx, y1 * fy, x2 * fx, y2 * fy] for x1, y1, x2, y2 in BOXES]
    detector, d640, stretch = spec(), spec(input_size=(640, 640)), spec(resize=ResizePolicy.STRETCH)
    mobilelike = spec(input_size=(640, 640), mean=(0.0,) * 3, std=(1.0,) * 3, pixel_scale=255.0,
                      resize=ResizePolicy.STRETCH, resize_kernel=ResizeKernel.BILINEAR)  # fmt: skip
    roi = spec(input_size=(224, 224), roi_mode=RoiMode.CROP, task=Task.ROI_CLASSIFY)
    objectix = spec(mean=OBJECTIX_MEAN, std=OBJECTIX_STD, channel_order=ChannelOrder.BGR, pixel_scale=255.0,
                    resize=ResizePolicy.KEEP, max_side=640, roi_mode=RoiMode.FULL_IMAGE,
                    task=Task.ROI_CLASSIFY)  # fmt: skip
    image = pp.preprocess_image
    modes: list[tuple[str, Callable[[], Any], dict[str, Callable[[], Any]]]] = [
        ("letterbox 640x480 -> 320", lambda: image(photo, detector), letterbox_formulations(photo, detector)),
        ("letterbox 640x480 -> 640", lambda: image(photo, d640), letterbox_formulations(photo, d640)),
        ("letterbox 1080p -> 320", lambda: image(frame, detector), letterbox_formulations(frame, detector)),
        ("stretch 640x480 -> 320 area", lambda: image(photo, stretch), stretch_formulations(photo, stretch)),
        ("stretch 1080p -> 640 float bilinear", lambda: image(frame, mobilelike),
         stretch_formulations(frame, mobilelike)),
        ("5 crops with context -> 224", lambda: roi_feeds.preprocess_rois(photo, BOXES, roi),
         crop_formulations(photo, BOXES, roi)),
        ("full image 640x480 + 5 masks", lambda: roi_feeds.preprocess_rois(photo, BOXES, objectix),
         full_image_formulations(photo, BOXES, objectix)),
        ("full image 1080p (cap 640) + 5 masks", lambda: roi_feeds.preprocess_rois(frame, boxes_1080, objectix),
         full_image_formulations(frame, boxes_1080, objectix)),
    ]  # fmt: skip
    print(f"CPU: {cpu_model()} ({vector_isa()}), {os.cpu_count()} cores; OpenCV {cv2.__version__} on 1 thread, "
          f"numpy {np.__version__}; median of {args.rounds} interleaved rounds")  # fmt: skip
    print(f"{'mode':38} {'project ms':>10} {'best ms':>8} {'ratio':>6} {'max |diff|':>10}  best formulation")
    worst = 0.0
    for name, project, formulations in modes:
        diff = max(max_diff(project(), f()) for f in formulations.values())
        ms = measure({"project": project, **formulations}, args.rounds)
        best = min(formulations, key=lambda k: ms[k])
        ratio = ms["project"] / ms[best]
        worst = max(worst, ratio)
        print(f"{name:38} {ms['project']:10.3f} {ms[best]:8.3f} {ratio:6.2f} {diff:10.2g}  {best}")
        assert diff <= 1e-6, f"{name}: the project's output differs from the formulation's by {diff}"
    print(f"worst ratio {worst:.2f} (goal ≤ 1.3)")


if __name__ == "__main__":
    main()

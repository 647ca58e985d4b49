"""The ObjectiX attention ResNet-50 (full size) through the whole chain on this CPU, with the figures printed.

A random-weight checkpoint in ObjectiX's own format (``88000.torch`` layout: the multiplying variant's
``ValeLayers.0.*`` keys, 80 classes) is imported, exported (dynamic batch, height, width), converted to
FP16 and calibrated to INT8 on coco-mini, judged by parity against the imported checkpoint, benched at
batch 1 on a 640 × 640 input (its long-side cap), and run as the second stage of the cascade on
``vtest.avi`` (768 × 576 pedestrians) behind the calibration test detector. Random weights make the
accuracy figures meaningless; the times and the exactness of FP32 are what this measures.

    python benchmarks/objectix_chain.py --work /tmp/objectix_chain [--images 16] [--frames 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch
from torchvision.models.resnet import Bottleneck, ResNet
from vtest import fetch_vtest

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco-mini"
DETECTOR = REPO / "tests" / "assets" / "calib" / "detector.onnx"


def objectix_state(seed: int) -> dict[str, torch.Tensor]:
    """ObjectiX's file layout with random weights: ``Net.*`` (torchvision ResNet-50) + ``ValeLayers.0.*``."""
    torch.manual_seed(seed)
    net = ResNet(Bottleneck, [3, 4, 6, 3], num_classes=80)
    conv = torch.nn.Conv2d(1, 64, 3, 1, 1)
    state = {f"Net.{k}": v for k, v in net.state_dict().items()}
    state.update({f"ValeLayers.0.{k}": v for k, v in conv.state_dict().items()})
    return state


def objx(*args: object) -> str:
    """Run one objx-edge command, echo and return its output (exit codes 0-2 are results, not failures)."""
    cmd = [str(Path(sys.executable).with_name("objx-edge")), *map(str, args)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={"COLUMNS": "160", **_env()})
    took = time.perf_counter() - start
    print(f"$ objx-edge {' '.join(map(str, args))}   ({took:.1f} s, exit {done.returncode})")
    print(done.stdout.rstrip())
    if done.returncode not in (0, 1, 2):
        print(done.stderr.rstrip())
        raise SystemExit(done.returncode)
    return done.stdout


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/objectix_chain"))
    parser.add_argument("--images", type=int, default=16, help="calibration images")
    parser.add_argument("--parity-images", type=int, default=8)
    parser.add_argument("--frames", type=int, default=30, help="video frames for the cascade runs")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--steps", default="make,parity,bench,run", help="which of make,parity,bench,run to do")
    args = parser.parse_args()
    steps = set(args.steps.split(","))
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    data, ann = COCO / "images", COCO / "annotations" / "instances_train2017.json"
    ckpt, onnx_path = work / "objectix.pt", work / "objectix.onnx"
    if "make" in steps:
        torch.save(objectix_state(0), work / "88000.torch")
        objx("import", "objectix", work / "88000.torch", "-o", ckpt)
        objx("export", ckpt, "-o", onnx_path)
        objx("calibrate", onnx_path, "--fp16", "--int8", "--data", data, "--ann", ann, "--num-images", args.images)
    for artifact in ("objectix.onnx", "objectix.fp16.onnx", "objectix.int8cpu.onnx") if "parity" in steps else ():
        objx("parity", work / artifact, "-r", ckpt, "--data", data, "--ann", ann, "--max-images", args.parity_images)
    if "bench" in steps:
        bench(work, ckpt, onnx_path, args.iters)
    if "run" in steps:
        run(work, args.frames)


def bench(work: Path, ckpt: Path, onnx_path: Path, iters: int) -> None:
    """Batch 1 at the nominal 640 × 640 (the long-side cap): PyTorch, ONNX FP32, FP16, INT8 (CPU form)."""
    objx(
        "bench",
        ckpt,
        onnx_path,
        work / "objectix.fp16.onnx",
        work / "objectix.int8cpu.onnx",
        "--batch",
        "1",
        "--iters",
        iters,
        "--warmup",
        2,
    )


def run(work: Path, frames: int) -> None:
    """The cascade on vtest.avi: detector alone, every box of every frame classified, tracked (every 10 frames)."""
    video = fetch_vtest()
    objx("run", "--video", video, "--detector", DETECTOR, "--max-frames", frames, "--headless")
    for mode in (["--no-track", "--top-k", "5", "--reclassify-every", "1"], ["--track", "--reclassify-every", "10"]):
        objx(
            "run",
            "--video",
            video,
            "--detector",
            DETECTOR,
            "--classifier",
            work / "objectix.int8cpu.onnx",
            "--max-frames",
            frames,
            "--headless",
            *mode,
        )


if __name__ == "__main__":
    main()

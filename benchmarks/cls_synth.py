"""resnet50-cls trained briefly on generated one-shape images, scored on unseen ones: prints top-1 and per class.

Generates 1200 training images (64 × 64, one circle, square or triangle each, seed 0) and 120 unseen test
images (seed 2), trains a reduced resnet50-cls (one block per stage, base width 8, linear head, input 64)
for 20 epochs with the 4-class project's transforms (resize → random resized crop → flip; the crop's
smallest area here 0.5 instead of torchvision's 0.08, which left these tiny from-scratch runs at chance),
and evaluates last.pt (no selection on the test images) with `objx-edge eval`.

    python benchmarks/cls_synth.py [--work /tmp/cls_synth] [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from objectix_edge.data.synth import write_synthetic_coco


def objx(*args: object) -> None:
    cmd = [str(Path(sys.executable).with_name("objx-edge")), *map(str, args)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(f"$ objx-edge {' '.join(map(str, args))}   ({time.perf_counter() - start:.1f} s, exit {done.returncode})")
    if done.returncode:
        print(done.stdout + done.stderr)
        raise SystemExit(done.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cls_synth"))
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    train_dir, train_ann = write_synthetic_coco(args.work / "train", 1200, 0, (64, 64), per_image=(1, 1))
    test_dir, test_ann = write_synthetic_coco(args.work / "test", 120, 2, (64, 64), per_image=(1, 1))
    run = args.work / "run"
    objx(
        "train", "--model", "resnet50-cls", "--data", train_dir, "--ann", train_ann, "--out", run,
        "--categories", "circle,square,triangle", "--head", "linear", "--imgsz", 64,
        "--model-arg", "layers=[1,1,1,1]", "--model-arg", "base_width=8", "--epochs", args.epochs, "--batch", 32,
        "--lr", 3e-3, "--warmup", 10, "--crop-scale", 0.5, "--no-progress",
    )  # fmt: skip
    report = args.work / "eval.json"
    objx("eval", run / "last.pt", "--data", test_dir, "--ann", test_ann, "--json", report,
         "--confusion-png", args.work / "confusion.png")  # fmt: skip
    figures = json.loads(report.read_text())["figures"]
    print(f"resnet50-cls (reduced), 1200 generated training images, {figures['samples']} unseen test images:")
    print(f"  top-1 {figures['accuracy']:.3f}; per class " + ", ".join(
        f"{k} {v:.3f}" for k, v in figures["per_class_accuracy"].items()))  # fmt: skip
    print(f"  confusion matrix {figures['confusion']} (rows true, columns predicted): {args.work / 'confusion.png'}")


if __name__ == "__main__":
    main()

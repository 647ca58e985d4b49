"""INT8 (CPU Q/DQ form) on ONNX Runtime vs FP32 ONNX Runtime vs PyTorch eager FP32, on this CPU.

For both models at their default sizes (detector 320, ROI classifier 224): export, calibrate on
coco-mini (minmax, a few images: ranges only matter for accuracy, not speed), then time batch-1
inference of each artifact. Rounds are interleaved (A B C D, A B C D, ...) so background load hits all
variants alike; each figure is the median over rounds of the per-round median latency. Prints ratios
from this one run. Weights are seeded random: latency does not depend on the values.

    python benchmarks/int8_cpu.py [--coco ../shared/data/coco-mini] [--threads 1] [--rounds 5 --iters 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import torch

from objectix_edge.bench.harness import BenchConfig, make_feeds, time_cpu
from objectix_edge.calib.int8 import Int8Config, run_int8
from objectix_edge.enums import CalibMethod
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models import create_model
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.runtime.torch_runner import TorchRunner

REPO = Path(__file__).resolve().parents[1]
MODELS = {
    "detector (mobilenet-det @320)": ("mobilenet-det", {"imgsz": 320}),
    "classifier (resnet50-roi @224)": ("resnet50-roi", {"imgsz": 224}),
}


def _runners(name: str, kwargs: dict, coco: Path, workdir: Path, threads: int) -> dict[str, Runner]:
    torch.manual_seed(0)
    model = create_model(name, **kwargs).eval()
    onnx_path = export_onnx(model, workdir / f"{name}.onnx")
    result = run_int8(
        onnx_path,
        Int8Config(
            data=coco / "images",
            ann=coco / "annotations" / "instances_train2017.json",
            num_images=8,
            method=CalibMethod.MINMAX,
        ),
    )
    return {
        "torch eager fp32": TorchRunner(model, model.spec),
        "ORT fp32": OrtRunner(onnx_path, threads=threads),
        "ORT int8cpu (u8/s8)": OrtRunner(result.files["int8cpu"], threads=threads),
        "ORT int8 (TensorRT form)": OrtRunner(result.files["int8"], threads=threads),
    }


def bench_model(
    label: str, name: str, kwargs: dict, coco: Path, threads: int, rounds: int, iters: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        runners = _runners(name, kwargs, coco, Path(tmp), threads)
        feeds = make_feeds(runners["ORT fp32"], 1)
        config = BenchConfig(batches=(1,), warmup=3, iters=iters)
        per_round: dict[str, list[float]] = {k: [] for k in runners}
        for _ in range(rounds):
            for key, runner in runners.items():
                per_round[key].append(time_cpu(runner, feeds, config).latency.p50)
        medians = {k: statistics.median(v) for k, v in per_round.items()}
    base_torch, base_ort = medians["torch eager fp32"], medians["ORT fp32"]
    print(f"\n{label}, batch 1, {threads} thread(s), median of {rounds} rounds × {iters} iterations")
    print(f"{'variant':28s} {'p50 ms':>8s} {'vs torch eager':>15s} {'vs ORT fp32':>12s}")
    for key, ms in medians.items():
        print(f"{key:28s} {ms:8.2f} {base_torch / ms:14.2f}x {base_ort / ms:11.2f}x")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coco", type=Path, default=REPO.parent / "shared" / "data" / "coco-mini")
    # One thread per runner by default: on a shared (loaded) machine two OpenMP threads per runner
    # oversubscribe the cores and eager torch collapsed 60x in one such run. Use --threads 2 when idle.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU: {os.cpu_count()} logical cores; torch {torch.__version__}")
    for label, (name, kwargs) in MODELS.items():
        bench_model(label, name, kwargs, args.coco, args.threads, args.rounds, args.iters)


if __name__ == "__main__":
    main()

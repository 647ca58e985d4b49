"""PyTorch on a CUDA GPU: eager vs CUDA-graph replay, FP32 vs FP16, for both models.

Variants per model and batch: eager FP32 (the baseline), eager FP16, CUDA-graph FP32, CUDA-graph FP16.
Each is timed with CUDA events by the bench harness (host→device, compute, device→host apart; warm-up
first, synchronized before reading clocks); rounds are interleaved so clock boosts and background load
hit every variant alike. Prints, per variant, the median over rounds of each round's mean compute time
and its speed-up over eager FP32, from this one run, with the GPU named. Weights are seeded random: latency does not depend on them.
Exits 0 with a message when no CUDA GPU is present.

    python benchmarks/torch_cuda.py [--batch 1,8] [--rounds 5 --iters 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from objectix_edge.bench.harness import BenchConfig, make_feeds, time_cuda
from objectix_edge.enums import Precision
from objectix_edge.fileio import write_json_atomic
from objectix_edge.models import create_model
from objectix_edge.runtime.torch_runner import TorchRunner

MODELS = {
    "detector mobilenet-det @320": ("mobilenet-det", {"imgsz": 320}),
    "detector mobilenet-det @640": ("mobilenet-det", {"imgsz": 640}),
    "classifier resnet50-roi @224": ("resnet50-roi", {"imgsz": 224}),
}
VARIANTS = {
    "eager fp32": (Precision.FP32, False),
    "eager fp16": (Precision.FP16, False),
    "cuda-graph fp32": (Precision.FP32, True),
    "cuda-graph fp16": (Precision.FP16, True),
}


def bench_model(name: str, kwargs: dict, batch: int, rounds: int, iters: int) -> dict[str, dict[str, float]]:
    runners = {}
    for label, (precision, graph) in VARIANTS.items():
        torch.manual_seed(0)
        model = create_model(name, **kwargs).eval()
        runners[label] = TorchRunner(model, model.spec, device="cuda", precision=precision, cuda_graph=graph)
    feeds = make_feeds(next(iter(runners.values())), batch)
    config = BenchConfig(batches=(batch,), warmup=20, iters=iters)
    compute: dict[str, list[float]] = {k: [] for k in runners}
    total: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(rounds):
        for label, runner in runners.items():
            timing = time_cuda(runner, feeds, config)
            compute[label].append(timing.compute_ms if timing.compute_ms is not None else timing.latency.p50)
            total[label].append(timing.latency.p50)
    return {
        k: {"compute_ms": statistics.median(compute[k]), "latency_p50_ms": statistics.median(total[k])} for k in runners
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="1,8", help="comma-separated batch sizes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(
            "torch_cuda benchmark: no CUDA GPU visible to torch on this machine; "
            "nothing to measure (run it on a GPU host)."
        )
        return 0
    gpu = torch.cuda.get_device_name(0)
    print(f"GPU: {gpu}   torch {torch.__version__}   CUDA {torch.version.cuda}")
    results: dict[str, dict] = {"gpu": gpu, "torch": torch.__version__, "models": {}}
    for title, (name, kwargs) in MODELS.items():
        for batch in (int(b) for b in args.batch.split(",")):
            figures = bench_model(name, kwargs, batch, args.rounds, args.iters)
            results["models"][f"{title} b{batch}"] = figures
            base = figures["eager fp32"]["compute_ms"]
            print(f"\n{title}, batch {batch} (median of {args.rounds} rounds × {args.iters} iters, compute on device)")
            for label, fig in figures.items():
                print(
                    f"  {label:<16} {fig['compute_ms']:8.3f} ms  ×{base / fig['compute_ms']:5.2f} vs eager fp32"
                    f"   (with copies p50 {fig['latency_p50_ms']:.3f} ms)"
                )
    if args.json:
        write_json_atomic(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

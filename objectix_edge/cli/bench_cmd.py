"""``objx-edge bench``: latency percentiles, throughput, speedup and accuracy of artifacts, side by side."""

from __future__ import annotations

from pathlib import Path

import typer

from objectix_edge.bench.harness import COMMAND_ITERS, BenchConfig, parse_batches, timed_by
from objectix_edge.bench.suite_config import SuiteConfig
from objectix_edge.cli.console import console, say
from objectix_edge.defaults import default_of
from objectix_edge.enums import Backend, Precision
from objectix_edge.errors import InputError
from objectix_edge.outputs import check_outputs


def bench(
    artifacts: list[Path] = typer.Argument(..., help="Artifacts to time: .pt checkpoints, .onnx files, .engine files."),
    backend: list[Backend] | None = typer.Option(
        None, "--backend", "-b", help="Backend(s) to run each artifact on (repeatable); default: the artifact's own."
    ),
    batch: str = typer.Option(
        ",".join(map(str, default_of(BenchConfig, "batches"))),
        "--batch",
        help="Comma-separated batch sizes, e.g. 1,4,16.",
    ),
    warmup: int = typer.Option(default_of(BenchConfig, "warmup"), "--warmup", help="Untimed iterations before timing."),
    iters: int | None = typer.Option(None, "--iters", help=f"Timed iterations per batch (default {COMMAND_ITERS})."),
    seconds: float | None = typer.Option(
        None, "--seconds", help="Time each batch for this many seconds instead of --iters."
    ),
    device: str = typer.Option(default_of(SuiteConfig, "device"), "--device", help="cpu or cuda (cuda[:N])."),
    threads: int | None = typer.Option(None, "--threads", help="Intra-op threads for ONNX Runtime and torch."),
    data: Path | None = typer.Option(None, "--data", help="COCO image folder: also measure accuracy."),
    ann: Path | None = typer.Option(None, "--ann", help="COCO instances JSON for --data."),
    reference: Path | None = typer.Option(
        None,
        "--reference",
        help="The PyTorch checkpoint the artifacts came from (baseline weights, accuracy vs original).",
    ),
    max_images: int | None = typer.Option(None, "--max-images", help="Use at most this many images of --data."),
    json_out: Path | None = typer.Option(None, "--json", help="Write all results as JSON."),
    csv_out: Path | None = typer.Option(None, "--csv", help="Write one CSV row per artifact × backend × batch."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG: latency vs batch (+ accuracy vs latency)."),
    no_baseline: bool = typer.Option(
        not default_of(SuiteConfig, "baseline"),
        "--no-baseline",
        help="Skip the PyTorch FP32 eager baseline (no speedup column).",
    ),
    precision: Precision = typer.Option(
        default_of(SuiteConfig, "torch_precision"),
        "--precision",
        help="Precision of .pt checkpoints on the torch backend (fp16 needs CUDA).",
    ),
    cuda_graph: bool = typer.Option(
        default_of(SuiteConfig, "cuda_graph"),
        "--cuda-graph",
        help="Replay .pt checkpoints as captured CUDA graphs (--device cuda).",
    ),
) -> None:
    """Time artifacts: latency mean/p50/p90/p99, throughput, speedup vs PyTorch FP32 eager, accuracy with --data.

    Example: objx-edge bench model.onnx model.int8cpu.onnx --reference best.pt --batch 1,4 --plot bench.png
    """
    from objectix_edge.bench import bench_report, plots
    from objectix_edge.bench.suite import run_suite

    iters, seconds = timed_by(iters, seconds)
    check_outputs(
        {"--json": json_out, "--csv": csv_out, "--plot": plot},
        {"--data": data, "--ann": ann, "--reference": reference, **{f"artifact {a}": a for a in artifacts}},
    )
    if (data is None) != (ann is None):
        raise InputError("--data and --ann go together: give the COCO image folder and its instances JSON")
    bench_cfg = BenchConfig(
        batches=parse_batches(batch),
        warmup=warmup,
        iters=iters,
        seconds=seconds,
    )
    config = SuiteConfig(
        artifacts=tuple(artifacts),
        bench=bench_cfg,
        backends=tuple(backend or ()),
        device=device,
        threads=threads,
        reference=reference,
        baseline=not no_baseline,
        torch_precision=precision,
        cuda_graph=cuda_graph,
    )
    with console.status("benchmarking…") as status:
        result = run_suite(config, progress=lambda msg: status.update(msg))
        if data is not None and ann is not None:
            from objectix_edge.bench.accuracy import AccuracyConfig, measure_accuracy

            status.update("measuring accuracy…")
            result.accuracy = measure_accuracy(result, AccuracyConfig(data, ann, max_images=max_images), config)
    console.print(bench_report.environment_table(result.environment))
    console.print(bench_report.latency_table(result))
    table = bench_report.accuracy_table(result)
    if table is not None:
        console.print(table)
    for note in result.notes:
        say(f"note: {note}", style="yellow")
    for path, writer in (
        (json_out, bench_report.write_json),
        (csv_out, bench_report.write_csv),
        (plot, plots.write_plot),
    ):
        if path is not None:
            writer(result, path)
            say(f"wrote {path}")

"""The deployment steps, in order. Each calls the library (never the CLI) and returns a StepOutcome.

split → export → fp16 → int8 → tensorrt → parity → bench. Artifacts are named after ``model.onnx``
in the output folder, as ``objx-edge calibrate`` and ``build-engine`` would name them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from objectix_edge.bench import bench_report, plots
from objectix_edge.bench.accuracy import parity_record
from objectix_edge.bench.harness import BenchConfig
from objectix_edge.bench.suite import run_suite
from objectix_edge.bench.suite_config import SuiteConfig
from objectix_edge.calib.int8 import Int8Config, Int8Hooks
from objectix_edge.deploy.context import DeployContext, Step, StepOutcome, StepStatus
from objectix_edge.deploy.engines import build_engines
from objectix_edge.deploy.precision import reduced_onnx
from objectix_edge.deploy.splits import split_coco
from objectix_edge.enums import ArtifactKind, Int8Form, Precision
from objectix_edge.errors import MissingDependencyError, ObjxError
from objectix_edge.eval.footage_parity import run_footage_parity
from objectix_edge.eval.parity import run_parity
from objectix_edge.eval.parity_config import FootageParityConfig, ParityConfig
from objectix_edge.eval.parity_report import ParityReport
from objectix_edge.eval.verdict import Verdict
from objectix_edge.export.onnx import ExportConfig, export_onnx
from objectix_edge.runtime.open import backend_for
from objectix_edge.runtime.trt_build import check_build_environment

ONNX_NAME = "model.onnx"
# Artifact kinds in the order parity and bench visit them.
ONNX_KINDS = (ArtifactKind.ONNX_FP32, ArtifactKind.ONNX_FP16, ArtifactKind.ONNX_INT8, ArtifactKind.ONNX_INT8CPU)
ENGINE_KINDS = (ArtifactKind.ENGINE_FP16, ArtifactKind.ENGINE_INT8)


def _mib(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.2f} MiB"


def step_split(ctx: DeployContext) -> StepOutcome:
    cfg = ctx.config
    if cfg.video is not None:  # footage: the INT8 step samples the frames and holds out the end (FootagePlan)
        return StepOutcome(
            StepStatus.OK,
            f"footage {cfg.video.name}: {cfg.calib_images} calibration frames from its first part, its end held "
            "out for parity (no labels: agreement only)",
        )
    assert cfg.ann is not None  # DeployConfig.validate: labelled runs have --ann
    ctx.split = split_coco(cfg.ann, ctx.out / "splits", cfg.calib_images, cfg.seed)
    s = ctx.split
    return StepOutcome(
        StepStatus.OK,
        f"{s.calib_images} calibration images, {s.holdout_images} held out for the budgets",
        {ArtifactKind.SPLIT_CALIB: s.calib_ann, ArtifactKind.SPLIT_HOLDOUT: s.holdout_ann},
    )


def step_export(ctx: DeployContext) -> StepOutcome:
    path = export_onnx(ctx.config.checkpoint, ctx.out / ONNX_NAME, ExportConfig())
    return StepOutcome(
        StepStatus.OK, f"{path.name} (FP32, dynamic batch, {_mib(path)})", {ArtifactKind.ONNX_FP32: path}
    )


def step_fp16(ctx: DeployContext) -> StepOutcome:
    path = reduced_onnx(ctx.artifacts[ArtifactKind.ONNX_FP32], Precision.FP16, out_dir=ctx.out).onnx
    return StepOutcome(StepStatus.OK, f"{path.name} ({_mib(path)})", {ArtifactKind.ONNX_FP16: path})


def step_int8(ctx: DeployContext) -> StepOutcome:
    cfg, split = ctx.config, ctx.split
    budgeted = cfg.max_drop is not None
    if cfg.video is not None:
        config = Int8Config(
            data=cfg.video, num_images=cfg.calib_images, out_dir=ctx.out, cpu_isa=cfg.cpu_isa, detector=cfg.detector
        )
    else:
        assert split is not None  # the split step ran: it stops the chain when it fails
        config = Int8Config(
            data=cfg.data,
            ann=split.calib_ann,
            num_images=split.calib_images,
            seed=cfg.seed,
            out_dir=ctx.out,
            max_drop=cfg.max_drop,
            val_data=cfg.data if budgeted else None,
            val_ann=split.holdout_ann if budgeted else None,
            cpu_isa=cfg.cpu_isa,
        )
    result = reduced_onnx(ctx.artifacts[ArtifactKind.ONNX_FP32], Precision.INT8, config, Int8Hooks(step=ctx.note)).int8
    assert result is not None  # the export step wrote an FP32 ONNX: INT8 is calibrated from it
    ctx.calibration = {
        "method": result.cache.method.value,
        "images": len(result.cache.image_ids),
        "cache": result.cache_path.name,
        "fp32_layers": list(result.cache.exclude),
        "cpu_isa": result.cache.cpu_isa.value,
    }
    if result.cache.footage is not None:
        ctx.calibration["footage"] = result.cache.footage
    unit = "images" if result.cache.footage is None else f"frames of {Path(result.cache.footage['source']).name}"
    message = (
        f"calibrated on {len(result.cache.image_ids)} {unit} ({result.cache.method.value}); "
        f"CPU form built for {result.cache.cpu_isa.value}"
    )
    if result.budget is not None:
        b = result.budget
        ctx.calibration.update(
            {
                "max_drop_points": cfg.max_drop,
                "fp32_metric_points": b.fp32_metric,
                "int8_metric_points": b.metrics,
                "drop_points": b.drop,
                "kept_fp32": list(b.kept),
                "verdict": b.verdict.value,
                "judgement": b.summary(),
            }
        )
        message += f"; {b.verdict.value} with {len(b.kept)} layer(s) kept FP32 (drop {b.drop:.2f} points)"
    files = {ArtifactKind.CALIB_CACHE: result.cache_path}
    files.update({ArtifactKind.onnx(Int8Form(form)): path for form, path in result.files.items()})
    return StepOutcome(StepStatus.OK, message, files)


def tensorrt_missing() -> str | None:
    """Why TensorRT engines cannot be built here (TensorRT or a GPU missing), or None when they can."""

    try:
        check_build_environment()
    except MissingDependencyError as exc:
        return str(exc)
    return None


def step_tensorrt(ctx: DeployContext) -> StepOutcome:
    missing = tensorrt_missing()
    if missing is not None:
        return StepOutcome(StepStatus.SKIPPED, f"skipped TensorRT engines: {missing}")

    engines = build_engines(ctx)
    names = [p.name for kind, p in engines.items() if kind in ENGINE_KINDS]
    return StepOutcome(StepStatus.OK, f"built {', '.join(names)}", engines)


def _artifacts_to_check(ctx: DeployContext) -> list[tuple[ArtifactKind, Path]]:
    return [(k, ctx.artifacts[k]) for k in ONNX_KINDS + ENGINE_KINDS if k in ctx.artifacts]


def _parity_judge(ctx: DeployContext) -> Callable[[Path], ParityReport]:
    """Parity of one artifact against the checkpoint: on the held-out images, or on the footage's held-out end."""
    cfg, split = ctx.config, ctx.split
    if cfg.video is not None:
        footage = FootageParityConfig(
            cfg.video, max_frames=cfg.parity_images, device=cfg.device, threads=cfg.threads, detector=cfg.detector
        )
        return lambda path: run_footage_parity(path, cfg.checkpoint, footage)

    assert split is not None and cfg.data is not None  # the split step ran: it stops the chain when it fails
    images = ParityConfig(
        images_dir=cfg.data,
        ann_file=split.holdout_ann,
        max_images=cfg.parity_images,
        device=cfg.device,
        threads=cfg.threads,
    )
    return lambda path: run_parity(path, cfg.checkpoint, images)


def step_parity(ctx: DeployContext) -> StepOutcome:
    """Every artifact against the checkpoint on the held-out images: a FAIL fails the step; an INCONCLUSIVE
    artifact is named (in the step, the report and the command's last line) but does not."""

    judge = _parity_judge(ctx)
    failed = []
    for _kind, path in _artifacts_to_check(ctx):
        ctx.note(f"parity of {path.name}")
        try:
            report = judge(path)
        except ObjxError as exc:
            failed.append(f"{path.name}: {exc}")
            continue
        ctx.parity.append(parity_record(report, path.name, backend_for(path).value))
        if report.verdict == Verdict.FAIL:
            failed.append(f"{path.name} {report.message}")
        elif report.verdict == Verdict.INCONCLUSIVE:
            ctx.inconclusive.append(f"{path.name} ({report.message})")
    if failed:
        return StepOutcome(StepStatus.FAILED, "; ".join(failed))
    passed = len(ctx.parity) - len(ctx.inconclusive)
    message = f"{passed} of {len(ctx.parity)} artifacts PASS"
    if ctx.inconclusive:
        message += "; INCONCLUSIVE: " + "; ".join(ctx.inconclusive)
    return StepOutcome(StepStatus.OK, message)


def _bench_artifacts(ctx: DeployContext) -> tuple[list[Path], list[str]]:
    """The checkpoint plus every artifact this device runs well; notes say what was left out and why."""
    paths, notes = [ctx.config.checkpoint], []
    on_gpu = ctx.config.device.startswith("cuda")
    for kind, path in _artifacts_to_check(ctx):
        if kind == ArtifactKind.ONNX_INT8 and not on_gpu:
            notes.append(
                f"{path.name} (the TensorRT INT8 form) is not timed on the CPU: "
                f"{ctx.artifacts[ArtifactKind.ONNX_INT8CPU].name} is the CPU form"
            )
            continue
        if kind in ENGINE_KINDS and not on_gpu:
            notes.append(f"{path.name} is timed with --device cuda only (against PyTorch on the same GPU)")
            continue
        paths.append(path)
    return paths, notes


def step_bench(ctx: DeployContext) -> StepOutcome:
    cfg = ctx.config
    paths, notes = _bench_artifacts(ctx)
    suite = SuiteConfig(
        artifacts=tuple(paths),
        bench=BenchConfig(batches=cfg.batches, warmup=cfg.warmup, iters=cfg.iters),
        device=cfg.device,
        threads=cfg.threads,
        reference=cfg.checkpoint,
    )
    result = run_suite(suite, progress=ctx.note)
    result.notes.extend(notes)
    # Accuracy comes from the parity step (same images, same runners): no second measurement.
    names = {p.name: str(p) for p in paths}
    result.accuracy = [{**r, "artifact": names.get(r["artifact"], r["artifact"])} for r in ctx.parity]
    files = {
        ArtifactKind.BENCH_JSON: bench_report.write_json(result, ctx.out / "bench.json"),
        ArtifactKind.BENCH_CSV: bench_report.write_csv(result, ctx.out / "bench.csv"),
        ArtifactKind.BENCH_PLOT: plots.write_plot(result, ctx.out / "bench.png"),
    }
    ctx.bench = bench_report.result_record(result)
    ctx.plots["latency and accuracy"] = files[ArtifactKind.BENCH_PLOT]
    best = max(
        (r for r in result.rows if not r.is_baseline and r.speedup), key=lambda r: r.speedup or 0.0, default=None
    )
    summary = f"{len(result.rows)} timings on {cfg.device}"
    if best is not None:
        name, batch = Path(best.artifact).name, best.timing.batch
        summary += f"; fastest vs PyTorch FP32 eager: {name} {best.speedup:.2f}× at batch {batch}"
    return StepOutcome(StepStatus.OK, summary, files)


DEPLOY_STEPS = (
    Step("split", "splitting --data into calibration and held-out images", step_split),
    Step("export", "exporting the checkpoint to ONNX", step_export),
    Step("fp16", "converting to FP16 ONNX", step_fp16),
    Step("int8", "calibrating INT8 (Q/DQ for TensorRT and for the CPU)", step_int8),
    Step("tensorrt", "building TensorRT engines", step_tensorrt),
    Step("parity", "checking parity of every artifact against the checkpoint", step_parity, stops_chain=False),
    Step("bench", "benchmarking every artifact", step_bench),
)

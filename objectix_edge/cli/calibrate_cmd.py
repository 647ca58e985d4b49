"""``objx-edge calibrate``: FP16 ONNX, and INT8 Q/DQ (TensorRT + CPU forms) from COCO calibration."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from objectix_edge.cli.console import int8_progress, say
from objectix_edge.cpu_isa import isa_option
from objectix_edge.data.footage import DEFAULT_HOLDOUT
from objectix_edge.defaults import CALIB_BATCH, CALIB_IMAGES, CALIB_METHOD, CALIB_SEED
from objectix_edge.enums import CalibMethod
from objectix_edge.errors import InputError
from objectix_edge.eval.verdict import Verdict

if TYPE_CHECKING:
    from objectix_edge.calib.sensitivity import BudgetResult


def calibrate(
    model: Path = typer.Argument(..., help="The FP32 ONNX file (from objx-edge export)."),
    fp16: bool = typer.Option(False, "--fp16", help="Write MODEL.fp16.onnx (FP32 I/O, decode kept FP32)."),
    int8: bool = typer.Option(
        False, "--int8", help="Write MODEL.calib.json, MODEL.int8.onnx (TensorRT) and MODEL.int8cpu.onnx (ORT CPU)."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="COCO image folder (with --ann), or your own footage: a video file or a frame folder."
    ),
    ann: Path | None = typer.Option(None, "--ann", help="COCO instances JSON (needed for the ROI classifier's boxes)."),
    num_images: int = typer.Option(
        CALIB_IMAGES,
        "--num-images",
        help="Calibration images (COCO: chosen with --seed; footage: frames spread evenly).",
    ),
    every: int | None = typer.Option(None, "--every", help="Footage: every N-th frame (at most --num-images)."),
    holdout: float = typer.Option(
        DEFAULT_HOLDOUT, "--holdout", help="Footage: share at its end kept for parity, never calibrated on."
    ),
    detector: Path | None = typer.Option(
        None, "--detector", help="Footage, ROI classifier: calibrate on this detector's boxes over the frames."
    ),
    method: CalibMethod = typer.Option(CALIB_METHOD, "--method", help="Range estimator."),
    exclude: list[str] | None = typer.Option(None, "--exclude", help="ONNX node name to keep FP32 (repeatable)."),
    seed: int = typer.Option(CALIB_SEED, "--seed", help="Seed of the calibration image choice."),
    batch: int = typer.Option(CALIB_BATCH, "--batch", help="Calibration batch size."),
    from_cache: Path | None = typer.Option(None, "--from-cache", help="Re-quantize from MODEL.calib.json, no images."),
    max_drop: float | None = typer.Option(
        None, "--max-drop", help="Accuracy budget in points (mAP×100 or top-1×100): keep sensitive layers FP32."
    ),
    max_fp32_layers: int | None = typer.Option(
        None, "--max-fp32-layers", help="Most layers --max-drop may keep FP32 (default: half)."
    ),
    val_data: Path | None = typer.Option(None, "--val-data", help="Held-out COCO image folder for --max-drop."),
    val_ann: Path | None = typer.Option(None, "--val-ann", help="Instances JSON of --val-data."),
    out_dir: Path | None = typer.Option(
        None, "--out-dir", "-o", help="Folder for the outputs (default: beside MODEL)."
    ),
    cpu_isa: str | None = typer.Option(
        None,
        "--cpu-isa",
        help="CPU the int8cpu file is for: auto (this machine), vnni, x86 (no VNNI: 7-bit weights) or arm64. "
        "Default: auto, or the class recorded in --from-cache.",
    ),
) -> None:
    """Make reduced-precision ONNX files: --fp16, and/or --int8 calibrated on COCO images (or --from-cache).

    Example: objx-edge calibrate model.onnx --int8 --data coco/images --ann coco/instances.json --num-images 512

    On your own footage (no labels): objx-edge calibrate det.onnx --int8 --data street.mp4 --every 10
    """
    from objectix_edge.calib.int8 import Int8Config, run_int8
    from objectix_edge.export.fp16 import convert_fp16, fp16_path

    int8 = int8 or from_cache is not None
    if not (fp16 or int8):
        raise InputError("say what to make: --fp16 and/or --int8 (or --from-cache model.calib.json)")
    if not model.is_file():
        raise InputError(f"{model}: ONNX file not found; export one with objx-edge export")
    written: list[tuple[str, Path]] = []
    budget: BudgetResult | None = None
    if fp16:
        written.append(("fp16", convert_fp16(model, fp16_path(model, out_dir))))
    if int8:
        config = Int8Config(
            data=data,
            ann=ann,
            num_images=num_images,
            method=method,
            seed=seed,
            batch_size=batch,
            exclude=tuple(exclude or ()),
            from_cache=from_cache,
            out_dir=out_dir,
            max_drop=max_drop,
            max_fp32_layers=max_fp32_layers,
            val_data=val_data,
            val_ann=val_ann,
            cpu_isa=isa_option(cpu_isa),
            every=every,
            holdout=holdout,
            detector=detector,
        )
        with int8_progress() as hooks:
            result = run_int8(model, config, hooks)
        budget = result.budget
        if budget is not None:
            _print_budget(budget)
        written += [("calibration cache", result.cache_path)] + [(k, p) for k, p in result.files.items()]
        footage = result.cache.footage
        if footage is not None:
            start, stop = footage["holdout"]
            say(
                f"footage {footage['source']} (sha256 {footage['sha256'][:12]}…, {footage['frames']} frames): "
                f"calibrated on {len(result.cache.image_ids)} frames before {start}; frames {start}–{stop - 1} "
                "held out for parity"
            )
        say(
            f"calibrated on {len(result.cache.image_ids)} {'images' if footage is None else 'frames'} "
            f"({result.cache.method.value}); "
            f"FP32 layers: {', '.join(result.cache.exclude) or 'none besides the head and decode'}; "
            f"CPU form built for {result.cache.cpu_isa.value}"
        )
    for what, path in written:  # one line each, never truncated: paths get copied from here
        say(f"wrote {what}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    if budget is not None and budget.verdict == Verdict.INCONCLUSIVE:
        needed = budget.images_needed
        more = f"about {needed} validation images would decide it" if needed else "the original is too weak to judge"
        say(
            f"INCONCLUSIVE: --val-data cannot decide the budget ({more}); kept the best configuration found",
            style="yellow",
        )
        raise typer.Exit(2)


def _print_budget(budget: BudgetResult) -> None:
    say(
        f"FP32 {budget.fp32_metric:.2f} points; final INT8 "
        + ", ".join(f"{k} {v:.2f}" for k, v in budget.metrics.items())
        + f"; {budget.summary()}"
    )
    if budget.kept:
        say(f"kept in FP32 ({len(budget.kept)}): " + ", ".join(budget.kept))
    elif budget.verdict == Verdict.PASS:
        say("plain INT8 passes: no layer kept in FP32")

"""The README's parity table, generated: train (or reuse) the named models, make every artifact, run parity.

Rows (every one names the model, the data, the images/ROIs it was judged on, the intervals, the verdict):

* ``demo``: the demo's synthetic detector (mobilenet-det width 0.25, depth 0.34, @128, 3 classes), 60
  epochs on 96 synthetic images; calibrated on 32 other synthetic images, judged on 400 unseen ones.
* ``coco-det``: mobilenet-det width 1.0 @320, 80 classes, 3 epochs on 290 coco-mini images (the parity
  issue's recipe); calibrated on 256 of them, judged on the 53 held-out coco-mini images.
* ``coco-roi``: resnet50-roi (full ResNet-50 @224, 80 classes), 1 epoch on the ROIs of the same 290
  images; calibrated on 64 of them, judged on every ROI of the 53 held-out images.

    python benchmarks/parity_table.py [--work DIR] [--rows demo,coco-det,coco-roi] [--out table.md]

Checkpoints and artifacts are kept in ``--work`` (default ~/.cache/objectix-edge/parity-table): a rerun
only re-judges. Training times are printed with the CPU they ran on.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco-mini"
DEMO_KWARGS = {"width_mult": 0.25, "depth_mult": 0.34, "neck_channels": 32, "out_stride": 4, "max_det": 50}


@dataclass(frozen=True)
class Row:
    """One model: how to get its checkpoint, where to calibrate, where to judge, and how to describe it."""

    key: str
    model: str
    make: Callable[[Path], tuple[Path, Path, Path, Path, Path]]  # work → ckpt, calib imgs/ann, judge imgs/ann
    calib_images: int
    judge_images: int


def _train(work: Path, model: str, data: Path, ann: Path, kwargs: dict[str, Any], **cfg: Any) -> Path:
    from objectix_edge.train.train_config import TrainConfig
    from objectix_edge.train.trainer import train

    last = work / "train" / "last.pt"
    if last.is_file():
        return last
    start = time.perf_counter()
    train(TrainConfig(model=model, data=data, ann=ann, out=work / "train", model_kwargs=kwargs, device="cpu", **cfg))
    print(f"  trained {model} in {time.perf_counter() - start:.0f} s")
    return last


def _demo(work: Path) -> tuple[Path, Path, Path, Path, Path]:
    from objectix_edge.data.synth import write_synthetic_coco

    sets = {}
    for name, count, seed in (("train", 96, 0), ("calib", 32, 11), ("judge", 400, 12)):
        folder = work / name
        ann = folder / "annotations" / "instances.json"
        sets[name] = (folder / "images", ann) if ann.is_file() else write_synthetic_coco(folder, count, seed=seed)
    ckpt = _train(
        work, "mobilenet-det", *sets["train"], DEMO_KWARGS, imgsz=128, epochs=60, batch=8, lr=5e-3, warmup_steps=5
    )
    return ckpt, *sets["calib"], *sets["judge"]


def _coco_split(work: Path) -> tuple[Path, Path]:
    from objectix_edge.data.split import split_coco

    train_ann, val_ann = work.parent / "split" / "train.json", work.parent / "split" / "val.json"
    if not val_ann.is_file():
        split_coco(COCO / "annotations" / "instances_train2017.json", work.parent / "split", 53, seed=0)
    return train_ann, val_ann


def _coco_det(work: Path) -> tuple[Path, Path, Path, Path, Path]:
    train_ann, val_ann = _coco_split(work)
    images = COCO / "images"
    ckpt = _train(work, "mobilenet-det", images, train_ann, {}, imgsz=320, epochs=3, batch=8, lr=2e-3)
    return ckpt, images, train_ann, images, val_ann


def _coco_roi(work: Path) -> tuple[Path, Path, Path, Path, Path]:
    train_ann, val_ann = _coco_split(work)
    images = COCO / "images"
    ckpt = _train(work, "resnet50-roi", images, train_ann, {}, imgsz=224, epochs=1, batch=8, lr=1e-3)
    return ckpt, images, train_ann, images, val_ann


ROWS = {
    "demo": Row("demo", "demo synthetic detector: mobilenet-det w0.25 d0.34 @128, 3 classes", _demo, 32, 400),
    "coco-det": Row("coco-det", "mobilenet-det w1.0 @320, 80 classes, 3 epochs on coco-mini", _coco_det, 256, 53),
    "coco-roi": Row("coco-roi", "resnet50-roi (ResNet-50 @224), 80 classes, 1 epoch on coco-mini", _coco_roi, 64, 53),
}


def _artifacts(ckpt: Path, calib: tuple[Path, Path], count: int, work: Path) -> list[Path]:
    from objectix_edge.calib.int8 import Int8Config, run_int8
    from objectix_edge.export.fp16 import convert_fp16, fp16_path
    from objectix_edge.export.onnx import export_onnx

    onnx_path = work / "model.onnx"
    if not onnx_path.is_file():
        export_onnx(ckpt, onnx_path)
    fp16 = fp16_path(onnx_path, work)
    if not fp16.is_file():
        convert_fp16(onnx_path, fp16)
    int8 = [work / "model.int8.onnx", work / "model.int8cpu.onnx"]
    if not all(p.is_file() for p in int8):
        run_int8(onnx_path, Int8Config(data=calib[0], ann=calib[1], num_images=count))
    return [onnx_path, fp16, *int8]


def _cell(interval: Any, unit: str = "") -> str:
    return "—" if interval is None else f"{interval.value:.2f} [{interval.low:.2f}, {interval.high:.2f}]{unit}"


def judge_row(row: Row, work: Path) -> list[str]:
    from objectix_edge.cpu_isa import host_isa
    from objectix_edge.eval.parity import run_parity
    from objectix_edge.eval.parity_config import ParityConfig

    folder = work / row.key
    folder.mkdir(parents=True, exist_ok=True)
    ckpt, calib_images, calib_ann, judge_images, judge_ann = row.make(folder)
    lines = []
    for path in _artifacts(ckpt, (calib_images, calib_ann), row.calib_images, folder):
        start = time.perf_counter()
        report = run_parity(path, ckpt, ParityConfig(judge_images, judge_ann, max_images=row.judge_images, batch=8))
        det, cls, ev = report.detection, report.classification, report.evidence
        sample = f"{report.images} images" + (f", {cls.rois} ROIs" if cls else "")
        metric = f"mAP {det.map_reference:.2f}" if det else f"top-1 {cls.top1_reference:.2f}" if cls else ""
        matched = f"{det.matched_confident}/{det.confident_detections}" if det else "—"
        weak = ev.too_weak or ev.weak_metric
        exact = report.budget.exact
        limit = "exact" if exact else "—" if report.judgement.limit is None else f"{report.judgement.limit:.3g}"
        verdict = f"**{report.verdict.value}**"
        if report.judgement.images_needed:
            verdict += f" (≈{report.judgement.images_needed} images would decide)"
        elif weak and not exact:
            verdict += " (original too weak to judge)"
        kind = path.name.replace("model.", "").replace(".onnx", "") or "fp32"
        form = f"{kind} ({host_isa().value})" if kind == "int8cpu" else kind
        lines.append(
            f"| {row.model} | {form} | {sample} | {metric} | {'—' if ev.too_weak else _cell(ev.agreement)} | "
            f"{matched} | {_cell(ev.drop)} | {limit} | {verdict} |"
        )
        print(f"  {path.name}: {report.message} ({time.perf_counter() - start:.0f} s)")
    return lines


def main() -> None:
    from objectix_edge.bench.env import cpu_model
    from objectix_edge.cpu_isa import vector_isa
    from objectix_edge.fileio import user_cache_dir, write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None, help="folder for checkpoints and artifacts")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated: {', '.join(ROWS)}")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    args = parser.parse_args()
    work = args.work or user_cache_dir("parity-table")
    header = [
        f"Generated by `python benchmarks/parity_table.py --rows {args.rows}` on {cpu_model()} ({vector_isa()}); "
        "ONNX Runtime CPU, the TensorRT form (int8) judged by simulated quantization, the CPU form (int8cpu) with "
        "this CPU's class. Intervals are two-sided 95 %; agreement in points (agreement mAP against the original's "
        "detections with score ≥ 0.3, or top-1 agreement %); matched = the original's confident detections the "
        "artifact found; drop and limit in points.",
        "",
        "| model | artifact | judged on | original | agreement [95 %] | matched | drop [95 %] | limit | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines = list(header)
    for key in args.rows.split(","):
        print(f"{key}: {ROWS[key].model}")
        lines += judge_row(ROWS[key], work)
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    if args.out:
        write_text_atomic(args.out, table)


if __name__ == "__main__":
    main()

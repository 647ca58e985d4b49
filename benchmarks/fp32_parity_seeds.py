"""FP32 parity of freshly trained coco-mini detectors at several seeds: false FAILs with the old matching
rule (a tied neighbour excused only inside one output, absolute score tolerance) vs the current one
(flipped peak pairs excused, tolerance relative to the score).

Each seed trains the parity issue's recipe (mobilenet-det width 1.0 @320, 80 classes, 3 epochs on the
290 coco-mini training images of split seed 0), exports it to FP32 ONNX, and judges it on the 53
held-out coco-mini images (``--judge all``: on all 343, training images included — FP32 exactness does not
care which images, and more images meet more ties) with ``run_parity`` (the verdict ``parity`` prints).
The old rule is replayed on the same outputs (eval/inference.py) with
``match_detections(flipped_peaks=False, rel_tolerance=0)``.

    python benchmarks/fp32_parity_seeds.py [--seeds 0 1 2] [--epochs 3] [--judge held-out|all] [--work DIR]

Checkpoints are kept in ``--work`` (default ~/.cache/objectix-edge/fp32-seeds): a rerun only re-judges.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco-mini"
HELD_OUT = 53


def _train(work: Path, train_ann: Path, seed: int, epochs: int) -> Path:
    from objectix_edge.train.train_config import TrainConfig
    from objectix_edge.train.trainer import train

    last = work / "train" / "last.pt"
    if not last.is_file():
        start = time.perf_counter()
        cfg = TrainConfig(
            model="mobilenet-det", data=COCO / "images", ann=train_ann, out=work / "train", imgsz=320,
            epochs=epochs, batch=8, lr=2e-3, seed=seed, device="cpu", progress=False,
        )  # fmt: skip
        train(cfg)
        print(f"  seed {seed}: trained in {time.perf_counter() - start:.0f} s")
    return last


def _old_and_new(onnx_path: Path, ckpt: Path, val_ann: Path, images: int | None) -> tuple[int, int, int]:
    """Unmatched rows under the old rule, under the new one, and flipped pairs, on the held-out images."""
    from objectix_edge.data.coco import load_coco
    from objectix_edge.eval.inference import detect, detector_batches
    from objectix_edge.eval.matching import MatchResult, match_detections
    from objectix_edge.eval.parity import DEFAULT_STRIDE, parity_image_ids
    from objectix_edge.eval.parity_config import ParityConfig
    from objectix_edge.runtime.open import open_runner

    old = new = MatchResult()
    with open_runner(onnx_path, judge=True) as art, open_runner(ckpt) as ref:
        spec = art.spec
        source = load_coco(COCO / "images", val_ann, categories=spec.category_names)
        ids = parity_image_ids(source, images)
        cfg = ParityConfig(COCO / "images", val_ann)
        stride = float(spec.model_kwargs.get("out_stride", DEFAULT_STRIDE))
        for batch in detector_batches(source, ids, spec, cfg.batch):
            for (_, r, _), (_, a, _) in zip(detect(ref, [batch]), detect(art, [batch]), strict=True):
                common = {"score_floor": cfg.conf, "capacity": spec.max_det, "peak_window": stride}
                old = old + match_detections(r, a, **common, flipped_peaks=False, rel_tolerance=0.0)
                new = new + match_detections(r, a, **common)
    return old.unmatched, new.unmatched, new.flipped_pairs


def main() -> None:
    from objectix_edge.bench.env import cpu_model
    from objectix_edge.cpu_isa import host_isa, vector_isa
    from objectix_edge.data.split import split_coco
    from objectix_edge.eval.parity import run_parity
    from objectix_edge.eval.parity_config import ParityConfig
    from objectix_edge.export.onnx import export_onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--judge", choices=["held-out", "all"], default="held-out")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "objectix-edge" / "fp32-seeds")
    args = parser.parse_args()
    split = args.work / "split"
    if not (split / "val.json").is_file():
        split_coco(COCO / "annotations" / "instances_train2017.json", split, HELD_OUT, seed=0)
    judge_ann = split / "val.json" if args.judge == "held-out" else COCO / "annotations" / "instances_train2017.json"
    count = HELD_OUT if args.judge == "held-out" else None
    print(f"CPU: {cpu_model()} ({vector_isa()}, INT8 class {host_isa().value}); judged on {judge_ann.name}")
    print(
        "| seed | images | detections (reference) | unmatched, old rule | old verdict | unmatched, now | flipped pairs | verdict now |"
    )
    print("|---|---|---|---|---|---|---|---|")
    fails_old = fails_new = 0
    for seed in args.seeds:
        work = args.work / f"seed{seed}"
        ckpt = _train(work, split / "train.json", seed, args.epochs)
        onnx_path = work / "model.onnx"
        if not onnx_path.is_file():
            export_onnx(ckpt, onnx_path)
        report = run_parity(onnx_path, ckpt, ParityConfig(COCO / "images", judge_ann, max_images=count))
        old, new, flips = _old_and_new(onnx_path, ckpt, judge_ann, count)
        assert report.detection is not None and report.detection.match.unmatched == new
        fails_old += old > 0
        fails_new += not report.passed
        print(
            f"| {seed} | {report.images} | {report.detection.match.reference} | {old} | {'FAIL' if old else 'PASS'} | {new} | {flips} "
            f"| {report.verdict.value} |"
        )
    print(f"FP32 false FAILs: {fails_old} of {len(args.seeds)} with the old rule, {fails_new} now")


if __name__ == "__main__":
    main()

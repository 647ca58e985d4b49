"""Train the small ROI classifier the calibration tests use (tests/assets/calib/classifier.pt).

It is trained with our own training loop on real coco-mini ROIs (6 categories), long enough to hold
real accuracy (77% top-1 on coco-mini ROIs vs 51% for always-"person"), so FP16 / INT8 accuracy drops
are measurable. It is also exported to ONNX beside it (classifier.onnx) with objectix_edge.export, so
tests do not pay for an export. Seeded; run from the repo root (about 10 min on 2 idle cores):

    python scripts/make_calib_assets.py [--coco ../shared/data/coco-mini] [--epochs-cls 20]
    python scripts/make_calib_assets.py --export-only   # re-export classifier.onnx from classifier.pt

A detector variant (--only detector) is kept for experiments: a tiny detector did not reach a useful
mAP on 343 real images within 8 epochs here, so the detector tests use the synthetic-data detector
of tests/fixtures/trained.py instead.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from objectix_edge.data.coco import load_coco
from objectix_edge.eval.classification import evaluate_classifier
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models.checkpoint import load_checkpoint, save_checkpoint
from objectix_edge.runtime.torch_runner import TorchRunner
from objectix_edge.train.config import TrainConfig
from objectix_edge.train.loop import train

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "assets" / "calib"
DET_CATEGORIES = ("person", "bottle", "chair", "car")
CLS_CATEGORIES = ("person", "bottle", "chair", "car", "cup", "book")
DETECTOR = {"imgsz": 160, "width_mult": 0.35, "depth_mult": 0.34, "neck_channels": 48, "out_stride": 4, "max_det": 50}
CLASSIFIER = {"imgsz": 64, "layers": (1, 1, 1, 1), "base_width": 16}


def _train(
    model: str, kwargs: dict, categories: tuple[str, ...], epochs: int, batch: int, lr: float, coco: Path, name: str
) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(
            model=model,
            data=coco / "images",
            ann=coco / "annotations" / "instances_train2017.json",
            out=Path(tmp),
            epochs=epochs,
            batch=batch,
            lr=lr,
            categories=categories,
            model_kwargs=kwargs,
            seed=0,
            device="cpu",
            progress=False,
        )
        start = time.perf_counter()
        result = train(cfg)
        ckpt = load_checkpoint(result.last)
        print(f"{name}: {result.steps} steps in {time.perf_counter() - start:.0f} s")
    # Weights and spec only: no optimizer state, so the asset stays small.
    path = save_checkpoint(OUT / f"{name}.pt", ckpt.model)
    export_onnx(path, OUT / f"{name}.onnx")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coco", type=Path, default=REPO.parent / "shared" / "data" / "coco-mini")
    parser.add_argument("--epochs-det", type=int, default=60)
    parser.add_argument("--epochs-cls", type=int, default=30)
    parser.add_argument("--only", choices=("detector", "classifier"), default=None)
    parser.add_argument("--export-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.export_only:
        for name in ("classifier",) if args.only is None else (args.only,):
            print(export_onnx(OUT / f"{name}.pt", OUT / f"{name}.onnx"))
        return
    ann = args.coco / "annotations" / "instances_train2017.json"
    if args.only == "detector":
        path = _train("mobilenet-det", DETECTOR, DET_CATEGORIES, args.epochs_det, 16, 4e-3, args.coco, "detector")
        ckpt = load_checkpoint(path)
        metrics, _ = evaluate_detector(
            TorchRunner(ckpt.model, ckpt.spec), load_coco(args.coco / "images", ann, list(DET_CATEGORIES))
        )
        print(
            f"detector: mAP {100 * metrics.map:.2f} AP50 {100 * metrics.ap50:.2f} on coco-mini "
            f"({path.stat().st_size / 1e6:.2f} MB)"
        )
    if args.only in (None, "classifier"):
        path = _train("resnet50-roi", CLASSIFIER, CLS_CATEGORIES, args.epochs_cls, 64, 2e-3, args.coco, "classifier")
        ckpt = load_checkpoint(path)
        m = evaluate_classifier(
            TorchRunner(ckpt.model, ckpt.spec), load_coco(args.coco / "images", ann, list(CLS_CATEGORIES))
        )
        print(f"classifier: top-1 {100 * m.accuracy:.2f} on coco-mini ROIs ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()

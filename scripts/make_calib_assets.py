"""Train the small models the calibration tests use (tests/assets/calib/{classifier,detector}.pt).

Both are trained with our own training loop on real coco-mini and exported to ONNX beside them
(classifier.onnx, detector.onnx) with objectix_edge.export, so tests do not pay for an export.

* classifier: resnet50-roi on coco-mini ROIs (6 categories), 77% top-1 on coco-mini ROIs vs 51% for
  always-"person" (about 10 min on 2 idle cores).
* detector: a 0.6 MB mobilenet-det (person only, 192 px, width 0.35) trained on the 167 coco-mini
  images that show a person, with mild augmentation (it must fit its images, not generalise): 100
  epochs = 2000 steps in 449 s on one thread; mAP 3.4 / AP50 12.7 on the 120 held-out images of
  tests/fixtures/calib.py (mAP 3.0 / AP50 11.8 on all of coco-mini). The tests evaluate it on
  coco-mini images that its *calibration* never saw, though training did: FP16 / INT8 budgets bound
  the error against the PyTorch original, not generalization, and a tiny detector trained on 343
  real images on a CPU has no useful mAP on unseen ones.

Seeded; run from the repo root:

    python scripts/make_calib_assets.py --only detector --threads 1
    python scripts/make_calib_assets.py --only classifier --threads 2 [--epochs-cls 30]
    python scripts/make_calib_assets.py --export-only   # re-export both .onnx from their .pt
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from objectix_edge.data.coco import load_coco
from objectix_edge.data.transforms import AugmentConfig
from objectix_edge.eval.classification import evaluate_classifier
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.export.onnx import export_onnx
from objectix_edge.models.checkpoint import load_checkpoint, save_checkpoint
from objectix_edge.runtime.torch_runner import TorchRunner
from objectix_edge.train.ddp import init_distributed
from objectix_edge.train.train_config import TrainConfig
from objectix_edge.train.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "assets" / "calib"
DET_CATEGORIES = ("person",)
CLS_CATEGORIES = ("person", "bottle", "chair", "car", "cup", "book")
# The detector has to fit its images, not generalise: no crops and a narrow rescale range.
DET_AUGMENT = AugmentConfig(crop_p=0.0, resize_range=(0.85, 1.15))
DETECTOR = {"imgsz": 192, "width_mult": 0.35, "depth_mult": 0.34, "neck_channels": 48, "out_stride": 4, "max_det": 50}
CLASSIFIER = {"imgsz": 64, "layers": (1, 1, 1, 1), "base_width": 16}


def _images_with(ann: Path, categories: tuple[str, ...], out: Path) -> Path:
    """A copy of ``ann`` holding only the images that show one of ``categories`` (more passes per minute)."""
    data = json.loads(ann.read_text())
    ids = {c["id"] for c in data["categories"] if c["name"] in categories}
    keep = {a["image_id"] for a in data["annotations"] if a["category_id"] in ids}
    data["images"] = [im for im in data["images"] if im["id"] in keep]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] in keep]
    out.write_text(json.dumps(data))
    return out


def _train(
    model: str,
    kwargs: dict,
    categories: tuple[str, ...],
    epochs: int,
    batch: int,
    lr: float,
    coco: Path,
    name: str,
    warmup_steps: int = 0,
    augment: AugmentConfig | None = None,
) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        ann = coco / "annotations" / "instances_train2017.json"
        if model == "mobilenet-det":
            ann = _images_with(ann, categories, Path(tmp) / "train.json")
        cfg = TrainConfig(
            model=model,
            data=coco / "images",
            ann=ann,
            out=Path(tmp),
            epochs=epochs,
            batch=batch,
            lr=lr,
            warmup_steps=warmup_steps,
            categories=categories,
            model_kwargs=kwargs,
            seed=0,
            device="cpu",
            progress=False,
        )
        start = time.perf_counter()
        ctx = init_distributed(cfg.device)
        try:
            trainer = Trainer(cfg, ctx)
            if augment is not None:
                trainer.task.dataset.augment = augment
            result = trainer.fit()
        finally:
            ctx.close()
        ckpt = load_checkpoint(result.last)
        print(f"{name}: {result.steps} steps in {time.perf_counter() - start:.0f} s")
    # Weights and spec only: no optimizer state, so the asset stays small.
    path = save_checkpoint(OUT / f"{name}.pt", ckpt.model)
    export_onnx(path, OUT / f"{name}.onnx")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coco", type=Path, default=REPO.parent / "shared" / "data" / "coco-mini")
    parser.add_argument("--epochs-det", type=int, default=100)
    parser.add_argument("--epochs-cls", type=int, default=30)
    parser.add_argument("--only", choices=("detector", "classifier"), default=None)
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (detector.pt was made with 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.export_only:
        for name in ("classifier", "detector") if args.only is None else (args.only,):
            print(export_onnx(OUT / f"{name}.pt", OUT / f"{name}.onnx"))
        return
    ann = args.coco / "annotations" / "instances_train2017.json"
    if args.only == "detector":
        path = _train(
            "mobilenet-det",
            DETECTOR,
            DET_CATEGORIES,
            args.epochs_det,
            8,
            8e-3,
            args.coco,
            "detector",
            warmup_steps=20,
            augment=DET_AUGMENT,
        )
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

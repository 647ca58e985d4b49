"""Train the tiny synthetic-data models most tests judge (tests/assets/trained/{detector,classifier}.pt).

Tests judge these committed files, never models retrained in the session: a model trained on another
CPU differs in its float rounding (AVX2 vs AVX-512, AMD vs Intel), and so would every verdict measured
on it. The recipes are the ones in tests/fixtures/trained.py (our own training loop, seed 0) on the
fixture's synthetic set (seed 0); tests/train/test_trained_accuracy.py keeps one slow test that retrains
the detector on the machine that runs it and checks a loose accuracy floor.

Run from the repo root (about a minute per model on one idle core):

    python scripts/make_trained_assets.py [--only detector|classifier]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from objectix_edge.data.synth import write_synthetic_coco  # noqa: E402
from objectix_edge.models.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from objectix_edge.train.trainer import train  # noqa: E402
from tests.conftest import TINY_CLASSIFIER, TINY_DETECTOR  # noqa: E402
from tests.fixtures.data import SYNTH_TRAIN_IMAGES  # noqa: E402
from tests.fixtures.trained import CLASSIFIER_RECIPE, DETECTOR_RECIPE, TRAINED_ASSETS, tiny_config  # noqa: E402

MODELS = {
    "detector": ("mobilenet-det", TINY_DETECTOR, DETECTOR_RECIPE),
    "classifier": ("resnet50-roi", TINY_CLASSIFIER, CLASSIFIER_RECIPE),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_synthetic_coco(Path(tmp) / "synth", SYNTH_TRAIN_IMAGES, seed=0)
        for name, (model, tiny, recipe) in MODELS.items():
            if args.only and name != args.only:
                continue
            start = time.perf_counter()
            last = train(tiny_config(model, tiny, recipe, data, Path(tmp) / name)).last
            TRAINED_ASSETS.mkdir(parents=True, exist_ok=True)
            # Weights and spec only: the optimizer state would double the file and no test resumes from it.
            out = save_checkpoint(TRAINED_ASSETS / f"{name}.pt", load_checkpoint(last).model)
            print(f"{out.relative_to(REPO)}: {model} trained in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

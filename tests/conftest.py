"""Shared test set-up: markers that skip cleanly, small thread counts, tiny model configs, data paths.

Area-specific session fixtures live in ``tests/fixtures/*.py`` and are loaded as plugins below, so
every test folder can use the trained tiny models without retraining them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Two cores on CI: one intra-op thread per process keeps tests predictable.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)

pytest_plugins = [
    "tests.fixtures.data",
    "tests.fixtures.trained",
    "tests.fixtures.onnx",
    "tests.fixtures.calib",
    "tests.fixtures.footage",
    "tests.fixtures.runners",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
COCO_MINI = Path(os.environ.get("OBJX_COCO_MINI", REPO_ROOT.parent / "shared" / "data" / "coco-mini"))

TINY_DETECTOR = {
    "imgsz": 128,
    "width_mult": 0.25,
    "depth_mult": 0.34,
    "neck_channels": 32,
    "out_stride": 4,
    "max_det": 50,
}
TINY_CLASSIFIER = {"imgsz": 64, "layers": (1, 1, 1, 1), "base_width": 8}


def _has_cuda() -> bool:
    return torch.cuda.is_available()


def _has_tensorrt() -> bool:
    try:
        import tensorrt  # noqa: F401
    except (ImportError, OSError):
        return False
    return _has_cuda()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    skip_trt = pytest.mark.skip(reason="needs TensorRT native libraries and a CUDA GPU")
    cuda, trt = _has_cuda(), _has_tensorrt()
    for item in items:
        if "gpu" in item.keywords and not cuda:
            item.add_marker(skip_gpu)
        if "tensorrt" in item.keywords and not trt:
            item.add_marker(skip_trt)


@pytest.fixture(scope="session")
def coco_mini() -> Path:
    """The real COCO subset beside the checkout (../shared/data/coco-mini)."""
    if not (COCO_MINI / "annotations" / "instances_train2017.json").is_file():
        pytest.skip(f"coco-mini not found at {COCO_MINI}; set OBJX_COCO_MINI")
    return COCO_MINI

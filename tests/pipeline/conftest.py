"""Fixtures the pipeline tests share: the trained shape detector and a tiny ROI classifier over its classes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from objectix_edge.models.checkpoint import save_checkpoint
from objectix_edge.models.registry import create_model
from objectix_edge.runtime.base import Runner
from objectix_edge.runtime.open import open_runner
from tests.conftest import TINY_CLASSIFIER
from tests.pipeline.media import SHAPES


@pytest.fixture(scope="module")
def detector(trained_detector_ckpt: Path) -> Iterator[Runner]:
    with open_runner(trained_detector_ckpt) as runner:
        yield runner


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    """A tiny ROI classifier over the shape categories (random weights: the plumbing is what is tested)."""
    torch.manual_seed(0)
    path = save_checkpoint(
        tmp_path_factory.mktemp("cls") / "roi.pt", create_model("resnet50-roi", categories=SHAPES, **TINY_CLASSIFIER)
    )
    with open_runner(path) as runner:
        yield runner

"""FP32 ONNX parity of the trained tiny models (meaningful scores and accuracy) on unseen synthetic images."""

from __future__ import annotations

from pathlib import Path

import pytest

from objectix_edge.eval.parity import run_parity
from objectix_edge.eval.parity_config import ParityConfig
from objectix_edge.export.onnx import export_onnx


@pytest.mark.slow
@pytest.mark.parametrize("which", ["detector", "classifier"])
def test_trained_fp32_parity(
    which: str, synth_coco_val: tuple[Path, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ckpt = request.getfixturevalue(f"trained_{which}_ckpt")
    onnx_path = export_onnx(ckpt, tmp_path / f"{which}.onnx")
    report = run_parity(onnx_path, ckpt, ParityConfig(*synth_coco_val, max_images=16, batch=4, threads=1))
    assert report.passed, report.message
    if which == "detector":
        det = report.detection
        assert det is not None and det.match.matched > 0 and det.match.unmatched == 0
        assert det.map_reference is not None and det.map_reference > 10.0  # a model that detects something
        assert det.map_artifact == det.map_reference and det.map_agreement == 100.0
    else:
        cls = report.classification
        assert cls is not None and cls.top1_reference > 50.0 and cls.agreement == 100.0
        assert cls.top1_artifact == cls.top1_reference

"""FP32 ONNX parity on real coco-mini images, at batch 1 and 4, within the DESIGN.md budgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from objectix_edge.enums import Precision, Task
from objectix_edge.eval.budgets import BUDGETS, budget_for
from objectix_edge.eval.matching import match_detections
from objectix_edge.eval.parity import compare_runners, run_parity
from objectix_edge.eval.parity_config import ParityConfig
from objectix_edge.eval.verdict import Verdict
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.runtime.torch_runner import TorchRunner
from tests.fixtures.onnx import make_tiny_checkpoint

FP32 = budget_for(Task.DETECT, Precision.FP32)


def coco_config(coco_mini: Path, batch: int, max_images: int = 8) -> ParityConfig:
    return ParityConfig(
        coco_mini / "images",
        coco_mini / "annotations" / "instances_train2017.json",
        max_images=max_images,
        batch=batch,
        threads=1,
    )


@pytest.mark.parametrize("batch", [1, 4])
def test_detector_fp32_parity(coco_mini: Path, tiny_det_ckpt: Path, tiny_det_onnx: Path, batch: int) -> None:
    report = run_parity(tiny_det_onnx, tiny_det_ckpt, coco_config(coco_mini, batch))
    det = report.detection
    assert report.passed, report.message
    assert report.precision == Precision.FP32 and report.images == 8
    assert (
        det is not None and det.match.reference > 100 and det.match.matched >= det.match.reference - det.match.excused
    )
    assert det.match.unmatched == 0 and det.match.min_iou > 0.999
    assert det.rel_box_diff <= FP32.max_rel_diff and det.rel_score_diff <= FP32.max_rel_diff
    assert det.map_reference == det.map_artifact  # identical detections → identical COCO mAP
    assert det.map_agreement is not None and det.map_agreement > 95.0


@pytest.mark.parametrize("batch", [1, 4])
def test_classifier_fp32_parity(coco_mini: Path, tiny_cls_ckpt: Path, tiny_cls_onnx: Path, batch: int) -> None:
    report = run_parity(tiny_cls_onnx, tiny_cls_ckpt, coco_config(coco_mini, batch))
    cls = report.classification
    assert report.passed, report.message
    assert cls is not None and cls.rois >= 20  # every ROI of the 8 images
    assert cls.agreement == 100.0 and cls.top1_reference == cls.top1_artifact
    assert cls.rel_diff <= FP32.max_rel_diff and cls.max_abs_reference > 0


def test_over_budget_says_by_how_much(coco_mini: Path, tiny_cls_onnx: Path, tmp_path: Path) -> None:
    # Same architecture and categories, other weights: a real artifact that does not match its reference.
    other = make_tiny_checkpoint(tmp_path / "other.pt", "resnet50-roi", seed=1)
    with OrtRunner(tiny_cls_onnx, threads=1) as art, TorchRunner.from_checkpoint(other) as ref:
        report = compare_runners(art, ref, coco_config(coco_mini, 4, max_images=3))
    assert not report.passed and report.verdict == Verdict.FAIL
    assert (
        "fp32 FAIL" in report.message
        and "logit diff / max abs" in report.message
        and "exceeds 0.0001 by" in report.message
    )
    # A statistical budget (FP16/INT8 rows) judges the same outputs on agreement first: two different
    # networks rarely agree, so it FAILs whatever their accuracy.
    with OrtRunner(tiny_cls_onnx, threads=1) as art, TorchRunner.from_checkpoint(other) as ref:
        config = ParityConfig(
            **{**coco_config(coco_mini, 4, 3).__dict__, "budget": budget_for(Task.ROI_CLASSIFY, Precision.INT8)}
        )
        loose = compare_runners(art, ref, config)
    assert loose.verdict == Verdict.FAIL and "agreement" in loose.message and not loose.checks


def test_budget_table_covers_every_precision() -> None:
    for task in Task:
        fp16, int8 = BUDGETS[(task, Precision.FP16)], BUDGETS[(task, Precision.INT8)]
        assert fp16.retention == 0.997 and int8.retention == 0.99  # MLPerf closed division, relative
        assert fp16.min_agreement is not None and int8.min_agreement is not None
        assert fp16.drop_limit(60.0) == pytest.approx(0.18) and int8.drop_limit(60.0) == pytest.approx(0.6)
        assert int8.with_max_drop(0.2).drop_limit(60.0) == 0.2  # --max-drop can only tighten it
        assert BUDGETS[(task, Precision.FP32)].exact and BUDGETS[(task, Precision.FP32)].max_rel_diff == 1e-4


def test_matching_ignores_row_order_and_catches_class_changes() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (10, 2))
    rows = np.concatenate([xy, xy + 20, rng.uniform(0.2, 0.9, (10, 1)), rng.integers(0, 3, (10, 1))], axis=1)
    shuffled = rows[rng.permutation(10)]
    same = match_detections(rows, shuffled)
    assert same.matched == 10 and same.unmatched == 0 and same.max_box_diff == 0.0
    relabeled = shuffled.copy()
    relabeled[0, 5] = 7
    changed = match_detections(rows, relabeled)
    assert changed.unmatched_reference == 1 and changed.unmatched_candidate == 1
    # Tied rows at a full output's TopK cut may differ: excused, not counted.
    cut = rows.copy()
    cut[:, 4] = np.maximum(cut[:, 4], 0.2)
    cut_alt = cut.copy()
    low = int(np.argmin(cut[:, 4]))
    cut_alt[low, :4] += 50
    excused = match_detections(cut, cut_alt, capacity=10)
    assert excused.unmatched == 0 and excused.excused == 2


def test_tied_neighbouring_peaks_are_excused() -> None:
    # Two adjacent heatmap cells (4 px apart) with the same score: one backend keeps both as peaks.
    ref = np.array([[10, 10, 20, 20, 0.7, 1], [40, 40, 50, 50, 0.5, 2]], dtype=np.float32)
    cand = np.concatenate([ref, [[10, 14, 20, 24, 0.7, 1]]]).astype(np.float32)
    assert match_detections(ref, cand, peak_window=4).unmatched == 0
    assert match_detections(ref, cand, peak_window=0).unmatched_candidate == 1


def test_static_batch_artifact_is_padded(coco_mini: Path, tiny_cls_ckpt: Path, tmp_path: Path) -> None:
    from objectix_edge.export.onnx import ExportConfig, export_onnx

    static = export_onnx(tiny_cls_ckpt, tmp_path / "static.onnx", ExportConfig(dynamic_batch=False))
    report = run_parity(static, tiny_cls_ckpt, coco_config(coco_mini, 3, max_images=3))
    assert report.passed, report.message
    assert report.classification is not None and report.classification.agreement == 100.0

"""PASS / FAIL / INCONCLUSIVE: hand-made evidence, constructed classifier outcomes, and real artifacts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from objectix_edge.enums import Precision, Task
from objectix_edge.eval.budgets import budget_for
from objectix_edge.eval.evidence import RoiOutcome, classifier_evidence
from objectix_edge.eval.uncertainty import Interval
from objectix_edge.eval.verdict import Evidence, Verdict, statistical_judgement

INT8_DET = budget_for(Task.DETECT, Precision.INT8)
INT8_CLS = budget_for(Task.ROI_CLASSIFY, Precision.INT8)


def _det(drop: Interval, agreement: float = 90.0, matched: float = 99.0, **kw) -> Evidence:
    return Evidence(
        images=100,
        reference_metric=60.0,  # INT8 limit: 0.6 points
        drop=drop,
        agreement=Interval(agreement, agreement - 1, agreement + 1),
        matched=Interval(matched, matched - 0.5, min(100.0, matched + 0.5)),
        **kw,
    )


def test_verdict_uses_the_bounds_not_the_point() -> None:
    assert statistical_judgement(INT8_DET, _det(Interval(0.1, -0.2, 0.5))).verdict == Verdict.PASS
    fail = statistical_judgement(INT8_DET, _det(Interval(1.0, 0.7, 1.3)))
    assert fail.verdict == Verdict.FAIL and fail.limit == pytest.approx(0.6)
    # Point estimate inside the limit, upper bound outside: not decided. Half-width 0.5 at 100 images,
    # 0.3 from the limit: (0.5 / 0.3)^2 × 100 images would put the bound on the limit.
    open_ = statistical_judgement(INT8_DET, _det(Interval(0.3, -0.2, 0.8)))
    assert open_.verdict == Verdict.INCONCLUSIVE
    assert open_.images_needed == math.ceil(100 * (0.5 / 0.3) ** 2)
    assert f"about {open_.images_needed} images" in open_.message()


def test_agreement_is_the_first_gate() -> None:
    low = statistical_judgement(INT8_DET, _det(Interval(0.0, -0.1, 0.1), agreement=40.0))
    assert low.verdict == Verdict.FAIL and "agreement" in low.message()  # the drop is fine, agreement is not
    few = statistical_judgement(INT8_DET, _det(Interval(0.0, -0.1, 0.1), matched=50.0))
    assert few.verdict == Verdict.FAIL and "matched" in few.message()
    # Agreement's interval straddles the minimum: undecided even with a perfect drop.
    straddle = statistical_judgement(INT8_DET, _det(Interval(0.0, -0.1, 0.1), agreement=70.5))
    assert straddle.verdict == Verdict.INCONCLUSIVE


def test_weak_originals_are_inconclusive_with_the_reason() -> None:
    weak = statistical_judgement(INT8_DET, _det(Interval(0.0, 0.0, 0.0), too_weak="only 3 confident detections"))
    assert weak.verdict == Verdict.INCONCLUSIVE and "only 3 confident" in weak.message()
    low_map = statistical_judgement(INT8_DET, _det(Interval(0.0, 0.0, 0.0), weak_metric="mAP below the floor"))
    assert low_map.verdict == Verdict.INCONCLUSIVE and "below the floor" in low_map.message()
    # ...but an agreement failure still FAILs a weak original.
    bad = statistical_judgement(INT8_DET, _det(Interval(0.0, 0, 0), agreement=10.0, weak_metric="mAP below"))
    assert bad.verdict == Verdict.FAIL


def _outcome(images: int, per_image: int, flips_to_wrong: int, seed: int = 0) -> RoiOutcome:
    """80 % of ROIs right in the original; the artifact makes ``flips_to_wrong`` right ones wrong."""
    rng = np.random.default_rng(seed)
    n = images * per_image
    labels = rng.integers(0, 5, n)
    ref = labels.copy()
    wrong = rng.choice(n, n // 5, replace=False)
    ref[wrong] = (labels[wrong] + 1) % 5
    art = ref.copy()
    right = np.setdiff1d(np.arange(n), wrong)[:flips_to_wrong]
    art[right] = (labels[right] + 2) % 5
    return RoiOutcome(np.repeat(np.arange(images), per_image), labels, ref, art)


def test_one_point_drop_on_few_rois_is_inconclusive_with_the_images_needed() -> None:
    rois = _outcome(images=25, per_image=4, flips_to_wrong=1)  # 100 ROIs: a 1-point drop, limit 0.8 points
    evidence = classifier_evidence(rois)
    assert evidence.drop.value == pytest.approx(1.0) and evidence.reference_metric == pytest.approx(80.0)
    judgement = statistical_judgement(INT8_CLS, evidence)
    assert judgement.verdict == Verdict.INCONCLUSIVE
    assert judgement.images_needed is not None and judgement.images_needed > 25
    assert "would decide it" in judgement.message()


def test_no_flips_on_enough_rois_passes_and_too_few_do_not() -> None:
    # 0 flips at 80 % top-1: the Clopper-Pearson bound reaches the 0.8-point limit at 460 ROIs.
    enough = statistical_judgement(INT8_CLS, classifier_evidence(_outcome(images=116, per_image=4, flips_to_wrong=0)))
    assert enough.verdict == Verdict.PASS, enough.message()
    short = statistical_judgement(INT8_CLS, classifier_evidence(_outcome(images=100, per_image=4, flips_to_wrong=0)))
    assert short.verdict == Verdict.INCONCLUSIVE and short.images_needed == 115


def test_same_accuracy_but_low_agreement_fails() -> None:
    """Right exactly where the original is right (drop 0, inside any budget), but every wrong answer moved
    to another wrong class: agreement 80 % < 95 %."""
    rois = _outcome(images=100, per_image=4, flips_to_wrong=0)
    art = rois.artifact_top1.copy()
    wrong = rois.reference_top1 != rois.labels
    art[wrong] = (rois.labels[wrong] + 3) % 5
    evidence = classifier_evidence(RoiOutcome(rois.image_index, rois.labels, rois.reference_top1, art))
    judgement = statistical_judgement(INT8_CLS, evidence)
    assert evidence.drop.value == 0.0 and evidence.drop.high <= INT8_CLS.drop_limit(80.0)
    assert evidence.agreement is not None and evidence.agreement.value == pytest.approx(80.0)
    assert judgement.verdict == Verdict.FAIL and "agreement" in judgement.message()


def test_weak_detector_whose_int8_reshuffles_its_detections_never_passes(coco_mini: Path, tmp_path: Path) -> None:
    """A near-flat heatmap (every cell scores about 0.38): the original's 'confident' detections are
    arbitrary peaks that INT8 noise reshuffles. The old point-estimate gate passed such artifacts."""
    import torch

    from objectix_edge.calib.int8 import Int8Config, run_int8
    from objectix_edge.enums import CalibMethod
    from objectix_edge.eval.parity import run_parity
    from objectix_edge.eval.parity_config import ParityConfig
    from objectix_edge.export.onnx import export_onnx
    from objectix_edge.models import create_model
    from objectix_edge.models.checkpoint import save_checkpoint
    from tests.fixtures.onnx import TINY_DETECTOR, spread_heatmap

    torch.manual_seed(0)
    model = create_model("mobilenet-det", **TINY_DETECTOR)
    spread_heatmap(model, logit_std=0.05, bias=-0.5)
    ckpt = save_checkpoint(tmp_path / "weak.pt", model)
    images, ann = coco_mini / "images", coco_mini / "annotations" / "instances_train2017.json"
    int8 = run_int8(
        export_onnx(ckpt, tmp_path / "weak.onnx"),
        Int8Config(data=images, ann=ann, num_images=8, method=CalibMethod.MINMAX),
    )
    for form, path in int8.files.items():
        report = run_parity(path, ckpt, ParityConfig(images, ann, max_images=12, batch=4, threads=1))
        print(form, report.message, report.detection)
        assert report.verdict != Verdict.PASS, report.message
        assert report.detection is not None and report.detection.confident_detections > 0


def test_healthy_fp16_classifier_passes(trained_classifier_ckpt: Path, tmp_path: Path) -> None:
    """The synthetic ROI classifier's FP16 file on 400 unseen images. FP16 may lose 0.3 % of the metric
    (0.28 points at 94 % top-1): with no changed prediction the exact bound needs about 1,300 ROIs."""
    from objectix_edge.data.synth import write_synthetic_coco
    from objectix_edge.eval.parity import run_parity
    from objectix_edge.eval.parity_config import ParityConfig
    from objectix_edge.export.fp16 import convert_fp16, fp16_path
    from objectix_edge.export.onnx import export_onnx

    onnx_path = export_onnx(trained_classifier_ckpt, tmp_path / "cls.onnx")
    fp16 = convert_fp16(onnx_path, fp16_path(onnx_path, tmp_path))
    unseen = write_synthetic_coco(tmp_path / "unseen", 400, seed=2)
    report = run_parity(fp16, trained_classifier_ckpt, ParityConfig(*unseen, max_images=400, batch=64, threads=1))
    print(report.message)
    assert report.verdict == Verdict.PASS, report.message
    assert report.evidence.drop.high <= report.judgement.limit  # decided by its bound, not its point


def test_an_original_without_confident_detections_is_too_weak(coco_mini: Path) -> None:
    """Every detection of the original scores 0.1: nothing reaches 0.3, so there is nothing to agree on."""
    from pycocotools.coco import COCO

    from objectix_edge.eval.agreement import coco_subset
    from objectix_edge.eval.evidence import detector_evidence

    full = COCO(str(coco_mini / "annotations" / "instances_train2017.json"))
    gt = coco_subset(full, sorted(full.getImgIds())[:4])
    dets = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.1}
        for a in gt.dataset["annotations"]
    ]
    evidence, figures = detector_evidence(gt, dets, dets, sorted(gt.getCatIds()))
    assert figures["confident_detections"] == 0 and evidence.matched is None and evidence.too_weak
    judgement = statistical_judgement(INT8_DET, evidence)
    assert judgement.verdict == Verdict.INCONCLUSIVE and "needed to judge agreement" in judgement.message()

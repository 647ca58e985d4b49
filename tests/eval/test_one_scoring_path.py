"""One scoring path: the same artifact on the same images gives the same figure in eval, parity, deploy,
bench and ``calibrate --max-drop`` (they all run eval/inference.py and write COCO rows one way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from objectix_edge.bench.accuracy import AccuracyConfig, _ground_truth_only, parity_record
from objectix_edge.calib.candidate_eval import make_evaluator, score
from objectix_edge.data.coco import load_coco
from objectix_edge.eval.classification import evaluate_classifier
from objectix_edge.eval.detection import evaluate_detector
from objectix_edge.eval.parity import run_parity
from objectix_edge.eval.parity_config import ParityConfig
from objectix_edge.export.onnx import export_onnx
from objectix_edge.runtime.open import open_runner


@pytest.mark.parametrize("model", ["detector", "classifier"])
def test_same_figure_in_eval_parity_bench_and_calibrate(
    model: str,
    trained_detector_ckpt: Path,
    trained_classifier_ckpt: Path,
    synth_coco_val: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    ckpt = trained_detector_ckpt if model == "detector" else trained_classifier_ckpt
    onnx_path = export_onnx(ckpt, tmp_path / f"{model}.onnx")
    images, ann = synth_coco_val
    batch = 4
    # parity; deploy's parity step is run_parity + parity_record, as is bench with --reference.
    report = run_parity(onnx_path, ckpt, ParityConfig(images, ann, max_images=None, batch=batch))
    record = parity_record(report, onnx_path.name, "onnxruntime")
    with open_runner(onnx_path, judge=True) as runner:
        spec = runner.spec
        source = load_coco(images, ann, categories=spec.category_names)
        assert report.images == len(source.image_ids)  # every synthetic image has a box
        if model == "detector":
            evaluated = 100.0 * evaluate_detector(runner, source, batch=batch)[0].map
        else:
            evaluated = 100.0 * evaluate_classifier(runner, source, batch=batch).accuracy
        bench_gt = _ground_truth_only(runner, AccuracyConfig(images, ann, max_images=None, batch=batch), "x")
    evaluator, _ = make_evaluator(spec, images, ann)
    candidate = score(evaluator, onnx_path)  # calibrate --max-drop's search
    section = report.detection if model == "detector" else report.classification
    parity_value = section.map_artifact if model == "detector" else section.top1_artifact  # type: ignore[union-attr]
    figures = {
        "eval": evaluated,
        "parity": parity_value,
        "deploy/bench --reference": record["value"],
        "bench": bench_gt["value"],
        "calibrate --max-drop": candidate,
    }
    print(figures)
    assert evaluated > (30.0 if model == "detector" else 80.0)  # a real figure, not 0 == 0
    assert all(v == pytest.approx(evaluated, abs=1e-9) for v in figures.values()), figures

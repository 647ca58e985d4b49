"""The sensitivity search's cached evaluator scores exactly like eval.detection / eval.classification."""

from __future__ import annotations

import pytest

from objectix_edge.calib.candidate_eval import make_evaluator, score
from objectix_edge.export.metadata import read_onnx_spec
from objectix_edge.runtime.ort_runner import OrtRunner
from tests.fixtures.calib import metric_points


@pytest.mark.parametrize("name", ["detector", "classifier"])
def test_cached_evaluator_matches_the_eval_modules(calib_cases, calib_int8, name: str) -> None:
    case = calib_cases[name]
    spec = read_onnx_spec(case.onnx)
    evaluate, ids = make_evaluator(spec, case.val_images, case.val_ann)
    assert ids
    for path in (case.onnx, calib_int8[name].files["int8cpu"]):
        with OrtRunner(path, judge=True) as runner:
            expected = metric_points(runner, spec, case.val_images, case.val_ann)
        assert score(evaluate, path) == pytest.approx(expected, abs=1e-9)
        assert expected > 0

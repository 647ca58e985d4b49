"""Both INT8 forms of the trained models stay within DESIGN.md's INT8 budget on held-out images.

The coco-mini assets (``detector_coco``, ``classifier``: tests/assets/calib) were trained on coco-mini
and are evaluated on coco-mini images the calibration never saw: the budget bounds quantization error
against the PyTorch original, which does not need images unseen by training (a tiny CPU-trained
detector has no mAP on those anyway). ``detector`` is the synthetic-data detector (unseen images).

Each form is judged as its target computes it (runtime/int8_kernels.py): the TensorRT form by simulated
quantization, and the CPU form built for every ISA class (forced, from the one cache), so no verdict
depends on the CPU that runs the tests.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from objectix_edge.calib.quantize import Int8Form, QuantizeConfig, quantize_from_cache
from objectix_edge.cpu_isa import CpuIsa
from objectix_edge.export.metadata import read_onnx_spec
from objectix_edge.runtime.ort_runner import OrtRunner
from tests.fixtures.calib import metric_points

# The TensorRT form (no CPU class), then the CPU form built for each class.
TARGETS = [(Int8Form.TENSORRT, None), *((Int8Form.CPU, isa) for isa in (CpuIsa.VNNI, CpuIsa.X86, CpuIsa.ARM64))]

INT8_BUDGET = 1.0  # points: mAP×100 (detector) or top-1×100 (classifier)
# The originals must be accurate, or a drop means nothing. detector_coco: mAP 3.4 (AP50 12.7) on the
# held-out images, all a tiny CPU-trained person detector reaches on coco-mini (scripts/make_calib_assets.py).
MEANINGFUL = {"detector": 30.0, "detector_coco": 3.0, "classifier": 50.0}


def _build(case_result, onnx_path: Path, form: Int8Form, isa: CpuIsa | None, out: Path) -> Path:
    """The calibration's own file, or the CPU form re-built from its cache for ``isa``."""
    cache = case_result.cache
    if isa is None or isa == cache.cpu_isa:
        return case_result.files[form.value]
    retargeted = replace(cache, cpu_isa=isa)
    return quantize_from_cache(onnx_path, retargeted, out, form, QuantizeConfig(exclude=cache.exclude))


@pytest.mark.parametrize(("form", "isa"), TARGETS, ids=lambda v: getattr(v, "value", "trt"))
@pytest.mark.parametrize("name", ["detector", "detector_coco", "classifier"])
def test_int8_forms_within_budget(
    calib_cases, calib_int8, calib_reference, name: str, form: Int8Form, isa: CpuIsa | None, tmp_path: Path
) -> None:
    case = calib_cases[name]
    reference = calib_reference[name]
    assert reference >= MEANINGFUL[name], f"{name} reference accuracy {reference:.1f} is too low to test a budget"
    path = _build(calib_int8[name], case.onnx, form, isa, tmp_path / f"{name}.{form.value}.onnx")
    spec = read_onnx_spec(path)
    with OrtRunner(path, judge=True) as runner:
        assert runner.precision.value == "int8"
        assert runner.int8_target is not None and runner.int8_target.form == form
        assert runner.int8_target.isa == (isa or CpuIsa.UNKNOWN)
        score = metric_points(runner, spec, case.val_images, case.val_ann)
    drop = reference - score
    print(
        f"{name} {form.value} {isa.value if isa else ''}: reference {reference:.2f}, int8 {score:.2f}, drop {drop:.2f}"
    )
    assert drop <= INT8_BUDGET, f"{name} {form.value}: drop {drop:.2f} points > {INT8_BUDGET}"


def test_x86_cpu_form_has_7_bit_weights(calib_cases, calib_int8, tmp_path: Path) -> None:
    """reduce_range for x86 without VNNI: weights within ±64, so u8×s8 pair sums stay below int16's limit."""
    result = calib_int8["classifier"]
    peaks = {}
    for isa in (CpuIsa.VNNI, CpuIsa.X86):
        path = _build(result, calib_cases["classifier"].onnx, Int8Form.CPU, isa, tmp_path / f"{isa.value}.onnx")
        model = onnx.load(str(path))
        weights = {n.input[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
        arrays = [numpy_helper.to_array(t) for t in model.graph.initializer if t.name in weights]
        peaks[isa] = max(int(np.abs(a.astype(np.int32)).max()) for a in arrays if a.dtype == np.int8)
    assert peaks[CpuIsa.X86] <= 64 < peaks[CpuIsa.VNNI] <= 127

"""INT8 files run as their target computes them: simulated TensorRT form, CPU form per ISA class.

The simulated TensorRT form is checked against quantize → dequantize → float conv done by hand in
numpy, so its judgement cannot depend on this CPU's integer kernels.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from objectix_edge.cpu_isa import CpuIsa, build_isa, host_isa, isa_option, parse_isa
from objectix_edge.enums import Int8Form, Task
from objectix_edge.errors import InputError
from objectix_edge.export.metadata import (
    CPU_ISA_METADATA_KEY,
    INT8_FORM_METADATA_KEY,
    PRECISION_METADATA_KEY,
    set_metadata,
)
from objectix_edge.runtime.int8_kernels import (
    DISABLE_QUANT_QDQ,
    X64_QUANT_PRECISION,
    Int8Kernels,
    Int8Target,
    choose_kernels,
)
from objectix_edge.runtime.ort_runner import OrtRunner
from objectix_edge.spec import SPEC_METADATA_KEY, Category, ModelSpec

X_SCALE = np.float32(0.031)
W_SCALES = np.array([0.011, 0.007, 0.013, 0.005], dtype=np.float32)


def _q(x: np.ndarray, scale: np.ndarray | np.float32, lo: int, hi: int) -> np.ndarray:
    """ONNX QuantizeLinear with zero point 0: round half to even, saturate."""
    return np.clip(np.rint(x / scale), lo, hi)


def _one_conv_qdq(path: Path, form: Int8Form, isa: CpuIsa | None, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """x → Q → DQ → Conv(DQ(int8 per-channel weights), FP32 bias) → y; returns the numbers used."""
    act_type = TensorProto.INT8 if form == Int8Form.TENSORRT else TensorProto.UINT8
    w_int = rng.integers(-127, 128, size=(4, 3, 3, 3)).astype(np.int8)
    bias = rng.normal(size=4).astype(np.float32)
    inits = [
        numpy_helper.from_array(np.array(X_SCALE, dtype=np.float32), "x_scale"),
        helper.make_tensor("x_zp", act_type, [], [0]),
        numpy_helper.from_array(w_int, "w_int"),
        numpy_helper.from_array(W_SCALES, "w_scale"),
        numpy_helper.from_array(np.zeros(4, dtype=np.int8), "w_zp"),
        numpy_helper.from_array(bias, "bias"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"], name="q_x"),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xdq"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w_int", "w_scale", "w_zp"], ["w"], name="dq_w", axis=0),
        helper.make_node("Conv", ["xdq", "w", "bias"], ["y"], name="conv", pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "one_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4, 16, 16])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    spec = ModelSpec("one-conv", Task.ROI_CLASSIFY, (16, 16), (Category(1, "a"),), ("x",), ("y",))
    entries = {SPEC_METADATA_KEY: spec.to_json(), PRECISION_METADATA_KEY: "int8"}
    if isa is not None:  # None: a file made before the form and class were recorded
        entries |= {INT8_FORM_METADATA_KEY: form.value}
        if form == Int8Form.CPU:
            entries[CPU_ISA_METADATA_KEY] = isa.value
    set_metadata(model, entries)
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return {"w_int": w_int, "bias": bias}


def _conv_reference(x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """3×3 convolution, stride 1, pad 1, in float64."""
    n, _, h, wd = x.shape
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for dy in range(3):
        for dx in range(3):
            patch = padded[:, :, dy : dy + h, dx : dx + wd]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, dy, dx].astype(np.float64))
    return out + bias[None, :, None, None]


def _config(runner: OrtRunner, key: str) -> str:
    """A session config entry of the runner's session, "" when it was not set."""
    try:
        return runner.session.get_session_options().get_session_config_entry(key)
    except RuntimeError:  # ONNX Runtime raises for a key that was never set
        return ""


def test_simulated_tensorrt_form_equals_numpy_qdq_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "one_conv.int8.onnx"
    numbers = _one_conv_qdq(path, Int8Form.TENSORRT, CpuIsa.UNKNOWN, rng)
    # Inputs spread over the whole s8 range (and past it, to exercise saturation).
    x = rng.uniform(-4.5, 4.5, size=(2, 3, 16, 16)).astype(np.float32)
    x_dq = _q(x, X_SCALE, -128, 127) * X_SCALE
    w = numbers["w_int"].astype(np.float64) * W_SCALES.astype(np.float64)[:, None, None, None]
    expected = _conv_reference(x_dq, w, numbers["bias"])
    with OrtRunner(path, judge=True) as runner:
        assert runner.int8_kernels == Int8Kernels.SIMULATED
        assert _config(runner, DISABLE_QUANT_QDQ) == "1"
        got = runner.infer({"x": x})["y"]
    assert np.abs(got - expected).max() <= 1e-5 * max(1.0, float(np.abs(expected).max()))
    # Timing runs it with this CPU's kernels, however they compute it.
    with OrtRunner(path) as runner:
        assert runner.int8_kernels == Int8Kernels.NATIVE
        assert _config(runner, DISABLE_QUANT_QDQ) == ""


def test_vnni_cpu_form_on_x86_host_runs_u8u8_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "one_conv.int8cpu.onnx"
    _one_conv_qdq(path, Int8Form.CPU, CpuIsa.VNNI, np.random.default_rng(1))
    with caplog.at_level(logging.WARNING, logger="objectix_edge"), OrtRunner(path, host=CpuIsa.X86) as runner:
        assert runner.int8_target == Int8Target(Int8Form.CPU, CpuIsa.VNNI)
        assert runner.int8_kernels == Int8Kernels.U8U8
        assert _config(runner, X64_QUANT_PRECISION) == "1"
        assert "u8u8 kernels" in runner.describe() and "for vnni" in runner.describe()
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 1 and X64_QUANT_PRECISION in notes[0] and "--cpu-isa x86" in notes[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="objectix_edge"), OrtRunner(path, host=CpuIsa.VNNI) as runner:
        assert runner.int8_kernels == Int8Kernels.NATIVE
        assert _config(runner, X64_QUANT_PRECISION) == ""
    assert not caplog.records


def test_file_without_recorded_form_reads_its_graph(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    cpu, trt = tmp_path / "old.int8cpu.onnx", tmp_path / "old.int8.onnx"
    _one_conv_qdq(cpu, Int8Form.CPU, None, rng)
    _one_conv_qdq(trt, Int8Form.TENSORRT, None, rng)
    with OrtRunner(cpu, host=CpuIsa.X86) as runner:
        assert runner.int8_target == Int8Target(Int8Form.CPU, CpuIsa.UNKNOWN)
        assert runner.int8_kernels == Int8Kernels.U8U8  # made before reduce_range existed: 8-bit weights
    with OrtRunner(trt, judge=True) as runner:
        assert runner.int8_target == Int8Target(Int8Form.TENSORRT)
        assert runner.int8_kernels == Int8Kernels.SIMULATED


@pytest.mark.parametrize("judge", [False, True])
@pytest.mark.parametrize("host", [CpuIsa.VNNI, CpuIsa.X86, CpuIsa.ARM64, CpuIsa.UNKNOWN])
@pytest.mark.parametrize("built", [CpuIsa.VNNI, CpuIsa.X86, CpuIsa.ARM64, CpuIsa.UNKNOWN])
def test_kernel_choice_for_every_pairing(built: CpuIsa, host: CpuIsa, judge: bool) -> None:
    trt = choose_kernels(Int8Target(Int8Form.TENSORRT), host, judge).kernels
    assert trt == (Int8Kernels.SIMULATED if judge else Int8Kernels.NATIVE)
    cpu = choose_kernels(Int8Target(Int8Form.CPU, built), host, judge)
    if host == CpuIsa.X86 and built != CpuIsa.X86:  # 8-bit weights would saturate u8×s8 int16 sums
        assert cpu.kernels == Int8Kernels.U8U8 and cpu.note
    elif host == CpuIsa.UNKNOWN and judge:
        assert cpu.kernels == Int8Kernels.SIMULATED
    else:  # VNNI and dot-product sum in int32; 7-bit weights cannot saturate on x86
        assert cpu.kernels == Int8Kernels.NATIVE and cpu.note is None


def test_isa_names_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {parse_isa(c.value) for c in CpuIsa} == set(CpuIsa)
    with pytest.raises(InputError, match="vnni, x86, arm64"):
        parse_isa("avx2")
    assert isa_option(None) is None and isa_option("X86") == CpuIsa.X86
    monkeypatch.setenv("OBJX_HOST_ISA", "arm64")
    assert host_isa() == CpuIsa.ARM64 and isa_option("auto") == CpuIsa.ARM64
    monkeypatch.setenv("OBJX_HOST_ISA", "unknown")
    assert build_isa(None) == CpuIsa.X86  # the options that are safe on every CPU
    monkeypatch.delenv("OBJX_HOST_ISA")
    assert host_isa() in (CpuIsa.VNNI, CpuIsa.X86, CpuIsa.ARM64, CpuIsa.UNKNOWN)

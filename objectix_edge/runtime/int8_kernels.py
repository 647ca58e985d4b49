"""Which ONNX Runtime kernels run an INT8 Q/DQ file, so that it computes what its target computes.

* TensorRT form: TensorRT accumulates in int32 and never saturates, while ONNX Runtime's fused CPU
  kernels for s8/s8 may. So when it is *judged* (parity, ``--max-drop``, budget tests) it runs with
  ``session.disable_quant_qdq=1``: each Q/DQ pair is computed in float, exactly as written, on any CPU.
  When it is only *run* (bench, run) it runs however this CPU runs it.
* CPU form: built for one CPU ISA class (cpu_isa.py). A file for ``vnni``/``arm64`` (8-bit weights) on
  an ``x86`` host without VNNI would saturate in the default u8×s8 kernels; there it runs with
  ``session.x64quantprecision=1`` (u8×u8 kernels, exact int32 sums: accurate, slower) and says so.
  Every other pairing computes exact int32 sums natively. On a host of no known class the CPU form is
  judged by simulation too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

import onnx

from objectix_edge.cpu_isa import CpuIsa
from objectix_edge.enums import Int8Form
from objectix_edge.export.metadata import CPU_ISA_METADATA_KEY, INT8_FORM_METADATA_KEY

DISABLE_QUANT_QDQ = "session.disable_quant_qdq"
X64_QUANT_PRECISION = "session.x64quantprecision"


class Int8Kernels(str, Enum):
    NATIVE = "native"  # the host's fused integer kernels, as ONNX Runtime picks them
    U8U8 = "u8u8"  # session.x64quantprecision=1: u8×u8 kernels on x86 without VNNI (no saturation)
    SIMULATED = "simulated"  # session.disable_quant_qdq=1: Q/DQ computed in float, no fused kernels

    @property
    def session_config(self) -> dict[str, str]:
        return {
            Int8Kernels.NATIVE: {},
            Int8Kernels.U8U8: {X64_QUANT_PRECISION: "1"},
            Int8Kernels.SIMULATED: {DISABLE_QUANT_QDQ: "1"},
        }[self]


@dataclass(frozen=True)
class Int8Target:
    """What an INT8 file was made for: its form and, for the CPU form, the CPU ISA class."""

    form: Int8Form
    isa: CpuIsa = CpuIsa.UNKNOWN


@dataclass(frozen=True)
class KernelChoice:
    kernels: Int8Kernels
    note: str | None = None  # one line for the user when the choice costs speed or departs from the default


def _form_from_graph(model: onnx.ModelProto) -> Int8Form:
    """Files made before the form was recorded: u8 activation zero points mean the CPU form."""
    uint8 = onnx.TensorProto.UINT8
    zero_points = {n.input[2] for n in model.graph.node if n.op_type == "QuantizeLinear" and len(n.input) > 2}
    inits = {t.name: t.data_type for t in model.graph.initializer}
    return Int8Form.CPU if any(inits.get(name) == uint8 for name in zero_points) else Int8Form.TENSORRT


def int8_target(metadata: Mapping[str, str], load_model: Callable[[], onnx.ModelProto]) -> Int8Target:
    """The target recorded in an INT8 file's metadata (or, for older files, read from its graph)."""

    try:
        form = Int8Form(metadata[INT8_FORM_METADATA_KEY])
    except (KeyError, ValueError):
        form = _form_from_graph(load_model())
    try:
        isa = CpuIsa(metadata.get(CPU_ISA_METADATA_KEY, CpuIsa.UNKNOWN.value))
    except ValueError:
        isa = CpuIsa.UNKNOWN
    return Int8Target(form, isa if form == Int8Form.CPU else CpuIsa.UNKNOWN)


def choose_kernels(target: Int8Target, host: CpuIsa, judge: bool) -> KernelChoice:
    """The kernels that make ``target`` compute on ``host`` what it computes on its target.

    ``judge``: the result is being compared with the original (parity, budgets), not timed.
    """
    if target.form == Int8Form.TENSORRT:
        return KernelChoice(Int8Kernels.SIMULATED if judge else Int8Kernels.NATIVE)
    if host == CpuIsa.X86 and target.isa != CpuIsa.X86:
        built = "before CPU classes were recorded" if target.isa == CpuIsa.UNKNOWN else f"for {target.isa.value}"
        return KernelChoice(
            Int8Kernels.U8U8,
            f"INT8 CPU form built {built} (8-bit weights) on an x86 CPU without VNNI: running it with "
            f"{X64_QUANT_PRECISION}=1 (accurate, slower); re-calibrate with --cpu-isa x86 for this CPU's fast kernels",
        )
    if host == CpuIsa.UNKNOWN and judge:
        return KernelChoice(Int8Kernels.SIMULATED, "INT8 CPU form judged by simulated quantization: unknown CPU class")
    return KernelChoice(Int8Kernels.NATIVE)

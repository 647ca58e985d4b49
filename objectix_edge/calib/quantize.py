"""INT8 Q/DQ with onnxruntime.quantization: one calibration (the cache), two Q/DQ files from it.

* ``int8``    (TensorRT form): symmetric s8 activations, s8 per-channel weights, FP32 bias.
* ``int8cpu`` (ONNX Runtime CPU form): u8 asymmetric activations, s8 per-channel weights, built for one
  CPU ISA class (cpu_isa.py): 7-bit weights (``reduce_range``) for ``x86`` without VNNI.

Only convolutions (with their ReLU/ReLU6) and trunk Adds are quantized; the decode (sigmoid, max-pool,
TopK, gathers), the head convs feeding it and everything else stay FP32 (DESIGN.md, measured pitfalls).
Both forms are always produced from the ranges in the cache, read back from JSON, so ``--from-cache``
writes byte-identical files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from objectix_edge.calib.reader import CalibReader, OrtCalibrationReader
from objectix_edge.cpu_isa import CpuIsa
from objectix_edge.enums import CalibMethod, Int8Form, Precision
from objectix_edge.errors import InputError
from objectix_edge.export.calib_cache import CalibCache, sha256_file
from objectix_edge.export.graph import head_nodes, tail_nodes
from objectix_edge.export.metadata import (
    CALIB_CACHE_METADATA_KEY,
    CPU_ISA_METADATA_KEY,
    INT8_FORM_METADATA_KEY,
    PRECISION_METADATA_KEY,
    load_onnx,
    set_metadata,
)
from objectix_edge.fileio import atomic_path
from objectix_edge.quiet import module_prints_silenced, quiet_root_warnings_from

QUANT_OP_TYPES = ("Conv", "Add", "Clip", "Relu")
# Producers through which an Add merges feature maps of the conv trunk (residuals, FPN merges), not decode arithmetic.
_TRUNK_PRODUCERS = {"Conv", "Add", "Relu", "Clip", "Resize"}
_CHUNK_BATCHES = 8  # batches per collect_data call: bounds the memory of the histogram calibrators


@dataclass(frozen=True)
class QuantizeConfig:
    """Which nodes stay FP32 on top of the decode: user ``--exclude`` names and sensitivity picks.

    ``only`` restricts quantization to those nodes (per-layer sensitivity quantizes one at a time).
    """

    exclude: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    cache_sha256: str | None = None  # recorded in the file: readers refuse it beside another cache


ORT_CALIBRATE = "onnxruntime.quantization.calibrate"  # its calibrators print status lines


def load_model(path: Path) -> onnx.ModelProto:
    """Load an ONNX file or raise a one-line error naming it."""

    return load_onnx(path)


def quantizable_nodes(
    model: onnx.ModelProto, exclude: Iterable[str] = (), only: Iterable[str] | None = None
) -> list[str]:
    """Names of the nodes to quantize, in graph order: every Conv, the Relu/Clip activation right
    after a quantized node (folded into its output's quantization: without it each conv pays an extra
    Q/DQ round trip and the CPU form is no faster than FP32, measured), and every Add merging trunk
    feature maps (residuals, FPN merges).

    Left out (FP32): the decode/tail, and the head nodes that feed it, so the decode reads FP32
    logits, sizes and offsets (cheap 1×1 convs; an 8-bit heatmap logit would make TopK ties).
    ``exclude`` / ``only`` select among the Convs and Adds; an activation follows its producer.
    """
    producer = {out: node for node in model.graph.node for out in node.output}
    fp32 = set(tail_nodes(model)) | set(head_nodes(model, QUANT_OP_TYPES)) | set(exclude)
    wanted = None if only is None else set(only)
    names: list[str] = []
    for node in model.graph.node:
        if node.name in fp32 or (wanted is not None and node.op_type in ("Conv", "Add") and node.name not in wanted):
            continue
        if _quantizable(node, [producer[i] for i in node.input if i in producer], names):
            names.append(node.name)
    return names


def _quantizable(node: onnx.NodeProto, inputs: list[onnx.NodeProto], chosen: list[str]) -> bool:
    if node.op_type == "Conv":
        return True
    if node.op_type == "Add":  # both operands are trunk feature maps (not constants, not decode values)
        return len(inputs) == len(node.input) and all(p.op_type in _TRUNK_PRODUCERS for p in inputs)
    return node.op_type in ("Clip", "Relu") and bool(inputs) and inputs[0].name in chosen


def layer_nodes(model: onnx.ModelProto) -> list[str]:
    """The quantizable Convs and Adds: the layers ``--exclude`` and the sensitivity search choose among."""
    kinds = {n.name: n.op_type for n in model.graph.node}
    return [n for n in quantizable_nodes(model) if kinds[n] in ("Conv", "Add")]


def check_excludes(model: onnx.ModelProto, exclude: Iterable[str], model_path: Path) -> None:
    known = {n.name for n in model.graph.node}
    unknown = [name for name in exclude if name not in known]
    if unknown:
        raise InputError(
            f"{model_path}: --exclude names no node of it: {', '.join(unknown)}; list node names with onnx or netron"
        )


def _ort_method(method: CalibMethod) -> Any:
    from onnxruntime.quantization import CalibrationMethod

    return {
        CalibMethod.ENTROPY: CalibrationMethod.Entropy,
        CalibMethod.MINMAX: CalibrationMethod.MinMax,
        CalibMethod.PERCENTILE: CalibrationMethod.Percentile,
    }[method]


def _chunks(batches: Iterable[dict[str, np.ndarray]], size: int) -> Iterable[list[dict[str, np.ndarray]]]:
    """Groups of up to ``size`` batches of one shape: ORT's histogram collectors stack a call's outputs,
    so a short last batch gets a call of its own."""
    chunk: list[dict[str, np.ndarray]] = []
    for batch in batches:
        if chunk and (len(chunk) == size or _shapes(batch) != _shapes(chunk[0])):
            yield chunk
            chunk = []
        chunk.append(batch)
    if chunk:
        yield chunk


def _shapes(batch: dict[str, np.ndarray]) -> tuple[tuple[int, ...], ...]:
    return tuple(v.shape for v in batch.values())


def calibrate(
    model_path: Path,
    reader: CalibReader,
    method: CalibMethod,
    on_image: Callable[[], None] | None = None,
) -> CalibCache:
    """Run the FP32 model over the calibration batches and return the per-tensor ranges as a cache."""
    import onnxruntime
    from onnxruntime.quantization import create_calibrator

    model_path = Path(model_path)
    with tempfile.TemporaryDirectory(prefix="objx-calib-") as tmp:
        calibrator = create_calibrator(
            model_path,
            list(QUANT_OP_TYPES),
            augmented_model_path=str(Path(tmp) / "augmented.onnx"),
            calibrate_method=_ort_method(method),
            extra_options={"percentile": 99.999} if method == CalibMethod.PERCENTILE else {},
        )
        # Feed the calibrator in chunks: entropy/percentile keep every intermediate output of a call.
        for chunk in _chunks(reader.iter_batches(on_image), _CHUNK_BATCHES):
            with module_prints_silenced(ORT_CALIBRATE):  # ORT's calibrators print status lines
                calibrator.collect_data(OrtCalibrationReader(iter(chunk)))
        with module_prints_silenced(ORT_CALIBRATE):
            tensors = calibrator.compute_data()
    ranges = {name: _as_range(td) for name, td in tensors.items()}
    return CalibCache(
        model_sha256=sha256_file(model_path),
        model_name=reader.spec.name,
        method=method,
        image_ids=tuple(reader.image_ids),
        seed=reader.seed,
        ranges=ranges,
        onnxruntime_version=onnxruntime.__version__,
    )


def _as_range(td: Any) -> tuple[float, float]:
    lo, hi = td.range_value
    # float32 → Python float is exact, and JSON round-trips Python floats exactly.
    return float(np.float32(np.asarray(lo).min())), float(np.float32(np.asarray(hi).max()))


def _tensors_data(cache: CalibCache) -> Any:
    from onnxruntime.quantization.calibrate import CalibrationMethod, TensorData, TensorsData

    data = {
        name: TensorData(lowest=np.array(lo, dtype=np.float32), highest=np.array(hi, dtype=np.float32))
        for name, (lo, hi) in sorted(cache.ranges.items())
    }
    return TensorsData(CalibrationMethod.MinMax, data)


def _form_options(form: Int8Form, isa: CpuIsa) -> dict[str, Any]:
    from onnxruntime.quantization import QuantType

    if form == Int8Form.TENSORRT:
        return {
            "activation_type": QuantType.QInt8,
            "weight_type": QuantType.QInt8,
            "reduce_range": False,
            # TensorRT wants zero-point 0 everywhere and folds the FP32 bias into its INT8 kernels.
            "extra_options": {"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False},
        }
    return {
        "activation_type": QuantType.QUInt8,
        "weight_type": QuantType.QInt8,
        # x86 without VNNI sums u8×s8 pairs in int16: 7-bit weights keep 2 × 255 × 63 below its saturation.
        "reduce_range": isa == CpuIsa.X86,
        "extra_options": {"ActivationSymmetric": False, "WeightSymmetric": True},
    }


def quantize_from_cache(
    model_path: Path, cache: CalibCache, out_path: Path, form: Int8Form, config: QuantizeConfig = QuantizeConfig()
) -> Path:
    """Write the Q/DQ file of ``form`` from the cache's ranges (no images needed); returns ``out_path``.

    The CPU form is built for the cache's CPU ISA class (``cache.cpu_isa``), recorded in the file.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static
    from onnxruntime.quantization.calibrate import save_tensors_data

    model_path, out_path = Path(model_path), Path(out_path)
    model = load_model(model_path)
    check_excludes(model, config.exclude, model_path)
    excluded = set(config.exclude)
    nodes = quantizable_nodes(model, excluded, config.only)
    isa = cache.cpu_isa if form == Int8Form.CPU else CpuIsa.UNKNOWN
    options = _form_options(form, isa)
    with tempfile.TemporaryDirectory(prefix="objx-quant-") as tmp:
        ort_cache = Path(tmp) / "ranges.json"
        save_tensors_data(_tensors_data(cache), ort_cache)
        quiet_root_warnings_from("onnxruntime/quantization/")  # it warns about pre-processing on every call
        with atomic_path(out_path) as tmp_out:
            quantize_static(
                model_path,
                tmp_out,
                calibration_data_reader=None,
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=list(QUANT_OP_TYPES),
                per_channel=True,
                nodes_to_quantize=nodes,
                nodes_to_exclude=sorted(excluded),
                calibrate_method=CalibrationMethod.MinMax,
                calibration_cache_path=ort_cache,
                activation_type=options["activation_type"],
                weight_type=options["weight_type"],
                reduce_range=options["reduce_range"],
                extra_options=options["extra_options"],
            )
            _stamp(tmp_out, model, form, isa, config.cache_sha256)
    return out_path


def _stamp(path: Path, source: onnx.ModelProto, form: Int8Form, isa: CpuIsa, cache_sha256: str | None) -> None:
    """Carry the FP32 file's metadata (ModelSpec) over; record the precision, the form and the CPU class."""

    model = onnx.load(str(path))
    entries = {PRECISION_METADATA_KEY: Precision.INT8.value, INT8_FORM_METADATA_KEY: form.value}
    if form == Int8Form.CPU:
        entries[CPU_ISA_METADATA_KEY] = isa.value
    if cache_sha256 is not None:
        entries[CALIB_CACHE_METADATA_KEY] = cache_sha256
    set_metadata(model, {p.key: p.value for p in source.metadata_props} | entries)
    model.producer_name, model.producer_version = source.producer_name, source.producer_version
    Path(path).write_bytes(model.SerializeToString(deterministic=True))


def int8_paths(model_path: Path, out_dir: Path | None = None) -> dict[str, Path]:
    """``model.onnx`` → paths of ``model.calib.json``, ``model.int8.onnx`` and ``model.int8cpu.onnx``."""
    model_path = Path(model_path)
    folder = Path(out_dir) if out_dir is not None else model_path.parent
    stem = model_path.name[: -len(".onnx")] if model_path.name.endswith(".onnx") else model_path.stem
    return {
        "cache": folder / f"{stem}.calib.json",
        Int8Form.TENSORRT.value: folder / f"{stem}.{Int8Form.TENSORRT.value}.onnx",
        Int8Form.CPU.value: folder / f"{stem}.{Int8Form.CPU.value}.onnx",
    }

"""ModelSpec and precision stored in an ONNX file's ``metadata_props``, and read back from it.

Every ONNX artifact we write (FP32 export, FP16 conversion, INT8 Q/DQ) carries the spec under
``spec.SPEC_METADATA_KEY`` and its precision under ``PRECISION_METADATA_KEY``, so later steps never
ask for flags the file already knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from objectix_edge import __version__
from objectix_edge.enums import Precision
from objectix_edge.errors import ArtifactError, InputError
from objectix_edge.spec import SPEC_METADATA_KEY, ModelSpec

PRECISION_METADATA_KEY = "objx.precision"
INT8_FORM_METADATA_KEY = "objx.int8_form"  # int8 (TensorRT form) or int8cpu (ONNX Runtime CPU form)
CPU_ISA_METADATA_KEY = "objx.cpu_isa"  # the CPU ISA class a CPU form was built for (cpu_isa.py)
CALIB_CACHE_METADATA_KEY = "objx.calib_cache_sha256"  # the calibration cache an INT8 form was made from
PRODUCER_NAME = "objectix-edge"
_QDQ_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"}


def set_metadata(model: onnx.ModelProto, entries: Mapping[str, str]) -> None:
    """Replace ``entries`` in ``model.metadata_props``; keys end up sorted so the bytes are stable."""
    merged = {p.key: p.value for p in model.metadata_props}
    merged.update(entries)
    del model.metadata_props[:]
    for key in sorted(merged):
        model.metadata_props.add(key=key, value=merged[key])


def stamp_model(model: onnx.ModelProto, spec: ModelSpec, precision: Precision) -> None:
    """Write spec, precision and our producer info into ``model`` (no timestamps: re-export is byte-identical)."""
    set_metadata(model, {SPEC_METADATA_KEY: spec.to_json(), PRECISION_METADATA_KEY: precision.value})
    model.producer_name = PRODUCER_NAME
    model.producer_version = __version__
    model.doc_string = f"{spec.name} exported by {PRODUCER_NAME} {__version__}"


def spec_from_metadata(metadata: Mapping[str, str], source: str) -> ModelSpec:
    """ModelSpec from a metadata map (onnx ``metadata_props`` or an ORT session's custom metadata)."""
    if SPEC_METADATA_KEY not in metadata:
        raise ArtifactError(
            f"{source}: ONNX file has no objectix-edge model spec ({SPEC_METADATA_KEY!r} metadata); "
            "export it with `objx-edge export CHECKPOINT`"
        )
    return ModelSpec.from_json(metadata[SPEC_METADATA_KEY], source=source)


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """Load an ONNX file or raise a one-line error naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: ONNX file not found; check the path or create it with objx-edge export")
    try:
        model = onnx.load(str(path))
    except onnx.checker.ValidationError as exc:  # e.g. external data whose path points outside its folder
        first = (str(exc).strip().splitlines() or ["invalid"])[0]
        raise ArtifactError(f"{path}: is not a valid ONNX file ({first}); re-export it") from exc
    except (DecodeError, OSError, ValueError, RuntimeError) as exc:
        raise ArtifactError(f"{path}: is not a readable ONNX file ({type(exc).__name__}); re-export it") from exc
    if not model.graph.node:  # an empty file parses as an empty model: nothing downstream could use it
        raise ArtifactError(f"{path}: holds no ONNX graph (empty or not an ONNX file); re-export it")
    return model


def read_onnx_spec(path: str | Path) -> ModelSpec:
    """The ModelSpec stored in an ONNX file by ``export_onnx`` (ArtifactError when absent)."""
    model = load_onnx(path)
    return spec_from_metadata({p.key: p.value for p in model.metadata_props}, str(path))


def detect_precision(model: onnx.ModelProto) -> Precision:
    """Precision recorded in the metadata, else inferred from the graph (Q/DQ → int8, fp16 weights → fp16)."""
    meta = {p.key: p.value for p in model.metadata_props}
    if PRECISION_METADATA_KEY in meta:
        try:
            return Precision(meta[PRECISION_METADATA_KEY])
        except ValueError:
            pass  # an unknown tag: fall back to what the graph holds
    ops = {n.op_type for n in model.graph.node}
    if ops & _QDQ_OPS:
        return Precision.INT8
    fp16 = onnx.TensorProto.FLOAT16
    if any(t.data_type == fp16 for t in model.graph.initializer) or any(
        n.op_type == "Cast" and any(a.name == "to" and a.i == fp16 for a in n.attribute) for n in model.graph.node
    ):
        return Precision.FP16
    return Precision.FP32


def require_fp32(model: onnx.ModelProto, path: str | Path, wanted: Precision) -> None:
    """Refuse (InputError) to make ``wanted`` from an ONNX that is already FP16 or INT8: converting again would
    round twice (or quantize a quantized graph), so only the FP32 export converts."""
    current = detect_precision(model)
    if current != Precision.FP32:
        raise InputError(f"{path}: is a {current.value} ONNX; pass the FP32 export to convert it to {wanted.value}")

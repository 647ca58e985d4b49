"""FP16 ONNX with onnxconverter-common's ``float16`` converter: FP32 inputs/outputs, risky ops kept FP32.

What stays FP32:
* the converter's default block list (TopK, Resize, NonMaxSuppression, Range, Min/Max...);
* ops that overflow or lose accuracy in half precision anywhere: Exp, Log, Pow, Softmax, ReduceSum;
* the whole decode: every node after the last convolution (nothing it computes feeds a Conv), i.e.
  sigmoid scores, the max-pool peak test ``peaks == heat`` (equality on rounded halves would keep
  or drop peaks), TopK, gathers and box arithmetic in pixels (values up to the input size, where
  FP16 steps are 0.25 px and more).
Convolutions, the neck and the head's convs run in FP16, which is where the time goes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx

from objectix_edge.enums import Precision
from objectix_edge.export.graph import tail_nodes
from objectix_edge.export.metadata import PRECISION_METADATA_KEY, require_fp32, set_metadata, spec_from_metadata
from objectix_edge.export.metadata import load_onnx as load_model
from objectix_edge.fileio import atomic_path

FLOAT, FLOAT16 = onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16
FP16_EXTRA_BLOCKED_OPS = ("Exp", "Log", "Pow", "Softmax", "ReduceSum", "TopK")


def _unshare_initializers(model: onnx.ModelProto, block_nodes: set[str], block_ops: set[str]) -> None:
    """Give FP32-kept nodes their own copy of constants they share with FP16 nodes.

    onnxslim de-duplicates constants (e.g. Clip's 0 and 6), and the converter then leaves a shared
    one FP32 for both users, which ONNX Runtime rejects ("Clip bound to different types").
    """
    inits = {t.name: t for t in model.graph.initializer}
    kept = [n for n in model.graph.node if n.name in block_nodes or n.op_type in block_ops]
    converted_users = {name for n in model.graph.node if n not in kept for name in n.input}
    for node in kept:
        for i, name in enumerate(node.input):
            if name in inits and name in converted_users:
                copy_name = f"{name}__fp32"
                if copy_name not in inits:
                    copy = onnx.TensorProto()
                    copy.CopyFrom(inits[name])
                    copy.name = copy_name
                    model.graph.initializer.append(copy)
                    inits[copy_name] = copy
                node.input[i] = copy_name


def _restore_float_inputs(model: onnx.ModelProto, float_inputs: set[str]) -> None:
    """FP32 graph inputs again, each followed by one Cast to FP16 that its consumers read."""
    casts = []
    for value in model.graph.input:
        if value.name not in float_inputs or value.type.tensor_type.elem_type == FLOAT:
            continue
        inner = f"{value.name}_fp16"
        for node in model.graph.node:
            for i, name in enumerate(node.input):
                if name == value.name:
                    node.input[i] = inner
        casts.append(onnx.helper.make_node("Cast", [value.name], [inner], to=FLOAT16, name=f"{value.name}_to_fp16"))
        value.type.tensor_type.elem_type = FLOAT
    for cast in reversed(casts):  # at the front: the graph stays topologically sorted
        model.graph.node.insert(0, cast)


def _restore_float_outputs(model: onnx.ModelProto, float_outputs: set[str]) -> None:
    """FP32 graph outputs again: a final Cast to FP16 (after a blocked node) is retargeted, else one is added."""
    producers = {out: node for node in model.graph.node for out in node.output}
    for output in model.graph.output:
        if output.name not in float_outputs or output.type.tensor_type.elem_type == FLOAT:
            continue
        node = producers[output.name]
        if node.op_type == "Cast":
            for attr in node.attribute:
                if attr.name == "to":
                    attr.i = FLOAT
        else:
            inner = f"{output.name}_fp16"
            node.output[list(node.output).index(output.name)] = inner
            model.graph.node.append(
                onnx.helper.make_node("Cast", [inner], [output.name], to=FLOAT, name=f"{output.name}_to_fp32")
            )
        output.type.tensor_type.elem_type = FLOAT


def convert_fp16(model_path: Path, out_path: Path, extra_block_nodes: tuple[str, ...] = ()) -> Path:
    """Write ``out_path``: ``model_path`` with FP16 weights and compute, FP32 I/O and FP32 decode."""
    from onnxconverter_common import float16

    model = load_model(Path(model_path))
    # Refuse a file without our spec now: its FP16 copy could not be run, judged or deployed either.
    spec_from_metadata({p.key: p.value for p in model.metadata_props}, str(model_path))
    require_fp32(model, model_path, Precision.FP16)
    float_inputs = {i.name for i in model.graph.input if i.type.tensor_type.elem_type == FLOAT}
    float_outputs = {o.name for o in model.graph.output if o.type.tensor_type.elem_type == FLOAT}
    metadata = [(p.key, p.value) for p in model.metadata_props]
    block_ops = sorted(set(float16.DEFAULT_OP_BLOCK_LIST) | set(FP16_EXTRA_BLOCKED_OPS))
    block_nodes = sorted(set(tail_nodes(model)) | set(extra_block_nodes))
    _unshare_initializers(model, set(block_nodes), set(block_ops))
    # Stale FP32 value_info from the export's shape inference would contradict the converted types.
    del model.graph.value_info[:]
    with warnings.catch_warnings():
        # It warns for every weight it clamps into the FP16 range: expected, and not the user's to fix.
        warnings.simplefilter("ignore", UserWarning)
        # keep_io_types is done by us: the converter's own version raises ("The downstream node of the
        # second cast node should be graph output") when the graph's last node is blocked.
        converted = float16.convert_float_to_float16(
            model, keep_io_types=False, op_block_list=block_ops, node_block_list=block_nodes
        )
    _restore_float_inputs(converted, float_inputs)
    _restore_float_outputs(converted, float_outputs)
    # The converter keeps metadata today; re-set it so the ModelSpec survives any converter version.
    set_metadata(converted, dict(metadata) | {PRECISION_METADATA_KEY: Precision.FP16.value})
    with atomic_path(out_path) as tmp:
        tmp.write_bytes(converted.SerializeToString(deterministic=True))
    return Path(out_path)


def fp16_path(model_path: Path, out_dir: Path | None = None) -> Path:
    model_path = Path(model_path)
    stem = model_path.name[: -len(".onnx")] if model_path.name.endswith(".onnx") else model_path.stem
    return (Path(out_dir) if out_dir is not None else model_path.parent) / f"{stem}.fp16.onnx"

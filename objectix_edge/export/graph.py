"""Graph regions shared by the FP16 converter and the INT8 quantizer.

* tail: nodes none of whose outputs reach a Conv — the detector's decode (sigmoid, max-pool peaks,
  TopK, gathers, box arithmetic) or the classifier's pooling + FC, plus shape arithmetic.
* head: the Conv/Add nodes that feed the tail directly (the detector's three 1×1 output convs).
"""

from __future__ import annotations

import onnx


def _consumers(model: onnx.ModelProto) -> dict[str, list[onnx.NodeProto]]:
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    return consumers


def tail_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of non-Conv nodes whose outputs never reach a Conv, in graph order."""
    consumers = _consumers(model)
    feeds_conv: dict[str, bool] = {}
    # The graph is topologically sorted: walking it backwards decides every consumer first.
    for node in reversed(model.graph.node):
        feeds_conv[node.name] = any(
            c.op_type == "Conv" or feeds_conv.get(c.name, False) for out in node.output for c in consumers.get(out, [])
        )
    return [n.name for n in model.graph.node if n.op_type != "Conv" and not feeds_conv[n.name]]


def head_nodes(model: onnx.ModelProto, op_types: tuple[str, ...] = ("Conv", "Add")) -> list[str]:
    """Nodes of ``op_types`` outside the tail with an output read by a tail node."""
    tail = set(tail_nodes(model))
    consumers = _consumers(model)
    return [
        n.name
        for n in model.graph.node
        if n.op_type in op_types
        and n.name not in tail
        and any(c.name in tail for out in n.output for c in consumers.get(out, []))
    ]

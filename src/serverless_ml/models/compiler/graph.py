"""Read an ONNX model into what the compiler translates: one row-wise input, the nodes the chosen
output needs (in order), and the constant tensors they read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from serverless_ml.models.errors import UNSUPPORTED_GRAPH, ModelError

PREFERRED_OUTPUT = "probabilities"
_FLOAT_INPUTS = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE}


@dataclass(frozen=True, slots=True)
class Graph:
    """The part of a model the compiler needs, validated."""

    input_name: str
    n_features: int
    output: str
    nodes: tuple[onnx.NodeProto, ...]
    constants: Mapping[str, np.ndarray]
    metadata: Mapping[str, str]


def attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """The node's attributes as Python values (strings decoded, tensors as numpy arrays)."""
    values: dict[str, Any] = {}
    for attribute in node.attribute:
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [item.decode("utf-8") for item in value]
        values[attribute.name] = value
    return values


def _graph_input(model: onnx.ModelProto, initializers: set[str]) -> onnx.ValueInfoProto:
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise ModelError(
            UNSUPPORTED_GRAPH,
            f"the graph has inputs {[value.name for value in inputs]}; the compiler handles one "
            "input tensor of shape [batch, n_features]",
        )
    chosen: onnx.ValueInfoProto = inputs[0]
    return chosen


def _width(value: onnx.ValueInfoProto, n_features: int | None) -> int:
    tensor = value.type.tensor_type
    if tensor.elem_type not in _FLOAT_INPUTS:
        raise ModelError(
            UNSUPPORTED_GRAPH,
            f"input {value.name!r} has element type "
            f"{onnx.TensorProto.DataType.Name(tensor.elem_type)}; the compiler reads float rows",
        )
    dims = list(tensor.shape.dim)
    if len(dims) != 2:
        raise ModelError(
            UNSUPPORTED_GRAPH,
            f"input {value.name!r} has rank {len(dims)}; the compiler handles [batch, n_features] "
            "(images and sequences need onnxruntime)",
        )
    static = dims[1].dim_value if dims[1].HasField("dim_value") else None
    if static is not None and n_features is not None and static != n_features:
        raise ModelError(
            UNSUPPORTED_GRAPH, f"input {value.name!r} is {static} wide, not n_features={n_features}"
        )
    width = static or n_features
    if not width:
        raise ModelError(
            UNSUPPORTED_GRAPH,
            f"input {value.name!r} has no static width: pass n_features (the card's features)",
        )
    return int(width)


def _choose_output(model: onnx.ModelProto, output: str | None) -> str:
    names = [str(value.name) for value in model.graph.output]
    if output is not None:
        if output not in names:
            raise ModelError(UNSUPPORTED_GRAPH, f"output {output!r} is not one of {names}")
        return output
    if len(names) == 1:
        return names[0]
    if PREFERRED_OUTPUT in names:
        return PREFERRED_OUTPUT
    floats = [
        str(value.name)
        for value in model.graph.output
        if value.type.tensor_type.elem_type in _FLOAT_INPUTS
    ]
    if len(floats) == 1:  # a classifier's scores beside its int64 or string labels
        return floats[0]
    raise ModelError(UNSUPPORTED_GRAPH, f"the graph has outputs {names}: name the one to compile")


def _needed_nodes(
    nodes: list[onnx.NodeProto], output: str, available: set[str]
) -> tuple[onnx.NodeProto, ...]:
    """The nodes ``output`` depends on, in graph order (ONNX graphs are topologically sorted)."""
    producer = {name: node for node in nodes for name in node.output if name}
    needed: set[int] = set()
    pending = [output]
    while pending:
        name = pending.pop()
        if name in available:
            continue
        node = producer.get(name)
        if node is None:
            raise ModelError(UNSUPPORTED_GRAPH, f"nothing in the graph produces {name!r}")
        if id(node) in needed:
            continue
        needed.add(id(node))
        pending.extend(item for item in node.input if item)
    return tuple(node for node in nodes if id(node) in needed)


def read_graph(
    model: onnx.ModelProto,
    *,
    output: str | None = None,
    n_features: int | None = None,
    check_node: Callable[[onnx.NodeProto], object] = lambda node: None,
) -> Graph:
    """The compilable view of ``model`` for ``output`` (default: the only output, or
    ``probabilities``). ``check_node`` sees each needed node before the input is checked, so an
    unsupported operator is what gets reported. Raises SML510 for a graph outside what the
    compiler handles."""
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            value = attributes(node).get("value")
            if isinstance(value, np.ndarray):
                constants[node.output[0]] = value
    graph_input = _graph_input(model, set(constants))
    chosen = _choose_output(model, output)
    body = [node for node in model.graph.node if node.op_type != "Constant"]
    nodes = _needed_nodes(body, chosen, {graph_input.name, *constants})
    for node in nodes:
        check_node(node)
    return Graph(
        input_name=graph_input.name,
        n_features=_width(graph_input, n_features),
        output=chosen,
        nodes=nodes,
        constants=constants,
        metadata={entry.key: entry.value for entry in model.metadata_props},
    )

"""Element-wise ONNX operators over one row: arithmetic with constants or other values,
Sigmoid, Softmax over the row, Identity and Cast to float."""

from __future__ import annotations

import numpy as np
import onnx

from serverless_ml.models.compiler.emit import Context, Translation, numbers, refuse
from serverless_ml.models.compiler.graph import attributes

_ARITHMETIC = {
    "Add": "{a} + {b}",
    "Sub": "{a} - {b}",
    "Mul": "{a} * {b}",
    "Div": "divide({a}, {b})",
    "Pow": "power({a}, {b})",
}
_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE}


def _row_constant(node: onnx.NodeProto, value: np.ndarray) -> list[float]:
    """A constant as one row's values: a scalar, [k] or [1, k] (never per-batch-row)."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 2 or (array.ndim == 2 and array.shape[0] != 1):
        raise refuse(node, f"constant of shape {list(array.shape)} broadcasts over the batch")
    return [float(v) for v in array.ravel()]


def arithmetic(node: onnx.NodeProto, context: Context) -> Translation:
    """``a <op> b`` with numpy-style broadcasting between a row and a constant (or two rows)."""
    operands: list[tuple[str, int]] = []  # (python name, width)
    definitions: list[str] = []
    parameters: list[str] = []
    for side, name in zip("ab", node.input, strict=True):
        if name in context.constants:
            values = _row_constant(node, context.constants[name])
            constant = f"{context.prefix}{side.upper()}"
            definitions.append(f"{constant} = {numbers(values)}")
            operands.append((constant, len(values)))
        else:
            parameters.append(context.variable(name))
            operands.append((side, context.width(name)))
    widths = {width for _, width in operands}
    width = max(widths)
    if widths - {1, width}:
        raise refuse(node, f"operand widths {sorted(widths)} do not broadcast")
    p = context.prefix.lower()
    names = [
        side for side, name in zip("ab", node.input, strict=True) if name not in context.constants
    ]
    expression = _ARITHMETIC[node.op_type].format(a="x", b="y")
    sources = ", ".join(f"broadcast({operand}, {width})" for operand, _ in operands)
    definitions.append(
        f"def {p}{node.op_type.lower()}({', '.join(f'{n}: list[float]' for n in names)}) -> list[float]:\n"
        f"    return [{expression} for x, y in zip({sources}, strict=True)]"
    )
    return Translation(
        "\n\n\n".join(definitions) if len(definitions) > 1 else definitions[0],
        f"{p}{node.op_type.lower()}({', '.join(parameters)})",
        width,
        f"{node.op_type}: {width} values",
    )


def sigmoid(node: onnx.NodeProto, context: Context) -> Translation:
    (source,) = node.input
    return Translation(
        "", f"[logistic(v) for v in {context.variable(source)}]", context.width(source),
        "Sigmoid",
    )  # fmt: skip


def softmax(node: onnx.NodeProto, context: Context) -> Translation:
    axis = attributes(node).get("axis", -1)
    if axis not in (1, -1):
        raise refuse(node, f"axis {axis}: the compiler applies Softmax over a row (axis 1 / -1)")
    (source,) = node.input
    return Translation("", f"softmax({context.variable(source)})", context.width(source), "Softmax")


def identity(node: onnx.NodeProto, context: Context) -> Translation:
    (source,) = node.input
    return Translation("", context.variable(source), context.width(source), node.op_type)


def cast(node: onnx.NodeProto, context: Context) -> Translation:
    target = attributes(node).get("to")
    if target not in _FLOAT_TYPES:
        raise refuse(node, f"cast to {onnx.TensorProto.DataType.Name(int(target or 0))}")
    return identity(node, context)


def array_feature_extractor(node: onnx.NodeProto, context: Context) -> Translation:
    """Columns of a row picked by constant indices (skl2onnx's positive-class score)."""
    source, indices_name = node.input
    if indices_name not in context.constants:
        raise refuse(node, "indices that are not a constant")
    indices = [int(i) for i in np.asarray(context.constants[indices_name]).ravel()]
    width = context.width(source)
    if not indices or not all(-width <= i < width for i in indices):
        raise refuse(node, f"indices {indices} outside a row of {width}")
    picked = ", ".join(f"{context.variable(source)}[{i}]" for i in indices)
    return Translation("", f"[{picked}]", len(indices), f"ArrayFeatureExtractor: {indices}")


def concat(node: onnx.NodeProto, context: Context) -> Translation:
    """Rows joined side by side (axis 1 / -1); constants must be one row."""
    if attributes(node).get("axis") not in (1, -1):
        raise refuse(node, "axis other than 1 / -1: the compiler joins along the row")
    parts: list[str] = []
    width = 0
    for index, name in enumerate(node.input):
        if name in context.constants:
            values = _row_constant(node, context.constants[name])
            parts.append(f"{context.prefix}PART{index}")
            width += len(values)
        else:
            parts.append(context.variable(name))
            width += context.width(name)
    definitions = "\n".join(
        f"{context.prefix}PART{index} = {numbers(_row_constant(node, context.constants[name]))}"
        for index, name in enumerate(node.input)
        if name in context.constants
    )
    return Translation(definitions, f"[{', '.join(f'*{part}' for part in parts)}]", width, "Concat")

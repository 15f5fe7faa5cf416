"""LinearClassifier, LinearRegressor, Scaler and Normalizer -> Python over one row."""

from __future__ import annotations

import onnx

from serverless_ml.models.compiler.emit import Context, Translation, numbers, refuse, transform_of
from serverless_ml.models.compiler.graph import attributes


def _rows(node: onnx.NodeProto, coefficients: list[float], targets: int, width: int) -> str:
    if targets < 1 or len(coefficients) != targets * width:
        raise refuse(
            node, f"{len(coefficients)} coefficients for {targets} targets of {width} features"
        )
    rows = [coefficients[k * width : (k + 1) * width] for k in range(targets)]
    return "(\n" + "".join(f"    {numbers(row, 8)},\n" for row in rows) + ")"


def _linear(
    node: onnx.NodeProto, context: Context, targets: int, second_class: int, width_out: int
) -> Translation:
    attrs = attributes(node)
    source = node.input[0]
    width = context.width(source)
    intercepts = list(attrs.get("intercepts") or [0.0] * targets)
    if len(intercepts) != targets:
        raise refuse(node, f"{len(intercepts)} intercepts for {targets} targets")
    p = context.prefix
    code = (
        f"{p}COEFFICIENTS = {_rows(node, list(attrs.get('coefficients', [])), targets, width)}\n"
        f"{p}INTERCEPTS = {numbers(intercepts)}"
    )
    expression = (
        f"finish_linear(linear({context.variable(source)}, {p}COEFFICIENTS, {p}INTERCEPTS), "
        f"{transform_of(node, attrs)}, {second_class})"
    )
    summary = (
        f"{node.op_type}: {targets} x {width} coefficients, {attrs.get('post_transform', 'NONE')}"
    )
    return Translation(code, expression, width_out, summary)


def linear_classifier(node: onnx.NodeProto, context: Context) -> Translation:
    attrs = attributes(node)
    labels = attrs.get("classlabels_ints") or attrs.get("classlabels_strings") or []
    targets = len(attrs.get("intercepts") or [])
    if not targets:
        raise refuse(node, "no intercepts (onnxruntime counts classes by them)")
    second_class = 1 if targets == 1 and len(labels) == 2 else -1
    if second_class == 1 and attrs.get("post_transform", "NONE") == "PROBIT":
        raise refuse(node, "PROBIT over one coefficient row for two classes leaves a column unset")
    return _linear(node, context, targets, second_class, 2 if second_class == 1 else targets)


def linear_regressor(node: onnx.NodeProto, context: Context) -> Translation:
    targets = int(attributes(node).get("targets", 1))
    return _linear(node, context, targets, -1, targets)


def _per_column(node: onnx.NodeProto, values: list[float], width: int, name: str) -> list[float]:
    if len(values) == 1:
        return values * width
    if len(values) != width:
        raise refuse(node, f"{len(values)} {name} values for {width} columns")
    return values


def scaler(node: onnx.NodeProto, context: Context) -> Translation:
    attrs = attributes(node)
    source = node.input[0]
    width = context.width(source)
    offset = _per_column(node, list(attrs.get("offset") or [0.0]), width, "offset")
    scale = _per_column(node, list(attrs.get("scale") or [1.0]), width, "scale")
    p = context.prefix
    code = f"{p}OFFSET = {numbers(offset)}\n{p}SCALE = {numbers(scale)}"
    expression = (
        f"[(v - o) * s for v, o, s in zip({context.variable(source)}, {p}OFFSET, {p}SCALE, "
        "strict=True)]"
    )
    return Translation(code, expression, width, f"Scaler: {width} columns")


def normalizer(node: onnx.NodeProto, context: Context) -> Translation:
    norm = attributes(node).get("norm", "MAX")
    if norm not in ("MAX", "L1", "L2"):
        raise refuse(node, f"norm {norm!r}")
    source = node.input[0]
    return Translation(
        "", f"normalize({context.variable(source)}, {norm!r})", context.width(source),
        f"Normalizer: {norm}",
    )  # fmt: skip

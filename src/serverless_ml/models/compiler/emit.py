"""Writing Python source: exact float literals, wrapped tuples, and what a translator returns."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

from serverless_ml.models.errors import UNSUPPORTED_GRAPH, ModelError

LINE = 100
# mode names (ONNX attribute strings) -> the prelude's constants
TRANSFORMS = {
    "NONE": "NONE",
    "LOGISTIC": "LOGISTIC",
    "SOFTMAX": "SOFTMAX",
    "SOFTMAX_ZERO": "SOFTMAX_ZERO",
    "PROBIT": "PROBIT",
}


def refuse(node: onnx.NodeProto, why: str) -> ModelError:
    """SML510 for ``node``: what about it the compiler cannot translate."""
    return ModelError(UNSUPPORTED_GRAPH, f"{node.op_type} {node.name or node.output[0]!r}: {why}")


def transform_of(node: onnx.NodeProto, attrs: Mapping[str, Any]) -> str:
    """The prelude constant for the node's ``post_transform`` (default NONE)."""
    name = attrs.get("post_transform", "NONE")
    if name not in TRANSFORMS:
        raise refuse(node, f"post_transform {name!r}")
    return TRANSFORMS[name]


def number(value: float | int | np.floating[Any] | np.integer[Any]) -> str:
    """A literal that reads back as exactly ``value`` (float32 values widen exactly to float64)."""
    if isinstance(value, int | np.integer):
        return str(int(value))
    as_float = float(value)
    if math.isnan(as_float):
        return "NAN"
    if math.isinf(as_float):
        return "INF" if as_float > 0 else "-INF"
    return repr(as_float)


def tuple_literal(items: Iterable[str], indent: int = 4) -> str:
    """``(a, b, ...)`` wrapped at LINE columns, each continuation line indented."""
    parts = list(items)
    if not parts:
        return "()"
    if len(parts) == 1:
        return f"({parts[0]},)"
    pad = " " * indent
    lines: list[str] = []
    current = pad
    for part in parts:
        piece = f"{part}, "
        if len(current) + len(piece) > LINE and current.strip():
            lines.append(current.rstrip())
            current = pad
        current += piece
    lines.append(current.rstrip())
    return "(\n" + "\n".join(lines) + "\n)"


def numbers(values: Iterable[Any], indent: int = 4) -> str:
    return tuple_literal((number(value) for value in values), indent)


@dataclass(frozen=True, slots=True)
class Translation:
    """One node as Python: module-level ``definitions`` and the per-row ``expression``."""

    definitions: str
    expression: str
    width: int
    summary: str


@dataclass(frozen=True, slots=True)
class Context:
    """What a translator knows about its node: a unique prefix, the constants, the widths and
    Python names of its inputs."""

    prefix: str
    constants: Mapping[str, np.ndarray]
    widths: Mapping[str, int]
    variables: Mapping[str, str]

    def variable(self, name: str) -> str:
        return self.variables[name]

    def width(self, name: str) -> int:
        return self.widths[name]


Translator = Callable[[onnx.NodeProto, Context], Translation]

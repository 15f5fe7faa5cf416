"""ONNX -> dependency-free Python: tree ensembles, linear models, scalers and normalizers.

``compile_model(model)`` reads an ONNX model and writes one readable Python module that
imports only the standard library (``array``, ``math``, ``collections.abc``) and computes the
chosen output for a row of features: ``predict(row) -> list[float]`` and ``predict_many(rows)``.
No recursion anywhere (trees are walked from flat tables with a loop), so ensembles of any
size and depth compile; inputs are rounded to float32 and every operator's result too, so
comparisons against thresholds decide as onnxruntime's do. ``check_parity`` compares the
module with onnxruntime on rows you give (SML511 beyond 1e-5). An operator it cannot
translate is refused with SML509 naming it; a graph outside its reach with SML510.

Why not m2cgen: no release since 2022, float64 thresholds (a float32 input just above a
float32 threshold can take the other branch), and a recursive code generator that fails with
RecursionError on large ensembles.
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import onnx

from serverless_ml.models.compiler import elementwise, linear, trees
from serverless_ml.models.compiler.emit import Context, Translation, Translator
from serverless_ml.models.compiler.graph import read_graph
from serverless_ml.models.errors import (
    COMPILED_MISMATCH,
    UNSUPPORTED_GRAPH,
    UNSUPPORTED_OPERATOR,
    ModelError,
)

ML: Final = "ai.onnx.ml"
OPERATORS: Final[Mapping[tuple[str, str], Translator]] = {
    (ML, "TreeEnsembleClassifier"): trees.classifier,
    (ML, "TreeEnsembleRegressor"): trees.regressor,
    (ML, "LinearClassifier"): linear.linear_classifier,
    (ML, "LinearRegressor"): linear.linear_regressor,
    (ML, "Scaler"): linear.scaler,
    (ML, "Normalizer"): linear.normalizer,
    (ML, "ArrayFeatureExtractor"): elementwise.array_feature_extractor,
    ("", "Concat"): elementwise.concat,
    ("", "Add"): elementwise.arithmetic,
    ("", "Sub"): elementwise.arithmetic,
    ("", "Mul"): elementwise.arithmetic,
    ("", "Div"): elementwise.arithmetic,
    ("", "Pow"): elementwise.arithmetic,
    ("", "Sigmoid"): elementwise.sigmoid,
    ("", "Softmax"): elementwise.softmax,
    ("", "Identity"): elementwise.identity,
    ("", "Cast"): elementwise.cast,
}
# Operators with a label output first and the scores second: only the scores compile.
_SCORES_SECOND: Final = {"TreeEnsembleClassifier", "LinearClassifier"}
TOLERANCE: Final = 1e-5
PRELUDE_MARKER: Final = "# --- prelude: copied into compiled modules from here on"


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """A compiled module's source and what it computes."""

    source: str
    input_name: str
    output: str
    n_features: int
    n_outputs: int
    operators: tuple[str, ...]
    onnx_sha256: str

    def write(self, path: Path) -> Path:
        path.write_text(self.source, encoding="utf-8")
        return path

    def load(self, name: str = "compiled_model") -> types.ModuleType:
        """The module, executed in memory (as importing the written file would)."""
        module = types.ModuleType(name)
        exec(compile(self.source, f"<{name}>", "exec"), module.__dict__)
        return module


def supported_operators() -> list[str]:
    return sorted(f"{domain or 'ai.onnx'}.{op}" for domain, op in OPERATORS)


def _translator(node: onnx.NodeProto) -> Translator:
    domain = "" if node.domain in ("", "ai.onnx") else node.domain
    translator = OPERATORS.get((domain, node.op_type))
    if translator is None:
        hint = " (convert with options={'zipmap': False})" if node.op_type == "ZipMap" else ""
        raise ModelError(
            UNSUPPORTED_OPERATOR,
            f"operator {domain or 'ai.onnx'}.{node.op_type} (node {node.name or node.output[0]!r})"
            f" has no pure-Python translation{hint}; supported: {', '.join(supported_operators())}."
            " Serve this model with onnxruntime",
        )
    return translator


def _prelude() -> str:
    text = (Path(__file__).parent / "prelude.py").read_text(encoding="utf-8")
    after = text.split(PRELUDE_MARKER, 1)[1]
    return after.split("\n", 1)[1].lstrip("\n")  # from the line after the marker


def _load(model: onnx.ModelProto | Path | str) -> tuple[onnx.ModelProto, str]:
    if isinstance(model, onnx.ModelProto):
        data = model.SerializeToString()
        return model, hashlib.sha256(data).hexdigest()
    data = Path(model).read_bytes()
    return onnx.load_from_string(data), hashlib.sha256(data).hexdigest()


def compile_model(
    model: onnx.ModelProto | Path | str,
    *,
    output: str | None = None,
    n_features: int | None = None,
    title: str = "",
) -> CompiledModel:
    """Compile ``model`` (a ModelProto or an .onnx path) for ``output`` (SML509 / SML510)."""
    proto, sha256 = _load(model)
    graph = read_graph(proto, output=output, n_features=n_features, check_node=_translator)
    variables = {graph.input_name: "v0"}
    widths = {graph.input_name: graph.n_features}
    consumed = {name for node in graph.nodes for name in node.input} | {graph.output}
    sections: list[str] = []
    steps: list[str] = []
    summaries: list[str] = []
    for index, node in enumerate(graph.nodes, start=1):
        translator = _translator(node)
        produced = node.output[1] if node.op_type in _SCORES_SECOND else node.output[0]
        unused = [name for name in node.output if name and name != produced and name in consumed]
        if unused:
            raise ModelError(
                UNSUPPORTED_GRAPH,
                f"{node.op_type} output {unused[0]!r} (labels) is used: compile a graph that "
                "reads the scores output instead",
            )
        context = Context(
            prefix=f"_N{index}_", constants=graph.constants, widths=widths, variables=variables
        )
        translation: Translation = translator(node, context)
        variables[produced] = f"v{index}"
        widths[produced] = translation.width
        summaries.append(translation.summary)
        if translation.definitions:
            sections.append(f"# --- node {index}: {translation.summary}\n{translation.definitions}")
        steps.append(f"    v{index} = as_float32({translation.expression})")
    if graph.output not in variables:
        raise ModelError(UNSUPPORTED_GRAPH, f"output {graph.output!r} is not computed")
    source = _module_source(
        title=title or graph.metadata.get("name", "model"),
        sha256=sha256,
        summaries=summaries,
        sections=sections,
        steps=steps,
        input_name=graph.input_name,
        n_features=graph.n_features,
        output=graph.output,
        n_outputs=widths[graph.output],
        result=variables[graph.output],
    )
    return CompiledModel(
        source=source,
        input_name=graph.input_name,
        output=graph.output,
        n_features=graph.n_features,
        n_outputs=widths[graph.output],
        operators=tuple(node.op_type for node in graph.nodes),
        onnx_sha256=sha256,
    )


def _module_source(
    *,
    title: str,
    sha256: str,
    summaries: Sequence[str],
    sections: Sequence[str],
    steps: Sequence[str],
    input_name: str,
    n_features: int,
    output: str,
    n_outputs: int,
    result: str,
) -> str:
    operators = "\n".join(f"- {summary}" for summary in summaries)
    header = f'''"""{title}, compiled from ONNX by serverless-ml (model sha256 {sha256[:16]}).

{operators}

predict(row) takes {n_features} numbers (the {input_name!r} input) and returns the {n_outputs}
values of {output!r}, as onnxruntime computes them (within 1e-5). Standard library only;
generated: edit the model, not this file.
"""

'''
    body = "\n".join(steps)
    api = f'''

N_FEATURES = {n_features}
INPUT = {input_name!r}
OUTPUT = {output!r}
N_OUTPUTS = {n_outputs}


def predict(row: Sequence[float]) -> list[float]:
    """{output!r} for one row of N_FEATURES numbers (rounded to float32 first)."""
    if len(row) != N_FEATURES:
        raise ValueError(f"expected {{N_FEATURES}} features, got {{len(row)}}")
    v0 = as_float32(row)
{body}
    return {result}


def predict_many(rows: Iterable[Sequence[float]]) -> list[list[float]]:
    """predict() for each row."""
    return [predict(row) for row in rows]
'''
    return header + _prelude() + "\n\n" + "\n\n\n".join(sections) + "\n" + api


def check_parity(
    compiled: CompiledModel, model_path: Path, rows: Any, *, tolerance: float = TOLERANCE
) -> dict[str, Any]:
    """Compare the compiled module with onnxruntime on ``rows`` (SML511 beyond ``tolerance``)."""
    import numpy as np
    import onnxruntime as ort

    matrix = np.ascontiguousarray(rows, dtype=np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    (expected,) = session.run([compiled.output], {compiled.input_name: matrix})
    expected = np.asarray(expected, dtype=np.float64).reshape(len(matrix), -1)
    module = compiled.load()
    actual = np.asarray(module.predict_many(matrix.tolist()), dtype=np.float64)
    if actual.shape != expected.shape:
        raise ModelError(
            COMPILED_MISMATCH, f"compiled output shape {actual.shape}, onnxruntime {expected.shape}"
        )
    with np.errstate(invalid="ignore"):  # inf - inf where both overflow alike
        difference = np.abs(expected - actual)
    same = (expected == actual) | (np.isnan(expected) & np.isnan(actual))
    difference = np.where(same, 0.0, np.nan_to_num(difference, nan=np.inf))
    worst = float(difference.max()) if difference.size else 0.0
    if worst > tolerance:
        raise ModelError(
            COMPILED_MISMATCH,
            f"compiled {compiled.output!r} differs from onnxruntime's by {worst:.3g} (> "
            f"{tolerance:g}) on {len(matrix)} rows; serve this model with onnxruntime and report it",
        )
    return {"max_abs_diff": float(f"{worst:.3g}"), "n": len(matrix), "tolerance": tolerance}

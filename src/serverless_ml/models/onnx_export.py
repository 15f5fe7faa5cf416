"""scikit-learn classifier -> ONNX -> offline ORT optimization -> parity: shared by every model.

Conventions for the shipped models: one float32 input ``features`` ``[None, n_features]``, a
float32 ``probabilities`` output ``[None, n_classes]`` (no ZipMap, so handlers get a plain
tensor), optimized offline at ``ORT_ENABLE_EXTENDED`` (``ENABLE_ALL`` adds layout rewrites tied
to the build machine's CPU). Build-time sessions run on one thread so scores, and so thresholds
and metrics, do not depend on the machine's core count.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType

from serverless_ml.models.errors import (
    BAD_CONVERSION,
    OPTIMIZED_MISMATCH,
    PARITY_FAILED,
    ModelError,
)

INPUT_NAME: Final = "features"
OUTPUT_NAME: Final = "probabilities"
LABEL_OUTPUT: Final = "label"
MAIN_OPSET: Final = 17  # ai.onnx opset: supported by every onnxruntime since 1.13
OPTIMIZATION: Final = "ORT_ENABLE_EXTENDED"
PARITY_TOLERANCE: Final = 1e-5


def convert_classifier(
    estimator: Any, n_features: int, *, metadata: Mapping[str, str]
) -> onnx.ModelProto:
    """The fitted classifier as ONNX (no ZipMap), with ``metadata`` as metadata_props."""
    with warnings.catch_warnings():
        # skl2onnx passes booleans to an ints attribute (stored as 0/1): onnx warns per tree.
        warnings.filterwarnings("ignore", "Field onnx.AttributeProto.ints", DeprecationWarning)
        model: onnx.ModelProto = to_onnx(
            estimator,
            initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
            options={id(estimator): {"zipmap": False}},
            target_opset=MAIN_OPSET,
        )
    _dedupe_opsets(model)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    outputs = {output.name: output for output in model.graph.output}
    inputs = [graph_input.name for graph_input in model.graph.input]
    probabilities = outputs.get(OUTPUT_NAME)
    if inputs != [INPUT_NAME] or probabilities is None:
        raise ModelError(
            BAD_CONVERSION,
            f"converted graph has inputs {inputs} and outputs {sorted(outputs)}; expected "
            f"[{INPUT_NAME!r}] and {OUTPUT_NAME!r} (check the skl2onnx version and options)",
        )
    if probabilities.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise ModelError(BAD_CONVERSION, f"{OUTPUT_NAME!r} is not float32")
    onnx.checker.check_model(model, full_check=True)
    return model


def _dedupe_opsets(model: onnx.ModelProto) -> None:
    """skl2onnx can list a domain twice; keep the first entry of each."""
    seen: dict[str, int] = {}
    for entry in model.opset_import:
        seen.setdefault(entry.domain, entry.version)
    del model.opset_import[:]
    for domain, version in seen.items():
        model.opset_import.add(domain=domain, version=version)


def opset_versions(model: onnx.ModelProto) -> dict[str, int]:
    """Domain -> opset version (``"ai.onnx"`` for the default domain)."""
    return {(entry.domain or "ai.onnx"): int(entry.version) for entry in model.opset_import}


def session(
    path: Path, *, level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
) -> ort.InferenceSession:
    """A one-thread CPU session (deterministic sums) for build-time scoring."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = level
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def probabilities(
    scorer: ort.InferenceSession,
    features: np.ndarray,
    *,
    output_name: str = OUTPUT_NAME,
    input_name: str = INPUT_NAME,
) -> np.ndarray:
    """The ``probabilities`` output (or ``output_name``) for float32 inputs (a feature matrix,
    or ``input_name``'s tensor such as images [n, 1, 8, 8])."""
    (result,) = scorer.run([output_name], {input_name: np.ascontiguousarray(features, np.float32)})
    return np.asarray(result, dtype=np.float32)


def optimize(
    model: onnx.ModelProto,
    out_path: Path,
    *,
    check_rows: np.ndarray,
    output_name: str = OUTPUT_NAME,
    input_name: str = INPUT_NAME,
) -> None:
    """Write ``model`` optimized offline at ORT_ENABLE_EXTENDED to ``out_path``.

    The written file must load and score ``check_rows`` like the unoptimized model (SML502).
    """
    with tempfile.TemporaryDirectory(prefix="sml-onnx-") as scratch:
        raw_path = Path(scratch) / "converted.onnx"
        raw_path.write_bytes(model.SerializeToString())
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(out_path)
        options.log_severity_level = 3
        ort.InferenceSession(str(raw_path), options, providers=["CPUExecutionProvider"])
        names = {"output_name": output_name, "input_name": input_name}
        expected = probabilities(session(raw_path), check_rows, **names)
    try:
        actual = probabilities(session(out_path), check_rows, **names)
    except Exception as error:  # onnxruntime raises its own exception types
        raise ModelError(
            OPTIMIZED_MISMATCH, f"optimized model {out_path} does not load: {error}"
        ) from error
    difference = max_abs_diff(expected, actual)
    if difference > PARITY_TOLERANCE:
        raise ModelError(
            OPTIMIZED_MISMATCH,
            f"optimized model scores differ from the converted model by {difference:.3g} "
            f"(> {PARITY_TOLERANCE:g}) on {len(check_rows)} rows; "
            "report the onnxruntime version, or build without offline optimization",
        )


def max_abs_diff(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest absolute element difference (shapes must match)."""
    if expected.shape != actual.shape:
        raise ValueError(f"shape mismatch: {expected.shape} vs {actual.shape}")
    return float(np.max(np.abs(expected.astype(np.float64) - actual.astype(np.float64))))


def check_parity(
    estimator: Any, scorer: ort.InferenceSession, features: np.ndarray
) -> dict[str, Any]:
    """Compare ONNX with scikit-learn ``predict_proba`` on ``features`` (SML501 if off).

    Both see the same float32 rows (what the Lambda handler sends).
    """
    rows = np.ascontiguousarray(features, np.float32)
    difference = max_abs_diff(estimator.predict_proba(rows), probabilities(scorer, rows))
    if difference > PARITY_TOLERANCE:
        raise ModelError(
            PARITY_FAILED,
            f"ONNX probabilities differ from scikit-learn's by {difference:.3g} "
            f"(> {PARITY_TOLERANCE:g}) on {len(rows)} held-out rows; the converter does not "
            "reproduce this estimator: check the skl2onnx version or the estimator's options",
        )
    return {
        "max_abs_diff": float(f"{difference:.3g}"),
        "n": len(rows),
        "tolerance": PARITY_TOLERANCE,
        "reference": "scikit-learn predict_proba on the held-out test split (float32 inputs)",
    }


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def library_versions() -> dict[str, str]:
    import skl2onnx
    import sklearn

    return {
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
        "numpy": np.__version__,
    }

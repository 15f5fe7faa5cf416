"""Coded model-build errors (SML5xx): each message says what is wrong and what to do."""

from __future__ import annotations

from typing import Final

PARITY_FAILED: Final = "SML501"
OPTIMIZED_MISMATCH: Final = "SML502"
ARTIFACT_TOO_LARGE: Final = "SML503"
THRESHOLD_UNREACHABLE: Final = "SML504"
ARTIFACT_OUT_OF_DATE: Final = "SML505"
ARTIFACT_MISSING: Final = "SML506"
UNKNOWN_MODEL: Final = "SML507"
BAD_CONVERSION: Final = "SML508"
UNSUPPORTED_OPERATOR: Final = "SML509"
UNSUPPORTED_GRAPH: Final = "SML510"
COMPILED_MISMATCH: Final = "SML511"

# Every code, with what it means (docs/models/fraud.md lists the same table).
CODES: Final[dict[str, str]] = {
    PARITY_FAILED: "ONNX probabilities differ from scikit-learn's beyond the tolerance",
    OPTIMIZED_MISMATCH: "the ORT-optimized model fails to load or differs from the converted one",
    ARTIFACT_TOO_LARGE: "model.onnx exceeds the committed-artifact size budget",
    THRESHOLD_UNREACHABLE: "no decision threshold meets the precision target on validation",
    ARTIFACT_OUT_OF_DATE: "a rebuilt model differs from the committed one (build-models --check)",
    ARTIFACT_MISSING: "a committed model.onnx or model_card.json is missing",
    UNKNOWN_MODEL: "a model name that is not in the build registry",
    BAD_CONVERSION: "the converted ONNX graph lacks the expected input or output",
    UNSUPPORTED_OPERATOR: "the ONNX -> Python compiler has no translation for an operator",
    UNSUPPORTED_GRAPH: "the graph's input, shapes or attributes are outside what the compiler handles",
    COMPILED_MISMATCH: "the compiled module's predictions differ from onnxruntime's beyond 1e-5",
}


class ModelError(RuntimeError):
    """A model that cannot be built, or does not match what is committed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

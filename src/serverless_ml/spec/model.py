"""ModelArtifact: an ONNX model and its card, baked into the function's artifact, served by
onnxruntime or as compiled, dependency-free Python."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from serverless_ml.spec.errors import SpecError

ARTIFACTS_ROOT = Path(__file__).resolve().parent.parent / "models" / "artifacts"
ModelRuntime = Literal["onnxruntime", "compiled"]
MODEL_RUNTIMES: tuple[ModelRuntime, ...] = ("onnxruntime", "compiled")


@dataclass(frozen=True, kw_only=True)
class ModelArtifact:
    """A directory holding ``model.onnx`` and ``model_card.json`` (written by build-models).

    ``runtime="compiled"`` serves a tree or linear model through a pure-Python module compiled
    from the ONNX graph (no numpy, no onnxruntime in the bundle); a model the compiler cannot
    translate is refused here with the compiler's code (SML509 / SML510).
    """

    name: str
    directory: Path
    runtime: ModelRuntime = "onnxruntime"

    def __post_init__(self) -> None:
        onnx = self.directory / "model.onnx"
        card = self.directory / "model_card.json"
        if not onnx.is_file() or not card.is_file():
            raise SpecError(
                "SML130",
                f"model {self.name!r}: {self.directory} must contain model.onnx and "
                "model_card.json (run `serverless-ml build-models`)",
            )
        if self.runtime not in MODEL_RUNTIMES:
            raise SpecError(
                "SML131",
                f"model {self.name!r}: runtime {self.runtime!r}: use one of {MODEL_RUNTIMES}",
            )
        if self.runtime == "compiled":
            self._check_compiles()

    def _check_compiles(self) -> None:
        from serverless_ml.models.compiler.artifact import compile_artifact
        from serverless_ml.models.errors import ModelError

        try:
            compile_artifact(self.directory)
        except ModelError as error:
            raise SpecError(
                error.code,
                f"model {self.name!r} cannot run as runtime='compiled': "
                f"{str(error).removeprefix(error.code + ': ')} (or keep runtime='onnxruntime')",
            ) from None

    @classmethod
    def packaged(cls, name: str, *, runtime: ModelRuntime = "onnxruntime") -> ModelArtifact:
        """One of the models shipped with the library (``fraud``, ...)."""
        directory = ARTIFACTS_ROOT / name
        return cls(name=name, directory=directory, runtime=runtime)

    @property
    def compiled(self) -> bool:
        return self.runtime == "compiled"

    @property
    def onnx_path(self) -> Path:
        return self.directory / "model.onnx"

    def card(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / "model_card.json").read_text("utf-8"))
        return data

"""ModelArtifact: an ONNX model and its card, baked into the function's artifact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serverless_ml.spec.errors import SpecError

ARTIFACTS_ROOT = Path(__file__).resolve().parent.parent / "models" / "artifacts"


@dataclass(frozen=True, kw_only=True)
class ModelArtifact:
    """A directory holding ``model.onnx`` and ``model_card.json`` (written by build-models)."""

    name: str
    directory: Path

    def __post_init__(self) -> None:
        onnx = self.directory / "model.onnx"
        card = self.directory / "model_card.json"
        if not onnx.is_file() or not card.is_file():
            raise SpecError(
                "SML130",
                f"model {self.name!r}: {self.directory} must contain model.onnx and "
                "model_card.json (run `serverless-ml build-models`)",
            )

    @classmethod
    def packaged(cls, name: str) -> ModelArtifact:
        """One of the models shipped with the library (``fraud``, ...)."""
        directory = ARTIFACTS_ROOT / name
        return cls(name=name, directory=directory)

    @property
    def onnx_path(self) -> Path:
        return self.directory / "model.onnx"

    def card(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / "model_card.json").read_text("utf-8"))
        return data

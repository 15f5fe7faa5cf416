"""The model baked into the bundle, whichever runtime serves it (standard library only).

``load_model(dir)`` returns a ready ``Model``: ``compiled_model.py`` in ``dir`` means the
compiled runtime (pure Python, no numpy or onnxruntime: ``compiled_model``); otherwise
``model.onnx`` runs in a Lambda-sized onnxruntime session (``onnx_model``, imported only then).
Handlers call ``predict(rows)`` with plain lists and get plain lists back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from sml_handlers.runtime import env

# "At 1,769 MB, a function has the equivalent of one vCPU (one vCPU-second of credits per second)"
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
# The same number lives in serverless_ml.core.limits.LAMBDA_MB_PER_VCPU; handlers cannot import the
# library (it is not in the Lambda bundle), so it is repeated here.
MB_PER_VCPU: Final = 1_769

MODEL_DIR_ENV: Final = env.MODEL_DIR
MEMORY_ENV: Final = env.FUNCTION_MEMORY_MB
REQUESTS_ENV: Final = env.REQUESTS_PER_ENVIRONMENT
VCPUS_ENV: Final = env.VCPUS_PER_ENVIRONMENT
MODEL_FILE: Final = "model.onnx"
CARD_FILE: Final = "model_card.json"
# Written by the bundler for ModelArtifact(runtime="compiled")
# (serverless_ml.models.compiler.artifact.COMPILED_FILE).
COMPILED_FILE: Final = "compiled_model.py"
PREFERRED_OUTPUT: Final = "probabilities"


class Model(Protocol):
    """What a handler needs of its model, from either runtime."""

    @property
    def card(self) -> Mapping[str, Any]: ...
    @property
    def runtime(self) -> str: ...  # "onnxruntime" | "compiled"
    @property
    def n_features(self) -> int: ...
    @property
    def input_shape(self) -> tuple[int, ...]: ...
    @property
    def load_ms(self) -> float: ...
    @property
    def warm_up_ms(self) -> float: ...
    @property
    def intra_op_threads(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...

    def predict(self, rows: Sequence[Sequence[float]]) -> list[list[float]]:
        """The chosen output for each row of ``n_features`` numbers (rounded to float32)."""
        ...

    def warm_up(self) -> None: ...


class CardFacts:
    """``name`` and ``version`` from the model card (mixed into both runtimes' models)."""

    __slots__ = ()
    card: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.card.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.card.get("version", ""))


def default_model_dir() -> Path:
    """``$SML_MODEL_DIR``, else ``model/`` next to the ``sml_handlers`` package (/var/task/model)."""
    configured = os.environ.get(MODEL_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).absolute().parents[2] / "model"


def lambda_memory_mb() -> int | None:
    """The function's memory size as Lambda reports it, or None outside Lambda (or if garbled)."""
    raw = os.environ.get(MEMORY_ENV, "")
    return int(raw) if raw.isdigit() else None


def environment_share() -> tuple[int, int] | None:
    """(vCPUs, concurrent requests) of a Lambda Managed Instances execution environment, from
    the variables the plan sets there; None on Lambda (default), where an environment serves
    one request at a time (or if the variables are garbled)."""
    vcpus, requests = os.environ.get(VCPUS_ENV, ""), os.environ.get(REQUESTS_ENV, "")
    if not (vcpus.isdigit() and requests.isdigit()) or int(vcpus) < 1 or int(requests) < 1:
        return None
    return int(vcpus), int(requests)


def intra_op_threads(memory_mb: int | None, share: tuple[int, int] | None = None) -> int:
    """Compute threads for one request.

    On Lambda (default) a request has the environment to itself: one thread per full vCPU
    Lambda grants at ``memory_mb`` (1 when unknown). On Managed Instances (``share`` = vCPUs,
    concurrent requests of the environment) each request's process gets its share of the
    environment's vCPUs, at least 1: with Python's default of 16 requests per vCPU that is one
    thread, so concurrent requests do not fight over cores they do not have.
    """
    if share is not None:
        vcpus, requests = share
        return max(1, vcpus // requests)
    if memory_mb is None:
        return 1
    return max(1, memory_mb // MB_PER_VCPU)


def read_card(model_dir: Path, model_file: str) -> dict[str, Any]:
    """The card next to ``model_file`` (FileNotFoundError naming both when either is missing)."""
    model_path, card_path = model_dir / model_file, model_dir / CARD_FILE
    if not model_path.is_file() or not card_path.is_file():
        raise FileNotFoundError(
            f"model not found: expected {model_path} and {card_path} "
            f"(bundle them under model/ or set {MODEL_DIR_ENV})"
        )
    card: dict[str, Any] = json.loads(card_path.read_text(encoding="utf-8"))
    return card


def load_model(
    model_dir: Path, *, memory_mb: int | None = None, share: tuple[int, int] | None = None
) -> Model:
    """The bundle's model, loaded and warmed by the runtime its files call for.

    ``memory_mb`` (default ``$AWS_LAMBDA_FUNCTION_MEMORY_SIZE``) and ``share`` (default: the
    Managed Instances variables, ``environment_share()``) size onnxruntime's threads.
    """
    if (model_dir / COMPILED_FILE).is_file():
        from sml_handlers.runtime.compiled_model import load_compiled_model

        return load_compiled_model(model_dir)
    from sml_handlers.runtime.onnx_model import load_onnx_model

    return load_onnx_model(model_dir, memory_mb=memory_mb, share=share)


def check_features(model: Model, feature_names: Sequence[str]) -> None:
    """Refuse at INIT a model trained on other features than the handler builds: another
    count, or a card whose ``features`` name others (ValueError saying which)."""
    if model.n_features != len(feature_names):
        raise ValueError(
            f"model expects {model.n_features} features; the handler builds {len(feature_names)}"
        )
    card_features = model.card.get("features")
    if card_features is not None and tuple(card_features) != tuple(feature_names):
        raise ValueError("model_card.json 'features' differ from features.FEATURE_NAMES")


def ready_fields(model: Model, **extra: object) -> dict[str, object]:
    """What a handler logs once its model is ready at INIT (``extra``: its own fields)."""
    return {
        "model_name": model.name,
        "model_version": model.version,
        "model_runtime": model.runtime,
        **extra,
        "intra_op_threads": model.intra_op_threads,
        "load_ms": round(model.load_ms, 2),
        "warm_up_ms": round(model.warm_up_ms, 2),
    }

"""Load the ONNX model baked into the Lambda bundle into one warmed, Lambda-sized session."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import onnxruntime as ort

from sml_handlers.runtime import env

# "At 1,769 MB, a function has the equivalent of one vCPU (one vCPU-second of credits per second)"
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
# The same number lives in serverless_ml.core.limits.LAMBDA_MB_PER_VCPU; handlers cannot import the
# library (it is not in the Lambda bundle), so it is repeated here.
MB_PER_VCPU: Final = 1_769

MODEL_DIR_ENV: Final = env.MODEL_DIR
MEMORY_ENV: Final = env.FUNCTION_MEMORY_MB
MODEL_FILE: Final = "model.onnx"
CARD_FILE: Final = "model_card.json"
PREFERRED_OUTPUT: Final = "probabilities"

# Models ship already optimized offline at ORT_ENABLE_EXTENDED, so optimizing again at load only
# costs time. Measured on the committed fraud GBDT (onnxruntime 1.32, 2 vCPU, Python 3.11): session
# creation median 4.4 ms DISABLE_ALL vs 5.2 BASIC / 5.4 EXTENDED / 5.5 ALL in-process (12.8 vs
# 13.9-14.5 ms as a fresh process's first session); outputs bit-identical on 2000 rows and warm
# run time unchanged (~27 us per row).
LOAD_OPTIMIZATION_LEVEL: Final = ort.GraphOptimizationLevel.ORT_DISABLE_ALL


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


def intra_op_threads(memory_mb: int | None) -> int:
    """One ORT compute thread per full vCPU Lambda grants at ``memory_mb``; 1 when unknown."""
    if memory_mb is None:
        return 1
    return max(1, memory_mb // MB_PER_VCPU)


def session_options(threads: int) -> ort.SessionOptions:
    """Options for a single-request Lambda environment: no spinning threads, sequential graph."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = LOAD_OPTIMIZATION_LEVEL
    # Spinning worker threads burn the CPU share Lambda bills for while waiting for work.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return options


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A ready session plus what the handler needs to call it."""

    session: ort.InferenceSession
    card: Mapping[str, Any]
    input_name: str
    output_name: str
    n_features: int  # values per row (the product of ``input_shape``)
    intra_op_threads: int
    load_ms: float
    warm_up_ms: float
    input_shape: tuple[int, ...] = ()  # one row's shape: (n_features,) or (1, 8, 8) for images

    @property
    def name(self) -> str:
        return str(self.card.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.card.get("version", ""))

    def run(self, rows: np.ndarray) -> np.ndarray:
        """Run the model on float32 rows ``[n, *input_shape]``; returns the chosen output."""
        (result,) = self.session.run([self.output_name], {self.input_name: rows})
        return np.asarray(result)

    def warm_up(self) -> None:
        """One inference on zeros: the first ``run`` of a session pays one-time allocations."""
        self.run(np.zeros((1, *(self.input_shape or (self.n_features,))), dtype=np.float32))


def _input_shape(
    session: ort.InferenceSession, card: Mapping[str, Any], name: str
) -> tuple[int, ...]:
    """One row's static shape (every dimension after the batch one), else the card's
    feature count."""
    (shape,) = [i.shape for i in session.get_inputs() if i.name == name]
    if len(shape) >= 2 and all(isinstance(d, int) for d in shape[1:]):
        return tuple(int(d) for d in shape[1:])
    features = card.get("features")
    if isinstance(features, list) and features:
        return (len(features),)
    raise ValueError("cannot tell the model's feature count: no static input width, no card")


def _io_name(kind: str, available: list[str], card: Mapping[str, Any]) -> str:
    """The card's ``<kind>_name`` if it names one of ``available``; else the only one, or
    ``PREFERRED_OUTPUT`` among several outputs."""
    named = card.get(f"{kind}_name")
    if named is not None:
        if named not in available:
            raise ValueError(
                f"model_card.json {kind}_name {named!r} is not in the model: {available}"
            )
        return str(named)
    if len(available) == 1:
        return available[0]
    if kind == "output" and PREFERRED_OUTPUT in available:
        return PREFERRED_OUTPUT
    raise ValueError(f"model has {kind}s {available}; name one as {kind}_name in model_card.json")


def load_model(model_dir: Path, *, memory_mb: int | None = None) -> LoadedModel:
    """Create the session for ``model_dir/model.onnx`` (threads from memory) and warm it up.

    ``memory_mb`` defaults to ``$AWS_LAMBDA_FUNCTION_MEMORY_SIZE``.
    """
    model_path = model_dir / MODEL_FILE
    card_path = model_dir / CARD_FILE
    if not model_path.is_file() or not card_path.is_file():
        raise FileNotFoundError(
            f"model not found: expected {model_path} and {card_path} "
            f"(bundle them under model/ or set {MODEL_DIR_ENV})"
        )
    card = json.loads(card_path.read_text(encoding="utf-8"))
    threads = intra_op_threads(memory_mb if memory_mb is not None else lambda_memory_mb())
    start = time.perf_counter()
    session = ort.InferenceSession(
        str(model_path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
    )
    loaded = time.perf_counter()
    input_name = _io_name("input", [str(i.name) for i in session.get_inputs()], card)
    shape = _input_shape(session, card, input_name)
    model = LoadedModel(
        session=session,
        card=card,
        input_name=input_name,
        output_name=_io_name("output", [str(o.name) for o in session.get_outputs()], card),
        n_features=int(np.prod(shape)),
        input_shape=shape,
        intra_op_threads=threads,
        load_ms=(loaded - start) * 1000.0,
        warm_up_ms=0.0,
    )
    model.warm_up()
    warm_up_ms = (time.perf_counter() - loaded) * 1000.0
    return replace(model, warm_up_ms=warm_up_ms)


def ready_fields(model: LoadedModel, **extra: object) -> dict[str, object]:
    """What a handler logs once its model is ready at INIT (``extra``: its own fields)."""
    return {
        "model_name": model.name,
        "model_version": model.version,
        **extra,
        "intra_op_threads": model.intra_op_threads,
        "session_ms": round(model.load_ms, 2),
        "warm_up_ms": round(model.warm_up_ms, 2),
    }

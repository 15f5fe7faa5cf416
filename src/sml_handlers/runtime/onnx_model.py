"""The ONNX model in the bundle, in one warmed, Lambda-sized onnxruntime session."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import onnxruntime as ort

from sml_handlers.runtime.model import (
    MODEL_FILE,
    PREFERRED_OUTPUT,
    CardFacts,
    environment_share,
    intra_op_threads,
    lambda_memory_mb,
    read_card,
)

# Models ship already optimized offline at ORT_ENABLE_EXTENDED, so optimizing again at load only
# costs time. Measured on the committed fraud GBDT (onnxruntime 1.32, 2 vCPU, Python 3.11): session
# creation median 4.4 ms DISABLE_ALL vs 5.2 BASIC / 5.4 EXTENDED / 5.5 ALL in-process (12.8 vs
# 13.9-14.5 ms as a fresh process's first session); outputs bit-identical on 2000 rows and warm
# run time unchanged (~27 us per row).
LOAD_OPTIMIZATION_LEVEL: Final = ort.GraphOptimizationLevel.ORT_DISABLE_ALL


def session_options(threads: int) -> ort.SessionOptions:
    """Options for one request at a time in this process (Lambda (default), or one of a Managed
    Instances environment's per-request processes): ``threads`` intra-op threads, no spinning
    threads, sequential graph. ``InferenceSession.run`` is thread-safe, so threads of one process
    may share the session."""
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
class OnnxModel(CardFacts):
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
    runtime: str = "onnxruntime"

    def run(self, rows: np.ndarray) -> np.ndarray:
        """Run the model on float32 rows ``[n, *input_shape]``; returns the chosen output."""
        (result,) = self.session.run([self.output_name], {self.input_name: rows})
        return np.asarray(result)

    def predict(self, rows: Sequence[Sequence[float]]) -> list[list[float]]:
        """``run`` on plain rows of ``n_features`` numbers; one list of outputs per row."""
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), *self._row_shape)
        result: list[list[float]] = self.run(matrix).reshape(len(rows), -1).tolist()
        return result

    @property
    def _row_shape(self) -> tuple[int, ...]:
        return self.input_shape or (self.n_features,)

    def warm_up(self) -> None:
        """One inference on zeros: the first ``run`` of a session pays one-time allocations."""
        self.run(np.zeros((1, *self._row_shape), dtype=np.float32))


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


def load_onnx_model(
    model_dir: Path, *, memory_mb: int | None = None, share: tuple[int, int] | None = None
) -> OnnxModel:
    """Create the session for ``model_dir/model.onnx`` and warm it up.

    Threads: per request on Managed Instances (``share``, default the plan's variables), else
    from ``memory_mb`` (default ``$AWS_LAMBDA_FUNCTION_MEMORY_SIZE``).
    """
    card = read_card(model_dir, MODEL_FILE)
    threads = intra_op_threads(
        memory_mb if memory_mb is not None else lambda_memory_mb(),
        share if share is not None else environment_share(),
    )
    start = time.perf_counter()
    session = ort.InferenceSession(
        str(model_dir / MODEL_FILE),
        sess_options=session_options(threads),
        providers=["CPUExecutionProvider"],
    )
    loaded = time.perf_counter()
    input_name = _io_name("input", [str(i.name) for i in session.get_inputs()], card)
    shape = _input_shape(session, card, input_name)
    model = OnnxModel(
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

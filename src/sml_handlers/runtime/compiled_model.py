"""A model compiled to pure Python by serverless-ml (``model/compiled_model.py``): imported
from the bundle (its shipped .pyc), no numpy, no onnxruntime. Standard library only."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from sml_handlers.runtime.model import COMPILED_FILE, CardFacts, read_card

MODULE_NAME: Final = "sml_compiled_model"


class CompiledModel(CardFacts):
    """The compiled module plus what the handler needs to call it (a plain class: the
    ``dataclasses`` import alone costs more INIT than loading the model)."""

    __slots__ = ("card", "load_ms", "module", "n_features", "warm_up_ms")
    runtime: Final = "compiled"
    intra_op_threads: Final = 1  # plain Python: one thread

    def __init__(
        self, module: ModuleType, card: Mapping[str, Any], n_features: int, load_ms: float
    ) -> None:
        self.module = module
        self.card = card
        self.n_features = n_features
        self.load_ms = load_ms
        self.warm_up_ms = 0.0

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.n_features,)

    @property
    def output_name(self) -> str:
        return str(self.module.OUTPUT)

    def predict(self, rows: Sequence[Sequence[float]]) -> list[list[float]]:
        """The module's output for each row of ``n_features`` numbers."""
        result: list[list[float]] = self.module.predict_many(rows)
        return result

    def warm_up(self) -> None:
        """One prediction on zeros (touches every table once)."""
        self.module.predict([0.0] * self.n_features)


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("predict", "predict_many", "N_FEATURES", "OUTPUT"):
        if not hasattr(module, name):
            raise ImportError(f"{path} is not a serverless-ml compiled model (no {name})")
    return module


def load_compiled_model(model_dir: Path) -> CompiledModel:
    """Import ``model_dir/compiled_model.py`` and warm it up."""
    card = read_card(model_dir, COMPILED_FILE)
    start = time.perf_counter()
    module = _import(model_dir / COMPILED_FILE)
    loaded = time.perf_counter()
    n_features = int(module.N_FEATURES)
    features = card.get("features")
    if isinstance(features, list) and features and len(features) != n_features:
        raise ValueError(
            f"{COMPILED_FILE} reads {n_features} features; model_card.json lists {len(features)}"
        )
    model = CompiledModel(module, card, n_features, (loaded - start) * 1000.0)
    model.warm_up()
    model.warm_up_ms = (time.perf_counter() - loaded) * 1000.0
    return model

"""A model artifact (``model.onnx`` + ``model_card.json``) compiled for serving without
onnxruntime: what ``ModelArtifact(runtime="compiled")`` checks at spec time and what the
bundler ships as ``model/compiled_model.py``.

``compile_artifact`` reads the card for the output and feature count the handler uses (so
the module computes what onnxruntime would hand the handler). ``probe_rows`` builds parity
rows from the model itself: every tree threshold with its float32 neighbours on each side (the
inputs where a float64 comparison would branch the other way), plus seeded Gaussian and
wide-range rows, zeros and NaN. ``verified_source`` compiles, checks parity on those rows
(SML511) and returns the module text with a card that says how it was produced.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Final

import numpy as np
import onnx

from serverless_ml.models.build import CARD_FILE, MODEL_FILE
from serverless_ml.models.compiler import CompiledModel, check_parity, compile_model
from serverless_ml.models.compiler.graph import attributes
from serverless_ml.models.errors import UNSUPPORTED_GRAPH, ModelError

# The handlers' loader looks for this name (sml_handlers.runtime.model.COMPILED_FILE).
COMPILED_FILE: Final = "compiled_model.py"
PROBE_SEED: Final = 20_240
PROBE_RANDOM_ROWS: Final = 512
MAX_PROBE_ROWS: Final = 4_096
_TREE_OPS: Final = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")


def compiler_digest() -> str:
    """Hash of the compiler's own sources: a new compiler recompiles every cached module."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_card(directory: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
    return card


def compile_artifact(directory: Path) -> CompiledModel:
    """Compile ``directory/model.onnx`` for the card's output (SML509 / SML510)."""
    data = (directory / MODEL_FILE).read_bytes()
    card_text = (directory / CARD_FILE).read_text(encoding="utf-8")
    return _compiled(data, card_text)


@functools.lru_cache(maxsize=8)
def _compiled(data: bytes, card_text: str) -> CompiledModel:
    card = json.loads(card_text)
    features = card.get("features")
    output = card.get("output_name")
    return compile_model(
        onnx.load_from_string(data),
        output=str(output) if output is not None else None,
        n_features=len(features) if isinstance(features, list) and features else None,
        title=f"{card.get('name', 'model')} {card.get('version', '')}".strip(),
    )


def probe_rows(model: onnx.ModelProto, n_features: int, *, seed: int = PROBE_SEED) -> np.ndarray:
    """Float32 rows that exercise every threshold edge of the model's trees (see module doc)."""
    rng = np.random.default_rng(seed)
    edges: list[tuple[int, float]] = []
    for node in model.graph.node:
        if node.op_type not in _TREE_OPS:
            continue
        attrs = attributes(node)
        features = list(attrs.get("nodes_featureids", []))
        values = attrs.get("nodes_values")
        if values is None and "nodes_values_as_tensor" in attrs:
            values = np.asarray(attrs["nodes_values_as_tensor"]).ravel().tolist()
        modes = list(attrs.get("nodes_modes", []))
        for feature, value, mode in zip(features, values or [], modes, strict=False):
            if mode != "LEAF" and 0 <= int(feature) < n_features and np.isfinite(value):
                edges.append((int(feature), float(value)))
    scale = np.ones(n_features, dtype=np.float64)
    for feature, value in edges:
        scale[feature] = max(scale[feature], abs(value))
    base = rng.normal(0.0, 1.0, size=(PROBE_RANDOM_ROWS, n_features)) * scale
    wide = rng.uniform(-1e4, 1e4, size=(64, n_features))
    special = np.vstack([np.zeros(n_features), np.full(n_features, np.nan)])
    edge_rows: list[np.ndarray] = []
    if edges:
        chosen = rng.choice(len(edges), size=min(len(edges), MAX_PROBE_ROWS // 3), replace=False)
        for index in sorted(chosen.tolist()):
            feature, value = edges[index]
            threshold = np.float32(value)
            for probe in (
                np.nextafter(threshold, np.float32(-np.inf)),
                threshold,
                np.nextafter(threshold, np.float32(np.inf)),
            ):
                row = base[len(edge_rows) % PROBE_RANDOM_ROWS].copy()
                row[feature] = float(probe)
                edge_rows.append(row)
    stacked = np.vstack([base, wide, special, *([np.asarray(edge_rows)] if edge_rows else [])])
    return np.ascontiguousarray(stacked, dtype=np.float32)


def verified_source(directory: Path) -> tuple[str, dict[str, Any]]:
    """The compiled module's text and its card (SML509-511 when it cannot be served compiled)."""
    compiled = compile_artifact(directory)
    model_path = directory / MODEL_FILE
    model = onnx.load(str(model_path))
    if compiled.n_features < 1:
        raise ModelError(UNSUPPORTED_GRAPH, f"{model_path}: no features to probe")
    parity = check_parity(compiled, model_path, probe_rows(model, compiled.n_features))
    card = read_card(directory)
    card["runtime"] = "compiled"
    card["compiled"] = {
        "from_onnx_sha256": compiled.onnx_sha256,
        "output": compiled.output,
        "operators": list(compiled.operators),
        "parity": parity,
    }
    return compiled.source, card

"""sml_handlers.runtime.onnx_model: Lambda-sized sessions on the committed fraud model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from sml_handlers.runtime import model as runtime_model
from sml_handlers.runtime.model import (
    MB_PER_VCPU,
    default_model_dir,
    intra_op_threads,
    lambda_memory_mb,
)
from sml_handlers.runtime.onnx_model import LOAD_OPTIMIZATION_LEVEL
from sml_handlers.runtime.onnx_model import load_onnx_model as load_model


@pytest.mark.parametrize(
    ("memory_mb", "threads"),
    [(None, 1), (128, 1), (1024, 1), (1768, 1), (1769, 1), (3537, 1), (3538, 2), (10_240, 5)],
)
def test_threads_follow_lambda_vcpus(memory_mb: int | None, threads: int) -> None:
    assert intra_op_threads(memory_mb) == threads


def test_vcpu_constant_matches_the_library_limit() -> None:
    from serverless_ml.core.limits import LAMBDA_MB_PER_VCPU

    assert MB_PER_VCPU == LAMBDA_MB_PER_VCPU


@pytest.mark.parametrize(
    ("raw", "expected"), [("3538", 3538), ("128", 128), ("big", None), ("", None)]
)
def test_memory_read_from_lambda_env(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: int | None
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raw)
    assert lambda_memory_mb() == expected


def test_session_options_for_lambda(fraud_model_dir: Path) -> None:
    loaded = load_model(fraud_model_dir, memory_mb=2 * MB_PER_VCPU)
    options = loaded.session.get_session_options()
    assert loaded.intra_op_threads == 2
    assert options.intra_op_num_threads == 2
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.graph_optimization_level == LOAD_OPTIMIZATION_LEVEL
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert loaded.session.get_providers() == ["CPUExecutionProvider"]


def test_threads_come_from_lambda_memory_env(
    monkeypatch: pytest.MonkeyPatch, fraud_model_dir: Path
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    assert load_model(fraud_model_dir).session.get_session_options().intra_op_num_threads == 1
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(3 * MB_PER_VCPU))
    assert load_model(fraud_model_dir).intra_op_threads == 3
    assert load_model(fraud_model_dir, memory_mb=512).intra_op_threads == 1  # explicit wins


def test_loaded_model_describes_the_fraud_model(fraud_model_dir: Path) -> None:
    loaded = load_model(fraud_model_dir, memory_mb=1024)
    assert loaded.input_name == "features"
    assert loaded.output_name == "probabilities"
    assert loaded.n_features == len(loaded.card["features"])
    assert loaded.version == loaded.card["version"]
    assert loaded.name == loaded.card["name"]
    assert loaded.warm_up_ms > 0.0  # the warm-up inference ran at load


def test_run_returns_probabilities(fraud_model_dir: Path) -> None:
    loaded = load_model(fraud_model_dir, memory_mb=1024)
    rows = np.random.default_rng(3).normal(size=(64, loaded.n_features)).astype(np.float32)
    probabilities = loaded.run(rows)
    assert probabilities.shape == (64, 2)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_load_level_gives_the_same_outputs_as_the_offline_level(fraud_model_dir: Path) -> None:
    """The model ships optimized at ENABLE_EXTENDED; skipping passes at load must not change it."""
    loaded = load_model(fraud_model_dir, memory_mb=1024)
    reference_options = ort.SessionOptions()
    reference_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    # Same thread count: tree ensembles split trees across threads, and a different float
    # summation order moves probabilities by ~1e-7 regardless of the optimization level.
    reference_options.intra_op_num_threads = 1
    reference = ort.InferenceSession(
        str(fraud_model_dir / "model.onnx"), reference_options, providers=["CPUExecutionProvider"]
    )
    rng = np.random.default_rng(11)
    rows = rng.normal(size=(2000, loaded.n_features)) * rng.uniform(0.1, 500.0, loaded.n_features)
    rows = rows.astype(np.float32)
    (expected,) = reference.run(["probabilities"], {"features": rows})
    np.testing.assert_array_equal(loaded.run(rows), expected)


def test_default_model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SML_MODEL_DIR", str(tmp_path))
    assert default_model_dir() == tmp_path
    monkeypatch.delenv("SML_MODEL_DIR")
    # /var/task/sml_handlers/runtime/model.py -> /var/task/model
    assert default_model_dir() == Path(runtime_model.__file__).absolute().parents[2] / "model"


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="SML_MODEL_DIR"):
        runtime_model.load_model(tmp_path)


def test_card_names_the_model_outputs(fraud_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes((fraud_model_dir / "model.onnx").read_bytes())
    card = json.loads((fraud_model_dir / "model_card.json").read_text())
    (tmp_path / "model_card.json").write_text(json.dumps({**card, "output_name": "label"}))
    assert load_model(tmp_path, memory_mb=128).output_name == "label"
    (tmp_path / "model_card.json").write_text(json.dumps({**card, "output_name": "scores"}))
    with pytest.raises(ValueError, match="output_name 'scores' is not in the model"):
        load_model(tmp_path, memory_mb=128)

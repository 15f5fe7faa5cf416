"""The committed digits CNN, its card, the numpy training code, and a byte-identical rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from serverless_ml.models import digits_model, onnx_export
from serverless_ml.models.build import (
    ARTIFACTS_ROOT,
    REGISTRY,
    build_all,
    compare_with_committed,
    validate_committed,
)

DIGITS_DIR = ARTIFACTS_ROOT / "digits"
MODEL = DIGITS_DIR / "model.onnx"


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    return dict(json.loads((DIGITS_DIR / "model_card.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def scorer() -> ort.InferenceSession:
    return onnx_export.session(MODEL)


@pytest.fixture(scope="module")
def test_split(card: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    data = digits_model.load_data()
    indices = np.asarray(card["training"]["split"]["test_indices"])
    return data.images[indices].astype(np.float32), data.labels[indices]


# --- the committed artifact and its card ---------------------------------------------------------


def test_registered_and_card_describes_the_committed_file(card: dict[str, Any]) -> None:
    assert REGISTRY["digits"] == "serverless_ml.models.digits_model:build"
    (validated,) = validate_committed(names=["digits"])
    assert validated == card
    data = MODEL.read_bytes()
    assert card["size_bytes"] == len(data) < 64 * 1024
    assert card["sha256"] == onnx_export.file_sha256(MODEL)
    assert card["classes"] == [str(digit) for digit in range(10)]
    assert (card["input_name"], card["output_name"]) == ("image", "probabilities")
    assert card["input_shape"] == [None, 1, 8, 8]
    assert "load_digits()/16" in card["input_normalization"]
    assert card["training"]["parameter_count"] == 8 * 9 + 8 + 16 * 72 + 16 + 64 * 10 + 10
    assert 0 <= card["parity"]["max_abs_diff"] <= 1e-5


def test_session_loads_with_the_documented_interface(
    card: dict[str, Any], scorer: ort.InferenceSession
) -> None:
    (image,) = scorer.get_inputs()
    (output,) = scorer.get_outputs()
    assert (image.name, image.type, image.shape[1:]) == ("image", "tensor(float)", [1, 8, 8])
    assert (output.name, output.type, output.shape[1:]) == ("probabilities", "tensor(float)", [10])
    model = onnx.load(str(MODEL))
    assert onnx_export.opset_versions(model)["ai.onnx"] == card["opset"] == 17
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["classes"].split(",") == card["classes"]
    assert [init.data_type for init in model.graph.initializer] == [onnx.TensorProto.FLOAT] * 6


def test_split_in_the_card_is_the_stratified_split(card: dict[str, Any]) -> None:
    labels = digits_model.load_data().labels
    splits = digits_model.split_indices(labels)
    assert splits["test"].tolist() == card["training"]["split"]["test_indices"]
    assert not set(splits["test"]) & (set(splits["train"]) | set(splits["validation"]))
    assert sum(len(part) for part in splits.values()) == len(labels)
    counts = np.bincount(labels[splits["test"]], minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of each digit's ~180 images


def test_committed_model_reproduces_the_card_accuracy(
    card: dict[str, Any],
    scorer: ort.InferenceSession,
    test_split: tuple[np.ndarray, np.ndarray],
) -> None:
    images, labels = test_split
    probabilities = digits_model.predict(scorer, images)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))
    assert accuracy == pytest.approx(card["metrics"]["accuracy"], abs=1e-6)
    assert accuracy >= 0.95
    assert card["metrics"]["n_test"] == len(labels)
    summary = digits_model.confusion_summary(labels, probabilities.argmax(axis=1))
    assert summary == card["metrics"]["confusion"]


def test_outputs_are_probabilities(
    scorer: ort.InferenceSession, test_split: tuple[np.ndarray, np.ndarray]
) -> None:
    images, _ = test_split
    rng = np.random.default_rng(0)
    batches = [images, np.zeros((1, 1, 8, 8), np.float32), rng.random((5, 1, 8, 8))]
    for batch in batches:
        probabilities = digits_model.predict(scorer, batch)
        assert probabilities.shape == (len(batch), 10)
        assert np.all(probabilities >= 0) and np.all(probabilities <= 1)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_numpy_forward_with_the_committed_weights_matches_onnx(
    scorer: ort.InferenceSession, test_split: tuple[np.ndarray, np.ndarray]
) -> None:
    model = onnx.load(str(MODEL))
    weights = {
        init.name: numpy_helper.to_array(init).astype(np.float64)
        for init in model.graph.initializer
    }
    assert set(weights) == set(digits_model.PARAM_NAMES)
    images, _ = test_split
    expected = digits_model.forward(weights, images)
    actual = digits_model.predict(scorer, images)
    assert onnx_export.max_abs_diff(expected, actual) <= 1e-5


# --- the training code ---------------------------------------------------------------------------


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(7)
    params = digits_model.init_params(rng)
    images, labels = rng.random((4, 1, 8, 8)), rng.integers(0, 10, 4)
    _, grads = digits_model.loss_and_gradients(params, images, labels)
    step = 1e-6
    for name in digits_model.PARAM_NAMES:
        for _ in range(3):
            where = tuple(int(rng.integers(0, size)) for size in params[name].shape)
            shifted = {key: value.copy() for key, value in params.items()}
            shifted[name][where] += step
            up, _ = digits_model.loss_and_gradients(shifted, images, labels)
            shifted[name][where] -= 2 * step
            down, _ = digits_model.loss_and_gradients(shifted, images, labels)
            assert grads[name][where] == pytest.approx((up - down) / (2 * step), abs=1e-6)


def test_jitter_without_scale_or_shift_only_normalizes(monkeypatch: pytest.MonkeyPatch) -> None:
    images = digits_model.load_data().images[:20]
    monkeypatch.setattr(digits_model, "JITTER_SCALE", 0.0)
    monkeypatch.setattr(digits_model, "JITTER_SHIFT", 0.0)
    out = digits_model.jitter(images, np.random.default_rng(0))
    np.testing.assert_allclose(out, images / images.max(axis=(1, 2, 3), keepdims=True))


def test_confusion_summary_counts_pairs() -> None:
    labels = np.array([3, 3, 3, 8, 8, 5])
    predicted = np.array([3, 8, 8, 8, 3, 5])
    summary = digits_model.confusion_summary(labels, predicted)
    assert summary["per_class_recall"]["3"] == pytest.approx(1 / 3, abs=1e-6)
    assert summary["per_class_support"]["8"] == 2
    assert summary["per_class_recall"]["0"] is None
    assert summary["most_confused"] == [
        {"true": "3", "predicted": "8", "count": 2},
        {"true": "8", "predicted": "3", "count": 1},
    ]
    assert np.asarray(summary["matrix"]).sum() == len(labels)


# --- reproducibility (a full build takes a few seconds) ------------------------------------------


def test_rebuild_is_byte_identical_to_the_committed_artifact(
    tmp_path: Path, card: dict[str, Any]
) -> None:
    (built,) = build_all(tmp_path, names=["digits"])
    rebuilt = tmp_path / "digits"
    assert (rebuilt / "model.onnx").read_bytes() == MODEL.read_bytes()
    assert built["sha256"] == card["sha256"]
    assert {k: v for k, v in built.items() if k != "libraries"} == {
        k: v for k, v in card.items() if k != "libraries"
    }
    compare_with_committed("digits", built, DIGITS_DIR)  # what `build-models --check` runs

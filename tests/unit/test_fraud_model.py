"""The committed fraud model, its card, its generator, and a reproducible rebuild."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from serverless_ml.models import fraud_model, onnx_export
from serverless_ml.models.build import ARTIFACTS_ROOT, build_all, compare_with_committed
from serverless_ml.models.errors import CODES, ModelError
from serverless_ml.models.fraud_data import generate_transactions
from serverless_ml.models.thresholds import lowest_threshold_with_precision, operating_point
from sml_handlers.fraud.features import (
    FEATURE_NAMES,
    MERCHANT_CATEGORIES,
    feature_vector,
    parse_transaction,
)

FRAUD_DIR = ARTIFACTS_ROOT / "fraud"
MODEL = FRAUD_DIR / "model.onnx"


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    return dict(json.loads((FRAUD_DIR / "model_card.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def scorer() -> ort.InferenceSession:
    return onnx_export.session(MODEL)


def fraud_scores(scorer: ort.InferenceSession, features: np.ndarray) -> np.ndarray:
    return onnx_export.probabilities(scorer, features)[:, 1]


# --- the committed artifact and its card ---------------------------------------------------------


def test_card_describes_the_committed_file(card: dict[str, Any]) -> None:
    assert card["sha256"] == onnx_export.file_sha256(MODEL)
    assert card["size_bytes"] == MODEL.stat().st_size
    assert card["size_bytes"] < 5 * 1024 * 1024
    assert card["name"] == "fraud-gbdt"
    assert card["features"] == list(FEATURE_NAMES)
    assert card["onnxruntime_optimization"] == "ORT_ENABLE_EXTENDED"
    assert set(card["libraries"]) >= {"scikit-learn", "skl2onnx", "onnxruntime", "onnx"}
    training = card["training"]
    assert training["estimator"] == "sklearn.ensemble.HistGradientBoostingClassifier"
    assert training["params"]["max_iter"] == 200
    assert (training["n_train"], training["n_val"], training["n_test"]) == (
        fraud_model.N_TRAIN,
        fraud_model.N_VALIDATION,
        fraud_model.N_TEST,
    )
    assert card["metrics"]["n_test"] == training["n_test"]
    assert card["parity"]["n"] == training["n_test"]
    assert 0 <= card["parity"]["max_abs_diff"] <= 1e-5


def test_onnx_graph_matches_the_card(card: dict[str, Any], scorer: ort.InferenceSession) -> None:
    model = onnx.load(str(MODEL))
    opsets = {entry.domain or "ai.onnx": entry.version for entry in model.opset_import}
    assert opsets["ai.onnx"] == card["opset"]
    assert card["opset_imports"]["ai.onnx.ml"] == opsets["ai.onnx.ml"]
    assert {node.op_type for node in model.graph.node} == {"TreeEnsembleClassifier"}
    assert "ZipMap" not in {node.op_type for node in model.graph.node}
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert metadata["features"].split(",") == card["features"]
    assert (metadata["name"], metadata["version"]) == (card["name"], card["version"])

    (graph_input,) = scorer.get_inputs()
    assert graph_input.name == card["input_name"] == "features"
    assert graph_input.type == "tensor(float)"
    assert graph_input.shape[1] == len(FEATURE_NAMES)
    outputs = {output.name: output for output in scorer.get_outputs()}
    assert card["output_name"] == "probabilities"
    assert outputs["probabilities"].type == "tensor(float)"
    assert outputs["probabilities"].shape[1] == 2


def test_probabilities_are_a_distribution(scorer: ort.InferenceSession) -> None:
    transactions, _ = generate_transactions(500, seed=99)
    probabilities = onnx_export.probabilities(scorer, fraud_model.featurize(transactions))
    assert probabilities.shape == (500, 2) and probabilities.dtype == np.float32
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


def test_committed_model_reproduces_the_cards_test_metrics(
    card: dict[str, Any], scorer: ort.InferenceSession
) -> None:
    test = fraud_model.load_split("test")
    assert test.seed == card["training"]["split_seeds"]["test"]
    scores = fraud_scores(scorer, test.features)
    metrics = card["metrics"]
    assert roc_auc_score(test.labels, scores) == pytest.approx(metrics["roc_auc"], abs=1e-6)
    assert average_precision_score(test.labels, scores) == pytest.approx(
        metrics["pr_auc"], abs=1e-6
    )
    assert test.labels.mean() == pytest.approx(metrics["fraud_rate"], abs=1e-6)
    for name in ("review", "decline"):
        threshold = card["thresholds"][name]
        assert operating_point(test.labels, scores, threshold) == metrics[f"at_{name}"]
    assert metrics["roc_auc"] > 0.9 and metrics["pr_auc"] > 0.6  # a useful model...
    assert metrics["roc_auc"] < 0.995  # ...on data that is not trivially separable


def test_thresholds_come_from_the_validation_split(
    card: dict[str, Any], scorer: ort.InferenceSession
) -> None:
    validation = fraud_model.load_split("validation")
    scores = fraud_scores(scorer, validation.features)
    thresholds = card["thresholds"]
    assert 0 < thresholds["review"] < thresholds["decline"] < 1
    assert "validation" in thresholds["how_chosen"]
    for name, target in (
        ("review", fraud_model.REVIEW_MIN_PRECISION),
        ("decline", fraud_model.DECLINE_MIN_PRECISION),
    ):
        chosen = lowest_threshold_with_precision(
            validation.labels, scores, target, min_flagged=fraud_model.MIN_FLAGGED
        )
        assert chosen == thresholds[name]
        assert operating_point(validation.labels, scores, chosen) == thresholds["validation"][name]
        assert thresholds["validation"][name]["precision"] >= target
    # Higher precision costs recall on the unseen test split too.
    metrics = card["metrics"]
    assert metrics["at_decline"]["precision"] > metrics["at_review"]["precision"]
    assert metrics["at_decline"]["recall"] < metrics["at_review"]["recall"]


def test_committed_model_generalises_to_a_fresh_sample(
    card: dict[str, Any], scorer: ort.InferenceSession
) -> None:
    transactions, labels = generate_transactions(20_000, seed=7)
    scores = fraud_scores(scorer, fraud_model.featurize(transactions))
    assert roc_auc_score(labels, scores) == pytest.approx(card["metrics"]["roc_auc"], abs=0.03)


def test_onnx_matches_a_freshly_fit_scikit_learn_model(
    card: dict[str, Any], scorer: ort.InferenceSession
) -> None:
    estimator = fraud_model.fit_fraud_classifier()
    assert type(estimator).__name__ == "HistGradientBoostingClassifier"
    assert estimator.n_iter_ == 200
    test = fraud_model.load_split("test")
    parity = onnx_export.check_parity(estimator, scorer, test.features)
    assert parity["max_abs_diff"] <= 1e-5
    assert parity == card["parity"]


@pytest.mark.slow
def test_rebuild_is_byte_identical_to_the_committed_artifact(
    tmp_path: Path, card: dict[str, Any]
) -> None:
    (built,) = build_all(tmp_path, names=["fraud"])
    rebuilt = tmp_path / "fraud"
    assert (rebuilt / "model.onnx").read_bytes() == MODEL.read_bytes()
    assert built["sha256"] == card["sha256"] == onnx_export.file_sha256(rebuilt / "model.onnx")
    assert json.loads((rebuilt / "model_card.json").read_text()) == built
    assert {k: v for k, v in built.items() if k != "libraries"} == {
        k: v for k, v in card.items() if k != "libraries"
    }
    compare_with_committed("fraud", built, FRAUD_DIR)  # what `build-models --check` runs


# --- build-models --check on tampered copies (the committed card stands in for a rebuild) --------


def committed_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "fraud"
    shutil.copytree(FRAUD_DIR, copy)
    return copy


def test_check_passes_on_an_untouched_copy(tmp_path: Path, card: dict[str, Any]) -> None:
    compare_with_committed("fraud", card, committed_copy(tmp_path))


def test_check_ignores_library_versions(tmp_path: Path, card: dict[str, Any]) -> None:
    newer = {**card, "libraries": {**card["libraries"], "onnx": "99.0"}}
    compare_with_committed("fraud", newer, committed_copy(tmp_path))


def test_check_refuses_a_changed_model(tmp_path: Path, card: dict[str, Any]) -> None:
    copy = committed_copy(tmp_path)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[-1] ^= 1
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256") as caught:
        compare_with_committed("fraud", card, copy)
    assert caught.value.code == "SML505"


def test_check_refuses_a_changed_card(tmp_path: Path, card: dict[str, Any]) -> None:
    copy = committed_copy(tmp_path)
    edited = {**card, "thresholds": {**card["thresholds"], "review": 0.5}}
    (copy / "model_card.json").write_text(json.dumps(edited))
    with pytest.raises(ModelError, match="differs in thresholds") as caught:
        compare_with_committed("fraud", card, copy)
    assert caught.value.code == "SML505"


@pytest.mark.parametrize("missing", ["model.onnx", "model_card.json"])
def test_check_refuses_a_missing_file(tmp_path: Path, card: dict[str, Any], missing: str) -> None:
    copy = committed_copy(tmp_path)
    (copy / missing).unlink()
    with pytest.raises(ModelError, match=missing) as caught:
        compare_with_committed("fraud", card, copy)
    assert caught.value.code == "SML506"


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        build_all(tmp_path, names=["no-such-model"])
    assert caught.value.code == "SML507"
    assert not any(tmp_path.iterdir())


def test_every_error_code_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "models" / "fraud.md").read_text()
    assert all(code.startswith("SML5") and code in doc for code in CODES)


# --- parity and threshold helpers ----------------------------------------------------------------


class _Shifted:
    """An estimator whose probabilities are off from the ONNX model's by ``delta``."""

    def __init__(self, scorer: ort.InferenceSession, delta: float) -> None:
        self.scorer, self.delta = scorer, delta

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return onnx_export.probabilities(self.scorer, rows).astype(np.float64) + self.delta


def test_parity_check_refuses_a_drift_beyond_tolerance(scorer: ort.InferenceSession) -> None:
    rows = fraud_model.featurize(generate_transactions(50, seed=5)[0])
    assert onnx_export.check_parity(_Shifted(scorer, 5e-6), scorer, rows)["max_abs_diff"] == 5e-6
    with pytest.raises(ModelError, match="differ from scikit-learn") as caught:
        onnx_export.check_parity(_Shifted(scorer, 2e-5), scorer, rows)
    assert caught.value.code == "SML501"


def test_lowest_threshold_with_precision() -> None:
    labels = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0], dtype=np.float32)
    # flagged at 0.8: 2/2; at 0.6: 3/4; at 0.3: 4/7; at 0.2: 4/8.
    assert lowest_threshold_with_precision(labels, scores, 1.0, min_flagged=1) == pytest.approx(0.8)
    assert lowest_threshold_with_precision(labels, scores, 0.75, min_flagged=1) == pytest.approx(
        0.6
    )
    assert lowest_threshold_with_precision(labels, scores, 0.55, min_flagged=1) == pytest.approx(
        0.3
    )
    assert lowest_threshold_with_precision(labels, scores, 0.5, min_flagged=1) == pytest.approx(0.2)
    assert lowest_threshold_with_precision(labels, scores, 0.7, min_flagged=3) == pytest.approx(0.6)
    with pytest.raises(ModelError):  # 2/2 at 0.8 is too few flagged; 2/3 at 0.7 too imprecise
        lowest_threshold_with_precision(labels, scores, 1.0, min_flagged=3)
    point = operating_point(labels, scores, float(np.float32(0.6)))
    assert point == {
        "threshold": float(np.float32(0.6)),
        "precision": 0.75,
        "recall": 0.75,
        "alert_rate": 0.4,
        "flagged": 4,
        "true_positives": 3,
    }


def test_tied_scores_are_flagged_together() -> None:
    labels = np.array([1, 1, 0, 0])
    scores = np.array([0.9, 0.5, 0.5, 0.1])
    # A cut between the two 0.5s does not exist: at 0.5 precision is 2/3.
    assert lowest_threshold_with_precision(labels, scores, 0.9, min_flagged=1) == 0.9
    assert lowest_threshold_with_precision(labels, scores, 0.6, min_flagged=1) == 0.5


def test_unreachable_precision() -> None:
    with pytest.raises(ModelError) as caught:
        lowest_threshold_with_precision(
            np.array([0, 1, 0]), np.array([0.9, 0.5, 0.1]), 0.9, min_flagged=1
        )
    assert caught.value.code == "SML504"
    with pytest.raises(ModelError):
        lowest_threshold_with_precision(np.array([1]), np.array([0.9]), 0.5, min_flagged=2)


# --- the generator -------------------------------------------------------------------------------


def test_generator_is_deterministic() -> None:
    first = generate_transactions(300, seed=11)
    assert generate_transactions(300, seed=11) == first
    assert generate_transactions(300, seed=12) != first
    assert generate_transactions(300, seed=11, fraud_rate=0.5) != first


def test_generated_transactions_are_valid_json_transactions() -> None:
    transactions, labels = generate_transactions(2_000, seed=3, fraud_rate=0.3)
    assert len(transactions) == len(labels) == 2_000
    assert set(labels) == {0, 1}
    decoded = json.loads(json.dumps(transactions))
    assert decoded == transactions
    parsed = [parse_transaction(txn) for txn in decoded]
    assert len({txn.transaction_id for txn in parsed}) == len(parsed)
    assert all(len(feature_vector(txn)) == len(FEATURE_NAMES) for txn in parsed)


def test_fraud_rate_is_honoured() -> None:
    _, labels = generate_transactions(10_000, seed=4, fraud_rate=0.05)
    assert 0.04 < sum(labels) / len(labels) < 0.06
    assert set(generate_transactions(200, seed=4, fraud_rate=0.0)[1]) == {0}
    assert set(generate_transactions(200, seed=4, fraud_rate=1.0)[1]) == {1}


@pytest.mark.parametrize(("n", "rate"), [(-1, 0.02), (10, -0.1), (10, 1.5)])
def test_generator_refuses_bad_arguments(n: int, rate: float) -> None:
    with pytest.raises(ValueError):
        generate_transactions(n, seed=1, fraud_rate=rate)


def test_documented_fraud_patterns_show_in_the_data() -> None:
    legit = [parse_transaction(t) for t in generate_transactions(4_000, seed=8, fraud_rate=0)[0]]
    fraud = [parse_transaction(t) for t in generate_transactions(4_000, seed=8, fraud_rate=1)[0]]

    def share(txns: list[Any], predicate: Any) -> float:
        return sum(1 for txn in txns if predicate(txn)) / len(txns)

    def night(txn: Any) -> bool:
        return bool(txn.timestamp.hour < 6)

    assert share(fraud, night) > 2 * share(legit, night)
    assert share(fraud, lambda t: t.txn_count_1h >= 3) > 5 * share(
        legit, lambda t: t.txn_count_1h >= 3
    )
    assert share(fraud, lambda t: t.distance_from_home_km > 100) > 3 * share(
        legit, lambda t: t.distance_from_home_km > 100
    )
    assert share(fraud, lambda t: t.account_age_days < 30) > 2 * share(
        legit, lambda t: t.account_age_days < 30
    )
    assert np.median([t.amount for t in fraud]) > 3 * np.median([t.amount for t in legit])
    # ...yet every category and both card-present values occur in both classes (overlap).
    categories = set(MERCHANT_CATEGORIES)
    assert (
        {t.merchant_category for t in legit} == {t.merchant_category for t in fraud} == categories
    )
    assert {t.card_present for t in fraud} == {t.card_present for t in legit} == {True, False}

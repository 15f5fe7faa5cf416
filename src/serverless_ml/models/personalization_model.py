"""The personalization model: which content variant a visit is most likely to convert on.

``build(out_dir)`` draws a training and a held-out log from the synthetic clickstream
(``personalization_data``, independent seeds, variants shown uniformly at random), featurizes
each logged request through the edge handler's own parser (``sml_handlers.personalize``), and
fits P(convert | visit, shown variant) with gradient-boosted trees: the direct method for a
contextual bandit. Serving scores one row per variant and shows the argmax.

The card measures that policy on the held-out log against two baselines, a uniformly random
variant and the most popular one (the variant with the highest conversion rate in the
training log), two ways: the expected conversion rate under the generator's true probabilities
(possible only because the data is synthetic), and the replay estimate you would compute on
real randomized logs (the conversion rate of the sessions whose logged variant is the one the
policy picks; unbiased because the logging policy was uniform), with its standard error.

Estimator: ``HistGradientBoostingClassifier`` (100 trees of at most 8 leaves): small, so the
compiled module stays far inside a viewer-request function's 1 MB; deterministic with one
thread, no early stopping and no subsampling.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from serverless_ml.models import onnx_export
from serverless_ml.models.build import CARD_FILE, MODEL_FILE
from serverless_ml.models.personalization_data import (
    Session,
    conversion_probabilities,
    generate_sessions,
)
from sml_handlers.personalize.features import (
    FEATURE_NAMES,
    VARIANTS,
    variant_rows,
    visit_features,
    visit_of,
)

NAME: Final = "personalization-gbdt"
VERSION: Final = "1.0.0"
SEED: Final = 20251001
N_TRAIN: Final = 150_000
N_TEST: Final = 50_000
PARAMS: Final[dict[str, Any]] = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_leaf_nodes": 8,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "early_stopping": False,
}


def logged_rows(sessions: Sequence[Session]) -> tuple[np.ndarray, np.ndarray]:
    """(features of each logged request with the variant it was shown, converted 0/1)."""
    rows = []
    for session in sessions:
        visit = visit_of(session.request, session.epoch_s)
        shown = [1.0 if v == session.shown else 0.0 for v in VARIANTS]
        rows.append(visit_features(visit) + shown)
    features = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))
    return features, np.asarray([s.converted for s in sessions], dtype=np.int64)


def fit(sessions: Sequence[Session], *, seed: int = SEED) -> HistGradientBoostingClassifier:
    features, labels = logged_rows(sessions)
    estimator = HistGradientBoostingClassifier(**PARAMS, random_state=seed)
    with threadpool_limits(limits=1):  # fixed summation order: same trees on any machine
        estimator.fit(features, labels)
    return estimator


def model_choices(scorer: Any, sessions: Sequence[Session]) -> list[int]:
    """The variant (index) the model serves for each session's request."""
    rows = [row for s in sessions for row in variant_rows(visit_of(s.request, s.epoch_s))]
    matrix = np.asarray(rows, dtype=np.float32)
    scores = onnx_export.probabilities(scorer, matrix)[:, 1].reshape(len(sessions), len(VARIANTS))
    return [int(i) for i in np.argmax(scores, axis=1)]


def most_popular(sessions: Sequence[Session]) -> int:
    """The variant with the highest conversion rate in a (uniformly logged) training log."""
    rates = []
    for variant in VARIANTS:
        shown = [s.converted for s in sessions if s.shown == variant]
        rates.append(sum(shown) / max(1, len(shown)))
    return int(np.argmax(rates))


def evaluate_policy(sessions: Sequence[Session], choices: Sequence[int]) -> dict[str, Any]:
    """Expected conversion (true probabilities) and the replay estimate of ``choices``."""
    truth = [conversion_probabilities(s.visit) for s in sessions]
    expected = float(np.mean([p[c] for p, c in zip(truth, choices, strict=True)]))
    matched = [
        s.converted for s, c in zip(sessions, choices, strict=True) if s.shown == VARIANTS[c]
    ]
    replay = sum(matched) / max(1, len(matched))
    return {
        "expected_conversion": round(expected, 6),
        "replay_conversion": round(replay, 6),
        "replay_n": len(matched),
        "replay_se": round(math.sqrt(replay * (1 - replay) / max(1, len(matched))), 6),
    }


def policy_report(scorer: Any, train: Sequence[Session], test: Sequence[Session]) -> dict[str, Any]:
    """Model vs random vs most popular (and the oracle) on the held-out log."""
    popular = most_popular(train)
    truth = [conversion_probabilities(s.visit) for s in test]
    policies: dict[str, Any] = {
        "model": evaluate_policy(test, model_choices(scorer, test)),
        "most_popular": {
            "variant": VARIANTS[popular],
            **evaluate_policy(test, [popular] * len(test)),
        },
        "random": {
            "expected_conversion": round(float(np.mean([np.mean(p) for p in truth])), 6),
            "replay_conversion": round(float(np.mean([s.converted for s in test])), 6),
            "replay_n": len(test),
        },
        "oracle": evaluate_policy(test, [int(np.argmax(p)) for p in truth]),
    }
    model = policies["model"]["expected_conversion"]

    def uplift(baseline: str, field: str = "expected_conversion") -> float:
        return round(float(policies["model"][field]) / float(policies[baseline][field]) - 1.0, 4)

    oracle = policies["oracle"]["expected_conversion"]
    best_fixed = policies["most_popular"]["expected_conversion"]
    return {
        "split": "held-out log",
        "n_test": len(test),
        "policies": policies,
        "uplift_vs_random": uplift("random"),
        "uplift_vs_most_popular": uplift("most_popular"),
        "replay_uplift_vs_random": uplift("random", "replay_conversion"),
        "replay_uplift_vs_most_popular": uplift("most_popular", "replay_conversion"),
        "share_of_oracle_gain": round((model - best_fixed) / (oracle - best_fixed), 4),
    }


def build(out_dir: Path, *, seed: int = SEED) -> dict[str, Any]:
    """Train, convert, optimize and evaluate; write ``out_dir/model.onnx`` and the card."""
    train = generate_sessions(N_TRAIN, seed=seed)
    test = generate_sessions(N_TEST, seed=seed + 7)
    estimator = fit(train, seed=seed)
    test_features, test_labels = logged_rows(test)
    metadata = {"name": NAME, "version": VERSION, "features": ",".join(FEATURE_NAMES)}
    converted = onnx_export.convert_classifier(estimator, len(FEATURE_NAMES), metadata=metadata)
    opsets = onnx_export.opset_versions(converted)
    with tempfile.TemporaryDirectory(prefix="sml-personalization-") as scratch:
        staged = Path(scratch) / MODEL_FILE
        onnx_export.optimize(converted, staged, check_rows=test_features)
        scorer = onnx_export.session(staged)
        parity = onnx_export.check_parity(estimator, scorer, test_features)
        test_scores = onnx_export.probabilities(scorer, test_features)[:, 1]
        card = {
            "name": NAME,
            "version": VERSION,
            "task": (
                "binary classification: P(convert | visit, content variant); the edge handler "
                "scores every variant and serves the most likely to convert"
            ),
            "features": list(FEATURE_NAMES),
            "variants": list(VARIANTS),
            "input_name": onnx_export.INPUT_NAME,
            "output_name": onnx_export.OUTPUT_NAME,
            "positive_class_column": 1,
            "opset": opsets["ai.onnx"],
            "opset_imports": opsets,
            "onnxruntime_optimization": onnx_export.OPTIMIZATION,
            "metrics": {
                "roc_auc_logged": round(float(roc_auc_score(test_labels, test_scores)), 6),
                "conversion_rate_logged": round(float(test_labels.mean()), 6),
                **policy_report(scorer, train, test),
            },
            "parity": parity,
            "training": {
                "generator": "serverless_ml.models.personalization_data.generate_sessions",
                "seed": seed,
                "test_seed": seed + 7,
                "n_train": len(train),
                "n_test": len(test),
                "logging_policy": "uniform random over variants",
                "estimator": f"sklearn.ensemble.{type(estimator).__name__}",
                "params": {**PARAMS, "random_state": seed},
            },
            "size_bytes": staged.stat().st_size,
            "sha256": onnx_export.file_sha256(staged),
            "libraries": onnx_export.library_versions(),
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staged, out_dir / MODEL_FILE)
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card

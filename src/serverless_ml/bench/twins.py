"""The naive twin of every reference function, each declared once.

Every twin's model comes from the same training code and data as the shipped ONNX (or compiled)
model, written in its training library's own format: the scikit-learn estimators pickled with
joblib, the digits CNN's numpy weights saved with ``np.savez``. Thresholds a tutorial would
hard-code are read from the shipped model card, so both versions answer the same thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench import twin_handlers
from serverless_ml.bench.baseline import Twin
from serverless_ml.spec.model import ARTIFACTS_ROOT

# Pickles load reliably only into the library versions that wrote them: twins pin the versions
# installed here (where the estimators are trained and pickled).
SKLEARN_STACK: Final = ("scikit-learn", "joblib", "numpy", "scipy", "threadpoolctl")


def shipped_card(artifact: str) -> dict[str, Any]:
    """The committed model card of ``artifact``."""
    card: dict[str, Any] = json.loads(
        (ARTIFACTS_ROOT / artifact / "model_card.json").read_text(encoding="utf-8")
    )
    return card


def _fraud_model(path: Path) -> None:
    import joblib

    from serverless_ml.models.fraud_model import fit_fraud_classifier

    joblib.dump(fit_fraud_classifier(), path)


def _fraud_constants() -> dict[str, str]:
    thresholds = shipped_card("fraud")["thresholds"]
    return {
        "review": repr(float(thresholds["review"])),
        "decline": repr(float(thresholds["decline"])),
    }


def _iot_model(path: Path) -> None:
    import joblib

    from serverless_ml.models.iot_model import fit_forest

    forest = fit_forest()
    # predict() flags score_samples < offset_: at -threshold it flags anomaly_score > threshold,
    # the card's calibrated operating point.
    forest.offset_ = -float(shipped_card("iot")["threshold"])
    joblib.dump(forest, path)


def _digits_model(path: Path) -> None:
    import numpy as np

    from serverless_ml.models import digits_model

    data = digits_model.load_data()
    trained = digits_model.train(data, digits_model.split_indices(data.labels))
    weights: dict[str, Any] = {k: v.astype(np.float32) for k, v in trained.params.items()}
    np.savez(path, **weights)


def _image_pins() -> dict[str, str]:
    """numpy and Pillow at the versions our image bundle ships: only the approach differs."""
    from serverless_ml.core.defaults import FUNCTION_REQUIREMENTS
    from serverless_ml.reference.scenarios import image_processing

    pins = (*FUNCTION_REQUIREMENTS, *image_processing().extra_requirements)
    return {name.lower(): version for name, _, version in (p.partition("==") for p in pins)}


def _personalization_model(path: Path) -> None:
    import joblib

    from serverless_ml.models import personalization_model as model
    from serverless_ml.models.personalization_data import generate_sessions

    joblib.dump(model.fit(generate_sessions(model.N_TRAIN, seed=model.SEED), seed=model.SEED), path)


def _personalize_constants() -> dict[str, str]:
    from serverless_ml.reference.scenarios import edge_personalization

    return {"config": repr(dict(edge_personalization().function.config))}


FRAUD_TWIN: Final = Twin(
    name="fraud",
    label="scikit-learn GBDT + joblib",
    distributions=SKLEARN_STACK,
    model_file="model.joblib",
    write_model=_fraud_model,
    training_modules=(
        "serverless_ml.models.fraud_model",
        "serverless_ml.models.fraud_data",
        "sml_handlers.fraud.features",
    ),
    artifact="fraud",
    handler_source=twin_handlers.FRAUD,
    support=("sml_handlers.fraud.features", "sml_handlers.runtime.fields"),
    constants=_fraud_constants,
)

IOT_TWIN: Final = Twin(
    name="iot",
    label="scikit-learn IsolationForest + joblib",
    distributions=SKLEARN_STACK,
    model_file="model.joblib",
    write_model=_iot_model,
    training_modules=(
        "serverless_ml.models.iot_model",
        "serverless_ml.models.iot_data",
        "sml_handlers.iot.features",
    ),
    artifact="iot",
    handler_source=twin_handlers.IOT,
    support=("sml_handlers.iot.features", "sml_handlers.runtime.fields"),
)

IMAGE_TWIN: Final = Twin(
    name="image",
    label="numpy CNN (np.load .npz) + Pillow",
    distributions=("numpy", "pillow"),
    model_file="model.npz",
    write_model=_digits_model,
    training_modules=("serverless_ml.models.digits_model",),
    artifact="digits",
    handler_source=twin_handlers.IMAGE,
    support=("sml_handlers.image.vision",),
    pins=_image_pins,
)

PERSONALIZE_TWIN: Final = Twin(
    name="personalize",
    label="scikit-learn GBDT + joblib",
    distributions=SKLEARN_STACK,
    model_file="model.joblib",
    write_model=_personalization_model,
    training_modules=(
        "serverless_ml.models.personalization_model",
        "serverless_ml.models.personalization_data",
        "sml_handlers.personalize.features",
    ),
    artifact="personalization",
    handler_source=twin_handlers.PERSONALIZE,
    support=(
        "sml_handlers.personalize.request",
        "sml_handlers.personalize.features",
        "sml_handlers.personalize.settings",
    ),
    constants=_personalize_constants,
)

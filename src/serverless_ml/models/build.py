"""Build every shipped model, or check that the committed artifacts are what a build produces.

Each registry entry is ``name -> "module:function"``; the function takes an output directory,
writes ``model.onnx`` and ``model_card.json`` there and returns the card. Adding a model is one
line here (modules are imported only when built, so a model's training stack loads on demand).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from serverless_ml.models.errors import (
    ARTIFACT_MISSING,
    ARTIFACT_OUT_OF_DATE,
    UNKNOWN_MODEL,
    ModelError,
)

REGISTRY: Final[dict[str, str]] = {
    "fraud": "serverless_ml.models.fraud_model:build",
    "iot": "serverless_ml.models.iot_model:build",
    "digits": "serverless_ml.models.digits_model:build",
    "personalization": "serverless_ml.models.personalization_model:build",
}
ARTIFACTS_ROOT: Final = Path(__file__).resolve().parent / "artifacts"
MODEL_FILE: Final = "model.onnx"
CARD_FILE: Final = "model_card.json"
# Card fields that describe the build environment, not the model: a check ignores them.
ENVIRONMENT_FIELDS: Final = frozenset({"libraries"})

Builder = Callable[[Path], dict[str, Any]]


def _builder(name: str) -> Builder:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise ModelError(
            UNKNOWN_MODEL, f"no model named {name!r}; known: {', '.join(REGISTRY)}"
        ) from None
    module_name, _, function = target.partition(":")
    builder: Builder = getattr(importlib.import_module(module_name), function)
    return builder


def build_all(
    root: Path | None = None, *, check: bool = False, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Build each registered model (or only ``names``) into ``root/<name>/``; return the cards.

    ``root`` defaults to the committed artifacts (src/serverless_ml/models/artifacts). With
    ``check=True`` models are built in a temporary directory and compared with ``root`` (model
    sha256 and card), which is never written: SML505 if they differ, SML506 if one is missing.
    """
    target = ARTIFACTS_ROOT if root is None else Path(root)
    selected = list(REGISTRY) if names is None else list(names)
    cards: list[dict[str, Any]] = []
    for name in selected:
        builder = _builder(name)
        if not check:
            cards.append(builder(target / name))
            continue
        with tempfile.TemporaryDirectory(prefix=f"sml-check-{name}-") as scratch:
            card = builder(Path(scratch))
        compare_with_committed(name, card, target / name)
        cards.append(card)
    return cards


def validate_committed(
    root: Path | None = None, *, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Cheap integrity check (no training): each committed card's ``sha256`` and ``size_bytes``
    match its ``model.onnx``. Returns the cards; SML506 if a file is missing, SML505 if not.

    ``build_all(check=True)`` is the full reproducibility check.
    """
    target = ARTIFACTS_ROOT if root is None else Path(root)
    cards: list[dict[str, Any]] = []
    for name in list(REGISTRY) if names is None else list(names):
        if name not in REGISTRY:
            raise ModelError(
                UNKNOWN_MODEL, f"no model named {name!r}; known: {', '.join(REGISTRY)}"
            )
        model_path, card_path = target / name / MODEL_FILE, target / name / CARD_FILE
        missing = [str(path) for path in (model_path, card_path) if not path.is_file()]
        if missing:
            raise ModelError(
                ARTIFACT_MISSING,
                f"model {name!r}: {', '.join(missing)} not found; run `serverless-ml build-models`",
            )
        card: dict[str, Any] = json.loads(card_path.read_text(encoding="utf-8"))
        data = model_path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        if card.get("sha256") != sha256 or card.get("size_bytes") != len(data):
            raise ModelError(
                ARTIFACT_OUT_OF_DATE,
                f"model {name!r}: {CARD_FILE} describes sha256 {str(card.get('sha256'))[:12]}, "
                f"{card.get('size_bytes')} bytes; {MODEL_FILE} is {sha256[:12]}, {len(data)} "
                "bytes. Run `serverless-ml build-models` and commit both files",
            )
        cards.append(card)
    return cards


def compare_with_committed(name: str, built: dict[str, Any], directory: Path) -> None:
    """Raise SML505/SML506 unless ``directory`` holds the model ``built`` describes."""
    from serverless_ml.models.onnx_export import file_sha256

    model_path, card_path = directory / MODEL_FILE, directory / CARD_FILE
    missing = [str(path) for path in (model_path, card_path) if not path.is_file()]
    if missing:
        raise ModelError(
            ARTIFACT_MISSING,
            f"model {name!r}: {', '.join(missing)} not found; run `serverless-ml build-models`",
        )
    committed = json.loads(card_path.read_text(encoding="utf-8"))
    problems = []
    actual_sha = file_sha256(model_path)
    if actual_sha != built["sha256"]:
        problems.append(
            f"{MODEL_FILE} sha256 is {actual_sha[:12]}, a rebuild gives {built['sha256'][:12]}"
        )
    if committed.get("sha256") != actual_sha:
        problems.append(f"{CARD_FILE} sha256 does not match the committed {MODEL_FILE}")
    changed = sorted(
        key
        for key in set(built) | set(committed)
        if key not in ENVIRONMENT_FIELDS and built.get(key) != committed.get(key)
    )
    if changed:
        problems.append(f"{CARD_FILE} differs in {', '.join(changed)}")
    if problems:
        raise ModelError(
            ARTIFACT_OUT_OF_DATE,
            f"model {name!r} in {directory} is out of date: {'; '.join(problems)}. "
            "Run `serverless-ml build-models` and commit the result (or find what made the "
            "build non-reproducible)",
        )

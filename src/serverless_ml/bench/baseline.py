"""The naive baseline most tutorials ship: scikit-learn + joblib in the zip, the pickled
estimator loaded at import, no trimming and no precompiled bytecode.

Its handler imports sklearn and joblib, ``joblib.load``-s the same gradient-boosted model we ship
as ONNX, and per request json-parses the body, builds the same feature vector (a copy of our
stdlib-only ``features.py``) and calls ``predict_proba``. Installed with the same pip
``--platform``/``--python-version`` flags as our bundle, so only the approach differs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from serverless_ml.bundling import cache
from serverless_ml.bundling.archive import write_zip
from serverless_ml.bundling.bytecode import compile_tree
from serverless_ml.bundling.trim import tree_bytes
from serverless_ml.bundling.wheels import install_wheels

# Part of the cache key: bump when the baseline's layout or content rules change.
BASELINE_LAYOUT: Final = 3
HANDLER_MODULE: Final = "baseline_handler"
MODEL_FILE: Final = "model.joblib"
FEATURES_MODULE: Final = "sml_handlers.fraud.features"
# Pickles load reliably only into the library versions that wrote them: the baseline bundle pins
# the versions installed here (where the estimator is trained and pickled).
PINNED_DISTRIBUTIONS: Final = ("scikit-learn", "joblib", "numpy", "scipy", "threadpoolctl")

HANDLER_SOURCE: Final = '''\
"""Naive fraud handler: what a typical tutorial deploys."""
import json
import os
import os

import joblib
import numpy as np
import sklearn  # noqa: F401

from features import feature_vector, parse_transaction

model = joblib.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib"))


def handler(event, context):
    body = json.loads(event["body"])
    txn = parse_transaction(body)
    row = np.asarray([feature_vector(txn)], dtype=np.float32)
    score = float(model.predict_proba(row)[0, 1])
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"transaction_id": txn.transaction_id, "score": score}),
    }
'''


@dataclass(frozen=True)
class BaselineBundle:
    """``path``: the naive zip's content (no .pyc). ``pyc_path``: the same files plus the .pyc a
    ``pip install -t`` run by the runtime's Python version would write (timestamp-checked), the
    kinder baseline; None when no such interpreter was given."""

    path: Path
    unzipped_bytes: int
    zipped_bytes: int
    requirements: tuple[str, ...]
    pyc_path: Path | None = None


def support_sources() -> dict[str, Path]:
    """What ``features.py`` imports from our runtime (stdlib only), by its path in the bundle."""
    import sml_handlers
    import sml_handlers.runtime.fields as fields

    root = Path(str(sml_handlers.__file__)).parent
    return {
        "sml_handlers/__init__.py": root / "__init__.py",
        "sml_handlers/runtime/__init__.py": root / "runtime" / "__init__.py",
        "sml_handlers/runtime/fields.py": Path(str(fields.__file__)),
    }


def features_source() -> Path:
    """Our stdlib-only feature code, copied into the baseline so both score the same inputs."""
    found = importlib.util.find_spec(FEATURES_MODULE)
    if found is None or found.origin is None:
        raise RuntimeError(f"{FEATURES_MODULE} is not importable")
    return Path(found.origin)


def baseline_requirements() -> tuple[str, ...]:
    """``name==version`` of the installed scikit-learn stack (what the pickle was written with)."""
    return tuple(f"{name}=={importlib.metadata.version(name)}" for name in PINNED_DISTRIBUTIONS)


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(hashlib.sha256(part).digest())
    return sha.hexdigest()


def pickled_model(cache_dir: Path) -> Path:
    """The sklearn fraud classifier (``fit_fraud_classifier()``, the estimator the shipped ONNX
    model was converted from) pickled with joblib, cached by training code and library versions."""
    import joblib

    from serverless_ml.models import fraud_data, fraud_model

    sources = [Path(str(module.__file__)).read_bytes() for module in (fraud_model, fraud_data)]
    key = _digest(
        *sources, features_source().read_bytes(), json.dumps(baseline_requirements()).encode()
    )
    path = cache_dir / "baseline" / f"model-{key[:32]}.joblib"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    estimator = fraud_model.fit_fraud_classifier()
    # One temporary per process: two test workers may fit the same model at once, and the
    # atomic rename makes whichever finishes last win with identical content.
    temporary = path.with_suffix(f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    joblib.dump(estimator, temporary)
    temporary.replace(path)
    return path


def build_baseline(
    cache_dir: Path, *, python_version: str, architecture: str, interpreter: str | None = None
) -> BaselineBundle:
    """The naive bundle for ``python_version``/``architecture``, built once per content;
    ``interpreter`` (of ``python_version``) also compiles the with-.pyc variant."""
    cache.prepare(cache_dir)
    model = pickled_model(cache_dir)
    requirements = baseline_requirements()
    features = features_source().read_bytes() + b"".join(
        path.read_bytes() for path in support_sources().values()
    )
    key = _digest(
        json.dumps([BASELINE_LAYOUT, requirements, python_version, architecture]).encode(),
        HANDLER_SOURCE.encode(),
        features,
        model.read_bytes(),
    )
    entry = cache_dir / "baseline" / key
    if not (entry / "manifest.json").is_file():
        with cache.key_lock(cache_dir, f"baseline-{key}"):
            if not (entry / "manifest.json").is_file():
                _build(entry, key, cache_dir, requirements, python_version, architecture, model)
                cache.prune(cache_dir / "baseline", _baseline_group)
    cache.touch(entry)
    cache.touch(model)
    data = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
    return BaselineBundle(
        path=entry / "asset",
        unzipped_bytes=data["unzipped_bytes"],
        zipped_bytes=data["zipped_bytes"],
        requirements=requirements,
        pyc_path=None if interpreter is None else _with_pyc(entry, cache_dir, interpreter),
    )


def _baseline_group(entry: Path) -> str | None:
    """Prune group of a baseline cache entry (None for pickled models: age rule only)."""
    try:
        data = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        return f"{data['python_version']}/{data['architecture']}"
    except (OSError, ValueError, KeyError):
        return None


def _with_pyc(entry: Path, cache_dir: Path, interpreter: str) -> Path:
    """``entry/asset-pyc``: the asset (hard links) plus timestamp .pyc, built once."""
    final = entry / "asset-pyc"
    if final.is_dir():
        return final
    with cache.key_lock(cache_dir, f"baseline-pyc-{entry.name}"):
        if final.is_dir():
            return final
        work = cache.temp_entry(cache_dir, entry.name)
        try:
            staged = work / "asset-pyc"
            shutil.copytree(entry / "asset", staged, copy_function=cache.link_or_copy)
            compile_tree(interpreter, staged, invalidation_mode="timestamp")
            cache.publish(staged, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final


def _build(
    entry: Path,
    key: str,
    cache_dir: Path,
    requirements: tuple[str, ...],
    python_version: str,
    architecture: str,
    model: Path,
) -> None:
    work = cache.temp_entry(cache_dir, key)
    try:
        asset = work / "asset"
        install_wheels(
            requirements, asset, python_version=python_version, architecture=architecture
        )
        (asset / f"{HANDLER_MODULE}.py").write_text(HANDLER_SOURCE, encoding="utf-8")
        shutil.copyfile(features_source(), asset / "features.py")
        for relative, source in support_sources().items():
            (asset / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, asset / relative)
        shutil.copyfile(model, asset / MODEL_FILE)
        zipped = write_zip(asset, work / "bundle.zip")
        (work / "manifest.json").write_text(
            json.dumps(
                {
                    "unzipped_bytes": tree_bytes(asset),
                    "zipped_bytes": zipped,
                    "python_version": python_version,
                    "architecture": architecture,
                }
            ),
            encoding="utf-8",
        )
        cache.publish(work, entry)
    finally:
        shutil.rmtree(work, ignore_errors=True)

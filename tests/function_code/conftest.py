"""Handler tests: real onnxruntime on the committed fraud model, AWS-shaped events, moto for AWS.

The handler module loads its model at import (INIT), so the model directory is configured here,
before any test module imports it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRAUD_MODEL_DIR = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "fraud"
os.environ.setdefault("SML_MODEL_DIR", str(FRAUD_MODEL_DIR))


@pytest.fixture
def fraud_model_dir() -> Path:
    return Path(os.environ["SML_MODEL_DIR"])


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a region, and no AWS client cached across tests."""
    from sml_handlers.runtime import aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws.reset_clients()
    yield
    aws.reset_clients()

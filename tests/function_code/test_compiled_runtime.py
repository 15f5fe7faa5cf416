"""The compiled runtime: the fraud and IoT handlers served by ``model/compiled_model.py``
(as the bundler writes it) decide exactly as with onnxruntime, and never import numpy or
onnxruntime."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from serverless_ml.bundling.compiled import compiled_model_dir
from sml_handlers.fraud import handler as fraud
from sml_handlers.fraud.features import feature_vector, parse_transaction
from sml_handlers.iot.features import feature_vector as iot_features
from sml_handlers.iot.features import parse_reading
from sml_handlers.runtime.compiled_model import CompiledModel, load_compiled_model
from sml_handlers.runtime.model import load_model
from sml_handlers.runtime.onnx_model import load_onnx_model
from tests.function_code.handler_events import http_event, sample_transactions
from tests.function_code.iot_support import IOT_MODEL_DIR, mixed_readings, reference_scores

REPO = Path(__file__).resolve().parents[2]
FRAUD_MODEL_DIR = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "fraud"


@pytest.fixture(scope="module")
def compiled_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cache = tmp_path_factory.mktemp("cache")
    return {
        "fraud": compiled_model_dir(FRAUD_MODEL_DIR, cache),
        "iot": compiled_model_dir(IOT_MODEL_DIR, cache),
    }


def test_the_compiled_directory_holds_module_and_card_not_onnx(
    compiled_dirs: dict[str, Path],
) -> None:
    directory = compiled_dirs["fraud"]
    assert sorted(p.name for p in directory.iterdir()) == ["compiled_model.py", "model_card.json"]
    card = json.loads((directory / "model_card.json").read_text())
    original = json.loads((FRAUD_MODEL_DIR / "model_card.json").read_text())
    assert card["runtime"] == "compiled"
    assert card["thresholds"] == original["thresholds"]  # the handler's decisions still apply
    assert (
        card["compiled"]["from_onnx_sha256"]
        == hashlib.sha256((FRAUD_MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    )
    assert card["compiled"]["parity"]["max_abs_diff"] <= 1e-5
    assert card["compiled"]["parity"]["n"] > 1000  # probes at every threshold edge


def test_load_model_picks_the_runtime_from_the_bundle_contents(
    compiled_dirs: dict[str, Path],
) -> None:
    compiled = load_model(compiled_dirs["fraud"])
    assert isinstance(compiled, CompiledModel) and compiled.runtime == "compiled"
    assert load_model(FRAUD_MODEL_DIR).runtime == "onnxruntime"
    assert compiled.n_features == 22 and compiled.output_name == "probabilities"
    assert compiled.warm_up_ms > 0 and compiled.load_ms > 0
    assert (
        compiled.version == json.loads((FRAUD_MODEL_DIR / "model_card.json").read_text())["version"]
    )


@pytest.mark.parametrize("name", ["fraud", "iot"])
def test_compiled_predictions_equal_onnxruntime_within_1e5(
    compiled_dirs: dict[str, Path], name: str
) -> None:
    source = FRAUD_MODEL_DIR if name == "fraud" else IOT_MODEL_DIR
    onnx_model = load_onnx_model(source, memory_mb=1024)
    compiled = load_compiled_model(compiled_dirs[name])
    rng = np.random.default_rng(7)
    rows = (rng.normal(size=(400, compiled.n_features)) * 50).tolist()
    expected = np.asarray(onnx_model.predict(rows))
    actual = np.asarray(compiled.predict(rows))
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)


def test_a_module_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    (tmp_path / "compiled_model.py").write_text("def predict(row):\n    return [0.0]\n")
    (tmp_path / "model_card.json").write_text("{}")
    with pytest.raises(ImportError, match="not a serverless-ml compiled model"):
        load_model(tmp_path)


def test_a_card_for_other_features_is_refused(
    compiled_dirs: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "compiled_model.py").write_bytes(
        (compiled_dirs["fraud"] / "compiled_model.py").read_bytes()
    )
    (tmp_path / "model_card.json").write_text(json.dumps({"features": ["a", "b"]}))
    with pytest.raises(ValueError, match=r"reads 22 features; model_card\.json lists 2"):
        load_model(tmp_path)


def _numpy_digest(row: list[float]) -> str:
    return hashlib.sha256(np.ascontiguousarray(row, dtype=np.float32).tobytes()).hexdigest()[:32]


def test_features_digest_is_the_float32_bytes_numpy_would_hash() -> None:
    """Decisions written before the handlers dropped numpy keep their digests (replays of
    them still write nothing)."""
    rows = [feature_vector(parse_transaction(t)) for t in sample_transactions(200, seed=5)]
    rows += [[0.1, -0.0, 1e-45, 3.4e38, -1e30, math.pi, 2.0 / 3.0] * 3 + [1.0]]
    for row in rows:
        assert fraud.features_digest(row) == _numpy_digest(row)


_FRAUD_CHILD = """
import json, sys
import sml_handlers.fraud.handler as handler
events = json.loads(sys.stdin.read())
bodies = [json.loads(handler.handler(event, None)["body"]) for event in events]
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"runtime": handler.MODEL.runtime, "bodies": bodies, "modules": loaded}))
"""

_IOT_CHILD = """
import json, sys
import sml_handlers.iot.handler as handler
from sml_handlers.iot.features import feature_vector, parse_reading
readings = json.loads(sys.stdin.read())
scores = handler.score([feature_vector(parse_reading(r)) for r in readings])
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"runtime": handler.MODEL.runtime, "scores": scores, "modules": loaded}))
"""


def _child(code: str, model_dir: Path, payload: object) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SML_MODEL_DIR": str(model_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SML_RESULTS_TABLE": "unused",
        **{name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ},
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_fraud_handler_decides_the_same_without_numpy_or_onnxruntime(
    compiled_dirs: dict[str, Path],
) -> None:
    transactions = sample_transactions(300, seed=31, fraud_rate=0.3)
    events = [http_event(json.dumps(t)) for t in transactions]
    result = _child(_FRAUD_CHILD, compiled_dirs["fraud"], events)
    assert result["runtime"] == "compiled"
    assert "numpy" not in result["modules"] and "onnxruntime" not in result["modules"]
    expected = [json.loads(fraud.handler(event, None)["body"]) for event in events]
    assert fraud.MODEL.runtime == "onnxruntime"
    assert [b["decision"] for b in result["bodies"]] == [b["decision"] for b in expected]
    assert {b["decision"] for b in expected} >= {"approve", "decline"}
    for got, want in zip(result["bodies"], expected, strict=True):
        assert got["transaction_id"] == want["transaction_id"]
        assert abs(got["score"] - want["score"]) <= 2e-6  # 1e-5 parity, rounded to 6 places


def test_iot_handler_scores_the_same_without_numpy_or_onnxruntime(
    compiled_dirs: dict[str, Path],
) -> None:
    readings = mixed_readings(150, 50, seed=9)
    result = _child(_IOT_CHILD, compiled_dirs["iot"], readings)
    assert result["runtime"] == "compiled"
    assert "numpy" not in result["modules"] and "onnxruntime" not in result["modules"]
    expected = reference_scores(readings)
    np.testing.assert_allclose(result["scores"], expected, atol=1e-5, rtol=0)
    rows = [iot_features(parse_reading(r)) for r in readings]
    assert len(rows) == len(result["scores"])

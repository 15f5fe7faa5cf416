"""The compiled-runtime bundle the fraud stack deploys with ModelArtifact(runtime="compiled"):
no third-party package at all, the compiled module's .pyc shipped, and the handler answering
in a fresh read-only interpreter that sees only the bundle."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import Bundle, TargetPython, bundle_function, find_target_python
from serverless_ml.core.plan import build_plan
from serverless_ml.reference.scenarios import SCENARIOS
from serverless_ml.spec import ModelArtifact
from tests.bundling.read_only import read_only_task

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]


@pytest.fixture(scope="module")
def compiled_bundle() -> Bundle:
    spec = SCENARIOS["fraud-detection"]()
    spec = dataclasses.replace(spec, model=ModelArtifact.packaged("fraud", runtime="compiled"))
    return bundle_function(build_plan(spec).function)


@pytest.fixture(scope="module")
def target_python() -> TargetPython | None:
    found, _notes = find_target_python("3.13")
    return found


@pytest.fixture
def task_root(compiled_bundle: Bundle, tmp_path: Path) -> Iterator[Path]:
    with read_only_task(compiled_bundle.path, tmp_path) as task:
        yield task


def test_the_bundle_holds_our_code_and_the_compiled_model_only(compiled_bundle: Bundle) -> None:
    root = compiled_bundle.path
    top = sorted(p.name for p in root.iterdir())
    assert top == ["model", "sml_handlers"]
    model_files = sorted(p.name for p in (root / "model").iterdir())
    assert "model.onnx" not in model_files
    assert {"compiled_model.py", "model_card.json"} <= set(model_files)
    assert compiled_bundle.zipped_bytes < 1024 * 1024  # fits even a viewer-event edge function
    assert compiled_bundle.installed_bytes < 2 * 1024 * 1024


def test_the_compiled_module_ships_as_target_bytecode(
    compiled_bundle: Bundle, target_python: TargetPython | None
) -> None:
    if target_python is None:
        pytest.skip("no Python 3.13 interpreter on this machine")
    assert compiled_bundle.pyc_compiled and compiled_bundle.warnings == ()
    pyc = compiled_bundle.path / "model" / "__pycache__" / "compiled_model.cpython-313.pyc"
    header = pyc.read_bytes()[:8]
    assert header[:4].hex() == target_python.magic
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, source unchecked


_HANDLE = """
import json, sys
import sml_handlers.fraud.handler as handler
body = {"transaction_id": "t-1", "amount": 912.5, "currency": "USD", "merchant_category":
        "electronics", "card_present": False, "distance_from_home_km": 830.0,
        "txn_count_1h": 6, "txn_count_24h": 14, "amount_sum_24h": 4100.0,
        "account_age_days": 12, "timestamp": "2026-01-05T03:12:00Z"}
event = {"version": "2.0", "routeKey": "POST /score", "rawPath": "/score",
         "requestContext": {"http": {"method": "POST", "path": "/score"}},
         "body": json.dumps(body), "isBase64Encoded": False}
response = handler.handler(event, None)
print(json.dumps({"status": response["statusCode"], "body": json.loads(response["body"]),
                  "runtime": handler.MODEL.runtime,
                  "compiled_from": handler.MODEL.module.__spec__.cached,
                  "modules": sorted({n.split(".")[0] for n in sys.modules})}))
"""


def test_the_handler_answers_from_a_read_only_bundle_without_numpy_or_onnxruntime(
    task_root: Path, target_python: TargetPython | None
) -> None:
    if target_python is None:
        pytest.skip("no Python 3.13 interpreter on this machine")
    result = run_isolated(target_python.path, task_root, _HANDLE)
    assert result["status"] == 200, result
    assert result["body"]["decision"] in ("approve", "review", "decline")
    assert result["runtime"] == "compiled"
    assert result["compiled_from"].endswith("compiled_model.cpython-313.pyc")
    assert "numpy" not in result["modules"] and "onnxruntime" not in result["modules"]
    print(json.dumps(result["body"]))

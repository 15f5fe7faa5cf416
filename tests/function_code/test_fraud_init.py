"""INIT of the fraud handler in a fresh interpreter: lean imports, model ready, no AWS SDK."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("boto3", "botocore", "aws_cdk", "jsii", "pulumi", "serverless_ml", "moto", "sklearn")

_CHILD = """
import json, sys
import sml_handlers.fraud.handler as handler
loaded = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"modules": loaded, "threads": handler.MODEL.intra_op_threads,
                  "hooks": handler.SNAPSTART_HOOKS, "warm_up_ms": handler.MODEL.warm_up_ms}))
"""


def run_child(extra_env: dict[str, str]) -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SML_MODEL_DIR": os.environ["SML_MODEL_DIR"],
        "PYTHONDONTWRITEBYTECODE": "1",
        **{name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ},
        **extra_env,
    }
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_init_imports_no_sdk_no_iac_no_library() -> None:
    result = run_child({})
    modules = set(result["modules"])  # type: ignore[call-overload]
    assert {"numpy", "onnxruntime", "sml_handlers"} <= modules
    assert modules.isdisjoint(FORBIDDEN), sorted(modules & set(FORBIDDEN))
    assert "aws_lambda_powertools" not in modules  # measured too slow to import at INIT
    assert result["hooks"] is False  # no snapshot_restore_py outside Lambda
    assert float(result["warm_up_ms"]) > 0  # type: ignore[arg-type]  # the warm-up inference ran during INIT


def test_init_sizes_threads_from_lambda_memory() -> None:
    assert run_child({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"})["threads"] == 1
    assert run_child({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3538"})["threads"] == 2


def test_init_refuses_a_model_card_for_other_features(tmp_path: Path) -> None:
    source = Path(os.environ["SML_MODEL_DIR"])
    shutil.copy(source / "model.onnx", tmp_path / "model.onnx")
    card = json.loads((source / "model_card.json").read_text())
    card["features"] = list(reversed(card["features"]))
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    env = {"PATH": os.environ.get("PATH", ""), "SML_MODEL_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "differ from features.FEATURE_NAMES" in out.stderr

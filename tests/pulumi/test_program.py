"""The fraud-detection Pulumi program (stacks/pulumi-fraud-detection/__main__.py) run as Pulumi
would run it, under mocks: bundling is replaced by a prebuilt directory (the bundler has its own
tests), everything else is the real program."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from serverless_ml import bundling
from serverless_ml.bundling import Bundle
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import FunctionPlan
from serverless_ml.reference.scenarios import fraud_detection
from tests.pulumi.harness import RecordingMocks, run_with_mocks

PROGRAM_DIR = Path(__file__).resolve().parents[2] / "stacks" / "pulumi-fraud-detection"
EXPORTS = (
    "endpoint_url", "function_name", "alias_arn", "table_names", "failure_queue_url",
    "alarm_topic_arn", "dashboard_name",
)  # fmt: skip


class _Program:
    def __init__(self, mocks: RecordingMocks, exports: dict[str, Any], bundled: list[Any]):
        self.mocks, self.exports, self.bundled = mocks, exports, bundled


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> _Program:
    code_dir = tmp_path_factory.mktemp("artifact")
    (code_dir / "placeholder.txt").write_text("prebuilt artifact\n")
    bundled: list[FunctionPlan] = []

    def fake_bundle(function: FunctionPlan) -> Bundle:
        bundled.append(function)
        return Bundle(
            path=code_dir, content_hash="test", unzipped_bytes=0, zipped_bytes=0,
            pyc_compiled=False, warnings=(), zip_path=code_dir / "bundle.zip",
        )  # fmt: skip

    def run() -> pulumi.Output[dict[str, Any]]:
        runpy.run_path(str(PROGRAM_DIR / "__main__.py"), run_name="__main__")
        stack = pulumi.runtime.get_root_resource()
        assert stack is not None
        outputs = {k: v for k, v in stack.outputs.items() if k in EXPORTS}  # type: ignore[attr-defined]
        return pulumi.Output.from_input(outputs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bundling, "bundle_function", fake_bundle)
        mocks, exports = run_with_mocks(run)
    return _Program(mocks, exports, bundled)


def test_program_renders_the_fraud_service(program: _Program) -> None:
    (service,) = [r for r in program.mocks.resources if r.type.startswith("serverless-ml:index:")]
    assert (service.type, service.name) == (
        "serverless-ml:index:InferenceService",
        "fraud-detection",
    )
    plan = build_plan(fraud_detection())
    assert program.bundled == [plan.function]  # bundles exactly the planned function
    (function,) = [r for r in program.mocks.resources if r.type == "aws:lambda/function:Function"]
    assert function.inputs["name"] == plan.function.name


def test_program_exports(program: _Program) -> None:
    e = program.exports
    assert set(e) == set(EXPORTS)
    assert e["function_name"] == "fraud-detection"
    assert e["alias_arn"].endswith(":function:fraud-detection:live")
    assert e["endpoint_url"].startswith("https://") and e["endpoint_url"].endswith("/")
    assert e["table_names"] == {
        "transactions": "fraud-detection-transactions",
        "decisions": "fraud-detection-decisions",
    }
    assert e["failure_queue_url"].endswith("/fraud-detection-failures")
    assert e["alarm_topic_arn"].endswith(":fraud-detection-alarms")
    assert e["dashboard_name"] == "fraud-detection"


def test_project_file_runs_python_from_the_repository_venv() -> None:
    lines = [line.strip() for line in (PROGRAM_DIR / "Pulumi.yaml").read_text().splitlines()]
    assert "name: python" in lines
    (venv,) = [line.split(":", 1)[1].strip() for line in lines if line.startswith("virtualenv:")]
    assert (PROGRAM_DIR / venv).resolve() == (PROGRAM_DIR.parents[1] / ".venv").resolve()
    assert (PROGRAM_DIR / "README.md").is_file()

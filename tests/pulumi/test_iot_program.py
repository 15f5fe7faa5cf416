"""The IoT anomaly Pulumi program (stacks/pulumi-iot-anomaly/__main__.py) run as Pulumi would
run it, under mocks, with the real (cached) bundle."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.pulumi.harness import RecordingMocks, run_with_mocks

PROGRAM_DIR = Path(__file__).resolve().parents[2] / "stacks" / "pulumi-iot-anomaly"
EXPORTS = (
    "function_name", "alias_arn", "stream_names", "table_names", "alert_topic_arn",
    "failure_queue_url", "alarm_topic_arn", "dashboard_name",
)  # fmt: skip


@pytest.fixture(scope="module")
def program() -> tuple[RecordingMocks, dict[str, Any]]:
    def run() -> pulumi.Output[dict[str, Any]]:
        runpy.run_path(str(PROGRAM_DIR / "__main__.py"), run_name="__main__")
        stack = pulumi.runtime.get_root_resource()
        assert stack is not None
        outputs = {k: v for k, v in stack.outputs.items() if k in EXPORTS}  # type: ignore[attr-defined]
        return pulumi.Output.from_input(outputs)

    mocks, exports = run_with_mocks(run)
    return mocks, exports


def test_iot_program_exports_and_wiring(program: tuple[RecordingMocks, dict[str, Any]]) -> None:
    mocks, e = program
    assert set(e) == set(EXPORTS)
    assert e["function_name"] == "iot-anomaly"
    assert e["stream_names"] == {"readings": "iot-anomaly-readings"}
    assert e["table_names"] == {"anomalies": "iot-anomaly-anomalies"}
    assert e["alert_topic_arn"].endswith(":iot-anomaly-alerts")
    (mapping,) = [
        r for r in mocks.resources if r.type.endswith("eventSourceMapping:EventSourceMapping")
    ]
    assert mapping.inputs["functionName"] == e["alias_arn"]
    assert mapping.inputs["eventSourceArn"].endswith(":stream/iot-anomaly-readings")
    (function,) = [r for r in mocks.resources if r.type == "aws:lambda/function:Function"]
    assert (
        function.inputs["environment"]["variables"]["SML_ALERT_TOPIC_ARN"] == e["alert_topic_arn"]
    )
    code = Path(str(function.inputs["code"].path))
    assert (code / "sml_handlers" / "iot" / "handler.py").is_file()
    assert (code / "model" / "model.onnx").is_file()


def test_a_compiled_model_ships_without_numpy_or_onnxruntime() -> None:
    """runtime="compiled" reaches the Pulumi function's archive: the compiled module, no ONNX
    file, no third-party package."""
    import dataclasses

    from serverless_ml.reference.scenarios import SCENARIOS
    from serverless_ml.spec import ModelArtifact
    from tests.pulumi.harness import render

    spec = dataclasses.replace(
        SCENARIOS["iot-anomaly"](), model=ModelArtifact.packaged("iot", runtime="compiled")
    )
    rendered = render(spec)
    (function,) = [r for r in rendered.resources if r.type == "aws:lambda/function:Function"]
    code = Path(str(function.inputs["code"].path))
    assert (code / "model" / "compiled_model.py").is_file()
    assert not (code / "model" / "model.onnx").exists()
    assert sorted(p.name for p in code.iterdir()) == ["model", "sml_handlers"]

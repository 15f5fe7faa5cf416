"""``serverless-ml local``: every reference service end to end through the runner, on moto's
real server, with the real bundles in worker processes; and nothing lost when a worker dies
mid-batch."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from serverless_ml.local import runner
from serverless_ml.local.environment import Environment
from serverless_ml.local.moto_server import moto_server
from serverless_ml.local.runner import RunOptions, ScenarioRun, run_local
from serverless_ml.local.services.base import ServiceOptions
from serverless_ml.local.services.fraud import FraudService
from serverless_ml.local.traffic import Burst
from serverless_ml.spec import ConcurrencyPlan, Warmer

pytestmark = pytest.mark.slow


def _run(scenario: str, tmp_path: Path, **changes: Any) -> tuple[ScenarioRun, list[str]]:
    settings: dict[str, Any] = {
        "rate_per_s": 6.0,
        "duration_s": 4.0,
        "out": tmp_path,
        "progress": False,
        "drain_timeout_s": 120.0,
    }
    options = RunOptions(**{**settings, **changes})
    printed: list[str] = []
    (run,) = run_local([scenario], options, echo=printed.append)
    return run, printed


def _assert_lifecycle(run: ScenarioRun) -> None:
    """What every run shows: INIT timed apart, REPORT lines, a latency plot."""
    f = run.function
    assert f.invocations > 0 and f.cold_starts + f.provisioned_inits >= 1
    assert f.init_p50_ms is not None or f.provisioned_inits > 0
    log = run.log_path.read_text(encoding="utf-8")
    assert log.count("platform.report") + log.count("REPORT RequestId:") >= f.invocations
    assert run.plot is not None and run.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fraud_detection_http_and_stream(tmp_path: Path) -> None:
    run, printed = _run("fraud-detection", tmp_path, burst=Burst.parse("3x1s/4s"))
    text = "\n".join(printed)
    assert run.ok, text
    _assert_lifecycle(run)
    assert run.function.provisioned_inits >= 1  # the plan's provisioned floor, before traffic
    assert set(run.function.by_source) == {"http", "dynamodb stream"}, run.function.by_source
    assert run.service_figures["decisions"] == run.service_figures["good"] > 0
    assert "HTTP decisions over" in text and "fraud among them" in text


def test_fraud_detection_payload_format_1(tmp_path: Path) -> None:
    """The HTTP API's payload 1.0 on request: same answers."""
    run, printed = _run(
        "fraud-detection",
        tmp_path,
        duration_s=2.0,
        service=ServiceOptions(payload_version="1.0"),
    )
    assert run.ok, "\n".join(printed)
    assert run.service_figures["http"].get("200", 0) > 0


def test_iot_anomaly_kinesis(tmp_path: Path) -> None:
    run, printed = _run("iot-anomaly", tmp_path, rate_per_s=4.0)
    assert run.ok, "\n".join(printed)
    _assert_lifecycle(run)
    assert run.service_figures["anomalies"] > 0 and run.service_figures["alerts"] > 0
    assert run.service_figures["failure_messages"] >= 1  # the poison records' ranges


def test_image_processing_s3_with_duplicates(tmp_path: Path) -> None:
    run, printed = _run("image-processing", tmp_path, service=ServiceOptions(duplicate_rate=0.5))
    assert run.ok, "\n".join(printed)
    _assert_lifecycle(run)
    figures = run.service_figures
    assert figures["rows"] == figures["uploads"] > 0
    assert figures["duplicates"] > 0  # delivered twice, written once
    assert figures["accuracy"] >= 0.9


def test_edge_personalization_cloudfront(tmp_path: Path) -> None:
    run, printed = _run("edge-personalization", tmp_path, rate_per_s=10.0)
    assert run.ok, "\n".join(printed)
    _assert_lifecycle(run)
    assert len(run.service_figures["variants"]) >= 2


def test_a_worker_killed_mid_batch_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment running a stream batch is killed while it runs: Lambda sees a function
    error, the mapping retries (bisecting) per the plan, every good record ends up decided
    exactly once and every poison record's range is on the failure queue."""
    killed: list[int] = []
    lock = threading.Lock()

    def kill_first_stream_batches(environment: Environment, source: str) -> None:
        with lock:
            if not source.endswith(" stream") or len(killed) >= 2:
                return
            killed.append(environment.number)
        pid = environment.pid
        threading.Timer(0.02, lambda: _kill(pid)).start()

    original = FraudService.open

    def open_with_hook(self: FraudService) -> list[str]:
        self.ctx.pool.before_invoke = kill_first_stream_batches
        return original(self)

    monkeypatch.setattr(FraudService, "open", open_with_hook)
    run, printed = _run("fraud-detection", tmp_path, rate_per_s=8.0, duration_s=4.0)
    text = "\n".join(printed)
    assert len(killed) == 2, text
    assert run.function.errors.get("Runtime.ExitError", 0) >= 1, run.function.errors
    assert run.ok, text  # includes: decisions == the good stream items, each once
    assert run.service_figures["decisions"] == run.service_figures["good"]
    assert run.service_figures["failure_messages"] >= 1


def _kill(pid: int | None) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_interrupt_tears_everything_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during the traffic: the exception reaches the caller and no worker process or
    server is left running."""
    started: list[int] = []
    real_start = Environment.start

    def start(self: Environment) -> Any:
        outcome = real_start(self)
        if self.pid is not None:
            started.append(self.pid)
        return outcome

    def interrupt(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Environment, "start", start)
    monkeypatch.setattr(runner, "send_on_schedule", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _run("fraud-detection", tmp_path)
    assert started  # the provisioned environment ran before the traffic
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_options_are_plain_data() -> None:
    options = RunOptions()
    assert dataclasses.replace(options, rate_per_s=2.0).pattern.rate_per_s == 2.0
    assert runner.warmer_period_s("rate(5 minutes)") == 300.0
    assert runner.warmer_period_s("rate(1 hour)") == 3600.0
    assert runner.warmer_period_s("cron(0 7 ? * MON-FRI *)") is None


def test_a_concurrency_plan_with_warmers(tmp_path: Path) -> None:
    """The planner's choice instead of the default: on demand with a warmer of 2 targets. The
    warmer's pings start both environments the function may have (``concurrency=2``) before
    any traffic, the image function answers them without inference, and every upload then
    finds a warm one."""
    plan = ConcurrencyPlan.on_demand(warmer=Warmer(rate_minutes=5, concurrency=2))
    run, printed = _run(
        "image-processing",
        tmp_path,
        concurrency_plan=plan,
        concurrency=2,
        rate_per_s=2.0,
        duration_s=3.0,
    )
    assert run.ok, "\n".join(printed)
    assert run.function.by_source["warmer"] == 2
    assert run.function.cold_starts == 2  # the warmer's; the uploads found them warm
    assert run.function.provisioned_inits == 0


def test_a_concurrency_plan_with_provisioned_environments(tmp_path: Path) -> None:
    plan = ConcurrencyPlan.static(2)
    run, printed = _run("iot-anomaly", tmp_path, concurrency_plan=plan, rate_per_s=2.0)
    assert run.ok, "\n".join(printed)
    assert run.function.provisioned_inits == 2


def test_another_endpoint_gets_its_resources_deleted(tmp_path: Path) -> None:
    """``--endpoint URL`` (here a second moto server standing in for LocalStack): the run
    creates the service's resources there and deletes them when it ends."""
    import boto3

    with moto_server() as url:
        run, printed = _run("edge-personalization", tmp_path, endpoint=url, rate_per_s=4.0)
        assert run.ok, "\n".join(printed)
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert s3.list_buckets()["Buckets"] == []

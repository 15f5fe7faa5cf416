"""``serverless-ml coldstarts`` against moto: log groups and streams holding real-format
platform lines ($LATEST and numbered versions, Text and JSON, provisioned, proactive, failed
INITs, SnapStart, Lambda Managed Instances), the figures checked exactly, aliases resolved
through moto's Lambda API, and the command end to end."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_ml.cli import main
from serverless_ml.coldstarts.lambda_api import describe_function
from serverless_ml.coldstarts.reader import parse_window, read_events
from serverless_ml.local.moto_server import moto_server

REGION = "us-east-1"
BASE_MS = (int(time.time()) - 2 * 3600) // 60 * 60 * 1000  # two hours ago, on a minute


def _report(
    rid: str, duration: float, billed: int, *extra: str, memory: int = 1024, used: int = 90
) -> str:
    fields = [
        f"REPORT RequestId: {rid}",
        f"Duration: {duration:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory} MB",
        f"Max Memory Used: {used} MB",
        *extra,
    ]
    return "\t".join(fields) + "\t\n"


INIT_START = "INIT_START Runtime Version: python:3.13.v16\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:8eeff65f"


def _json(kind: str, record: dict[str, Any]) -> str:
    return json.dumps({"time": "2026-12-04T10:00:00.000Z", "type": kind, "record": record})


def _metrics(duration: float, billed: int, **extra: float) -> dict[str, float]:
    return {
        "durationMs": duration,
        "billedDurationMs": billed,
        "memorySizeMB": 1024,
        "maxMemoryUsedMB": 100,
        **extra,
    }


TEXT_STREAMS: dict[str, Sequence[str]] = {
    "2026/12/04/[$LATEST]aaaa": (
        INIT_START,
        "START RequestId: r1 Version: $LATEST",
        "2026-12-04T10:00:00.100Z\tr1\tINFO\tscored 1 transaction",
        "END RequestId: r1",
        _report("r1", 10, 211, "Init Duration: 200.00 ms"),
        _report("r2", 2, 2),
        _report("r3", 3000, 3000, "Status: timeout"),
    ),
    "2026/12/04/[$LATEST]bbbb": (
        INIT_START,
        _report(
            "r4",
            20,
            321,
            "Init Duration: 300.00 ms",
            "Status: error",
            "Error Type: Runtime.ExitError",
        ),
    ),
    "2026/12/04/[2]cccc": (  # provisioned: INIT_REPORT logged, no request waited
        INIT_START,
        "INIT_REPORT Init Duration: 250.00 ms\tPhase: init\tStatus: success",
        _report("r5", 4, 4),
        _report("r6", 5, 5),
        _report(
            "r7",
            6,
            6,
            "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1",
            "SegmentId: 07f5xmpl2d1f6f85",
            "Sampled: true",
        ),
    ),
    "2026/12/04/[2]dddd": (INIT_START, _report("r8", 1, 1)),  # proactive INIT
    "2026/12/04/[1]eeee": (
        INIT_START,
        "INIT_REPORT Init Duration: 3000.00 ms\tPhase: init\tStatus: timeout",
        "INIT_REPORT Init Duration: 2800.00 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError",
        _report("r9", 3000, 3000, "Status: error", "Error Type: Runtime.ExitError"),
        "REPORT RequestId: r10\tDuration: soon ms",  # malformed
    ),
}
JSON_STREAMS: dict[str, Sequence[str]] = {
    "2026/12/04/[$LATEST]jjjj": (
        _json(
            "platform.initStart",
            {"initializationType": "on-demand", "phase": "init", "functionVersion": "$LATEST"},
        ),
        _json("platform.start", {"requestId": "j1", "version": "$LATEST"}),
        json.dumps(
            {
                "timestamp": "2026-12-04T10:00:00.100Z",
                "level": "INFO",
                "requestId": "j1",
                "message": "scored",
            }
        ),
        _json(
            "platform.report",
            {
                "requestId": "j1",
                "status": "success",
                "metrics": _metrics(12.0, 423, initDurationMs=410.5),
            },
        ),
        _json(
            "platform.report", {"requestId": "j2", "status": "success", "metrics": _metrics(1.5, 2)}
        ),
        _json(
            "platform.report",
            {
                "requestId": "j3",
                "status": "failure",
                "errorType": "ValueError",
                "metrics": _metrics(2.0, 2),
            },
        ),
    ),
    "2026/12/04/[3]kkkk": (
        _json(
            "platform.initStart", {"initializationType": "provisioned-concurrency", "phase": "init"}
        ),
        _json(
            "platform.initReport",
            {
                "initializationType": "provisioned-concurrency",
                "phase": "init",
                "status": "success",
                "metrics": {"durationMs": 350.25},
            },
        ),
        _json(
            "platform.report", {"requestId": "k1", "status": "success", "metrics": _metrics(3.0, 3)}
        ),
        _json(
            "platform.report",
            {
                "requestId": "k2",
                "status": "timeout",
                "errorType": "Sandbox.Timedout",
                "metrics": _metrics(10000.0, 10000),
            },
        ),
    ),
    "2026/12/04/[3]llll": (
        '{"time":"2026-12-04T10:00:00.000Z","type":"platform.report","record":{"requestId":',
        _json(
            "platform.logsDropped",
            {"droppedBytes": 4096, "droppedRecords": 7, "reason": "slow consumer"},
        ),
    ),
}
SNAP_STREAMS: dict[str, Sequence[str]] = {
    "2026/12/04/[5]snapshot": (
        INIT_START,
        "INIT_REPORT Init Duration: 900.00 ms\tPhase: init\tStatus: success",
    ),
    "2026/12/04/[5]restored1": (
        "RESTORE_START Runtime Version: python:3.13.v16\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:8eeff65f",
        "RESTORE_REPORT Restore Duration: 300.00 ms",
        _report(
            "s1",
            5,
            125,
            "Restore Duration: 300.00 ms",
            "Billed Restore Duration: 120 ms",
            memory=512,
        ),
        _report("s2", 1, 1, memory=512),
    ),
    "2026/12/04/[5]restored2": (
        "RESTORE_START Runtime Version: python:3.13.v16",
        "RESTORE_REPORT Restore Duration: 10000.00 ms\tStatus: timeout",
    ),
}
MI_STREAMS: dict[str, Sequence[str]] = {
    f"2026/12/04/[1]{env}": (
        _json("platform.initStart", {"initializationType": "on-demand", "phase": "init"}),
        _json("platform.initReport", {"initializationType": "on-demand", "phase": "init", "status": "success", "metrics": {"durationMs": ms}}),
        *(_json("platform.report", {"requestId": f"{env}{i}", "status": "success", "metrics": {"durationMs": 4.0 + i}}) for i in range(3)),
    )
    for env, ms in (("m1", 1500.0), ("m2", 1700.0))
}  # fmt: skip


def _put(logs: Any, group: str, streams: dict[str, Sequence[str]], *, minute_step: int = 0) -> None:
    logs.create_log_group(logGroupName=group)
    for n, (stream, messages) in enumerate(streams.items()):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        start = BASE_MS + n * minute_step * 60_000 + n * 50
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[
                {"timestamp": start + i * 100, "message": m} for i, m in enumerate(messages)
            ],
        )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def _function_with_aliases(name: str) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        ),
    )["Role"]["Arn"]  # fmt: skip
    lam = boto3.client("lambda", region_name=REGION)
    lam.create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="handler.handler", Code={"ZipFile": _zip()}, MemorySize=1024
    )  # fmt: skip
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name, ZipFile=_zip() + b"")
    v2 = lam.publish_version(FunctionName=name)["Version"]
    assert (v1, v2) == ("1", "2")
    lam.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}},
    )
    lam.create_alias(FunctionName=name, Name="old", FunctionVersion="1")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        logs = boto3.client("logs", region_name=REGION)
        _put(logs, "/aws/lambda/fraud-text", TEXT_STREAMS)
        _put(logs, "/aws/lambda/fraud-json", JSON_STREAMS)
        _put(logs, "/aws/lambda/snap", SNAP_STREAMS)
        _put(logs, "/aws/lambda/mi-fn", MI_STREAMS)
        logs.create_log_group(logGroupName="/aws/lambda/quiet")
        _function_with_aliases("fraud-text")
        yield


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["coldstarts", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _json_run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = _run(capsys, *argv, "--json")
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def _spread(
    count: int, p50: float | None, p90: float | None, p99: float | None, top: float | None
) -> dict[str, Any]:
    return {"count": count, "p50": p50, "p90": p90, "p99": p99, "max": top}


def test_text_group_per_version_and_alias(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    result = _json_run(capsys, "--function", "fraud-text")
    total, versions = result["total"], result["versions"]
    assert list(versions) == ["$LATEST", "1", "2"]
    assert (total["invocations"], total["cold_starts"], total["on_demand_cold_starts"]) == (9, 2, 2)
    assert total["cold_start_rate"] == round(2 / 9, 6)
    assert total["init_ms"] == _spread(2, 200.0, 300.0, 300.0, 300.0)
    assert (total["provisioned_inits"], total["proactive_inits"], total["init_failures"]) == (
        1,
        1,
        2,
    )
    assert total["provisioned_init_ms"] == _spread(1, 250.0, 250.0, 250.0, 250.0)
    assert total["environment_starts"] == 5 and total["environments"] == 5
    assert total["warm_ms"] == _spread(7, 5.0, 3000.0, 3000.0, 3000.0)  # 1 2 4 5 6 3000 3000
    assert total["cold_ms"] == _spread(2, 10.0, 20.0, 20.0, 20.0)
    assert total["cold_total_ms"] == _spread(2, 210.0, 320.0, 320.0, 320.0)
    assert total["billed_total_ms"] == 211 + 2 + 3000 + 321 + 4 + 5 + 6 + 1 + 3000
    assert total["memory_mb"] == [1024] and total["max_memory_used_mb"]["max"] == 90
    assert total["statuses"] == {"success": 6, "failure": 0, "error": 2, "timeout": 1}
    assert total["error_types"] == {"Runtime.ExitError": 2}
    latest, one, two = versions["$LATEST"], versions["1"], versions["2"]
    assert (latest["invocations"], latest["cold_starts"], latest["environments"]) == (4, 2, 2)
    assert (
        two["invocations"],
        two["cold_starts"],
        two["provisioned_inits"],
        two["proactive_inits"],
    ) == (4, 0, 1, 1)
    assert (one["invocations"], one["init_failures"], one["proactive_inits"]) == (1, 2, 0)
    assert result["lines"]["unparsed"] == 1 and result["lines"]["other"] == 3  # START, app log, END
    assert result["log_formats"] == {"Text": 17}
    live, old = result["aliases"]["live"], result["aliases"]["old"]
    assert live["weights"] == {"1": 0.25, "2": 0.75}
    assert (live["invocations"], live["cold_starts"], live["provisioned_inits"]) == (5, 0, 1)
    assert (old["invocations"], old["init_failures"]) == (1, 2)
    assert result["per_minute"]["invocations"] == [9]
    assert not result["managed_instances"] and not result["snapstart"]


def test_text_output_reads_like_a_table(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--function", "fraud-text")
    assert code == 0, err
    assert "Cold starts: fraud-text (log group /aws/lambda/fraud-text)" in out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.startswith("  ") and line.split()
    }
    assert rows["all"][:4] == ["all", "9", "2", "22.22%"]
    assert rows["@live"][:3] == ["@live", "5", "0"]
    assert "unparsed: REPORT RequestId: r10" in out
    assert "status: success 6, failure 0, error 2, timeout 1 (Runtime.ExitError x2)" in out


def test_json_group_with_provisioned_failures_and_dropped_logs(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _json_run(capsys, "--function", "fraud-json", "--log-format", "JSON")
    total = result["total"]
    assert (total["invocations"], total["cold_starts"], total["provisioned_inits"]) == (5, 1, 1)
    assert total["init_ms"] == _spread(1, 410.5, 410.5, 410.5, 410.5)
    assert total["provisioned_init_ms"] == _spread(1, 350.25, 350.25, 350.25, 350.25)
    assert total["statuses"] == {"success": 3, "failure": 1, "error": 0, "timeout": 1}
    assert total["error_types"] == {"ValueError": 1, "Sandbox.Timedout": 1}
    assert (
        result["versions"]["3"]["cold_starts"] == 0
        and result["versions"]["$LATEST"]["cold_starts"] == 1
    )
    assert result["lines"]["unparsed"] == 1 and result["lines"]["logs_dropped"] == 7
    assert result["lines"]["other"] == 2  # platform.start, the application's JSON log
    assert result["aliases"] is None and any("aliases not resolved" in n for n in result["notes"])
    assert any("dropped 7" in n for n in result["notes"])


def test_snapstart_restores_are_cold_starts(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    result = _json_run(capsys, "--function", "snap")
    five = result["versions"]["5"]
    assert result["snapstart"]
    assert (
        five["invocations"],
        five["cold_starts"],
        five["restores"],
        five["on_demand_cold_starts"],
    ) == (2, 1, 1, 0)
    assert five["restore_ms"] == _spread(1, 300.0, 300.0, 300.0, 300.0)
    assert (five["snapshot_inits"], five["provisioned_inits"], five["init_failures"]) == (1, 0, 0)
    assert five["restore_failures"] == 1
    assert five["memory_mb"] == [512]


def test_managed_instances_report_environment_starts(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--function", "mi-fn")
    assert code == 0, err
    assert (
        "no per-request cold starts: 2 environment starts (Lambda Managed Instances), 6 requests"
        in out
    )
    assert "memory: not in the reports" in out
    result = _json_run(capsys, "--function", "mi-fn")
    assert result["managed_instances"] and result["total"]["cold_starts"] == 0
    assert result["total"]["environment_init_ms"] == _spread(2, 1500.0, 1700.0, 1700.0, 1700.0)


def test_pagination_reads_every_page(aws: None) -> None:
    logs = boto3.client("logs", region_name=REGION)
    window = parse_window("24h", "now")
    one_page = read_events(
        logs, log_group="/aws/lambda/fraud-text", window=window, formats=("Text",)
    )
    small = read_events(
        logs,
        log_group="/aws/lambda/fraud-text",
        window=window,
        formats=("Text", "JSON"),
        page_size=2,
    )
    capped = read_events(
        logs,
        log_group="/aws/lambda/fraud-text",
        window=window,
        formats=("Text",),
        page_size=3,
        max_lines=5,
    )
    assert len(one_page.events) == len(small.events) == sum(len(m) for m in TEXT_STREAMS.values())
    assert [e.event_id for e in small.events] == [e.event_id for e in one_page.events]
    assert len(capped.events) == 5 and capped.truncated and not small.truncated


def test_aliases_through_the_lambda_api(aws: None) -> None:
    info = describe_function(boto3.client("lambda", region_name=REGION), "fraud-text")
    assert info.reachable and info.memory_mb == 1024
    assert info.aliases == {"live": {"1": 0.25, "2": 0.75}, "old": {"1": 1.0}}
    missing = describe_function(boto3.client("lambda", region_name=REGION), "nope")
    assert not missing.reachable and "ResourceNotFoundException" in missing.note


def test_coded_errors_never_a_traceback(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--function", "absent")
    assert code == 2 and "SML802" in err
    code, _, err = _run(capsys, "--function", "quiet")
    assert code == 2 and "SML804" in err
    code, _, err = _run(capsys, "--function", "fraud-text", "--since", "last tuesday")
    assert code == 2 and "SML801" in err
    code, _, err = _run(capsys, "--function", "fraud-text", "--since", "1h", "--until", "2h")
    assert code == 2 and "SML801" in err
    code, _, err = _run(capsys, "--function", " ")
    assert code == 2 and "SML807" in err
    code, _, err = _run(capsys, "--function", "fraud-text", "--compare-plan", "no-such-plan")
    assert code == 2 and "SML806" in err


def test_compare_bench_and_plan(
    aws: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"function": "fraud-detection", "init_ms_median": 125.0, "memory_mb": 1024, "architecture": "x86_64", "python_version": "3.13", "repeats": 10}))  # fmt: skip
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"mode": "static", "provisioned": 2}))
    result = _json_run(
        capsys,
        "--function",
        "fraud-text",
        "--compare-bench",
        str(bench),
        "--compare-plan",
        str(plan),
    )
    assert result["compare_bench"]["deployed_init_ms_p50"] == 200.0
    assert result["compare_bench"]["ratio"] == 1.6
    compared = result["compare_plan"]
    assert compared["observed"] == {"cold_starts": 2, "rate": round(2 / 9, 6)}
    assert compared["predicted"]["on_demand"]["cold_starts"] >= 1  # the first request of a deploy
    assert compared["predicted"]["plan"]["mode"] == "static"
    assert compared["predicted"]["plan"]["cold_starts"] == 0  # 2 warm environments, 9 requests
    assert compared["profile"]["init_ms"] == 200.0 and compared["profile"]["memory_mb"] == 1024
    code, out, err = _run(capsys, "--function", "fraud-text", "--compare-plan", "fraud-detection")
    assert code == 0, err
    assert "predicted scheduled" in out and "replayed on the window's dates" in out


def test_insights_queries_need_no_aws(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--function", "fraud-detection", "--insights", "--log-format", "JSON"
    )
    assert code == 0 and "# CloudWatch Logs Insights, log group /aws/lambda/fraud-detection" in out
    assert (
        'filter type = "platform.report"' in out
        and "REPORT" not in out.split("JSON format")[0][60:]
    )


def test_endpoint_reaches_a_moto_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto_server() as endpoint:
        logs = boto3.client("logs", region_name=REGION, endpoint_url=endpoint)
        _put(
            logs,
            "/aws/lambda/fraud-text",
            {"2026/12/04/[$LATEST]aaaa": TEXT_STREAMS["2026/12/04/[$LATEST]aaaa"]},
        )
        result = _json_run(
            capsys, "--function", "fraud-text", "--region", REGION, "--endpoint", endpoint
        )
    assert (result["total"]["invocations"], result["total"]["cold_starts"]) == (3, 1)
    assert datetime.fromisoformat(result["window"]["until"]).tzinfo == UTC

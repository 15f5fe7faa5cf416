"""A function's execution environments as real worker processes, managed the way Lambda
manages them: cold start then reuse, one request per environment at a time, the concurrency
bound (throttle or wait), provisioned environments, reaping, and every way an invoke fails
(timeout, process exit, INIT failure, handler exception); nothing outlives ``close``.

The task root is a tiny stdlib-only handler module written for the test; which environment
served a request shows in the ``os.getpid()`` the handler returns. No assertion depends on how
fast this machine is: concurrency is shown by handlers that meet or hold on files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from serverless_ml.core.plan import build_plan
from serverless_ml.local.environment import WorkerSpec
from serverless_ml.local.function_runtime import lambda_variables, runtime_version
from serverless_ml.local.invocation import (
    EXIT_ERROR,
    INIT_ERROR,
    THROTTLED_ERROR,
    TIMEOUT_ERROR,
    InvokeResult,
)
from serverless_ml.local.pool import FunctionPool, PoolSettings
from serverless_ml.local.records import Recorder
from serverless_ml.reference.scenarios import fraud_detection

WAIT_S = 30.0  # upper bound for a condition a test waits for; reached only when it is broken
FUNCTION = dataclasses.replace(
    build_plan(fraud_detection()).function,
    name="pool-test",
    handler="app.handler",
    memory_mb=512,
    log_format="Text",
)

APP = '''
"""A test function: one handler, what it does is the event's "action"."""
import os
import signal
import time
from pathlib import Path

print("app: module imported")  # INIT output: logged before the first START line


def _wait_for(path, timeout_s=20.0):
    deadline = time.time() + timeout_s
    while not Path(path).exists() and time.time() < deadline:
        time.sleep(0.005)


def handler(event, context):
    action = event.get("action", "echo")
    if "pid_file" in event:
        Path(event["pid_file"]).write_text(str(os.getpid()))
    if action == "echo":
        print(f"app: echo {event.get('value')}")
        return {
            "event": event,
            "pid": os.getpid(),
            "request_id": context.aws_request_id,
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "initialization_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
            "handler": os.environ.get("_HANDLER"),
            "region": os.environ.get("AWS_REGION"),
        }
    if action == "fail":
        print("app: about to fail")
        raise ValueError(event["message"])
    if action == "sleep":
        time.sleep(event["seconds"])
        return "woke up"
    if action == "exit":
        os._exit(event["code"])
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "hold":  # until the test releases it
        Path(event["started"]).write_text(str(os.getpid()))
        _wait_for(event["release"])
        return {"pid": os.getpid()}
    if action == "meet":  # returns once `n` invokes are running at the same time (or gives up)
        here = Path(event["dir"])
        (here / str(os.getpid())).write_text("")
        deadline = time.time() + 20.0
        while len(list(here.iterdir())) < event["n"] and time.time() < deadline:
            time.sleep(0.005)
        return {"pid": os.getpid(), "met": len(list(here.iterdir()))}
    raise KeyError(action)
'''

BROKEN = """
print("broken: importing")
raise RuntimeError("model file missing")
"""


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("task")
    (root / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    (root / "broken.py").write_text(textwrap.dedent(BROKEN), encoding="utf-8")
    return root


MakePool = Callable[..., FunctionPool]


@pytest.fixture
def make_pool(task_root: Path, tmp_path: Path) -> Iterator[MakePool]:
    """``make_pool(max_environments=..., ...)``: a started pool, closed after the test."""
    pools: list[FunctionPool] = []

    def make(
        *,
        max_environments: int = 2,
        provisioned: int = 0,
        keep_alive_s: float = 300.0,
        timeout_s: float = 10.0,
        handler: str = "app.handler",
        log_format: str = "Text",
    ) -> FunctionPool:
        function = dataclasses.replace(FUNCTION, handler=handler, log_format=log_format)
        spec = WorkerSpec(
            python=sys.executable,
            task_root=task_root,
            environment=lambda_variables(function, region="eu-west-1"),
            sdk_path=None,
            log_path=tmp_path / f"{function.name}-{len(pools)}.log",
            timeout_s=timeout_s,
        )
        pool = FunctionPool(
            function.name,
            spec,
            PoolSettings(
                max_environments=max_environments,
                provisioned=provisioned,
                keep_alive_s=keep_alive_s,
            ),
            Recorder(),
            memory_mb=function.memory_mb,
            log_format=function.log_format,
            runtime=runtime_version(function),
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


# --- helpers ---------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists (a zombie still does: it was never waited for)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for_file(path: Path) -> str:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)
    while not (text := path.read_text()):  # written, not yet flushed
        time.sleep(0.005)
    return text


def _log(pool: FunctionPool) -> list[str]:
    return pool.spec.log_path.read_text(encoding="utf-8").splitlines()


def _report(pool: FunctionPool, request_id: str) -> list[str]:
    """The fields of the request's REPORT line (exactly one)."""
    lines = [line for line in _log(pool) if line.startswith(f"REPORT RequestId: {request_id}\t")]
    assert len(lines) == 1, _log(pool)
    return lines[0].rstrip("\t").split("\t")


def _index(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def _in_thread(call: Callable[[], InvokeResult]) -> tuple[threading.Thread, list[InvokeResult]]:
    results: list[InvokeResult] = []
    thread = threading.Thread(target=lambda: results.append(call()), daemon=True)
    thread.start()
    return thread, results


# --- cold start and reuse ----------------------------------------------------------------------


def test_first_invoke_is_cold_second_reuses_the_environment(make_pool: MakePool) -> None:
    pool = make_pool()
    assert pool.start() == []
    assert pool.environments == 0  # nothing starts before traffic on demand

    first = pool.invoke({"action": "echo", "value": 1}, source="http")
    second = pool.invoke({"action": "echo", "value": 2}, source="http")

    assert first.ok and second.ok
    assert first.payload["event"] == {"action": "echo", "value": 1}
    assert second.payload["pid"] == first.payload["pid"]  # the same environment
    assert first.request_id != second.request_id
    assert first.payload["request_id"] == first.request_id  # context.aws_request_id
    assert pool.environments == 1 and pool.busy == 0

    inits, (cold, warm) = pool.recorder.snapshot()
    assert [(i.initialization_type, i.error) for i in inits] == [("on-demand", None)]
    assert cold.init_ms is not None and cold.init_ms > 0 and cold.init_ms == inits[0].init_ms
    assert warm.init_ms is None
    assert cold.environment == warm.environment == inits[0].environment
    assert (cold.source, cold.function, cold.memory_mb) == ("http", "pool-test", 512)
    assert cold.max_memory_used_mb > 0 and cold.duration_ms > 0

    cold_report = _report(pool, first.request_id)
    assert cold_report[0] == f"REPORT RequestId: {first.request_id}"
    assert [f.split(":")[0] for f in cold_report[1:]] == [
        "Duration",
        "Billed Duration",
        "Memory Size",
        "Max Memory Used",
        "Init Duration",
    ]
    assert cold_report[3] == "Memory Size: 512 MB"
    assert re.fullmatch(r"Init Duration: \d+\.\d\d ms", cold_report[5])
    assert not any(f.startswith("Init Duration") for f in _report(pool, second.request_id))


def test_the_handler_sees_lambdas_environment_and_context(make_pool: MakePool) -> None:
    payload = make_pool(timeout_s=10.0).invoke({"action": "echo"}, source="http").payload
    assert payload["function_name"] == "pool-test"
    assert payload["memory_limit_in_mb"] == "512"
    assert payload["handler"] == "app.handler"
    assert payload["region"] == "eu-west-1"
    assert payload["initialization_type"] == "on-demand"
    assert 0 < payload["remaining_ms"] <= 10_000


def test_log_lines_follow_lambdas_order(make_pool: MakePool) -> None:
    pool = make_pool()
    first = pool.invoke({"action": "echo", "value": "a"}, source="http")
    second = pool.invoke({"action": "echo", "value": "b"}, source="http")
    lines = _log(pool)
    order = [
        _index(lines, "INIT_START Runtime Version: python:"),
        _index(lines, "app: module imported"),  # INIT output, before the request starts
        _index(lines, f"START RequestId: {first.request_id} Version: $LATEST"),
        _index(lines, "app: echo a"),
        _index(lines, f"END RequestId: {first.request_id}"),
        _index(lines, f"REPORT RequestId: {first.request_id}"),
        _index(lines, f"START RequestId: {second.request_id}"),
        _index(lines, "app: echo b"),
        _index(lines, f"END RequestId: {second.request_id}"),
        _index(lines, f"REPORT RequestId: {second.request_id}"),
    ]
    assert order == sorted(order), lines
    assert sum(line.startswith("INIT_START") for line in lines) == 1
    assert not any(line.startswith("INIT_REPORT") for line in lines)  # Text, on demand, ok


def test_json_log_format(make_pool: MakePool) -> None:
    pool = make_pool(log_format="JSON")
    result = pool.invoke({"action": "echo"}, source="http")
    events = [json.loads(line) for line in _log(pool) if line.startswith("{")]
    assert [e["type"] for e in events] == [
        "platform.initStart",
        "platform.initReport",
        "platform.start",
        "platform.report",
    ]
    assert events[0]["record"]["functionName"] == "pool-test"
    assert events[1]["record"]["status"] == "success"
    report = events[3]["record"]
    assert report["requestId"] == result.request_id and report["status"] == "success"
    assert report["metrics"]["initDurationMs"] > 0
    assert report["metrics"]["memorySizeMB"] == 512


# --- concurrency ---------------------------------------------------------------------------------


def test_one_request_at_a_time_per_environment(make_pool: MakePool, tmp_path: Path) -> None:
    """Two requests in flight at once run in two environments; each handler waits until the
    other one is running too, so this only passes if they truly run side by side."""
    pool = make_pool(max_environments=2)
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    event = {"action": "meet", "dir": str(meeting), "n": 2}
    calls = [_in_thread(lambda: pool.invoke(event, source="http")) for _ in range(2)]
    for thread, _ in calls:
        thread.join(WAIT_S)
    results = [result for _, results in calls for result in results]
    assert len(results) == 2 and all(r.ok for r in results), results
    assert all(r.payload["met"] == 2 for r in results)
    pids = {r.payload["pid"] for r in results}
    assert len(pids) == 2
    assert pool.environments == 2
    _, invokes = pool.recorder.snapshot()
    assert all(r.cold for r in invokes) and len({r.environment for r in invokes}) == 2

    again = pool.invoke({"action": "echo"}, source="http")
    assert again.payload["pid"] in pids  # an idle one is reused, no third environment
    assert pool.environments == 2


def test_at_the_limit_a_caller_that_does_not_wait_is_throttled(
    make_pool: MakePool, tmp_path: Path
) -> None:
    pool = make_pool(max_environments=1)
    started, release = tmp_path / "started", tmp_path / "release"
    hold = {"action": "hold", "started": str(started), "release": str(release)}
    holder, held = _in_thread(lambda: pool.invoke(hold, source="http"))
    try:
        _wait_for_file(started)
        assert pool.busy == 1
        throttled = pool.invoke({"action": "echo"}, source="http", wait=False)
    finally:
        release.write_text("go")
        holder.join(WAIT_S)

    assert throttled.throttled and not throttled.ok and throttled.payload is None
    assert held and held[0].ok
    _, invokes = pool.recorder.snapshot()
    record = next(r for r in invokes if r.request_id == throttled.request_id)
    assert record.throttled and record.error_type == THROTTLED_ERROR == "TooManyRequestsException"
    assert record.environment is None and record.billed_ms == 0
    assert not any(throttled.request_id in line for line in _log(pool))  # nothing ran
    assert pool.environments == 1


def test_at_the_limit_an_event_source_waits_for_a_free_environment(
    make_pool: MakePool, tmp_path: Path
) -> None:
    pool = make_pool(max_environments=1)
    started, release = tmp_path / "started", tmp_path / "release"
    hold = {"action": "hold", "started": str(started), "release": str(release)}
    holder, held = _in_thread(lambda: pool.invoke(hold, source="stream:readings"))
    try:
        _wait_for_file(started)
        waiter, waited = _in_thread(
            lambda: pool.invoke({"action": "echo"}, source="stream:readings", wait=True)
        )
        waiter.join(0.5)
        assert waiter.is_alive() and not waited, "a waiting caller returned while all were busy"
    finally:
        release.write_text("go")
        holder.join(WAIT_S)
    waiter.join(WAIT_S)

    assert held[0].ok and waited[0].ok
    assert waited[0].payload["pid"] == held[0].payload["pid"]  # it got the freed environment
    _, invokes = pool.recorder.snapshot()
    assert not any(r.throttled for r in invokes)
    assert next(r for r in invokes if r.request_id == waited[0].request_id).init_ms is None
    assert pool.environments == 1


# --- provisioned and reaping ---------------------------------------------------------------------


def test_provisioned_environments_init_at_start_and_are_never_reaped(make_pool: MakePool) -> None:
    pool = make_pool(max_environments=2, provisioned=1, keep_alive_s=0.0)
    inits = pool.start()
    assert [(i.initialization_type, i.error) for i in inits] == [("provisioned-concurrency", None)]
    assert inits[0].init_ms > 0
    assert pool.environments == 1  # before any request
    lines = _log(pool)
    assert any(line.startswith("INIT_START Runtime Version:") for line in lines)
    init_report = next(line for line in lines if line.startswith("INIT_REPORT"))
    assert init_report.split("\t")[1:] == ["Phase: init", "Status: success"]

    first = pool.invoke({"action": "echo"}, source="http")
    assert first.ok and first.payload["initialization_type"] == "provisioned-concurrency"
    assert not any(f.startswith("Init Duration") for f in _report(pool, first.request_id))

    assert pool.reap(now=time.monotonic() + 1e6) == 0
    assert pool.environments == 1
    second = pool.invoke({"action": "echo"}, source="http")
    assert second.payload["pid"] == first.payload["pid"]
    recorded_inits, invokes = pool.recorder.snapshot()
    assert len(recorded_inits) == 1 and all(r.init_ms is None for r in invokes)


def test_reap_stops_idle_on_demand_environments(make_pool: MakePool) -> None:
    pool = make_pool(keep_alive_s=300.0)
    first = pool.invoke({"action": "echo"}, source="http")
    pid = first.payload["pid"]
    assert pool.reap() == 0  # idle for far less than the keep-alive
    assert pool.environments == 1 and _alive(pid)

    assert pool.reap(now=time.monotonic() + 1e6) == 1
    assert pool.environments == 0
    assert not _alive(pid)

    again = pool.invoke({"action": "echo"}, source="http")
    assert again.ok and again.payload["pid"] != pid
    _, invokes = pool.recorder.snapshot()
    assert next(r for r in invokes if r.request_id == again.request_id).cold  # cold again


# --- failures ------------------------------------------------------------------------------------


def test_timeout_discards_the_environment(make_pool: MakePool, tmp_path: Path) -> None:
    pool = make_pool(timeout_s=1.0)
    pid_file = tmp_path / "pid"
    result = pool.invoke(
        {"action": "sleep", "seconds": 60, "pid_file": str(pid_file)}, source="http"
    )

    assert result.error is not None and not result.ok
    assert result.error.error_type == TIMEOUT_ERROR == "Sandbox.Timedout"
    assert result.error.message == "Task timed out after 1.00 seconds"
    assert result.error.payload() == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
    }
    pid = int(_wait_for_file(pid_file))
    assert not _alive(pid)
    assert pool.environments == 0

    lines = _log(pool)
    timed_out = next(line for line in lines if "Task timed out after 1.00 seconds" in line)
    assert result.request_id in timed_out
    report = _report(pool, result.request_id)
    assert report[1] == "Duration: 1000.00 ms"
    assert report[-1] == "Status: timeout"

    after = pool.invoke({"action": "echo"}, source="http")
    assert after.ok and after.payload["pid"] != pid
    _, invokes = pool.recorder.snapshot()
    assert next(r for r in invokes if r.request_id == after.request_id).cold


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"action": "exit", "code": 3}, "Runtime exited with error: exit status 3"),
        ({"action": "kill"}, "Runtime exited with error: signal: killed"),
    ],
)
def test_process_exit_is_a_runtime_exit_error(
    make_pool: MakePool, tmp_path: Path, event: dict[str, Any], message: str
) -> None:
    pool = make_pool()
    pid_file = tmp_path / "pid"
    result = pool.invoke({**event, "pid_file": str(pid_file)}, source="http")

    assert result.error is not None
    assert result.error.error_type == EXIT_ERROR == "Runtime.ExitError"
    assert result.error.message == message
    assert not _alive(int(_wait_for_file(pid_file)))
    assert pool.environments == 0
    assert _report(pool, result.request_id)[-2:] == [
        "Status: error",
        "Error Type: Runtime.ExitError",
    ]

    after = pool.invoke({"action": "echo"}, source="http")
    assert after.ok
    _, invokes = pool.recorder.snapshot()
    assert next(r for r in invokes if r.request_id == after.request_id).cold


def test_init_failure_is_an_error_result_and_leaves_no_environment(make_pool: MakePool) -> None:
    pool = make_pool(max_environments=1, handler="broken.handler")
    result = pool.invoke({"action": "echo"}, source="http", wait=False)

    assert not result.ok and not result.throttled and result.error is not None
    assert result.error.error_type == INIT_ERROR == "Runtime.ImportModuleError"
    assert "RuntimeError: model file missing" in result.error.message
    assert pool.environments == 0

    inits, invokes = pool.recorder.snapshot()
    assert len(inits) == 1 and inits[0].error is not None
    assert "model file missing" in inits[0].error
    assert invokes[0].error_type == INIT_ERROR and invokes[0].cold

    lines = _log(pool)
    order = [
        _index(lines, "INIT_START"),
        _index(lines, "broken: importing"),
        _index(lines, "[ERROR] RuntimeError: model file missing"),
        _index(lines, "Traceback (most recent call last)"),
        _index(lines, "INIT_REPORT"),
    ]
    assert order == sorted(order), lines
    init_report = next(line for line in lines if line.startswith("INIT_REPORT"))
    assert init_report.split("\t")[1:] == [
        "Phase: init",
        "Status: error",
        "Error Type: Runtime.ImportModuleError",
    ]

    # the failed start gave its slot back: the next request tries again, it is not throttled
    retry = pool.invoke({"action": "echo"}, source="http", wait=False)
    assert not retry.throttled and retry.error is not None
    assert retry.error.error_type == INIT_ERROR
    assert len(pool.recorder.snapshot()[0]) == 2


def test_missing_handler_function_is_an_init_failure(make_pool: MakePool) -> None:
    result = make_pool(handler="app.no_such_handler").invoke({}, source="http")
    assert result.error is not None and result.error.error_type == INIT_ERROR
    assert "no_such_handler" in result.error.message


def test_handler_exception_is_reported_and_the_environment_lives_on(make_pool: MakePool) -> None:
    pool = make_pool()
    first = pool.invoke({"action": "echo"}, source="http")
    failed = pool.invoke({"action": "fail", "message": "bad amount: -3"}, source="http")

    assert failed.error is not None and not failed.ok
    assert failed.error.error_type == "ValueError"
    assert failed.error.message == "bad amount: -3"
    assert failed.error.payload() == {"errorType": "ValueError", "errorMessage": "bad amount: -3"}

    lines = _log(pool)
    start = _index(lines, f"START RequestId: {failed.request_id}")
    end = _index(lines, f"END RequestId: {failed.request_id}")
    inside = lines[start:end]
    assert inside.index("app: about to fail") < inside.index("[ERROR] ValueError: bad amount: -3")
    assert inside.index("[ERROR] ValueError: bad amount: -3") < inside.index(
        "Traceback (most recent call last):"
    )
    assert any('app.py", line' in line and "in handler" in line for line in inside)
    assert not any(f.startswith("Status") for f in _report(pool, failed.request_id))

    after = pool.invoke({"action": "echo"}, source="http")
    assert after.payload["pid"] == first.payload["pid"]  # same environment, still warm
    _, invokes = pool.recorder.snapshot()
    assert [r.error_type for r in invokes] == [None, "ValueError", None]
    assert [r.cold for r in invokes] == [True, False, False]


# --- close -----------------------------------------------------------------------------------------


def test_close_leaves_no_worker_process(make_pool: MakePool, tmp_path: Path) -> None:
    pool = make_pool(max_environments=3, provisioned=1)
    pool.start()
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    event = {"action": "meet", "dir": str(meeting), "n": 3}
    calls = [_in_thread(lambda: pool.invoke(event, source="http")) for _ in range(3)]
    for thread, _ in calls:
        thread.join(WAIT_S)
    pids = {result.payload["pid"] for _, results in calls for result in results}
    assert len(pids) == 3 and all(_alive(pid) for pid in pids)
    assert pool.environments == 3

    pool.close()

    assert pool.environments == 0
    assert not [pid for pid in pids if _alive(pid)]
    # a closed pool starts nothing new
    after = pool.invoke({"action": "echo"}, source="http")
    assert after.throttled and pool.environments == 0

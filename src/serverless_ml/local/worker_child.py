"""One Lambda execution environment: the program a local worker process runs.

Stdlib only: the parent (``local.environment``) passes this file's source to a fresh
``python -I -B`` that sees only the function's read-only bundle (and the runtime's boto3, after
it), like ``/var/task``. The process's stdout and stderr are the function's log; the runner talks
to it over two pipes named by ``$SML_WORKER_FDS`` ("<read fd>,<write fd>"), one JSON object per
line, like the Lambda Runtime API's next / response / error calls:

- INIT: import the handler's module, timed -> ``{"init_ms", "rss_kb"}`` or ``{"init_error"}``
  (the process then exits: Lambda discards an environment whose INIT failed);
- then per request ``{"id", "event", "deadline_ms"}`` -> ``{"id", "payload" | "error",
  "duration_ms", "rss_kb"}``. One request at a time; the parent enforces the timeout.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import resource
import sys
import time
import traceback
from typing import IO, Any

FDS_ENV = "SML_WORKER_FDS"
SDK_ENV = "SML_WORKER_SDK"
FUNCTION_ARN_ENV = "SML_WORKER_FUNCTION_ARN"  # the context's invoked_function_arn


class LambdaContext:
    """The attributes and method of the context object Lambda's Python runtime passes."""

    def __init__(self, request_id: str, deadline_ms: float) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = os.environ.get(FUNCTION_ARN_ENV, "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000.0))


def _rss_kb() -> int:
    """Peak resident memory of this process since it started. ``VmHWM`` belongs to the
    process's own memory map; ``ru_maxrss`` (the fallback off Linux) survives ``exec`` and so
    would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KB on Linux


def _error(error: BaseException) -> dict[str, Any]:
    """Lambda's error payload, and its ``[ERROR]`` log line with the traceback."""
    message = str(error)
    print(f"[ERROR] {type(error).__name__}: {message}", file=sys.stderr)
    traceback.print_exception(error, file=sys.stderr)
    return {"errorType": type(error).__name__, "errorMessage": message}


def _flush() -> None:
    """Write out what the function printed without ending the line."""
    sys.stdout.flush()
    sys.stderr.flush()


def _send(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(request["id"], float(request["deadline_ms"]))
    began = time.perf_counter_ns()
    try:
        payload = handler(request["event"], context)
    except Exception as error:  # the handler's own failure: reported, the environment lives on
        body: dict[str, Any] = {"error": _error(error)}
    else:
        try:
            json.dumps(payload)
            body = {"payload": payload}
        except (TypeError, ValueError) as error:  # not JSON: Lambda's marshalling error
            body = {"error": {"errorType": "Runtime.MarshalError", "errorMessage": str(error)}}
    duration_ms = (time.perf_counter_ns() - began) / 1e6
    _flush()
    return {"id": request["id"], **body, "duration_ms": duration_ms, "rss_kb": _rss_kb()}


def main() -> None:
    # Lambda's runtime writes each line as it comes; a block-buffered stdout would put what
    # the handler printed after the stderr lines (tracebacks) it wrote later
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    read_fd, write_fd = (int(fd) for fd in os.environ[FDS_ENV].split(","))
    requests = os.fdopen(read_fd, "r", encoding="utf-8")
    replies = os.fdopen(write_fd, "w", encoding="utf-8")
    if os.environ.get(SDK_ENV):
        sys.path.append(os.environ[SDK_ENV])  # after the bundle, like the runtime's boto3
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    began = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # INIT failed: report it, then end the environment
        init_error = _error(error)
        _flush()
        _send(replies, {"init_error": init_error})
        return
    init_ms = (time.perf_counter() - began) * 1000.0
    _flush()  # what INIT printed belongs before the first request's START line
    _send(replies, {"init_ms": init_ms, "rss_kb": _rss_kb()})
    for line in requests:
        _send(replies, _invoke(handler, json.loads(line)))


if __name__ == "__main__":
    main()

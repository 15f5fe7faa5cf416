"""One local execution environment: a worker process running ``worker_child`` on the function's
read-only bundle, started (INIT, timed by the child), invoked one request at a time with the
function's timeout, and killed when it times out, dies, is reaped or the run ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from serverless_ml.bench.isolated import isolated_command, isolated_environment
from serverless_ml.local import worker_child
from serverless_ml.local.invocation import EXIT_ERROR, INIT_ERROR, TIMEOUT_ERROR, FunctionError
from serverless_ml.local.processes import stop_process

# Lambda limits INIT to 10 s; a local machine that is busy building bundles or running moto can
# be slower without anything being wrong, so the local bound is looser and reported when passed.
LOCAL_INIT_TIMEOUT_S: Final = 120.0
LAMBDA_INIT_LIMIT_S: Final = 10.0
STOP_WAIT_S: Final = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSpec:
    """How to start an environment of one function."""

    python: str
    task_root: Path
    environment: dict[str, str]  # the function's variables plus Lambda's own
    sdk_path: Path | None  # the runtime's boto3, appended after the bundle
    log_path: Path  # the function's log: handler output and the platform lines
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Reply:
    """One invoke's outcome from the worker."""

    payload: Any
    error: FunctionError | None
    duration_ms: float
    max_memory_used_mb: int


def _exit_status(code: int | None) -> str:
    """How Lambda words a runtime's end (``exit status 1``, ``signal: killed``)."""
    if code is None:
        return "unknown exit status"
    if code < 0:
        name = signal.strsignal(-code) or signal.Signals(-code).name
        return f"signal: {name.lower()}"
    return f"exit status {code}"


def _code() -> str:
    source = Path(worker_child.__file__).read_text(encoding="utf-8")
    # Compiled as its own module, so its `from __future__` import stays first.
    return (
        f"exec(compile({source!r}, {worker_child.__name__!r}, 'exec'), {{'__name__': '__main__'}})"
    )


class Environment:
    """A worker process; ``start`` runs INIT, ``invoke`` one request, ``stop`` ends it."""

    def __init__(self, spec: WorkerSpec, number: int, *, initialization_type: str) -> None:
        self.spec = spec
        self.number = number
        self.initialization_type = initialization_type
        self.init_ms = 0.0
        self.max_memory_used_mb = 0
        self.last_used = time.monotonic()
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: IO[str] | None = None
        self._replies: IO[str] | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs (its process group's too)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> FunctionError | None:
        """Start the process and wait for INIT; the error when INIT failed (process gone)."""
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(self.spec.environment)
        env[worker_child.FDS_ENV] = f"{to_child_r},{from_child_w}"
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = self.initialization_type
        if self.spec.sdk_path is not None:
            env[worker_child.SDK_ENV] = str(self.spec.sdk_path)
        with open(self.spec.log_path, "ab") as log:
            self._process = subprocess.Popen(
                isolated_command(self.spec.python, self.spec.task_root, _code()),
                env=isolated_environment(self.spec.task_root, env),
                cwd=self.spec.task_root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(to_child_r, from_child_w),
                start_new_session=True,  # Ctrl-C reaches the runner only, which stops us in order
            )
        os.close(to_child_r)
        os.close(from_child_w)
        self._requests = os.fdopen(to_child_w, "w", encoding="utf-8")
        self._replies = os.fdopen(from_child_r, "r", encoding="utf-8")
        began = time.monotonic()
        message, _ = self._read(LOCAL_INIT_TIMEOUT_S)
        if message is None:
            self.stop()
            self.init_ms = (time.monotonic() - began) * 1000.0
            return FunctionError(INIT_ERROR, "the environment exited or hung during INIT")
        if "init_error" in message:
            self.stop()
            error = message["init_error"]
            return FunctionError(INIT_ERROR, f"{error['errorType']}: {error['errorMessage']}")
        self.init_ms = float(message["init_ms"])
        self.max_memory_used_mb = int(message["rss_kb"]) // 1024
        self.last_used = time.monotonic()
        return None

    def _read(self, timeout_s: float) -> tuple[dict[str, Any] | None, bool]:
        """``(the worker's next message, False)``; ``(None, True)`` when it said nothing in
        time, ``(None, False)`` when its end of the pipe closed (it exited). The pipe closes a
        moment before the process can be waited for, so only this tells a crash from a hang."""
        assert self._replies is not None
        ready, _, _ = select.select([self._replies], [], [], timeout_s)
        if not ready:
            return None, True
        line = self._replies.readline()
        if not line:
            return None, False
        message: dict[str, Any] = json.loads(line)
        return message, False

    def invoke(self, request_id: str, event: dict[str, Any]) -> Reply:
        """Send one request and wait for the answer, at most the function's timeout."""
        assert self._requests is not None
        began = time.monotonic()
        deadline_ms = (time.time() + self.spec.timeout_s) * 1000.0
        request = {"id": request_id, "event": event, "deadline_ms": deadline_ms}
        try:
            self._requests.write(json.dumps(request) + "\n")
            self._requests.flush()
        except (BrokenPipeError, OSError):
            return self._died(began)
        message, timed_out = self._read(self.spec.timeout_s)
        self.last_used = time.monotonic()
        if message is None:
            if timed_out:  # still running after the timeout: Lambda stops the environment
                self.stop()
                return Reply(
                    None,
                    FunctionError(
                        TIMEOUT_ERROR, f"Task timed out after {self.spec.timeout_s:.2f} seconds"
                    ),
                    self.spec.timeout_s * 1000.0,
                    self.max_memory_used_mb,
                )
            return self._died(began)
        self.max_memory_used_mb = max(self.max_memory_used_mb, int(message["rss_kb"]) // 1024)
        error = message.get("error")
        return Reply(
            message.get("payload"),
            FunctionError(error["errorType"], error["errorMessage"]) if error else None,
            float(message["duration_ms"]),
            self.max_memory_used_mb,
        )

    def _died(self, began: float) -> Reply:
        code: int | None = None
        if self._process is not None:
            try:  # its pipe is closed: the process is exiting, wait for its status
                code = self._process.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                code = None
        self.stop()
        return Reply(
            None,
            FunctionError(EXIT_ERROR, f"Runtime exited with error: {_exit_status(code)}"),
            (time.monotonic() - began) * 1000.0,
            self.max_memory_used_mb,
        )

    def kill(self) -> None:
        """SIGKILL the process now (what a crash looks like); the next invoke sees it dead."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL) and close the pipes; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, STOP_WAIT_S)
        for channel in (self._requests, self._replies):
            if channel is not None:
                with contextlib.suppress(OSError):
                    channel.close()
        self._requests = self._replies = None

"""A function's execution environments, managed the way Lambda manages them.

- one request at a time per environment; an idle one is reused (the most recently used first);
- none idle: a new on-demand environment starts for the request (a cold start: its INIT is
  timed, billed and reported in the request's REPORT line), up to ``max_environments``;
- at the limit: a synchronous caller is throttled (``TooManyRequestsException``), an event
  source waits for an environment, as Lambda's pollers and async queue do;
- ``provisioned`` environments run INIT when the pool starts, before any traffic, and are never
  reaped; their requests carry no Init Duration;
- an on-demand environment idle for ``keep_alive_s`` is stopped (the next request is cold again);
- an environment whose invoke timed out or whose process died is discarded.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from serverless_ml.local import report_lines
from serverless_ml.local.environment import Environment, WorkerSpec
from serverless_ml.local.invocation import InvokeResult
from serverless_ml.local.records import ON_DEMAND, PROVISIONED, InitRecord, InvokeRecord, Recorder

REAP_EVERY_S: Final = 0.5
WAIT_STEP_S: Final = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSettings:
    max_environments: int
    provisioned: int = 0
    keep_alive_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_environments < 1:
            raise ValueError("max_environments must be >= 1")
        if not 0 <= self.provisioned <= self.max_environments:
            raise ValueError("provisioned must be between 0 and max_environments")


class FunctionPool:
    """The environments of one function (module docstring); thread-safe."""

    def __init__(
        self,
        name: str,
        spec: WorkerSpec,
        settings: PoolSettings,
        recorder: Recorder,
        *,
        memory_mb: int,
        log_format: str,
        runtime: str,
        origin: float | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.settings = settings
        self.recorder = recorder
        self.memory_mb = memory_mb
        self.log_format = log_format
        self.runtime = runtime
        self.origin = time.monotonic() if origin is None else origin
        self._cond = threading.Condition()
        self._idle: list[Environment] = []
        self._all: list[Environment] = []
        self._starting = 0
        self._numbers = 0
        self._log_lock = threading.Lock()
        self._closed = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name=f"reap-{name}", daemon=True)
        self.before_invoke: Callable[[Environment, str], None] | None = None  # test hook

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> list[InitRecord]:
        """INIT the provisioned environments (in parallel) and start the reaper."""
        count = self.settings.provisioned
        with self._cond:
            self._starting += count
        records: list[InitRecord] = []
        if count:
            with ThreadPoolExecutor(max_workers=count) as starter:
                records = list(starter.map(lambda _: self._start_provisioned(), range(count)))
        self._reaper.start()
        return records

    def _start_provisioned(self) -> InitRecord:
        environment, record, error = self._start_environment(PROVISIONED)
        with self._cond:
            self._starting -= 1
            if error is None:
                self._all.append(environment)
                self._idle.append(environment)
            self._cond.notify_all()
        return record

    def _start_environment(self, kind: str) -> tuple[Environment, InitRecord, Any]:
        with self._cond:
            self._numbers += 1
            number = self._numbers
        environment = Environment(self.spec, number, initialization_type=kind)
        starting = InitRecord(
            function=self.name,
            environment=number,
            at_s=self._now(),
            init_ms=0.0,
            initialization_type=kind,
        )
        # INIT_START precedes whatever the handler's module logs while it is imported
        self._log(
            report_lines.init_start_line(starting, runtime=self.runtime, log_format=self.log_format)
        )
        error = environment.start()
        record = dataclasses.replace(
            starting,
            init_ms=environment.init_ms,
            error=None if error is None else f"{error.error_type}: {error.message}",
        )
        self.recorder.init(record)
        if kind == PROVISIONED or self.log_format == "JSON" or error is not None:
            self._log(report_lines.init_report_line(record, log_format=self.log_format))
        return environment, record, error

    def close(self) -> None:
        """Stop every environment and the reaper; nothing keeps running."""
        self._closed.set()
        if self._reaper.is_alive():
            self._reaper.join(timeout=5.0)
        with self._cond:
            environments, self._all, self._idle = list(self._all), [], []
        for environment in environments:
            environment.stop()

    def _reap_loop(self) -> None:
        while not self._closed.wait(REAP_EVERY_S):
            self.reap()

    def reap(self, now: float | None = None) -> int:
        """Stop on-demand environments idle for longer than the keep-alive; how many."""
        now = time.monotonic() if now is None else now
        with self._cond:
            expired = [
                e
                for e in self._idle
                if e.initialization_type == ON_DEMAND
                and now - e.last_used >= self.settings.keep_alive_s
            ]
            for environment in expired:
                self._idle.remove(environment)
                self._all.remove(environment)
        for environment in expired:
            environment.stop()
        return len(expired)

    @property
    def environments(self) -> int:
        with self._cond:
            return len(self._all)

    @property
    def busy(self) -> int:
        with self._cond:
            return len(self._all) - len(self._idle)

    # --- invoke ----------------------------------------------------------------------------

    def invoke(self, event: dict[str, Any], *, source: str, wait: bool = True) -> InvokeResult:
        """Run one request (module docstring for which environment takes it)."""
        request_id = str(uuid.uuid4())
        acquired = self._acquire(wait)
        if acquired is None:
            self._record(request_id, source, None, 0.0, None, 0, "TooManyRequestsException", True)
            return InvokeResult(request_id, throttled=True)
        environment, cold = acquired
        init_ms: float | None = None
        if cold:
            environment, record, error = self._start_environment(ON_DEMAND)
            init_ms = record.init_ms
            if error is not None:
                with self._cond:
                    self._starting -= 1
                    self._cond.notify_all()
                self._record(
                    request_id, source, environment.number, 0.0, init_ms, 0, error.error_type
                )
                return InvokeResult(request_id, error=error)
            with self._cond:
                self._starting -= 1
                self._all.append(environment)
        return self._run(environment, request_id, event, source, init_ms)

    def _acquire(self, wait: bool) -> tuple[Environment | None, bool] | None:
        """``(idle environment, False)``, ``(None, True)`` for a slot to start one in, or None
        when throttled."""
        with self._cond:
            while not self._closed.is_set():
                if self._idle:
                    return self._idle.pop(), False
                if len(self._all) + self._starting < self.settings.max_environments:
                    self._starting += 1
                    return None, True
                if not wait:
                    return None
                self._cond.wait(WAIT_STEP_S)
        return None

    def _run(
        self,
        environment: Environment | None,
        request_id: str,
        event: dict[str, Any],
        source: str,
        init_ms: float | None,
    ) -> InvokeResult:
        assert environment is not None
        self._log(report_lines.start_line(request_id, log_format=self.log_format))
        if self.before_invoke is not None:
            self.before_invoke(environment, source)
        reply = environment.invoke(request_id, event)
        end = report_lines.end_line(request_id, log_format=self.log_format)
        if end is not None:
            self._log(end)
        record = self._record(
            request_id,
            source,
            environment.number,
            reply.duration_ms,
            init_ms,
            reply.max_memory_used_mb,
            None if reply.error is None else reply.error.error_type,
        )
        if record.error_type == "Sandbox.Timedout":
            self._log(report_lines.timeout_line(request_id, self.spec.timeout_s))
        self._log(report_lines.report_line(record, log_format=self.log_format))
        with self._cond:
            if environment.alive:
                self._idle.append(environment)
            elif environment in self._all:
                self._all.remove(environment)
            self._cond.notify_all()
        return InvokeResult(request_id, payload=reply.payload, error=reply.error)

    def _record(
        self,
        request_id: str,
        source: str,
        environment: int | None,
        duration_ms: float,
        init_ms: float | None,
        max_memory_mb: int,
        error_type: str | None,
        throttled: bool = False,
    ) -> InvokeRecord:
        record = InvokeRecord(
            function=self.name,
            source=source,
            request_id=request_id,
            environment=environment,
            at_s=self._now() - duration_ms / 1000.0,
            duration_ms=duration_ms,
            init_ms=init_ms,
            memory_mb=self.memory_mb,
            max_memory_used_mb=max_memory_mb,
            error_type=error_type,
            throttled=throttled,
        )
        self.recorder.invoke(record)
        return record

    def _now(self) -> float:
        return time.monotonic() - self.origin

    def _log(self, line: str) -> None:
        with self._log_lock, open(self.spec.log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

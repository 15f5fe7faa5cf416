"""``serverless-ml local``: reference services end to end on this machine.

For each scenario: the AWS endpoint (moto's server on 127.0.0.1 unless another is given), the
service's resources created from its plan, its function built and run in Lambda-like
environments (``local.pool``), its event sources and fronts started (``local.services``),
traffic sent on a schedule, then everything drained until the function has nothing left to do,
the results read back and checked, and a summary and a latency plot written. Ctrl-C stops the
traffic and tears everything down: fronts, pollers, workers, the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from serverless_ml.local.aws_resources import (
    MOTO_ACCOUNT_ID,
    LocalResources,
    account_of,
    create_resources,
    delete_resources,
)
from serverless_ml.local.bundles import scratch_dir
from serverless_ml.local.function_runtime import capacity, runnable_function
from serverless_ml.local.latency_plot import plot_latency
from serverless_ml.local.moto_server import LocalRunError, moto_server
from serverless_ml.local.records import Recorder
from serverless_ml.local.run_summary import FunctionFigures, figure_lines, figures
from serverless_ml.local.services import LOCAL_SERVICES, local_service
from serverless_ml.local.services.base import LocalService, ServiceContext, ServiceOptions
from serverless_ml.local.traffic import Burst, Pattern, SendStats, send_on_schedule
from serverless_ml.local.worker_child import FUNCTION_ARN_ENV
from serverless_ml.spec import ConcurrencyPlan

REGION: Final = "us-east-1"  # the edge function's region, and moto's default
REAL_AWS: Final = "aws"  # --endpoint aws: the account the default credentials reach
MOTO_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
IDLE_CHECKS: Final = 3  # consecutive quiet checks before the run counts as drained
DRAIN_STEP_S: Final = 0.25
PROGRESS_EVERY_S: Final = 1.0
WARMER_INVOKE: Final = {"source": "warmer", "wait": True}  # EventBridge invokes async: queued
_RATE: Final = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours)\)$")

Echo = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What ``serverless-ml local`` was asked for."""

    rate_per_s: float = 5.0
    duration_s: float = 10.0
    burst: Burst | None = None
    concurrency: int | None = None  # environments per function (default: the local default)
    keep_alive_s: float = 60.0
    endpoint: str | None = None  # None: moto's server; "aws": real AWS; else a URL
    concurrency_plan: ConcurrencyPlan | None = None  # instead of the services' defaults
    out: Path = Path("local-runs")
    serve: bool = False  # keep the fronts up after the traffic until Ctrl-C
    progress: bool = True
    drain_timeout_s: float = 180.0
    service: ServiceOptions = field(default_factory=ServiceOptions)

    @property
    def pattern(self) -> Pattern:
        return Pattern(self.rate_per_s, self.duration_s, self.burst)


@dataclass
class ScenarioRun:
    """One scenario's outcome: what a person reads and what a test checks."""

    scenario: str
    unit: str
    sent: int
    send_failures: int
    elapsed_s: float
    drained: bool
    endpoints: list[str]
    lines: list[str]
    checks: list[tuple[bool, str]]
    function: FunctionFigures
    service_figures: dict[str, Any]
    written: str
    failures: str
    notes: list[str]
    plot: Path | None
    log_path: Path

    @property
    def ok(self) -> bool:
        return self.drained and self.send_failures == 0 and all(ok for ok, _ in self.checks)


def warmer_period_s(schedule: str) -> float | None:
    """``rate(5 minutes)`` -> 300.0; None for a cron schedule (fired once, at the start)."""
    match = _RATE.match(schedule)
    if match is None:
        return None
    return int(match[1]) * (60.0 if match[2].startswith("minute") else 3600.0)


def _ping(service: LocalService) -> None:
    """One firing of the warmer rule: its input to each of its targets at once."""
    warmer = service.warmer
    if warmer is None:
        return
    event = json.loads(warmer.input_json)
    pool = service.ctx.pool
    pings = [
        threading.Thread(target=pool.invoke, args=(dict(event),), kwargs=WARMER_INVOKE)
        for _ in warmer.target_ids
    ]
    for ping in pings:
        ping.start()
    for ping in pings:
        ping.join()


def _keep_warm(service: LocalService, stop: threading.Event) -> None:
    """The warmer rule after its first firing: once per period until the run stops."""
    period = warmer_period_s(service.warmer.schedule) if service.warmer else None
    while period is not None and not stop.wait(period):
        _ping(service)


def _aws_variables(resources: LocalResources) -> dict[str, str]:
    """What the functions' SDK clients need to reach the endpoint."""
    variables: dict[str, str] = {}
    if resources.endpoint is not None:
        variables["AWS_ENDPOINT_URL"] = resources.endpoint
    credentials = resources.session.get_credentials()
    if credentials is None:
        return {**variables, **MOTO_CREDENTIALS}
    frozen = credentials.get_frozen_credentials()
    variables.update(AWS_ACCESS_KEY_ID=frozen.access_key, AWS_SECRET_ACCESS_KEY=frozen.secret_key)
    if frozen.token:
        variables["AWS_SESSION_TOKEN"] = frozen.token
    return variables


def function_arn(resources: LocalResources, service: LocalService) -> str:
    qualifier = getattr(getattr(service, "plan", None), "alias", None)
    name = service.function.name
    suffix = qualifier.name if qualifier is not None else "1"  # an edge function's version
    return (
        f"arn:{resources.partition}:lambda:{resources.region}:{resources.account_id}:"
        f"function:{name}:{suffix}"
    )


class _Progress:
    """One line, rewritten in place on a terminal (a line per few seconds elsewhere)."""

    def __init__(self, scenario: str, service: LocalService, stats: SendStats, total: int) -> None:
        self.scenario, self.service, self.stats, self.total = scenario, service, stats, total
        self.stop = threading.Event()
        self.tty = sys.stderr.isatty()
        self.began = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def line(self, recorder: Recorder) -> str:
        _, invokes = recorder.snapshot()
        cold = sum(1 for r in invokes if r.cold)
        throttled = sum(1 for r in invokes if r.throttled)
        errors = sum(1 for r in invokes if r.error_type is not None and not r.throttled)
        pool = self.service.ctx.pool
        return (
            f"{self.scenario}: {time.monotonic() - self.began:5.1f} s  sent "
            f"{self.stats.sent}/{self.total}  invokes {len(invokes)} (cold {cold}, errors "
            f"{errors}, throttled {throttled})  environments {pool.busy} busy / "
            f"{pool.environments}"
        )

    def _run(self) -> None:
        recorder = self.service.ctx.pool.recorder
        every = PROGRESS_EVERY_S if self.tty else 5 * PROGRESS_EVERY_S
        while not self.stop.wait(every):
            text = self.line(recorder)
            sys.stderr.write(f"\r{text}\x1b[K" if self.tty else f"{text}\n")
            sys.stderr.flush()

    def __enter__(self) -> _Progress:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _drain(service: LocalService, timeout_s: float) -> bool:
    """Wait until nothing is on its way to the function and no environment is busy."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if service.idle() and service.ctx.pool.busy == 0 else 0
        if quiet >= IDLE_CHECKS:
            return True
        time.sleep(DRAIN_STEP_S)
    return False


def run_scenario(
    scenario: str,
    options: RunOptions,
    *,
    session: Any,
    endpoint: str | None,
    account_id: str,
    scratch: Path,
    echo: Echo,
) -> ScenarioRun:
    """Run one reference service against ``endpoint`` (module docstring)."""
    service = local_service(scenario, options.concurrency_plan)
    pattern = options.pattern
    recorder = Recorder()
    stop = threading.Event()
    resources = LocalResources(session, endpoint, account_id, REGION)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    arn = function_arn(resources, service)
    with contextlib.ExitStack() as exits:
        create_resources(resources, service.resources)
        if options.endpoint is not None:  # moto's resources end with its server
            exits.callback(_report_leftovers, resources, echo)
        environment = resources.resolve_environment(service.environment)
        bound = capacity(
            service.function,
            provisioned=service.provisioned,
            concurrency=options.concurrency,
            keep_alive_s=options.keep_alive_s,
        )
        runnable = runnable_function(
            service.function,
            variables=environment,
            aws={**_aws_variables(resources), FUNCTION_ARN_ENV: arn},
            capacity=bound,
            scratch=scratch,
            logs=out / "logs",
            recorder=recorder,
            region=REGION,
        )
        pool = runnable.pool
        exits.callback(pool.close)
        pool.start()
        context = ServiceContext(
            resources=resources,
            pool=pool,
            function_arn=arn,
            environment=environment,
            options=options.service,
        )
        endpoints = service.start(context)
        exits.callback(service.close)
        exits.callback(stop.set)
        _ping(service)  # a warmer has been running before the traffic arrives
        threading.Thread(target=_keep_warm, args=(service, stop), daemon=True).start()
        for line in endpoints:
            echo(f"  {line}")
        arrivals = pattern.arrivals()
        stats = SendStats()
        began = time.monotonic()
        try:
            with (
                _Progress(scenario, service, stats, len(arrivals))
                if options.progress
                else (contextlib.nullcontext())
            ):
                send_on_schedule(
                    arrivals, service.send, workers=bound.max_environments, stop=stop, stats=stats
                )
                drained = _drain(service, options.drain_timeout_s)
        except KeyboardInterrupt:
            stop.set()
            raise
        elapsed = time.monotonic() - began
        if options.serve:
            echo("  serving; Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        results = service.results()
        inits, invokes = recorder.snapshot()
        function_figures = figures(
            service.function.name,
            inits,
            invokes,
            architecture=service.function.architecture,
            elapsed_s=elapsed,
            edge=service.edge,
        )
        plot = plot_latency(
            invokes,
            out / f"{scenario}-latency.png",
            title=f"{scenario}: {len(invokes)} invokes, {function_figures.cold_starts} cold starts",
        )
    notes = list(runnable.local.notes)
    notes.insert(0, f"interpreter {runnable.local.interpreter}")
    return ScenarioRun(
        scenario=scenario,
        unit=service.unit,
        sent=stats.sent,
        send_failures=stats.failed,
        elapsed_s=elapsed,
        drained=drained,
        endpoints=endpoints,
        lines=results.lines,
        checks=results.checks,
        function=function_figures,
        service_figures=results.figures,
        written=results.written,
        failures=results.failures,
        notes=notes,
        plot=plot,
        log_path=runnable.log_path,
    )


def _report_leftovers(resources: LocalResources, echo: Echo) -> None:
    for error in delete_resources(resources):
        echo(f"  could not delete {error}")


@contextlib.contextmanager
def aws_endpoint(endpoint: str | None, log_path: Path) -> Iterator[tuple[Any, str | None, str]]:
    """``(boto3 session, endpoint URL or None, account id)``: moto's server when ``endpoint``
    is None, the default AWS endpoints for ``"aws"``, else the given URL."""
    import boto3

    def local_session() -> Any:  # moto and LocalStack accept any credentials
        return boto3.session.Session(
            aws_access_key_id=MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )

    if endpoint is None:
        with moto_server(log_path=log_path) as moto_url:
            yield local_session(), moto_url, MOTO_ACCOUNT_ID
        return
    session = boto3.session.Session(region_name=REGION)
    url = None if endpoint == REAL_AWS else endpoint
    if session.get_credentials() is None:
        if url is None:
            raise LocalRunError(
                "--endpoint aws: no AWS credentials found (set AWS_PROFILE or the AWS_* "
                "variables, or run `aws configure`)"
            )
        session = local_session()
    yield session, url, account_of(session, url)


def run_local(
    scenarios: Sequence[str], options: RunOptions, *, echo: Echo = print
) -> list[ScenarioRun]:
    """Run ``scenarios`` one after another on one endpoint; print each one's summary."""
    unknown = [s for s in scenarios if s not in LOCAL_SERVICES]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}: choose from {', '.join(LOCAL_SERVICES)}")
    options.out.mkdir(parents=True, exist_ok=True)
    runs: list[ScenarioRun] = []
    with (
        aws_endpoint(options.endpoint, options.out / "moto-server.log") as (session, url, account),
        scratch_dir() as scratch,
    ):
        echo(f"AWS endpoint: {url or 'AWS (account ' + account + ')'}")
        for scenario in scenarios:
            echo(f"\n== {scenario} ==")
            run = run_scenario(
                scenario,
                options,
                session=session,
                endpoint=url,
                account_id=account,
                scratch=scratch,
                echo=echo,
            )
            for line in summary_lines(run, options):
                echo(line)
            runs.append(run)
    return runs


def summary_lines(run: ScenarioRun, options: RunOptions) -> list[str]:
    """What a person reads for one scenario."""
    pattern = options.pattern
    burst = (
        f", bursts of {pattern.burst.factor:g}x for {pattern.burst.length_s:g} s every "
        f"{pattern.burst.every_s:g} s"
        if pattern.burst
        else ""
    )
    lines = [
        f"  traffic: {run.sent} {run.unit} in {run.elapsed_s:.1f} s at {pattern.rate_per_s:g}/s"
        f"{burst}" + (f"; {run.send_failures} sends failed" if run.send_failures else ""),
        *(f"  {line}" for line in figure_lines(run.function)),
        *(f"  {line}" for line in run.lines),
    ]
    if not run.drained:
        lines.append(f"  NOT DRAINED within {options.drain_timeout_s:.0f} s: results are partial")
    lines += [f"  [{'ok' if ok else 'FAILED'}] {text}" for ok, text in run.checks]
    lines.append(f"  latency plot {run.plot}; function log {run.log_path}")
    lines += [f"  note: {note}" for note in run.notes]
    return lines


def with_service_options(options: RunOptions, **changes: Any) -> RunOptions:
    return dataclasses.replace(options, service=dataclasses.replace(options.service, **changes))

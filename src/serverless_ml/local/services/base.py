"""What every locally run reference service has in common: its plan parts, the context the
runner gives it, and the results it reports."""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from serverless_ml.core.plan_types import FunctionPlan, ResourcePlan, Value, WarmerPlan
from serverless_ml.local.aws_resources import LocalResources
from serverless_ml.local.invocation import InvokeResult
from serverless_ml.local.pool import FunctionPool


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceOptions:
    """What the user asked for: traffic shape knobs a service reads."""

    seed: int = 20240601
    duplicate_rate: float = 0.0  # S3: share of events delivered twice
    payload_version: str | None = None  # HTTP: "1.0" to send payload format 1.0
    async_delay_scale: float = 1 / 60  # async retries wait 1 s and 2 s instead of 1 and 2 min


@dataclass
class ServiceContext:
    """What the runner has set up for a service before it starts."""

    resources: LocalResources
    pool: FunctionPool
    function_arn: str
    environment: dict[str, str]  # the function's variables, resolved
    options: ServiceOptions


@dataclass
class ServiceResults:
    """What the service did, for people (``lines``) and for tests and the demo (``checks``)."""

    lines: list[str] = field(default_factory=list)
    checks: list[tuple[bool, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    written: str = "-"  # what the function wrote, in a few words (the demo's summary row)
    failures: str = "-"  # the bad input and where it went, in a few words

    def check(self, ok: bool, text: str) -> None:
        self.checks.append((ok, text))


class LocalService(ABC):
    """One reference service run locally (see ``services/__init__.py`` for the registry)."""

    scenario: str
    unit: str = "requests"  # what one traffic item is, for the summary
    edge: bool = False  # a Lambda@Edge function (its own prices)

    def __init__(
        self,
        function: FunctionPlan,
        resources: tuple[ResourcePlan, ...],
        *,
        provisioned: int = 0,
        warmer: WarmerPlan | None = None,
    ) -> None:
        self.function = function
        self.resources = resources
        self.provisioned = provisioned  # environments started before traffic
        self.warmer = warmer
        self.exits = contextlib.ExitStack()
        self.context: ServiceContext | None = None

    @property
    def environment(self) -> tuple[tuple[str, Value], ...]:
        return self.function.environment

    @property
    def ctx(self) -> ServiceContext:
        if self.context is None:
            raise RuntimeError(f"{self.scenario}: start() first")
        return self.context

    def invoker(self, source: str, *, wait: bool) -> Callable[[dict[str, Any]], InvokeResult]:
        pool = self.ctx.pool
        return lambda event: pool.invoke(event, source=source, wait=wait)

    def start(self, context: ServiceContext) -> list[str]:
        """Start the event sources and fronts; lines saying where they listen."""
        self.context = context
        return self.open()

    @abstractmethod
    def open(self) -> list[str]: ...

    @abstractmethod
    def send(self, index: int) -> None:
        """Produce traffic item ``index`` (an HTTP request, a put, an upload)."""

    def idle(self) -> bool:
        """Nothing produced is still on its way to the function."""
        return True

    def close(self) -> None:
        self.exits.close()

    @abstractmethod
    def results(self) -> ServiceResults: ...


def queue_url(resources: LocalResources, destination: Value | None) -> str:
    """The local URL of a planned SQS destination."""
    arn = resources.resolve(destination) if destination is not None else "(none)"
    url = next(
        (a["url"] for a in resources.attributes.values() if a.get("arn") == arn and "url" in a),
        None,
    )
    if url is None:
        raise RuntimeError(f"the on-failure destination {arn} is not a queue of this run")
    return url


def queue_sender(resources: LocalResources, destination: Value) -> Callable[[dict[str, Any]], None]:
    """Send on-failure records to the planned SQS destination (resolved to its local URL)."""
    url = queue_url(resources, destination)
    sqs = resources.client("sqs")
    return lambda message: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))


def queue_messages(resources: LocalResources, url: str) -> list[dict[str, Any]]:
    """Every message on a queue (received and deleted: the run owns it)."""
    sqs = resources.client("sqs")
    messages: list[dict[str, Any]] = []
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        batch = page.get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

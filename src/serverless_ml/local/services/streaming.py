"""Shared by the services fed by a stream: the poller started on the plan's mapping, its
on-failure destination, and what the failure queue holds at the end."""

from __future__ import annotations

from typing import Any

from serverless_ml.core.plan_types import ServicePlan, StreamMappingPlan
from serverless_ml.local import stream_esm
from serverless_ml.local.services.base import (
    LocalService,
    ServiceResults,
    queue_messages,
    queue_sender,
    queue_url,
)
from serverless_ml.local.stream_poller import StreamPoller


class StreamFedService(LocalService):
    """A ``LocalService`` whose plan has one stream mapping (DynamoDB or Kinesis)."""

    def __init__(self, plan: ServicePlan) -> None:
        super().__init__(
            plan.function, plan.resources, provisioned=plan.alias.provisioned, warmer=plan.warmer
        )
        self.plan = plan
        self.poller: StreamPoller | None = None

    @property
    def mapping(self) -> StreamMappingPlan:
        return self.plan.stream_mappings[0]

    def track(self, record: dict[str, Any]) -> str | None:
        """The name of a record whose stream position the results need (poison), else None."""
        return None

    def start_poller(self) -> StreamPoller:
        ctx = self.ctx
        poller = StreamPoller(
            self.mapping,
            ctx.resources,
            self.invoker(f"{self.mapping.source_kind} stream", wait=True),
            function_arn=ctx.function_arn,
            on_failure=queue_sender(ctx.resources, self.mapping.on_failure_destination),
            track=self.track,
        )
        poller.start()
        self.exits.callback(poller.close)
        self.poller = poller
        return poller

    def idle(self) -> bool:
        return self.poller is None or self.poller.idle()

    def failure_messages(self) -> list[dict[str, Any]]:
        url = queue_url(self.ctx.resources, self.mapping.on_failure_destination)
        return queue_messages(self.ctx.resources, url)

    def stream_lines(self, results: ServiceResults) -> list[dict[str, Any]]:
        messages = self.failure_messages()
        if self.poller is not None:
            results.lines.append(self.poller.describe())
        results.lines.append(f"failure queue: {len(messages)} on-failure record(s)")
        results.figures["failure_messages"] = len(messages)
        return messages


def unreported(positions: dict[str, tuple[str, str]], messages: list[dict[str, Any]]) -> list[str]:
    """The named records (``name -> (shard, sequence)``) no on-failure record's range holds."""
    return [
        name
        for name, (shard, sequence) in positions.items()
        if not any(stream_esm.names_record(m, shard, sequence) for m in messages)
    ]

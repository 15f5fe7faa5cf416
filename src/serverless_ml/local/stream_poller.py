"""Lambda's stream pollers, locally: one thread per shard of a DynamoDB or Kinesis stream reads
new records (iterator at LATEST, taken before any traffic), gathers a batch until
``batch_size`` records, the 6 MB invocation payload or the batching window, and hands it to
``stream_esm.run_shard`` (filters, partial batch response, bisect, retries, record age, the
on-failure destination) before reading on: one batch in flight per shard, in order, as with
ParallelizationFactor 1. Kinesis shards are polled once a second, DynamoDB stream shards four
times a second, as Lambda does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from serverless_ml.core.plan_types import StreamMappingPlan
from serverless_ml.local import stream_esm
from serverless_ml.local.aws_resources import LocalResources
from serverless_ml.local.invocation import Invoke

POLL_INTERVAL_S: Final = {"kinesis": 1.0, "dynamodb": 0.25}
MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024  # synchronous invocation payload limit
GET_RECORDS_LIMIT: Final = {"kinesis": 10_000, "dynamodb": 1000}


@dataclass
class PollerStats:
    records: int = 0
    batches: int = 0
    invocations: int = 0
    completed: int = 0
    filtered: int = 0
    on_failure: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class _Shard:
    """One shard's reader; ``caught_up`` once a poll found nothing new and nothing is pending."""

    def __init__(self, poller: StreamPoller, shard_id: str, iterator: str) -> None:
        self.poller = poller
        self.shard_id = shard_id
        self.iterator: str | None = iterator
        self.buffer: list[dict[str, Any]] = []
        self.buffer_bytes = 0
        self.first_buffered = 0.0
        self.caught_up = False
        self.thread = threading.Thread(target=self.run, name=f"poll-{shard_id}", daemon=True)

    def run(self) -> None:
        poller = self.poller
        interval = POLL_INTERVAL_S[poller.kind]
        while not poller.stopping.is_set():
            fetched = self.poll() if self.iterator else 0
            window_over = time.monotonic() - self.first_buffered >= poller.window_s
            if self.buffer and (len(self.buffer) >= poller.settings.batch_size or window_over):
                self.deliver(len(self.buffer) >= poller.settings.batch_size or window_over)
            self.caught_up = fetched == 0 and not self.buffer
            if fetched < poller.limit:
                poller.stopping.wait(interval)

    def poll(self) -> int:
        poller = self.poller
        page = poller.client.get_records(ShardIterator=self.iterator, Limit=poller.limit)
        self.iterator = page.get("NextShardIterator")
        records = [poller.as_lambda_record(r, self.shard_id) for r in page.get("Records", [])]
        if records:
            self.caught_up = False
        if poller.track is not None:
            for record in records:
                name = poller.track(record)
                if name is not None:
                    with poller.stats.lock:
                        poller.positions[name] = (self.shard_id, stream_esm.sequence_of(record))
        for record in records:
            if not self.buffer:
                self.first_buffered = time.monotonic()
            self.buffer.append(record)
            self.buffer_bytes += len(json.dumps(record))
        with poller.stats.lock:
            poller.stats.records += len(records)
        return len(records)

    def deliver(self, ready: bool) -> None:
        """Deliver full batches (and, when ``ready``, the rest) through the mapping's rules."""
        poller = self.poller
        while self.buffer and (ready or len(self.buffer) >= poller.settings.batch_size):
            batch = self._take()
            run = stream_esm.run_shard(
                batch,
                poller.invoke,
                poller.settings,
                on_failure=poller.on_failure,
                shard_id=self.shard_id,
                function_arn=poller.function_arn,
            )
            with poller.stats.lock:
                poller.stats.batches += 1
                poller.stats.invocations += len(run.invocations)
                poller.stats.completed += len(run.completed)
                poller.stats.filtered += run.filtered
                poller.stats.on_failure += len(run.on_failure)

    def _take(self) -> list[dict[str, Any]]:
        """The next batch: up to batch_size records within the payload limit."""
        size = 0
        count = 0
        for record in self.buffer[: self.poller.settings.batch_size]:
            record_bytes = len(json.dumps(record))
            if count and size + record_bytes > MAX_PAYLOAD_BYTES:
                break
            size += record_bytes
            count += 1
        batch, self.buffer = self.buffer[:count], self.buffer[count:]
        self.buffer_bytes -= size
        return batch


class StreamPoller:
    """The event source mapping ``mapping`` of the local function (module docstring)."""

    def __init__(
        self,
        mapping: StreamMappingPlan,
        resources: LocalResources,
        invoke: Invoke,
        *,
        function_arn: str,
        on_failure: Callable[[dict[str, Any]], None],
        track: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> None:
        self.mapping = mapping
        self.kind = mapping.source_kind
        self.settings = stream_esm.settings_from_plan(mapping)
        self.window_s = float(mapping.max_batching_window_s)
        self.limit = min(GET_RECORDS_LIMIT[self.kind], max(mapping.batch_size, 100))
        self.source_arn = resources.resolve(mapping.source_arn)
        self.region = resources.region
        self.invoke = invoke
        self.function_arn = function_arn
        self.on_failure = on_failure
        self.client = resources.client("kinesis" if self.kind == "kinesis" else "dynamodbstreams")
        self.stats = PollerStats()
        self.track = track  # names the records whose position is kept in ``positions``
        self.positions: dict[str, tuple[str, str]] = {}  # name -> (shard id, sequence number)
        self.stopping = threading.Event()
        self.shards: list[_Shard] = []

    def as_lambda_record(self, record: dict[str, Any], shard_id: str) -> dict[str, Any]:
        if self.kind == "kinesis":
            return stream_esm.lambda_record(
                record, stream_arn=self.source_arn, shard_id=shard_id, region=self.region
            )
        return stream_esm.dynamodb_lambda_record(record, stream_arn=self.source_arn)

    def _shards(self) -> list[tuple[str, str]]:
        """``(shard id, iterator at LATEST)`` for every open shard."""
        if self.kind == "kinesis":
            name = self.source_arn.rsplit("/", 1)[-1]
            shards = self.client.list_shards(StreamName=name)["Shards"]
            return [
                (
                    shard["ShardId"],
                    self.client.get_shard_iterator(
                        StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
                    )["ShardIterator"],
                )
                for shard in shards
            ]
        description = self.client.describe_stream(StreamArn=self.source_arn)["StreamDescription"]
        return [
            (
                shard["ShardId"],
                self.client.get_shard_iterator(
                    StreamArn=self.source_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
                )["ShardIterator"],
            )
            for shard in description["Shards"]
        ]

    def start(self) -> None:
        self.shards = [_Shard(self, shard_id, it) for shard_id, it in self._shards()]
        for shard in self.shards:
            shard.thread.start()

    def idle(self) -> bool:
        """Every shard read to its end with nothing waiting to be delivered."""
        return all(shard.caught_up for shard in self.shards)

    def close(self) -> None:
        self.stopping.set()
        for shard in self.shards:
            shard.thread.join(timeout=30.0)

    def describe(self) -> str:
        s = self.stats
        return (
            f"{self.kind} mapping {self.mapping.key}: {s.records} records in {s.batches} "
            f"batch(es), {s.invocations} invocation(s), {s.filtered} filtered out, "
            f"{s.on_failure} range(s) sent to the on-failure destination"
        )

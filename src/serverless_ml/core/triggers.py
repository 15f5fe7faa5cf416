"""Trigger settings: HTTP endpoint and stream event source mappings, checked against limits."""

from __future__ import annotations

import json

from serverless_ml.core import defaults, limits, naming
from serverless_ml.core.plan_types import (
    HttpPlan,
    KinesisStreamPlan,
    Ref,
    StreamMappingPlan,
    TablePlan,
    Value,
)
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import (
    DynamoStreamTrigger,
    HttpTrigger,
    KinesisTrigger,
    NewStream,
    NewTable,
    StreamBatching,
)


def table_plan(service: str, table: NewTable) -> TablePlan:
    """On-demand billing, point-in-time recovery, deletion protection: data outlives stacks."""
    return TablePlan(
        key=table.name_suffix,
        name=naming.table_name(service, table.name_suffix),
        partition_key=table.partition_key,
        partition_key_type="S",
        sort_key=table.sort_key,
        sort_key_type="S" if table.sort_key else None,
        stream_view_type="NEW_IMAGE" if table.stream else None,
        billing_mode="PAY_PER_REQUEST",
        point_in_time_recovery=True,
        deletion_protection=True,
        encrypted=True,
        retain_on_delete=True,
    )


def http_plan(service: str, trigger: HttpTrigger, log_retention_days: int) -> HttpPlan:
    method, _, path = trigger.route.partition(" ")
    api = trigger.kind == "http_api"
    return HttpPlan(
        kind=trigger.kind,
        name=naming.http_api_name(service),
        payload_format_version="2.0",
        stage_name="$default",
        method=method,
        path=path,
        auth=trigger.auth,
        cors_origins=trigger.cors_origins,
        throttle_rate_per_s=trigger.throttle_rate_per_s,
        throttle_burst=trigger.throttle_burst,
        access_log_group_name=naming.access_log_group_name(service) if api else None,
        access_log_format=defaults.ACCESS_LOG_FORMAT if api else None,
        access_log_retention_days=log_retention_days,
    )


def stream_mapping_plan(
    index: int, trigger: DynamoStreamTrigger, *, failure_queue: str, timeout_s: int
) -> StreamMappingPlan:
    """One DynamoDB stream event source mapping on the alias; limits checked here."""
    _check_stream_limits(trigger, timeout_s)
    key = trigger.new_table.name_suffix if trigger.new_table else f"stream{index}"
    source: Value
    if trigger.new_table is not None:
        source = Ref(f"table:{trigger.new_table.name_suffix}", "stream_arn")
    else:
        assert trigger.existing_stream_arn is not None
        source = trigger.existing_stream_arn
    patterns = [json.dumps({"eventName": list(trigger.event_names)}, sort_keys=True)]
    patterns += [json.dumps(p, sort_keys=True) for p in trigger.extra_filter_patterns]
    return _mapping_plan(
        trigger,
        key=key,
        kind="dynamodb",
        source=source,
        source_table=trigger.new_table.name_suffix if trigger.new_table else None,
        filter_patterns=tuple(patterns),
        failure_queue=failure_queue,
    )


def stream_plan(service: str, stream: NewStream) -> KinesisStreamPlan:
    """Encrypted with the AWS-managed ``aws/kinesis`` key: consumers in the account decrypt
    through Kinesis without extra KMS grants, and there is no key to pay for or rotate."""
    return KinesisStreamPlan(
        key=stream.name_suffix,
        name=naming.stream_name(service, stream.name_suffix),
        mode=stream.mode,
        shard_count=stream.shard_count,
        retention_hours=stream.retention_hours,
        encryption_key="alias/aws/kinesis",
    )


def kinesis_mapping_plan(
    trigger: KinesisTrigger, *, failure_queue: str, timeout_s: int
) -> StreamMappingPlan:
    """One Kinesis event source mapping on the alias; the same limits as DynamoDB streams."""
    _check_stream_limits(trigger, timeout_s)
    source: Value
    if trigger.new_stream is not None:
        key = trigger.new_stream.name_suffix
        source = Ref(f"stream:{key}", "arn")
    else:
        assert trigger.existing_stream_arn is not None
        key = trigger.existing_stream_arn.rsplit("/", 1)[-1]
        source = trigger.existing_stream_arn
    return _mapping_plan(
        trigger,
        key=key,
        kind="kinesis",
        source=source,
        source_table=None,
        filter_patterns=tuple(json.dumps(p, sort_keys=True) for p in trigger.filter_patterns),
        failure_queue=failure_queue,
    )


def _mapping_plan(
    trigger: StreamBatching,
    *,
    key: str,
    kind: str,
    source: Value,
    source_table: str | None,
    filter_patterns: tuple[str, ...],
    failure_queue: str,
) -> StreamMappingPlan:
    """The batching settings every stream trigger shares, with ReportBatchItemFailures on and
    failures to the trigger's own queue or the service's."""
    return StreamMappingPlan(
        key=key,
        source_kind=kind,
        source_arn=source,
        source_table=source_table,
        batch_size=trigger.batch_size,
        max_batching_window_s=trigger.max_batching_window_s,
        starting_position=trigger.starting_position,
        bisect_on_error=trigger.bisect_on_error,
        retry_attempts=trigger.retry_attempts,
        max_record_age_s=trigger.max_record_age_s,
        parallelization_factor=trigger.parallelization_factor,
        function_response_types=("ReportBatchItemFailures",),
        on_failure_destination=trigger.on_failure_queue_arn or Ref(f"queue:{failure_queue}", "arn"),
        filter_patterns=filter_patterns,
    )


def _check_stream_limits(trigger: StreamBatching, timeout_s: int) -> None:
    if not 1 <= trigger.batch_size <= limits.STREAM_BATCH_SIZE_MAX:
        raise SpecError(
            "SML201", f"batch_size={trigger.batch_size}: use 1..{limits.STREAM_BATCH_SIZE_MAX}"
        )
    if not 0 <= trigger.max_batching_window_s <= limits.STREAM_BATCHING_WINDOW_MAX_S:
        raise SpecError(
            "SML202",
            f"max_batching_window_s={trigger.max_batching_window_s}: use 0.."
            f"{limits.STREAM_BATCHING_WINDOW_MAX_S}",
        )
    low, high = limits.STREAM_RETRY_ATTEMPTS_RANGE
    if not 0 <= trigger.retry_attempts <= high:
        raise SpecError(
            "SML203",
            f"retry_attempts={trigger.retry_attempts}: use 0..{high}; unbounded retries ({low}) "
            "block the shard behind one poison record",
        )
    age_low, age_high = limits.STREAM_RECORD_AGE_MIN_S, limits.STREAM_RECORD_AGE_RANGE_S[1]
    if not age_low <= trigger.max_record_age_s <= age_high:
        raise SpecError(
            "SML204",
            f"max_record_age_s={trigger.max_record_age_s}: use {age_low}..{age_high}; an "
            "unbounded age (-1) lets a shard fall behind forever",
        )
    if not 1 <= trigger.parallelization_factor <= limits.STREAM_PARALLELIZATION_MAX:
        raise SpecError(
            "SML205",
            f"parallelization_factor={trigger.parallelization_factor}: use 1.."
            f"{limits.STREAM_PARALLELIZATION_MAX}",
        )
    if trigger.batch_size > 1000 and timeout_s < 30:
        raise SpecError(
            "SML206",
            f"batch_size={trigger.batch_size} with timeout_s={timeout_s}: a large batch needs "
            "time; raise timeout_s to >= 30 or lower batch_size",
        )

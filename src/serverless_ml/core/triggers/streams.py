"""What every stream trigger shares: the event source mapping's batching settings (checked
against Lambda's limits), and the Lambda iterator-age alarm and widget."""

from __future__ import annotations

from serverless_ml.core import limits
from serverless_ml.core.alarms import alarm, lambda_metric
from serverless_ml.core.fragments import PartContext
from serverless_ml.core.iam import sid
from serverless_ml.core.plan_types import (
    AlarmPlan,
    DashboardWidgetPlan,
    IamStatement,
    StreamMappingPlan,
    Value,
)
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import StreamBatching


def mapping_plan(
    trigger: StreamBatching,
    ctx: PartContext,
    *,
    key: str,
    kind: str,
    source: Value,
    filter_patterns: tuple[str, ...],
) -> StreamMappingPlan:
    """The batching settings every stream trigger shares, with ReportBatchItemFailures on and
    failures to the trigger's own queue or the service's."""
    check_stream_limits(trigger, ctx.timeout_s)
    return StreamMappingPlan(
        key=key,
        source_kind=kind,
        source_arn=source,
        batch_size=trigger.batch_size,
        max_batching_window_s=trigger.max_batching_window_s,
        starting_position=trigger.starting_position,
        bisect_on_error=trigger.bisect_on_error,
        retry_attempts=trigger.retry_attempts,
        max_record_age_s=trigger.max_record_age_s,
        parallelization_factor=trigger.parallelization_factor,
        function_response_types=("ReportBatchItemFailures",),
        on_failure_destination=trigger.on_failure_queue_arn or ctx.failure_queue_arn,
        filter_patterns=filter_patterns,
    )


def own_failure_queue(queue_arn: str | None, key: str) -> tuple[IamStatement, ...]:
    """A part's own on-failure queue: Lambda sends failed records / events to it with the
    function's role, so the role must be allowed to (the service's queue has SendFailures)."""
    if queue_arn is None:
        return ()
    return (
        IamStatement(
            sid=sid("SendFailures", key),
            actions=("sqs:SendMessage", "sqs:GetQueueAttributes"),
            resources=(queue_arn,),
            reason="failed records or events go to this trigger's own on-failure queue",
        ),
    )


def iterator_age_alarms(ctx: PartContext) -> tuple[AlarmPlan, ...]:
    """Lambda's IteratorAge on the alias: one alarm however many stream triggers."""
    t = ctx.alarms.iterator_age_ms
    if not t.enabled:
        return ()
    metric = lambda_metric(ctx.service, ctx.alias, "IteratorAge", "Maximum", t.period_s)
    return (
        alarm(
            ctx.service,
            "iterator_age",
            "Stream records waiting too long (Lambda IteratorAge)",
            t,
            metric,
        ),
    )


def iterator_age_widgets(ctx: PartContext) -> tuple[DashboardWidgetPlan, ...]:
    metric = lambda_metric(ctx.service, ctx.alias, "IteratorAge", "Maximum", 60)
    return (DashboardWidgetPlan(title="Stream iterator age (ms)", metrics=(metric,)),)


def check_stream_limits(trigger: StreamBatching, timeout_s: int) -> None:
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

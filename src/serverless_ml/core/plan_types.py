"""The frozen plan: every decision, ready for a renderer to translate one-to-one.

Renderers hold no numbers and no policy: each field here maps to one resource property.
Values unknown until deploy (ARNs of resources the stack creates) are ``Ref``s that each
renderer resolves to its own token (CDK) or Output (Pulumi).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Ref:
    """An attribute of a resource the stack creates, e.g. ``Ref("table:decisions", "arn")``.

    ``suffix`` is appended after resolution (``/stream/*``, ``:*``).
    """

    resource: str
    attribute: str
    suffix: str = ""


Value = str | Ref


@dataclass(frozen=True, kw_only=True)
class BundlePlan:
    function_package: str
    model_dir: Path
    requirements: tuple[str, ...]
    python_version: str
    architecture: str
    max_zipped_bytes: int
    max_unzipped_bytes: int


@dataclass(frozen=True, kw_only=True)
class FunctionPlan:
    name: str
    description: str
    handler: str
    runtime: str
    latest_runtime: str
    architecture: str
    memory_mb: int
    timeout_s: int
    ephemeral_storage_mb: int
    reserved_concurrency: int | None
    environment: tuple[tuple[str, Value], ...]
    tracing: bool
    snapstart: bool
    log_group_name: str
    log_retention_days: int
    log_format: str
    role_name: str
    bundle: BundlePlan

    def literal_environment(self) -> dict[str, str]:
        """The environment values known before deploy (local runs and benchmarks)."""
        return {key: value for key, value in self.environment if isinstance(value, str)}


@dataclass(frozen=True, kw_only=True)
class AliasPlan:
    name: str
    provisioned: int  # PC set on the alias itself (static, or the deploy-time floor)
    async_max_retries: int
    async_max_event_age_s: int
    async_on_failure_queue: str | None  # queue key


@dataclass(frozen=True, kw_only=True)
class ScheduledActionPlan:
    name: str
    schedule: str
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True, kw_only=True)
class ScalingPlan:
    """Application Auto Scaling of the alias' provisioned concurrency."""

    resource_id: str
    scalable_dimension: str
    service_namespace: str
    min_capacity: int
    max_capacity: int
    target_utilization: float | None
    metric_namespace: str
    metric_name: str
    metric_statistic: str
    metric_dimensions: tuple[tuple[str, str], ...]
    scale_in_cooldown_s: int
    scale_out_cooldown_s: int
    policy_name: str
    scheduled_actions: tuple[ScheduledActionPlan, ...]


@dataclass(frozen=True, kw_only=True)
class WarmerPlan:
    rule_name: str
    schedule: str
    input_json: str
    target_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TablePlan:
    key: str
    name: str
    partition_key: str
    partition_key_type: str  # DynamoDB scalar type: "S"
    sort_key: str | None
    sort_key_type: str | None
    stream_view_type: str | None
    billing_mode: str
    point_in_time_recovery: bool
    deletion_protection: bool
    encrypted: bool  # server-side encryption with the AWS-managed KMS key
    retain_on_delete: bool


@dataclass(frozen=True, kw_only=True)
class KinesisStreamPlan:
    key: str
    name: str
    mode: str  # ON_DEMAND | PROVISIONED
    shard_count: int | None
    retention_hours: int
    encryption_key: str  # KMS key alias used for server-side encryption


@dataclass(frozen=True, kw_only=True)
class TopicPlan:
    """An SNS topic the function publishes to (e.g. aggregated anomaly alerts)."""

    key: str
    name: str
    enforce_tls: bool
    kms_key: str  # SSE with the AWS-managed key: the function publishes, no grant needed


@dataclass(frozen=True, kw_only=True)
class QueuePlan:
    key: str
    name: str
    retention_s: int
    visibility_timeout_s: int
    sqs_managed_sse: bool
    enforce_tls: bool


@dataclass(frozen=True, kw_only=True)
class HttpPlan:
    kind: str  # http_api | function_url
    name: str
    payload_format_version: str
    stage_name: str
    method: str
    path: str
    auth: str  # iam | none
    cors_origins: tuple[str, ...]
    throttle_rate_per_s: int
    throttle_burst: int
    access_log_group_name: str | None
    access_log_format: str | None
    access_log_retention_days: int


@dataclass(frozen=True, kw_only=True)
class StreamMappingPlan:
    key: str
    source_kind: str  # dynamodb | kinesis
    source_arn: Value
    source_table: str | None  # table key when the stack creates the table
    batch_size: int
    max_batching_window_s: int
    starting_position: str
    bisect_on_error: bool
    retry_attempts: int
    max_record_age_s: int
    parallelization_factor: int
    function_response_types: tuple[str, ...]
    on_failure_destination: Value
    filter_patterns: tuple[str, ...]  # JSON strings, as Lambda takes them


@dataclass(frozen=True, kw_only=True)
class IamStatement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Value, ...]
    reason: str  # why the function needs it; also the cdk-nag acknowledgment for wildcards


@dataclass(frozen=True, kw_only=True)
class MetricPlan:
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period_s: int
    label: str = ""


@dataclass(frozen=True, kw_only=True)
class AlarmPlan:
    key: str
    name: str
    description: str
    threshold: float
    comparison: str  # GreaterThanOrEqualToThreshold | GreaterThanThreshold
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    metric: MetricPlan | None = None  # a single metric, or:
    expression: str | None = None  # metric math over ``expression_metrics``
    expression_metrics: tuple[tuple[str, MetricPlan], ...] = ()
    expression_period_s: int = 60


@dataclass(frozen=True, kw_only=True)
class DashboardWidgetPlan:
    title: str
    metrics: tuple[MetricPlan, ...]


@dataclass(frozen=True, kw_only=True)
class MonitoringPlan:
    alarms: tuple[AlarmPlan, ...]
    topic_name: str | None  # a new topic the stack creates
    topic_enforce_tls: bool  # deny publishes without TLS
    topic_allow_cloudwatch: bool  # CloudWatch alarms may publish (same account only)
    action_arns: tuple[str, ...]  # existing topic / user actions
    dashboard_name: str | None
    widgets: tuple[DashboardWidgetPlan, ...]


@dataclass(frozen=True, kw_only=True)
class ServicePlan:
    service: str
    function: FunctionPlan
    alias: AliasPlan
    scaling: ScalingPlan | None
    warmer: WarmerPlan | None
    tables: tuple[TablePlan, ...]
    streams: tuple[KinesisStreamPlan, ...]
    topics: tuple[TopicPlan, ...]
    queues: tuple[QueuePlan, ...]
    http: HttpPlan | None
    stream_mappings: tuple[StreamMappingPlan, ...]
    iam: tuple[IamStatement, ...]
    monitoring: MonitoringPlan
    tags: tuple[tuple[str, str], ...]
    extras: dict[str, Any] = field(default_factory=dict)

    def table(self, key: str) -> TablePlan:
        return next(t for t in self.tables if t.key == key)

    def queue(self, key: str) -> QueuePlan:
        return next(q for q in self.queues if q.key == key)

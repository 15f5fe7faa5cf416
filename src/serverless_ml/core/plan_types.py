"""The frozen plan: every decision, ready for a renderer to translate one-to-one.

Renderers hold no numbers and no policy: each field here maps to one resource property.
Values unknown until deploy (ARNs of resources the stack creates) are ``Ref``s, made from the
plan node they point at (``table.ref("arn")``), that each renderer resolves to its own token
(CDK) or Output (Pulumi); ``ACCOUNT_ID`` stands for the deploying account.

Plan nodes are either *resources* (created before the function: tables, streams, topics,
queues) or *bindings* (attached to the alias: HTTP endpoint, event source mappings). Each
renderer maps a node type to one render function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal


@dataclass(frozen=True)
class Ref:
    """An attribute of a resource the stack creates; make one with ``node.ref(attribute)``.

    ``resource`` is the node's id (``"table:decisions"``); ``suffix`` is appended after
    resolution (``/stream/*``, ``:*``).
    """

    resource: str
    attribute: str
    suffix: str = ""


@dataclass(frozen=True)
class Pseudo:
    """A deployment parameter known only at deploy time (account id, region, partition)."""

    name: Literal["account_id", "region", "partition"]


ACCOUNT_ID = Pseudo("account_id")
REGION = Pseudo("region")
PARTITION = Pseudo("partition")


@dataclass(frozen=True)
class Joined:
    """Literal text and pseudo parameters joined into one string at deploy time (a globally
    unique bucket name, and the ARN made from it without referring to the bucket)."""

    parts: tuple[str | Pseudo, ...]

    def __add__(self, suffix: str) -> Joined:
        return Joined((*self.parts, suffix))


Value = str | Ref | Pseudo | Joined


class Node:
    """A plan node with a ``key`` unique among its kind; its id is ``<kind>:<key>``."""

    kind: ClassVar[str]
    key: str

    @property
    def node_id(self) -> str:
        return f"{self.kind}:{self.key}"

    def ref(self, attribute: str, suffix: str = "") -> Ref:
        """A typed reference to one of this node's deploy-time attributes."""
        return type(self).reference(self.key, attribute, suffix)

    @classmethod
    def reference(cls, key: str, attribute: str, suffix: str = "") -> Ref:
        """The same, for a node still being built (its own resource policy names it)."""
        if attribute not in cls.attributes:
            raise ValueError(f"{cls.__name__} has no attribute {attribute!r}")
        return Ref(f"{cls.kind}:{key}", attribute, suffix)

    attributes: ClassVar[tuple[str, ...]] = ("arn",)


LOG_GROUP_ID = "log_group"


def log_group_ref(suffix: str = "") -> Ref:
    """The function's own log group (part of every function core)."""
    return Ref(LOG_GROUP_ID, "arn", suffix)


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who a resource-policy statement is about: ``*`` (anyone, rendered ``"*"``), ``AWS``
    (accounts / roles, ``"*"`` for any) or ``Service`` (AWS service principals)."""

    kind: Literal["*", "AWS", "Service"]
    values: tuple[Value, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PolicyStatementPlan:
    """One statement of a resource policy (queue, topic), rendered as-is by both backends.

    ``conditions``: ``(operator, key, value)``, e.g. ``("Bool", "aws:SecureTransport",
    "false")``.
    """

    sid: str | None
    effect: Literal["Allow", "Deny"]
    principal: Principal
    actions: tuple[str, ...]
    resources: tuple[Value, ...]
    conditions: tuple[tuple[str, str, Value], ...] = ()


@dataclass(frozen=True, kw_only=True)
class BundlePlan:
    function_package: str
    model_dir: Path
    requirements: tuple[str, ...]
    python_version: str
    architecture: str
    max_zipped_bytes: int
    max_unzipped_bytes: int
    baked_config: tuple[tuple[str, str], ...] = ()  # written into the bundle (edge: no env)
    # "compiled": model/ holds compiled_model.py (built from model_dir) instead of model.onnx
    model_runtime: str = "onnxruntime"


@dataclass(frozen=True, kw_only=True)
class FunctionPlan:
    """The function core every shape shares: function, role, log group, bundle."""

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
    trust_principals: tuple[str, ...]  # services that may assume the role
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
    async_on_failure: Value | None  # where failed async events go (the failure queue)


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
class TablePlan(Node):
    kind: ClassVar[str] = "table"
    attributes: ClassVar[tuple[str, ...]] = ("arn", "stream_arn")
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
class KinesisStreamPlan(Node):
    kind: ClassVar[str] = "stream"
    key: str
    name: str
    mode: str  # ON_DEMAND | PROVISIONED
    shard_count: int | None
    retention_hours: int
    encryption_key: str  # KMS key alias used for server-side encryption
    retain_on_delete: bool  # records outlive the stack, on both backends


@dataclass(frozen=True, kw_only=True)
class TopicPlan(Node):
    """An SNS topic the function publishes to (e.g. aggregated anomaly alerts)."""

    kind: ClassVar[str] = "topic"
    key: str
    name: str
    policy: tuple[PolicyStatementPlan, ...]  # the topic's resource policy
    kms_key: str  # SSE with the AWS-managed key: the function publishes, no grant needed


@dataclass(frozen=True, kw_only=True)
class QueuePlan(Node):
    kind: ClassVar[str] = "queue"
    key: str
    name: str
    retention_s: int
    visibility_timeout_s: int
    sqs_managed_sse: bool
    policy: tuple[PolicyStatementPlan, ...]  # the queue's resource policy
    retain_on_delete: bool  # failed records / events outlive the stack


@dataclass(frozen=True, kw_only=True)
class HttpPlan(Node):
    kind: ClassVar[str] = "http"
    key: str
    endpoint: str  # http_api | function_url
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
class StreamMappingPlan(Node):
    kind: ClassVar[str] = "mapping"
    key: str
    source_kind: str  # dynamodb | kinesis
    source_arn: Value
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
    dimensions: tuple[tuple[str, Value], ...]  # a Ref for a resource the stack creates
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
class KmsKeyPlan:
    """A customer-managed KMS key (the alarm topic's: CloudWatch may use it to publish)."""

    alias_name: str  # "alias/<service>-alarms"
    description: str
    policy: tuple[PolicyStatementPlan, ...]  # the key policy
    rotation: bool
    pending_window_days: int  # how long a deleted key can still be recovered


@dataclass(frozen=True, kw_only=True)
class SubscriptionPlan:
    """Someone or something the alarm topic notifies (email, HTTPS endpoint, SQS queue)."""

    key: str  # "<protocol>-<digest of the endpoint>": stable whatever the list order
    protocol: str
    endpoint: str


@dataclass(frozen=True, kw_only=True)
class MonitoringPlan:
    alarms: tuple[AlarmPlan, ...]
    topic_name: str | None  # a new topic the stack creates
    topic_policy: tuple[PolicyStatementPlan, ...]  # its resource policy (TLS, CloudWatch)
    topic_key: KmsKeyPlan | None  # the new topic's own key
    subscriptions: tuple[SubscriptionPlan, ...]  # who the new topic notifies
    action_arns: tuple[str, ...]  # existing topic / user actions
    dashboard_name: str | None
    widgets: tuple[DashboardWidgetPlan, ...]


@dataclass(frozen=True, kw_only=True)
class BucketPlan(Node):
    """An S3 bucket the stack creates. ``name`` and ``arn`` are ``Joined`` values known without
    referring to the bucket, so the function's role and the invoke permission can name it
    while the bucket's notification depends on that permission (no cycle)."""

    kind: ClassVar[str] = "bucket"
    attributes: ClassVar[tuple[str, ...]] = ("arn", "name")
    key: str
    name: Joined
    arn: Joined
    versioned: bool
    encryption: str  # AES256 (SSE-S3)
    block_public_access: bool
    policy: tuple[PolicyStatementPlan, ...]  # the bucket policy (TLS only)
    retain_on_delete: bool


@dataclass(frozen=True, kw_only=True)
class BucketNotificationPlan(Node):
    """The bucket's own notification configuration invoking the alias (S3 -> Lambda, no
    custom resource), and the invoke permission it depends on."""

    kind: ClassVar[str] = "notification"
    key: str
    bucket: Ref  # the bucket node (its ``name``)
    bucket_arn: Joined
    principal: str  # who invokes the alias (the permission's principal)
    source_account: Value  # the bucket's owner, so a same-named bucket elsewhere cannot
    events: tuple[str, ...]
    prefix: str
    suffix: str


@dataclass(frozen=True, kw_only=True)
class S3EventRulePlan(Node):
    """An EventBridge rule on the default bus matching an existing bucket's Object Created
    events under the trigger's filter, targeting the alias (invoked asynchronously, so the
    alias' async config retries and keeps failures), and its invoke permission."""

    kind: ClassVar[str] = "s3rule"
    key: str
    rule_name: str
    event_pattern: str  # JSON, as EventBridge takes it
    target_id: str
    principal: str


@dataclass(frozen=True, kw_only=True)
class CapacityProviderPlan(Node):
    """A Lambda Managed Instances capacity provider the stack creates in the user's subnets,
    and the operator role Lambda assumes to launch and manage its EC2 instances (trusted by
    ``operator_trust_principals``, holding ``operator_managed_policies``: AWS's documented
    minimum). ``scaling_policies``: (predefined metric, target) pairs, for ``Manual`` mode."""

    kind: ClassVar[str] = "capacity_provider"
    key: str
    name: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    architecture: str
    allowed_instance_types: tuple[str, ...]
    excluded_instance_types: tuple[str, ...]
    max_vcpu_count: int
    scaling_mode: str  # Auto | Manual
    scaling_policies: tuple[tuple[str, float], ...]
    operator_role_name: str
    operator_trust_principals: tuple[str, ...]
    operator_managed_policies: tuple[Joined, ...]  # ARNs of AWS managed policies


@dataclass(frozen=True, kw_only=True)
class ManagedInstancesPlan:
    """The function on Lambda Managed Instances: the function's capacity-provider config, and
    the execution environments its published version keeps (``min``) and may run (``max``;
    None: Lambda's defaults). ``publish_latest_published``: whether CloudFormation also
    publishes a ``$LATEST.PUBLISHED`` version (its environments would idle: triggers invoke the
    alias' numbered version)."""

    capacity_provider_arn: Value  # a Ref to the new provider, or the existing one's ARN
    capacity_provider_name: str | None  # for its metrics (None: an existing one behind a token)
    per_environment_max_concurrency: int | None  # None: Lambda's default
    memory_gib_per_vcpu: float
    min_environments: int | None
    max_environments: int | None
    publish_latest_published: bool


@dataclass(frozen=True, kw_only=True)
class Acknowledgment:
    """Why a security-gate finding is accepted, decided next to the part it concerns.

    ``subject`` is a plan node id (``"bucket:uploads"``), one of ``SUBJECTS``, or a part's key
    (an acknowledgment the user gave in the spec).
    """

    rule: str
    subject: str
    reason: str


# Gate subjects that are not plan nodes: the function core and the monitoring construct.
FUNCTION_ID = "function"
ROLE_POLICY_ID = "policy"
WARMER_ID = "warmer"
ALARM_TOPIC_ID = "alarm_topic"
ALARM_KEY_ID = "alarm_key"
SUBJECTS = (FUNCTION_ID, LOG_GROUP_ID, ROLE_POLICY_ID, WARMER_ID, ALARM_TOPIC_ID, ALARM_KEY_ID)


ResourcePlan = (
    TablePlan | KinesisStreamPlan | TopicPlan | QueuePlan | BucketPlan | CapacityProviderPlan
)
BindingPlan = HttpPlan | StreamMappingPlan | BucketNotificationPlan | S3EventRulePlan


@dataclass(frozen=True, kw_only=True)
class ServicePlan:
    """The alias-fronted inference service: function core + alias, capacity, parts."""

    service: str
    function: FunctionPlan
    alias: AliasPlan
    scaling: ScalingPlan | None
    warmer: WarmerPlan | None
    resources: tuple[ResourcePlan, ...]  # created before the function
    bindings: tuple[BindingPlan, ...]  # attached to the alias
    iam: tuple[IamStatement, ...]
    monitoring: MonitoringPlan
    tags: tuple[tuple[str, str], ...]
    acknowledgments: tuple[Acknowledgment, ...] = ()  # security-gate findings accepted
    extras: dict[str, Any] = field(default_factory=dict)
    managed_instances: ManagedInstancesPlan | None = None  # Lambda Managed Instances mode

    def _of(self, cls: type[Any]) -> tuple[Any, ...]:
        return tuple(n for n in (*self.resources, *self.bindings) if isinstance(n, cls))

    @property
    def tables(self) -> tuple[TablePlan, ...]:
        return self._of(TablePlan)

    @property
    def streams(self) -> tuple[KinesisStreamPlan, ...]:
        return self._of(KinesisStreamPlan)

    @property
    def topics(self) -> tuple[TopicPlan, ...]:
        return self._of(TopicPlan)

    @property
    def queues(self) -> tuple[QueuePlan, ...]:
        return self._of(QueuePlan)

    @property
    def http(self) -> HttpPlan | None:
        found: tuple[HttpPlan, ...] = self._of(HttpPlan)
        return found[0] if found else None

    @property
    def stream_mappings(self) -> tuple[StreamMappingPlan, ...]:
        return self._of(StreamMappingPlan)

    @property
    def buckets(self) -> tuple[BucketPlan, ...]:
        return self._of(BucketPlan)

    @property
    def notifications(self) -> tuple[BucketNotificationPlan, ...]:
        return self._of(BucketNotificationPlan)

    @property
    def s3_rules(self) -> tuple[S3EventRulePlan, ...]:
        return self._of(S3EventRulePlan)

    @property
    def capacity_providers(self) -> tuple[CapacityProviderPlan, ...]:
        return self._of(CapacityProviderPlan)

    def node(self, node_id: str) -> ResourcePlan | BindingPlan:
        """The node a ``Ref`` points at (``Ref.resource``)."""
        return next(n for n in (*self.resources, *self.bindings) if n.node_id == node_id)

    def table(self, key: str) -> TablePlan:
        return next(t for t in self.tables if t.key == key)

    def queue(self, key: str) -> QueuePlan:
        return next(q for q in self.queues if q.key == key)


@dataclass(frozen=True, kw_only=True)
class EdgeFunctionPlan:
    """The Lambda@Edge shape: the same function core with a numbered version (no alias),
    in us-east-1, no environment (config baked into the bundle), no failure queue, async
    config or provisioned concurrency; retained on delete (CloudFront deletes replicas hours
    later). Its renderers come with the edge use case."""

    service: str
    function: FunctionPlan
    region: str
    event_type: str  # viewer-request | viewer-response | origin-request | origin-response
    include_body: bool
    publish_version: bool
    retain_on_delete: bool
    iam: tuple[IamStatement, ...]
    tags: tuple[tuple[str, str], ...]


DISTRIBUTION_ID = "distribution:site"
EDGE_VERSION_ID = "edge_version"


@dataclass(frozen=True, kw_only=True)
class CachePolicyPlan:
    """What CloudFront keys its cache on, and for how long it keeps a response."""

    name: str
    comment: str
    default_ttl_s: int
    min_ttl_s: int
    max_ttl_s: int
    headers: tuple[str, ...]
    cookies: tuple[str, ...]
    query_strings: Literal["all", "none"]


@dataclass(frozen=True, kw_only=True)
class OriginRequestPolicyPlan:
    """What CloudFront passes to the origin (and to an origin-request function) beyond the
    cache key: the viewer headers it adds and the inputs left out of the key."""

    name: str
    comment: str
    headers: tuple[str, ...]
    cookies: tuple[str, ...]
    query_strings: Literal["all", "none"]


@dataclass(frozen=True, kw_only=True)
class OriginPlan:
    """Where CloudFront fetches from: the site bucket behind origin access control (``oac``
    set), or a custom origin over HTTPS."""

    origin_id: str
    domain_name: Value
    origin_path: str
    oac_name: str | None  # S3 origin with origin access control
    https_port: int = 443
    origin_ssl_protocols: tuple[str, ...] = ("TLSv1.2",)


@dataclass(frozen=True, kw_only=True)
class DistributionPlan(Node):
    """The CloudFront distribution: one default behavior, its edge function association."""

    kind: ClassVar[str] = "distribution"
    attributes: ClassVar[tuple[str, ...]] = ("arn", "id", "domain_name")
    key: str
    comment: str
    price_class: str
    http_version: str
    ipv6: bool
    default_root_object: str
    viewer_protocol_policy: str
    allowed_methods: tuple[str, ...]
    cached_methods: tuple[str, ...]
    compress: bool
    event_type: str
    include_body: bool
    origin: OriginPlan
    cache_policy: CachePolicyPlan
    origin_request_policy: OriginRequestPolicyPlan
    web_acl_arn: str | None
    certificate_arn: str | None
    aliases: tuple[str, ...]
    minimum_protocol_version: str


@dataclass(frozen=True, kw_only=True)
class EdgeServicePlan:
    """Edge personalization: the edge function (``EdgeFunctionPlan``), a distribution whose
    default behavior it personalizes, the site bucket when the origin is new, and alarms on
    the function (us-east-1) and on the distribution's 5xx rate."""

    service: str
    region: str
    edge: EdgeFunctionPlan
    bucket: BucketPlan | None
    distribution: DistributionPlan
    monitoring: MonitoringPlan
    acknowledgments: tuple[Acknowledgment, ...]
    tags: tuple[tuple[str, str], ...]

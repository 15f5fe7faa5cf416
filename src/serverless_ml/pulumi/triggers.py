"""Trigger components: HTTP endpoint, stream mappings and bucket notifications, all on the
alias."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import pulumi
import pulumi_aws as aws

from serverless_ml.core.plan_types import (
    BucketNotificationPlan,
    HttpPlan,
    S3EventRulePlan,
    StreamMappingPlan,
)
from serverless_ml.pulumi.function import InferenceFunction
from serverless_ml.pulumi.refs import RefResolver

_AUTH = {"iam": "AWS_IAM", "none": "NONE"}


@dataclass(frozen=True, kw_only=True)
class HttpEndpointArgs:
    plan: HttpPlan
    target: InferenceFunction
    tags: dict[str, str] = field(default_factory=dict)


class HttpEndpoint(pulumi.ComponentResource):
    """An HTTP API route (Lambda proxy, payload 2.0) or a Function URL, on the alias.

    Children (``<n>`` is this component's name). HTTP API: ``<n>-access-logs``, ``<n>-api``,
    ``<n>-integration``, ``<n>-route``, ``<n>-stage``, ``<n>-api-permission``. Function URL:
    ``<n>-url``, plus ``<n>-url-permission`` and ``<n>-url-invoke-permission`` when
    ``auth == "none"`` (public URLs need both ``lambda:InvokeFunctionUrl`` and, since October
    2025, ``lambda:InvokeFunction``).

    ``endpoint_url``: the API's base URL (ending in ``/``) or the Function URL.
    """

    TYPE: ClassVar[str] = "serverless-ml:triggers:HttpEndpoint"

    endpoint_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: HttpEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self._name = name
        if args.plan.endpoint == "function_url":
            self.endpoint_url = self._function_url(args)
        else:
            self.endpoint_url = self._http_api(args)
        self.register_outputs({"endpoint_url": self.endpoint_url})

    def _http_api(self, args: HttpEndpointArgs) -> pulumi.Output[str]:
        plan, target, n = args.plan, args.target, self._name
        child = pulumi.ResourceOptions(parent=self)
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{n}-access-logs",
            name=plan.access_log_group_name,
            retention_in_days=plan.access_log_retention_days,
            tags=args.tags,
            opts=child,
        )
        self.api = aws.apigatewayv2.Api(
            f"{n}-api",
            name=plan.name,
            protocol_type="HTTP",
            cors_configuration=aws.apigatewayv2.ApiCorsConfigurationArgs(
                allow_origins=list(plan.cors_origins), allow_methods=[plan.method]
            )
            if plan.cors_origins
            else None,
            tags=args.tags,
            opts=child,
        )
        self.integration = aws.apigatewayv2.Integration(
            f"{n}-integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            # Lambda's Invoke API is a POST whatever the route's method.
            integration_method="POST",
            integration_uri=target.alias_arn,
            payload_format_version=plan.payload_format_version,
            opts=child,
        )
        self.route = aws.apigatewayv2.Route(
            f"{n}-route",
            api_id=self.api.id,
            route_key=f"{plan.method} {plan.path}",
            target=pulumi.Output.concat("integrations/", self.integration.id),
            authorization_type=_AUTH[plan.auth],
            opts=child,
        )
        self.stage = aws.apigatewayv2.Stage(
            f"{n}-stage",
            api_id=self.api.id,
            name=plan.stage_name,
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=plan.throttle_rate_per_s,
                throttling_burst_limit=plan.throttle_burst,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=plan.access_log_format
            )
            if plan.access_log_format is not None
            else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.route]),
        )
        self.permission = target.invoke_permission(
            f"{n}-api-permission",
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, f"/*/{plan.method}{plan.path}"),
            opts=child,
        )
        return pulumi.Output.concat(self.api.api_endpoint, "/")

    def _function_url(self, args: HttpEndpointArgs) -> pulumi.Output[str]:
        plan, target, n = args.plan, args.target, self._name
        child = pulumi.ResourceOptions(parent=self)
        auth = _AUTH[plan.auth]
        self.url = aws.lambda_.FunctionUrl(
            f"{n}-url",
            function_name=target.function_name,
            qualifier=target.alias_name,
            authorization_type=auth,
            cors=aws.lambda_.FunctionUrlCorsArgs(
                allow_origins=list(plan.cors_origins), allow_methods=[plan.method]
            )
            if plan.cors_origins
            else None,
            opts=child,
        )
        if plan.auth == "none":
            aws.lambda_.Permission(
                f"{n}-url-permission",
                action="lambda:InvokeFunctionUrl",
                function=target.function_name,
                qualifier=target.alias_name,
                principal="*",
                function_url_auth_type=auth,
                opts=child,
            )
            aws.lambda_.Permission(
                f"{n}-url-invoke-permission",
                action="lambda:InvokeFunction",
                function=target.function_name,
                qualifier=target.alias_name,
                principal="*",
                invoked_via_function_url=True,
                opts=child,
            )
        return self.url.function_url


@dataclass(frozen=True, kw_only=True)
class StreamTriggerArgs:
    """The mapping's plan, the function whose alias it targets, resolved ARNs, tags."""

    plan: StreamMappingPlan
    target: InferenceFunction
    refs: RefResolver
    tags: dict[str, str] = field(default_factory=dict)


class DynamoStreamTrigger(pulumi.ComponentResource):
    """A DynamoDB stream event source mapping on the alias ARN, every setting from the plan.

    Child: ``<n>-mapping``. ``mapping_uuid``: the mapping's id.
    """

    TYPE: ClassVar[str] = "serverless-ml:triggers:DynamoStreamTrigger"

    mapping_uuid: pulumi.Output[str]

    def __init__(
        self, name: str, args: StreamTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        p, refs = args.plan, args.refs
        esm = aws.lambda_
        self.mapping = esm.EventSourceMapping(
            f"{name}-mapping",
            function_name=args.target.alias_arn,
            event_source_arn=refs.resolve(p.source_arn),
            batch_size=p.batch_size,
            maximum_batching_window_in_seconds=p.max_batching_window_s,
            starting_position=p.starting_position,
            bisect_batch_on_function_error=p.bisect_on_error,
            maximum_retry_attempts=p.retry_attempts,
            maximum_record_age_in_seconds=p.max_record_age_s,
            parallelization_factor=p.parallelization_factor,
            function_response_types=list(p.function_response_types),
            destination_config=esm.EventSourceMappingDestinationConfigArgs(
                on_failure=esm.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=refs.resolve(p.on_failure_destination)
                )
            ),
            filter_criteria=esm.EventSourceMappingFilterCriteriaArgs(
                filters=[
                    esm.EventSourceMappingFilterCriteriaFilterArgs(pattern=pattern)
                    for pattern in p.filter_patterns
                ]
            )
            if p.filter_patterns
            else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.mapping_uuid = self.mapping.uuid
        self.register_outputs({"mapping_uuid": self.mapping_uuid})


DynamoStreamTriggerArgs = StreamTriggerArgs  # the name before Kinesis shared it


class KinesisStreamTrigger(DynamoStreamTrigger):
    """A Kinesis event source mapping on the alias ARN: the same settings as
    :class:`DynamoStreamTrigger`, its own type token. Child: ``<n>-mapping``."""

    TYPE: ClassVar[str] = "serverless-ml:triggers:KinesisStreamTrigger"


@dataclass(frozen=True, kw_only=True)
class BucketNotificationArgs:
    plan: BucketNotificationPlan
    target: InferenceFunction
    refs: RefResolver


class BucketNotificationTrigger(pulumi.ComponentResource):
    """The bucket's notification configuration invoking the alias, after the invoke
    permission. Children: ``<n>-permission``, ``<n>-notification``."""

    TYPE: ClassVar[str] = "serverless-ml:triggers:S3Trigger"

    def __init__(
        self, name: str, args: BucketNotificationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        p, refs, target = args.plan, args.refs, args.target
        self.permission = target.invoke_permission(
            f"{name}-permission",
            principal=p.principal,
            source_arn=refs.resolve(p.bucket_arn),
            source_account=refs.resolve(p.source_account),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.notification = aws.s3.BucketNotification(
            f"{name}-notification",
            bucket=refs.resolve(p.bucket),
            lambda_functions=[
                aws.s3.BucketNotificationLambdaFunctionArgs(
                    lambda_function_arn=target.alias_arn,
                    events=list(p.events),
                    filter_prefix=p.prefix or None,
                    filter_suffix=p.suffix or None,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]),
        )
        self.register_outputs({})


@dataclass(frozen=True, kw_only=True)
class S3EventRuleArgs:
    plan: S3EventRulePlan
    target: InferenceFunction
    tags: dict[str, str] = field(default_factory=dict)


class S3EventRuleTrigger(pulumi.ComponentResource):
    """An EventBridge rule delivering an existing bucket's Object Created events to the alias.
    Children: ``<n>-rule``, ``<n>-target``, ``<n>-permission``."""

    TYPE: ClassVar[str] = "serverless-ml:triggers:S3EventRule"

    def __init__(
        self, name: str, args: S3EventRuleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        p, target = args.plan, args.target
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=p.rule_name,
            event_pattern=p.event_pattern,
            tags=args.tags,
            opts=child,
        )
        self.permission = target.invoke_permission(
            f"{name}-permission",
            principal=p.principal,
            source_arn=self.rule.arn,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            target_id=p.target_id,
            arn=target.alias_arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]),
        )
        self.register_outputs({})


def render_http(
    name: str,
    plan: HttpPlan,
    target: InferenceFunction,
    refs: RefResolver,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.ComponentResource:
    """Component name: the service's own (``<n>``)."""
    return HttpEndpoint(name, HttpEndpointArgs(plan=plan, target=target, tags=tags), opts)


def render_mapping(
    name: str,
    plan: StreamMappingPlan,
    target: InferenceFunction,
    refs: RefResolver,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.ComponentResource:
    """Component name: ``<n>-stream-<key>``; its type token says which stream it reads."""
    trigger = KinesisStreamTrigger if plan.source_kind == "kinesis" else DynamoStreamTrigger
    args = StreamTriggerArgs(plan=plan, target=target, refs=refs, tags=tags)
    return trigger(f"{name}-stream-{plan.key}", args, opts)


def render_notification(
    name: str,
    plan: BucketNotificationPlan,
    target: InferenceFunction,
    refs: RefResolver,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.ComponentResource:
    """Component name: ``<n>-s3-<key>``."""
    args = BucketNotificationArgs(plan=plan, target=target, refs=refs)
    return BucketNotificationTrigger(f"{name}-s3-{plan.key}", args, opts)


def render_s3_rule(
    name: str,
    plan: S3EventRulePlan,
    target: InferenceFunction,
    refs: RefResolver,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi.ComponentResource:
    """Component name: ``<n>-s3-<key>``."""
    args = S3EventRuleArgs(plan=plan, target=target, tags=tags)
    return S3EventRuleTrigger(f"{name}-s3-{plan.key}", args, opts)


BINDING_RENDERERS: dict[type, Callable[..., pulumi.ComponentResource]] = {
    HttpPlan: render_http,
    StreamMappingPlan: render_mapping,
    BucketNotificationPlan: render_notification,
    S3EventRulePlan: render_s3_rule,
}
"""Plan binding type -> render function ``(name, plan, target, refs, tags, opts)``."""

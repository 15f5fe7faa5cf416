"""Trigger constructs: HTTP endpoint and stream event source mappings, all on the alias."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from serverless_ml.cdk.log_groups import log_group
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.core.plan_types import (
    BucketNotificationPlan,
    HttpPlan,
    S3EventRulePlan,
    StreamMappingPlan,
)


class HttpEndpoint(Construct):
    """An HTTP API route (payload 2.0) or a Function URL on the alias.

    Children: ``Api``, ``Stage``, ``AccessLogs`` (HTTP API) or ``Url`` (Function URL).
    """

    url: str

    def __init__(self, scope: Construct, id: str, *, plan: HttpPlan, alias: lambda_.IAlias) -> None:
        super().__init__(scope, id)
        if plan.endpoint == "function_url":
            auth = lambda_.FunctionUrlAuthType
            fn_url = lambda_.FunctionUrl(
                self,
                "Url",
                function=alias,
                auth_type=auth.AWS_IAM if plan.auth == "iam" else auth.NONE,
                cors=lambda_.FunctionUrlCorsOptions(
                    allowed_origins=list(plan.cors_origins),
                    allowed_methods=[lambda_.HttpMethod(plan.method)],
                )
                if plan.cors_origins
                else None,
            )
            self.url = fn_url.url
            return
        access_logs = log_group(
            self,
            "AccessLogs",
            name=plan.access_log_group_name,
            retention_days=plan.access_log_retention_days,
        )
        api = apigw.HttpApi(
            self,
            "Api",
            api_name=plan.name,
            create_default_stage=False,
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=list(plan.cors_origins),
                allow_methods=[apigw.CorsHttpMethod(plan.method)],
            )
            if plan.cors_origins
            else None,
        )
        api.add_routes(
            path=plan.path,
            methods=[apigw.HttpMethod(plan.method)],
            integration=integrations.HttpLambdaIntegration(
                "Integration",
                alias,
                payload_format_version=apigw.PayloadFormatVersion.custom(
                    plan.payload_format_version
                ),
            ),
            authorizer=authorizers.HttpIamAuthorizer() if plan.auth == "iam" else None,
        )
        stage = apigw.HttpStage(
            self,
            "Stage",
            http_api=api,
            stage_name=plan.stage_name,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=plan.throttle_rate_per_s, burst_limit=plan.throttle_burst
            ),
        )
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=plan.access_log_format
        )
        self.url = api.api_endpoint + "/"


class StreamMapping(Construct):
    """A DynamoDB-stream or Kinesis event source mapping on the alias, every setting from the
    plan.

    Child: ``Mapping`` (L1, so no implicit grants: the role's one policy has them).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        plan: StreamMappingPlan,
        alias: lambda_.IAlias,
        refs: RefResolver,
    ) -> None:
        super().__init__(scope, id)
        cfn = lambda_.CfnEventSourceMapping
        self.mapping = cfn(
            self,
            "Mapping",
            function_name=alias.function_arn,
            event_source_arn=refs.resolve(plan.source_arn),
            batch_size=plan.batch_size,
            maximum_batching_window_in_seconds=plan.max_batching_window_s,
            starting_position=plan.starting_position,
            bisect_batch_on_function_error=plan.bisect_on_error,
            maximum_retry_attempts=plan.retry_attempts,
            maximum_record_age_in_seconds=plan.max_record_age_s,
            parallelization_factor=plan.parallelization_factor,
            function_response_types=list(plan.function_response_types),
            destination_config=cfn.DestinationConfigProperty(
                on_failure=cfn.OnFailureProperty(
                    destination=refs.resolve(plan.on_failure_destination)
                )
            ),
            filter_criteria=cfn.FilterCriteriaProperty(
                filters=[cfn.FilterProperty(pattern=p) for p in plan.filter_patterns]
            )
            if plan.filter_patterns
            else None,
        )


class BucketNotification(Construct):
    """The bucket's own notification configuration (on its L1) invoking the alias, created
    after the invoke permission that names the bucket by its ARN. Child: ``Permission``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        plan: BucketNotificationPlan,
        alias: lambda_.IAlias,
        refs: RefResolver,
    ) -> None:
        super().__init__(scope, id)
        self.permission = lambda_.CfnPermission(
            self,
            "Permission",
            action="lambda:InvokeFunction",
            function_name=alias.function_arn,
            principal=plan.principal,
            source_arn=refs.resolve(plan.bucket_arn),
            source_account=refs.resolve(plan.source_account),
        )
        bucket = refs.element(plan.bucket.resource)
        assert isinstance(bucket, s3.CfnBucket)
        cfn = s3.CfnBucket
        rules = [cfn.FilterRuleProperty(name="prefix", value=plan.prefix)] * bool(plan.prefix)
        rules += [cfn.FilterRuleProperty(name="suffix", value=plan.suffix)] * bool(plan.suffix)
        bucket.notification_configuration = cfn.NotificationConfigurationProperty(
            lambda_configurations=[
                cfn.LambdaConfigurationProperty(
                    event=event,
                    function=alias.function_arn,
                    filter=cfn.NotificationFilterProperty(
                        s3_key=cfn.S3KeyFilterProperty(rules=rules)
                    )
                    if rules
                    else None,
                )
                for event in plan.events
            ]
        )
        bucket.add_resource_dependency(self.permission)


class S3EventRule(Construct):
    """An EventBridge rule delivering an existing bucket's Object Created events to the alias.

    Children: ``Rule``, ``Permission``."""

    def __init__(
        self, scope: Construct, id: str, *, plan: S3EventRulePlan, alias: lambda_.IAlias
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.CfnRule(
            self,
            "Rule",
            name=plan.rule_name,
            event_pattern=json.loads(plan.event_pattern),
            state="ENABLED",
            targets=[events.CfnRule.TargetProperty(arn=alias.function_arn, id=plan.target_id)],
        )
        self.permission = lambda_.CfnPermission(
            self,
            "Permission",
            action="lambda:InvokeFunction",
            function_name=alias.function_arn,
            principal=plan.principal,
            source_arn=self.rule.attr_arn,
        )


def render_http(
    scope: Construct, plan: HttpPlan, alias: lambda_.IAlias, refs: RefResolver
) -> HttpEndpoint:
    return HttpEndpoint(scope, "Http", plan=plan, alias=alias)


def render_mapping(
    scope: Construct, plan: StreamMappingPlan, alias: lambda_.IAlias, refs: RefResolver
) -> StreamMapping:
    return StreamMapping(scope, f"Stream-{plan.key}", plan=plan, alias=alias, refs=refs)


def render_notification(
    scope: Construct, plan: BucketNotificationPlan, alias: lambda_.IAlias, refs: RefResolver
) -> BucketNotification:
    return BucketNotification(scope, f"S3-{plan.key}", plan=plan, alias=alias, refs=refs)


def render_s3_rule(
    scope: Construct, plan: S3EventRulePlan, alias: lambda_.IAlias, refs: RefResolver
) -> S3EventRule:
    return S3EventRule(scope, f"S3-{plan.key}", plan=plan, alias=alias)


BINDING_RENDERERS: dict[
    type, Callable[[Construct, Any, lambda_.IAlias, RefResolver], Construct]
] = {
    HttpPlan: render_http,
    StreamMappingPlan: render_mapping,
    BucketNotificationPlan: render_notification,
    S3EventRulePlan: render_s3_rule,
}
"""Plan binding type -> render function (construct ids: ``Http``, ``Stream-<key>``,
``S3-<key>``)."""

__all__ = ["BINDING_RENDERERS", "BucketNotification", "HttpEndpoint", "StreamMapping"]

"""InferenceFunction: role, log group, function, version, alias, warm capacity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, Size, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from serverless_ml.cdk.l1 import cfn_of
from serverless_ml.cdk.log_groups import log_group
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.core.plan_types import LOG_GROUP_ID, FunctionPlan, IamStatement, ServicePlan


def lambda_runtime(name: str) -> lambda_.Runtime:
    """CDK's own constant (``python3.13`` -> ``Runtime.PYTHON_3_13``): it knows SnapStart support."""
    constant = name.upper().replace("PYTHON", "PYTHON_").replace(".", "_")
    runtime = getattr(lambda_.Runtime, constant, None)
    if not isinstance(runtime, lambda_.Runtime):
        raise ValueError(f"aws-cdk-lib has no Runtime.{constant}; upgrade aws-cdk-lib")
    return runtime


ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


def function_log_group(scope: Construct, fp: FunctionPlan, refs: RefResolver) -> logs.LogGroup:
    """The function core's log group (child ``LogGroup``), registered as ``LOG_GROUP_ID``."""
    group = log_group(
        scope, "LogGroup", name=fp.log_group_name, retention_days=fp.log_retention_days
    )
    # CloudFormation's GetAtt Arn of a log group already ends in ":*"; the plan's Ref means
    # the bare ARN (its statements add the suffix), so build that one.
    bare_arn = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=fp.log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    refs.register(LOG_GROUP_ID, cfn_of(group), arn=lambda: bare_arn)
    return group


def function_core_props(
    fp: FunctionPlan, code_dir: Path, role: iam.Role, log_group: logs.LogGroup
) -> dict[str, Any]:
    """The ``lambda.Function`` properties every function shape takes from its core."""
    return {
        "function_name": fp.name,
        "description": fp.description,
        "runtime": lambda_runtime(fp.runtime),
        "architecture": ARCHITECTURES[fp.architecture],
        "handler": fp.handler,
        "code": lambda_.Code.from_asset(str(code_dir)),
        "memory_size": fp.memory_mb,
        "timeout": Duration.seconds(fp.timeout_s),
        "role": role,
        "log_group": log_group,
        "logging_format": lambda_.LoggingFormat(fp.log_format),
    }


def function_role(scope: Construct, fp: FunctionPlan) -> iam.Role:
    """The function core's role (child ``Role``), trusting the plan's principals."""
    principals = [iam.ServicePrincipal(p) for p in fp.trust_principals]
    return iam.Role(
        scope,
        "Role",
        role_name=fp.role_name,
        assumed_by=principals[0] if len(principals) == 1 else iam.CompositePrincipal(*principals),
    )


def role_policy(
    scope: Construct, statements: tuple[IamStatement, ...], refs: RefResolver, role: iam.Role
) -> iam.Policy:
    """The plan's statements as one inline policy (child ``Policy``; every Ref registered)."""
    rendered = [
        iam.PolicyStatement(
            sid=s.sid, actions=list(s.actions), resources=refs.resolve_all(s.resources)
        )
        for s in statements
    ]
    return iam.Policy(
        scope, "Policy", document=iam.PolicyDocument(statements=rendered), roles=[role]
    )


class InferenceFunction(Construct):
    """The function and its alias; every trigger must target :attr:`alias`.

    Children (ids are API): ``LogGroup``, ``Role``, ``Function``, ``Alias``, ``AsyncConfig``,
    ``ScalableTarget``, ``UtilizationPolicy``, ``Warmer``, ``WarmerPermission``.

    On Lambda Managed Instances the function carries the plan's capacity-provider config, and
    its current version the execution environments it keeps and may run.
    """

    def __init__(
        self, scope: Construct, id: str, *, plan: ServicePlan, code_dir: Path, refs: RefResolver
    ) -> None:
        super().__init__(scope, id)
        fp = plan.function
        self.log_group = function_log_group(self, fp, refs)
        self.role = function_role(self, fp)
        self._refs = refs
        self._plan = plan
        self.policy: iam.Policy | None = None  # attach_policy()
        self.warmer: events.CfnRule | None = None  # add_warmer()
        managed = plan.managed_instances
        self.function = lambda_.Function(
            self,
            "Function",
            **function_core_props(fp, code_dir, self.role, self.log_group),
            ephemeral_storage_size=Size.mebibytes(fp.ephemeral_storage_mb),
            environment={key: refs.resolve(value) for key, value in fp.environment},
            reserved_concurrent_executions=fp.reserved_concurrency,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if fp.snapstart else None,
            current_version_options=None
            if managed is None
            or (managed.min_environments is None and managed.max_environments is None)
            else lambda_.VersionOptions(
                min_execution_environments=managed.min_environments,
                max_execution_environments=managed.max_environments,
            ),
        )
        cfn_function = cfn_of(self.function)
        assert isinstance(cfn_function, lambda_.CfnFunction)
        if managed is not None:
            cfn = lambda_.CfnFunction
            cfn_function.capacity_provider_config = cfn.CapacityProviderConfigProperty(
                lambda_managed_instances_capacity_provider_config=cfn.LambdaManagedInstancesCapacityProviderConfigProperty(
                    capacity_provider_arn=refs.resolve(managed.capacity_provider_arn),
                    execution_environment_memory_gib_per_v_cpu=managed.memory_gib_per_vcpu,
                    per_execution_environment_max_concurrency=managed.per_environment_max_concurrency,
                )
            )
            cfn_function.publish_to_latest_published = managed.publish_latest_published
        if fp.tracing:
            # Set on the L1: the L2 prop would also grant X-Ray in a second policy, while the
            # plan's one policy already holds that statement.
            cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        self.alias = lambda_.Alias(
            self,
            "Alias",
            alias_name=plan.alias.name,
            version=self.function.current_version,
            provisioned_concurrent_executions=plan.alias.provisioned or None,
        )

    def attach_policy(self) -> None:
        """Add the plan's statements as one inline policy (after every Ref is registered)."""
        policy = role_policy(self, self._plan.iam, self._refs, self.role)
        self.function.node.add_dependency(policy)
        self.policy = policy

    def add_async_config(self) -> None:
        a = self._plan.alias
        if a.async_on_failure is None:
            return
        failure_queue_arn = self._refs.resolve(a.async_on_failure)
        lambda_.CfnEventInvokeConfig(
            self,
            "AsyncConfig",
            function_name=self.function.function_name,
            qualifier=a.name,
            maximum_retry_attempts=a.async_max_retries,
            maximum_event_age_in_seconds=a.async_max_event_age_s,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=failure_queue_arn
                )
            ),
        ).node.add_dependency(self.alias)

    def add_scaling(self) -> None:
        """Auto-scaling of the alias' PC, created after the alias (aws-cdk #7903, #29992)."""
        s = self._plan.scaling
        if s is None:
            return
        target = appscaling.CfnScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=s.service_namespace,
            resource_id=s.resource_id,
            scalable_dimension=s.scalable_dimension,
            min_capacity=s.min_capacity,
            max_capacity=s.max_capacity,
            scheduled_actions=[
                appscaling.CfnScalableTarget.ScheduledActionProperty(
                    scheduled_action_name=a.name,
                    schedule=a.schedule,
                    scalable_target_action=appscaling.CfnScalableTarget.ScalableTargetActionProperty(
                        min_capacity=a.min_capacity, max_capacity=a.max_capacity
                    ),
                )
                for a in s.scheduled_actions
            ]
            or None,
        )
        target.node.add_dependency(self.alias)
        if s.target_utilization is None:
            return
        cfn = appscaling.CfnScalingPolicy
        cfn(
            self,
            "UtilizationPolicy",
            policy_name=s.policy_name,
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.ref,
            target_tracking_scaling_policy_configuration=cfn.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=s.target_utilization,
                scale_in_cooldown=s.scale_in_cooldown_s,
                scale_out_cooldown=s.scale_out_cooldown_s,
                customized_metric_specification=cfn.CustomizedMetricSpecificationProperty(
                    namespace=s.metric_namespace,
                    metric_name=s.metric_name,
                    statistic=s.metric_statistic,
                    dimensions=[
                        cfn.MetricDimensionProperty(name=k, value=v) for k, v in s.metric_dimensions
                    ],
                ),
            ),
        )

    def add_warmer(self) -> None:
        w = self._plan.warmer
        if w is None:
            return
        alias_arn = self.alias.function_arn
        rule = events.CfnRule(
            self,
            "Warmer",
            name=w.rule_name,
            schedule_expression=w.schedule,
            state="ENABLED",
            targets=[
                events.CfnRule.TargetProperty(arn=alias_arn, id=target_id, input=w.input_json)
                for target_id in w.target_ids
            ],
        )
        self.warmer = rule
        lambda_.CfnPermission(
            self,
            "WarmerPermission",
            action="lambda:InvokeFunction",
            function_name=alias_arn,
            principal="events.amazonaws.com",
            source_arn=rule.attr_arn,
        )
        json.loads(w.input_json)  # the plan guarantees JSON; fail loudly if not

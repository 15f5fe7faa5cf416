"""InferenceFunction: log group, role + one inline policy, function, alias, warm capacity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from serverless_ml.core.plan_types import LOG_GROUP_ID, FunctionPlan, IamStatement, ServicePlan
from serverless_ml.pulumi.policies import role_policy, trust_policy
from serverless_ml.pulumi.refs import RefResolver


def function_core_resources(
    name: str,
    fp: FunctionPlan,
    statements: tuple[IamStatement, ...],
    refs: RefResolver,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role, aws.iam.RolePolicy]:
    """The function core's log group (registered as ``LOG_GROUP_ID``), role and its one
    inline policy: ``<name>-logs``, ``<name>-role``, ``<name>-policy``."""
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=fp.log_group_name,
        retention_in_days=fp.log_retention_days,
        tags=tags,
        opts=opts,
    )
    refs.register(LOG_GROUP_ID, arn=log_group.arn)
    role = aws.iam.Role(
        f"{name}-role",
        name=fp.role_name,
        assume_role_policy=trust_policy(fp.trust_principals),
        tags=tags,
        opts=opts,
    )
    # The plan names no inline-policy name; the role's own name is unique in its scope.
    policy = aws.iam.RolePolicy(
        f"{name}-policy",
        name=fp.role_name,
        role=role.name,
        policy=role_policy(statements, refs),
        opts=opts,
    )
    return log_group, role, policy


def function_core_args(
    fp: FunctionPlan, code: pulumi.Archive, role: aws.iam.Role, log_group: aws.cloudwatch.LogGroup
) -> dict[str, Any]:
    """The ``aws.lambda_.Function`` arguments every function shape takes from its core."""
    return {
        "name": fp.name,
        "description": fp.description,
        "role": role.arn,
        "handler": fp.handler,
        "runtime": fp.runtime,
        "architectures": [fp.architecture],
        "code": code,
        "memory_size": fp.memory_mb,
        "timeout": fp.timeout_s,
        "logging_config": aws.lambda_.FunctionLoggingConfigArgs(
            log_format=fp.log_format, log_group=log_group.name
        ),
    }


@dataclass(frozen=True, kw_only=True)
class InferenceFunctionArgs:
    """``plan``: the whole service plan; ``code``: the artifact (a ``FileArchive`` of the
    bundle directory); ``refs``: ARNs of resources created before (tables, queues)."""

    plan: ServicePlan
    code: pulumi.Archive
    refs: RefResolver


class InferenceFunction(pulumi.ComponentResource):
    """The function and its alias; every trigger targets :attr:`alias`, never the function.

    Children (names are API; ``<n>`` is this component's name): ``<n>-logs``, ``<n>-role``,
    ``<n>-policy``, ``<n>-function``, ``<n>-alias``, ``<n>-provisioned`` (PC on the alias),
    ``<n>-async`` (event invoke config), ``<n>-scaling-target``, ``<n>-scaling-policy``, one
    scheduled action per plan action named as the plan names it, ``<n>-warmer``,
    ``<n>-warmer-target-<i>``, ``<n>-warmer-permission``, ``<n>-environments`` (the published
    version's execution environments on Lambda Managed Instances).
    """

    TYPE: ClassVar[str] = "serverless-ml:lambda:InferenceFunction"

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    alias_name: pulumi.Output[str]
    alias_arn: pulumi.Output[str]
    version: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: InferenceFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        plan, refs = args.plan, args.refs
        fp = plan.function
        self._name = name
        self._plan = plan
        self._tags = dict(plan.tags)

        self.log_group, self.role, self.policy = function_core_resources(
            name, fp, plan.iam, refs, self._tags, self._child()
        )
        managed = plan.managed_instances
        self.function = aws.lambda_.Function(
            f"{name}-function",
            **function_core_args(fp, args.code, self.role, self.log_group),
            ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(
                size=fp.ephemeral_storage_mb
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={key: args.refs.resolve(value) for key, value in fp.environment}
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active")
            if fp.tracing
            else None,
            reserved_concurrent_executions=fp.reserved_concurrency,
            snap_start=aws.lambda_.FunctionSnapStartArgs(apply_on="PublishedVersions")
            if fp.snapstart
            else None,
            capacity_provider_config=None
            if managed is None
            else aws.lambda_.FunctionCapacityProviderConfigArgs(
                lambda_managed_instances_capacity_provider_config=aws.lambda_.FunctionCapacityProviderConfigLambdaManagedInstancesCapacityProviderConfigArgs(
                    capacity_provider_arn=refs.resolve(managed.capacity_provider_arn),
                    execution_environment_memory_gib_per_vcpu=managed.memory_gib_per_vcpu,
                    per_execution_environment_max_concurrency=managed.per_environment_max_concurrency,
                )
            ),
            # Numbered versions (publish=True); $LATEST.PUBLISHED only if the plan asks for it.
            publish_to="LATEST_PUBLISHED"
            if managed is not None and managed.publish_latest_published
            else None,
            publish=True,
            tags=self._tags,
            # The log group exists first (else Lambda creates one without retention), and the
            # policy is attached before anything invokes or maps to the function.
            opts=self._child(depends_on=[self.log_group, self.policy]),
        )
        self.alias = aws.lambda_.Alias(
            f"{name}-alias",
            name=plan.alias.name,
            function_name=self.function.name,
            function_version=self.function.version,
            opts=self._child(),
        )
        self.environments = self._environments()
        self.provisioned = self._provisioned_concurrency()
        self.async_config = self._async_config(refs)
        self.scalable_target, self.scaling_policy, self.scheduled_actions = self._scaling()
        self.warmer, self.warmer_targets, self.warmer_permission = self._warmer()

        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.alias_name = self.alias.name
        self.alias_arn = self.alias.arn
        self.version = self.function.version
        self.role_arn = self.role.arn
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "alias_name": self.alias_name,
                "alias_arn": self.alias_arn,
                "version": self.version,
                "role_arn": self.role_arn,
                "log_group_name": self.log_group_name,
            }
        )

    def _child(
        self,
        *,
        depends_on: list[pulumi.Resource] | None = None,
        ignore_changes: list[str] | None = None,
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, depends_on=depends_on, ignore_changes=ignore_changes
        )

    def invoke_permission(
        self,
        name: str,
        *,
        principal: str,
        source_arn: pulumi.Input[str],
        source_account: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions,
    ) -> aws.lambda_.Permission:
        """``lambda:InvokeFunction`` on the alias for ``principal`` from ``source_arn``."""
        return aws.lambda_.Permission(
            name,
            action="lambda:InvokeFunction",
            function=self.function.name,
            qualifier=self.alias.name,
            principal=principal,
            source_arn=source_arn,
            source_account=source_account,
            opts=opts,
        )

    def _environments(self) -> aws.lambda_.FunctionScalingConfig | None:
        """Execution environments the published version keeps and may run (Managed
        Instances), on the version the alias serves."""
        managed = self._plan.managed_instances
        if managed is None or (
            managed.min_environments is None and managed.max_environments is None
        ):
            return None
        return aws.lambda_.FunctionScalingConfig(
            f"{self._name}-environments",
            function_name=self.function.name,
            qualifier=self.function.version,
            function_scaling_config=aws.lambda_.FunctionScalingConfigFunctionScalingConfigArgs(
                min_execution_environments=managed.min_environments,
                max_execution_environments=managed.max_environments,
            ),
            opts=self._child(),
        )

    def _provisioned_concurrency(self) -> aws.lambda_.ProvisionedConcurrencyConfig | None:
        count = self._plan.alias.provisioned
        if count <= 0:
            return None
        # With auto-scaling, Application Auto Scaling owns the live value: this resource only
        # sets the deploy-time floor, and a `pulumi up --refresh` must not reset it.
        ignore = ["provisionedConcurrentExecutions"] if self._plan.scaling is not None else None
        return aws.lambda_.ProvisionedConcurrencyConfig(
            f"{self._name}-provisioned",
            function_name=self.function.name,
            qualifier=self.alias.name,
            provisioned_concurrent_executions=count,
            opts=self._child(ignore_changes=ignore),
        )

    def _async_config(self, refs: RefResolver) -> aws.lambda_.FunctionEventInvokeConfig:
        a = self._plan.alias
        destination = (
            None
            if a.async_on_failure is None
            else aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=refs.resolve(a.async_on_failure)
                )
            )
        )
        return aws.lambda_.FunctionEventInvokeConfig(
            f"{self._name}-async",
            function_name=self.function.name,
            qualifier=self.alias.name,
            maximum_retry_attempts=a.async_max_retries,
            maximum_event_age_in_seconds=a.async_max_event_age_s,
            destination_config=destination,
            opts=self._child(),
        )

    def _scaling(
        self,
    ) -> tuple[
        aws.appautoscaling.Target | None,
        aws.appautoscaling.Policy | None,
        list[aws.appautoscaling.ScheduledAction],
    ]:
        """Auto-scaling of the alias' PC. The target names the alias by a plain string id, so
        its dependency on the alias (and its PC) is explicit (aws-cdk #7903, #29992); policy
        and scheduled actions are created one after another, since Application Auto Scaling
        rejects concurrent updates of one target (ConcurrentUpdateException)."""
        s = self._plan.scaling
        if s is None:
            return None, None, []
        after: list[pulumi.Resource] = [self.alias]
        if self.provisioned is not None:
            after.append(self.provisioned)
        target = aws.appautoscaling.Target(
            f"{self._name}-scaling-target",
            service_namespace=s.service_namespace,
            resource_id=s.resource_id,
            scalable_dimension=s.scalable_dimension,
            min_capacity=s.min_capacity,
            max_capacity=s.max_capacity,
            tags=self._tags,
            opts=self._child(depends_on=after),
        )
        previous: pulumi.Resource = target
        policy = None
        if s.target_utilization is not None:
            cfg = aws.appautoscaling
            policy = cfg.Policy(
                f"{self._name}-scaling-policy",
                name=s.policy_name,
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration=cfg.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=s.target_utilization,
                    scale_in_cooldown=s.scale_in_cooldown_s,
                    scale_out_cooldown=s.scale_out_cooldown_s,
                    customized_metric_specification=cfg.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
                        namespace=s.metric_namespace,
                        metric_name=s.metric_name,
                        statistic=s.metric_statistic,
                        dimensions=[
                            cfg.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationDimensionArgs(
                                name=k, value=v
                            )
                            for k, v in s.metric_dimensions
                        ],
                    ),
                ),
                opts=self._child(depends_on=[previous]),
            )
            previous = policy
        actions = []
        for a in s.scheduled_actions:
            action = aws.appautoscaling.ScheduledAction(
                a.name,
                name=a.name,
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                schedule=a.schedule,
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=a.min_capacity, max_capacity=a.max_capacity
                ),
                opts=self._child(depends_on=[previous]),
            )
            actions.append(action)
            previous = action
        return target, policy, actions

    def _warmer(
        self,
    ) -> tuple[
        aws.cloudwatch.EventRule | None,
        list[aws.cloudwatch.EventTarget],
        aws.lambda_.Permission | None,
    ]:
        w = self._plan.warmer
        if w is None:
            return None, [], None
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-warmer",
            name=w.rule_name,
            schedule_expression=w.schedule,
            tags=self._tags,
            opts=self._child(),
        )
        permission = self.invoke_permission(
            f"{self._name}-warmer-permission",
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=self._child(),
        )
        targets = [
            aws.cloudwatch.EventTarget(
                f"{self._name}-warmer-target-{i}",
                rule=rule.name,
                target_id=target_id,
                arn=self.alias.arn,
                input=w.input_json,
                opts=self._child(depends_on=[permission]),
            )
            for i, target_id in enumerate(w.target_ids)
        ]
        return rule, targets, permission

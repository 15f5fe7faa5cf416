"""Every plan field shows up in the rendered inputs, for every spec (the renderer is the plan,
one field per resource property)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_ml.core.alarms import dashboard_body
from serverless_ml.core.plan_types import Ref
from serverless_ml.core.policies import resource_policy_json
from tests.pulumi.conftest import Case
from tests.pulumi.harness import REGION, RecordedResource
from tests.pulumi.resolve import created, expected, resource_of

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"


def _one(c: Case, type_: str) -> RecordedResource:
    found = c.render.of_type(type_)
    assert len(found) == 1, f"{len(found)} x {type_}"
    return found[0]


def _function(c: Case) -> dict[str, Any]:
    return _one(c, FUNCTION).inputs


def test_function(any_case: Case) -> None:
    fp, f = any_case.plan.function, _function(any_case)
    assert f["name"] == fp.name
    assert f["description"] == fp.description
    assert f["handler"] == fp.handler
    assert f["runtime"] == fp.runtime
    assert f["architectures"] == [fp.architecture]
    assert f["memorySize"] == fp.memory_mb
    assert f["timeout"] == fp.timeout_s
    assert f["ephemeralStorage"] == {"size": fp.ephemeral_storage_mb}
    assert f["environment"] == {
        "variables": {k: expected(any_case.render, any_case.plan, v) for k, v in fp.environment}
    }
    assert f.get("tracingConfig") == ({"mode": "Active"} if fp.tracing else None)
    assert f.get("reservedConcurrentExecutions") == fp.reserved_concurrency
    assert f.get("snapStart") == ({"applyOn": "PublishedVersions"} if fp.snapstart else None)
    assert f["publish"] is True
    assert f["loggingConfig"]["logGroup"] == fp.log_group_name
    role = created(any_case.render, "aws:iam/role:Role", fp.role_name)
    assert f["role"] == role.outputs["arn"]
    assert isinstance(f["code"], pulumi.FileArchive)
    assert Path(f["code"].path).is_dir()  # the artifact directory, zipped by Pulumi


def test_log_group_is_created_before_the_function(any_case: Case) -> None:
    fp = any_case.plan.function
    group = created(any_case.render, "aws:cloudwatch/logGroup:LogGroup", fp.log_group_name)
    assert group.inputs["retentionInDays"] == fp.log_retention_days
    assert group.urn in _one(any_case, FUNCTION).dependencies


def test_alias_and_async_config(any_case: Case) -> None:
    plan = any_case.plan
    alias = _one(any_case, ALIAS).inputs
    assert alias["name"] == plan.alias.name
    assert alias["functionName"] == plan.function.name
    assert alias["functionVersion"] == _one(any_case, FUNCTION).outputs["version"]
    cfg = _one(any_case, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    assert cfg["functionName"] == plan.function.name
    assert cfg["qualifier"] == plan.alias.name
    assert cfg["maximumRetryAttempts"] == plan.alias.async_max_retries
    assert cfg["maximumEventAgeInSeconds"] == plan.alias.async_max_event_age_s
    assert isinstance(plan.alias.async_on_failure, Ref)
    queue = resource_of(any_case.render, plan, plan.alias.async_on_failure)
    assert queue.type == "aws:sqs/queue:Queue"
    assert cfg["destinationConfig"] == {"onFailure": {"destination": queue.outputs["arn"]}}


def test_provisioned_concurrency(any_case: Case) -> None:
    plan = any_case.plan
    configs = any_case.render.of_type(
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
    )
    if plan.alias.provisioned == 0:
        assert configs == []
        return
    (pc,) = configs
    assert pc.inputs == {
        "functionName": plan.function.name,
        "qualifier": plan.alias.name,
        "provisionedConcurrentExecutions": plan.alias.provisioned,
    }


def test_scaling(any_case: Case) -> None:
    s = any_case.plan.scaling
    targets = any_case.render.of_type("aws:appautoscaling/target:Target")
    policies = any_case.render.of_type("aws:appautoscaling/policy:Policy")
    actions = any_case.render.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")
    if s is None:
        assert targets == policies == actions == []
        return
    (target,) = targets
    where = {
        "serviceNamespace": s.service_namespace,
        "resourceId": s.resource_id,
        "scalableDimension": s.scalable_dimension,
    }
    assert target.inputs == {
        **where,
        "minCapacity": s.min_capacity,
        "maxCapacity": s.max_capacity,
        "tags": dict(any_case.plan.tags),
    }
    if s.target_utilization is None:
        assert policies == []
    else:
        (policy,) = policies
        assert policy.inputs == {
            **where,
            "name": s.policy_name,
            "policyType": "TargetTrackingScaling",
            "targetTrackingScalingPolicyConfiguration": {
                "targetValue": s.target_utilization,
                "scaleInCooldown": s.scale_in_cooldown_s,
                "scaleOutCooldown": s.scale_out_cooldown_s,
                "customizedMetricSpecification": {
                    "namespace": "AWS/Lambda",
                    "metricName": s.metric_name,
                    "statistic": s.metric_statistic,
                    "dimensions": [{"name": k, "value": v} for k, v in s.metric_dimensions],
                },
            },
        }
    assert [a.inputs for a in actions] == [
        {
            **where,
            "name": a.name,
            "schedule": a.schedule,
            "scalableTargetAction": {"minCapacity": a.min_capacity, "maxCapacity": a.max_capacity},
        }
        for a in s.scheduled_actions
    ]


def test_warmer(any_case: Case) -> None:
    w = any_case.plan.warmer
    rules = any_case.render.of_type("aws:cloudwatch/eventRule:EventRule")
    targets = any_case.render.of_type("aws:cloudwatch/eventTarget:EventTarget")
    if w is None:
        assert rules == targets == []
        return
    (rule,) = rules
    assert rule.inputs["name"] == w.rule_name
    assert rule.inputs["scheduleExpression"] == w.schedule
    assert [t.inputs["targetId"] for t in targets] == list(w.target_ids)
    for t in targets:
        assert t.inputs["rule"] == w.rule_name
        assert json.loads(t.inputs["input"]) == json.loads(w.input_json)


def test_tables(any_case: Case) -> None:
    plan = any_case.plan
    assert len(any_case.render.of_type("aws:dynamodb/table:Table")) == len(plan.tables)
    for t in plan.tables:
        table = created(any_case.render, "aws:dynamodb/table:Table", t.name)
        i = table.inputs
        assert i["billingMode"] == t.billing_mode
        assert i["hashKey"] == t.partition_key
        assert i["attributes"] == [{"name": t.partition_key, "type": "S"}] + (
            [{"name": t.sort_key, "type": "S"}] if t.sort_key else []
        )
        assert i["pointInTimeRecovery"] == {"enabled": t.point_in_time_recovery}
        assert i["streamEnabled"] is (t.stream_view_type is not None)
        assert i.get("streamViewType") == t.stream_view_type
        assert i["deletionProtectionEnabled"] is t.deletion_protection
        assert i["serverSideEncryption"] == {"enabled": True}
        assert table.retain_on_delete


def test_queues(any_case: Case) -> None:
    plan = any_case.plan
    for q in plan.queues:
        queue = created(any_case.render, "aws:sqs/queue:Queue", q.name)
        assert queue.inputs["messageRetentionSeconds"] == q.retention_s
        assert queue.inputs["visibilityTimeoutSeconds"] == q.visibility_timeout_s
        assert queue.inputs["sqsManagedSseEnabled"] is q.sqs_managed_sse
        policies = [
            p
            for p in any_case.render.of_type("aws:sqs/queuePolicy:QueuePolicy")
            if p.inputs["queueUrl"] == queue.outputs["url"]
        ]
        assert len(policies) == (1 if q.policy else 0)
        for p in policies:
            (statement,) = json.loads(p.inputs["policy"])["Statement"]
            assert statement["Effect"] == "Deny"
            assert statement["Resource"] == [queue.outputs["arn"]]
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            assert json.loads(p.inputs["policy"]) == resource_policy_json(
                q.policy, lambda v: expected(any_case.render, plan, v)
            )


def test_http(any_case: Case) -> None:
    h, plan = any_case.plan.http, any_case.plan
    apis = any_case.render.of_type("aws:apigatewayv2/api:Api")
    urls = any_case.render.of_type("aws:lambda/functionUrl:FunctionUrl")
    if h is None:
        assert apis == urls == []
        assert any_case.render.outputs["endpoint_url"] is None
        return
    auth = {"iam": "AWS_IAM", "none": "NONE"}[h.auth]
    cors = (
        {"allowOrigins": list(h.cors_origins), "allowMethods": [h.method]}
        if h.cors_origins
        else None
    )
    if h.endpoint == "function_url":
        assert apis == []
        (url,) = urls
        assert url.inputs == {
            "functionName": plan.function.name,
            "qualifier": plan.alias.name,
            "authorizationType": auth,
            **({"cors": cors} if cors else {}),
        }
        assert any_case.render.outputs["endpoint_url"] == url.outputs["functionUrl"]
        return
    assert urls == []
    (api,) = apis
    assert api.inputs["name"] == h.name
    assert api.inputs["protocolType"] == "HTTP"
    assert api.inputs.get("corsConfiguration") == cors
    (route,) = any_case.render.of_type("aws:apigatewayv2/route:Route")
    assert route.inputs["routeKey"] == f"{h.method} {h.path}"
    assert route.inputs["authorizationType"] == auth
    (integration,) = any_case.render.of_type("aws:apigatewayv2/integration:Integration")
    assert route.inputs["target"] == f"integrations/{integration.id}"
    assert route.inputs["apiId"] == integration.inputs["apiId"] == api.id
    assert integration.inputs["integrationType"] == "AWS_PROXY"
    assert integration.inputs["payloadFormatVersion"] == "2.0"
    (stage,) = any_case.render.of_type("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["name"] == "$default"
    assert stage.inputs["autoDeploy"] is True
    assert stage.inputs["defaultRouteSettings"] == {
        "throttlingRateLimit": h.throttle_rate_per_s,
        "throttlingBurstLimit": h.throttle_burst,
    }
    assert h.access_log_group_name is not None
    logs = created(any_case.render, "aws:cloudwatch/logGroup:LogGroup", h.access_log_group_name)
    assert logs.inputs["retentionInDays"] == h.access_log_retention_days
    assert stage.inputs["accessLogSettings"] == {
        "destinationArn": logs.outputs["arn"],
        "format": h.access_log_format,
    }
    assert json.loads(stage.inputs["accessLogSettings"]["format"])  # JSON access logs
    (permission,) = [
        p
        for p in any_case.render.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "apigateway.amazonaws.com"
    ]
    assert permission.inputs["sourceArn"] == f"{api.outputs['executionArn']}/*/{h.method}{h.path}"
    assert any_case.render.outputs["endpoint_url"] == api.outputs["apiEndpoint"] + "/"


def test_stream_mappings(any_case: Case) -> None:
    plan = any_case.plan
    mappings = any_case.render.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert len(mappings) == len(plan.stream_mappings)
    for m in plan.stream_mappings:
        (mapping,) = [r for r in mappings if r.name.endswith(f"-stream-{m.key}-mapping")]
        i = mapping.inputs
        assert i["eventSourceArn"] == expected(any_case.render, plan, m.source_arn)
        assert i["batchSize"] == m.batch_size
        assert i["maximumBatchingWindowInSeconds"] == m.max_batching_window_s
        assert i["startingPosition"] == m.starting_position
        assert i["bisectBatchOnFunctionError"] is m.bisect_on_error
        assert i["maximumRetryAttempts"] == m.retry_attempts
        assert i["maximumRecordAgeInSeconds"] == m.max_record_age_s
        assert i["parallelizationFactor"] == m.parallelization_factor
        assert i["functionResponseTypes"] == list(m.function_response_types)
        assert i["destinationConfig"] == {
            "onFailure": {
                "destinationArn": expected(any_case.render, plan, m.on_failure_destination)
            }
        }
        if m.filter_patterns:
            assert i["filterCriteria"] == {"filters": [{"pattern": p} for p in m.filter_patterns]}
        else:
            assert "filterCriteria" not in i


def test_role_policy_is_the_plan_with_every_ref_resolved(any_case: Case) -> None:
    plan = any_case.plan
    (policy,) = any_case.render.of_type("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == plan.function.role_name
    document = json.loads(policy.inputs["policy"])
    assert document["Version"] == "2012-10-17"
    assert document["Statement"] == [
        {
            "Sid": s.sid,
            "Effect": "Allow",
            "Action": list(s.actions),
            "Resource": [expected(any_case.render, plan, r) for r in s.resources],
        }
        for s in plan.iam
    ]


def test_no_managed_policy_and_one_inline_policy(any_case: Case) -> None:
    """The function's role; a Managed Instances operator role holds exactly the plan's AWS
    managed policies and nothing else."""
    operators = {c.operator_role_name: c for c in any_case.plan.capacity_providers}
    (role,) = [
        r for r in any_case.render.of_type("aws:iam/role:Role")
        if r.inputs["name"] not in operators
    ]  # fmt: skip
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs
    types = {r.type for r in any_case.render.resources}
    assert not types & {
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/policy:Policy",
    }
    attached = {
        (a.inputs["role"], a.inputs["policyArn"])
        for a in any_case.render.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert attached == {
        (name, expected(any_case.render, any_case.plan, arn))
        for name, c in operators.items()
        for arn in c.operator_managed_policies
    }
    assert len(any_case.render.of_type("aws:iam/rolePolicy:RolePolicy")) == 1
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


def _metric_fields(m: Any) -> dict[str, Any]:
    stat_key = "extendedStatistic" if m.statistic.startswith("p") else "statistic"
    return {
        "namespace": m.namespace,
        "metricName": m.metric_name,
        "dimensions": dict(m.dimensions),
        "period": m.period_s,
        stat_key: m.statistic,
    }


def test_alarms(any_case: Case) -> None:
    mon = any_case.plan.monitoring
    alarms = any_case.render.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == len(mon.alarms)
    topics = [
        t
        for t in any_case.render.of_type("aws:sns/topic:Topic")
        if t.inputs["name"] == mon.topic_name
    ]
    actions = [t.outputs["arn"] for t in topics] + list(mon.action_arns)
    for a in mon.alarms:
        alarm = created(any_case.render, "aws:cloudwatch/metricAlarm:MetricAlarm", a.name)
        i = dict(alarm.inputs)
        common = {
            "name": a.name,
            "alarmDescription": a.description,
            "threshold": a.threshold,
            "comparisonOperator": a.comparison,
            "evaluationPeriods": a.evaluation_periods,
            "datapointsToAlarm": a.datapoints_to_alarm,
            "treatMissingData": a.treat_missing_data,
            "alarmActions": actions,
            "tags": dict(any_case.plan.tags),
        }
        if a.metric is not None:
            assert i == {**common, **_metric_fields(a.metric)}
            continue
        queries = [
            {
                "id": qid,
                "metric": {
                    "namespace": m.namespace,
                    "metricName": m.metric_name,
                    "dimensions": dict(m.dimensions),
                    "period": m.period_s,
                    "stat": m.statistic,
                },
                "returnData": False,
            }
            for qid, m in a.expression_metrics
        ]
        queries.append(
            {
                "id": a.key,
                "expression": a.expression,
                "label": a.key,
                "period": a.expression_period_s,
                "returnData": True,
            }
        )
        assert i == {**common, "metricQueries": queries}


def test_topic_and_dashboard(any_case: Case) -> None:
    mon = any_case.plan.monitoring
    alert_topics = {t.name for t in any_case.plan.topics}
    topics = [
        t
        for t in any_case.render.of_type("aws:sns/topic:Topic")
        if t.inputs["name"] not in alert_topics
    ]
    assert [t.inputs["name"] for t in topics] == ([mon.topic_name] if mon.topic_name else [])
    for topic in topics:
        (policy,) = [
            p
            for p in any_case.render.of_type("aws:sns/topicPolicy:TopicPolicy")
            if p.inputs["arn"] == topic.outputs["arn"]
        ]
        assert policy.inputs["arn"] == topic.outputs["arn"]
        deny, allow = json.loads(policy.inputs["policy"])["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert allow["Resource"] == [topic.outputs["arn"]]
        assert json.loads(policy.inputs["policy"]) == resource_policy_json(
            mon.topic_policy, lambda v: expected(any_case.render, any_case.plan, v)
        )
    dashboards = any_case.render.of_type("aws:cloudwatch/dashboard:Dashboard")
    if mon.dashboard_name is None:
        assert dashboards == []
        return
    (dashboard,) = dashboards
    assert dashboard.inputs == {
        "dashboardName": mon.dashboard_name,
        "dashboardBody": dashboard_body(mon, REGION),
    }


def _taggable_types() -> dict[str, bool]:
    """Type token -> whether pulumi_aws's resource takes ``tags``."""
    import inspect

    modules = (aws.apigatewayv2, aws.appautoscaling, aws.cloudwatch, aws.dynamodb, aws.iam,
               aws.kinesis, aws.kms, aws.lambda_, aws.sns, aws.sqs)  # fmt: skip
    found = {}
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            token = getattr(cls, "pulumi_type", None)
            if issubclass(cls, pulumi.CustomResource) and isinstance(token, str):
                params = inspect.signature(cls._internal_init).parameters  # type: ignore[attr-defined]
                found[token] = "tags" in params
    return found


def test_every_taggable_resource_carries_the_plan_tags(any_case: Case) -> None:
    taggable = _taggable_types()
    tags = dict(any_case.plan.tags)
    for r in any_case.render.resources:
        if not r.custom:
            continue
        assert r.type in taggable, r.type
        if taggable[r.type]:
            assert r.inputs.get("tags") == tags, r.name

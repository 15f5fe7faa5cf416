"""Facts from the resources recorded under Pulumi mocks, and nothing else (never the plan)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from tests.parity import facts as f
from tests.pulumi.harness import RecordedResource, Rendered

IGNORED = {
    ("aws:lambda/function:Function", "code"): "the artifact: a FileArchive of the bundle",
    ("aws:iam/rolePolicy:RolePolicy", "name"): "the plan names no policy (the role's name)",
    ("aws:apigatewayv2/integration:Integration", "integrationMethod"): "Lambda's Invoke is a "
    "POST whatever the route; CloudFormation's Lambda proxy integrations leave it implicit",
}


def facts_from_pulumi(rendered: Rendered) -> f.Facts:
    """The facts of the one service rendered under mocks (inputs with Outputs resolved; the
    mocks' outputs where a resource points at another by id, ARN or URL). Fails on a rendered
    input that no fact reads, unless ``IGNORED`` says why."""
    r = _Resources(rendered)
    facts = _facts(r)
    f.assert_all_read(
        {(x.type, key) for x in r.all for key in x.inputs.unread()},  # type: ignore[attr-defined]
        IGNORED,
    )
    return facts


def _facts(r: _Resources) -> f.Facts:
    return {
        "function": _function(r),
        "role": _role(r),
        "log_groups": {x["name"]: x.get("retentionInDays") for x in r.inputs(f.LOG_GROUP)},
        "alias": _alias(r),
        "async_invoke": f.records(
            {
                "target": f.lambda_target(x["functionName"], x.get("qualifier")),
                "max_retries": x.get("maximumRetryAttempts"),
                "max_event_age_s": x.get("maximumEventAgeInSeconds"),
                "on_failure": x.get("destinationConfig", {})
                .get("onFailure", {})
                .get("destination"),
                "on_success": x.get("destinationConfig", {})
                .get("onSuccess", {})
                .get("destination"),
            }
            for x in r.inputs("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
        ),
        "scaling": _scaling(r),
        "rules": {x["name"]: _rule(r, x) for x in r.inputs(f.RULE)},
        "permissions": f.records(
            _permission(r, x) for x in r.inputs("aws:lambda/permission:Permission")
        ),
        "tables": {x.inputs["name"]: _table(x) for x in r.of(f.TABLE)},
        "kinesis_streams": {
            x.inputs["name"]: {**_kinesis(x.inputs), "retain_on_delete": x.retain_on_delete}
            for x in r.of(f.KINESIS)
        },
        "queues": {x.inputs["name"]: _queue(r, x) for x in r.of(f.QUEUE)},
        "http": f.records(
            [_api(r, x) for x in r.of("aws:apigatewayv2/api:Api")]
            + [_url(x) for x in r.inputs("aws:lambda/functionUrl:FunctionUrl")]
        ),
        "stream_mappings": f.records(
            _mapping(x) for x in r.inputs("aws:lambda/eventSourceMapping:EventSourceMapping")
        ),
        "alarms": {
            x["name"]: _alarm(x) for x in r.inputs("aws:cloudwatch/metricAlarm:MetricAlarm")
        },
        "topics": {x.inputs["name"]: _topic(r, x) for x in r.of(f.TOPIC)},
        "keys": {x["name"]: _key(r, x) for x in r.inputs("aws:kms/alias:Alias")},
        "subscriptions": f.records(
            {
                "topic": r.by_output(f.TOPIC, "arn", x["topic"]).inputs["name"],
                "protocol": x["protocol"],
                "endpoint": x["endpoint"],
            }
            for x in r.inputs("aws:sns/topicSubscription:TopicSubscription")
        ),
        "dashboards": {
            x["dashboardName"]: json.loads(x["dashboardBody"])
            for x in r.inputs("aws:cloudwatch/dashboard:Dashboard")
        },
        "buckets": {x.inputs["bucket"]: _bucket(r, x) for x in r.of(f.BUCKET)},
        "bucket_notifications": f.notifications(
            {
                "bucket": x["bucket"],
                "target": c["lambdaFunctionArn"],
                "events": c["events"],
                "prefix": c.get("filterPrefix"),
                "suffix": c.get("filterSuffix"),
            }
            for x in r.inputs("aws:s3/bucketNotification:BucketNotification")
            for c in x.get("lambdaFunctions", [])
        ),
        "managed_instances": _managed(r),
        "tags": _all_tags(r),
    }


def _bucket(r: _Resources, x: RecordedResource) -> dict[str, Any]:
    """The bucket and the configuration resources that name it."""
    name = x.inputs["bucket"]

    def config(type_: str) -> list[dict[str, Any]]:
        return [c for c in r.inputs(f"aws:s3/{type_}") if c["bucket"] == name]

    versioning = config("bucketVersioning:BucketVersioning")
    encryption = config(
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    blocks = config("bucketPublicAccessBlock:BucketPublicAccessBlock")
    (block,) = blocks or [{}]
    algorithms = [
        rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        for e in encryption
        for rule in e["rules"]
    ]
    return {
        "versioned": any(v["versioningConfiguration"]["status"] == "Enabled" for v in versioning),
        "encryption": algorithms[0] if algorithms else None,
        "public_access_block": {
            flag: bool(
                block.get(
                    "".join(w if i == 0 else w.capitalize() for i, w in enumerate(flag.split("_"))),
                    False,
                )
            )
            for flag in f.PUBLIC_ACCESS_FLAGS
        },
        "policies": [
            f.statements(p["policy"], with_sid=True) for p in config("bucketPolicy:BucketPolicy")
        ],
        "retain_on_delete": x.retain_on_delete,
    }


class _Resources:
    def __init__(self, rendered: Rendered) -> None:
        self.all = [
            dataclasses.replace(x, inputs=f.ReadDict(x.inputs))
            for x in rendered.resources
            if x.custom
        ]

    def of(self, type_: str) -> list[RecordedResource]:
        return [x for x in self.all if x.type == type_]

    def inputs(self, type_: str) -> list[dict[str, Any]]:
        return [x.inputs for x in self.of(type_)]

    def one(self, type_: str) -> dict[str, Any]:
        found = self.inputs(type_)
        assert len(found) == 1, f"{len(found)} {type_} in the service"
        return found[0]

    def by_output(self, type_: str, output: str, value: str) -> RecordedResource:
        """The resource of ``type_`` whose (mocked) ``output`` is ``value``: how an id, ARN or
        URL in one resource's inputs points at another."""
        found = [x for x in self.of(type_) if x.outputs.get(output) == value]
        assert len(found) == 1, f"{len(found)} {type_} with {output} {value!r}"
        return found[0]


def _function(r: _Resources) -> dict[str, Any]:
    x = r.one(f.FUNCTION)
    logging = x.get("loggingConfig", {})
    return {
        "name": x["name"],
        "description": x.get("description"),
        "handler": x["handler"],
        "runtime": x["runtime"],
        "architectures": x.get("architectures", ["x86_64"]),
        "memory_mb": x.get("memorySize", 128),
        "timeout_s": x.get("timeout", 3),
        "ephemeral_storage_mb": x.get("ephemeralStorage", {}).get("size", 512),
        "reserved_concurrency": x.get("reservedConcurrentExecutions"),
        "environment": x.get("environment", {}).get("variables", {}),
        "tracing": x.get("tracingConfig", {}).get("mode"),
        "snapstart": x.get("snapStart", {}).get("applyOn"),
        "log_format": logging.get("logFormat"),
        "log_group": logging.get("logGroup"),
        "role": x["role"],
    }


def _role(r: _Resources) -> dict[str, Any]:
    """The function's role (a capacity provider's operator role is in ``managed_instances``)."""
    return _role_facts(r, r.by_output(f.ROLE, "arn", r.one(f.FUNCTION)["role"]).inputs)


def _role_facts(r: _Resources, x: Mapping[str, Any]) -> dict[str, Any]:
    name = x["name"]
    inline = [f.statements(p["policy"], with_sid=True) for p in x.get("inlinePolicies", [])]
    attached = [
        f.statements(p["policy"], with_sid=True)
        for p in r.inputs("aws:iam/rolePolicy:RolePolicy")
        if p["role"] == name
    ]
    managed = [
        p["policyArn"]
        for p in r.inputs("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if p["role"] == name
    ]
    return {
        "name": name,
        "trust": f.statements(x["assumeRolePolicy"], with_sid=False),
        "policies": inline + attached,
        "managed_policies": list(x.get("managedPolicyArns", [])) + managed,
    }


def _managed(r: _Resources) -> dict[str, Any]:
    fn = r.one(f.FUNCTION)
    config = fn.get("capacityProviderConfig")
    function = None
    if config is not None:
        c = config["lambdaManagedInstancesCapacityProviderConfig"]
        function = {
            "capacity_provider": c["capacityProviderArn"],
            "memory_gib_per_vcpu": c.get("executionEnvironmentMemoryGibPerVcpu"),
            "max_concurrency": c.get("perExecutionEnvironmentMaxConcurrency"),
            "latest_published": fn.get("publishTo") == "LATEST_PUBLISHED",
        }
    (version,) = [x.outputs["version"] for x in r.of(f.FUNCTION)]
    scalings = [
        x["functionScalingConfig"]
        for x in r.inputs("aws:lambda/functionScalingConfig:FunctionScalingConfig")
        if x["qualifier"] == version and x["functionName"] == fn["name"]
    ]
    assert len(scalings) == len(r.of("aws:lambda/functionScalingConfig:FunctionScalingConfig")), (
        "a scaling config on another version"
    )
    (scaling,) = scalings or [None]
    return {
        "capacity_providers": {
            x["name"]: _capacity_provider(r, x) for x in r.inputs(f.CAPACITY_PROVIDER)
        },
        "function": function,
        "environments": None
        if scaling is None
        else {
            "min": scaling.get("minExecutionEnvironments"),
            "max": scaling.get("maxExecutionEnvironments"),
        },
    }


def _capacity_provider(r: _Resources, x: Mapping[str, Any]) -> dict[str, Any]:
    (requirements,) = x.get("instanceRequirements", [{}])
    (scaling,) = x.get("capacityProviderScalingConfigs", [{}])
    vpc = x["vpcConfig"]
    role = r.by_output(f.ROLE, "arn", x["permissionsConfig"]["capacityProviderOperatorRoleArn"])
    return {
        "subnets": vpc["subnetIds"],
        "security_groups": vpc.get("securityGroupIds", []),
        "architectures": requirements.get("architectures", []),
        "allowed_instance_types": requirements.get("allowedInstanceTypes", []),
        "excluded_instance_types": requirements.get("excludedInstanceTypes", []),
        "max_vcpu": scaling.get("maxVcpuCount"),
        "scaling_mode": scaling.get("scalingMode"),
        "scaling_policies": [
            {"metric": p["predefinedMetricType"], "target": p["targetValue"]}
            for p in scaling.get("scalingPolicies", [])
        ],
        "operator_role": _role_facts(r, role.inputs),
    }


def _alias(r: _Resources) -> dict[str, Any]:
    x = r.one(f.ALIAS)
    pc = r.inputs("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    version = x["functionVersion"]
    for function in r.of(f.FUNCTION):  # a version this function published
        published = function.inputs.get("publish") and function.outputs["version"] == version
        if published and function.inputs["name"] == x["functionName"]:
            version = f"published:{function.inputs['name']}"
    return {
        "name": x["name"],
        "function": x["functionName"],
        "version": version,
        "provisioned": {
            f.lambda_target(p["functionName"], p["qualifier"]): p["provisionedConcurrentExecutions"]
            for p in pc
        },
    }


def _all_tags(r: _Resources) -> dict[str, dict[str, str]]:
    def api_name(x: Mapping[str, Any]) -> str:
        (api,) = [a for a in r.of("aws:apigatewayv2/api:Api") if a.id == x["apiId"]]
        return str(api.inputs["name"])

    key = {
        f.FUNCTION: lambda x: f"function:{x['name']}",
        f.ROLE: lambda x: f"role:{x['name']}",
        f.LOG_GROUP: lambda x: f"log_group:{x['name']}",
        f.TABLE: lambda x: f"table:{x['name']}",
        f.QUEUE: lambda x: f"queue:{x['name']}",
        f.TOPIC: lambda x: f"topic:{x['name']}",
        f.KEY: lambda x: f"key:{x['description']}",
        f.KINESIS: lambda x: f"stream:{x['name']}",
        "aws:cloudwatch/metricAlarm:MetricAlarm": lambda x: f"alarm:{x['name']}",
        f.RULE: lambda x: f"rule:{x['name']}",
        "aws:apigatewayv2/api:Api": lambda x: f"api:{x['name']}",
        "aws:apigatewayv2/stage:Stage": lambda x: f"stage:{api_name(x)}/{x['name']}",
        "aws:appautoscaling/target:Target": lambda x: f"scalable_target:{x['resourceId']}",
        "aws:lambda/eventSourceMapping:EventSourceMapping": lambda x: (
            f"mapping:{x['eventSourceArn']}"
        ),
        f.BUCKET: lambda x: f"bucket:{x['bucket']}",
        f.CAPACITY_PROVIDER: lambda x: f"capacity_provider:{x['name']}",
    }
    out = {}
    for x in r.all:
        if "tags" not in x.inputs:
            continue
        assert x.type in key, f"tagged {x.type}: add it to the tags facts"
        out[key[x.type](x.inputs)] = dict(x.inputs["tags"])
    return out


def _targets_of(target: Mapping[str, Any], resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = ("serviceNamespace", "resourceId", "scalableDimension")
    return [x for x in resources if all(x.get(k) == target[k] for k in key)]


def _scaling(r: _Resources) -> list[dict[str, Any]]:
    policies = r.inputs("aws:appautoscaling/policy:Policy")
    actions = r.inputs("aws:appautoscaling/scheduledAction:ScheduledAction")
    out = []
    for x in r.inputs("aws:appautoscaling/target:Target"):
        out.append(
            {
                "namespace": x["serviceNamespace"],
                "resource_id": x["resourceId"],
                "dimension": x["scalableDimension"],
                "min": x["minCapacity"],
                "max": x["maxCapacity"],
                "scheduled_actions": f.records(
                    {
                        "name": a["name"],
                        "schedule": a["schedule"],
                        "min": a["scalableTargetAction"].get("minCapacity"),
                        "max": a["scalableTargetAction"].get("maxCapacity"),
                        "resource_id": a["resourceId"],
                    }
                    for a in _targets_of(x, actions)
                ),
                "policies": f.records(_scaling_policy(p) for p in _targets_of(x, policies)),
            }
        )
    assert sum(len(t["policies"]) for t in out) == len(policies), "a policy without its target"
    assert sum(len(t["scheduled_actions"]) for t in out) == len(actions), "a stray action"
    return f.records(out)


def _scaling_policy(p: Mapping[str, Any]) -> dict[str, Any]:
    c = p["targetTrackingScalingPolicyConfiguration"]
    m = c["customizedMetricSpecification"]
    return {
        "name": p["name"],
        "type": p["policyType"],
        "target": c["targetValue"],
        "metric": {
            "namespace": m["namespace"],
            "name": m["metricName"],
            "statistic": m["statistic"],
            "dimensions": {d["name"]: d["value"] for d in m.get("dimensions", [])},
        },
        "scale_in_cooldown_s": c.get("scaleInCooldown"),
        "scale_out_cooldown_s": c.get("scaleOutCooldown"),
    }


def _rule(r: _Resources, x: Mapping[str, Any]) -> dict[str, Any]:
    targets = [
        t for t in r.inputs("aws:cloudwatch/eventTarget:EventTarget") if t["rule"] == x["name"]
    ]
    return {
        "schedule": x.get("scheduleExpression"),
        "pattern": json.loads(x["eventPattern"]) if "eventPattern" in x else None,
        "enabled": x.get("state", "ENABLED") == "ENABLED" and x.get("isEnabled", True),
        "targets": f.records(
            {"id": t["targetId"], "arn": t["arn"], "input": t.get("input")} for t in targets
        ),
    }


def _permission(r: _Resources, x: Mapping[str, Any]) -> dict[str, Any]:
    source = x.get("sourceArn")
    if source is not None and ":execute-api:" in source:
        # The API's execution ARN, then /<stage>/<method>/<path>: keep the API and the path.
        execution_arn, _, rest = source.partition("/")
        api = r.by_output("aws:apigatewayv2/api:Api", "executionArn", execution_arn)
        source = {"api": api.inputs["name"], "path": "/" + "/".join(rest.split("/")[2:])}
    return {
        "action": x["action"],
        "principal": x["principal"],
        "target": f.lambda_target(x["function"], x.get("qualifier")),
        "source": source,
        "url_auth_type": x.get("functionUrlAuthType"),
        "via_function_url": x.get("invokedViaFunctionUrl", False),
        "source_account": x.get("sourceAccount"),
    }


def _table(x: RecordedResource) -> dict[str, Any]:
    p = x.inputs
    types = {a["name"]: a["type"] for a in p["attributes"]}
    keys = [[p["hashKey"], "HASH", types[p["hashKey"]]]]
    if "rangeKey" in p:
        keys.append([p["rangeKey"], "RANGE", types[p["rangeKey"]]])
    return {
        "keys": keys,
        "stream_view_type": p.get("streamViewType") if p.get("streamEnabled") else None,
        "billing_mode": p.get("billingMode", "PROVISIONED"),
        "point_in_time_recovery": p.get("pointInTimeRecovery", {}).get("enabled", False),
        "deletion_protection": p.get("deletionProtectionEnabled", False),
        "encrypted": p.get("serverSideEncryption", {}).get("enabled", False),
        "retain_on_delete": x.retain_on_delete,
    }


def _queue(r: _Resources, x: RecordedResource) -> dict[str, Any]:
    p = x.inputs
    inline = [f.statements(p["policy"], with_sid=True)] if "policy" in p else []
    attached = [
        f.statements(q["policy"], with_sid=True)
        for q in r.inputs("aws:sqs/queuePolicy:QueuePolicy")
        if q["queueUrl"] == x.outputs["url"]
    ]
    return {
        "retention_s": p.get("messageRetentionSeconds", 345600),
        "visibility_timeout_s": p.get("visibilityTimeoutSeconds", 30),
        "sqs_managed_sse": p.get("sqsManagedSseEnabled"),
        "policies": inline + attached,
        "retain_on_delete": x.retain_on_delete,
    }


def _api(r: _Resources, api: RecordedResource) -> dict[str, Any]:
    def on_this_api(type_: str) -> list[dict[str, Any]]:
        return [x for x in r.inputs(type_) if x["apiId"] == api.id]

    return {
        "kind": "http_api",
        "name": api.inputs["name"],
        "protocol": api.inputs["protocolType"],
        "cors": f.snake_keys(api.inputs.get("corsConfiguration")),
        "routes": f.records(_route(r, x) for x in on_this_api("aws:apigatewayv2/route:Route")),
        "stages": f.records(_stage(x) for x in on_this_api("aws:apigatewayv2/stage:Stage")),
    }


def _route(r: _Resources, x: Mapping[str, Any]) -> dict[str, Any]:
    integration_id = x["target"].removeprefix("integrations/")
    (integration,) = [
        i for i in r.of("aws:apigatewayv2/integration:Integration") if i.id == integration_id
    ]
    assert integration.inputs["apiId"] == x["apiId"], "the route's integration is on another API"
    return {
        "key": x["routeKey"],
        "auth": x.get("authorizationType", "NONE"),
        "integration": {
            "type": integration.inputs["integrationType"],
            "uri": integration.inputs["integrationUri"],
            "payload_format_version": integration.inputs.get("payloadFormatVersion"),
        },
    }


def _stage(x: Mapping[str, Any]) -> dict[str, Any]:
    route = x.get("defaultRouteSettings", {})
    logs = x.get("accessLogSettings")
    return {
        "name": x["name"],
        "auto_deploy": x.get("autoDeploy", False),
        "throttle_rate_per_s": route.get("throttlingRateLimit"),
        "throttle_burst": route.get("throttlingBurstLimit"),
        "access_log": None
        if logs is None
        else {
            "destination": f.bare_log_group_arn(logs["destinationArn"]),
            "format": logs.get("format"),
        },
    }


def _url(x: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "function_url",
        "auth": x["authorizationType"],
        "target": f.lambda_target(x["functionName"], x.get("qualifier")),
        "cors": f.snake_keys(x.get("cors")),
    }


def _mapping(x: Mapping[str, Any]) -> dict[str, Any]:
    filters = x.get("filterCriteria", {}).get("filters", [])
    return {
        "kind": "kinesis" if ":kinesis:" in x["eventSourceArn"] else "dynamodb",
        "target": x["functionName"],
        "source": x["eventSourceArn"],
        "batch_size": x.get("batchSize"),
        "max_batching_window_s": x.get("maximumBatchingWindowInSeconds"),
        "starting_position": x.get("startingPosition"),
        "bisect_on_error": x.get("bisectBatchOnFunctionError"),
        "retry_attempts": x.get("maximumRetryAttempts"),
        "max_record_age_s": x.get("maximumRecordAgeInSeconds"),
        "parallelization_factor": x.get("parallelizationFactor"),
        "function_response_types": x.get("functionResponseTypes", []),
        "on_failure": x.get("destinationConfig", {}).get("onFailure", {}).get("destinationArn"),
        "filters": [json.loads(p["pattern"]) for p in filters],
    }


def _metric(m: Mapping[str, Any], stat: str | None) -> dict[str, Any]:
    return {
        "namespace": m["namespace"],
        "name": m["metricName"],
        "dimensions": m.get("dimensions", {}),
        "statistic": stat,
        "period_s": m.get("period"),
    }


def _alarm(x: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": x.get("alarmDescription"),
        "threshold": x["threshold"],
        "comparison": x["comparisonOperator"],
        "evaluation_periods": x["evaluationPeriods"],
        "datapoints_to_alarm": x.get("datapointsToAlarm"),
        "treat_missing_data": x.get("treatMissingData"),
        "actions": x.get("alarmActions", []),
        "ok_actions": x.get("okActions", []),
        "insufficient_data_actions": x.get("insufficientDataActions", []),
        "metric": None,
        "math": None,
    }
    if "metricQueries" not in x:
        out["metric"] = _metric(x, x.get("statistic") or x.get("extendedStatistic"))
        return out
    queries = x["metricQueries"]
    (expression,) = [q for q in queries if "expression" in q]
    inputs = {
        q["id"]: _metric(q["metric"], q["metric"].get("stat"))
        | {"return_data": q.get("returnData", False)}
        for q in queries
        if "metric" in q
    }
    periods = {m["period_s"] for m in inputs.values()}
    out["math"] = {
        "expression": expression["expression"],
        "label": expression.get("label"),
        "return_data": expression.get("returnData", False),
        "period_s": expression.get("period", periods.pop() if len(periods) == 1 else None),
        "metrics": inputs,
    }
    return out


def _topic(r: _Resources, x: RecordedResource) -> dict[str, Any]:
    arn = x.outputs["arn"]
    inline = [f.statements(x.inputs["policy"], with_sid=True)] if "policy" in x.inputs else []
    attached = [
        f.statements(p["policy"], with_sid=True)
        for p in r.inputs("aws:sns/topicPolicy:TopicPolicy")
        if p["arn"] == arn
    ]
    return {"kms_key": _key_id(r, x.inputs.get("kmsMasterKeyId")), "policies": inline + attached}


def _key(r: _Resources, alias: Mapping[str, Any]) -> dict[str, Any]:
    k = r.by_output(f.KEY, "arn", alias["targetKeyId"]).inputs
    return {
        "description": k["description"],
        "rotation": k.get("enableKeyRotation", False),
        "pending_window_days": k.get("deletionWindowInDays"),
        "policy": f.statements(k["policy"], with_sid=True),
    }


def _key_id(r: _Resources, value: Any) -> Any:
    """A topic's key: an AWS-managed alias as written, a key of the stack by its alias."""
    keys = [x for x in r.of(f.KEY) if x.outputs.get("arn") == value]
    if not keys:
        return value
    (alias,) = [a["name"] for a in r.inputs("aws:kms/alias:Alias") if a["targetKeyId"] == value]
    return f"key:{alias}"


def _kinesis(x: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "mode": x.get("streamModeDetails", {}).get("streamMode", "PROVISIONED"),
        "shard_count": x.get("shardCount"),
        "retention_hours": x.get("retentionPeriod", 24),
        "encryption": [x.get("encryptionType"), x.get("kmsKeyId")],
    }

"""FraudDetectionStack: pinned logical ids and the plan's settings on the right resources."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from serverless_ml.core.plan import build_plan
from serverless_ml.reference.scenarios import fraud_detection
from tests.cdk.conftest import Synth, resources

# Logical ids are API: changing one replaces the resource (and loses a table's data).
PINNED = {
    "ServiceTabletransactionsCFA8E5B3": "AWS::DynamoDB::Table",
    "ServiceTabledecisions56E067DA": "AWS::DynamoDB::Table",
    "ServiceQueuefailuresB2B582CC": "AWS::SQS::Queue",
    "ServiceInferenceLogGroup8EB7AD76": "AWS::Logs::LogGroup",
    "ServiceInferenceRoleD597B666": "AWS::IAM::Role",
    "ServiceInferenceFunctionB15191E9": "AWS::Lambda::Function",
    "ServiceInferenceAlias7024078E": "AWS::Lambda::Alias",
    "ServiceInferencePolicyBBFE091F": "AWS::IAM::Policy",
    "ServiceInferenceAsyncConfig58C4E764": "AWS::Lambda::EventInvokeConfig",
    "ServiceInferenceScalableTargetFF186FF0": "AWS::ApplicationAutoScaling::ScalableTarget",
    "ServiceInferenceUtilizationPolicyFB391AD1": "AWS::ApplicationAutoScaling::ScalingPolicy",
    "ServiceHttpApiE206FBDA": "AWS::ApiGatewayV2::Api",
    "ServiceHttpStage29E39F3A": "AWS::ApiGatewayV2::Stage",
    "ServiceStreamtransactionsMapping7B3D7DDB": "AWS::Lambda::EventSourceMapping",
    "ServiceAlarmsTopic9264C83B": "AWS::SNS::Topic",
    "ServiceAlarmsDashboardF5C27EE2": "AWS::CloudWatch::Dashboard",
}
ALIAS = {"Ref": "ServiceInferenceAlias7024078E"}


def _template(synth: Synth) -> dict[str, Any]:
    return synth.templates["FraudDetectionStack"]


def test_logical_ids_are_pinned(synth: Synth) -> None:
    found = {k: v["Type"] for k, v in _template(synth)["Resources"].items()}
    for logical_id, type_ in PINNED.items():
        assert found.get(logical_id) == type_, logical_id


def test_function_matches_plan(synth: Synth) -> None:
    plan = build_plan(fraud_detection())
    t = Template.from_json(_template(synth))
    t.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": plan.function.name,
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Handler": plan.function.handler,
            "MemorySize": 1024,
            "Timeout": 10,
            "EphemeralStorage": {"Size": 512},
            "TracingConfig": {"Mode": "Active"},
            "Environment": {"Variables": dict(plan.function.environment)},
            "LoggingConfig": {"LogGroup": {"Ref": "ServiceInferenceLogGroup8EB7AD76"}},
        },
    )
    t.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30,
                                                      "LogGroupName": "/aws/lambda/fraud-detection"})  # fmt: skip


def test_every_trigger_targets_the_alias(synth: Synth) -> None:
    template = _template(synth)
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionName"] == ALIAS
    (integration,) = resources(template, "AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["IntegrationUri"] == ALIAS
    for permission in resources(template, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] == ALIAS
    (invoke_config,) = resources(template, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke_config["Properties"]["Qualifier"] == "live"


def test_stream_mapping_loses_nothing(synth: Synth) -> None:
    (mapping,) = resources(_template(synth), "AWS::Lambda::EventSourceMapping").values()
    p = mapping["Properties"]
    assert p["BisectBatchOnFunctionError"] is True
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert p["MaximumRetryAttempts"] == 3 and p["MaximumRecordAgeInSeconds"] == 3600
    assert p["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ServiceQueuefailuresB2B582CC", "Arn"]
    }
    assert p["EventSourceArn"] == {"Fn::GetAtt": ["ServiceTabletransactionsCFA8E5B3", "StreamArn"]}
    assert json.loads(p["FilterCriteria"]["Filters"][0]["Pattern"]) == {
        "eventName": ["INSERT", "MODIFY"]
    }


def test_pc_autoscaling_on_alias_tracks_maximum(synth: Synth) -> None:
    template = _template(synth)
    (target_id, target), = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").items()  # fmt: skip
    assert "ServiceInferenceAlias7024078E" in target["DependsOn"]
    assert target["Properties"]["ResourceId"] == "function:fraud-detection:live"
    actions = target["Properties"]["ScheduledActions"]
    assert [a["ScheduledActionName"] for a in actions] == [
        "fraud-detection-business-hours", "fraud-detection-off-hours",
    ]  # fmt: skip
    (policy,) = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    config = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 0.7
    metric = config["CustomizedMetricSpecification"]
    assert (metric["MetricName"], metric["Statistic"]) == (
        "ProvisionedConcurrencyUtilization",
        "Maximum",
    )
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    (alias,) = resources(template, "AWS::Lambda::Alias").values()
    assert alias["Properties"]["ProvisionedConcurrencyConfig"] == {
        "ProvisionedConcurrentExecutions": 1
    }


def test_role_has_one_inline_policy_and_no_managed_policies(synth: Synth) -> None:
    template = _template(synth)
    (role,) = resources(template, "AWS::IAM::Role").values()
    assert "ManagedPolicyArns" not in role["Properties"]
    policies = resources(template, "AWS::IAM::Policy")
    assert list(policies) == ["ServiceInferencePolicyBBFE091F"]
    statements = policies["ServiceInferencePolicyBBFE091F"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    sids = [s["Sid"] for s in statements]
    assert sids == [s.sid for s in build_plan(fraud_detection()).iam]


def test_data_resources_are_retained_and_encrypted(synth: Synth) -> None:
    t = Template.from_json(_template(synth))
    t.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "DeletionProtectionEnabled": True,
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True},
                }
            ),
        },
    )
    t.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True,
                                                  "MessageRetentionPeriod": 1209600})  # fmt: skip


def test_http_api_requires_iam_and_logs_access(synth: Synth) -> None:
    t = Template.from_json(_template(synth))
    t.has_resource_properties("AWS::ApiGatewayV2::Route", {"AuthorizationType": "AWS_IAM",
                                                           "RouteKey": "POST /score"})  # fmt: skip
    t.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
            "AccessLogSettings": Match.object_like(
                {"Format": Match.string_like_regexp("requestId")}
            ),
        },
    )


def test_alarms_match_plan(synth: Synth) -> None:
    plan = build_plan(fraud_detection())
    alarms = resources(_template(synth), "AWS::CloudWatch::Alarm")
    by_name = {a["Properties"]["AlarmName"]: a["Properties"] for a in alarms.values()}
    assert sorted(by_name) == sorted(a.name for a in plan.monitoring.alarms)
    for a in plan.monitoring.alarms:
        props = by_name[a.name]
        assert props["Threshold"] == a.threshold
        assert props["AlarmActions"] == [{"Ref": "ServiceAlarmsTopic9264C83B"}]
        if a.metric is not None:
            assert props["MetricName"] == a.metric.metric_name
            dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
            assert dims == dict(a.metric.dimensions)

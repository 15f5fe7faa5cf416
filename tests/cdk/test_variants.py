"""Concurrency modes and trigger kinds beyond the reference stack, synthesized once."""

from __future__ import annotations

import json
from typing import Any

from tests.cdk.conftest import EXISTING_KINESIS, EXISTING_STREAM, TOPIC, Synth, resources


def _of(synth: Synth, key: str, type_: str) -> list[dict[str, Any]]:
    """Properties of the ``type_`` resources under the variant construct ``key``."""
    template = synth.templates["VariantsStack"]
    return [
        r.get("Properties", {}) | {"_DependsOn": r.get("DependsOn", [])}
        for logical_id, r in resources(template, type_).items()
        if logical_id.startswith(key)
    ]


def test_static_pc_on_alias_with_reserved_concurrency(synth: Synth) -> None:
    (alias,) = _of(synth, "Static", "AWS::Lambda::Alias")
    assert alias["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 3}
    (fn,) = _of(synth, "Static", "AWS::Lambda::Function")
    assert fn["ReservedConcurrentExecutions"] == 20
    assert _of(synth, "Static", "AWS::ApplicationAutoScaling::ScalableTarget") == []


def test_target_tracking_and_function_url_on_alias(synth: Synth) -> None:
    (target,) = _of(synth, "Tracking", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 20)
    assert "ScheduledActions" not in target
    (url,) = _of(synth, "Tracking", "AWS::Lambda::Url")
    assert url["AuthType"] == "AWS_IAM"
    assert url["Qualifier"] == "live"  # the URL serves the alias, not $LATEST


def test_snapstart_existing_stream_and_user_topic(synth: Synth) -> None:
    (fn,) = _of(synth, "SnapStart", "AWS::Lambda::Function")
    assert fn["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    (alias,) = _of(synth, "SnapStart", "AWS::Lambda::Alias")
    assert "ProvisionedConcurrencyConfig" not in alias
    (mapping,) = _of(synth, "SnapStart", "AWS::Lambda::EventSourceMapping")
    assert mapping["EventSourceArn"] == EXISTING_STREAM
    assert _of(synth, "SnapStart", "AWS::SNS::Topic") == []
    assert _of(synth, "SnapStart", "AWS::CloudWatch::Dashboard") == []
    for alarm in _of(synth, "SnapStart", "AWS::CloudWatch::Alarm"):
        assert alarm["AlarmActions"] == [TOPIC]


def test_warmer_pings_the_alias(synth: Synth) -> None:
    (rule,) = _of(synth, "Warmed", "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert len(rule["Targets"]) == 2
    for target in rule["Targets"]:
        assert "Alias" in target["Arn"]["Ref"]
        assert json.loads(target["Input"]) == {"serverless-ml": "warmer"}
    permissions = _of(synth, "Warmed", "AWS::Lambda::Permission")
    assert any(p["Principal"] == "events.amazonaws.com" for p in permissions)
    (route,) = _of(synth, "Warmed", "AWS::ApiGatewayV2::Route")
    assert route["AuthorizationType"] == "NONE"


def test_kinesis_streams_on_alias_with_alerts(synth: Synth) -> None:
    (stream,) = _of(synth, "Kinesis", "AWS::Kinesis::Stream")
    assert stream["Name"] == "iot-kinesis-readings"
    assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    mappings = _of(synth, "Kinesis", "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 2
    for mapping in mappings:
        assert "Alias" in mapping["FunctionName"]["Ref"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert "FilterCriteria" not in mapping
    assert {str(m["EventSourceArn"]) for m in mappings} >= {EXISTING_KINESIS}
    alerts = [
        t
        for t in _of(synth, "Kinesis", "AWS::SNS::Topic")
        if t["TopicName"] == "iot-kinesis-alerts"
    ]
    assert alerts and alerts[0]["KmsMasterKeyId"] == "alias/aws/sns"
    names = {a["AlarmName"] for a in _of(synth, "Kinesis", "AWS::CloudWatch::Alarm")}
    assert {"iot-kinesis-kinesis-iterator-age-readings",
            "iot-kinesis-kinesis-iterator-age-plant-telemetry"} <= names  # fmt: skip
    (table,) = [t for t in _of(synth, "Kinesis", "AWS::DynamoDB::Table")
                if t["TableName"] == "iot-kinesis-anomalies"]  # fmt: skip
    assert [k["KeyType"] for k in table["KeySchema"]] == ["HASH", "RANGE"]


def test_a_compiled_model_ships_its_module_and_no_third_party_package(synth: Synth) -> None:
    (fn,) = _of(synth, "Compiled", "AWS::Lambda::Function")
    asset_hash = str(fn["Code"]["S3Key"]).removesuffix(".zip")
    asset = synth.outdir / f"asset.{asset_hash}"
    assert (asset / "model" / "compiled_model.py").is_file()
    assert not (asset / "model" / "model.onnx").exists()
    assert sorted(p.name for p in asset.iterdir()) == ["model", "sml_handlers"]
    assert fn["Handler"] == "sml_handlers.fraud.handler.handler"

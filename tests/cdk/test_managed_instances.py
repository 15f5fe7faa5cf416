"""Lambda Managed Instances in the synthesized templates: the capacity provider with its
operator role, the function's capacity-provider config, the version's environments, the
alarms of the mode; through the cdk-nag gate and cfn-lint, also when the reference stack takes
the mode from context."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aws_cdk import Validations
from aws_cdk.assertions import Match, Template

from serverless_ml.reference.cdk_app import build_app
from serverless_ml.spec import ConcurrencyPlan
from tests.cdk.conftest import EXISTING_PROVIDER, SECURITY_GROUP, SUBNETS, Synth, resources

ROOT = Path(__file__).resolve().parents[2]


def _of(synth: Synth, key: str, type_: str) -> dict[str, dict[str, Any]]:
    template = synth.templates["VariantsStack"]
    return {k: r for k, r in resources(template, type_).items() if k.startswith(key)}


def _one(synth: Synth, key: str, type_: str) -> tuple[str, dict[str, Any]]:
    found = {k: r for k, r in _of(synth, key, type_).items()
             if not k.startswith(f"{key}Existing")}  # fmt: skip
    assert len(found) == 1, (type_, sorted(found))
    return next(iter(found.items()))


def test_capacity_provider_and_operator_role(synth: Synth) -> None:
    logical, provider = _one(synth, "Managed", "AWS::Lambda::CapacityProvider")
    props = provider["Properties"]
    assert props["CapacityProviderName"] == "fraud-managed-capacity"
    assert props["VpcConfig"] == {"SubnetIds": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]}
    assert props["InstanceRequirements"] == {
        "Architectures": ["arm64"], "AllowedInstanceTypes": ["m7g.large", "m7g.xlarge"],
    }  # fmt: skip
    assert props["CapacityProviderScalingConfig"] == {
        "MaxVCpuCount": 64,
        "ScalingMode": "Manual",
        "ScalingPolicies": [
            {"PredefinedMetricType": "LambdaCapacityProviderAverageCPUUtilization",
             "TargetValue": 60}
        ],
    }  # fmt: skip
    role_id = props["PermissionsConfig"]["CapacityProviderOperatorRoleArn"]["Fn::GetAtt"][0]
    role = synth.templates["VariantsStack"]["Resources"][role_id]["Properties"]
    assert role["RoleName"] == "fraud-managed-cp-operator"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow",
         "Principal": {"Service": "lambda.amazonaws.com"}}
    ]  # fmt: skip
    assert role["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                           ":iam::aws:policy/AWSLambdaManagedEC2ResourceOperator"]]}
    ]  # fmt: skip
    assert "Policies" not in role  # least privilege: AWS's documented minimum, nothing more
    assert {"Key": "serverless-ml:service", "Value": "fraud-managed"} in props["Tags"]
    assert logical.startswith("ManagedCapacityProvider")


def test_function_runs_on_the_capacity_provider(synth: Synth) -> None:
    provider_id, _ = _one(synth, "Managed", "AWS::Lambda::CapacityProvider")
    _, function = _one(synth, "Managed", "AWS::Lambda::Function")
    props = function["Properties"]
    assert props["CapacityProviderConfig"] == {
        "LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": {"Fn::GetAtt": [provider_id, "Arn"]},
            "ExecutionEnvironmentMemoryGiBPerVCpu": 4,
            "PerExecutionEnvironmentMaxConcurrency": 8,
        }
    }
    assert props["PublishToLatestPublished"] is False
    assert props["MemorySize"] == 4096
    assert props["Runtime"] == "python3.13"
    assert props["Environment"]["Variables"]["SML_REQUESTS_PER_ENVIRONMENT"] == "8"
    assert props["Environment"]["Variables"]["SML_VCPUS_PER_ENVIRONMENT"] == "1"
    for absent in ("SnapStart", "VpcConfig", "ReservedConcurrentExecutions"):
        assert absent not in props
    _, version = _one(synth, "Managed", "AWS::Lambda::Version")
    assert version["Properties"]["FunctionScalingConfig"] == {
        "MinExecutionEnvironments": 3, "MaxExecutionEnvironments": 12,
    }  # fmt: skip
    _, alias = _one(synth, "Managed", "AWS::Lambda::Alias")
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    assert _of(synth, "Managed", "AWS::ApplicationAutoScaling::ScalableTarget") == {}
    assert _of(synth, "Managed", "AWS::Events::Rule") == {}


def test_an_existing_provider_is_referenced_not_created(synth: Synth) -> None:
    assert _of(synth, "ManagedExisting", "AWS::Lambda::CapacityProvider") == {}
    (function,) = _of(synth, "ManagedExisting", "AWS::Lambda::Function").values()
    config = function["Properties"]["CapacityProviderConfig"]
    assert config["LambdaManagedInstancesCapacityProviderConfig"] == {
        "CapacityProviderArn": EXISTING_PROVIDER,
        "ExecutionEnvironmentMemoryGiBPerVCpu": 8,
    }
    assert function["Properties"]["MemorySize"] == 8192  # one vCPU at 8 GiB per vCPU
    (version,) = _of(synth, "ManagedExisting", "AWS::Lambda::Version").values()
    assert "FunctionScalingConfig" not in version["Properties"]
    roles = _of(synth, "ManagedExisting", "AWS::IAM::Role")
    assert [r["Properties"]["RoleName"] for r in roles.values()] == ["iot-managed-fn-role"]


def test_alarms_fit_the_mode(synth: Synth) -> None:
    alarms = {a["Properties"]["AlarmName"]: a["Properties"]
              for a in _of(synth, "Managed", "AWS::CloudWatch::Alarm").values()
              if a["Properties"]["AlarmName"].startswith("fraud-managed-")}  # fmt: skip
    assert "fraud-managed-cold-starts" not in alarms
    assert not {"fraud-managed-pc-spillover", "fraud-managed-pc-utilization"} & set(alarms)
    cpu = alarms["fraud-managed-capacity-cpu"]
    assert (cpu["Namespace"], cpu["MetricName"], cpu["Statistic"]) == (
        "AWS/Lambda", "CPUUtilization", "Average",
    )  # fmt: skip
    assert cpu["Dimensions"] == [{"Name": "CapacityProviderName",
                                  "Value": "fraud-managed-capacity"}]  # fmt: skip
    saturated = alarms["fraud-managed-concurrency-saturation"]
    assert (saturated["MetricName"], saturated["Statistic"], saturated["Threshold"]) == (
        "ConcurrentExecutions", "Maximum", 87,  # 90% of 12 environments x 8 requests
    )  # fmt: skip
    assert "Managed Instances" in alarms["fraud-managed-throttles"]["AlarmDescription"]


def test_the_gate_tells_nag_and_checkov_why(synth: Synth) -> None:
    service = synth.services["Managed"]
    acknowledged: dict[str, str] = {}
    for node in service.node.find_child("CapacityProvider").node.find_all():
        for entry in node.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledged.update(entry.data)
    rule = ("AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "AWSLambdaManagedEC2ResourceOperator]")  # fmt: skip
    assert "ec2:ManagedResourceOperator" in acknowledged[rule]
    _, function = _one(synth, "Managed", "AWS::Lambda::Function")
    skips = {s["id"]: s["comment"] for s in function["Metadata"]["checkov"]["skip"]}
    assert "capacity provider" in skips["CKV_AWS_117"]  # in the VPC, not through VpcConfig
    assert "environments" in skips["CKV_AWS_115"]


def test_the_reference_stack_takes_the_mode_from_context(tmp_path: Path) -> None:
    """`cdk deploy -c fraud-detection:concurrency-plan=... -c :subnet-ids=... -c
    :security-group-ids=...`, synthesized through the cdk-nag gate, then cfn-lint."""
    path = tmp_path / "mi.json"
    path.write_text(json.dumps(ConcurrencyPlan.managed_instances(max_environments=6).to_dict()))
    context = {
        "fraud-detection:concurrency-plan": str(path),
        "fraud-detection:subnet-ids": ",".join(SUBNETS),
        "fraud-detection:security-group-ids": SECURITY_GROUP,
    }
    outdir = tmp_path / "out"
    app = build_app(outdir=outdir, context=context)
    app.synth()  # the cdk-nag gate
    template = Template.from_stack(app.node.find_child("FraudDetectionStack"))  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::Lambda::CapacityProvider",
        {"CapacityProviderName": "fraud-detection-capacity",
         "VpcConfig": {"SubnetIds": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]},
         "CapacityProviderScalingConfig": {"MaxVCpuCount": 400, "ScalingMode": "Auto"}},
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"MemorySize": 4096,
         "CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {
             "CapacityProviderArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
             "ExecutionEnvironmentMemoryGiBPerVCpu": 4}}},
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::Lambda::Version", {"FunctionScalingConfig": {"MaxExecutionEnvironments": 6}}
    )
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    linted = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"),
         str(outdir / "FraudDetectionStack.template.json")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr

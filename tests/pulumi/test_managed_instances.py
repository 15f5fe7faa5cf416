"""Lambda Managed Instances under the Pulumi mocks: the capacity provider and its operator
role (names, parents, the policy attached before the provider), the function's config on the
provider's ARN, the published version's environments, and the reference program taking the
mode from its config."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pulumi
import pytest

from serverless_ml.reference.scenarios import fraud_detection
from serverless_ml.spec import CapacityProvider, ConcurrencyPlan
from tests.golden.snapshot import pulumi_snapshot
from tests.pulumi.conftest import case
from tests.pulumi.harness import PROJECT, Rendered, render, run_with_mocks

PROVIDER = "aws:lambda/capacityProvider:CapacityProvider"
STACKS = Path(__file__).resolve().parents[2] / "stacks"
SUBNETS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002")
GROUP = "sg-0a1b2c3d4e5f60001"


def _urn(r: Rendered, name: str) -> str:
    return r.named(name).urn


def test_capacity_provider_operator_role_and_attachment() -> None:
    r = case("managed").render
    provider = r.named("fraud-managed-capacity-provider", PROVIDER)
    role = r.named("fraud-managed-capacity-provider-operator", "aws:iam/role:Role")
    attachment = r.named("fraud-managed-capacity-provider-operator-policy-0")
    service = r.named("fraud-managed", "serverless-ml:index:InferenceService")
    for child in (provider, role, attachment):
        assert child.parent == service.urn
    assert provider.inputs["name"] == "fraud-managed-capacity"
    assert provider.inputs["vpcConfig"] == {
        "subnetIds": list(SUBNETS),
        "securityGroupIds": [GROUP, "sg-0a1b2c3d4e5f60002"],
    }
    assert provider.inputs["instanceRequirements"] == [
        {"architectures": ["x86_64"], "allowedInstanceTypes": [],
         "excludedInstanceTypes": ["m5.large"]}
    ]  # fmt: skip
    assert provider.inputs["capacityProviderScalingConfigs"] == [
        {"maxVcpuCount": 400, "scalingMode": "Auto", "scalingPolicies": []}
    ]
    assert provider.inputs["permissionsConfig"] == {
        "capacityProviderOperatorRoleArn": role.outputs["arn"]
    }
    assert attachment.urn in provider.dependencies  # Lambda checks the role's permissions
    assert attachment.inputs == {
        "role": "fraud-managed-cp-operator",
        "policyArn": "arn:aws:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator",
    }
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow",
         "Principal": {"Service": "lambda.amazonaws.com"}}
    ]  # fmt: skip
    assert (
        role.inputs["tags"] == provider.inputs["tags"] == {"serverless-ml:service": "fraud-managed"}
    )


def test_function_config_and_environments() -> None:
    r = case("managed").render
    provider = r.named("fraud-managed-capacity-provider", PROVIDER)
    function = r.named("fraud-managed-function")
    assert function.inputs["capacityProviderConfig"] == {
        "lambdaManagedInstancesCapacityProviderConfig": {
            "capacityProviderArn": provider.outputs["arn"],
            "executionEnvironmentMemoryGibPerVcpu": 2.0,
        }
    }
    assert function.inputs["publish"] is True and "publishTo" not in function.inputs
    assert function.inputs["architectures"] == ["x86_64"]
    environments = r.named("fraud-managed-environments")
    assert (
        environments.parent
        == r.named("fraud-managed", "serverless-ml:lambda:InferenceFunction").urn
    )
    assert environments.inputs == {
        "functionName": "fraud-managed",
        "qualifier": function.outputs["version"],  # the version the alias serves
        "functionScalingConfig": {"maxExecutionEnvironments": 20},
    }
    variables = function.inputs["environment"]["variables"]
    # 8192 MB at 2 GiB per vCPU: 4 vCPUs, Python's 16 requests per vCPU.
    assert (variables["SML_VCPUS_PER_ENVIRONMENT"], variables["SML_REQUESTS_PER_ENVIRONMENT"]) == (
        "4", "64",
    )  # fmt: skip
    for absent in (
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
        "aws:appautoscaling/target:Target",
        "aws:cloudwatch/eventRule:EventRule",
    ):
        assert r.of_type(absent) == []


def test_alarms_of_the_mode() -> None:
    alarms = {
        a.inputs["name"]: a.inputs
        for a in case("managed").render.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert "fraud-managed-cold-starts" not in alarms
    cpu = alarms["fraud-managed-capacity-cpu"]
    assert (cpu["metricName"], cpu["threshold"]) == ("CPUUtilization", 70)
    assert cpu["dimensions"] == {"CapacityProviderName": "fraud-managed-capacity"}
    saturated = alarms["fraud-managed-concurrency-saturation"]
    assert saturated["threshold"] == 1152  # 90% of 20 environments x 64 requests


def test_the_program_takes_the_mode_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi config set concurrencyPlan mi.json`, `subnetIds ...`, `securityGroupIds ...`."""
    plan = ConcurrencyPlan.managed_instances(max_environments=6)
    path = tmp_path / "mi.json"
    path.write_text(json.dumps(plan.to_dict()))
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps({f"{PROJECT}:concurrencyPlan": str(path),
                    f"{PROJECT}:subnetIds": ",".join(SUBNETS),
                    f"{PROJECT}:securityGroupIds": GROUP}),
    )  # fmt: skip
    program = STACKS / "pulumi-fraud-detection" / "__main__.py"

    def run() -> pulumi.Output[None]:
        runpy.run_path(str(program), run_name="__main__")
        return pulumi.Output.from_input(None)

    mocks, _ = run_with_mocks(run)
    provider = CapacityProvider.new(subnet_ids=SUBNETS, security_group_ids=(GROUP,))
    expected = render(fraud_detection(concurrency=plan.with_capacity_provider(provider)))
    assert pulumi_snapshot(mocks.resources) == pulumi_snapshot(expected.resources)
    assert [r.type for r in mocks.resources].count(PROVIDER) == 1

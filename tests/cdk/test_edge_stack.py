"""EdgePersonalizationStack as synthesized (through the cdk-nag gate with every other stack):
one us-east-1 stack, a plain function and a retained numbered version the distribution runs,
the site bucket readable by this distribution only, alarms on both."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack

from serverless_ml.cdk.edge import EdgePersonalization
from serverless_ml.reference.scenarios import edge_personalization
from serverless_ml.spec import SpecError
from tests.cdk.conftest import Synth, resources

STACK = "EdgePersonalizationStack"


@pytest.fixture(scope="module")
def template(synth: Synth) -> dict[str, Any]:
    return synth.templates[STACK]


def _one(template: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    (found,) = resources(template, type_).items()
    return found


def test_function_and_version_are_retained_and_the_version_is_keyed_by_content(
    synth: Synth, template: dict[str, Any]
) -> None:
    name, function = _one(template, "AWS::Lambda::Function")
    assert function["DeletionPolicy"] == function["UpdateReplacePolicy"] == "Retain"
    props = function["Properties"]
    assert "Environment" not in props and "Layers" not in props and "VpcConfig" not in props
    assert (props["Runtime"], props["Architectures"], props["MemorySize"], props["Timeout"]) == (
        "python3.13",
        ["x86_64"],
        128,
        5,
    )
    version_id, version = _one(template, "AWS::Lambda::Version")
    assert version["DeletionPolicy"] == version["UpdateReplacePolicy"] == "Retain"
    assert version["Properties"]["FunctionName"] == {"Ref": name}
    assert re.fullmatch(r"ServiceVersion[0-9a-f]{16}[0-9A-F]{8}", version_id), version_id
    service = synth.edge["edge-personalization"]
    code = Path(service.function.node.default_child.code.s3_key)  # type: ignore[union-attr]
    assert service.version.node.id.startswith("Version") and code.suffix == ".zip"
    assert not resources(template, "Custom::CrossRegionExportReader")  # no support stack reads
    assert "AWS::SSM::Parameter" not in {r["Type"] for r in template["Resources"].values()}


def test_the_role_trusts_lambda_and_edgelambda(template: dict[str, Any]) -> None:
    _, role = _one(template, "AWS::IAM::Role")
    statement = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    services = [s["Principal"]["Service"] for s in statement]
    principals = {p for v in services for p in ([v] if isinstance(v, str) else v)}
    assert principals == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}


def test_the_distribution_runs_the_version_with_the_plan_s_policies(
    template: dict[str, Any],
) -> None:
    version_id, _ = _one(template, "AWS::Lambda::Version")
    _, distribution = _one(template, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["LambdaFunctionAssociations"] == [
        {"EventType": "origin-request", "LambdaFunctionARN": {"Ref": version_id}}
    ]
    cache_id, cache = _one(template, "AWS::CloudFront::CachePolicy")
    assert behavior["CachePolicyId"] == {"Fn::GetAtt": [cache_id, "Id"]}
    key = cache["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert "CloudFront-Viewer-Country" in key["HeadersConfig"]["Headers"]
    assert key["CookiesConfig"]["Cookies"] == ["sml_variant", "sml_visits"]
    oac_id, _ = _one(template, "AWS::CloudFront::OriginAccessControl")
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"


def test_only_this_distribution_reads_the_site_bucket(template: dict[str, Any]) -> None:
    distribution_id, _ = _one(template, "AWS::CloudFront::Distribution")
    _, policy = _one(template, "AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    source = read["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert {"Fn::GetAtt": [distribution_id, "Id"]} in source["Fn::Join"][1]
    _, bucket = _one(template, "AWS::S3::Bucket")
    assert bucket["DeletionPolicy"] == "Retain"


def test_alarms_on_the_function_and_the_distribution(template: dict[str, Any]) -> None:
    distribution_id, _ = _one(template, "AWS::CloudFront::Distribution")
    alarms = {a["Properties"]["AlarmName"]: a["Properties"]
              for a in resources(template, "AWS::CloudWatch::Alarm").values()}  # fmt: skip
    rate = alarms["edge-personalization-distribution-5xx-rate"]
    assert rate["Namespace"] == "AWS/CloudFront" and rate["MetricName"] == "5xxErrorRate"
    assert {"Name": "DistributionId", "Value": {"Fn::GetAtt": [distribution_id, "Id"]}} in rate[
        "Dimensions"
    ]
    assert {"Name": "Region", "Value": "Global"} in rate["Dimensions"]
    assert alarms["edge-personalization-errors"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": "edge-personalization"}
    ]


@pytest.mark.parametrize("env", [Environment(region="eu-west-1"), None])
def test_a_stack_outside_us_east_1_is_refused(env: Environment | None, tmp_path: Any) -> None:
    stack = Stack(App(outdir=str(tmp_path)), "Elsewhere", env=env)
    with pytest.raises(SpecError, match="SML408"):
        EdgePersonalization(stack, "Edge", spec=edge_personalization(), code_dir=tmp_path)

"""The plan's security gate, told to the CDK tools: cdk-nag and checkov.

Core's gate decides (``core.gate``); this module only translates. For every finding the plan
accepts, and every concern it meets otherwise, the cdk-nag rules and checkov checks that
cover the same concern are acknowledged on the construct of that subject, with the plan's
text as the reason: a cdk-nag acknowledgment (``Validations``) and a ``checkov.skip`` entry
in the resource's CloudFormation metadata. Nothing here decides what is acceptable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import CfnResource
from constructs import IConstruct

from serverless_ml.cdk.nag import acknowledge
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.core.gate import GateReport
from serverless_ml.core.gate_rules import Verdict


@dataclass(frozen=True)
class Equivalent:
    """The external checks covering one gate rule on one kind of subject."""

    nag: tuple[str, ...] = ()  # cdk-nag rule ids: "<Pack>-<rule>"
    checkov: tuple[tuple[str, str], ...] = ()  # (check id, CloudFormation type it reads)


# (gate rule, subject kind) -> the same concern in cdk-nag and checkov. A test checks that
# every id here exists in the installed cdk-nag and checkov.
EQUIVALENTS: Mapping[tuple[str, str], Equivalent] = {
    ("encryption-at-rest", "queue"): Equivalent(checkov=(("CKV_AWS_27", "AWS::SQS::Queue"),)),
    ("customer-managed-keys", "table"): Equivalent(
        checkov=(("CKV_AWS_119", "AWS::DynamoDB::Table"),)
    ),
    ("customer-managed-keys", "log_group"): Equivalent(
        checkov=(("CKV_AWS_158", "AWS::Logs::LogGroup"),)
    ),
    ("customer-managed-keys", "http"): Equivalent(
        checkov=(("CKV_AWS_158", "AWS::Logs::LogGroup"),)
    ),
    ("customer-managed-keys", "function"): Equivalent(
        checkov=(("CKV_AWS_173", "AWS::Lambda::Function"),)
    ),
    ("http-auth", "http"): Equivalent(
        nag=("AwsSolutions-APIG4",), checkov=(("CKV_AWS_258", "AWS::Lambda::Url"),)
    ),
    ("on-failure-destination", "function"): Equivalent(
        nag=("Serverless-LambdaDLQ",), checkov=(("CKV_AWS_116", "AWS::Lambda::Function"),)
    ),
    ("on-failure-destination", "s3rule"): Equivalent(nag=("Serverless-EventBusDLQ",)),
    ("on-failure-destination", "warmer"): Equivalent(nag=("Serverless-EventBusDLQ",)),
    ("on-failure-destination", "queue"): Equivalent(
        nag=("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy")
    ),
    ("on-failure-destination", "alarm_topic"): Equivalent(nag=("Serverless-SNSRedrivePolicy",)),
    ("latest-runtime", "function"): Equivalent(
        nag=("AwsSolutions-L1", "Serverless-LambdaLatestVersion")
    ),
    ("network-isolation", "function"): Equivalent(
        checkov=(("CKV_AWS_117", "AWS::Lambda::Function"),)
    ),
    ("concurrency-limit", "function"): Equivalent(
        checkov=(("CKV_AWS_115", "AWS::Lambda::Function"),)
    ),
    ("access-logging", "bucket"): Equivalent(
        nag=("AwsSolutions-S1",), checkov=(("CKV_AWS_18", "AWS::S3::Bucket"),)
    ),
    ("tracing", "function"): Equivalent(nag=("Serverless-LambdaTracing",)),
    ("access-logging", "distribution"): Equivalent(
        nag=("AwsSolutions-CFR3",), checkov=(("CKV_AWS_86", "AWS::CloudFront::Distribution"),)
    ),
    ("web-firewall", "distribution"): Equivalent(
        nag=("AwsSolutions-CFR2",), checkov=(("CKV_AWS_68", "AWS::CloudFront::Distribution"),)
    ),
    ("viewer-tls", "distribution"): Equivalent(
        nag=("AwsSolutions-CFR4",), checkov=(("CKV_AWS_174", "AWS::CloudFront::Distribution"),)
    ),
    ("geo-restriction", "distribution"): Equivalent(nag=("AwsSolutions-CFR1",)),
}


def subject_kind(subject: str) -> str:
    """``"table:decisions"`` -> ``"table"``; a function-core subject is its own kind."""
    return subject.partition(":")[0]


def _nag_rules(verdict: Verdict, refs: RefResolver) -> tuple[str, ...]:
    """A scoped wildcard in the role policy is one granular ``IAM5[Resource::...]`` finding, an
    AWS managed policy on a role one granular ``IAM4[Policy::...]`` finding."""
    if verdict.rule == "scoped-resources" and verdict.target is not None:
        return (f"AwsSolutions-IAM5[Resource::{refs.nag_name(verdict.target)}]",)
    if verdict.rule == "managed-policies" and verdict.target is not None:
        return (f"AwsSolutions-IAM4[Policy::{refs.nag_name(verdict.target)}]",)
    equivalent = EQUIVALENTS.get((verdict.rule, subject_kind(verdict.subject)))
    return () if equivalent is None else equivalent.nag


def apply_gate(report: GateReport, subjects: Mapping[str, IConstruct], refs: RefResolver) -> None:
    """Acknowledge, on each subject's construct, what the plan explains."""
    # By construct path: jsii hands out a new proxy object per lookup of the same resource.
    resources: dict[str, CfnResource] = {}
    skips: dict[str, list[dict[str, str]]] = defaultdict(list)
    for verdict, reason in report.explained():
        node = subjects[verdict.subject]
        for rule in _nag_rules(verdict, refs):
            pack = rule.split("-", 1)[0]
            acknowledge(node, pack, rule, reason)  # type: ignore[arg-type]
        equivalent = EQUIVALENTS.get((verdict.rule, subject_kind(verdict.subject)))
        for check, cfn_type in () if equivalent is None else equivalent.checkov:
            for resource in _resources(node, cfn_type):
                path = resource.node.path
                resources[path] = resource
                entry = {"id": check, "comment": f"{verdict.rule}: {reason}"}
                if entry not in skips[path]:
                    skips[path].append(entry)
    for path, entries in skips.items():
        resources[path].add_metadata("checkov", {"skip": entries})


def _resources(node: IConstruct, cfn_type: str) -> list[CfnResource]:
    """The subject's resources a check reads (none: the check does not apply to this one,
    e.g. the Function URL check on an HTTP API)."""
    return [
        c
        for c in node.node.find_all()
        if isinstance(c, CfnResource) and c.cfn_resource_type == cfn_type
    ]

"""cdk-nag at the edge of each resource: acknowledgments with reasons, and the synth gate."""

from __future__ import annotations

from typing import Literal

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

Pack = Literal["AwsSolutions", "Serverless"]


def acknowledge(node: IConstruct, pack: Pack, rule: str, reason: str) -> None:
    """Record, next to the resource, why a finding does not apply.

    ``rule`` is e.g. ``"AwsSolutions-S1"`` or a granular ``"AwsSolutions-IAM5[Resource::*]"``.
    """
    Validations.of(node).acknowledge(Acknowledgment(id=f"{pack}::{rule}", reason=reason))


def enable_nag(app: App) -> None:
    """Run the AwsSolutions and Serverless packs at synth: a finding stops ``app.synth()``."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))

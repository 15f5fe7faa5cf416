"""Access to the L1 (CloudFormation) resource behind an L2 construct."""

from __future__ import annotations

from aws_cdk import CfnElement
from constructs import Construct


def cfn_of(construct: Construct) -> CfnElement:
    """The construct's ``default_child``, checked."""
    child = construct.node.default_child
    assert isinstance(child, CfnElement), f"{construct.node.path} has no L1 default child"
    return child

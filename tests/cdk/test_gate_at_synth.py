"""The CDK construct runs the plan's security gate before it creates any resource."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, CfnResource, Stack

from serverless_ml.cdk import InferenceService
from serverless_ml.core.gate import SecurityGateError
from tests.unit.test_security_gate import public_fraud


def test_the_construct_refuses_before_creating_anything(tmp_path: Path) -> None:
    stack = Stack(App(outdir=str(tmp_path)), "Gate")
    with pytest.raises(SecurityGateError, match="SML701"):
        InferenceService(stack, "Service", spec=public_fraud(), code_dir=tmp_path)
    assert not [c for c in stack.node.find_all() if isinstance(c, CfnResource)]

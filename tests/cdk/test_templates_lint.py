"""Every synthesized template is clean under cfn-lint (config: .cfnlintrc, W3005 only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aws_cdk import Validations

from serverless_ml.reference.scenarios import EDGE_STACK_IDS, STACK_IDS
from tests.cdk.conftest import Synth

ROOT = Path(__file__).resolve().parents[2]


def test_cfn_lint_clean(synth: Synth) -> None:
    templates = sorted(str(p) for p in synth.outdir.glob("*.template.json"))
    names = {Path(t).name.removesuffix(".template.json") for t in templates}
    assert {*STACK_IDS.values(), *EDGE_STACK_IDS.values()} <= names, (
        "every reference stack is linted"
    )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *templates],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_acknowledgment_has_a_reason(synth: Synth) -> None:
    """Findings are acknowledged next to their resource, each with a reason worth reading."""
    acknowledged: dict[str, str] = {}
    for service in (*synth.services.values(), *synth.edge.values()):
        for node in service.node.find_all():
            for entry in node.node.metadata:
                if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    acknowledged.update(entry.data)
    assert "Serverless::Serverless-LambdaDLQ" in acknowledged
    assert any(rule.startswith("AwsSolutions::AwsSolutions-IAM5[") for rule in acknowledged)
    for rule, reason in acknowledged.items():
        assert len(reason) > 30, (rule, reason)

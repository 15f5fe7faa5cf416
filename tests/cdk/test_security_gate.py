"""The gate told to the CDK tools: checkov passes every synthesized template, each skip next
to its resource with the plan's reason; every cdk-nag rule and checkov check the gate names
exists in the installed tools."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Validations

from serverless_ml.cdk.gate import EQUIVALENTS
from serverless_ml.reference.scenarios import EDGE_STACK_IDS, STACK_IDS
from serverless_ml.spec import GATE_RULES
from tests.cdk.conftest import Synth

ROOT = Path(__file__).resolve().parents[2]


def _checkov() -> str:
    """The Makefile's checkov (its own venv); outside ``make`` set SML_CHECKOV."""
    path = os.environ.get("SML_CHECKOV") or str(ROOT / ".venv-checkov" / "bin" / "checkov")
    if not Path(path).exists():
        if os.environ.get("CI"):
            raise AssertionError(f"checkov is missing at {path}: `make setup` installs it")
        pytest.skip(f"checkov not installed at {path}: run `make setup`")
    return path


def _run(*args: str) -> str:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # no guideline download (offline CI)
    result = subprocess.run(
        [_checkov(), *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def checkov_report(synth: Synth) -> dict[str, Any]:
    files = sorted(str(p) for p in synth.outdir.glob("*.template.json"))
    args = [a for f in files for a in ("-f", f)]
    report: dict[str, Any] = json.loads(
        _run(*args, "--framework", "cloudformation", "-o", "json", "--compact")
    )
    return report


def test_checkov_passes_every_template(synth: Synth, checkov_report: dict[str, Any]) -> None:
    results = checkov_report["results"]
    failed = [
        f"{c['check_id']} {c['resource']} ({Path(c['file_path']).name})"
        for c in results["failed_checks"]
    ]
    assert not failed, "fix it in the plan or accept it next to its part:\n" + "\n".join(failed)
    files = {Path(c["file_path"]).name for c in results["passed_checks"]}
    assert {f"{s}.template.json" for s in (*STACK_IDS.values(), *EDGE_STACK_IDS.values())} <= files
    per_file = Counter(
        (Path(c["file_path"]).name.removesuffix(".template.json"), kind)
        for kind in ("passed_checks", "skipped_checks")
        for c in results[kind]
    )
    print("\ncheckov per template (passed / failed / skipped):")
    for stack in sorted({s for s, _ in per_file}):
        print(f"  {stack}: {per_file[stack, 'passed_checks']} / 0 / "
              f"{per_file[stack, 'skipped_checks']}")  # fmt: skip


def test_every_checkov_skip_carries_the_plan_s_reason(checkov_report: dict[str, Any]) -> None:
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped, "the reference stacks accept findings: their skips must reach checkov"
    for c in skipped:
        comment = str(c["check_result"].get("suppress_comment", ""))
        rule, _, reason = comment.partition(": ")
        assert rule in GATE_RULES, c
        assert len(reason) >= 60, c


def _installed_nag_rules() -> set[str]:
    """Rule ids of the installed cdk-nag's AwsSolutions and Serverless packs, read from its
    jsii bundle (``AwsSolutions-<suffix>``; ``Serverless-<rule name>``)."""
    import cdk_nag

    (bundle,) = (Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz")
    ids: set[str] = set()
    with tarfile.open(bundle) as tar:
        for pack, prefix in (("aws-solutions", "AwsSolutions"), ("serverless", "Serverless")):
            member = tar.extractfile(f"package/lib/packs/{pack}.js")
            assert member is not None
            source = member.read().decode()
            suffixes = re.findall(r"ruleSuffixOverride: '([A-Za-z0-9]+)'", source)
            names = re.findall(r"rule: [a-z0-9_]+\.([A-Za-z0-9]+),", source)
            ids |= {f"{prefix}-{s}" for s in suffixes or names}
    return ids


def test_every_nag_rule_the_gate_names_exists_in_installed_cdk_nag(synth: Synth) -> None:
    installed = _installed_nag_rules()
    assert {"AwsSolutions-IAM5", "Serverless-LambdaDLQ"} <= installed
    named = {rule for e in EQUIVALENTS.values() for rule in e.nag}
    assert named <= installed, named - installed
    acknowledged = {
        rule.split("::", 1)[1].split("[", 1)[0]
        for service in (*synth.services.values(), *synth.edge.values())
        for node in service.node.find_all()
        for entry in node.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }
    assert acknowledged <= installed, acknowledged - installed


def test_every_checkov_check_the_gate_names_exists_for_its_resource_type() -> None:
    listing = _run("--list", "--framework", "cloudformation")
    installed = set(
        re.findall(r"\|\s+(CKV2?_AWS_\d+)\s+\|\s+resource\s+\|\s+(AWS::[\w:]+)", listing)
    )
    named = {pair for e in EQUIVALENTS.values() for pair in e.checkov}
    assert named <= installed, named - installed

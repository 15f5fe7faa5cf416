"""Every reference scenario has a Pulumi program (``stacks/pulumi-<scenario>``) that, run as
Pulumi would run it, registers exactly what rendering the scenario's spec registers."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi
import pytest

from serverless_ml.reference.scenarios import SCENARIOS
from tests.golden.snapshot import pulumi_snapshot
from tests.pulumi.harness import render, run_with_mocks

STACKS = Path(__file__).resolve().parents[2] / "stacks"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_program_deploys_its_scenario(scenario: str) -> None:
    program = STACKS / f"pulumi-{scenario}" / "__main__.py"
    assert program.is_file(), f"scenario {scenario!r} needs a Pulumi program at {program}"
    assert (program.parent / "Pulumi.yaml").is_file()

    def run() -> pulumi.Output[None]:
        runpy.run_path(str(program), run_name="__main__")
        return pulumi.Output.from_input(None)

    mocks, _ = run_with_mocks(run)
    expected = render(SCENARIOS[scenario]())
    assert pulumi_snapshot(mocks.resources) == pulumi_snapshot(expected.resources)

"""stacks/pulumi-edge-personalization, run as Pulumi would run it, registers what rendering the
reference spec registers."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi

from serverless_ml.reference.scenarios import EDGE_SCENARIOS, edge_personalization
from tests.golden.snapshot import pulumi_snapshot
from tests.pulumi.harness import render_edge, run_with_mocks

STACKS = Path(__file__).resolve().parents[2] / "stacks"


def test_every_edge_scenario_has_a_program_deploying_it() -> None:
    assert set(EDGE_SCENARIOS) == {"edge-personalization"}
    program = STACKS / "pulumi-edge-personalization" / "__main__.py"

    def run() -> pulumi.Output[None]:
        runpy.run_path(str(program), run_name="__main__")
        return pulumi.Output.from_input(None)

    mocks, _ = run_with_mocks(run)
    expected = render_edge(edge_personalization())
    assert pulumi_snapshot(mocks.resources) == pulumi_snapshot(expected.resources)
    assert (program.parent / "Pulumi.yaml").is_file() and (program.parent / "README.md").is_file()

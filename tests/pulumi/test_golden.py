"""The reference programs register what the committed snapshots hold (tests/golden): same
names, parents, inputs, dependencies and options, unless a difference is listed as
deliberate."""

from __future__ import annotations

import pytest

from serverless_ml.reference.scenarios import SCENARIOS
from tests.golden.differences import DELIBERATE
from tests.golden.snapshot import REFERENCE_STACKS, diff, load, pulumi_snapshot
from tests.pulumi.harness import render


@pytest.mark.parametrize("stack", sorted(REFERENCE_STACKS))
def test_reference_registrations_match_snapshot(stack: str) -> None:
    rendered = render(SCENARIOS[REFERENCE_STACKS[stack]]())
    changes = diff(load("pulumi", stack), pulumi_snapshot(rendered.resources))
    assert sorted(changes) == sorted(DELIBERATE.get(("pulumi", stack), {})), "\n".join(changes)

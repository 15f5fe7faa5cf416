"""The reference stacks synthesize as the committed snapshots (tests/golden): a refactor that
would replace or reconfigure a deployed resource shows up here, unless listed as deliberate."""

from __future__ import annotations

import pytest

from tests.cdk.conftest import Synth
from tests.golden.differences import DELIBERATE
from tests.golden.snapshot import REFERENCE_STACKS, cdk_snapshot, diff, load


@pytest.mark.parametrize("stack", sorted(REFERENCE_STACKS))
def test_reference_template_matches_snapshot(synth: Synth, stack: str) -> None:
    changes = diff(load("cdk", stack), cdk_snapshot(synth.templates[stack]))
    assert sorted(changes) == sorted(DELIBERATE.get(("cdk", stack), {})), "\n".join(changes)

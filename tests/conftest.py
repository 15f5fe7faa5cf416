"""Session-wide test settings."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

# Expensive session fixtures (a jsii synth, a Pulumi render) run once: every test that uses
# them stays on one xdist worker.
_GROUPS = {"cdk": "synth", "parity": "synth", "pulumi": "pulumi"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        for folder, group in _GROUPS.items():
            if "tests" in parts and folder in parts[parts.index("tests") :]:
                item.add_marker(pytest.mark.xdist_group(group))

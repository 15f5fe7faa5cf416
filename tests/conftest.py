"""Session-wide test settings."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import settings

# CI runs the same examples every time (a red build must be reproducible); locally hypothesis
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _node_major() -> str:
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "1"
    return out.stdout.strip().lstrip("v").split(".")[0]


# jsii silences its end-of-life banner only for the node major version it is given.
_NODE_MAJOR = os.environ.get("NODE_MAJOR") or _node_major()
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", _NODE_MAJOR)
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", _NODE_MAJOR)
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

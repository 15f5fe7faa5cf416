"""The Pulumi component runs the same security gate when the program runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pulumi.harness import render
from tests.unit.test_security_gate import public_fraud


def test_the_component_refuses_the_same_way(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="SML701") as raised:
        render(public_fraud(), code_dir=tmp_path)
    assert "http-auth on http:http" in str(raised.value)

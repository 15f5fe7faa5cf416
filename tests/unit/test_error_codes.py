"""Every coded error in the source is documented in docs/errors.md, and no code is reused."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_is_documented() -> None:
    in_source = set()
    for path in (ROOT / "src").rglob("*.py"):
        in_source |= set(re.findall(r'"(SML\d{3})"', path.read_text()))
    documented = re.findall(r"^\| (SML\d{3}) \|", (ROOT / "docs" / "errors.md").read_text(), re.M)
    assert len(documented) == len(set(documented)), "a code is documented twice"
    assert in_source - set(documented) == set()
    assert set(documented) - in_source == set(), "documented codes that no longer exist"

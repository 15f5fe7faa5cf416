"""docs/constructs.md documents every field of every public spec type (the reference stays
true as the spec grows)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import serverless_ml.spec as spec
from serverless_ml.spec.triggers import StreamBatching

DOC = Path(__file__).resolve().parents[2] / "docs" / "constructs.md"


def _sections() -> dict[str, str]:
    parts = re.split(r"^### (\w+)\s*$", DOC.read_text(), flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_spec_class_and_field_is_documented() -> None:
    sections = _sections()
    classes = [getattr(spec, name) for name in spec.__all__] + [StreamBatching]
    missing = []
    for cls in classes:
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            continue
        body = sections.get(cls.__name__)
        if body is None:
            missing.append(cls.__name__)
            continue
        for field in dataclasses.fields(cls):
            if f"| `{field.name}` |" not in body:
                missing.append(f"{cls.__name__}.{field.name}")
    assert not missing, f"undocumented in docs/constructs.md: {missing}"

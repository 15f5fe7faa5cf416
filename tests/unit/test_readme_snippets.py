"""The README's spec example runs as written (no backend needed)."""

from __future__ import annotations

import re
from pathlib import Path

from serverless_ml.core.plan import build_plan

README = Path(__file__).resolve().parents[2] / "README.md"


def test_your_own_service_snippet_builds_a_plan() -> None:
    section = README.read_text().split("### Your own service", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section.split("\n### ", 1)[0], re.S)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    plan = build_plan(namespace["spec"])  # type: ignore[arg-type]
    assert [t.key for t in plan.tables] == ["events", "results"]
    assert plan.http is not None and plan.http.endpoint == "function_url"

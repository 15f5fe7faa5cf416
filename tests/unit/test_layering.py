"""The layers' import rules: unit-level code never pulls in a backend; handlers never pull in
the library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BACKENDS = ("aws_cdk", "pulumi", "pulumi_aws", "jsii", "constructs")


def _imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_spec_core_reference_import_no_backend() -> None:
    loaded = _imported_after(
        "import serverless_ml.spec, serverless_ml.core.plan, serverless_ml.reference.scenarios\n"
        "from serverless_ml.reference.scenarios import fraud_detection\n"
        "from serverless_ml.core.plan import build_plan\n"
        "build_plan(fraud_detection())"
    )
    assert not loaded & set(BACKENDS), loaded & set(BACKENDS)


def test_unit_tests_import_no_backend() -> None:
    here = Path(__file__).parent
    offenders = []
    for path in here.rglob("*.py"):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text()
        for backend in BACKENDS:
            if f"import {backend}" in text or f"from {backend}" in text:
                offenders.append(f"{path.name}: {backend}")
    assert not offenders


def test_handlers_import_no_library_or_backend() -> None:
    src = Path(__file__).resolve().parents[2] / "src" / "sml_handlers"
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if any(
            f"import {name}" in p.read_text() or f"from {name}" in p.read_text()
            for name in ("serverless_ml", *BACKENDS)
        )
    ]
    assert not offenders

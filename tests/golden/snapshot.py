"""Snapshots of what the reference stacks deploy, to prove a refactor replaces nothing.

``cdk_snapshot`` normalizes a synthesized template (the code asset's content hash and the
version's hash-suffixed logical id change with every handler edit, and replace nothing that
users keep: a new version is published either way). ``pulumi_snapshot`` keeps, per
registration, what decides replacement and configuration: type token, name, parent, inputs,
dependencies by name, retain-on-delete and ignore-changes.

``python -m tests.golden.snapshot`` rewrites the committed snapshots from the current code:
run it only when a difference is deliberate, and list that difference in
``tests/golden/differences.py`` until the next release note.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from serverless_ml.reference.scenarios import STACK_IDS

HERE = Path(__file__).parent
REFERENCE_STACKS = {stack: scenario for scenario, stack in STACK_IDS.items()}

_ASSET = re.compile(r"\b[0-9a-f]{64}\b")
_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")
_BUNDLE_DIR = re.compile(r"/[^\"']*/bundles/[^\"'/]+")


def _normalized(text: str) -> str:
    text = _ASSET.sub("<asset>", text)
    text = _VERSION_ID.sub(r"\1<config-hash>", text)
    return _BUNDLE_DIR.sub("<bundle-dir>", text)


def cdk_snapshot(template: dict[str, Any]) -> dict[str, Any]:
    """The template with content hashes replaced by placeholders (keys sorted)."""
    normalized: dict[str, Any] = json.loads(_normalized(json.dumps(template, sort_keys=True)))
    return normalized


def pulumi_snapshot(resources: list[Any]) -> dict[str, Any]:
    """Registrations keyed by ``type::name`` (the URN's identity)."""
    names = {r.urn: f"{r.type}::{r.name}" for r in resources}
    out: dict[str, Any] = {}
    for r in resources:
        out[f"{r.type}::{r.name}"] = {
            "parent": names.get(r.parent, ""),
            "inputs": r.inputs,
            "dependencies": sorted(names.get(d, d) for d in r.dependencies),
            "retain_on_delete": r.retain_on_delete,
            "ignore_changes": sorted(r.ignore_changes),
        }
    normalized: dict[str, Any] = json.loads(
        _normalized(json.dumps(out, sort_keys=True, default=lambda o: f"<{type(o).__name__}>"))
    )
    return normalized


def golden_path(backend: str, stack: str) -> Path:
    return HERE / backend / f"{stack}.json"


def load(backend: str, stack: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(golden_path(backend, stack).read_text())
    return data


def diff(before: Any, after: Any, path: str = "") -> list[str]:
    """Every path where ``after`` differs from ``before`` (``+`` added, ``-`` removed, ``~``
    changed), sorted."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}/{key}"
            if key not in after:
                out.append(f"- {sub}")
            elif key not in before:
                out.append(f"+ {sub}")
            else:
                out += diff(before[key], after[key], sub)
        return out
    return [] if before == after else [f"~ {path}"]


def _write(backend: str, stack: str, data: dict[str, Any]) -> None:
    path = golden_path(backend, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main() -> None:
    import tempfile

    from serverless_ml.reference.cdk_app import build_app
    from serverless_ml.reference.scenarios import SCENARIOS
    from tests.pulumi.harness import render

    with tempfile.TemporaryDirectory() as outdir:
        build_app(outdir=Path(outdir)).synth()
        for stack in REFERENCE_STACKS:
            template = json.loads((Path(outdir) / f"{stack}.template.json").read_text())
            _write("cdk", stack, cdk_snapshot(template))
    for stack, scenario in REFERENCE_STACKS.items():
        _write("pulumi", stack, pulumi_snapshot(render(SCENARIOS[scenario]()).resources))


if __name__ == "__main__":
    main()

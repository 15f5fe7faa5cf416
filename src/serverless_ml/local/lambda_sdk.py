"""The AWS SDK a Lambda Python runtime provides, for handlers run locally from their bundle.

Lambda's Python runtimes ship boto3 outside ``/var/task`` (after it on ``sys.path``), so bundles
do not carry it. A local run gives the fresh interpreter the same: a directory of links to the
running environment's boto3 and everything it requires (all pure Python, so any CPython 3 can
import them), appended after the bundle. Nothing else from the environment becomes importable.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path
from typing import Final

SDK_DISTRIBUTION: Final = "boto3"
_NAME: Final = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NATIVE_SUFFIXES: Final = (".so", ".pyd", ".dylib")


class SdkError(RuntimeError):
    """boto3 (or one of its requirements) is missing or not pure Python."""


def _required(distribution: importlib.metadata.Distribution) -> list[str]:
    """Names of the distribution's unconditional requirements (extras skipped)."""
    names = []
    for requirement in distribution.requires or []:
        marker = requirement.partition(";")[2]
        match = _NAME.match(requirement)
        if match is not None and "extra" not in marker:
            names.append(match.group(1))
    return names


def _closure(root: str) -> list[importlib.metadata.Distribution]:
    seen: dict[str, importlib.metadata.Distribution] = {}
    pending = [root]
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise SdkError(
                f"{name} is not installed here; the local runner needs boto3 "
                "(pip install boto3, included in serverless-ml[dev])"
            ) from None
        seen[key] = distribution
        pending.extend(_required(distribution))
    return list(seen.values())


def sdk_modules() -> dict[str, Path]:
    """Top-level import name (``boto3``, ``six.py``) -> its path, for boto3 and its requirements."""
    modules: dict[str, Path] = {}
    for distribution in _closure(SDK_DISTRIBUTION):
        for file in distribution.files or []:
            top = file.parts[0]
            if top in ("..", "__pycache__") or top.endswith((".dist-info", ".data", ".pth")):
                continue
            if file.name.endswith(_NATIVE_SUFFIXES):
                raise SdkError(f"{file} is compiled code; a local Lambda SDK must be pure Python")
            if len(file.parts) > 1 or top.endswith(".py"):
                modules[top] = Path(str(distribution.locate_file(top)))
    return modules


def link_sdk(destination: Path) -> Path:
    """Fill ``destination`` with symlinks to boto3 and its requirements; return it."""
    destination.mkdir(parents=True, exist_ok=True)
    for name, source in sorted(sdk_modules().items()):
        (destination / name).symlink_to(source, target_is_directory=source.is_dir())
    return destination

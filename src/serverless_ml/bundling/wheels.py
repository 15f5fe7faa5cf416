"""Install pinned requirements for Lambda's platform with pip, without Docker.

``pip install --target`` with ``--platform``/``--python-version``/``--only-binary=:all:`` picks
the manylinux wheels Lambda's Amazon Linux 2023 can load (glibc 2.34) whatever the build machine
is; nothing is compiled, so there is no need for a Lambda-like container. pip's own download cache
is used, so a rebuild downloads nothing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from serverless_ml.bundling.errors import PIP_FAILED, BundleError

PIP_TIMEOUT_S: Final = 1800
# Lambda architecture -> the machine name in manylinux platform tags.
PLATFORM_MACHINE: Final = {"arm64": "aarch64", "x86_64": "x86_64"}
# manylinux2014 (glibc 2.17) and manylinux_2_28: onnxruntime ships the latter only.
MANYLINUX_TAGS: Final = ("manylinux2014", "manylinux_2_28")


def platform_tags(architecture: str) -> tuple[str, ...]:
    machine = PLATFORM_MACHINE[architecture]
    return tuple(f"{tag}_{machine}" for tag in MANYLINUX_TAGS)


def pip_command(
    requirements: Sequence[str], target: Path, *, python_version: str, architecture: str
) -> list[str]:
    """The pip command line (run with the build machine's own interpreter)."""
    command = [sys.executable, "-m", "pip", "install", "--target", str(target)]
    for tag in platform_tags(architecture):
        command += ["--platform", tag]
    command += [
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--no-compile",  # bytecode comes from the target interpreter, not this one
        "--no-warn-conflicts",  # the target dir is not this environment
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
    ]
    return [*command, *requirements]


def install_wheels(
    requirements: Sequence[str], target: Path, *, python_version: str, architecture: str
) -> None:
    """Install ``requirements`` (and their dependencies) into ``target`` or raise SML303."""
    if not requirements:
        target.mkdir(parents=True, exist_ok=True)
        return
    command = pip_command(
        requirements, target, python_version=python_version, architecture=architecture
    )
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise BundleError(PIP_FAILED, f"could not run pip: {error}") from error
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-12:])
        raise BundleError(
            PIP_FAILED,
            f"pip could not install {', '.join(requirements)} for Python {python_version} on "
            f"{architecture} Linux. Every package needs a manylinux wheel for that platform "
            f"(no source builds without Docker): pick a version that publishes one, or drop "
            f"the dependency. pip said:\n{tail}",
        )

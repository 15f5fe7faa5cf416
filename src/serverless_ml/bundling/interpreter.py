"""Find a Python interpreter of the Lambda runtime's version to precompile the bundle's .pyc.

Order: an explicit path > ``$SERVERLESS_ML_TARGET_PYTHON`` > the running interpreter if it is the
right version > ``pythonX.Y`` on PATH (only if it really answers with X.Y: a pyenv shim may not)
> ``$(pyenv root)/versions/X.Y*/bin/pythonX.Y``. Every candidate is asked for its version and
bytecode magic number, so a wrong answer is never trusted.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from serverless_ml.bundling.errors import BAD_INTERPRETER, BundleError

TARGET_PYTHON_ENV: Final = "SERVERLESS_ML_TARGET_PYTHON"
PROBE_TIMEOUT_S: Final = 20
_PROBE: Final = (
    "import sys, importlib.util; "
    "print('%d.%d' % sys.version_info[:2], importlib.util.MAGIC_NUMBER.hex(), sys.version.split()[0])"
)


@dataclass(frozen=True)
class TargetPython:
    """An interpreter that answered the probe: its path, ``X.Y``, full version, .pyc magic."""

    path: str
    version: str
    full_version: str
    magic: str


@functools.lru_cache(maxsize=64)
def probe(path: str) -> TargetPython | None:
    """Ask ``path`` for its version; None if it does not run or answers nonsense."""
    try:
        completed = subprocess.run(
            [path, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = completed.stdout.split()
    if completed.returncode != 0 or len(parts) != 3:
        return None
    version, magic, full_version = parts
    return TargetPython(path=path, version=version, full_version=full_version, magic=magic)


def _pyenv_candidates(version: str) -> list[str]:
    roots: list[Path] = []
    pyenv = shutil.which("pyenv")
    if pyenv is not None:
        try:
            answer = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
            )
            if answer.returncode == 0 and answer.stdout.strip():
                roots.append(Path(answer.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    roots.append(Path.home() / ".pyenv")
    found: list[str] = []
    for root in dict.fromkeys(roots):
        versions = root / "versions"
        if not versions.is_dir():
            continue
        # Newest patch release first: 3.13.10 before 3.13.9 before 3.13.0.
        matches = sorted(
            versions.glob(f"{version}*"),
            key=lambda p: [int(x) if x.isdigit() else -1 for x in p.name.split(".")],
            reverse=True,
        )
        for match in matches:
            executable = match / "bin" / f"python{version}"
            if executable.is_file():
                found.append(str(executable))
    return found


def find_target_python(
    version: str, explicit: str | None = None
) -> tuple[TargetPython | None, tuple[str, ...]]:
    """The interpreter for ``version`` (``"3.13"``) and notes on candidates that were refused.

    An explicit path that is not ``version`` raises ``BundleError`` (SML306): the caller asked
    for it. A wrong ``$SERVERLESS_ML_TARGET_PYTHON`` is reported in the notes and skipped.
    """
    notes: list[str] = []
    if explicit is not None:
        found = probe(explicit)
        if found is None or found.version != version:
            answer = "did not run" if found is None else f"is Python {found.version}"
            raise BundleError(
                BAD_INTERPRETER,
                f"target interpreter {explicit!r} {answer}; the bundle targets Python {version}: "
                f"pass a python{version} executable",
            )
        return found, ()
    from_env = os.environ.get(TARGET_PYTHON_ENV)
    if from_env:
        found = probe(from_env)
        if found is not None and found.version == version:
            return found, ()
        answer = "does not run" if found is None else f"is Python {found.version}"
        notes.append(f"${TARGET_PYTHON_ENV}={from_env} {answer}, not {version}: ignored")
    candidates = [sys.executable]
    on_path = shutil.which(f"python{version}")
    if on_path is not None:
        candidates.append(on_path)
    candidates.extend(_pyenv_candidates(version))
    for candidate in dict.fromkeys(candidates):
        found = probe(candidate)
        if found is not None and found.version == version:
            return found, tuple(notes)
    return None, tuple(notes)

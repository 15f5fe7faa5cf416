"""Run Python code in a fresh interpreter that sees only a bundle, as Lambda's /var/task.

The child runs ``<python> -I -B`` (no user site, no ``PYTHON*`` variables, no bytecode writing),
with the bundle first on ``sys.path`` and the interpreter's own site-packages removed, so a module
that is missing from the bundle fails here as it would on Lambda. The code reports by printing one
JSON object as its last line of output.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

RUN_TIMEOUT_S: Final = 300
# Prepended to the caller's code: only the stdlib and the bundle are importable.
_PRELUDE: Final = """\
import sys
sys.path[:] = [{root!r}] + [
    p for p in sys.path if not p.endswith(("site-packages", "dist-packages"))
]
"""


class IsolatedRunError(RuntimeError):
    """The child process failed; the message carries its exit code and stderr."""


def isolated_command(python: str, bundle: Path, code: str) -> list[str]:
    """The argv that runs ``code`` with ``python`` seeing only ``bundle`` (and the stdlib)."""
    return [python, "-I", "-B", "-c", _PRELUDE.format(root=str(bundle)) + code]


def isolated_environment(bundle: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's whole environment: a minimal base, ``LAMBDA_TASK_ROOT``, then ``env``."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(bundle),
        **(env or {}),
    }


def run_isolated(
    python: str,
    bundle: Path,
    code: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = RUN_TIMEOUT_S,
) -> dict[str, Any]:
    """Run ``code`` with ``python`` seeing only ``bundle``; return its last stdout line as JSON."""
    completed = subprocess.run(
        isolated_command(python, bundle, code),
        capture_output=True,
        text=True,
        env=isolated_environment(bundle, env),
        cwd=bundle,
        timeout=timeout_s,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise IsolatedRunError(
            f"{python} exited {completed.returncode}: {completed.stderr.strip()[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result

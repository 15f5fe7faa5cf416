"""A bundle copied and made read-only, like Lambda's /var/task."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def read_only_task(bundle: Path, scratch: Path) -> Iterator[Path]:
    """``bundle`` copied to ``scratch/task`` without write permission (restored after)."""
    task = scratch / "task"
    shutil.copytree(bundle, task)
    subprocess.run(["chmod", "-R", "a-w", str(task)], check=True)
    try:
        yield task
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(task)], check=True)

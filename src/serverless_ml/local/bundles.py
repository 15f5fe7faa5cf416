"""A planned function's bundle for running here: built for this machine's architecture (the
only one that runs here) and the runtime's Python version, copied read-only like Lambda's
/var/task. Without an interpreter of the planned version the running one is used, on a
local-only bundle built for it, and a note says so (the bundler's warning).
"""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from serverless_ml.bench.cold_start import _make_read_only, _make_writable, host_architecture
from serverless_ml.bundling import BundleWarning, build_bundle, find_target_python, spec_from_plan
from serverless_ml.bundling.spec import Bundle
from serverless_ml.core.plan_types import FunctionPlan

# Lambda sets these in every environment; the handlers read memory to size their thread pools.


@dataclass(frozen=True, kw_only=True)
class LocalBundle:
    """The host-architecture bundle and the interpreter that runs it."""

    bundle: Bundle
    python: str
    python_version: str
    interpreter: str  # path and full version, for people
    notes: tuple[str, ...]


def local_bundle(function: FunctionPlan, *, cache_dir: Path | None = None) -> LocalBundle:
    """Build (or reuse) ``function``'s bundle for this machine and find the Python to run it."""
    planned = function.bundle.python_version
    found, discovery_notes = find_target_python(planned)
    notes: list[str] = []
    if found is not None:
        python, version, interpreter = (
            found.path,
            found.version,
            f"{found.path} ({found.full_version})",
        )
    else:
        python = sys.executable
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        interpreter = f"{sys.executable} ({platform.python_version()})"
        notes.append(
            f"no Python {planned} interpreter found ({'; '.join(discovery_notes) or 'searched'} "
            f"$SERVERLESS_ML_TARGET_PYTHON, python{planned} on PATH, pyenv): ran the handler with "
            f"this Python {version} on a local-only bundle; Lambda runs {planned}"
        )
    spec = dataclasses.replace(
        spec_from_plan(function),
        architecture=host_architecture(),
        python_version=version,
        local_only=version != planned,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BundleWarning)
        bundle = build_bundle(spec, cache_dir=cache_dir, target_python=python)
    notes.extend(str(w.message) for w in caught if issubclass(w.category, BundleWarning))
    return LocalBundle(
        bundle=bundle,
        python=python,
        python_version=version,
        interpreter=interpreter,
        notes=tuple(notes),
    )


@contextlib.contextmanager
def scratch_dir(prefix: str = "sml-local-") -> Iterator[Path]:
    """A temporary directory, removed (read-only parts included) on exit."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        for entry in root.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                _make_writable(entry)
        shutil.rmtree(root, ignore_errors=True)


def read_only_task_root(bundle: Bundle, scratch: Path) -> Path:
    """A read-only copy of the bundle under ``scratch`` (Lambda's /var/task is read-only)."""
    root = scratch / "task"
    shutil.copytree(bundle.path, root)
    _make_read_only(root)
    return root

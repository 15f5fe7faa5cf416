"""Run a planned function's handler the way Lambda would: its own bundle, read-only, in a fresh
interpreter of the runtime's Python version (the bench's process isolation, reused).

The bundle is the planned one built for this machine's architecture (the only one that runs
here). Without an interpreter of the planned version the running one is used, on a local-only
bundle built for it, and a note says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.cold_start import _make_read_only, _make_writable, host_architecture
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import BundleWarning, build_bundle, find_target_python, spec_from_plan
from serverless_ml.bundling.spec import Bundle
from serverless_ml.core.plan_types import FunctionPlan
from serverless_ml.local import invoke_child

# Lambda sets these in every environment; the handlers read memory to size their thread pools.
MEMORY_ENV: Final = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
NAME_ENV: Final = "AWS_LAMBDA_FUNCTION_NAME"


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


def invoke_in_fresh_process(
    local: LocalBundle,
    task_root: Path,
    function: FunctionPlan,
    job: Mapping[str, Any],
    scratch: Path,
    *,
    env: Mapping[str, str],
    timeout_s: float,
) -> dict[str, Any]:
    """Run ``invoke_child`` on ``job`` in a fresh interpreter seeing only ``task_root`` (and the
    SDK named in the job); return its report. ``env`` adds to the function's planned environment.
    """
    job_path = scratch / "job.json"
    job_path.write_text(json.dumps({**job, "handler": function.handler}), encoding="utf-8")
    environment = {
        **function.literal_environment(),
        MEMORY_ENV: str(function.memory_mb),
        NAME_ENV: function.name,
        invoke_child.JOB_ENV: str(job_path),
        **env,
    }
    child = Path(invoke_child.__file__)
    # Compiled as its own module, so its `from __future__` import stays first.
    code = (
        f"exec(compile({child.read_text(encoding='utf-8')!r}, {child.name!r}, 'exec'), "
        "{'__name__': '__main__'})"
    )
    return run_isolated(local.python, task_root, code, env=environment, timeout_s=timeout_s)

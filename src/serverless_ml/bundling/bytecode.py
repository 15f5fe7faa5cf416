"""Precompile a bundle's .pyc with the Lambda runtime's interpreter version.

Why: Lambda extracts the zip into /var/task, which is read-only. Python that finds no usable .pyc
compiles each imported module in memory and cannot save the result, so without shipped bytecode
*every* cold start recompiles numpy, onnxruntime and the handler (measured: INIT 530-700 ms
without, ~200 ms with). The .pyc must come from the same ``X.Y`` as the runtime: the magic number
in each file's header changes between minor versions and a mismatched file is ignored.

Why ``unchecked-hash``: a timestamp .pyc records the source's mtime, which zipping and deploy
tools rewrite (CDK zips assets with fixed dates), so it would be judged stale and ignored; a
``checked-hash`` .pyc makes Python read and hash every source file at each import, paying part of
the cost we are removing. ``/var/task`` never changes after deployment, and every bundle is built
whole into a new directory, so the source cannot drift from its bytecode: checking it is waste.
Files are compiled with ``/var/task`` as their recorded path so tracebacks point where Lambda
runs them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

from serverless_ml.bundling.errors import BYTECODE_FAILED, BundleError

LAMBDA_TASK_ROOT: Final = "/var/task"
COMPILE_TIMEOUT_S: Final = 600


def compile_tree(
    interpreter: str,
    root: Path,
    *,
    only: Path | None = None,
    workers: int = 0,
    invalidation_mode: str = "unchecked-hash",
) -> tuple[str, ...]:
    """Compile every ``.py`` under ``only`` (default: ``root``) in place with ``interpreter``.

    ``invalidation_mode`` is ``unchecked-hash`` for bundles (see above); ``timestamp`` (what pip
    writes) serves only to reproduce a naive artifact.

    Paths inside the .pyc are rewritten from ``root`` to /var/task. Returns the files that did not
    compile (their modules will not import on Lambda either, so callers report them); raises
    ``BundleError`` (SML307) if the interpreter could not run at all.
    """
    root = root.absolute()
    target = (only if only is not None else root).absolute()
    command = [
        interpreter,
        "-I",
        "-m",
        "compileall",
        "-q",
        "-j",
        str(workers),
        "--invalidation-mode",
        invalidation_mode,
        "-s",
        str(root),
        "-p",
        LAMBDA_TASK_ROOT,
        str(target),
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise BundleError(
            BYTECODE_FAILED, f"could not run {interpreter} to compile bytecode: {error}"
        ) from error
    if completed.returncode == 0:
        return ()
    prefix = "*** Error compiling "
    failed = tuple(
        line.removeprefix(prefix).rstrip(".").strip("'")
        for line in completed.stdout.splitlines()
        if line.startswith(prefix)
    )
    if not failed:
        raise BundleError(
            BYTECODE_FAILED,
            f"{interpreter} -m compileall failed (exit {completed.returncode}): "
            f"{(completed.stderr or completed.stdout).strip()[-800:]}",
        )
    return failed

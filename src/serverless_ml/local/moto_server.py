"""A ``moto_server`` on 127.0.0.1 for local runs: a free port, a bounded start, a sure stop.

Every AWS client pointed at the yielded endpoint (``endpoint_url=`` or ``$AWS_ENDPOINT_URL``,
which boto3 honours) talks to moto's in-memory AWS; nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from serverless_ml.local.processes import stop_process

HOST: Final = "127.0.0.1"
START_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 10.0
POLL_S: Final = 0.05
START_ATTEMPTS: Final = 3  # another process may take the free port between probe and bind


class LocalRunError(RuntimeError):
    """The local runner could not set up what it needs (message says what to do)."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def _tail(log_path: Path | None) -> str:
    if log_path is None or not log_path.is_file():
        return ""
    return log_path.read_text(encoding="utf-8", errors="replace")[-1500:]


def _start(log_path: Path | None, timeout_s: float) -> tuple[subprocess.Popen[bytes], str]:
    for _ in range(START_ATTEMPTS):
        port = free_port()
        endpoint = f"http://{HOST}:{port}"
        log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - closed right after Popen
        with log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(endpoint):
                return process, endpoint
            time.sleep(POLL_S)
        stop_process(process, STOP_TIMEOUT_S)
        if time.monotonic() >= deadline:
            raise LocalRunError(f"moto_server did not answer within {timeout_s:.0f} s")
    raise LocalRunError(f"moto_server exited at start: {_tail(log_path) or 'no output'}")


@contextlib.contextmanager
def moto_server(
    *, log_path: Path | None = None, timeout_s: float = START_TIMEOUT_S
) -> Iterator[str]:
    """Run moto's server on ``127.0.0.1`` at a free port; yield ``http://127.0.0.1:<port>``.

    The server is a child process of this one, stopped (terminate, then kill) on exit.
    """
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        raise LocalRunError(
            "the local runner needs moto's server: pip install 'moto[server,dynamodb]' "
            "(included in serverless-ml[dev])"
        )
    process, endpoint = _start(log_path, timeout_s)
    try:
        yield endpoint
    finally:
        stop_process(process, STOP_TIMEOUT_S)

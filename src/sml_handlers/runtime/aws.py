"""Lazily created, cached AWS clients: boto3 loads on first use, never at INIT.

boto3 ships in the Lambda Python runtime and is not bundled. ``reset_clients`` drops the cache so
the next call builds fresh clients (after a SnapStart restore, cached connections and credentials
from the snapshot must not be reused).

Safe under concurrent invocations in one process (threads): clients are created once, under a
lock, because a boto3 ``Session`` is not thread-safe while it builds clients; the clients
themselves are.
"""

from __future__ import annotations

import threading
from typing import Any

# Fail fast instead of holding a stream batch for minutes: botocore's defaults are 60 s timeouts.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
MAX_ATTEMPTS = 3
# One connection per concurrent write (runtime.concurrent_writes.MAX_WORKERS; botocore's default
# pool of 10 would make the others wait for a connection).
MAX_POOL_CONNECTIONS = 16

_session: Any = None
_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(name: str) -> Any:
    """The cached boto3 client for service ``name`` (region and credentials from the environment)."""
    global _session
    cached = _clients.get(name)
    if cached is not None:
        return cached
    with _lock:
        cached = _clients.get(name)  # another thread may have created it meanwhile
        if cached is not None:
            return cached
        import boto3  # deferred: ~100+ ms to import, only the stream path needs it
        from botocore.config import Config

        if _session is None:
            _session = boto3.session.Session()
        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            max_pool_connections=MAX_POOL_CONNECTIONS,
        )
        created = _session.client(name, config=config)
        _clients[name] = created
        return created


def reset_clients() -> None:
    """Forget every cached client and the session behind them."""
    global _session
    with _lock:
        _session = None
        _clients.clear()


def cached_client_names() -> tuple[str, ...]:
    """Services with a live cached client (for tests and diagnostics)."""
    return tuple(sorted(_clients))

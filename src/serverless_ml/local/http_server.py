"""What both local HTTP fronts share: the request and response as plain data, a threaded server
on 127.0.0.1 that turns one into the other, and the per-request record a run is summarised from.

A front is a function ``LocalRequest -> LocalResponse`` (``Handle``); ``serve`` runs it behind a
``http.server.ThreadingHTTPServer`` in a daemon thread, one thread per connection, so concurrent
clients reach the function concurrently (its own concurrency limit answers the excess). Request
log lines are counted, not printed. A front that raises answers 500 and is counted as a crash.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

HOST: Final = "127.0.0.1"
JOIN_TIMEOUT_S: Final = 10.0
POLL_INTERVAL_S: Final = 0.05  # how soon serve_forever notices a shutdown
# Hop-by-hop or framing headers the server writes itself (a response's own are dropped).
FRAMING_HEADERS: Final = frozenset({"content-length", "transfer-encoding", "connection"})
CRASH_BODY: Final = b'{"message":"Internal Server Error"}'


def header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Every value of header ``name`` (any case), in the order sent."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


@dataclass(frozen=True, slots=True)
class LocalRequest:
    """One HTTP request as received: ``path`` and ``query`` raw (still percent-encoded), headers
    in the order and case sent, repeated headers repeated."""

    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    client_ip: str = HOST
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), None if absent."""
        values = header_values(self.headers, name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True)
class LocalResponse:
    """One HTTP response; repeated headers (``Set-Cookie``) are repeated entries."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Handle = Callable[[LocalRequest], LocalResponse]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str
    status: int
    latency_s: float


class ServerStats:
    """Per-request (status, latency) records and counted log lines; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._log_lines = 0
        self._crashes = 0

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def count_log_line(self) -> None:
        with self._lock:
            self._log_lines += 1

    def count_crash(self) -> None:
        with self._lock:
            self._crashes += 1

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    @property
    def log_lines(self) -> int:
        with self._lock:
            return self._log_lines

    @property
    def crashes(self) -> int:
        with self._lock:
            return self._crashes

    def statuses(self) -> Counter[int]:
        return Counter(record.status for record in self.records)

    def summary(self) -> dict[str, Any]:
        """Requests, count per status, latency p50/p99/max (ms), crashes."""
        latencies = sorted(record.latency_s * 1000.0 for record in self.records)
        return {
            "requests": len(latencies),
            "statuses": dict(sorted(self.statuses().items())),
            "p50_ms": _percentile(latencies, 0.50),
            "p99_ms": _percentile(latencies, 0.99),
            "max_ms": latencies[-1] if latencies else 0.0,
            "crashes": self.crashes,
        }


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not ordered:
        return 0.0
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def _read_chunked(stream: Any) -> bytes:
    """A ``Transfer-Encoding: chunked`` body (RFC 9112 section 7.1; trailers skipped)."""
    body = bytearray()
    while True:
        size = int(stream.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline().strip():
                pass
            return bytes(body)
        body += stream.read(size)
        stream.readline()


def _handler_class(handle: Handle, stats: ServerStats) -> type[BaseHTTPRequestHandler]:
    class FrontHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            start = time.perf_counter()
            request = self._request()
            try:
                response = handle(request)
            except Exception:  # a bug in the front, not the function: answer, count, go on
                stats.count_crash()
                response = LocalResponse(500, [("Content-Type", "application/json")], CRASH_BODY)
            self._write(response, head=request.method == "HEAD")
            latency = time.perf_counter() - start
            stats.record(RequestRecord(request.method, request.path, response.status, latency))

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

        def _request(self) -> LocalRequest:
            path, _, query = self.path.partition("?")
            return LocalRequest(
                method=self.command,
                path=path,
                query=query,
                headers=tuple(self.headers.items()),
                body=self._body(),
                client_ip=self.client_address[0],
                protocol=self.request_version,
            )

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return _read_chunked(self.rfile)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def _write(self, response: LocalResponse, *, head: bool) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in FRAMING_HEADERS:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if not head:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            stats.count_log_line()

    return FrontHandler


@contextlib.contextmanager
def serve(
    handle: Handle, *, host: str = HOST, port: int = 0, stats: ServerStats | None = None
) -> Iterator[str]:
    """``handle`` behind a threaded HTTP server on ``host:port`` (0: a free port), yielding its
    base URL (``http://127.0.0.1:54321``); on exit the server is shut down and its thread
    joined. Requests are recorded in ``stats`` when given."""
    server = ThreadingHTTPServer((host, port), _handler_class(handle, stats or ServerStats()))
    server.daemon_threads = True
    server.block_on_close = False  # a keep-alive client must not hold the exit open
    thread = threading.Thread(
        target=server.serve_forever, args=(POLL_INTERVAL_S,), name="sml-http-front", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(JOIN_TIMEOUT_S)

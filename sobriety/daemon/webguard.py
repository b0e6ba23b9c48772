"""Connection limits for the HTTP server: header-read and idle timeouts, a connection cap.

aiohttp has no header-read timeout, and its idle timeout differs between versions, so each
accepted connection's protocol is wrapped: a connection must send a complete request head
within `header_timeout` of opening (or of its previous response), may sit idle between
requests for `idle_timeout` at most, and past `max_connections` open at once a new one is
answered 503 and closed. The web middleware tells the guard when a request starts and ends.
What the guard cut is counted by reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 25\r\nConnection: close\r\n\r\ntoo many open connections"
)
HEAD_END = b"\r\n\r\n"
REPORT_EVERY = 60.0  # seconds between two log lines about cut connections
MAX_HEAD = 64 * 1024  # aiohttp refuses longer heads itself; the guard stops looking there


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a client may take, and how many may be connected at once."""

    header_timeout: float = 10.0
    idle_timeout: float = 60.0
    max_connections: int = 128


@dataclass
class _Conn:
    transport: asyncio.Transport
    deadline_kind: str = "header_timeout"
    head: bytearray = field(default_factory=bytearray)
    head_unserved: bool = False  # a complete head arrived and no request started from it
    in_flight: int = 0
    timer: asyncio.TimerHandle | None = None


class ConnectionGuard:
    """Tracks open connections and closes the ones that overstay."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: dict[asyncio.BaseTransport, _Conn] = {}
        self.cut: Counter[str] = Counter()
        self._unreported: Counter[str] = Counter()
        self._reported_at = -REPORT_EVERY

    # --- called by the wrapped protocol ---------------------------------------------------

    def admit(self, transport: asyncio.Transport) -> bool:
        """A new connection: False (and answered 503) past the cap."""
        if len(self.open) >= self.limits.max_connections:
            self._cut("too_many_connections")
            transport.write(_BUSY)
            transport.close()
            return False
        conn = _Conn(transport)
        self.open[transport] = conn
        self._arm(conn, "header_timeout", self.limits.header_timeout)
        return True

    def received(self, transport: asyncio.BaseTransport, data: bytes) -> None:
        """Bytes from a client: between requests they start (or complete) a request head."""
        conn = self.open.get(transport)
        if conn is None or conn.in_flight:
            return
        if not conn.head:
            self._arm(conn, "header_timeout", self.limits.header_timeout)
        if len(conn.head) < MAX_HEAD:
            conn.head += data
        if HEAD_END in conn.head:
            conn.head_unserved = True
            self._disarm(conn)

    def closed(self, transport: asyncio.BaseTransport) -> None:
        conn = self.open.pop(transport, None)
        if conn is None:
            return
        self._disarm(conn)
        if conn.head_unserved:  # aiohttp answered 400 itself and closed: a malformed request
            self._cut("malformed_request")

    # --- called by the middleware ---------------------------------------------------------

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        conn = self.open.get(transport) if transport is not None else None
        if conn is not None:
            conn.in_flight += 1
            conn.head_unserved = False
            self._disarm(conn)

    def request_ended(self, transport: asyncio.BaseTransport | None) -> None:
        conn = self.open.get(transport) if transport is not None else None
        if conn is None:
            return
        conn.in_flight = max(0, conn.in_flight - 1)
        if not conn.in_flight:
            conn.head.clear()
            self._arm(conn, "idle_timeout", self.limits.idle_timeout)

    # --- timers -----------------------------------------------------------------------------

    def _arm(self, conn: _Conn, kind: str, seconds: float) -> None:
        self._disarm(conn)
        conn.deadline_kind = kind
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(seconds, self._expire, conn)

    def _disarm(self, conn: _Conn) -> None:
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None

    def _expire(self, conn: _Conn) -> None:
        conn.timer = None
        if conn.in_flight or conn.transport not in self.open:
            return
        if not conn.head and conn.transport.get_write_buffer_size():
            # an answer is still going out to a client that reads slowly: not idle
            self._arm(conn, "idle_timeout", self.limits.idle_timeout)
            return
        self._cut("header_timeout" if conn.head else conn.deadline_kind)
        conn.transport.abort()

    def _cut(self, reason: str) -> None:
        """Count a connection cut; say so in the log at most once a minute."""
        self.cut[reason] += 1
        self._unreported[reason] += 1
        now = time.monotonic()
        if now - self._reported_at < REPORT_EVERY:
            return
        self._reported_at = now
        what = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in sorted(self._unreported.items()))
        self._unreported.clear()
        log.warning("HTTP connections closed by the server: %s", what)

    def samples(self) -> dict[str, int]:
        """Connections cut, by reason."""
        return dict(self.cut)


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the guard watching what it receives."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.transport: asyncio.BaseTransport | None = None
        self.admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if not isinstance(transport, asyncio.Transport) or not self.guard.admit(transport):
            return
        self.admitted = True
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self.admitted:
            return
        if self.transport is not None:
            self.guard.received(self.transport, data)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.guard.closed(self.transport)
        if self.admitted:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.admitted:
            self.inner.resume_writing()


class GuardedSite(web.BaseSite):
    """A TCP site (plain or TLS) whose connections go through a `ConnectionGuard`."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        guard: ConnectionGuard,
        ssl_context: Any = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host, self._port, self._guard = host, port, guard

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        if server is None:
            raise RuntimeError("the runner is not set up")
        factory: Callable[[], asyncio.Protocol] = lambda: _Guarded(server(), self._guard)  # noqa: E731
        self._server = await loop.create_server(
            factory,
            self._host,
            self._port,
            ssl=self._ssl_context,
            ssl_handshake_timeout=self._guard.limits.header_timeout if self._ssl_context else None,
            backlog=self._backlog,
            reuse_address=True,
        )
        if self._port == 0:  # an ephemeral port was asked for: learn which one we got
            self._port = int(self._server.sockets[0].getsockname()[1])

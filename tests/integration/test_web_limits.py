"""The HTTP server's own limits on real sockets: slow headers and idle connections are cut,
past the cap a connection gets 503, a malformed request is answered 400 and counted; and a
warning when it listens beyond loopback with no authentication."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping

import pytest

from sobriety.daemon.web import WebServer
from sobriety.daemon.webconfig import WebConfig
from sobriety.daemon.webguard import Limits
from sobriety.daemon.webusers import UserMap
from sobriety.exposition import Renderable
from sobriety.model import Sample
from sobriety.reports.eol import EolReport

pytestmark = pytest.mark.integration
# measured on an idle 2-core box: a cut lands within 10 ms of its deadline; x3 and a floor of
# 2 s for a loaded machine
SLACK = 2.0


class Fleet:
    """The little a WebServer needs of a daemon."""

    ready = True

    def entries(self) -> Mapping[str, Renderable]:
        return {}

    def daemon_samples(self) -> list[Sample]:
        return [Sample("sobriety_target_up", {"target": "sw1"}, 1.0)]

    def targets(self) -> list[str]:
        return ["sw1"]

    def eol_report(self) -> EolReport:
        raise AssertionError("not asked here")

    def users(self) -> UserMap:
        return UserMap()


async def no_reload() -> list[str]:
    return []


@pytest.fixture
async def server() -> AsyncIterator[WebServer]:
    limits = Limits(header_timeout=0.5, idle_timeout=1.0, max_connections=3)
    web = WebServer(Fleet(), no_reload, "127.0.0.1", 0, limits=limits)
    await web.start()
    try:
        yield web
    finally:
        await web.stop()


async def closed_after(reader: asyncio.StreamReader, limit: float) -> float:
    """Seconds until the server closes the connection (reading to EOF)."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        while await reader.read(1024):
            pass
    return time.monotonic() - started


def cut(web: WebServer) -> dict[str, int]:
    return web.guard.samples()


async def test_slow_headers_are_cut_at_the_header_timeout(server: WebServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never ends its head
    await writer.drain()
    took = await closed_after(reader, 0.5 + SLACK)
    assert 0.4 <= took <= 0.5 + SLACK
    assert cut(server) == {"header_timeout": 1}
    writer.close()


async def test_a_silent_connection_is_cut_too(server: WebServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    took = await closed_after(reader, 0.5 + SLACK)  # nothing sent at all: same deadline
    assert took <= 0.5 + SLACK
    assert cut(server) == {"header_timeout": 1}
    writer.close()


async def test_keep_alive_connections_are_cut_when_idle(server: WebServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    await reader.readexactly(3)  # "OK\n"
    await asyncio.sleep(0.7)  # past the header timeout, within the idle timeout: still open
    writer.write(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    await reader.readexactly(3)  # "OK\n"
    took = await closed_after(reader, 1.0 + SLACK)
    assert 0.9 <= took <= 1.0 + SLACK
    assert cut(server) == {"idle_timeout": 1}
    writer.close()


async def test_past_the_cap_a_connection_is_answered_503(server: WebServer) -> None:
    held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    await asyncio.sleep(0.05)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    answer = await asyncio.wait_for(reader.read(), SLACK)
    assert answer.startswith(b"HTTP/1.1 503")
    assert cut(server)["too_many_connections"] == 1
    for _, w in [*held, (reader, writer)]:
        w.close()
    await asyncio.sleep(0.1)
    # the held ones are gone: a new connection is served again
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), SLACK)).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_a_malformed_request_is_answered_400_counted_and_the_server_goes_on(
    server: WebServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), SLACK)
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    writer.close()
    await asyncio.sleep(0.1)
    assert cut(server) == {"malformed_request": 1}
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = await asyncio.wait_for(reader.read(), SLACK)
    assert body.startswith(b"HTTP/1.1 200") and b'sobriety_target_up{target="sw1"} 1.0' in body
    assert b'sobriety_http_connections_cut_total{reason="malformed_request"} 1.0' in body
    writer.close()


def test_listening_beyond_loopback_without_auth_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    exposed = WebServer(Fleet(), no_reload, "0.0.0.0", 9471)  # not started: nothing bound
    exposed._warn_if_exposed()
    assert "beyond loopback with no authentication" in caplog.text
    caplog.clear()
    for host in ("127.0.0.1", "::1", "localhost"):
        WebServer(Fleet(), no_reload, host, 9471)._warn_if_exposed()
    hashed = {"basic_auth_users": {"ops": "$2b$10$" + "a" * 53}}
    config = WebConfig.model_validate(hashed)
    WebServer(Fleet(), no_reload, "0.0.0.0", 9471, web_config=config)._warn_if_exposed()
    assert caplog.text == ""

"""The demo fleet for integration tests: snmpsim serving the recordings, the daemon polling
them (in this process), its web server; and a webhook receiver. All on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from sobriety.daemon.app import Daemon
from sobriety.daemon.lifecycle import Lifecycle
from sobriety.daemon.web import WebServer
from sobriety.demo.fleet import DEMO_DISPOSED, write_demo_config
from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.resources import data_dir
from tests.integration.test_daemon import ALL_TARGETS, free_tcp_port, up_by_target, wait_for

INVENTORY = len(ALL_TARGETS) + len(DEMO_DISPOSED)  # polled devices and the batch handed over


@dataclass(frozen=True)
class EolDemo:
    """The demo daemon once every polled device has its end-of-life recommendation."""

    server: WebServer
    daemon: Daemon
    config: Path
    tmp: Path

    @property
    def page(self) -> str:
        return f"{self.server.url}/reports/end-of-life"


def advised(metrics: dict[str, dict[str, float]]) -> bool:
    """Every polled device has its recommendation series (5 actions each)."""
    return len(metrics.get("sobriety_device_eol_recommendation", {})) == 5 * len(ALL_TARGETS)


def all_up(metrics: dict[str, dict[str, float]]) -> bool:
    return set(up_by_target(metrics)) == ALL_TARGETS and all(
        v == 1 for v in up_by_target(metrics).values()
    )


@contextlib.asynccontextmanager
async def demo_daemon(
    tmp_path: Path, interval: str = "2s", agent: SnmpsimAgent | None = None
) -> AsyncIterator[WebServer]:
    """The daemon on the demo fleet, every target up; stopped with its agent afterwards
    (give the agent to stop and restart it meanwhile)."""
    agent = agent or SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path / "snmpsim")
    agent.start()
    try:
        config = write_demo_config(
            tmp_path / "demo", agent.port, f"127.0.0.1:{free_tcp_port()}", interval,
            agent.communities(),
        )  # fmt: skip
        daemon = Daemon(config)
        lifecycle = Lifecycle(daemon)
        await lifecycle.start()
        settings = daemon.runtime.config.settings
        server = WebServer(daemon, lifecycle.reload, settings.listen_host, settings.listen_port)
        await server.start()
        try:
            await wait_for(server.url, all_up, timeout=60)
            yield server
        finally:
            await server.stop()
            await lifecycle.stop()
    finally:
        agent.stop()


@contextlib.asynccontextmanager
async def webhook() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    """A JSON receiver on loopback: its URL, and what it received."""
    received: list[dict[str, object]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_tcp_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/hook", received
    finally:
        await runner.cleanup()

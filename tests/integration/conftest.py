"""A real snmpsim agent on 127.0.0.1 serving the bundled recordings, shared by the session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.resources import data_dir
from tests.integration.demo import EolDemo, advised, demo_daemon
from tests.integration.test_daemon import wait_for


@pytest.fixture(scope="session")
def snmpsim_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpsimAgent]:
    agent = SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path_factory.mktemp("snmpsim"))
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def eol_demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EolDemo]:
    """One demo daemon for the end-of-life tests (the page's and the per-case ones)."""
    tmp = tmp_path_factory.mktemp("eol-demo")
    async with demo_daemon(tmp) as server:
        await wait_for(server.url, advised, timeout=90)
        daemon = server.daemon
        yield EolDemo(server, daemon, tmp / "demo" / "demo.yaml", tmp)  # type: ignore[arg-type]

"""A real snmpsim agent on 127.0.0.1 serving the bundled recordings, shared by the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.resources import data_dir


@pytest.fixture(scope="session")
def snmpsim_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpsimAgent]:
    agent = SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path_factory.mktemp("snmpsim"))
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()

"""The same profiles over a real snmpsim agent and over the recorded transport agree exactly.

The recordings are served by the session's agent; the fixtures (`recordings/fixtures/`) by
one more agent of this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.pollonce import from_result, recording_target
from sobriety.snmp.credentials import Credentials
from sobriety.snmp.lean import LeanTransport, SnmpClient
from sobriety.snmp.pysnmp_transport import PysnmpTransport
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmp.transport import SnmpTransport
from tests.cases.regenerate import FIXTURES, recordings

pytestmark = pytest.mark.integration
PROFILES = load_profiles([builtin_profile_dir()])


def live_transport(engine: str, port: int, community: str) -> SnmpTransport:
    if engine == "lean":
        return LeanTransport(
            SnmpClient(),
            "127.0.0.1",
            port,
            credentials=Credentials(community=community),
            timeout=3.0,
            retries=1,
        )
    return PysnmpTransport(
        "127.0.0.1", port, credentials=Credentials(community=community), timeout=3.0, retries=1
    )


@pytest.fixture(scope="module")
def fixtures_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpsimAgent]:
    agent = SnmpsimAgent(FIXTURES, work_dir=tmp_path_factory.mktemp("snmpsim-fixtures"))
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.mark.parametrize("engine", ["lean", "pysnmp"])
@pytest.mark.parametrize("path", recordings(), ids=recording_target)
async def test_live_poll_equals_replay(
    path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    served_by = "fixtures_agent" if path.parent == FIXTURES else "snmpsim_agent"
    snmpsim_agent: SnmpsimAgent = request.getfixturevalue(served_by)
    name = recording_target(path)
    clock = ManualClock()
    replayed = await SnmpCollector(
        TargetRef(name, "snmp"), RecordedTransport(load_snmprec(path, clock=clock)), PROFILES, clock
    ).collect()
    transport = live_transport(engine, snmpsim_agent.port, name)
    live_collector = SnmpCollector(TargetRef(name, "snmp"), transport, PROFILES, clock)
    try:
        live = await live_collector.collect()
    finally:
        await live_collector.close()
        if isinstance(transport, LeanTransport):
            transport.client.close()
    assert live.up, live.issues
    expected, got = from_result(replayed).as_json(), from_result(live).as_json()
    assert got["samples"] == expected["samples"]
    assert got["profiles"] == expected["profiles"]
    assert got["requests"] == expected["requests"]

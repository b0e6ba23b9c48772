"""The same profiles over a real snmpsim agent and over the recorded transport agree exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.snmp import SnmpCollector
from sobriety.pollonce import from_result, recording_target
from sobriety.profiles import builtin_profile_dir, load_profiles
from sobriety.snmp.pysnmp_transport import PysnmpTransport
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmpsim_agent import SnmpsimAgent
from tests.cases.regenerate import recordings

pytestmark = pytest.mark.integration
PROFILES = load_profiles([builtin_profile_dir()])


@pytest.mark.parametrize("path", recordings(), ids=recording_target)
async def test_live_poll_equals_replay(path: Path, snmpsim_agent: SnmpsimAgent) -> None:
    name = recording_target(path)
    clock = ManualClock()
    replayed = await SnmpCollector(
        TargetRef(name, "snmp"), RecordedTransport(load_snmprec(path, clock=clock)), PROFILES, clock
    ).collect()
    transport = PysnmpTransport(
        "127.0.0.1", snmpsim_agent.port, version="2c", community=name, timeout=3.0, retries=1
    )
    live_collector = SnmpCollector(TargetRef(name, "snmp"), transport, PROFILES, clock)
    try:
        live = await live_collector.collect()
    finally:
        await live_collector.close()
    assert live.up, live.issues
    expected, got = from_result(replayed).as_json(), from_result(live).as_json()
    assert got["samples"] == expected["samples"]
    assert got["profiles"] == expected["profiles"]
    assert got["requests"] == expected["requests"]

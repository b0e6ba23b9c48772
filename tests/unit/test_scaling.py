"""One poll costs the same in a fleet of 1,000 as in a fleet of 10,000.

The real `Daemon` (snapshot, store, energy, lifetime, end-of-life advice, alerts) over
recorded agents; every target is polled so that each part holds state for the whole fleet,
with an alert pending on every one of them. Then the same 40 targets are polled again in
each fleet and the work counted: Python bytecodes executed (a scan or a Python loop over the
fleet shows there) and the memory a poll allocates at its peak (a sort or copy of a
fleet-wide table, done in C, shows there). Counts, not time: they do not depend on the load
of the machine. Wall time would hide a 30 % growth in the noise; these hold it to a count.
"""

from __future__ import annotations

import asyncio
import sys
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from sobriety.clock import ManualClock
from sobriety.collectors.base import Collector
from sobriety.config.load import AuthConfig, Config, TargetConfig
from sobriety.daemon.app import Daemon
from sobriety.daemon.runtime import World
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmp.transport import SnmpTransport

ROOT = Path(__file__).resolve().parents[2]
# a UPS (measured power, lifetime facts) and a projector (power state, lamp hours): small
# recordings, so 10,000 first polls stay within a unit test's time
RECORDINGS = ("apc_smx750i.snmprec", "epson-projector_eb-4770w.snmprec")
MEASURED = 40
ALLOWED_GROWTH = 1.3  # the bound: within 30 %

PENDING_EVERYWHERE = {
    "rules": [
        {
            "name": "UpForAnHour",
            "metric": "sobriety_target_up",
            "op": ">=",
            "raise": 1,
            "for": "1h",
            "summary": "{{ $labels.target }} answers",
        }
    ]
}


@dataclass(frozen=True)
class PollCost:
    bytecodes: float  # per poll, mean
    peak_kib: float  # per poll, median of the peaks


def fleet(work: Path, size: int) -> Path:
    rules = work / "rules.yaml"
    rules.write_text(yaml.safe_dump(PENDING_EVERYWHERE))
    raw = {
        "settings": {
            "data_dir": str(work),
            "interval": "60s",
            "alerting": {"rule_files": [str(rules)]},
        },
        "sites": {
            f"site{i}": {"timezone": "Europe/Paris", "opening_hours": {"mon": ["08:00-17:00"]}}
            for i in range(20)
        },
        "auths": {"v2": {"version": "2c", "community": "public"}},
        "targets": [
            {
                "id": f"dev{i:05d}",
                "address": "127.0.0.1",
                "auth": "v2",
                "site": f"site{i % 20}",
                "class": ("ups", "projector_classroom")[i % 2],
                "labels": {"recording": RECORDINGS[i % 2]},
            }
            for i in range(size)
        ],
    }
    path = work / "fleet.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


async def poll_cost(work: Path, size: int) -> PollCost:
    recordings = {name: load_snmprec(ROOT / "recordings" / name) for name in RECORDINGS}
    clock = ManualClock()

    def recorded(target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
        return RecordedTransport(recordings[target.labels["recording"]])

    daemon = Daemon(fleet(work, size), World(clock=clock, env={}, transport_factory=recorded))
    daemon.use(daemon.runtime)
    collectors = list(daemon.runtime.collectors.values())
    await asyncio.gather(*(daemon.poller.poll(c) for c in collectors))
    daemon.store.flush()
    clock.advance(60)
    measured = collectors[:MEASURED]
    for collector in measured:  # their steady poll once, uncounted
        await daemon.poller.poll(collector)
    clock.advance(60)
    assert len(daemon.alerts.states) == size  # state for the whole fleet
    return await counted(daemon, measured)


async def counted(daemon: Daemon, collectors: list[Collector]) -> PollCost:
    bytecodes = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal bytecodes
        frame.f_trace_opcodes = True
        if event == "opcode":
            bytecodes += 1
        return trace

    peaks = []
    tracemalloc.start()
    try:
        for collector in collectors:
            tracemalloc.reset_peak()
            held = tracemalloc.get_traced_memory()[0]
            sys.settrace(trace)
            try:
                await daemon.poller.poll(collector)
            finally:
                sys.settrace(None)
            peaks.append(tracemalloc.get_traced_memory()[1] - held)
    finally:
        tracemalloc.stop()
    daemon.store.close()
    return PollCost(bytecodes / len(collectors), sorted(peaks)[len(peaks) // 2] / 1024)


def test_a_poll_costs_the_same_at_ten_thousand_devices(tmp_path: Path) -> None:
    (tmp_path / "small").mkdir()
    (tmp_path / "large").mkdir()
    small = asyncio.run(poll_cost(tmp_path / "small", 1_000))
    large = asyncio.run(poll_cost(tmp_path / "large", 10_000))
    print(f"per poll: 1,000 devices {small}, 10,000 devices {large}")
    assert large.bytecodes <= small.bytecodes * ALLOWED_GROWTH, (small, large)
    assert large.peak_kib <= small.peak_kib * ALLOWED_GROWTH, (small, large)

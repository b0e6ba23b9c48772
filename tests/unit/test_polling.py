"""The poller: counters, backoff for dead targets, off-hours cadence, state written."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.daemon.polling import MAX_BACKOFF, Poller, PollPlan, TargetCounters
from sobriety.daemon.snapshot import LiveSnapshot
from sobriety.model import CollectResult, Sample
from sobriety.snmp.transport import RequestStats
from sobriety.store import StateStore


class FakeCollector:
    def __init__(self, clock: ManualClock) -> None:
        self.target = TargetRef("sw1", "snmp")
        self.clock = clock
        self.up = True
        self.calls = 0

    async def collect(self) -> CollectResult:
        self.calls += 1
        stats = RequestStats(get=1, getbulk=2, varbinds=30)
        if not self.up:
            stats = RequestStats(get=1, timeouts=1)
            return CollectResult("sw1", False, "timeout", stats=stats)
        return CollectResult(
            "sw1",
            True,
            samples=[Sample("sobriety_device_uptime_seconds", {"target": "sw1"}, 5.0)],
            stats=stats,
        )

    async def close(self) -> None:
        return None


def make(tmp_path: Path) -> tuple[Poller, FakeCollector, ManualClock, StateStore]:
    clock = ManualClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    store = StateStore(tmp_path / "s.sqlite3")
    poller = Poller(LiveSnapshot(), store, clock, per_target_bookkeeping=True)
    return poller, FakeCollector(clock), clock, store


def value(poller: Poller, name: str, **labels: str) -> float:
    (found,) = [
        s.value
        for s in poller.snapshot.of("sw1")
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return found


async def test_counters_accumulate_and_first_seen_is_set(tmp_path: Path) -> None:
    poller, collector, clock, store = make(tmp_path)
    await poller.poll(collector)
    clock.advance(60)
    await poller.poll(collector)
    assert value(poller, "sobriety_polls_total") == 2
    assert value(poller, "sobriety_snmp_requests_total", type="getbulk") == 4
    assert value(poller, "sobriety_target_up") == 1
    first = value(poller, "sobriety_device_first_seen_timestamp_seconds")
    assert first == datetime(2026, 1, 5, 7, 0, tzinfo=UTC).timestamp()
    poller._flush()
    assert store.targets()["sw1"].polls == 2


async def test_dead_target_is_backed_off_then_recovers(tmp_path: Path) -> None:
    poller, collector, _, _ = make(tmp_path)
    collector.up = False
    attempts = []
    for _ in range(20):
        result = await poller.poll(collector)
        attempts.append(result is not None)
    # scheduled runs that really poll: 1, 2, 4, then every MAX_BACKOFF-th run
    polled = [i + 1 for i, tried in enumerate(attempts) if tried]
    assert polled == [1, 2, 4, 8, 12, 16, 20]
    assert polled[-1] - polled[-2] == MAX_BACKOFF
    assert value(poller, "sobriety_target_up") == 0
    assert value(poller, "sobriety_poll_errors_total", reason="timeout") == sum(attempts)
    assert value(poller, "sobriety_target_down_info", reason="timeout") == 1
    assert not [s for s in poller.snapshot.of("sw1") if s.name == "sobriety_device_uptime_seconds"]
    collector.up = True
    while (result := await poller.poll(collector)) is None:
        pass
    assert result.up
    assert value(poller, "sobriety_target_up") == 1
    assert (await poller.poll(collector)) is not None  # back to every run


async def test_off_hours_cadence_only_while_the_site_is_closed(tmp_path: Path) -> None:
    poller, collector, clock, _ = make(tmp_path)

    def is_open(at: datetime) -> bool:
        return 8 <= at.hour < 17  # UTC for the test

    plan = PollPlan(collector, 60.0, off_hours_interval=900.0, is_open=is_open)
    ran = 0
    for _ in range(60):  # 07:00 to 08:00 in one-minute runs: closed
        ran += (await poller.poll_planned(plan)) is not None
        clock.advance(60)
    assert ran == 4  # 07:00, 07:15, 07:30, 07:45
    ran = 0
    for _ in range(10):  # open: every run polls
        ran += (await poller.poll_planned(plan)) is not None
        clock.advance(60)
    assert ran == 10


async def test_polling_cost_is_summed_over_targets_by_default(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    poller = Poller(LiveSnapshot(), StateStore(tmp_path / "s.sqlite3"), clock)
    first, second = FakeCollector(clock), FakeCollector(clock)
    second.target = TargetRef("sw2", "snmp")
    await poller.poll(first)
    await poller.poll(second)
    second.up = False
    await poller.poll(second)
    per_target = {s.name for s in poller.snapshot.of("sw1")}
    assert "sobriety_polls_total" not in per_target  # no bookkeeping series per device
    assert {"sobriety_target_up", "sobriety_poll_duration_seconds"} <= per_target
    total = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for s in poller.bookkeeping_samples()
    }
    assert total[("sobriety_polls_total", ())] == 3
    assert total[("sobriety_snmp_requests_total", (("type", "getbulk"),))] == 4
    assert total[("sobriety_poll_errors_total", (("reason", "timeout"),))] == 1


async def test_one_log_line_per_state_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    poller, collector, clock, _ = make(tmp_path)
    caplog.set_level(logging.DEBUG, logger="sobriety.daemon.polling")
    for up in (True, True, False, False, False, True, True):
        collector.up = up
        poller.counters.setdefault("sw1", TargetCounters()).skip = 0  # no backoff here
        await poller.poll(collector)
        clock.advance(60)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("WARNING", "target sw1 is down: timeout: -"),
        ("INFO", "target sw1 is up again"),
    ]


def test_a_target_down_from_its_first_poll_is_logged_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sobriety.daemon.polling import log_state_change
    from sobriety.model import CollectIssue

    result = CollectResult("ups1", False, "auth_failed")
    result.issues.append(CollectIssue("auth_failed", "ops: wrong digest (auth password?)"))
    caplog.set_level(logging.INFO, logger="sobriety.daemon.polling")
    log_state_change(None, result)
    log_state_change(None, CollectResult("ups2", True))  # first poll up: nothing changed
    assert [r.getMessage() for r in caplog.records] == [
        "target ups1 is down: auth_failed: ops: wrong digest (auth password?)"
    ]

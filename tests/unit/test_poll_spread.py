"""First polls are spread at a bounded rate in a stable order; a reload keeps the next run of
every target whose cadence did not change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import cast

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from sobriety.clock import ManualClock
from sobriety.collectors.base import Collector
from sobriety.daemon.polling import (
    FIRST_CONTACTS_PER_SECOND,
    Poller,
    PollPlan,
    PollScheduler,
    first_poll_spread,
)
from sobriety.model import CollectResult

# far ahead of the real clock, so that no job comes due while a test looks at them
FAR = datetime(2099, 1, 1, tzinfo=UTC)


class _Poller:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    async def poll_planned(self, plan: PollPlan) -> CollectResult | None:
        raise AssertionError("no poll comes due in these tests")


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    s = AsyncIOScheduler(timezone="UTC")
    s.start(paused=True)
    yield s
    s.shutdown(wait=False)


def _plans(ids: list[str], interval: float = 300.0) -> dict[str, PollPlan]:
    return {t: PollPlan(cast(Collector, object()), interval) for t in ids}


def _offsets(polls: PollScheduler, ids: list[str]) -> dict[str, float]:
    start = polls.poller.clock.now()
    offsets = {}
    for t in ids:
        job = polls.scheduler.get_job(PollScheduler.job_id(t))
        offsets[t] = (job.next_run_time - start).total_seconds()
    return offsets


def _scheduler(s: AsyncIOScheduler, clock: ManualClock | None = None) -> PollScheduler:
    return PollScheduler(cast(Poller, _Poller(clock or ManualClock(FAR))), s, jitter=0.1)


@pytest.mark.parametrize(
    ("count", "interval", "spread"),
    [(16, 300.0, 5.0), (1_000, 300.0, 50.0), (10_000, 300.0, 300.0), (1_000, 20.0, 20.0)],
)
async def test_first_polls_are_spread_evenly_at_a_bounded_rate(
    scheduler: AsyncIOScheduler, count: int, interval: float, spread: float
) -> None:
    ids = [f"dev{i:05d}" for i in range(count)]
    polls = _scheduler(scheduler)
    polls.apply(_plans(ids, interval))
    offsets = sorted(_offsets(polls, ids).values())
    assert offsets[0] == 0.0
    assert offsets[-1] == pytest.approx(spread * (count - 1) / count)
    step = spread / count
    gaps = [b - a for a, b in pairwise(offsets)]
    assert all(step * 0.99 < g < step * 1.01 for g in gaps)
    per_second = max(sum(1 for o in offsets if s <= o < s + 1) for s in range(int(spread)))
    assert per_second <= max(FIRST_CONTACTS_PER_SECOND, count / spread) + 1


def test_the_spread_grows_with_the_number_of_new_targets() -> None:
    assert first_poll_spread(1) == first_poll_spread(100) == 5.0
    assert first_poll_spread(1_000) == 1_000 / FIRST_CONTACTS_PER_SECOND


async def test_the_order_is_stable_from_one_process_to_the_next(
    scheduler: AsyncIOScheduler,
) -> None:
    ids = [f"sw-{i}" for i in range(200)]
    one, two = _scheduler(scheduler), _scheduler(scheduler)
    one.apply(_plans(ids))
    first = _offsets(one, ids)
    two.apply(_plans(list(reversed(ids))))  # replaces the same job ids, in another order
    assert _offsets(two, ids) == first
    assert sorted(first, key=first.__getitem__) != ids  # not the configuration's order


async def test_a_reload_keeps_next_runs_and_spreads_only_what_is_new(
    scheduler: AsyncIOScheduler,
) -> None:
    clock = ManualClock(FAR)
    polls = _scheduler(scheduler, clock)
    ids = [f"dev{i:04d}" for i in range(1_000)]
    polls.apply(_plans(ids))
    before = {t: j.next_run_time for t in ids if (j := scheduler.get_job(f"poll:{t}"))}
    clock.advance(40.0)

    plans = _plans(ids[:-1])  # one removed
    plans["dev0001"] = PollPlan(cast(Collector, object()), 60.0)  # one re-timed
    plans |= _plans([f"new{i}" for i in range(10)])  # ten added
    polls.apply(plans)

    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert f"poll:{ids[-1]}" not in jobs
    kept = [t for t in ids[:-1] if t != "dev0001"]
    assert all(jobs[f"poll:{t}"].next_run_time == before[t] for t in kept)
    assert all(jobs[f"poll:{t}"].args == (plans[t],) for t in kept)  # the new plan, same time
    now = clock.now()
    fresh = ["dev0001", *(f"new{i}" for i in range(10))]
    assert all(now <= jobs[f"poll:{t}"].next_run_time < now + timedelta(seconds=5) for t in fresh)
    assert jobs["poll:dev0001"].trigger.interval == timedelta(seconds=60)

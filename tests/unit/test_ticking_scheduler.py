"""The daemon's scheduler wakes on a tick grid: jobs due within one tick share a wakeup."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from sobriety.daemon.ticking import TickingScheduler

LOADED_MACHINE_SLACK = 0.75  # seconds a loaded 2-core runner may add to a wakeup


def test_jobs_due_within_one_tick_run_at_one_wakeup_never_early_and_at_most_a_tick_late() -> None:
    tick = 0.25
    ran: dict[int, datetime] = {}
    due: dict[int, datetime] = {}

    async def main() -> TickingScheduler:
        scheduler = TickingScheduler(tick=tick)
        start = datetime.now(UTC) + timedelta(seconds=0.3)
        all_ran = asyncio.Event()
        for i in range(40):  # 40 run times spread over one second, as jitter spreads polls

            async def job(i: int = i) -> None:
                ran[i] = datetime.now(UTC)
                if len(ran) == 40:
                    all_ran.set()

            due[i] = start + timedelta(seconds=i / 40)
            scheduler.add_job(job, "interval", seconds=3600, next_run_time=due[i], id=f"j{i}")
        scheduler.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_ran.wait(), 1.3 + tick + 3 * LOADED_MACHINE_SLACK)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
        return scheduler

    scheduler = asyncio.run(main())
    assert len(ran) == 40
    # one second of run times: 4 ticks (5 with the partial first), not 40 wakeups
    assert scheduler.wakeups <= 1.0 / tick + 2
    for i, when in ran.items():
        assert when >= due[i] - timedelta(milliseconds=5)  # never early (clock rounding aside)
        assert (when - due[i]).total_seconds() <= tick + LOADED_MACHINE_SLACK


def test_a_job_added_while_running_and_due_now_runs_at_once() -> None:
    ran: list[datetime] = []

    async def main() -> None:
        scheduler = TickingScheduler(tick=10.0)  # a long tick: only add_job's wakeup runs it
        scheduler.start()
        await asyncio.sleep(0.05)

        done = asyncio.Event()

        async def job() -> None:
            ran.append(datetime.now(UTC))
            done.set()

        scheduler.add_job(job, "interval", seconds=3600, next_run_time=datetime.now(UTC))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 3 * LOADED_MACHINE_SLACK)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert len(ran) == 1


@pytest.mark.parametrize("tick", [0.0, -1.0, float("nan")])
def test_a_tick_must_be_positive(tick: float) -> None:
    with pytest.raises(ValueError, match="tick must be positive"):
        TickingScheduler(tick=tick)

"""The daemon's APScheduler: its timer wakes on a tick grid, not at every job's own time.

APScheduler 3's `AsyncIOScheduler` sets its timer to the next job's run time, and each time
the timer fires it hops through `call_soon_threadsafe` (a write to the loop's self-pipe, a
read, one more loop pass) before running the due jobs. With one job per target and
jittered run times, every poll is then a wakeup of its own: about 400 µs of CPU a job run
at 100 runs a second (measured, docs/performance.md), more than a device's profile
evaluation. Here the timer is rounded up to the next multiple of `tick` seconds on the
loop's clock and runs the due jobs directly: every job due within one tick runs at one
wakeup (about 60 µs a job run in the same measurement), at most `1 / tick` wakeups a
second whatever the fleet, and no job runs more than `tick` seconds late.
"""

from __future__ import annotations

import math

from apscheduler.schedulers.asyncio import AsyncIOScheduler

TICK_SECONDS = 0.25  # a poll every 60 s started up to 250 ms late; jitter spreads them more


class TickingScheduler(AsyncIOScheduler):  # type: ignore[misc]  # APScheduler is untyped
    """An `AsyncIOScheduler` whose timer wakes on multiples of `tick` seconds."""

    def __init__(self, *, tick: float = TICK_SECONDS, timezone: str = "UTC") -> None:
        if not tick > 0:
            raise ValueError(f"tick must be positive, not {tick!r}")
        super().__init__(timezone=timezone)
        self.tick = tick
        self.wakeups = 0  # timer wakeups so far (each runs every job then due)

    def _start_timer(self, wait_seconds: float | None) -> None:
        self._stop_timer()
        if wait_seconds is not None:
            loop = self._eventloop
            when = math.ceil((loop.time() + max(wait_seconds, 0.0)) / self.tick) * self.tick
            self._timeout = loop.call_at(when, self._wake_in_loop)

    def _wake_in_loop(self) -> None:
        """The timer's callback, already on the loop: run the due jobs, set the next timer."""
        self.wakeups += 1
        self._stop_timer()
        self._start_timer(self._process_jobs())

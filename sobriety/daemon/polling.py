"""Polling: run a collector, keep its counters, publish to the snapshot, queue for the store.

`PollScheduler` gives each target its own APScheduler 3 interval job (jitter, coalesce,
max_instances=1), so a slow or dead target never delays the others. A target that keeps
failing is polled less often (up to `MAX_BACKOFF` intervals apart) until it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from sobriety.clock import Clock
from sobriety.collectors.base import Collector
from sobriety.daemon.snapshot import LiveSnapshot
from sobriety.errors import StoreError
from sobriety.model import CollectResult, Sample
from sobriety.store import PollRecord, StateStore

log = logging.getLogger(__name__)

MAX_BACKOFF = 4  # a dead target is polled at most every 4 intervals


@dataclass(slots=True)
class TargetCounters:
    """Running totals of one target, exposed as counters."""

    polls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    issues: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=lambda: {"get": 0, "getnext": 0, "getbulk": 0})
    timeouts: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    varbinds: int = 0
    anomalies: dict[str, int] = field(default_factory=dict)
    shrinks: dict[str, int] = field(default_factory=dict)
    consecutive_failures: int = 0
    skip: int = 0
    last_up: bool | None = None  # None until the first poll

    def add(self, result: CollectResult) -> None:
        self.polls += 1
        if not result.up:
            self.errors[result.reason] = self.errors.get(result.reason, 0) + 1
        for issue in result.issues:
            self.issues[issue.code] = self.issues.get(issue.code, 0) + 1
        stats = result.stats
        self.requests["get"] += stats.get
        self.requests["getnext"] += stats.getnext
        self.requests["getbulk"] += stats.getbulk
        self.timeouts += stats.timeouts
        self.retries += stats.retries
        self.bytes_sent += stats.bytes_sent
        self.bytes_received += stats.bytes_received
        self.varbinds += stats.varbinds
        for mine, theirs in (
            (self.anomalies, stats.walk_anomalies),
            (self.shrinks, stats.bulk_shrinks),
        ):
            for kind, count in theirs.items():
                mine[kind] = mine.get(kind, 0) + count


def status_samples(result: CollectResult) -> list[Sample]:
    """`up` and, while down, the reason: what every poll says about reachability."""
    tid = {"target": result.target}
    samples = [Sample("sobriety_target_up", tid, 1.0 if result.up else 0.0)]
    if not result.up:
        samples.append(Sample("sobriety_target_down_info", {**tid, "reason": result.reason}, 1.0))
    return samples


def log_state_change(previous: bool | None, result: CollectResult) -> None:
    """One log line when a target goes down (with why) or comes back; none while it stays."""
    if result.up == previous or (result.up and previous is None):
        return
    if result.up:
        log.info("target %s is up again", result.target)
        return
    detail = next((i.detail for i in result.issues if i.code == result.reason), "")
    log.warning("target %s is down: %s: %s", result.target, result.reason, detail or "-")


def published_as_collected(result: CollectResult) -> list[Sample]:
    """The default `enrich`: publish what the collector found, nothing added."""
    return list(result.samples)


class Poller:
    """Polls collectors and publishes what they found.

    `enrich` turns a collect result into the samples to publish (the daemon adds the power
    reading, energy and lifetime figures there); `on_result` is given the target's id and its
    published samples (alert evaluation).
    """

    def __init__(
        self,
        snapshot: LiveSnapshot,
        store: StateStore,
        clock: Clock,
        max_concurrent: int = 64,
        *,
        enrich: Callable[[CollectResult], list[Sample]] = published_as_collected,
        on_result: Callable[[str, Sequence[Sample]], None] = lambda target, samples: None,
        per_target_bookkeeping: bool = False,
    ) -> None:
        self.snapshot = snapshot
        self.store = store
        self.clock = clock
        self.enrich = enrich
        self.on_result = on_result
        self.counters: dict[str, TargetCounters] = {}
        # what polling cost, summed over every target ever polled (a removed target's
        # counts stay in: the sums never go down); per target only when asked
        self.total = TargetCounters()
        self.per_target_bookkeeping = per_target_bookkeeping
        self.last_polled: dict[str, datetime] = {}
        self.first_seen = {
            rec.id: rec.first_seen for rec in store.targets().values() if rec.first_seen
        }
        self._slots = asyncio.Semaphore(max_concurrent)
        self.closed = False
        self._flush_scheduled = False

    async def poll_planned(self, plan: PollPlan) -> CollectResult | None:
        """Scheduled poll: outside opening hours, keep to the slower off-hours cadence."""
        if plan.off_hours_interval is not None and plan.is_open is not None:
            now = self.clock.now()
            last = self.last_polled.get(plan.collector.target.id)
            if (
                last is not None
                and not plan.is_open(now)
                and (now - last).total_seconds() < plan.off_hours_interval * 0.99
            ):
                return None
        return await self.poll(plan.collector, plan.interval)

    async def poll(
        self, collector: Collector, interval: float | None = None
    ) -> CollectResult | None:
        """Poll one target now, unless it is in backoff; publish and queue the result.

        With its `interval`, the published samples say how much of it the poll took.
        """
        target = collector.target.id
        counters = self.counters.setdefault(target, TargetCounters())
        if counters.skip > 0:
            counters.skip -= 1
            return None
        self.last_polled[target] = self.clock.now()
        async with self._slots:
            result = await collector.collect()
        if self.closed:  # the daemon stopped while this poll was in flight: drop it
            return None
        counters.add(result)
        self.total.add(result)
        log_state_change(counters.last_up, result)
        counters.last_up = result.up
        if result.up:
            counters.consecutive_failures = 0
            self.first_seen.setdefault(target, self.clock.now())
        else:
            counters.consecutive_failures += 1
            counters.skip = min(2 ** (counters.consecutive_failures - 1), MAX_BACKOFF) - 1
        result.samples = self.enrich(result)
        samples = self._samples(result, counters)
        if interval is not None:
            ratio = result.duration_seconds / interval
            samples.append(Sample("sobriety_poll_overrun_ratio", {"target": target}, ratio))
        self.snapshot.update(target, samples)
        self.store.record_poll(PollRecord(target, self.clock.now(), result.up, result.reason))
        self.on_result(target, samples)
        self._schedule_flush()
        return result

    def _schedule_flush(self) -> None:
        """Write the store once the loop is free: polls ending together share a commit."""
        if self._flush_scheduled:
            return
        self._flush_scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self._flush)
        except RuntimeError:  # no loop (synchronous use): write now
            self._flush()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.closed:
            return
        try:
            self.store.flush()
        except (OSError, StoreError):
            log.exception("could not write the state store; will retry with the next poll")

    def _samples(self, result: CollectResult, c: TargetCounters) -> list[Sample]:
        tid = {"target": result.target}
        samples = [*status_samples(result), *result.samples]
        first = self.first_seen.get(result.target)
        if first is not None:
            samples.append(
                Sample("sobriety_device_first_seen_timestamp_seconds", tid, first.timestamp())
            )
        samples += [
            Sample("sobriety_poll_duration_seconds", tid, result.duration_seconds),
            Sample("sobriety_last_poll_timestamp_seconds", tid, self.clock.now().timestamp()),
        ]
        if self.per_target_bookkeeping:
            samples += bookkeeping_samples(c, tid)
        return samples

    def bookkeeping_samples(self) -> list[Sample]:
        """What polling cost over all targets (unless it is exposed per target)."""
        return [] if self.per_target_bookkeeping else bookkeeping_samples(self.total, {})


def bookkeeping_samples(c: TargetCounters, tid: Mapping[str, str]) -> list[Sample]:
    """Polls, requests, bytes, varbinds, retries, errors, issues of one target or of all."""
    samples = [
        Sample("sobriety_polls_total", tid, float(c.polls)),
        Sample("sobriety_snmp_timeouts_total", tid, float(c.timeouts)),
        Sample("sobriety_snmp_retries_total", tid, float(c.retries)),
        Sample("sobriety_snmp_sent_bytes_total", tid, float(c.bytes_sent)),
        Sample("sobriety_snmp_received_bytes_total", tid, float(c.bytes_received)),
        Sample("sobriety_snmp_varbinds_total", tid, float(c.varbinds)),
    ]
    for name, label, counts in (
        ("sobriety_snmp_requests_total", "type", c.requests),
        ("sobriety_poll_errors_total", "reason", c.errors),
        ("sobriety_collect_issues_total", "code", c.issues),
        ("sobriety_snmp_walk_anomalies_total", "kind", c.anomalies),
        ("sobriety_snmp_bulk_shrinks_total", "cause", c.shrinks),
    ):
        samples += [Sample(name, {**tid, label: k}, float(n)) for k, n in list(counts.items())]
    return samples


@dataclass(frozen=True, slots=True)
class PollPlan:
    """A collector, how often to poll it, and its slower cadence while its site is closed."""

    collector: Collector
    interval: float
    off_hours_interval: float | None = None
    is_open: Callable[[datetime], bool] | None = None


# First contacts started per second at most when many targets are new (at start, or added by
# a reload), and the shortest spread: a handful of targets all start within 5 s, 1,000 within
# 50 s, 10,000 over their whole interval. A first contact costs ~17 ms of CPU (identity and
# every table; live at 1,000 devices, against ~3 ms for a steady poll), so 20 a second hold
# ~40 % of one core while they last, where 1,000 at once held it for 20 s and lifted the peak
# RSS from 108 to 140 MiB (docs/performance.md).
FIRST_CONTACTS_PER_SECOND = 20.0
SHORTEST_FIRST_SPREAD = 5.0


def first_poll_spread(new_targets: int) -> float:
    """Seconds over which the first polls of `new_targets` targets are spread (each target's
    own interval caps it)."""
    return max(SHORTEST_FIRST_SPREAD, new_targets / FIRST_CONTACTS_PER_SECOND)


def _stable_rank(target: str) -> int:
    """A target's place in the first-poll order: the same in every process (not `hash`)."""
    return zlib.crc32(target.encode())


class PollScheduler:
    """One APScheduler job per target.

    First polls are spread, in a stable order, over `first_poll_spread` seconds: a first
    contact reads a device's identity and every table (several times a steady poll's CPU),
    so 10,000 of them in a few seconds would hold the loop and set the process's memory
    peak. A reload keeps the next run of every target whose cadence did not change, so it
    neither pulls their polls forward nor bunches them.
    """

    def __init__(self, poller: Poller, scheduler: AsyncIOScheduler, jitter: float) -> None:
        self.poller = poller
        self.scheduler = scheduler
        self.jitter = jitter
        self._cadence: dict[str, tuple[float, float]] = {}  # target: (interval, jitter) of its job

    def apply(self, plans: Mapping[str, PollPlan]) -> None:
        """Make the poll jobs match `plans`: add new targets, update the others, drop the rest.

        Only the jobs this scheduler made for targets are touched: the daemon's own jobs (alert
        evaluation, re-sending) live beside them in the same APScheduler.
        """
        for target in set(self._cadence) - set(plans):
            job = self.scheduler.get_job(self.job_id(target))
            if job is not None:
                job.remove()
            del self._cadence[target]
        fresh: dict[str, tuple[float, float]] = {}  # target: the cadence of its new job
        for target, plan in plans.items():
            cadence = (plan.interval, plan.interval * self.jitter)
            job = self.scheduler.get_job(self.job_id(target))
            if job is not None and self._cadence.get(target) == cadence:
                job.modify(args=(plan,))  # same cadence: its next run stays where it was
            else:
                fresh[target] = cadence
        now = self.poller.clock.now()
        spread = first_poll_spread(len(fresh))
        for rank, target in enumerate(sorted(fresh, key=_stable_rank)):
            plan = plans[target]
            interval, jitter = fresh[target]
            offset = min(interval, spread) * rank / len(fresh)
            self.scheduler.add_job(
                self.poller.poll_planned,
                "interval",
                args=(plan,),
                seconds=interval,
                jitter=jitter,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(int(interval), 1),
                next_run_time=now + timedelta(seconds=offset),
                id=self.job_id(target),
                name=f"poll {target}",
                replace_existing=True,
            )
            self._cadence[target] = fresh[target]

    @staticmethod
    def job_id(target: str) -> str:
        """The APScheduler job id of a target's polls."""
        return f"poll:{target}"

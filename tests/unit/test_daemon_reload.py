"""The daemon builds from config, keeps the old config when a reload fails, and shards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sobriety.clock import ManualClock
from sobriety.config.load import AuthConfig, Config, TargetConfig
from sobriety.config.shards import in_shard
from sobriety.daemon.app import Daemon
from sobriety.daemon.lifecycle import EVALUATE_JOB, RESEND_JOB, Lifecycle
from sobriety.daemon.polling import PollScheduler
from sobriety.daemon.runtime import World
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmp.transport import SnmpTransport

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
settings: {listen: "127.0.0.1:9999", data_dir: state, interval: 30s}
auths:
  v2: {version: "2c", community: junos_ex}
targets:
  - {id: junos_ex, address: 127.0.0.1, port: 1161, auth: v2}
  - {id: localhost, kind: host}
"""


def recorded(target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
    return RecordedTransport(load_snmprec(ROOT / "recordings" / f"{target.id}.snmprec"))


@asynccontextmanager
async def started(path: Path) -> AsyncIterator[tuple[Daemon, Lifecycle]]:
    """A daemon started from the configuration at `path`, stopped at the end."""
    daemon = Daemon(path, World(clock=ManualClock(), transport_factory=recorded))
    lifecycle = Lifecycle(daemon)
    await lifecycle.start()
    try:
        yield daemon, lifecycle
    finally:
        await lifecycle.stop()


async def test_failed_reload_keeps_running_config(tmp_path: Path) -> None:
    path = tmp_path / "sobriety.yaml"
    path.write_text(GOOD)
    async with started(path) as (daemon, lifecycle):
        assert set(daemon.runtime.collectors) == {"junos_ex", "localhost"}
        result = await daemon.poller.poll(daemon.runtime.collectors["junos_ex"])
        assert result is not None and result.up
        names = {s.name for s in daemon.samples()}
        assert {
            "sobriety_target_up",
            "sobriety_poe_consumption_watts",
            "sobriety_config_last_reload_successful",
        } <= names

        path.write_text(GOOD.replace("address: 127.0.0.1", "address: 999.1.1.1"))
        problems = await lifecycle.reload()
        assert problems and "address" in problems[0]
        assert set(daemon.runtime.collectors) == {"junos_ex", "localhost"}
        reload_ok = [
            s for s in daemon.samples() if s.name == "sobriety_config_last_reload_successful"
        ]
        assert reload_ok[0].value == 0

        path.write_text(GOOD.replace("  - {id: localhost, kind: host}\n", ""))
        assert await lifecycle.reload() == []
        assert set(daemon.runtime.collectors) == {"junos_ex"}
        # the target jobs follow the targets; the daemon's own jobs stay
        jobs = sorted(job.id for job in daemon.scheduler.get_jobs())
        assert jobs == sorted([EVALUATE_JOB, RESEND_JOB, PollScheduler.job_id("junos_ex")])
    assert (tmp_path / "state" / "state.sqlite3").exists()


async def test_a_target_named_like_a_daemon_job_does_not_replace_it(tmp_path: Path) -> None:
    # target ids cannot hold ':', so no target's job id is ever a daemon job's
    path = tmp_path / "sobriety.yaml"
    path.write_text(GOOD.replace("id: localhost", "id: alerts"))
    async with started(path) as (daemon, lifecycle):
        assert await lifecycle.reload() == []
        jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
        assert jobs[EVALUATE_JOB].func == daemon.evaluate_global
        assert jobs[RESEND_JOB].func == daemon.resend
        assert PollScheduler.job_id("alerts") in jobs


def test_sharding_is_deterministic_and_complete() -> None:
    ids = [f"t{i}" for i in range(300)]
    shards = [{t for t in ids if in_shard(t, f"{k}/3")} for k in (1, 2, 3)]
    assert set().union(*shards) == set(ids)
    assert sum(len(s) for s in shards) == len(ids)
    assert all(60 < len(s) < 140 for s in shards)


async def test_a_reload_keeps_the_collector_of_a_target_that_did_not_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sobriety.yaml"
    path.write_text(GOOD)
    async with started(path) as (daemon, lifecycle):
        before = dict(daemon.runtime.collectors)
        profiles = daemon.runtime.profiles
        path.write_text(GOOD.replace("port: 1161", "port: 1162"))
        assert await lifecycle.reload() == []
        after = daemon.runtime.collectors
        assert after["localhost"] is before["localhost"]  # what it learnt is kept
        assert after["junos_ex"] is not before["junos_ex"]  # a new address: a new collector
        assert daemon.runtime.profiles is profiles  # the same profiles: one copy

        path.write_text(GOOD.replace("interval: 30s", "interval: 60s"))
        assert await lifecycle.reload() == []
        assert daemon.runtime.collectors["localhost"] is not after["localhost"]  # new deadline

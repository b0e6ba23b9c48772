"""The daemon builds from config, keeps the old config when a reload fails, and shards."""

from __future__ import annotations

from pathlib import Path

from sobriety.clock import ManualClock
from sobriety.config.load import AuthConfig, Config, TargetConfig
from sobriety.daemon.app import Daemon, World, _in_shard
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


async def test_failed_reload_keeps_running_config(tmp_path: Path) -> None:
    path = tmp_path / "sobriety.yaml"
    path.write_text(GOOD)
    daemon = Daemon(path, World(clock=ManualClock(), transport_factory=recorded))
    await daemon.start()
    try:
        assert daemon.runtime is not None
        assert set(daemon.runtime.collectors) == {"junos_ex", "localhost"}
        assert daemon.poller is not None
        result = await daemon.poller.poll(daemon.runtime.collectors["junos_ex"])
        assert result is not None and result.up
        names = {s.name for s in daemon.samples()}
        assert {
            "sobriety_target_up",
            "sobriety_poe_consumption_watts",
            "sobriety_config_last_reload_successful",
        } <= names

        path.write_text(GOOD.replace("address: 127.0.0.1", "address: 999.1.1.1"))
        problems = await daemon.reload()
        assert problems and "address" in problems[0]
        assert set(daemon.runtime.collectors) == {"junos_ex", "localhost"}
        reload_ok = [
            s for s in daemon.samples() if s.name == "sobriety_config_last_reload_successful"
        ]
        assert reload_ok[0].value == 0

        path.write_text(GOOD.replace("  - {id: localhost, kind: host}\n", ""))
        assert await daemon.reload() == []
        assert set(daemon.runtime.collectors) == {"junos_ex"}
        assert daemon.scheduler is not None
        assert [job.id for job in daemon.scheduler.get_jobs()] == ["junos_ex"]
    finally:
        await daemon.stop()
    assert (tmp_path / "state" / "state.sqlite3").exists()


def test_sharding_is_deterministic_and_complete() -> None:
    ids = [f"t{i}" for i in range(300)]
    shards = [{t for t in ids if _in_shard(t, f"{k}/3")} for k in (1, 2, 3)]
    assert set().union(*shards) == set(ids)
    assert sum(len(s) for s in shards) == len(ids)
    assert all(60 < len(s) < 140 for s in shards)

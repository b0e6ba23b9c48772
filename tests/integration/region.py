"""A region on loopback: `sobriety run` daemons over the demo fleet (one alone, two sharing it
by `shard: K/N`), a Prometheus for each view, the central one remote-writing into a real
VictoriaMetrics. Every process is this test's own child, on a free port, stopped by its PID."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

from sobriety.config.load import load_config
from sobriety.config.shards import owned
from sobriety.demo.fleet import demo_config
from sobriety.demo.snmpsim_agent import SnmpsimAgent
from tests.conftest import require_tool
from tests.integration.test_daemon import free_tcp_port, parse

INTERVAL = "3s"
# measured on the 2-core machine with the three daemons, two Prometheus and VictoriaMetrics:
# every target up and advised in ~25 s; x3 plus margin
READY_TIMEOUT = 120.0
# every series began 90 s before the window of its rates ~110 s after Prometheus starts
# (test_scale_out.py, measured on the 2-core machine); x3
SAMPLES_TIMEOUT = 330.0


def stop_process(proc: subprocess.Popen[bytes], why: Callable[[], str]) -> None:
    """SIGTERM the process we started, by its PID; a process that ignores it is killed and
    the test fails with `why()`."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError(why()) from None


@dataclass
class Daemon:
    """One `sobriety run` child: its config, folder, URL and the targets it polls."""

    name: str
    shard: str
    folder: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    polls: set[str] = field(default_factory=set)

    @property
    def config(self) -> Path:
        return self.folder / "demo.yaml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, agent: SnmpsimAgent) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = demo_config(agent.port, f"127.0.0.1:{self.port}", INTERVAL, agent.communities())
        body["settings"]["shard"] = self.shard  # type: ignore[index]
        # the local host's power is an estimate from this machine's CPU load, which each
        # daemon samples at its own moments: left out, the fleet is the recordings
        body["targets"] = [t for t in body["targets"] if t["kind"] != "host"]  # type: ignore[index, union-attr, attr-defined]
        self.config.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
        config = load_config(self.config)
        self.polls = {t.id for t in config.targets if not t.disposed} & owned(config)
        log = (self.folder / "daemon.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sobriety", "run", "--config", str(self.config)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, lambda: f"{self.name} ignored SIGTERM: {self.log_tail()}")

    def log_tail(self) -> str:
        return (self.folder / "daemon.log").read_text(errors="replace")[-3000:]


async def metrics_of(url: str) -> dict[str, dict[str, float]]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as resp:
        return parse(await resp.text())


def ready(daemon: Daemon, metrics: dict[str, dict[str, float]]) -> bool:
    """Every target of its shard up, and advised (5 action series each)."""
    up = {k.split('target="')[1].split('"')[0]: v
          for k, v in metrics.get("sobriety_target_up", {}).items()}  # fmt: skip
    advised = len(metrics.get("sobriety_device_eol_recommendation", {}))
    return set(up) == daemon.polls and all(up.values()) and advised == 5 * len(daemon.polls)


async def wait_ready(daemons: list[Daemon]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    waiting = list(daemons)
    while waiting:
        for daemon in list(waiting):
            assert daemon.proc is not None and daemon.proc.poll() is None, daemon.log_tail()
            try:
                if ready(daemon, await metrics_of(daemon.url)):
                    waiting.remove(daemon)
            except aiohttp.ClientError:
                pass
        assert time.monotonic() < deadline, [d.name for d in waiting]
        await asyncio.sleep(1)


class Server:
    """A Prometheus or VictoriaMetrics child speaking Prometheus' query API."""

    def __init__(self, argv: list[str], port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def stop(self) -> None:
        stop_process(self.proc, lambda: f"{self.url} did not stop on SIGTERM")

    async def query(self, expr: str) -> list[tuple[dict[str, str], float]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/api/v1/query", params={"query": expr}) as resp,
        ):
            body = await resp.json(content_type=None)
        assert body["status"] == "success", (expr, body)
        return [(r["metric"], float(r["value"][1])) for r in body["data"]["result"]]

    async def wait(self, expr: str, check: Callable[[list[tuple[dict[str, str], float]]], bool]
                   ) -> None:  # fmt: skip
        deadline = time.monotonic() + SAMPLES_TIMEOUT
        while True:
            assert self.proc.poll() is None, f"{self.url} died"
            try:
                if check(await self.query(expr)):
                    return
            except (aiohttp.ClientError, AssertionError):
                pass
            assert time.monotonic() < deadline, f"{self.url}: {expr}"
            await asyncio.sleep(1)


def prometheus(folder: Path, name: str, targets: list[Daemon], remote_write: str | None
               ) -> Server:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    port = free_tcp_port()
    body: dict[str, object] = {
        "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
        "scrape_configs": [{
            "job_name": "sobriety",
            "static_configs": [{"targets": [d.url.split("//")[1] for d in targets]}],
        }],
    }  # fmt: skip
    if remote_write is not None:
        body["remote_write"] = [
            {"url": f"{remote_write}/api/v1/write", "queue_config": {"batch_send_deadline": "1s"}}
        ]
    config = folder / f"{name}.yml"
    config.write_text(yaml.safe_dump(body))
    argv = [require_tool("prometheus"), f"--config.file={config}",
            f"--storage.tsdb.path={folder / name}", f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn"]  # fmt: skip
    return Server(argv, port, folder / f"{name}.log")


def victoria_metrics(folder: Path) -> Server:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_tcp_port()
    argv = [require_tool("victoria-metrics"), f"-storageDataPath={folder / 'vm'}",
            f"-httpListenAddr=127.0.0.1:{port}", "-retentionPeriod=1d",
            "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"]  # fmt: skip
    return Server(argv, port, folder / "vm.log")

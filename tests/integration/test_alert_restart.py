"""kill -9 the daemon while an alert fires, start it again: no second "firing", and the alert
still resolves when its value clears (after a reload with a stricter rule)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from sobriety.demo.fleet import write_demo_config
from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.resources import data_dir
from tests.integration.demo import webhook
from tests.integration.test_notifications import free_port

pytestmark = pytest.mark.integration


def rule_file(path: Path, raise_: float, clear: float) -> None:
    rule = {
        "name": "DemoPoeBusy",
        "metric": "sobriety_poe_used_ratio",
        "matchers": {"target": "junos_ex", "group": "1"},
        "op": ">",
        "raise": raise_,
        "clear": clear,
        "summary": "{{ $labels.target }} PoE group {{ $labels.group }} at {{ $value }}",
    }
    path.write_text(yaml.safe_dump({"rules": [rule]}))


def daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        # POST /-/reload below: the lifecycle API is off unless asked for, as in Prometheus
        [
            sys.executable,
            "-m",
            "sobriety",
            "run",
            "--config",
            str(config),
            "--web.enable-lifecycle",
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_kill_9_while_firing_then_restart(tmp_path: Path) -> None:
    async with webhook() as (hook_url, received):
        await kill_and_restart(tmp_path, hook_url, received)


async def kill_and_restart(
    tmp_path: Path, hook_url: str, received: list[dict[str, object]]
) -> None:
    agent = SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path / "snmpsim")
    agent.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        config = write_demo_config(
            tmp_path / "d", agent.port, f"127.0.0.1:{free_port()}", "2s", agent.communities()
        )
        raw = yaml.safe_load(config.read_text())
        rules = tmp_path / "d" / "alerts.yaml"
        rule_file(rules, 0.1, 0.05)  # junos_ex group 1 is at 0.14: fires at once
        raw["settings"]["alerting"] = {
            "shipped_rules": False,
            "rule_files": [str(rules)],
            "webhook": hook_url,
            "log": False,
        }
        config.write_text(yaml.safe_dump(raw))
        log = tmp_path / "daemon.log"

        async def until(check: object, timeout: float = 40) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if check():  # type: ignore[operator]
                    return
                await asyncio.sleep(0.2)
            raise AssertionError(f"not met; received {received}; log {log.read_text()[-2000:]}")

        def statuses() -> list[str]:
            return [str(r["status"]) for r in received]

        proc = daemon(config, log)
        await until(lambda: statuses() == ["firing"])
        await asyncio.sleep(3)  # a few more polls: the state is on disk
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc = daemon(config, log)
        await asyncio.sleep(8)  # several polls of the restarted daemon, still above
        assert statuses() == ["firing"]  # no duplicate notification
        rule_file(rules, 0.5, 0.4)  # a stricter rule: 0.14 is now past the clear threshold
        listen = raw["settings"]["listen"]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://{listen}/-/reload") as resp:
                assert resp.status == 200, await resp.text()
        await until(lambda: statuses() == ["firing", "resolved"])
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        agent.stop()

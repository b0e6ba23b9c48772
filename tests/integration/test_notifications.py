"""Alert notifications to real receivers on loopback: Debian's Alertmanager, an SMTP server
(aiosmtpd) and a webhook, driven by the daemon's engine on a UPS whose value changes."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import aiohttp
import pytest
from aiosmtpd.controller import Controller

from sobriety.alerts.engine import AlertEngine, builtin_rules_path, load_rules
from sobriety.alerts.notify import AlertmanagerNotifier, Dispatcher, EmailNotifier, WebhookNotifier
from sobriety.model import Sample
from tests.conftest import require_tool
from tests.integration.demo import webhook

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Alertmanager:
    """prometheus-alertmanager on 127.0.0.1, with its own config and storage."""

    def __init__(self, work: Path, port: int) -> None:
        self.work, self.port = work, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self.work / "alertmanager.yml"
        config.write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
        self.proc = subprocess.Popen(
            [
                require_tool("prometheus-alertmanager"),
                f"--config.file={config}",
                f"--storage.path={self.work / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{self.url}/-/ready") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("alertmanager did not start")

    async def alerts(self) -> list[dict[str, object]]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.url}/api/v2/alerts") as resp:
                assert resp.status == 200
                found: list[dict[str, object]] = await resp.json()
                return found

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


class Inbox:
    """aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


async def wait(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met")


def ups(seconds_on_battery: float) -> list[Sample]:
    return [
        Sample("sobriety_target_up", {"target": "ups1"}, 1.0),
        Sample("sobriety_ups_on_battery_seconds", {"target": "ups1"}, seconds_on_battery),
    ]


async def test_ups_on_battery_reaches_alertmanager_mail_and_webhook_then_resolves(
    tmp_path: Path,
) -> None:
    async with webhook() as (hook_url, hooks):
        await ups_story(tmp_path, hook_url, hooks)


async def ups_story(tmp_path: Path, hook_url: str, hooks: list[dict[str, object]]) -> None:
    """The receivers: the webhook, an SMTP server, and an Alertmanager that starts late."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    am = Alertmanager(tmp_path, free_port())
    dispatcher = Dispatcher(
        [
            AlertmanagerNotifier(am.url, expire_after=120),
            WebhookNotifier(hook_url),
            EmailNotifier("127.0.0.1", smtp.port, "sobriety@example.org", ["it@example.org"]),
        ]
    )
    dispatcher.start()
    rules = load_rules([builtin_rules_path()])
    engine = AlertEngine(rules)
    t0 = datetime.now(UTC) - timedelta(seconds=60)  # the story ends now: real timestamps
    try:
        assert engine.evaluate(ups(0), t0) == []
        assert engine.evaluate(ups(20), t0 + timedelta(seconds=10)) == []  # pending (for 30s)
        started = time.perf_counter()
        firing = engine.evaluate(ups(45), t0 + timedelta(seconds=45))
        dispatcher.submit(firing)
        submit_cost = time.perf_counter() - started
        assert [t.status for t in firing] == ["firing"]
        assert submit_cost < 0.05  # handing over never waits for a receiver

        async def delivered_to_hook_and_mail() -> bool:
            return bool(hooks) and bool(inbox.messages)

        await wait(delivered_to_hook_and_mail)
        assert hooks[0]["alerts"][0]["labels"]["alertname"] == "UpsOnBattery"  # type: ignore[index]
        mail = message_from_bytes(inbox.messages[0])
        assert mail["Subject"] == "[FIRING:1] UpsOnBattery"
        assert "UPS ups1 is on battery (45 s)" in mail.get_payload()  # type: ignore[operator]
        # Alertmanager was down: the failure is counted and retried, then it comes up
        lane = next(lane for lane in dispatcher.lanes if lane.notifier.name == "alertmanager")

        async def failed_once() -> bool:
            return lane.failed >= 1

        await wait(failed_once)
        am.start()
        await am.wait_ready()

        async def in_alertmanager() -> bool:
            return any(
                a["labels"]["alertname"] == "UpsOnBattery"  # type: ignore[index]
                for a in await am.alerts()
            )

        await wait(in_alertmanager, timeout=30)
        (alert,) = [a for a in await am.alerts() if a["labels"]["alertname"] == "UpsOnBattery"]  # type: ignore[index]
        assert alert["labels"]["target"] == "ups1"  # type: ignore[index]
        assert alert["annotations"]["summary"] == "UPS ups1 is on battery (45 s)"  # type: ignore[index]
        assert alert["status"]["state"] == "active"  # type: ignore[index]

        # the UPS is back on mains: one resolution, everywhere
        resolved = engine.evaluate(ups(0), t0 + timedelta(seconds=60))
        assert [t.status for t in resolved] == ["resolved"]
        dispatcher.submit(resolved)

        async def gone_from_alertmanager() -> bool:
            return not any(
                a["labels"]["alertname"] == "UpsOnBattery"  # type: ignore[index]
                for a in await am.alerts()
            )

        await wait(gone_from_alertmanager, timeout=30)

        async def resolved_everywhere() -> bool:
            return len(hooks) >= 2 and len(inbox.messages) >= 2

        await wait(resolved_everywhere)
        assert hooks[-1]["status"] == "resolved"
        assert message_from_bytes(inbox.messages[-1])["Subject"] == "[RESOLVED:1] UpsOnBattery"
        assert len(hooks) == 2 and len(inbox.messages) == 2  # exactly one firing, one resolved
        counts = {(s.name, s.labels["notifier"]): s.value for s in dispatcher.samples()}
        assert counts[("sobriety_notifications_failed_total", "alertmanager")] >= 1
        assert counts[("sobriety_notifications_total", "alertmanager")] == 2
        assert json.dumps(hooks)  # plain JSON all the way
    finally:
        await dispatcher.stop()
        am.stop()
        smtp.stop()

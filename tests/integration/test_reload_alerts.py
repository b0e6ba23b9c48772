"""A reload must not stop the daemon's own jobs: after SIGHUP, site-level rules are still
evaluated (a rule added by the reload fires) and firing alerts are still re-sent to
Alertmanager (the receiver here records what an Alertmanager would be sent)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from tests.integration.test_notifications import free_port

pytestmark = pytest.mark.integration


def site_rule(name: str) -> dict[str, object]:
    """A site-level rule that holds at once (sobriety_site_open is 0 or 1, always < 2)."""
    return {
        "name": name, "metric": "sobriety_site_open", "op": "<", "raise": 2,
        "summary": "{{ $labels.site }} is watched",
    }  # fmt: skip


@contextlib.asynccontextmanager
async def alertmanager_receiver() -> AsyncIterator[tuple[str, list[tuple[float, str]]]]:
    """Records (when, alertname) for every alert POSTed to /api/v2/alerts."""
    received: list[tuple[float, str]] = []

    async def alerts(request: web.Request) -> web.Response:
        for alert in await request.json():
            received.append((time.monotonic(), alert["labels"]["alertname"]))
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/api/v2/alerts", alerts)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sobriety", "run", "--config", str(config)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def until(check: Callable[[], bool], what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not seen in {timeout}s; log: {tail(log)}")


async def test_after_sighup_site_rules_still_fire_and_alerts_are_resent(tmp_path: Path) -> None:
    async with alertmanager_receiver() as (url, received):
        rules = tmp_path / "rules.yaml"
        rules.write_text(yaml.safe_dump({"rules": [site_rule("SiteWatched")]}))
        config = tmp_path / "sobriety.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "settings": {
                        "listen": f"127.0.0.1:{free_port()}",
                        "data_dir": str(tmp_path / "state"),
                        "interval": "2s",
                        "alerting": {
                            "shipped_rules": False,
                            "rule_files": [str(rules)],
                            "alertmanager": url,
                            "log": False,
                            "evaluate_every": "1s",
                            "resend": "5s",
                        },
                    },
                    "sites": {"school": {"timezone": "Europe/Paris"}},
                    "targets": [{"id": "localhost", "kind": "host", "site": "school"}],
                }
            )
        )
        log = tmp_path / "daemon.log"
        proc = start_daemon(config, log)
        try:
            # measured: first notification ~1.5 s after start on an idle 2-core box; x3 + start
            await until(lambda: bool(received), "the first notification", log, 30)
            assert received[0][1] == "SiteWatched"
            rules.write_text(
                yaml.safe_dump({"rules": [site_rule("SiteWatched"), site_rule("AddedByReload")]})
            )
            proc.send_signal(signal.SIGHUP)
            reloaded = time.monotonic()
            await until(
                lambda: any(name == "AddedByReload" for _, name in received),
                "a site rule added by the reload firing",
                log,
                30,
            )
            # the resend period is 5 s: the first alert must be sent again after the reload
            await until(
                lambda: any(at > reloaded + 1 and n == "SiteWatched" for at, n in received),
                "a re-send of the alert that fired before the reload",
                log,
                30,
            )
            assert "reloaded" in tail(log)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        assert proc.returncode == 0, tail(log)

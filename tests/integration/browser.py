"""Headless Chromium driven over the DevTools protocol (a websocket on loopback), so a test
can set the window width, load a page, measure where things are and take a screenshot.

The browser is this test's own process: started on a free port with its own profile, ended
by the PID the test holds."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import in_ci, install_hint

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_LISTENING = re.compile(rb"DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)")
START_TIMEOUT = 45.0  # measured 0.5-1.2 s to "DevTools listening" (3 starts), and some
CALL_TIMEOUT = 60.0  # a page load of the demo takes well under a second here


def chromium_path() -> str:
    """The browser, or a skip (a failure under CI)."""
    import pytest

    if CHROMIUM is None:
        if in_ci():
            pytest.fail("chromium is missing: under CI this is a failure")
        pytest.skip(f"chromium is not installed ({install_hint(['chromium'])})")
    return CHROMIUM


class Page:
    """One tab: DevTools commands over its websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: object) -> dict[str, Any]:
        """Send a command and wait for its answer (events in between are skipped)."""
        ident = next(self._ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        async with asyncio.timeout(CALL_TIMEOUT):
            while True:
                message = await self.ws.receive_json()
                if message.get("id") == ident:
                    if "error" in message:
                        raise RuntimeError(f"{method}: {message['error']}")
                    return dict(message.get("result", {}))

    async def open(self, url: str, width: int, height: int) -> None:
        """Load `url` in a window of that size and wait for its load event."""
        await self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=width < 600)  # fmt: skip
        await self.call("Page.enable")
        await self.call("Page.navigate", url=url)
        async with asyncio.timeout(CALL_TIMEOUT):
            while True:
                message = await self.ws.receive_json()
                if message.get("method") == "Page.loadEventFired":
                    return

    async def evaluate(self, expression: str) -> Any:
        """A JavaScript expression's value (JSON-able)."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def screenshot(self, path: Path, full_page: bool = False) -> None:
        """A PNG of the window, or of the whole page at the window's width."""
        params: dict[str, object] = {"format": "png"}
        if full_page:
            metrics = await self.call("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                                "scale": 1}}  # fmt: skip
        shot = await self.call("Page.captureScreenshot", **params)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def browser(profile: Path) -> AsyncIterator[Page]:
    """A headless Chromium with one blank tab; stopped (by its PID) on the way out."""
    proc = await asyncio.create_subprocess_exec(
        chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        port = await _port(proc)
        async with aiohttp.ClientSession() as session:
            async with session.put(f"http://127.0.0.1:{port}/json/new?about:blank") as resp:
                target = json.loads(await resp.text())
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        await _stop(proc)


async def _port(proc: asyncio.subprocess.Process) -> int:
    assert proc.stderr is not None
    async with asyncio.timeout(START_TIMEOUT):
        while True:
            line = await proc.stderr.readline()
            if not line:
                raise RuntimeError("chromium exited before it listened")
            found = _LISTENING.search(line)
            if found:
                asyncio.get_running_loop().create_task(_drain(proc.stderr))
                return int(found.group(2))


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group this test started, by its id
            await proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # renderers left of the group this test started

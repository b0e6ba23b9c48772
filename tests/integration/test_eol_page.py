"""`/reports/end-of-life` in headless Chromium (Debian's), on the demo fleet, on loopback."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import in_ci, install_hint
from tests.integration.demo import demo_daemon
from tests.integration.test_daemon import ALL_TARGETS, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tests" / "artefacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None and not in_ci():
    pytest.skip(
        f"chromium is not installed ({install_hint(['chromium'])})", allow_module_level=True
    )


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "chromium is missing: under CI this is a failure"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=60, check=True
    )


def body_rows(dom: str) -> list[str]:
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


async def test_the_planner_page_lists_filters_and_downloads(tmp_path: Path) -> None:
    async with demo_daemon(tmp_path) as server:
        await wait_for(
            server.url,
            lambda m: len(m.get("sobriety_device_eol_recommendation", {})) == 4 * len(ALL_TARGETS),
            timeout=60,
        )
        page = f"{server.url}/reports/end-of-life"
        everything = await asyncio.to_thread(chromium, tmp_path / "p1", "--dump-dom", page)
        rows = body_rows(everything.stdout)
        assert len(rows) == len(ALL_TARGETS)
        assert all(t in everything.stdout for t in ALL_TARGETS)
        assert f"{len(ALL_TARGETS)} of {len(ALL_TARGETS)} devices" in everything.stdout
        # the filter form, submitted: only the devices to recycle remain
        narrowed = await asyncio.to_thread(
            chromium,
            tmp_path / "p2",
            "--dump-dom",
            f"{page}?recommendation=recycle&sort=age_years&desc=1",
        )
        recycle = body_rows(narrowed.stdout)
        assert 0 < len(recycle) < len(rows)
        assert all('class="recycle"' in r for r in recycle)
        assert "winxp-full-walk" in recycle[0]  # the oldest first
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTEFACTS / "end-of-life-page.png"
        await asyncio.to_thread(
            chromium, tmp_path / "p3", f"--screenshot={shot}", "--window-size=1600,900", page
        )
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{page}.csv?recommendation=recycle") as resp:
                assert resp.status == 200
                csv_text = await resp.text()
            async with session.get(f"{page}.ods") as resp:
                ods = await resp.read()
        assert len(csv_text.strip().splitlines()) == 1 + len(recycle)
        assert ods[:2] == b"PK"  # an OpenDocument zip

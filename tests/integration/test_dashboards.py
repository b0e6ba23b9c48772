"""Every panel of every dashboard returns data from a real Prometheus scraping the demo."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.resources import data_dir
from tests.conftest import require_tool
from tests.integration.demo import demo_daemon
from tests.integration.test_daemon import ALL_TARGETS, free_tcp_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BOARDS = sorted((ROOT / "dashboards").glob("*.json"))
VARIABLES = {"$organisation": ".*", "$site": ".*", "$class": ".*", "$target": ".*",
             "$__range": "10m", "$__rate_interval": "20s", "${datasource}": ""}  # fmt: skip


def panel_queries(board: dict[str, object]) -> list[tuple[str, str]]:
    return [
        (str(panel["title"]), str(target["expr"]))
        for panel in board["panels"]  # type: ignore[attr-defined]
        for target in panel.get("targets", [])
    ]


def concrete(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def start_prometheus(config: Path, tsdb: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            require_tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def instant(url: str, expr: str) -> list[object]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/api/v1/query", params={"query": expr}) as resp:
            body = await resp.json()
    assert body["status"] == "success", (expr, body)
    result: list[object] = body["data"]["result"]
    return result


# Panels about something failing: they have data only while it fails (checked with targets
# really down, below).
WHEN_DOWN = {"Targets down", "Targets down, with reason"}


def strip_fallbacks(expr: str) -> str:
    """The query without `or vector(0)` / `or on() vector(0)`: a fallback that always returns
    a series would make any panel look fine, whatever the daemon exposes."""
    return re.sub(r"\s*or\s+(on\s*\(\s*\)\s*)?vector\(\s*0\s*\)", "", expr)


async def empty_panels(url: str, boards: dict[str, dict[str, object]], skip: set[str]) -> list[str]:
    """Every panel query (fallbacks stripped) that returns no series from Prometheus."""
    empty = []
    for name, board in boards.items():
        for title, expr in panel_queries(board):
            if title not in skip and not await instant(url, concrete(strip_fallbacks(expr))):
                empty.append(f"{name}: {title}: {expr}")
    return empty


async def value_of(url: str, expr: str) -> list[tuple[dict[str, str], float]]:
    return [
        (r["metric"], float(r["value"][1]))  # type: ignore[index]
        for r in await instant(url, concrete(strip_fallbacks(expr)))
    ]


def panel(boards: dict[str, dict[str, object]], title: str) -> str:
    (expr,) = [e for b in boards.values() for t, e in panel_queries(b) if t == title]
    return expr


async def test_every_panel_query_returns_series(tmp_path: Path) -> None:
    assert len(BOARDS) == 4
    boards = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in BOARDS}
    assert not [
        f"{name}: {title}"
        for name, b in boards.items()
        for title, expr in panel_queries(b)
        if strip_fallbacks(expr) != expr
    ], "panels with `or vector(0)`: give the stat a no-value instead"
    prom: subprocess.Popen[bytes] | None = None
    agent = SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path / "snmpsim")
    async with demo_daemon(tmp_path, agent=agent) as server:
        try:
            prom_port = free_tcp_port()
            prom_config = tmp_path / "prometheus.yml"
            prom_config.write_text(
                yaml.safe_dump(
                    {
                        "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
                        "rule_files": [str(ROOT / "rules" / "sobriety-alerts.yml")],
                        "scrape_configs": [
                            {
                                "job_name": "sobriety",
                                "static_configs": [{"targets": [server.url.split("//")[1]]}],
                            }
                        ],
                    }
                )
            )
            prom = start_prometheus(prom_config, tmp_path / "tsdb", prom_port)
            url = f"http://127.0.0.1:{prom_port}"
            deadline = time.monotonic() + 60
            while True:  # several samples of everything, and rates over them
                try:
                    got = await instant(url, "count_over_time(sobriety_target_up[1m])")
                    if got and min(float(r["value"][1]) for r in got) >= 6:  # type: ignore[index]
                        break
                except (aiohttp.ClientError, AssertionError):
                    pass
                assert time.monotonic() < deadline, "prometheus did not collect samples"
                await asyncio.sleep(1)
            empty = await empty_panels(url, boards, skip=WHEN_DOWN)
            assert not empty, "panels with no data:\n" + "\n".join(empty)
            # the check bites: a panel whose metric was renamed shows up empty
            renamed = json.loads(json.dumps(boards["fleet-energy.json"]).replace(
                "sobriety_site_power_watts", "sobriety_site_powr_watts"))  # fmt: skip
            assert await empty_panels(url, {"copy": renamed}, skip=WHEN_DOWN) == [
                f"copy: Site power by source: {panel({'c': renamed}, 'Site power by source')}"
            ]
            # the recording rules the dashboards can use are computed too
            assert await instant(url, "sobriety:site_device_power_watts:sum")
            assert await value_of(url, panel(boards, "Targets down")) == []  # all up
            await down_devices_stay_visible(url, boards, agent)
        finally:
            if prom is not None:
                prom.terminate()
                prom.wait(10)


async def down_devices_stay_visible(
    url: str, boards: dict[str, dict[str, object]], agent: SnmpsimAgent
) -> None:
    """Every SNMP agent killed: the down panels count them, and each down device still has
    its identity (device_info), so the panels that join on it still see it."""
    snmp_targets = ALL_TARGETS - {"localhost"}
    agent.stop()
    deadline = time.monotonic() + 90  # measured: ~15 s (2 s timeout, 1 retry, backoff)
    while True:
        down = await value_of(url, panel(boards, "Targets down"))
        if down and down[0][1] == len(snmp_targets):
            break
        assert time.monotonic() < deadline, f"targets down panel: {down}"
        await asyncio.sleep(1)
    rows = await value_of(url, panel(boards, "Targets down, with reason"))
    assert {labels["target"] for labels, _ in rows} == snmp_targets
    assert {labels["reason"] for labels, _ in rows} == {"timeout"}
    up = await value_of(url, panel(boards, "Targets up"))
    assert up[0][1] == 1  # the host
    infos = await instant(url, 'sobriety_device_info{target="eaton-93e-80"}')
    assert infos and infos[0]["metric"]["model"], infos  # type: ignore[index]

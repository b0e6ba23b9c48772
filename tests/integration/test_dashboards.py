"""Every panel of every dashboard returns data from a real Prometheus scraping the demo."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
import yaml

from sobriety.app import Daemon
from sobriety.demo import write_demo_config
from sobriety.resources import data_dir
from sobriety.snmpsim_agent import SnmpsimAgent
from sobriety.web import WebServer
from tests.conftest import require_tool
from tests.integration.test_daemon import ALL_TARGETS, free_tcp_port, up_by_target, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BOARDS = sorted((ROOT / "dashboards").glob("*.json"))
VARIABLES = {"$site": ".*", "$class": ".*", "$target": ".*", "$__range": "10m",
             "$__rate_interval": "20s", "${datasource}": ""}  # fmt: skip


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


async def test_every_panel_query_returns_series(tmp_path: Path) -> None:
    assert len(BOARDS) == 3
    agent = SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path / "snmpsim")
    agent.start()
    prom: subprocess.Popen[bytes] | None = None
    try:
        config = write_demo_config(
            tmp_path / "demo", agent.port, f"127.0.0.1:{free_tcp_port()}", "2s",
            agent.communities(),
        )  # fmt: skip
        daemon = Daemon(config)
        await daemon.start()
        assert daemon.runtime is not None
        settings = daemon.runtime.config.settings
        web = WebServer(daemon, settings.listen_host, settings.listen_port)
        await web.start()
        try:
            await wait_for(
                web.url,
                lambda m: (
                    set(up_by_target(m)) == ALL_TARGETS
                    and all(v == 1 for v in up_by_target(m).values())
                ),
                timeout=60,
            )
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
                                "static_configs": [
                                    {"targets": [f"{settings.listen_host}:{settings.listen_port}"]}
                                ],
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
            empty = []
            for path in BOARDS:
                board = json.loads(path.read_text(encoding="utf-8"))
                for title, expr in panel_queries(board):
                    if not await instant(url, concrete(expr)):
                        empty.append(f"{path.name}: {title}: {expr}")
            assert not empty, "panels with no data:\n" + "\n".join(empty)
            # the recording rules the dashboards can use are computed too
            assert await instant(url, "sobriety:site_power_watts:sum")
        finally:
            await web.stop()
            await daemon.stop()
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(10)
        agent.stop()

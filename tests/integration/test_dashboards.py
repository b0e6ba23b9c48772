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

from tests.conftest import require_tool
from tests.integration.demo import demo_daemon
from tests.integration.test_daemon import free_tcp_port

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
    prom: subprocess.Popen[bytes] | None = None
    async with demo_daemon(tmp_path) as server:
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
            if prom is not None:
                prom.terminate()
                prom.wait(10)

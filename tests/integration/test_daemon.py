"""The daemon against real snmpsim agents: all targets up, device trouble is data, recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import psutil
import pytest

from sobriety.daemon.app import Daemon
from sobriety.daemon.lifecycle import Lifecycle
from sobriety.daemon.web import WebServer
from sobriety.demo.fleet import DEMO_FLEET, write_demo_config
from sobriety.demo.snmpsim_agent import SnmpsimAgent
from sobriety.resources import data_dir
from tests.integration.test_promtool import promtool_check

pytestmark = pytest.mark.integration
ALL_TARGETS = {*DEMO_FLEET, "localhost"}


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse(text: str) -> dict[str, dict[str, float]]:
    """metric name -> {label string: value} from the text exposition."""
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        out.setdefault(name, {})["{" + labels if labels else ""] = float(value)
    return out


def up_by_target(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    return {
        labels.split('target="')[1].split('"')[0]: v
        for labels, v in metrics.get("sobriety_target_up", {}).items()
    }


async def scrape(url: str) -> dict[str, dict[str, float]]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as resp:
        assert resp.status == 200
        return parse(await resp.text())


async def wait_for(
    url: str, check: Callable[[dict[str, dict[str, float]]], bool], timeout: float
) -> dict[str, dict[str, float]]:
    deadline = time.monotonic() + timeout
    metrics: dict[str, dict[str, float]] = {}
    while time.monotonic() < deadline:
        metrics = await scrape(url)
        if check(metrics):
            return metrics
        await asyncio.sleep(0.5)
    raise AssertionError(f"condition not met in {timeout}s; up: {up_by_target(metrics)}")


async def test_daemon_polls_everything_and_survives_the_agent_dying(tmp_path: Path) -> None:
    agent = SnmpsimAgent(data_dir("recordings"), work_dir=tmp_path / "snmpsim")
    agent.start()
    try:
        config = write_demo_config(
            tmp_path / "demo",
            agent.port,
            f"127.0.0.1:{free_tcp_port()}",
            "2s",
            agent.communities(),
        )
        daemon = Daemon(config)
        lifecycle = Lifecycle(daemon)
        await lifecycle.start()
        settings = daemon.runtime.config.settings
        web = WebServer(daemon, lifecycle.reload, settings.listen_host, settings.listen_port)
        await web.start()
        try:
            metrics = await wait_for(
                web.url,
                lambda m: (
                    set(up_by_target(m)) == ALL_TARGETS
                    and all(v == 1 for v in up_by_target(m).values())
                    # the AP's feed is read once the switch has been polled after it
                    and any(
                        'target="unifi_nanohd"' in k and "poe-allocation" in k
                        for k in m.get("sobriety_device_power_watts", {})
                    )
                    # the stack's own sensors, once an identity read was not cut by the
                    # 1.6 s deadline of this 2 s interval (one snmpsim serves 15 agents)
                    and any(
                        'target="arubaos-cx_6300_vsf_stack"' in k and "entity-sensor" in k
                        for k in m.get("sobriety_device_power_watts", {})
                    )
                    # the server room's feeders, once their loads have been polled
                    and all(
                        f'target="{feeder}"'
                        in str(m.get("sobriety_feeder_unattributed_power_watts", {}))
                        for feeder in ("eaton-93e-80", "raritan-pdu_px3", "apc_ap8959eu3")
                    )
                ),
                timeout=60,
            )
            ups = metrics["sobriety_ups_output_power_watts"]
            assert ups['{line="1",target="eaton-93e-80"}'] == 5100
            poe = metrics["sobriety_poe_consumption_watts"]
            assert poe['{group="1",target="junos_ex"}'] == 248
            assert poe['{group="2",target="junos_ex"}'] == 137
            infos = metrics["sobriety_device_info"]
            assert any('target="arista_eos"' in k and 'serial=""' not in k for k in infos)
            assert metrics["sobriety_process_cpu_seconds_total"][""] > 0
            # every target has a power reading, and says where it comes from
            power = metrics["sobriety_device_power_watts"]
            powered = {k.split('target="')[1].split('"')[0]: k for k in power}
            assert set(powered) == ALL_TARGETS
            assert all('source="measured"' in k or 'source="estimated"' in k for k in power)
            # the demo's PoE pairing: the Catalyst reports the port's 802.3af allocation
            # (consumption = allocated = 15.4 W, max drawn 0): an estimate within the AP's class
            ap = powered["unifi_nanohd"]
            assert 'source="estimated"' in ap and "poe-allocation" in ap
            assert power[ap] <= 14.4
            assert not any('source="measured"' in k and "poe" in k for k in power)
            assert 'origin="entity-sensor"' in powered["arubaos-cx_6300_vsf_stack"]
            # what a domain expert would sign (issue 14's acceptance, on the demo)
            site = metrics["sobriety_site_power_watts"]
            assert sum(w for k, w in site.items() if 'site="datacentre"' in k) >= 11_400
            bands = metrics["sobriety_device_power_band_watts"]
            eaton = power[powered["eaton-93e-80"]]
            assert "ups-curve" in powered["eaton-93e-80"] and 300 <= eaton <= 2500
            low = bands['{bound="low",target="eaton-93e-80"}']
            high = bands['{bound="high",target="eaton-93e-80"}']
            assert low < eaton < high
            assert 5 <= power[powered["apc_smx750i"]] <= 25
            assert power[powered["localhost"]] < 60  # a container in a VM: a share of a host
            assert 'source="measured"' in powered["linux_powermon"]
            assert power[powered["linux_powermon"]] == 340
            assert bands['{bound="low",target="epson-projector_eb-4770w"}'] == 0.5  # standby
            waste = metrics.get("sobriety_site_waste_energy_joules_total", {})
            assert all("source=" in k for k in waste)
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{web.url}/metrics") as resp:
                    live_text = await resp.text()
            lint = promtool_check(live_text)
            assert lint.returncode == 0, lint.stdout + lint.stderr
            assert lint.stdout.strip() == ""

            agent.stop()
            down = await wait_for(
                web.url,
                lambda m: all(v == 0 for t, v in up_by_target(m).items() if t != "localhost"),
                timeout=60,
            )
            reasons = down["sobriety_target_down_info"]
            assert any('reason="timeout"' in k and 'target="junos_ex"' in k for k in reasons)
            assert up_by_target(down)["localhost"] == 1

            agent.restart()
            await wait_for(  # back, and identified in full (15 agents re-identify at once
                web.url,  # on one snmpsim: a first identity read may be cut by the deadline)
                lambda m: (
                    all(v == 1 for v in up_by_target(m).values())
                    and any(
                        'target="ricoh_mpc3002"' in k
                        for k in m.get("sobriety_printer_marker_lifetime_count_total", {})
                    )
                ),
                timeout=90,
            )
        finally:
            await web.stop()
            await lifecycle.stop()
    finally:
        agent.stop()
    first_seen = daemon.poller.first_seen if daemon.poller else {}
    assert set(first_seen) == ALL_TARGETS
    check_exports(config, tmp_path)


def check_exports(config: Path, tmp_path: Path) -> None:
    """What the demo fleet's state exports: the end-of-life list (French by default, the DEEE
    columns, the batch handed over) and the open-data package."""
    import csv
    import json

    from frictionless import validate

    from sobriety.cli import main
    from sobriety.demo.fleet import DEMO_DISPOSED
    from sobriety.reports.eol import EOL_COLUMNS
    from sobriety.reports.i18n import Lang
    from tests.tables import ods_cells, read_csv

    fr = Lang("fr")
    inventory = ALL_TARGETS | {tid for tid, *_ in DEMO_DISPOSED}
    out = {fmt: tmp_path / f"eol.{fmt}" for fmt in ("csv", "json", "ods")}
    for fmt, path in out.items():
        args = ["export", "eol", "--config", str(config), "--format", fmt, "--out", str(path)]
        assert main(args) == 0
    rows = read_csv(out["csv"], EOL_COLUMNS, fr)
    assert {r["target"] for r in rows} == inventory
    words = {fr(w) for w in ("keep", "reuse", "service", "repair", "recycle", "handed over")}
    for row in rows:  # every device has a recommendation and its reasons
        assert row["recommendation"] in words, row
        assert row["reasons"], row
    by = {r["target"]: r for r in rows}
    xp = by["winxp-full-walk"]
    assert xp["recommendation"] == fr("reuse")  # 19 years old: reuse, not recycling
    assert xp["reasons"].startswith("Windows XP ne reçoit plus de mise à jour de sécurité")
    assert xp["age_source"] == fr("inventory")
    assert by["ricoh_mpc3002"]["wear"].startswith("271\u202f871 pages")
    assert "la garantie prend fin dans" in by["arubaos-cx_6300_vsf_stack"]["reasons"]
    assert by["cdi-pc-03"]["batch"] == "LOT-DEMO-01" and by["cdi-pc-03"]["route"] == "réemploi"
    assert json.loads(out["json"].read_text())["rows"][0]["target"] == rows[0]["target"]
    sheet = ods_cells(out["ods"])
    assert [text for _, _, text in sheet[0][:3]] == ["Organisation", "Site", "Nom du site"]
    index = [c.id for c in EOL_COLUMNS].index("target")
    assert [r[index][2] for r in sheet[1:]] == [r["target"] for r in rows]

    folder = tmp_path / "opendata"
    assert main(["export", "opendata", "--config", str(config), "--out", str(folder)]) == 0
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "etalab-2.0"
    text = (folder / "fleet-by-site.csv").read_text(encoding="utf-8")
    private = {r["serial"] for r in rows if r["serial"]} | {"127.0.0.1", "<private>"}
    private |= inventory  # device names never leave the daemon
    assert not [p for p in private if p in text]
    with (folder / "fleet-by-site.csv").open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert sum(int(r["devices"]) for r in table) == len(ALL_TARGETS)
    assert sum(int(r["disposed"]) for r in table) == len(DEMO_DISPOSED)


def test_demo_command_end_to_end(tmp_path: Path) -> None:
    """`sobriety demo` as a new user runs it: up within 60 s, clean stop on SIGTERM."""
    port = free_tcp_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sobriety",
            "demo",
            "--listen",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(tmp_path / "demo"),
            "--interval",
            "5s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        async def all_up() -> dict[str, dict[str, float]]:
            deadline = time.monotonic() + 60
            while True:
                try:
                    return await wait_for(
                        url,
                        lambda m: (
                            set(up_by_target(m)) == ALL_TARGETS
                            and all(v == 1 for v in up_by_target(m).values())
                        ),
                        timeout=5,
                    )
                except (aiohttp.ClientError, AssertionError):
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    await asyncio.sleep(1)

        asyncio.run(all_up())
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "snmpsim should run as a child of the demo"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        print(out)  # shown by pytest when the wait above failed
    assert proc.returncode == 0, out
    assert "/metrics" in out and "demo stopped." in out
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert (tmp_path / "demo" / "state.sqlite3").exists()
    assert os.path.exists(tmp_path / "demo" / "demo.yaml")

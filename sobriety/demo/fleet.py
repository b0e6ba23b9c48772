"""`sobriety demo`: the embedded default fleet, on loopback only.

Serves the bundled device recordings with snmpsim on 127.0.0.1, writes a config that polls
each of them plus the local host, and runs the daemon on it with its state under a data dir.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from sobriety.resources import data_dir

log = logging.getLogger(__name__)

# What each bundled recording is, for the demo inventory: (device class, site).
DEMO_FLEET: dict[str, tuple[str, str]] = {
    "apc_ap8959eu3": ("pdu", "datacentre"),
    "apc_smx750i": ("ups", "college"),
    "arista_eos": ("switch_core", "datacentre"),
    "aruba-instant": ("wifi_ap_enterprise", "college"),
    "arubaos-cx_6300_vsf_stack": ("switch_access_48p", "college"),
    "cisco_16_switch": ("switch_access_48p", "college"),
    "eaton-93e-80": ("ups", "datacentre"),
    "epson-projector_eb-4770w": ("projector_classroom", "college"),
    "junos_ex": ("switch_access_48p", "college"),
    "linux_powermon": ("server_rack_2s", "datacentre"),
    "raritan-pdu_px3": ("pdu", "datacentre"),
    "ricoh_mpc3002": ("mfp_a3_office", "college"),
    "ubiquiti-m5": ("radio_link", "college"),
    "unifi_nanohd": ("wifi_ap_enterprise", "college"),
    "winxp-full-walk": ("desktop_pc", "college"),
}

COLLEGE_HOURS = ["07:45-12:15", "13:15-17:45"]

# An illustrative inventory, so the end-of-life list has something to say: how many years
# ago each device was bought (or commissioned) and its warranty, as a college's asset
# register would hold them (made up for the demo; the recordings carry no such dates).
# Relative to the day the demo starts, so the demo tells the same story on any day.
DEMO_INVENTORY: dict[str, dict[str, float]] = {
    "winxp-full-walk": {"years": 19.25, "warranty_months": 36},
    "linux_powermon": {"years": 14.9, "warranty_months": 60},
    "cisco_16_switch": {"years": 15.75, "warranty_months": 60},
    "ricoh_mpc3002": {"years": 13.6, "warranty_months": 60},
    "epson-projector_eb-4770w": {"years": 11.25, "warranty_months": 36},
    "arista_eos": {"years": 11.6, "warranty_months": 60},
    "eaton-93e-80": {"years": 10.2, "warranty_months": 24, "commissioned": 1},
    "aruba-instant": {"years": 9.8, "warranty_months": 60},
    "junos_ex": {"years": 8.5, "warranty_months": 60},
    "apc_smx750i": {"years": 7.9, "warranty_months": 36},
    "unifi_nanohd": {"years": 7.7, "warranty_months": 24},
    "arubaos-cx_6300_vsf_stack": {"years": 5.25, "warranty_days_left": 45},
}


def inventory_fields(name: str, today: date) -> dict[str, str | int]:
    """The demo inventory entry of one recording, as dates counted back from `today`."""
    entry = DEMO_INVENTORY.get(name)
    if entry is None:
        return {}
    bought = today - timedelta(days=round(entry["years"] * 365.25))
    key = "commissioned" if entry.get("commissioned") else "purchased"
    out: dict[str, str | int] = {key: bought.isoformat()}
    if "warranty_months" in entry:
        out["warranty_months"] = int(entry["warranty_months"])
    if "warranty_days_left" in entry:
        out["warranty_end"] = (today + timedelta(days=entry["warranty_days_left"])).isoformat()
    return out


# An illustrative pairing, so the demo shows PoE attribution: the UniFi AP is said to hang
# from port 3/5 of the Catalyst stack, which delivers 15.4 W there (the two recordings come
# from different places; in a real inventory this is the AP's switch port).
DEMO_POE: dict[str, dict[str, str]] = {
    "unifi_nanohd": {"switch": "cisco_16_switch", "group": "3", "port": "5"},
}


def demo_config(
    port: int, listen: str, interval: str, communities: list[str], timeout: str = "2s"
) -> dict[str, object]:
    """The demo configuration as data: every recording on 127.0.0.1:port, and the host."""
    auths = {name: {"version": "2c", "community": name} for name in sorted(communities)}
    today = datetime.now(UTC).date()
    targets: list[dict[str, object]] = []
    for name in sorted(communities):
        device_class, site = DEMO_FLEET.get(name, ("", "college"))
        target: dict[str, object] = {
            "id": name,
            "kind": "snmp",
            "address": "127.0.0.1",
            "port": port,
            "auth": name,
            "site": site,
        }
        if device_class:
            target["class"] = device_class
        if name in DEMO_POE:
            target["poe"] = DEMO_POE[name]
        target.update(inventory_fields(name, today))
        targets.append(target)
    targets.append(
        {"id": "localhost", "kind": "host", "site": "college", "class": "server_rack_2s"}
    )
    return {
        "settings": {
            "listen": listen,
            "data_dir": ".",
            "interval": interval,
            "timeout": timeout,
            "retries": 1,
        },
        "sites": {
            "college": {
                "name": "Collège de démonstration",
                "timezone": "Europe/Paris",
                "country": "FR",
                "opening_hours": dict.fromkeys(("mon", "tue", "thu", "fri"), COLLEGE_HOURS)
                | {"wed": ["07:45-12:15"]},
            },
            "datacentre": {
                "name": "Salle serveurs intercommunale",
                "timezone": "Europe/Paris",
                "country": "FR",
            },
        },
        "auths": auths,
        "targets": targets,
    }


def write_demo_config(
    folder: Path, port: int, listen: str, interval: str, communities: list[str],
    timeout: str = "2s",
) -> Path:  # fmt: skip
    """Write `demo.yaml` into `folder` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.yaml"
    config = demo_config(port, listen, interval, communities, timeout)
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    path.write_text(
        "# Written by `sobriety demo`: the bundled recordings served by snmpsim on loopback.\n"
        + text,
        encoding="utf-8",
    )
    return path


def run_demo(folder: Path, listen: str, interval: str, timeout: str = "2s") -> int:
    """Start snmpsim, the daemon on the demo config; stop both on Ctrl-C or SIGTERM.

    ListenError if the HTTP address cannot be bound (snmpsim is stopped again)."""
    from sobriety.daemon.app import Daemon
    from sobriety.daemon.lifecycle import run_daemon
    from sobriety.demo.snmpsim_agent import SnmpsimAgent

    folder = folder.resolve()
    agent = SnmpsimAgent(
        data_dir("recordings"), host="127.0.0.1", port=0, work_dir=folder / "snmpsim"
    )
    print(
        f"starting snmpsim on 127.0.0.1 with {len(agent.communities())} recordings ...", flush=True
    )
    agent.start()
    try:
        config = write_demo_config(
            folder, agent.port, listen, interval, agent.communities(), timeout
        )

        def ready(url: str) -> None:
            print(
                f"\nsobriety demo is running.\n"
                f"  metrics:  {url}/metrics\n"
                f"  config:   {config}\n"
                f"  state:    {folder / 'state.sqlite3'}\n"
                f"  agents:   snmpsim on udp 127.0.0.1:{agent.port} "
                f"(community = recording name)\n"
                f"First polls land within a few seconds; Ctrl-C stops everything.\n",
                flush=True,
            )

        asyncio.run(run_daemon(Daemon(config), on_ready=ready))
    finally:
        agent.stop()
        print("demo stopped.", flush=True)
    return 0

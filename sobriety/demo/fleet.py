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


# What the college's and the syndicate's asset register says of each device, as GLPI would
# hold it (made up for the demo, except what is said to come from a recording): asset tags,
# the identity a device does not report itself, recorded faults and software.
DEMO_ASSETS: dict[str, dict[str, object]] = {
    "apc_ap8959eu3": {"number": "SIV-PDU-0003"},
    "apc_smx750i": {"number": "COL-OND-0001"},
    "arista_eos": {"number": "SIV-RES-0001"},
    "aruba-instant": {"number": "COL-WIFI-0004"},
    "arubaos-cx_6300_vsf_stack": {"number": "COL-RES-0007"},
    "cisco_16_switch": {"number": "COL-RES-0002"},
    "eaton-93e-80": {
        "number": "SIV-OND-0001",
        "weee_category": 4,  # a floor-standing three-phase cabinet: over 50 cm
    },
    "epson-projector_eb-4770w": {
        "number": "COL-VP-0012",
        "vendor": "Epson",
        "model": "EB-4770W",  # the recording's file name; the projector does not say it
    },
    "junos_ex": {"number": "COL-RES-0005"},
    "linux_powermon": {
        "number": "SIV-SRV-0010",
        # the recording's own power meter script (nsExtend "powermon") reports power supply 2
        # as `"condition": "FAILED"`; no shipped profile reads that JSON string yet, so the
        # register records it, as the technician who saw it would
        "faults": [{"part": "power supply 2", "note": "condition FAILED (powermon script)"}],
    },
    "raritan-pdu_px3": {"number": "SIV-PDU-0001"},
    "ricoh_mpc3002": {"number": "COL-IMP-0003", "vendor": "Ricoh", "model": "Aficio MP C3002"},
    "ubiquiti-m5": {"number": "COL-RAD-0001"},
    "unifi_nanohd": {"number": "COL-WIFI-0009"},
    "winxp-full-walk": {
        "number": "COL-PC-0031",
        "software": "Windows XP",  # sysDescr: "Windows 2000 Version 5.1" is XP
    },
}

# A batch already handed over, so the end-of-life list and `sobriety disposal` show one:
# devices that left the college last month, no longer on the network (made up).
DEMO_BATCH_ID = "LOT-DEMO-01"
# (id, class, years since purchase, asset record, disposal record)
DEMO_DISPOSED: list[tuple[str, str, float, dict[str, object], dict[str, object]]] = [
    ("cdi-pc-03", "desktop_pc", 11.0,
     {"number": "COL-PC-0003", "vendor": "Dell", "model": "OptiPlex 790"},
     {"route": "reuse", "erasure_certificate": "EFF-DEMO-0003"}),
    ("cdi-ecran-03", "monitor_24in", 11.0, {"number": "COL-ECR-0003"}, {"route": "reuse"}),
    ("labo-imprimante-02", "printer_laser_a4", 12.5, {"number": "COL-IMP-0002"},
     {"route": "recycle", "mass_kg": 14.2}),
]  # fmt: skip


def demo_batch(today: date) -> dict[str, object]:
    """The demo's disposal batch, a month ago."""
    return {
        "date": (today - timedelta(days=30)).isoformat(),
        "operator": "Recyclerie DEEE (exemple)",
        "recipient": "Association de réemploi (exemple)",
        "tracking": "BSD-DEMO-0001",
        "note": "enlèvement au CDI du collège",
    }


def disposed_targets(today: date) -> list[dict[str, object]]:
    """The inventory entries of the demo batch's devices (gone: no address, not polled)."""
    out: list[dict[str, object]] = []
    for tid, cls, years, asset, disposed in DEMO_DISPOSED:
        bought = today - timedelta(days=round(years * 365.25))
        out.append(
            {
                "id": tid,
                "kind": "snmp",
                "site": "college",
                "class": cls,
                "purchased": bought.isoformat(),
                "asset": asset,
                "disposed": {"batch": DEMO_BATCH_ID, **disposed},
            }
        )
    return out


# An illustrative pairing, so the demo shows PoE attribution: the UniFi AP is said to hang
# from port 3/5 of the Catalyst stack, which delivers 15.4 W there (the two recordings come
# from different places; in a real inventory this is the AP's switch port).
DEMO_POE: dict[str, dict[str, str]] = {
    "unifi_nanohd": {"switch": "cisco_16_switch", "group": "3", "port": "5"},
}

# An illustrative power chain for the server room, so the demo shows feeder accounting: the
# two PDUs hang from the Eaton UPS, the Linux server and the Arista switch from the PDUs (A
# and B feeds; no per-outlet metering declared, so their shares come from their own
# readings). What the UPS and the PDUs measure beyond these is their unattributed load.
DEMO_FED_BY: dict[str, list[str]] = {
    "raritan-pdu_px3": ["eaton-93e-80"],
    "apc_ap8959eu3": ["eaton-93e-80"],
    "linux_powermon": ["raritan-pdu_px3"],
    "arista_eos": ["raritan-pdu_px3", "apc_ap8959eu3"],
}


# An illustrative syndicate, so the demo shows organisations and a shared room: the
# syndicate runs the server room for its members, who pay for it by the keys below; the
# collège belongs to the département. Names, SIRENs (made-up numbers of the form 000 000 0xx
# that pass the Luhn check) and the negotiated price are examples, not real bodies.
DEMO_ORGANISATIONS: dict[str, dict[str, object]] = {
    "syndicat": {
        "name": "Syndicat intercommunal du numérique (exemple)",
        "siren": "000000018",
        "publisher": "SIN de démonstration",
        "electricity": {"price_per_kwh": 0.17},  # a group purchase's price (made up)
    },
    "commune-nord": {"name": "Commune de Nord (exemple)", "siren": "000000026"},
    "commune-sud": {"name": "Commune de Sud (exemple)", "siren": "000000034"},
    "departement": {"name": "Département (exemple)", "siren": "000000042"},
}
DEMO_SHARES = {"commune-nord": 0.5, "commune-sud": 0.3, "departement": 0.2}
# Where some devices stand (building, room), as the asset register says.
DEMO_PLACES: dict[str, dict[str, str]] = {
    name: {"building": "hôtel de ville", "room": "salle serveurs"}
    for name, (_, site) in DEMO_FLEET.items() if site == "datacentre"
} | {
    "epson-projector_eb-4770w": {"building": "bâtiment B", "room": "salle 12"},
    "ricoh_mpc3002": {"building": "bâtiment A", "room": "secrétariat"},
    "winxp-full-walk": {"building": "bâtiment B", "room": "CDI"},
    "cisco_16_switch": {"building": "bâtiment A", "room": "local technique"},
    # the college's radios: /reports/radio groups them by room
    "aruba-instant": {"building": "bâtiment B", "room": "CDI"},
    "unifi_nanohd": {"building": "bâtiment B", "room": "salle 12"},
    "ubiquiti-m5": {"building": "bâtiment A", "room": "toiture (liaison vers le gymnase)"},
}  # fmt: skip


def site_profiles() -> Path:
    """The example site profiles (the linux_powermon recording's NET-SNMP-EXTEND meter)."""
    return data_dir("config") / "example" / "profiles"


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
        if name in DEMO_FED_BY:
            target["fed_by"] = DEMO_FED_BY[name]
        target.update(DEMO_PLACES.get(name, {}))
        target.update(inventory_fields(name, today))
        if name in DEMO_ASSETS:
            target["asset"] = DEMO_ASSETS[name]
        targets.append(target)
    targets += disposed_targets(today)
    # the machine the demo runs on: a desktop unless it finds itself virtual (then a share
    # of a host, whatever this class says)
    targets.append({"id": "localhost", "kind": "host", "site": "college", "class": "desktop_pc"})
    return {
        "settings": {
            "listen": listen,
            "data_dir": ".",
            "interval": interval,
            "timeout": timeout,
            "retries": 1,
            "profile_dirs": [str(site_profiles())],
        },
        "organisations": DEMO_ORGANISATIONS,
        "sites": {
            "college": {
                "name": "Collège de démonstration",
                "type": "college",
                "organisation": "departement",
                "timezone": "Europe/Paris",
                "country": "FR",
                "school_zone": "C",
                "opening_hours": dict.fromkeys(("mon", "tue", "thu", "fri"), COLLEGE_HOURS)
                | {"wed": ["07:45-12:15"]},
                # where people are from a transmitter, for the field bound (radio report)
                "radio": {"distances_m": {"référence": 1.0, "AP au plafond, élève assis": 2.2}},
            },
            "datacentre": {
                "name": "Salle serveurs intercommunale",
                "type": "datacentre",
                "organisation": "syndicat",
                "shares": DEMO_SHARES,
                "timezone": "Europe/Paris",
                "country": "FR",
                "opening_hours": "24/7",
            },
        },
        "auths": auths,
        "targets": targets,
        "disposals": {DEMO_BATCH_ID: demo_batch(today)},
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

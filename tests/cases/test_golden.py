"""Every bundled recording, replayed through the recorded transport, gives the golden output.

The expected files hold the samples, the issues and the request budget of each recording; a
change in any of them is a change in behaviour and must be reviewed (`make golden`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sobriety.cli import main
from sobriety.exposition import render_text
from sobriety.metrics import BY_NAME
from sobriety.pollonce import recording_target
from tests.cases.regenerate import CASES, fixtures, real_recordings, recordings, render_json, replay

RECORDINGS = recordings()
SITE_PROFILES = Path(__file__).resolve().parents[2] / "config" / "example" / "profiles"


def test_all_fifteen_recordings_are_bundled() -> None:
    assert len(real_recordings()) == 15
    assert len(fixtures()) == 9  # the families issue 16 added (recordings/fixtures/README.md)


@pytest.mark.parametrize("path", RECORDINGS, ids=recording_target)
def test_replay_matches_golden(path: Path) -> None:
    result = replay(path)
    folder = CASES / recording_target(path)
    assert render_json(result) == (folder / "expected.json").read_text(encoding="utf-8")
    assert render_text(result.samples) == (folder / "expected.prom").read_text(encoding="utf-8")
    assert result.up


@pytest.mark.parametrize("path", RECORDINGS, ids=recording_target)
def test_samples_conform_to_the_catalogue(path: Path) -> None:
    for sample in replay(path).samples:
        spec = BY_NAME[sample.name]
        if sample.name == "sobriety_device_info":  # inventory fields may add labels
            assert set(spec.labels) - set(spec.optional_labels) <= set(sample.labels), sample
        else:
            assert set(sample.labels) == set(spec.labels), sample


def golden(name: str) -> dict[str, object]:
    data = json.loads((CASES / name / "expected.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def value(name: str, metric: str, **labels: str) -> float:
    samples = golden(name)["samples"]
    assert isinstance(samples, list)
    found = [
        s["value"]
        for s in samples
        if s["name"] == metric and all(s["labels"].get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (metric, labels, found)
    return float(found[0])


def test_golden_values_match_the_recordings_readme() -> None:
    """Figures documented in recordings/README.md, read back through the profiles."""
    assert value("junos_ex", "sobriety_poe_consumption_watts", group="1") == 248
    assert value("junos_ex", "sobriety_poe_consumption_watts", group="2") == 137
    assert value("junos_ex", "sobriety_poe_budget_watts", group="1") == 1764
    assert value("junos_ex", "sobriety_poe_budget_watts", group="2") == 767
    assert value("junos_ex", "sobriety_poe_usage_threshold_ratio", group="1") == 0.8
    assert value("cisco_16_switch", "sobriety_poe_consumption_watts", group="3") == 30
    assert value("cisco_16_switch", "sobriety_poe_budget_watts", group="3") == 370
    for line, watts in (("1", 5100), ("2", 3600), ("3", 2700)):
        assert value("eaton-93e-80", "sobriety_ups_output_power_watts", line=line) == watts
    uptime = value("epson-projector_eb-4770w", "sobriety_device_uptime_seconds")
    assert uptime == pytest.approx(33_973_907.69)  # 3397390769 ticks: past 2^31
    # no sysUpTime: still up, just no uptime sample
    for name in ("arubaos-cx_6300_vsf_stack", "apc_ap8959eu3"):
        samples = golden(name)["samples"]
        assert isinstance(samples, list)
        assert not [s for s in samples if s["name"] == "sobriety_device_uptime_seconds"]
        assert value(name, "sobriety_target_up") == 1


def test_device_identity_from_entity_and_ups_mib() -> None:
    def info(name: str) -> dict[str, str]:
        samples = golden(name)["samples"]
        assert isinstance(samples, list)
        (found,) = [s["labels"] for s in samples if s["name"] == "sobriety_device_info"]
        return dict(found)

    arista = info("arista_eos")
    assert arista["model"] and arista["serial"]
    assert info("eaton-93e-80")["vendor"] == "EATON"
    assert info("eaton-93e-80")["model"] == "EATON 93E 80"
    assert info("junos_ex")["sysobjectid"] == "1.3.6.1.4.1.2636.1.1.1.4.131.2"


def test_request_budget_is_recorded_per_recording() -> None:
    for path in real_recordings():
        requests = golden(recording_target(path))["requests"]
        assert isinstance(requests, dict)
        assert set(requests) == {"get", "getnext", "getbulk", "timeouts"}
        assert requests["timeouts"] == 0
        assert 1 <= requests["get"] <= 3
        assert requests["getnext"] == 1  # every probe in one PDU


@pytest.mark.parametrize("path", RECORDINGS, ids=recording_target)
def test_cli_poll_once_replay_json(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["poll-once", "--replay", str(path), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["target"] == recording_target(path)
    assert set(printed) == {"target", "profiles", "samples", "issues", "requests"}


def samples_named(name: str, metric: str) -> list[dict[str, object]]:
    samples = golden(name)["samples"]
    assert isinstance(samples, list)
    return [s for s in samples if s["name"] == metric]


def test_entity_sensor_supply_power_without_optics() -> None:
    """arubaos-cx: 12 PSU input sensors, 2-94 W, summed as the device's measured power;
    arista_eos: 70 watts sensors that are all optical DOM power, never device power."""
    psus = samples_named("arubaos-cx_6300_vsf_stack", "sobriety_supply_unit_power_watts")
    watts = sorted(float(str(s["value"])) for s in psus)
    assert len(watts) == 12
    assert (watts[0], watts[-1]) == (2.0, 94.0)
    (device,) = samples_named("arubaos-cx_6300_vsf_stack", "sobriety_device_power_watts")
    assert device["value"] == sum(watts)
    assert device["labels"] == {
        "target": "arubaos-cx_6300_vsf_stack",
        "source": "measured",
        "origin": "entity-sensor",
        "basis": "measured",
    }
    assert not samples_named("arista_eos", "sobriety_supply_unit_power_watts")
    assert not samples_named("arista_eos", "sobriety_device_power_watts")
    temps = samples_named("arista_eos", "sobriety_sensor_temperature_celsius")
    assert temps and all(0 < float(str(s["value"])) < 120 for s in temps)


def test_pdu_ups_and_poe_port_readings_match_the_recordings_readme() -> None:
    # raritan-pdu_px3: inlet activePower 1665 W, activeEnergy 74,057,676 Wh (decimal digits 0)
    assert value("raritan-pdu_px3", "sobriety_pdu_input_power_watts", inlet="1") == 1665
    energy = value("raritan-pdu_px3", "sobriety_pdu_input_energy_joules_total", inlet="1")
    assert energy == 74_057_676 * 3600
    outlets = samples_named("raritan-pdu_px3", "sobriety_pdu_outlet_power_watts")
    assert len(outlets) == 24
    # apc_ap8959eu3: rPDU2DeviceStatusPower 27 hundredths of kW = 270 W
    assert value("apc_ap8959eu3", "sobriety_pdu_input_power_watts", inlet="1") == 270
    # apc_smx750i: upsHighPrecOutputLoad 202 = 20.2 %, and no watt OID: no invented watts
    assert value("apc_smx750i", "sobriety_ups_output_load_ratio", line="1") == 0.202
    assert not samples_named("apc_smx750i", "sobriety_ups_output_power_watts")
    assert not samples_named("apc_smx750i", "sobriety_device_power_watts")
    # cisco_16_switch: per-port PoE from CISCO-POWER-ETHERNET-EXT (mW), group 3
    ports = {
        str(s["labels"]["port"]): s["value"]  # type: ignore[index]
        for s in samples_named("cisco_16_switch", "sobriety_poe_port_power_watts")
    }
    assert len(ports) == 48
    assert ports["5"] == 15.4
    assert ports["46"] == 15.4
    assert sum(float(str(v)) for v in ports.values()) == pytest.approx(30.8)
    status = samples_named("cisco_16_switch", "sobriety_poe_port_detection_status")
    delivering = {
        str(s["labels"]["port"]) for s in status if s["labels"]["state"] == "deliveringPower"
    }  # type: ignore[index]
    assert delivering == {"5", "46"}


def test_printer_projector_radio_and_host_figures_match_the_recordings_readme() -> None:
    # ricoh_mpc3002: prtMarkerLifeCount.1.1 = 271871, in the unit the printer states
    (count,) = samples_named("ricoh_mpc3002", "sobriety_printer_marker_lifetime_count_total")
    assert count["value"] == 271_871
    assert count["labels"] == {"target": "ricoh_mpc3002", "marker": "1", "unit": "sheets"}
    assert len(samples_named("ricoh_mpc3002", "sobriety_printer_supply_level_ratio")) == 5
    # epson-projector_eb-4770w: lamp hours 79
    assert value("epson-projector_eb-4770w", "sobriety_projector_lamp_seconds") == 79 * 3600
    # ubiquiti-m5: 27 dBm at 5860 MHz
    assert value("ubiquiti-m5", "sobriety_radio_tx_power_dbm", radio="1") == 27
    assert value("ubiquiti-m5", "sobriety_radio_frequency_hertz", radio="1") == 5.86e9
    # unifi_nanohd: unifiVapTxPower 23 and 26 dBm, found by sysDescr (generic sysObjectID)
    unifi = samples_named("unifi_nanohd", "sobriety_radio_tx_power_dbm")
    assert sorted({s["value"] for s in unifi}) == [23, 26]  # type: ignore[type-var]
    # aruba-instant: 16, 26, 15 ... per AP MAC and radio
    aruba = samples_named("aruba-instant", "sobriety_radio_tx_power_dbm")
    assert [s["value"] for s in aruba][:3] == [16, 26, 15]
    # winxp-full-walk and linux_powermon: HOST-RESOURCES storage and CPU
    for name in ("winxp-full-walk", "linux_powermon"):
        assert value(name, "sobriety_host_storage_bytes") > 0
        assert 0 <= value(name, "sobriety_host_cpu_load_ratio") <= 1
        assert value(name, "sobriety_host_processors") >= 1
    assert value("linux_powermon", "sobriety_host_processors") == 24
    # linux_powermon's extend meter is not power until the site declares it (next test)
    assert not samples_named("linux_powermon", "sobriety_device_power_watts")


async def test_linux_powermon_extend_meter_counts_when_the_site_declares_it() -> None:
    from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
    from sobriety.pollonce import poll_recording

    profiles = load_profiles([builtin_profile_dir(), SITE_PROFILES])
    path = next(p for p in RECORDINGS if p.name.startswith("linux_powermon"))
    result = await poll_recording(path, profiles)
    power = [s for s in result.samples if s.name == "sobriety_device_power_watts"]
    assert [(s.labels["origin"], s.labels["source"], s.value) for s in power] == [
        ("extend-meter", "measured", 340.0)
    ]


def test_arista_eos_figures_match_the_recording() -> None:
    """Read from arista_eos.snmprec by hand (README: 47 type-8 and 70 type-6 sensors)."""
    # hrSystemUptime 2793326600 ticks (preferred to sysUpTime's 2793316199)
    assert value("arista_eos", "sobriety_device_uptime_seconds") == 27_933_266
    # the chassis row (entPhysicalIndex 1): the README's "DCS-7050TX-128 / EOS 4.15.3F" is
    # sysDescr's; ENTITY-MIB says model DCS-7050S-52, EOS 4.18.10M, and that is what is exposed
    (chassis,) = [
        s["labels"]
        for s in samples_named("arista_eos", "sobriety_entity_info")
        if s["labels"]["class"] == "chassis"  # type: ignore[index]
    ]
    assert chassis["model"] == "DCS-7050S-52"  # type: ignore[index]
    assert chassis["serial"] == "JPE00000000"  # type: ignore[index]
    assert chassis["software"] == "4.18.10M"  # type: ignore[index]
    # 47 celsius sensors; "Cpu temp sensor" (100006001) = 533, units(9), precision 1
    temps = samples_named("arista_eos", "sobriety_sensor_temperature_celsius")
    assert len(temps) == 47
    assert value("arista_eos", "sobriety_sensor_temperature_celsius", entity="100006001") == 53.3
    # the two PSUs' sensors (units(9), precision 2): 22925 V/100 in, 1197 out; 66, 1066 cA ...
    volts = {
        str(s["labels"]["entity"]): s["value"]  # type: ignore[index]
        for s in samples_named("arista_eos", "sobriety_supply_sensor_volts")
    }
    assert volts == {"100711105": 229.25, "100711106": 11.97, "100721105": 230.25, "100721106": 12}
    amps = {
        str(s["labels"]["entity"]): s["value"]  # type: ignore[index]
        for s in samples_named("arista_eos", "sobriety_supply_sensor_amperes")
    }
    assert amps == {"100711103": 0.66, "100711104": 10.66, "100721103": 0.63, "100721104": 10.34}


def test_winxp_full_walk_figures_match_the_recording() -> None:
    """Read from winxp-full-walk.snmprec by hand ("Windows 2000 Version 5.1", HR tables)."""
    name = "winxp-full-walk"
    assert value(name, "sobriety_device_uptime_seconds") == 232_944.84  # 23294484 ticks
    assert value(name, "sobriety_host_memory_bytes") == 1_014_576 * 1024  # hrMemorySize, KiB
    # fixed disks (hrStorageFixedDisk): C: 16384 B × 1952447, Z: 4096 B × 21304198
    assert value(name, "sobriety_host_storage_bytes") == 16_384 * 1_952_447 + 4_096 * 21_304_198
    assert value(name, "sobriety_host_storage_used_bytes") == (
        16_384 * 1_884_128 + 4_096 * 20_191_655
    )
    # "Physical Memory" (hrStorageRam): 65536 B × 9686 used
    assert value(name, "sobriety_host_memory_used_bytes") == 65_536 * 9_686
    assert value(name, "sobriety_host_processors") == 1  # one hrProcessorLoad row, at 0 %
    assert value(name, "sobriety_host_cpu_load_ratio") == 0
    assert value(name, "sobriety_host_software_installed") == 160  # hrSWInstalledName rows
    assert value(name, "sobriety_host_processes") == 33  # hrSWRunName rows


def labels_of(name: str, metric: str, **match: str) -> dict[str, str]:
    (found,) = [
        dict(s["labels"])  # type: ignore[call-overload]
        for s in samples_named(name, metric)
        if all(s["labels"].get(k) == v for k, v in match.items())  # type: ignore[attr-defined]
    ]
    return found


def test_controllers_list_their_aps_as_managed_devices_as_the_fixture_notes_say() -> None:
    """recordings/fixtures/README.md: the figures each controller fixture carries."""
    wlc = "cisco-wlc-5508"
    ap = "00:3a:98:b0:2e:70"
    assert labels_of(wlc, "sobriety_managed_device_info", device=ap) == {
        "target": wlc, "device": ap, "kind": "ap", "name": "erjiao_sw", "vendor": "Cisco",
        "model": "AIR-LAP1242AG-C-K9", "serial": "FCW1424U0HZ",
    }  # fmt: skip
    assert value(wlc, "sobriety_managed_device_up", device=ap) == 1
    assert value(wlc, "sobriety_managed_device_uptime_seconds", device=ap) == 10_280_873
    assert value(wlc, "sobriety_radio_tx_power_dbm", radio=f"{ap}/0") == 11  # level 3
    assert value(wlc, "sobriety_radio_antenna_gain_dbi", radio=f"{ap}/0") == 6
    # the controller's own uptime (sysUpTime 4058908200 ticks), never one of its APs'
    assert value(wlc, "sobriety_device_uptime_seconds") == 40_589_082
    controller = labels_of(wlc, "sobriety_device_info")
    assert (controller["model"], controller["serial"]) == ("AIR-CT5508-K9", "FCW1430L0CZ")
    aruba = "arubaos-7210"
    assert (
        labels_of(aruba, "sobriety_managed_device_info", device="00:0b:86:81:4e:a8")["serial"]
        == "BN0015340"
    )
    ups = {
        s["labels"]["device"]: s["value"]
        for s in samples_named(aruba, "sobriety_managed_device_up")
    }  # type: ignore[index]
    assert ups == {"00:0b:86:81:4e:a8": 1, "00:24:6c:c8:01:e6": 0, "18:64:72:c8:32:0e": 0}
    assert len(samples_named(aruba, "sobriety_managed_device_uptime_seconds")) == 1
    assert value(aruba, "sobriety_radio_tx_power_dbm", radio="00:0b:86:81:4e:a8/1") == 18
    assert labels_of(aruba, "sobriety_device_info")["model"] == "Aruba7210"
    ruckus = "ruckus-scg"
    assert value(ruckus, "sobriety_managed_device_up", device="0c:f4:d5:24:dd:00") == 1
    assert value(ruckus, "sobriety_managed_device_up", device="1c:b9:c4:22:0f:f0") == 0
    assert labels_of(ruckus, "sobriety_device_info")["serial"] == "491436000950"
    instant = "aruba-instant"
    assert (
        labels_of(instant, "sobriety_managed_device_info", device="68:28:cf:c7:e9:c0")["serial"]
        == "PHRCKYJ2RR"
    )
    assert (
        value(instant, "sobriety_managed_device_uptime_seconds", device="68:28:cf:c7:e9:c0")
        == 1_220_178
    )


def test_radio_projector_camera_and_ups_families_as_the_fixture_notes_say() -> None:
    dot11 = "ieee802dot11-ap"
    assert value(dot11, "sobriety_radio_tx_power_dbm", radio="2") == 20
    assert value(dot11, "sobriety_radio_tx_power_dbm", radio="3") == pytest.approx(17.993)
    assert not [
        s
        for s in samples_named(dot11, "sobriety_radio_tx_power_dbm")
        if s["labels"]["radio"] == "4"  # type: ignore[index]
    ]
    assert labels_of(dot11, "sobriety_device_info")["model"] == "ERW-AP2"
    assert value("cambium-ptp650", "sobriety_radio_tx_power_dbm", radio="1") == 18
    assert value("cambium-ptp650", "sobriety_radio_frequency_hertz", radio="1") == 5.805e9
    assert value("cambium-ptp650", "sobriety_radio_antenna_gain_dbi", radio="1") == 23
    assert value("siklu-etherhaul", "sobriety_radio_frequency_hertz", radio="1") == 74.375e9
    assert value("siklu-etherhaul", "sobriety_radio_tx_power_dbm", radio="1") == 5
    assert len(samples_named("siklu-etherhaul", "sobriety_radio_tx_power_dbm")) == 1
    assert value("mikrotik-routeros", "sobriety_radio_clients", radio="5") == 7
    assert value("mikrotik-routeros", "sobriety_radio_frequency_hertz", radio="60g/6") == 60.48e9
    assert labels_of("mikrotik-routeros", "sobriety_device_info")["serial"] == "8A2C0812A3B4"
    dell = "dell-5100mp-projector"
    assert value(dell, "sobriety_projector_power_state", state="cooling") == 1
    assert value(dell, "sobriety_projector_lamp_seconds") == 1234 * 3600
    camera = labels_of("hikvision-camera", "sobriety_device_info")
    assert (camera["vendor"], camera["model"]) == ("Hikvision", "DS-2CD4C36FWD-AP")
    # UPS cards that give volts and amps: never watts made up from them
    assert value("apc_smx750i", "sobriety_ups_output_voltage_volts", line="1") == 232
    assert value("apc_smx750i", "sobriety_ups_output_current_amperes", line="1") == 0.6
    assert not samples_named("apc_smx750i", "sobriety_ups_output_power_watts")
    for line, amps in (("1", 27), ("2", 18), ("3", 15)):
        assert value("eaton-93e-80", "sobriety_ups_output_current_amperes", line=line) == amps
        va = value("eaton-93e-80", "sobriety_ups_output_apparent_power_voltamperes", line=line)
        assert va == 220 * amps
    ricoh = labels_of("ricoh_mpc3002", "sobriety_device_info")
    assert ricoh["model"] == "RICOH Aficio MP C3002"
    assert value("ricoh_mpc3002", "sobriety_printer_device_status", state="warning") == 1
    assert labels_of("junos_ex", "sobriety_device_info")["model"] == "ex3400-48t"

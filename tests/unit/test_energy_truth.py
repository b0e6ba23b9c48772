"""Energy figures a domain expert would sign, on what the recordings really report: feeders and
their unattributed loads, UPS losses from the UPS's own figures, allocations that are not
measurements, virtual machines, observed state, waste by source, school calendars."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sobriety.config.load import SiteConfig, load_config
from sobriety.energy.accounting import EnergyTracker
from sobriety.energy.classes import load_classes
from sobriety.energy.sitecalendar import SiteCalendar, read_closures
from sobriety.energy.ups import load_efficiency, losses
from sobriety.errors import ConfigProblem
from sobriety.model import CollectResult, Sample
from sobriety.pollonce import poll_recording
from sobriety.store import StateStore
from tests.problems import problems_of

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # a Monday, in term time for zone C

CONFIG = """\
settings: {interval: 60s, data_dir: "."}
sites:
  dc: {timezone: Europe/Paris, country: FR, opening_hours: "24/7"}
  school: {timezone: Europe/Paris, country: FR, school_zone: C,
           opening_hours: {mon: ["08:00-17:00"], tue: ["08:00-17:00"]}}
auths:
  v2: {version: 2c, community: public}
targets:
  - {id: ups, address: 127.0.0.1, auth: v2, site: dc, class: ups}
  - {id: pdu-a, address: 127.0.0.1, auth: v2, site: dc, class: pdu, fed_by: [ups]}
  - {id: pdu-b, address: 127.0.0.1, auth: v2, site: dc, class: pdu, fed_by: [ups]}
  - {id: server, address: 127.0.0.1, auth: v2, site: dc, class: server_rack_2s,
     outlets: [{pdu: pdu-a, outlet: "1"}, {pdu: pdu-b, outlet: "1"}]}
  - {id: small-ups, address: 127.0.0.1, auth: v2, site: school, class: ups}
  - {id: pc, address: 127.0.0.1, auth: v2, site: school, class: desktop_pc}
  - {id: projector, address: 127.0.0.1, auth: v2, site: school, class: projector_classroom}
  - {id: vm, kind: host, site: school, class: server_rack_2s}
  - {id: controller, address: 127.0.0.1, auth: v2, site: school, class: wifi_ap_enterprise}
"""


def recorded(name: str, target: str) -> list[Sample]:
    """The samples a recording gives, as if they were the configured target's."""
    path = next((ROOT / "recordings").glob(f"{name}.snmprec*"))
    result = asyncio.run(poll_recording(path))
    return [Sample(s.name, {**s.labels, "target": target}, s.value) for s in result.samples]


def pdu(target: str, inlet: float, outlets: dict[str, float]) -> list[Sample]:
    out = [Sample("sobriety_pdu_input_power_watts", {"target": target, "inlet": "1"}, inlet)]
    out += [
        Sample("sobriety_pdu_outlet_power_watts", {"target": target, "outlet": o}, w)
        for o, w in outlets.items()
    ]
    return out


class Fleet:
    """An energy tracker over a real config and store, its feeders' samples held by hand."""

    def __init__(self, tmp: Path, config: str = CONFIG) -> None:
        (tmp / "sobriety.yaml").write_text(config)
        self.config = load_config(tmp / "sobriety.yaml")
        self.snapshot: dict[str, Sequence[Sample]] = {}
        self.now = T0
        calendars = {n: SiteCalendar.load(s) for n, s in self.config.sites.items()}
        self.tracker = EnergyTracker(
            self.config, load_classes(), calendars, StateStore(tmp / "s.sqlite3"),
            self.snapshot.get, now=lambda: self.now,
        )  # fmt: skip

    def poll(self, target: str, samples: Sequence[Sample], up: bool = True) -> list[Sample]:
        out = self.tracker.observe(CollectResult(target, up, samples=list(samples)), self.now)
        self.snapshot[target] = out
        return out

    def site_power(self, site: str) -> dict[str, float]:
        return {
            s.labels["source"]: s.value
            for s in self.tracker.site_samples()
            if s.name == "sobriety_site_power_watts" and s.labels["site"] == site
        }


def named(samples: Sequence[Sample], metric: str) -> list[Sample]:
    return [s for s in samples if s.name == metric]


def power(samples: Sequence[Sample]) -> Sample:
    (found,) = named(samples, "sobriety_device_power_watts")
    return found


def band(
    samples: Sequence[Sample], metric: str = "sobriety_device_power_band_watts"
) -> tuple[float, float]:
    found = {s.labels["bound"]: s.value for s in named(samples, metric)}
    return found["low"], found["high"]


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return Fleet(tmp_path)


# --- UPS losses ----------------------------------------------------------------------------


def test_the_eaton_93e_loses_what_a_double_conversion_ups_loses_at_16_percent() -> None:
    samples = recorded("eaton-93e-80", "ups")
    reading = losses(samples, "EATON 93E 80", None)
    assert reading is not None
    # 11,400 W out of a 72,090 W rating, on line ("normal"), upsInputTruePower 0 on every
    # line (not implemented): losses from the double-conversion curve, not "0 W" nor 30 W
    assert reading.origin == "ups-curve:double_conversion"
    assert (reading.source, reading.basis) == ("estimated", "state")
    assert 300 <= reading.watts <= 2500
    assert reading.low < reading.watts < reading.high
    assert 0.06 * 11_400 <= reading.watts <= 0.11 * 11_400  # 6-11 % of what it delivers


def test_the_smart_ups_x_750_loses_a_few_watts_from_its_load_and_rating() -> None:
    samples = recorded("apc_smx750i", "small-ups")
    reading = losses(samples, "Smart-UPS X 750", None)
    assert reading is not None
    # no watts OID: 20.2 % of the 600 W rating (APC datasheet) = 121 W out; line-interactive
    assert reading.origin == "ups-curve:line_interactive"
    assert 5 <= reading.watts <= 25
    assert reading.low <= reading.watts <= reading.high <= 25


def test_a_ups_on_bypass_loses_about_nothing_and_measured_input_wins() -> None:
    samples = recorded("eaton-93e-80", "ups")
    online = losses(samples, "EATON 93E 80", None)
    bypass = [
        Sample(s.name, {**s.labels, "state": "bypass"}, s.value)
        if s.name == "sobriety_ups_output_source"
        else s
        for s in samples
    ]
    eco = losses(bypass, "EATON 93E 80", None)
    assert online is not None and eco is not None
    assert eco.origin == "ups-curve:bypass"
    assert eco.watts < online.watts / 3
    measured = [
        Sample(s.name, s.labels, 4000.0) if s.name == "sobriety_ups_input_power_watts" else s
        for s in samples
    ]
    reading = losses(measured, "EATON 93E 80", None)
    assert reading is not None
    assert (reading.watts, reading.source, reading.origin) == (
        12_000 - 11_400,
        "measured",
        "ups-input-minus-output",
    )


def test_an_unknown_ups_says_how_little_is_known() -> None:
    table = load_efficiency()
    assert table.topology_of("MysteryPower 3000") == "unknown"
    low, typical, high = table.band("unknown", 1000, 3000)
    for topology in ("double_conversion", "line_interactive", "standby", "eco"):
        known_low, _, known_high = table.band(topology, 1000, 3000)
        assert low <= known_low and known_high <= high  # it spans every curve
    assert low < typical < high


# --- feeders -------------------------------------------------------------------------------


def test_feeders_book_what_their_declared_loads_do_not(fleet: Fleet) -> None:
    ups = recorded("eaton-93e-80", "ups")  # 11,400 W out
    fleet.poll("server", [], up=True)  # not fed yet: PDUs unpolled
    fleet.poll("pdu-a", pdu("pdu-a", 1665.0, {"1": 143.0, "2": 207.0}))
    fleet.poll("pdu-b", pdu("pdu-b", 270.0, {"1": 120.0}))
    server = fleet.poll("server", [], up=True)
    # A and B feeds summed: 143 + 120 W, measured
    assert (power(server).value, power(server).labels["origin"]) == (263.0, "pdu-outlets")
    a = fleet.poll("pdu-a", pdu("pdu-a", 1665.0, {"1": 143.0, "2": 207.0}))
    (unattributed,) = named(a, "sobriety_feeder_unattributed_power_watts")
    # the inlet, less the PDU's own electronics (10 W, class estimate), less the server's A
    assert unattributed.value == pytest.approx(1665 - 10 - 143)
    assert unattributed.labels["source"] == "measured"
    b = fleet.poll("pdu-b", pdu("pdu-b", 270.0, {"1": 120.0}))
    assert named(b, "sobriety_feeder_unattributed_power_watts")[0].value == pytest.approx(140)
    out = fleet.poll("ups", ups)
    (behind_ups,) = named(out, "sobriety_feeder_unattributed_power_watts")
    # 11,400 W out, of which the two PDUs take their inlets: 1,665 + 270 W
    assert behind_ups.value == pytest.approx(11_400 - 1665 - 270)
    assert named(out, "sobriety_feeder_overcommitted")[0].value == 0
    # the site draws what its UPS delivers plus the UPS's own losses, each counted once
    loss = power(out).value
    total = sum(fleet.site_power("dc").values())
    assert total == pytest.approx(11_400 + loss)
    assert total >= 11_400


# the server's B supply on outlet 2 of pdu-b (outlet 1 of pdu-a: its A); a desktop on the UPS
CROSSED = CONFIG.replace('{pdu: pdu-b, outlet: "1"}', '{pdu: pdu-b, outlet: "2"}') + (
    "  - {id: desk, address: 127.0.0.1, auth: v2, site: dc, class: desktop_pc, fed_by: [ups]}\n"
)


def test_each_feeder_takes_off_only_the_outlets_that_are_its_own(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path, CROSSED)
    fleet.poll("pdu-a", pdu("pdu-a", 1665.0, {"1": 143.0, "2": 207.0}))
    fleet.poll("pdu-b", pdu("pdu-b", 270.0, {"1": 50.0, "2": 120.0}))
    fleet.poll("server", [], up=True)
    fleet.poll("desk", [], up=True)  # no meter: 25..450 W (desktop_pc), fed by the UPS alone
    a = fleet.poll("pdu-a", pdu("pdu-a", 1665.0, {"1": 143.0, "2": 207.0}))
    # its own outlet 1 (143 W), not outlet 2 (the server's B supply is outlet 2 of pdu-b)
    assert named(a, "sobriety_feeder_unattributed_power_watts")[0].value == 1665 - 10 - 143
    b = fleet.poll("pdu-b", pdu("pdu-b", 270.0, {"1": 50.0, "2": 120.0}))
    assert named(b, "sobriety_feeder_unattributed_power_watts")[0].value == 270 - 10 - 120
    out = fleet.poll("ups", recorded("eaton-93e-80", "ups"))  # 11,400 W out
    # each PDU takes its own band (5..15 W, class pdu) plus what it passes on; the desktop,
    # which passes nothing on, its band: the middle of what is left is booked
    pdus = (5 + 1655 + 15 + 1655) / 2 + (5 + 260 + 15 + 260) / 2
    (left,) = named(out, "sobriety_feeder_unattributed_power_watts")
    assert left.value == pytest.approx(11_400 - pdus - (25 + 450) / 2)


def test_a_stale_reading_leaves_out_only_itself_from_the_site_s_power(fleet: Fleet) -> None:
    fleet.poll("pc", [], up=True)  # then never again: stale an hour later
    fleet.now = T0 + timedelta(hours=1)
    ap = fleet.poll("controller", [], up=True)
    assert fleet.site_power("school") == {"estimated": power(ap).value}


def test_loads_above_their_feeder_are_flagged_and_never_negative(fleet: Fleet) -> None:
    fleet.poll("pdu-a", pdu("pdu-a", 100.0, {"1": 90.0}))
    fleet.poll("pdu-b", pdu("pdu-b", 100.0, {"1": 90.0}))
    fleet.poll("server", [], up=True)
    out = fleet.poll("pdu-a", pdu("pdu-a", 50.0, {"1": 90.0}))
    assert named(out, "sobriety_feeder_unattributed_power_watts")[0].value == 0
    assert named(out, "sobriety_feeder_overcommitted")[0].value == 1


def test_a_dual_fed_server_is_not_half_counted(fleet: Fleet) -> None:
    fleet.poll("pdu-a", pdu("pdu-a", 500.0, {"1": 143.0}))
    fleet.poll("pdu-b", pdu("pdu-b", 500.0, {}))  # the B outlet gives no reading
    server = fleet.poll("server", [], up=True)
    # one supply unread: no outlet sum (it would be half the server); the class estimate
    assert power(server).labels["source"] == "estimated"


def test_a_load_on_two_feeders_takes_half_from_each_and_nothing_once_stale(
    tmp_path: Path,
) -> None:
    two = CONFIG.replace(
        "class: pdu, fed_by: [ups]}\n  - {id: pdu-b",
        "class: pdu, fed_by: [ups, small-ups]}\n  - {id: pdu-b",
    )
    fleet = Fleet(tmp_path, two)
    ups = recorded("eaton-93e-80", "ups")  # 11,400 W out
    fleet.poll("pdu-a", pdu("pdu-a", 1000.0, {"1": 143.0}))
    fleet.poll("pdu-b", pdu("pdu-b", 270.0, {"1": 120.0}))
    (behind,) = named(fleet.poll("ups", ups), "sobriety_feeder_unattributed_power_watts")
    # pdu-a's inlet (its own 10 W and the 990 W it passes on) is shared by its two feeders
    assert behind.value == pytest.approx(11_400 - 1000 / 2 - 270)
    fleet.now += timedelta(minutes=4)  # 4 polls missed: pdu-a's reading is stale (3 allowed)
    (stale,) = named(fleet.poll("ups", ups), "sobriety_feeder_unattributed_power_watts")
    assert stale.value == pytest.approx(11_400)


# --- allocations, state, virtual machines ----------------------------------------------------


def test_an_idle_desktop_is_below_a_busy_one(fleet: Fleet) -> None:
    winxp = recorded("winxp-full-walk", "pc")  # hrProcessorLoad 0 %
    idle = power(fleet.poll("pc", winxp))
    busy = power(
        fleet.poll(
            "pc",
            [
                Sample(s.name, s.labels, 1.0) if s.name == "sobriety_host_cpu_load_ratio" else s
                for s in winxp
            ],
        )
    )
    assert (idle.labels["origin"], idle.labels["basis"]) == ("class:desktop_pc:cpu", "state")
    assert idle.value == 25  # the class's idle figure
    assert busy.value == 450 > idle.value


def test_a_projector_nobody_says_is_on_is_a_band_from_standby(fleet: Fleet) -> None:
    epson = recorded("epson-projector_eb-4770w", "projector")  # lamp hours, no power state
    out = fleet.poll("projector", epson)
    reading = power(out)
    assert reading.labels["origin"] == "class:projector_classroom:state-unknown"
    assert reading.labels["basis"] == "assumed"
    assert band(out) == (0.5, 310)  # its standby figure to its working one
    state = Sample("sobriety_device_power_state", {"target": "projector", "state": "on"}, 1.0)
    on = power(fleet.poll("projector", [*epson, state]))
    assert (on.value, on.labels["basis"]) == (310, "state")


def test_a_container_in_a_vm_is_a_share_of_a_host_not_a_rack_server(fleet: Fleet) -> None:
    samples = [
        Sample("sobriety_host_processors", {"target": "vm"}, 2.0),
        Sample("sobriety_host_cpu_load_ratio", {"target": "vm"}, 0.28),
        Sample(
            "sobriety_device_virtualization_info",
            {"target": "vm", "kind": "container", "technology": "docker"},
            1.0,
        ),
    ]
    reading = power(fleet.poll("vm", samples))
    assert reading.labels["origin"] == "virtual:container:vcpu-share"
    assert reading.value < 60
    assert reading.value == pytest.approx(2 * 2.1 + 0.28 * 2 * (12.5 - 2.1))


def test_managed_access_points_are_devices_of_their_own(fleet: Fleet) -> None:
    def ap(mac: str, model: str) -> list[Sample]:
        labels = {"target": "controller", "device": mac, "kind": "ap", "name": mac,
                  "vendor": "Aruba", "model": model, "serial": ""}  # fmt: skip
        return [Sample("sobriety_managed_device_info", labels, 1.0)]

    samples = [
        Sample("sobriety_device_info", {"target": "controller", "model": "225"}, 1.0),
        *ap("68:28:cf:c7:e9:c0", "635"),
        *ap("68:28:cf:c8:04:48", "635"),
        *ap("70:3a:0e:c9:c2:46", "225"),  # the conductor: the controller itself
        Sample(
            "sobriety_managed_device_up",
            {"target": "controller", "device": "68:28:cf:c8:04:48"},
            0.0,
        ),
    ]
    out = fleet.poll("controller", samples)
    booked = {
        s.labels["device"]: s.value for s in named(out, "sobriety_managed_device_power_watts")
    }
    # the conductor is the target's own reading; the AP the controller says is down has none
    assert booked == {"68:28:cf:c7:e9:c0": 8.0}
    assert power(out).value == 8.0
    (watts,) = named(out, "sobriety_managed_device_power_watts")
    assert watts.labels == {
        "target": "controller", "device": "68:28:cf:c7:e9:c0", "source": "estimated",
        "origin": "class:wifi_ap_enterprise", "basis": "assumed",  # the class's figure
    }  # fmt: skip
    fleet.now += timedelta(minutes=1)
    later = fleet.poll("controller", samples)
    (energy,) = named(later, "sobriety_managed_device_energy_joules_total")
    assert energy.labels == {
        "target": "controller", "device": "68:28:cf:c7:e9:c0", "source": "estimated",
        "basis": "assumed",
    }  # fmt: skip
    assert energy.value == pytest.approx(8.0 * 60)  # 8 W for the minute between the polls


# --- waste and calendars ---------------------------------------------------------------------


def test_waste_says_what_it_rests_on(fleet: Fleet) -> None:
    epson = recorded("epson-projector_eb-4770w", "projector")
    evening = datetime(2026, 3, 16, 19, 0, tzinfo=UTC)  # Monday 20:00 in Paris: closed
    for minute in range(61):
        fleet.now = evening + timedelta(minutes=minute)
        fleet.poll("projector", epson)
    waste = [
        s
        for s in fleet.tracker.site_samples()
        if s.name == "sobriety_site_waste_energy_joules_total"
    ]
    assert {s.labels["source"] for s in waste} == {"assumed"}
    assert all(s.labels["source"] != "measured" for s in waste)


def test_a_school_in_zone_c_closes_on_its_school_holidays_without_an_ics(fleet: Fleet) -> None:
    calendar = fleet.tracker.calendars["school"]
    # the 2026 Easter holidays of zone C start on Saturday 18 April (holidays package)
    monday = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
    assert calendar.state(monday) == "holiday"
    assert calendar.state(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) == "holiday"  # winter break
    assert calendar.state(datetime(2026, 3, 16, 9, 0, tzinfo=UTC)) == "open"
    zone_a = SiteCalendar(SiteConfig(timezone="Europe/Paris", country="FR", school_zone="A"))
    assert zone_a.holiday(date(2026, 4, 7)) and not calendar.holiday(date(2026, 4, 7))
    server_room = fleet.tracker.calendars["dc"]
    assert server_room.state(datetime(2026, 12, 25, 3, 0, tzinfo=UTC)) == "open"  # 24/7


def test_recurring_ics_closures_are_expanded(tmp_path: Path) -> None:
    ics = tmp_path / "closures.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\n"
        "UID:w@t\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260107\r\n"
        "DTEND;VALUE=DATE:20260108\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
        "EXDATE;VALUE=DATE:20260121\r\nSUMMARY:Mercredi libéré\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    days = read_closures(ics)
    assert days == {date(2026, 1, 7), date(2026, 1, 14), date(2026, 1, 28)}


def ics_of(tmp_path: Path, *events: str) -> Path:
    """An .ics file holding these VEVENT bodies (CRLF lines, as RFC 5545 writes them)."""
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@t\r\nDTSTAMP:20260101T000000Z\r\n{e}END:VEVENT\r\n"
        for n, e in enumerate(events)
    )
    path = tmp_path / "closures.ics"
    path.write_text(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\n{body}END:VCALENDAR\r\n"
    )
    return path


D7, D8, D9 = date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 9)


@pytest.mark.parametrize(
    ("event", "days"),
    [
        ("DTSTART;VALUE=DATE:20260107", {D7}),  # no DTEND: its one day
        ("DTSTART;VALUE=DATE:20260107\r\nDTEND;VALUE=DATE:20260110", {D7, D8, D9}),  # exclusive
        ("DTSTART:20260107T140000\r\nDTEND:20260108T100000", {D7, D8}),  # timed: whole days
        ("DTSTART:20260107T140000\r\nDTEND:20260107T170000", {D7}),  # one afternoon
        ("DTSTART:20260107T140000", {D7}),  # a timed start without DTEND
        ("DTSTART:20260107T230000\r\nDURATION:PT2H", {D7, D8}),
        ("DTSTART:20260107T100000\r\nDTEND:20260109T000000", {D7, D8}),  # midnight: 9th open
        ("DTSTART:20260107T000000\r\nDTEND:20260107T000000", {D7}),  # no length, its day
        ("DTSTART;VALUE=DATE:20260107\r\nDTEND:20260108T100000", {D7, D8}),  # day to a time
        ("DTSTART:20260107T100000\r\nDTEND;VALUE=DATE:20260109", {D7, D8}),  # time to a day
    ],
)
def test_a_closure_closes_the_whole_local_days_it_covers(
    tmp_path: Path, event: str, days: set[date]
) -> None:
    assert read_closures(ics_of(tmp_path, event + "\r\n")) == days


def test_an_event_without_dtstart_is_a_problem_naming_the_file_and_the_field(
    tmp_path: Path,
) -> None:
    ics = ics_of(tmp_path, "SUMMARY:Pont\r\n", "DTSTART;VALUE=DATE:20260107\r\n")
    assert problems_of(read_closures, ics) == [
        ConfigProblem(str(ics), "-", "DTSTART", "an event has none")
    ]


def test_events_of_the_whole_file_are_closures_not_only_the_first(tmp_path: Path) -> None:
    ics = ics_of(
        tmp_path,
        "DTSTART;VALUE=DATE:20260107\r\n",
        "DTSTART;VALUE=DATE:20260201\r\nDTEND;VALUE=DATE:20260203\r\n",
    )
    assert read_closures(ics) == {date(2026, 1, 7), date(2026, 2, 1), date(2026, 2, 2)}


def test_a_closure_of_up_to_400_days_is_accepted(tmp_path: Path) -> None:
    ics = ics_of(tmp_path, "DTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20270205\r\n")
    days = read_closures(ics)
    assert len(days) == 400 and min(days) == date(2026, 1, 1) and max(days) == date(2027, 2, 4)


@pytest.mark.parametrize(
    ("dtstart", "dtend", "span"),
    [("20260107", "20260107", 0), ("20260101", "20270206", 401)],
)
def test_a_closure_of_no_day_or_over_400_days_is_a_problem_naming_file_event_and_dtend(
    tmp_path: Path, dtstart: str, dtend: str, span: int
) -> None:
    ics = ics_of(
        tmp_path,
        f"DTSTART;VALUE=DATE:{dtstart}\r\nDTEND;VALUE=DATE:{dtend}\r\nSUMMARY:Vacances\r\n",
    )
    assert problems_of(read_closures, ics) == [
        ConfigProblem(str(ics), "event Vacances", "DTEND", f"spans {span} days")
    ]


def test_a_bad_closure_without_summary_is_named_by_its_first_day(tmp_path: Path) -> None:
    ics = ics_of(tmp_path, "DTSTART;VALUE=DATE:20260107\r\nDTEND;VALUE=DATE:20260107\r\n")
    assert [p.entry for p in problems_of(read_closures, ics)] == ["event 2026-01-07"]


@pytest.mark.parametrize("content", [None, b"BEGIN:VCALENDAR\r\nthis is no calendar"])
def test_an_unreadable_ics_is_one_problem_naming_the_file(
    tmp_path: Path, content: bytes | None
) -> None:
    ics = tmp_path / "closures.ics"
    if content is not None:
        ics.write_bytes(content)
    [problem] = problems_of(read_closures, ics)
    assert (problem.file, problem.entry, problem.field) == (str(ics), "-", "-")
    assert problem.message.startswith("not a readable .ics: ")


def test_public_holidays_are_the_site_s_country_and_subdivision_s_in_its_own_zone() -> None:
    paris = SiteCalendar(SiteConfig(timezone="Europe/Paris", country="FR"))
    assert paris.holiday(date(2026, 7, 14)) and not paris.holiday(date(2026, 7, 15))
    assert paris.state(datetime(2026, 12, 24, 23, 30, tzinfo=UTC)) == "holiday"  # 00:30, 25th
    bavaria = SiteCalendar(SiteConfig(timezone="Europe/Berlin", country="DE", subdivision="BY"))
    berlin = SiteCalendar(SiteConfig(timezone="Europe/Berlin", country="DE", subdivision="BE"))
    assert bavaria.holiday(date(2026, 1, 6)) and not berlin.holiday(date(2026, 1, 6))  # Epiphany


def test_a_site_is_open_only_in_its_hours_outside_closures(tmp_path: Path) -> None:
    site = SiteConfig(timezone="Europe/Paris", opening_hours={"mon": ["08:00-17:00"]})
    calendar = SiteCalendar(site, [date(2026, 1, 12)])
    assert calendar.is_open(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # Monday 10:00 in Paris
    assert not calendar.is_open(datetime(2026, 1, 5, 17, 0, tzinfo=UTC))  # 18:00: after hours
    assert not calendar.is_open(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))  # a closure


def test_the_energy_proof_table_is_what_the_code_books() -> None:
    """docs/energy.md's per-recording table is the code's own output (make docs)."""
    from sobriety.gen.energy_proof import WHY, compute, with_table

    rows = compute()
    assert {r.target for r in rows} == set(WHY)  # every bundled recording, and only those
    page = (ROOT / "docs" / "energy.md").read_text(encoding="utf-8")
    assert page == with_table(page, rows), "docs/energy.md drifted: make docs"
    booked = {r.target: r for r in rows}
    # the figures the recordings' README states, where they are the booked power
    assert booked["linux_powermon"].watts == 340
    assert booked["arubaos-cx_6300_vsf_stack"].watts == 709
    assert booked["eaton-93e-80"].unattributed == 11_400
    assert booked["raritan-pdu_px3"].unattributed == 1665 - 10
    assert booked["apc_ap8959eu3"].unattributed == 270 - 10
    assert not any(r.source == "measured" and "poe" in r.origin for r in rows)


def test_the_icalendar_libraries_load_only_for_a_closures_file(tmp_path: Path) -> None:
    # a daemon whose sites name no .ics file does not carry their 3.4 MiB
    probe = (
        "import sys\n"
        "import sobriety.daemon.app, sobriety.energy.sitecalendar as c\n"
        "assert 'icalendar' not in sys.modules, 'imported at start'\n"
        "c.read_closures(__import__('pathlib').Path(sys.argv[1]))\n"
        "assert 'icalendar' in sys.modules\n"
    )
    ics = tmp_path / "closed.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20260102\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    subprocess.run([sys.executable, "-c", probe, str(ics)], check=True, timeout=120)

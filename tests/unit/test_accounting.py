"""Energy accounting with a manual clock: exact integrals, gaps, restarts, resets, a school week."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sobriety.config.load import Config, load_config
from sobriety.energy.accounting import EnergyTracker, Totals, delivered_power
from sobriety.energy.classes import load_classes
from sobriety.energy.readings import PowerReading
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.energy.sitesums import SiteSums
from sobriety.model import CollectResult, Sample
from sobriety.pollonce import poll_recording
from sobriety.store import EnergyKey, StateStore

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
CONFIG = """\
settings: {interval: 60s, energy_max_gap_intervals: 3, data_dir: "."}
sites:
  school:
    timezone: Europe/Paris
    country: FR
    public_holidays: false
    opening_hours: {mon: ["08:00-17:00"], tue: ["08:00-17:00"], wed: ["08:00-12:00"],
                    thu: ["08:00-17:00"], fri: ["08:00-17:00"]}
    grid_gco2e_per_kwh: 50
    price_per_kwh: 0.2
    holidays_ics: closures.ics
auths:
  v2: {version: 2c, community: public}
targets:
  - {id: meter, address: 127.0.0.1, auth: v2, site: school, class: server_rack_2s}
  - {id: pc, address: 127.0.0.1, auth: v2, site: school, class: desktop_pc}
  - {id: fed, address: 127.0.0.1, auth: v2, site: school, class: desktop_pc,
     outlet: {pdu: pdu, outlet: "3"}}
  - {id: pdu, address: 127.0.0.1, auth: v2, site: school, class: pdu}
  - {id: cisco, address: 127.0.0.1, auth: v2, site: school, class: switch_access_48p}
  - {id: ap, address: 127.0.0.1, auth: v2, site: school, class: wifi_ap_enterprise,
     poe: {switch: cisco, group: "3", port: "5"}}
"""
# Thursday 8 January 2026 is a closure day in the school's own calendar.
ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//closures//FR
BEGIN:VEVENT
UID:closure-1@test
DTSTAMP:20251201T000000Z
DTSTART;VALUE=DATE:20260108
DTEND;VALUE=DATE:20260109
SUMMARY:Journée pédagogique
END:VEVENT
END:VCALENDAR
"""
MONDAY = datetime(2026, 1, 5, tzinfo=PARIS)


class World:
    """A tracker over a real config, store and calendar, fed by hand."""

    def __init__(self, tmp: Path) -> None:
        (tmp / "closures.ics").write_text(ICS)
        (tmp / "sobriety.yaml").write_text(CONFIG)
        self.tmp = tmp
        self.config: Config = load_config(tmp / "sobriety.yaml")
        self.feeds: dict[str, Sequence[Sample]] = {}
        self.store = StateStore(tmp / "state.sqlite3")
        self.tracker = self.new_tracker()

    def new_tracker(self) -> EnergyTracker:
        calendars = {n: SiteCalendar.load(s) for n, s in self.config.sites.items()}
        return EnergyTracker(self.config, load_classes(), calendars, self.store, self.feeds.get)

    def restart(self) -> None:
        self.store.close()
        self.store = StateStore(self.tmp / "state.sqlite3")
        self.tracker = self.new_tracker()

    def poll(self, target: str, at: datetime, watts: float | None = None, up: bool = True,
             samples: Sequence[Sample] = ()) -> list[Sample]:  # fmt: skip
        extra = list(samples)
        if watts is not None:
            labels = {"target": target, "source": "measured", "origin": "test-meter"}
            extra.append(Sample("sobriety_device_power_watts", labels, watts))
        result = CollectResult(target=target, up=up, samples=extra)
        return self.tracker.observe(result, at.astimezone(UTC))

    def joules(self, target: str, source: str = "measured") -> float:
        return sum(
            t.joules for key, t in self.tracker.totals.items()
            if key.target == target and key.source == source and not key.device
        )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_a_known_power_profile_integrates_exactly(world: World) -> None:
    # two days, a reading a minute: 100 W flat the first day, a 0 -> 240 W ramp the second
    at = MONDAY
    for minute in range(24 * 60):
        world.poll("meter", at + timedelta(minutes=minute), 100.0)
    ramp_start = at + timedelta(days=1)
    for minute in range(24 * 60 + 1):
        world.poll("meter", ramp_start + timedelta(minutes=minute), 240.0 * minute / 1440)
    # first day: 100 W over 23 h 59 min, then the step 100 -> 0 W over one minute, then the ramp
    expected = 100 * (1439 * 60) + (100 + 0) / 2 * 60 + 240 / 2 * 86_400
    assert world.joules("meter") == pytest.approx(expected, rel=1e-12)


def test_an_outage_is_not_filled_in_and_is_counted(world: World) -> None:
    at = MONDAY
    for minute in range(61):
        world.poll("meter", at + timedelta(minutes=minute), 50.0)
    after = at + timedelta(hours=4)  # the daemon was down for 3 hours
    for minute in range(61):
        world.poll("meter", after + timedelta(minutes=minute), 50.0)
    assert world.joules("meter") == pytest.approx(2 * 50 * 3600)
    assert world.tracker.gaps["meter"] == 1
    samples = world.poll("meter", after + timedelta(minutes=61), 50.0)
    gaps = [s for s in samples if s.name == "sobriety_energy_gaps_total"]
    assert [g.value for g in gaps] == [1.0]


def test_a_silent_device_is_never_assumed_on(world: World) -> None:
    world.poll("pc", MONDAY, up=True)
    world.poll("pc", MONDAY + timedelta(minutes=1), up=False)  # stops answering
    world.poll("pc", MONDAY + timedelta(minutes=2), up=False)
    world.poll("pc", MONDAY + timedelta(minutes=3), up=True)
    world.poll("pc", MONDAY + timedelta(minutes=4), up=True)
    # only the last minute counts (desktop_pc estimate: 175 W)
    assert world.joules("pc", "estimated") == pytest.approx(175 * 60)


def test_a_restart_keeps_the_totals_and_integrates_across_a_short_one(world: World) -> None:
    for minute in range(31):
        world.poll("meter", MONDAY + timedelta(minutes=minute), 80.0)
    world.store.flush()
    world.restart()
    assert world.joules("meter") == pytest.approx(80 * 1800)
    for minute in range(32, 62):  # back after two minutes: within the gap limit
        world.poll("meter", MONDAY + timedelta(minutes=minute), 80.0)
    assert world.joules("meter") == pytest.approx(80 * 61 * 60)
    assert world.tracker.gaps.get("meter", 0) == 0


def test_a_reset_pdu_energy_counter_never_makes_negative_energy(world: World) -> None:
    def outlet(watts: float, joules: float) -> list[Sample]:
        return [
            Sample("sobriety_pdu_outlet_power_watts", {"target": "pdu", "outlet": "3"}, watts),
            Sample(
                "sobriety_pdu_outlet_energy_joules_total",
                {"target": "pdu", "outlet": "3"},
                joules,
            ),
        ]

    readings = [(60.0, 1_000_000.0), (60.0, 1_003_600.0), (60.0, 1_000.0), (60.0, 4_600.0)]
    seen = []
    for minute, (watts, counter) in enumerate(readings):
        world.feeds["pdu"] = outlet(watts, counter)
        samples = world.poll("fed", MONDAY + timedelta(minutes=minute))
        (power,) = [s for s in samples if s.name == "sobriety_device_power_watts"]
        assert (power.labels["origin"], power.labels["source"]) == ("pdu-outlet", "measured")
        seen.append(world.joules("fed"))
    # counter deltas are used directly (3,600 J); the reset step falls back to 60 W × 60 s
    assert seen == [0.0, 3600.0, 7200.0, 10_800.0]


def test_an_unchanged_energy_counter_books_nothing_for_its_step(world: World) -> None:
    """The meter is the truth: a step over which the outlet's Wh counter did not move used no
    energy it could count (below its resolution), and the energy counted when it moves again is
    the whole delta, once; the 60 W trapezoid is for a counter that went down (a reset) only."""
    readings = [(60.0, 1_000_000.0), (60.0, 1_000_000.0), (60.0, 1_007_200.0)]
    seen = []
    for minute, (watts, counter) in enumerate(readings):
        world.feeds["pdu"] = [
            Sample("sobriety_pdu_outlet_power_watts", {"target": "pdu", "outlet": "3"}, watts),
            Sample(
                "sobriety_pdu_outlet_energy_joules_total", {"target": "pdu", "outlet": "3"}, counter
            ),
        ]
        world.poll("fed", MONDAY + timedelta(minutes=minute))
        seen.append(world.joules("fed"))
    assert seen == [0.0, 0.0, 7200.0]  # not 3600 J for the unchanged step, then 7200 J again


def bands(samples: Sequence[Sample]) -> tuple[float, float]:
    found = {
        s.labels["bound"]: s.value for s in samples if s.name == "sobriety_device_power_band_watts"
    }
    return found["low"], found["high"]


def switch_samples(target: str, ports: dict[str, tuple[float, float, float]]) -> list[Sample]:
    """A PoE switch's group 1 delivering `sum` of its ports: port -> (watts, allocated, max
    drawn), as CISCO-POWER-ETHERNET-EXT gives them."""
    out = [Sample("sobriety_poe_consumption_watts", {"target": target, "group": "1"},
                  sum(w for w, _, _ in ports.values()))]  # fmt: skip
    for port, (watts, allocated, drawn) in ports.items():
        where = {"target": target, "group": "1", "port": port}
        out += [
            Sample("sobriety_poe_port_power_watts", where, watts),
            Sample("sobriety_poe_port_allocated_watts", where, allocated),
            Sample("sobriety_poe_port_max_drawn_watts", where, drawn),
        ]
    return out


def test_a_measured_poe_port_is_the_ap_and_the_switch_drops_as_much(world: World) -> None:
    switch = switch_samples("cisco", {"5": (6.2, 15.4, 9.8), "6": (3.3, 15.4, 4.0)})
    world.feeds["cisco"] = switch
    world.config = world.config.model_copy(
        update={
            "targets": tuple(
                t.model_copy(update={"poe": t.poe.model_copy(update={"group": "1"})})
                if t.id == "ap" and t.poe is not None
                else t
                for t in world.config.targets
            )
        }
    )
    world.tracker.configure(world.config, world.tracker.classes, world.tracker.calendars)
    ap = world.poll("ap", MONDAY, up=True)
    (ap_power,) = [s for s in ap if s.name == "sobriety_device_power_watts"]
    assert (ap_power.value, ap_power.labels["source"], ap_power.labels["origin"]) == (
        6.2,
        "measured",
        "poe-port",
    )
    with_ap = world.poll("cisco", MONDAY, samples=switch)
    (switch_power,) = [s for s in with_ap if s.name == "sobriety_device_power_watts"]
    # switch_access_48p: 45 W without PoE, plus what its PSE delivers (9.5 W), less the AP's
    assert switch_power.value == pytest.approx(45 + 9.5 - 6.2)
    assert switch_power.labels["source"] == "estimated"


async def test_a_poe_allocation_is_not_a_measurement(world: World) -> None:
    """The Catalyst 3750 reports consumption = allocated = 15,400 mW and max drawn 0 on the
    AP's port: the 802.3af class allocation. The AP is its class estimate, capped by its class
    maximum (wifi_ap_enterprise: 14.4 W), never 15.4 W measured."""
    recording = next((ROOT / "recordings").glob("cisco_16_switch.snmprec*"))
    switch = (await poll_recording(recording)).samples
    switch = [
        Sample(s.name, {**s.labels, "target": "cisco"}, s.value)
        for s in switch
        if s.name != "sobriety_device_power_watts"
    ]
    world.feeds["cisco"] = switch
    ap = world.poll("ap", MONDAY, up=True)
    (ap_power,) = [s for s in ap if s.name == "sobriety_device_power_watts"]
    assert ap_power.labels["source"] == "estimated"
    assert ap_power.labels["origin"] == "class:wifi_ap_enterprise:poe-allocation"
    assert ap_power.value == 8.0  # the class's typical figure
    assert bands(ap) == (5.5, 14.4)  # capped by the class maximum, not the 15.4 W allocation
    with_ap = world.poll("cisco", MONDAY, samples=switch)
    (switch_power,) = [s for s in with_ap if s.name == "sobriety_device_power_watts"]
    # 45 W without PoE; the PSE's 30 W are allocations too: 14.6 W left to unmonitored ports,
    # booked at half (somewhere between 0 and the allocation), the allocation as the bound
    assert switch_power.labels["origin"] == "class:switch_access_48p+poe-allocation"
    assert switch_power.value == pytest.approx(45 + (30 - 15.4) / 2)
    # the class band (idle 45 W; no maximum: 1.5 x typical), widened by the allocation left
    assert bands(with_ap) == pytest.approx((45, 45 * 1.5 + 30 - 15.4))
    # without the AP declared, the switch keeps every allocation of its PSE
    world.config = world.config.model_copy(
        update={"targets": tuple(t for t in world.config.targets if t.id != "ap")}
    )
    world.tracker.configure(world.config, world.tracker.classes, world.tracker.calendars)
    alone = world.poll("cisco", MONDAY + timedelta(minutes=1), samples=switch)
    (alone_power,) = [s for s in alone if s.name == "sobriety_device_power_watts"]
    assert alone_power.value - switch_power.value == pytest.approx(15.4 / 2)


def test_a_school_week_after_hours_and_holiday_by_hand(world: World) -> None:
    """A desktop (175 W estimated) on all week, a reading every minute, Monday 00:00 to the
    next Monday 00:00 in Paris. Open: Mon, Tue, Fri 9 h, Wed 4 h (Thursday is a closure day
    in the school's .ics): 31 h; closed day: 24 h; after hours: 168 - 31 - 24 = 113 h."""
    at = MONDAY
    for minute in range(7 * 24 * 60 + 1):
        world.poll("pc", at + timedelta(minutes=minute), up=True)
    (pc,) = [t for key, t in world.tracker.totals.items() if key.target == "pc"]
    kwh = {period: j / 3.6e6 for period, j in pc.by_period.items()}
    assert kwh["open"] == pytest.approx(0.175 * 31)
    assert kwh["holiday"] == pytest.approx(0.175 * 24)
    assert kwh["after_hours"] == pytest.approx(0.175 * 113)
    site = {(s.name, s.labels.get("period")): s.value for s in world.tracker.site_samples()}
    waste_kwh = 0.175 * 113
    assert site[("sobriety_site_waste_energy_joules_total", "after_hours")] == pytest.approx(
        waste_kwh * 3.6e6
    )
    assert site[("sobriety_site_waste_carbon_grams_total", "after_hours")] == pytest.approx(
        waste_kwh * 50
    )
    assert site[("sobriety_site_waste_cost_euros_total", "after_hours")] == pytest.approx(
        waste_kwh * 0.2
    )
    assert site[("sobriety_site_waste_cost_euros_total", "holiday")] == pytest.approx(
        0.175 * 24 * 0.2
    )
    assert site[("sobriety_site_cost_euros_total", None)] == pytest.approx(0.175 * 168 * 0.2)


def test_site_series_sum_every_device_of_a_class_and_split_waste_by_period(world: World) -> None:
    """Monday 16:00 to 18:00 in Paris (open until 17:00): two desktops estimated at 175 W and
    a server measured at 100 W; the site series add up per class and source, by hand."""
    for minute in range(2 * 60 + 1):
        at = MONDAY + timedelta(hours=16, minutes=minute)
        world.poll("pc", at, up=True)
        world.poll("fed", at, up=True)  # its PDU is never polled: the class estimate
        world.poll("meter", at, 100.0)
    kwh_pcs, kwh_server = 2 * 0.175 * 2, 0.100 * 2
    got = {
        (s.name, s.labels.get("class", ""), s.labels.get("source", ""), s.labels.get("period", "")):
        s.value
        for s in world.tracker.site_samples()
        if s.labels["site"] == "school" and not s.name.endswith(("_power_watts", "_open"))
    }  # fmt: skip
    expected = {
        ("sobriety_site_energy_joules_total", "desktop_pc", "estimated", ""): kwh_pcs * 3.6e6,
        ("sobriety_site_energy_joules_total", "server_rack_2s", "measured", ""): kwh_server * 3.6e6,
        ("sobriety_site_carbon_grams_total", "desktop_pc", "", ""): kwh_pcs * 50,
        ("sobriety_site_carbon_grams_total", "server_rack_2s", "", ""): kwh_server * 50,
        ("sobriety_site_cost_euros_total", "desktop_pc", "", ""): kwh_pcs * 0.2,
        ("sobriety_site_cost_euros_total", "server_rack_2s", "", ""): kwh_server * 0.2,
        # a server is never off: no waste; the desktops' hour after 17:00 is, as assumed
        ("sobriety_site_waste_energy_joules_total", "desktop_pc", "assumed", "after_hours"):
            kwh_pcs / 2 * 3.6e6,
        ("sobriety_site_waste_carbon_grams_total", "desktop_pc", "assumed", "after_hours"):
            kwh_pcs / 2 * 50,
        ("sobriety_site_waste_cost_euros_total", "desktop_pc", "assumed", "after_hours"):
            kwh_pcs / 2 * 0.2,
        ("sobriety_site_waste_energy_joules_total", "desktop_pc", "assumed", "holiday"): 0.0,
        ("sobriety_site_waste_carbon_grams_total", "desktop_pc", "assumed", "holiday"): 0.0,
        ("sobriety_site_waste_cost_euros_total", "desktop_pc", "assumed", "holiday"): 0.0,
    }  # fmt: skip
    assert got.keys() >= expected.keys()
    assert {k: got[k] for k in expected} == pytest.approx(expected)
    opens = [s.labels for s in world.tracker.site_samples() if s.name == "sobriety_site_open"]
    assert {"site": "school"} in opens


def test_unknown_class_and_feed_are_config_errors(tmp_path: Path) -> None:
    from sobriety.errors import ConfigError

    (tmp_path / "c.yaml").write_text(
        textwrap.dedent(
            """\
            auths: {v2: {version: 2c, community: c}}
            targets:
              - {id: a, address: 127.0.0.1, auth: v2, class: desktop_pcc}
              - {id: b, address: 127.0.0.1, auth: v2, poe: {switch: nowhere, port: "1"}}
            """
        )
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "c.yaml")
    messages = [str(p) for p in caught.value.problems]
    assert any(
        "unknown device class 'desktop_pcc' (did you mean 'desktop_pc'?)" in m for m in messages
    )
    assert any("poe.switch: no target 'nowhere'" in m for m in messages)


def ods_rows(path: Path) -> list[list[str]]:
    from odf.opendocument import load
    from odf.table import TableCell, TableRow
    from odf.text import P

    doc = load(str(path))
    rows = []
    for tr in doc.spreadsheet.getElementsByType(TableRow):
        cells = []
        for cell in tr.getElementsByType(TableCell):
            cells.append("".join(str(p) for p in cell.getElementsByType(P)))
        rows.append(cells)
    return rows


def test_export_energy_csv_json_ods_sum_to_the_metrics(world: World, tmp_path: Path) -> None:
    import json

    from sobriety.cli import main
    from sobriety.reports.i18n import Lang
    from sobriety.reports.tables import ENERGY_TABLE
    from tests.tables import number, ods_cells, read_csv

    for minute in range(2 * 24 * 60 + 1):  # two days: the desktop and the metered server
        at = MONDAY + timedelta(minutes=minute)
        world.poll("pc", at, up=True)
        world.poll("meter", at, 120.0)
    world.store.flush()
    site_kwh = (
        sum(
            s.value
            for s in world.tracker.site_samples()
            if s.name == "sobriety_site_energy_joules_total"
        )
        / 3.6e6
    )
    config = str(world.tmp / "sobriety.yaml")
    outputs = {fmt: tmp_path / f"energy.{fmt}" for fmt in ("csv", "json", "ods")}
    for fmt, out in outputs.items():
        assert (
            main(["export", "energy", "--config", config, "--format", fmt, "--out", str(out)]) == 0
        )
    # French by default: headers with units, ";", decimal commas (tests/tables.py reads it)
    fr = Lang("fr")
    rows = read_csv(outputs["csv"], ENERGY_TABLE, fr)
    (site,) = [r for r in rows if r["level"] == fr("site")]
    assert number(site["kwh"]) == pytest.approx(site_kwh, abs=1e-5)
    assert number(site["kwh"]) == pytest.approx(0.175 * 48 + 0.120 * 48, abs=1e-5)
    devices = {r["target"]: r for r in rows if r["level"] == fr("device")}
    assert number(devices["meter"]["measured_share"]) == 1.0
    assert number(devices["pc"]["estimated_kwh"]) == pytest.approx(0.175 * 48, abs=1e-5)
    data = json.loads(outputs["json"].read_text(encoding="utf-8"))
    assert [r["kwh"] for r in data["rows"]] == [number(r["kwh"]) for r in rows]
    ods = ods_cells(outputs["ods"])
    assert [text for _, _, text in ods[0]] == [c.title(fr) for c in ENERGY_TABLE]
    assert data["columns"] == [c.id for c in ENERGY_TABLE]  # JSON: stable ids
    kwh = [c.id for c in ENERGY_TABLE].index("kwh")
    assert all(kind == "float" for kind, _, _ in (r[kwh] for r in ods[1:]))
    assert [float(r[kwh][1]) for r in ods[1:]] == [number(r["kwh"]) for r in rows]
    # a range: the first day only
    one = tmp_path / "day.csv"
    args = ["export", "energy", "--config", config, "--out", str(one), "--from", "2026-01-05",
            "--to", "2026-01-05", "--lang", "en"]  # fmt: skip
    assert main(args) == 0
    en = Lang("en")
    (day_site,) = [r for r in read_csv(one, ENERGY_TABLE, en) if r["level"] == en("site")]
    assert number(day_site["kwh"]) == pytest.approx((0.175 + 0.120) * 24, abs=1e-5)


def test_no_energy_is_no_booking_and_a_fraction_of_a_joule_is_booked(world: World) -> None:
    """A device at 0 W books nothing (no series of zero); half a joule is still energy, and a
    desktop's sub-joule after hours still counts as waste."""
    world.poll("meter", MONDAY, 0.0)
    world.poll("meter", MONDAY + timedelta(minutes=1), 0.0)
    assert not [key for key in world.tracker.totals if key.target == "meter"]
    later = MONDAY + timedelta(hours=20)
    world.poll("meter", later, 1.0)
    world.poll("meter", later + timedelta(seconds=0.5), 1.0)
    assert world.joules("meter") == pytest.approx(0.5)
    world.poll("pc", later, up=True)
    world.poll("pc", later + timedelta(seconds=0.004), up=True)  # 175 W estimated: 0.7 J
    waste = [s for s in world.tracker.site_samples()
             if s.name == "sobriety_site_waste_energy_joules_total"
             and s.labels["period"] == "after_hours"]  # fmt: skip
    assert [s.labels["class"] for s in waste] == ["desktop_pc"]
    assert waste[0].value == pytest.approx(0.7, abs=1e-3)


@pytest.mark.usefixtures("west_of_utc")
@pytest.mark.parametrize(
    ("utc", "day", "periods"),
    [
        # 00:30 in Paris on Tuesday: after hours, and Tuesday's energy, whatever the server's zone
        (datetime(2026, 1, 5, 23, 30, tzinfo=UTC), "2026-01-06", (0.0, 6000.0, 0.0)),
        (datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "2026-01-05", (6000.0, 0.0, 0.0)),  # open
        (datetime(2026, 1, 8, 9, 0, tzinfo=UTC), "2026-01-08", (0.0, 0.0, 6000.0)),  # closure
    ],
)
def test_a_day_s_booking_is_of_the_site_s_local_day_and_period_with_its_carbon_and_cost(
    world: World, utc: datetime, day: str, periods: tuple[float, float, float]
) -> None:
    world.poll("meter", utc, 100.0)
    world.poll("meter", utc + timedelta(minutes=1), 100.0)  # 6,000 J
    world.store.flush()
    (booked,) = world.store.energy_days()
    assert booked.day == day
    assert booked.amount.joules == pytest.approx(6000.0)
    assert booked.amount.periods == pytest.approx(periods)
    kwh = 6000.0 / 3.6e6
    assert booked.amount.gco2e == pytest.approx(kwh * 50)  # 50 g/kWh
    assert booked.amount.cost == pytest.approx(kwh * 0.2)  # 0.2 €/kWh


def test_waste_is_counted_for_every_class_that_can_be_off_and_none_for_one_never_off(
    world: World,
) -> None:
    """A server (never off) polled before a desktop: the server has no waste series, the
    desktop's after-hours energy is waste all the same."""
    evening = MONDAY + timedelta(hours=20)
    for minute in range(3):
        world.poll("meter", evening + timedelta(minutes=minute), 100.0)
        world.poll("pc", evening + timedelta(minutes=minute), up=True)
    waste = {s.labels["class"] for s in world.tracker.site_samples()
             if s.name.startswith("sobriety_site_waste_")}  # fmt: skip
    assert waste == {"desktop_pc"}


def test_the_site_is_said_open_during_its_opening_hours_only(world: World) -> None:
    def site_open() -> float:
        samples = world.tracker.site_samples()
        (sample,) = [
            s for s in samples if s.name == "sobriety_site_open" and s.labels == {"site": "school"}
        ]
        return sample.value

    world.tracker.now = lambda: MONDAY + timedelta(hours=10)
    assert site_open() == 1.0
    world.tracker.now = lambda: MONDAY + timedelta(hours=20)
    assert site_open() == 0.0


def test_a_reading_is_fresh_up_to_the_longest_gap_allowed_and_not_after(world: World) -> None:
    """Three intervals of 60 s: a reading 180 s old still counts, 181 s old it does not."""
    at = MONDAY + timedelta(hours=10)
    world.poll("meter", at, 100.0)
    world.tracker.now = lambda: at + timedelta(seconds=180)
    assert world.tracker.booked("meter") == 100.0
    world.tracker.now = lambda: at + timedelta(seconds=181)
    assert world.tracker.booked("meter") is None


def test_a_managed_device_whose_name_has_a_slash_counts_in_its_site_s_power(
    world: World,
) -> None:
    at = MONDAY + timedelta(hours=10)
    world.tracker.now = lambda: at
    info = Sample("sobriety_managed_device_info", {"target": "cisco", "device": "B1/AP-3",
                                                   "kind": "ap"}, 1.0)  # fmt: skip
    out = world.poll("cisco", at, samples=[info])
    (own,) = [s.value for s in out if s.name == "sobriety_device_power_watts"]
    (ap,) = [s.value for s in out if s.name == "sobriety_managed_device_power_watts"]
    power = [s for s in world.tracker.site_samples() if s.name == "sobriety_site_power_watts"]
    assert [(s.labels["source"], s.value) for s in power] == [("estimated", own + ap)]


def test_a_poll_says_its_energy_by_source_and_basis_its_gaps_its_power_and_its_band(
    world: World,
) -> None:
    """Two measured minutes at 100 W (6,000 J), then the class estimate (175 W, 100–600 W):
    the minute between is booked to the newer reading, estimated, (100 + 175) / 2 × 60 s."""
    at = MONDAY + timedelta(hours=10)
    tid = {"target": "meter"}
    world.poll("meter", at, 100.0)
    assert world.poll("meter", at + timedelta(minutes=1), 100.0) == [
        Sample("sobriety_device_energy_joules_total",
               {**tid, "source": "measured", "basis": "measured"}, 6000.0),
        Sample("sobriety_energy_gaps_total", tid, 0.0),
        Sample("sobriety_device_power_watts",
               {**tid, "source": "measured", "origin": "test-meter", "basis": "measured"}, 100.0),
        Sample("sobriety_device_power_band_watts", {**tid, "bound": "low"}, 100.0),
        Sample("sobriety_device_power_band_watts", {**tid, "bound": "high"}, 100.0),
    ]  # fmt: skip
    estimated = world.poll("meter", at + timedelta(minutes=2), up=True)
    assert estimated == [
        Sample("sobriety_device_energy_joules_total",
               {**tid, "source": "estimated", "basis": "assumed"}, 8250.0),
        Sample("sobriety_device_energy_joules_total",
               {**tid, "source": "measured", "basis": "measured"}, 6000.0),
        Sample("sobriety_energy_gaps_total", tid, 0.0),
        Sample("sobriety_device_power_watts", {**tid, "source": "estimated",
               "origin": "class:server_rack_2s", "basis": "assumed"}, 175.0),
        Sample("sobriety_device_power_band_watts", {**tid, "bound": "low"}, 100.0),
        Sample("sobriety_device_power_band_watts", {**tid, "bound": "high"}, 600.0),
    ]  # fmt: skip
    assert world.poll("meter", at + timedelta(minutes=3), up=False) == estimated[:3]


def test_a_controller_books_each_ap_it_manages_that_is_up_but_not_itself_nor_unknown_kinds(
    world: World,
) -> None:
    """The controller is its own AP `self` (same serial): not booked twice. `a1` is up: its
    class estimate, 8 W, booked as its own device in wifi_ap_enterprise; `a2` is down and
    `n1` is no known kind: no reading, nothing made up."""
    at = MONDAY + timedelta(hours=10)

    def info(device: str, kind: str = "ap", **labels: str) -> Sample:
        labels = {"target": "cisco", "device": device, "kind": kind, **labels}
        return Sample("sobriety_managed_device_info", labels, 1.0)

    samples = [
        Sample("sobriety_device_info", {"target": "cisco", "serial": "S0", "model": "X"}, 1.0),
        info("self", serial="S0"), info("a1", serial="S1"), info("a2", serial="S2"),
        info("n1", "phone"),
        Sample("sobriety_managed_device_up", {"target": "cisco", "device": "a2"}, 0.0),
    ]  # fmt: skip
    world.poll("cisco", at, samples=samples)
    out = world.poll("cisco", at + timedelta(minutes=1), samples=samples)
    managed = [
        s
        for s in out
        if s.name.startswith("sobriety_managed_device_")
        and s.name not in ("sobriety_managed_device_info", "sobriety_managed_device_up")
    ]
    a1 = {"target": "cisco", "device": "a1"}
    assert managed == [
        Sample("sobriety_managed_device_energy_joules_total",
               {**a1, "source": "estimated", "basis": "assumed"}, 480.0),
        Sample("sobriety_managed_device_power_watts", {**a1, "source": "estimated",
               "origin": "class:wifi_ap_enterprise", "basis": "assumed"}, 8.0),
    ]  # fmt: skip
    booked = {(k.device, k.device_class) for k in world.tracker.totals if k.target == "cisco"}
    assert booked == {("", "switch_access_48p"), ("a1", "wifi_ap_enterprise")}


def test_a_site_s_class_figures_and_a_target_s_own_apply_to_its_estimate(tmp_path: Path) -> None:
    """desktop_pc is 175 W; this school measured 120 W for it, and `pc2` has its own 90 W."""
    text = CONFIG.replace(
        "    holidays_ics: closures.ics\n",
        "    holidays_ics: closures.ics\n"
        "    classes: {desktop_pc: {typical_watts: 120, source: the school's audit}}\n",
    ) + ("  - {id: pc2, address: 127.0.0.1, auth: v2, site: school, class: desktop_pc,\n"
         "     power: {typical_watts: 90}}\n")  # fmt: skip
    world = World(tmp_path)
    (tmp_path / "sobriety.yaml").write_text(text)
    world.config = load_config(tmp_path / "sobriety.yaml")
    world.tracker = world.new_tracker()

    def watts(target: str) -> float:
        out = world.poll(target, MONDAY, up=True)
        (power,) = [s.value for s in out if s.name == "sobriety_device_power_watts"]
        return power

    assert (watts("pc"), watts("pc2")) == (120.0, 90.0)


def test_a_device_with_no_class_is_booked_in_no_class(tmp_path: Path) -> None:
    text = CONFIG + "  - {id: bare, address: 127.0.0.1, auth: v2, site: school}\n"
    world = World(tmp_path)
    (tmp_path / "sobriety.yaml").write_text(text)
    world.config = load_config(tmp_path / "sobriety.yaml")
    world.tracker = world.new_tracker()
    at = MONDAY + timedelta(hours=10)
    world.poll("bare", at, 40.0)
    world.poll("bare", at + timedelta(minutes=1), 40.0)
    assert [k.device_class for k in world.tracker.totals if k.target == "bare"] == [""]


def test_the_energy_counter_is_the_device_s_own_outlet_s(world: World) -> None:
    """Outlet 2 (listed first) counts 1 kJ a minute, outlet 3 (fed's) 3.6 kJ: fed books 3.6."""

    def pdu(minute: int) -> list[Sample]:
        return [
            Sample("sobriety_pdu_outlet_energy_joules_total", {"target": "pdu", "outlet": "2"},
                   1000.0 * minute),
            Sample("sobriety_pdu_outlet_power_watts", {"target": "pdu", "outlet": "3"}, 60.0),
            Sample("sobriety_pdu_outlet_energy_joules_total", {"target": "pdu", "outlet": "3"},
                   3600.0 * minute),
        ]  # fmt: skip

    for minute in range(2):
        world.feeds["pdu"] = pdu(minute)
        world.poll("fed", MONDAY + timedelta(minutes=minute))
    assert world.joules("fed") == 3600.0


def test_readings_the_longest_gap_apart_are_integrated_and_every_longer_gap_counted(
    world: World,
) -> None:
    at = MONDAY + timedelta(hours=10)
    world.poll("meter", at, 100.0)
    world.poll("meter", at + timedelta(seconds=180), 100.0)  # 3 intervals: still integrated
    assert world.joules("meter") == 18_000.0
    world.poll("meter", at + timedelta(hours=1), 100.0)  # a gap
    world.poll("meter", at + timedelta(hours=2), 100.0)  # another
    assert world.tracker.gaps["meter"] == 2


def test_the_last_reading_kept_says_its_basis_and_a_silent_device_s_says_nothing(
    world: World,
) -> None:
    at = MONDAY + timedelta(hours=10)
    world.poll("meter", at, 100.0)
    world.store.flush()
    kept = world.store.energy_last()["meter"]
    assert (kept.watts, kept.source, kept.origin, kept.basis) == (
        100.0, "measured", "test-meter", "measured",
    )  # fmt: skip
    world.poll("meter", at + timedelta(minutes=1), up=False)
    world.store.flush()
    silent = world.store.energy_last()["meter"]
    assert (silent.at, silent.watts, silent.source, silent.origin) == (None, None, "", "")


def test_a_feeder_s_unattributed_load_is_what_it_delivers_less_its_loads_and_is_integrated(
    world: World,
) -> None:
    """The PDU's inlet reads 500 W; it draws 10 W itself (its class) and outlet 3 feeds `fed`
    120 W: 370 W nobody declared, 44,400 J over two minutes. Polled before any of its loads
    since the start, it says nothing (their share is not known yet); a load drawing more
    than it delivers overcommits it, and the remainder is 0 W, never negative."""
    at = MONDAY + timedelta(hours=10)

    def pdu(outlet: float) -> list[Sample]:
        return [Sample("sobriety_pdu_input_power_watts", {"target": "pdu"}, 500.0),
                Sample("sobriety_pdu_outlet_power_watts", {"target": "pdu", "outlet": "3"},
                       outlet)]  # fmt: skip

    def feeder(out: list[Sample]) -> list[Sample]:
        return [s for s in out if s.name.startswith("sobriety_feeder_")]

    assert feeder(world.poll("pdu", at, samples=pdu(120.0))) == []  # `fed` not polled yet
    for minute in range(3):
        world.feeds["pdu"] = pdu(120.0)
        world.poll("fed", at + timedelta(minutes=minute))
        out = world.poll("pdu", at + timedelta(minutes=minute), samples=pdu(120.0))
    tid = {"target": "pdu"}
    assert feeder(out) == [
        Sample("sobriety_feeder_unattributed_power_watts", {**tid, "source": "measured"}, 370.0),
        Sample("sobriety_feeder_unattributed_power_band_watts", {**tid, "bound": "low"}, 370.0),
        Sample("sobriety_feeder_unattributed_power_band_watts", {**tid, "bound": "high"}, 370.0),
        Sample("sobriety_feeder_overcommitted", tid, 0.0),
        Sample("sobriety_feeder_unattributed_energy_joules_total", {**tid, "source": "measured"},
               44_400.0),
    ]  # fmt: skip
    over = world.poll("pdu", at + timedelta(minutes=3), samples=pdu(600.0))
    values = {(s.name, s.labels.get("bound")): s.value for s in feeder(over)}
    assert values[("sobriety_feeder_overcommitted", None)] == 1.0
    assert values[("sobriety_feeder_unattributed_power_watts", None)] == 0.0
    assert values[("sobriety_feeder_unattributed_power_band_watts", "low")] == 0.0


def test_a_device_silent_from_its_first_poll_has_no_gap_and_no_energy(world: World) -> None:
    out = world.poll("pc", MONDAY, up=False)
    assert out == [Sample("sobriety_energy_gaps_total", {"target": "pc"}, 0.0)]


def test_a_feeder_waits_for_its_loads_up_to_the_longest_gap_after_the_start(
    world: World,
) -> None:
    """Started at 10:00: at 10:03 (three intervals) a PDU whose load was never polled still
    says nothing; its remainder is measured, booked as such, with its own origin; loads
    taking exactly what it delivers (or within a watt of it) do not overcommit it."""
    start = MONDAY + timedelta(hours=10)
    world.tracker = EnergyTracker(world.config, load_classes(),
                                  {n: SiteCalendar.load(s) for n, s in world.config.sites.items()},
                                  world.store, world.feeds.get, now=lambda: start)  # fmt: skip

    def pdu(outlet: float) -> list[Sample]:
        return [Sample("sobriety_pdu_input_power_watts", {"target": "pdu"}, 500.0),
                Sample("sobriety_pdu_outlet_power_watts", {"target": "pdu", "outlet": "3"},
                       outlet)]  # fmt: skip

    def over(out: list[Sample]) -> list[float]:
        return [s.value for s in out if s.name == "sobriety_feeder_overcommitted"]

    assert over(world.poll("pdu", start + timedelta(seconds=180), samples=pdu(490.0))) == []
    world.feeds["pdu"] = pdu(490.0)
    world.poll("fed", start + timedelta(seconds=200))
    assert over(world.poll("pdu", start + timedelta(seconds=200), samples=pdu(490.0))) == [0.0]
    assert over(world.poll("pdu", start + timedelta(seconds=260), samples=pdu(489.5))) == [0.0]
    keys = {(k.device, k.source, k.basis) for k in world.tracker.totals if k.target == "pdu"}
    assert ("unattributed", "measured", "measured") in keys
    world.store.flush()
    assert world.store.energy_last()["pdu/unattributed"].origin == "feeder-unattributed"


def test_an_overcommitted_feeder_s_band_is_zero_at_both_ends(world: World) -> None:
    at = MONDAY + timedelta(hours=10)
    feed = [
        Sample("sobriety_pdu_input_power_watts", {"target": "pdu"}, 500.0),
        Sample("sobriety_pdu_outlet_power_watts", {"target": "pdu", "outlet": "3"}, 600.0),
    ]
    world.feeds["pdu"] = feed
    world.poll("fed", at)
    out = world.poll("pdu", at, samples=feed)
    band = {s.labels["bound"]: s.value for s in out
            if s.name == "sobriety_feeder_unattributed_power_band_watts"}  # fmt: skip
    assert band == {"low": 0.0, "high": 0.0}


def test_a_managed_device_without_a_name_is_not_booked(world: World) -> None:
    at = MONDAY + timedelta(hours=10)
    nameless = Sample("sobriety_managed_device_info", {"target": "cisco", "kind": "ap"}, 1.0)
    for minute in range(2):
        out = world.poll("cisco", at + timedelta(minutes=minute), samples=[nameless])
    assert not [s for s in out if s.name == "sobriety_managed_device_power_watts"]
    assert {k.device for k in world.tracker.totals if k.target == "cisco"} == {""}


def test_what_a_feeder_delivers_is_its_measured_output_its_inlet_less_itself_or_its_load() -> None:
    """A UPS's measured output lines (0 W is a measurement; -1 is none); a PDU's inlets less
    its own draw, never below 0 W; else a UPS's load ratio × rating, an estimate on its
    state; else it is no feeder."""

    def s(name: str, value: float, line: str = "1") -> Sample:
        return Sample(name, {"target": "f", "line": line}, value)

    out = "sobriety_ups_output_power_watts"
    assert delivered_power([s(out, 200.0), s(out, 0.0, "2")], None) == (
        200.0, "measured", "measured",
    )  # fmt: skip
    own = PowerReading.measured(12.0, "pdu")
    inlet = "sobriety_pdu_input_power_watts"
    assert delivered_power([s(inlet, 300.0), s(inlet, 200.0, "2")], own) == (
        488.0, "measured", "measured",
    )  # fmt: skip
    assert delivered_power([s(inlet, 10.0)], own) == (0.0, "measured", "measured")
    assert delivered_power([s(inlet, 10.0)], None) == (10.0, "measured", "measured")
    load = [s(out, -1.0), s("sobriety_ups_output_load_ratio", 0.25),
            s("sobriety_ups_rated_power_watts", 3000.0)]  # fmt: skip
    assert delivered_power(load, None) == (750.0, "estimated", "state")
    assert delivered_power([s("sobriety_device_uptime_seconds", 5.0)], None) is None


def test_a_site_s_figures_for_the_ap_class_apply_to_the_aps_a_controller_manages(
    tmp_path: Path,
) -> None:
    text = CONFIG.replace(
        "    holidays_ics: closures.ics\n",
        "    holidays_ics: closures.ics\n"
        "    classes: {wifi_ap_enterprise: {typical_watts: 11, source: measured at the school}}\n",
    )
    world = World(tmp_path)
    (tmp_path / "sobriety.yaml").write_text(text)
    world.config = load_config(tmp_path / "sobriety.yaml")
    world.tracker = world.new_tracker()
    info = Sample("sobriety_managed_device_info", {"target": "cisco", "device": "a1",
                                                   "kind": "ap"}, 1.0)  # fmt: skip
    out = world.poll("cisco", MONDAY, samples=[info])
    assert [s.value for s in out if s.name == "sobriety_managed_device_power_watts"] == [11.0]


def _site_series(tracker: EnergyTracker) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for s in tracker.site_samples()
        if s.name.endswith("_total") and not s.name.startswith("sobriety_site_share")
    }


def test_site_series_kept_as_bookings_are_made_are_those_summed_again_after_a_restart(
    world: World,
) -> None:
    """Two school days of a desktop, a server and a fed desktop, a reading a minute: the
    site series added to at each booking equal the sums of every key's totals (what a
    restart reads back), and none is lower after the restart."""
    for minute in range(2 * 24 * 60 + 1):
        at = MONDAY + timedelta(minutes=minute)
        world.poll("pc", at, up=True)
        world.poll("fed", at, up=True)
        world.poll("meter", at, 100.0 + minute % 7)
    kept = _site_series(world.tracker)
    assert {name for name, _ in kept} >= {
        "sobriety_site_energy_joules_total", "sobriety_site_carbon_grams_total",
        "sobriety_site_cost_euros_total", "sobriety_site_waste_energy_joules_total",
        "sobriety_site_waste_carbon_grams_total", "sobriety_site_waste_cost_euros_total",
    }  # fmt: skip
    assert kept[("sobriety_site_waste_energy_joules_total", (
        ("class", "desktop_pc"), ("period", "after_hours"), ("site", "school"),
        ("source", "assumed"),
    ))] > 0  # fmt: skip
    world.store.flush()
    world.restart()
    summed = _site_series(world.tracker)
    assert summed.keys() == kept.keys()
    assert summed == pytest.approx(kept, rel=1e-12)
    assert all(summed[k] >= kept[k] * (1 - 1e-12) for k in kept)


def test_summing_again_never_lowers_a_site_series_and_drops_waste_of_a_class_never_off() -> None:
    classes = load_classes()
    key = EnergyKey("pc", "", "school", "desktop_pc", "estimated", "assumed")
    sums = SiteSums()
    sums.book(key, "after_hours", (1000.0, 10.0, 1.0), classes)
    assert sums.waste[("school", "desktop_pc", "after_hours", "assumed")] == (1000.0, 10.0, 1.0)
    assert sums.waste[("school", "desktop_pc", "holiday", "assumed")] == (0.0, 0.0, 0.0)
    # totals a rounding lower than the bookings: the kept, higher, figures stay
    lower = Totals(999.9999, {"open": 0.0, "after_hours": 999.9999, "holiday": 0.0}, 9.9999, 0.9)
    sums.rebuild({key: lower}, classes)
    assert sums.energy[("school", "desktop_pc", "estimated")] == 1000.0
    assert sums.carbon[("school", "desktop_pc")] == 10.0
    assert sums.waste[("school", "desktop_pc", "after_hours", "assumed")] == (1000.0, 10.0, 1.0)
    # higher totals are taken; a class that is never off has no waste
    higher = Totals(2000.0, {"open": 500.0, "after_hours": 1500.0, "holiday": 0.0}, 20.0, 2.0)
    never_off = {**classes, "desktop_pc": classes["desktop_pc"].model_copy(
        update={"can_be_off": False})}  # fmt: skip
    sums.rebuild({key: higher}, never_off)
    assert sums.energy[("school", "desktop_pc", "estimated")] == 2000.0
    assert sums.cost[("school", "desktop_pc")] == 2.0
    assert sums.waste == {}

"""The radio indicator: EIRP, legal maximum, far-field bound (never in the near field),
radio state and on-time split teaching / outside by the site calendar, and the Wi-Fi outside
teaching alert, on the bundled recordings with a manual clock."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.config.load import AuthConfig, Config, SiteConfig, TargetConfig, load_config
from sobriety.config.radio import AntennaFigures, Distance
from sobriety.daemon.app import Daemon
from sobriety.daemon.lifecycle import Lifecycle
from sobriety.daemon.runtime import World
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.errors import ConfigError
from sobriety.model import CollectResult, Sample
from sobriety.radio.antennas import load_antennas
from sobriety.radio.bands import load_bands
from sobriety.radio.eirp import Where, assess
from sobriety.radio.exposure import distance_for, field_at, near_field_metres
from sobriety.radio.inputs import RadioInput
from sobriety.radio.ontime import OnTimeTracker, segments
from sobriety.snmp.snmprec import RecordedTransport, Recording, load_snmprec
from sobriety.snmp.transport import SnmpTransport
from sobriety.store import StateStore

ROOT = Path(__file__).resolve().parents[2]
AI_RADIO_STATUS = (1, 3, 6, 1, 4, 1, 14823, 2, 3, 3, 1, 2, 2, 1, 20)

CONFIG = """
settings: {listen: "127.0.0.1:9999", data_dir: state, interval: 60s}
sites:
  ecole:
    type: ecole_primaire
    timezone: Europe/Paris
    country: FR
    public_holidays: false
    opening_hours: {mon: ["08:30-16:30"], tue: ["08:30-16:30"], thu: ["08:30-16:30"],
                    fri: ["08:30-16:30"]}
    radio: {distances_m: {"ceiling AP to a seated pupil": 2.2}}
  relais:
    type: micro_antenna_site
    country: FR
auths:
  nanohd: {version: "2c", community: unifi_nanohd}
  m5: {version: "2c", community: ubiquiti-m5}
  aruba: {version: "2c", community: aruba-instant}
  cisco: {version: "2c", community: cisco_16_switch}
targets:
  - {id: cisco_16_switch, address: 127.0.0.1, port: 1161, auth: cisco, site: ecole}
  - {id: unifi_nanohd, address: 127.0.0.1, port: 1161, auth: nanohd, site: ecole,
     room: CP-A, poe: {switch: cisco_16_switch, group: "3", port: "5"}}
  - {id: aruba-instant, address: 127.0.0.1, port: 1161, auth: aruba, site: ecole,
     room: CM1}
  - {id: ubiquiti-m5, address: 127.0.0.1, port: 1161, auth: m5, site: relais}
"""


def by_name(samples: list[Sample], name: str) -> list[Sample]:
    return [s for s in samples if s.name == name]


def one(samples: list[Sample], name: str, **labels: str) -> Sample:
    found = [
        s for s in by_name(samples, name) if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


# --- the formulas, against shared reference-data.md §5 -----------------------------------


@pytest.mark.parametrize(
    ("eirp_w", "metres", "volts"),
    [(0.1, 1.0, 1.7), (1.0, 1.0, 5.5), (10.0, 1.0, 17.3), (10.0, 2.2, 7.9)],
)
def test_far_field_bound_matches_the_worked_distances(
    eirp_w: float, metres: float, volts: float
) -> None:
    assert field_at(eirp_w, metres) == pytest.approx(volts, abs=0.05)


@pytest.mark.parametrize(
    ("eirp_w", "volts", "metres"),
    [(0.1, 6.0, 0.29), (1.0, 6.0, 0.91), (1.0, 9.0, 0.61), (10.0, 6.0, 2.9), (10.0, 9.0, 1.9),
     (10.0, 41.2, 0.42)],
)  # fmt: skip
def test_threshold_distances_match_the_worked_distances(
    eirp_w: float, volts: float, metres: float
) -> None:
    assert distance_for(eirp_w, volts) == pytest.approx(metres, abs=0.03)  # as rounded there


def test_decret_levels_by_band() -> None:
    bands = load_bands()
    assert bands.reference_level([100e6]) == 28
    assert bands.reference_level([900e6]) == pytest.approx(41.2, abs=0.05)
    assert bands.reference_level([1800e6]) == pytest.approx(58.3, abs=0.05)
    assert bands.reference_level([5.5e9]) == 61
    assert bands.reference_level([5e3]) is None  # below the table: unknown, not guessed


def where(**figures: object) -> Where:
    return Where("FR", (Distance(metres=1.0),), 9.0, AntennaFigures.model_validate(figures))


def test_a_dish_gives_no_field_in_its_near_field() -> None:
    # a 0.6 m dish at 5.5 GHz: 2D²/λ = 2 x 0.36 x 5.5e9 / c ≈ 13.2 m
    radio = RadioInput("1", tx_dbm=20.0, gain_dbi=30.0, frequency_hz=5.5e9)
    a = assess(radio, where(antenna_size_m=0.6), load_bands(), load_antennas())
    assert a.exposure is not None and a.exposure.near_field_m == pytest.approx(13.2, abs=0.05)
    (at_1m,) = a.exposure.fields
    assert at_1m.volts_per_metre is None and at_1m.validity == "near_field"
    anfr = next(t for t in a.exposure.thresholds if t.level == "anfr")
    assert anfr.validity == "near_field"  # 19.2 m... no: 100 W -> 6.1 m, inside 13.2 m
    assert near_field_metres(None, [5.5e9]) is None


def test_unknown_gain_gives_no_eirp_and_says_why() -> None:
    radio = RadioInput("na", tx_dbm=26.0, channel=157, band_word="na", vendor="Ubiquiti",
                       model="UAP-nanoHD")  # fmt: skip
    a = assess(radio, where(), load_bands(), load_antennas())
    assert a.eirp_dbm is None and a.exposure is None
    assert ("eirp", "antenna_gain_unknown") in a.unknown
    assert a.placement.band is not None and a.placement.band.id == "5725-5875"
    assert a.limit_dbm == 14  # the band's maximum is known; the ratio is not
    assert a.ratio is None


def test_inventory_gain_and_cable_loss_make_the_eirp_and_the_ratio() -> None:
    # a North-American setting: 27 dBm conducted + 3 dBi on 2.4 GHz = 30 dBm, 10x 100 mW
    radio = RadioInput("1", tx_dbm=27.0, channel=6, band_word="ng")
    a = assess(radio, where(antenna_gain_dbi={"2.4ghz": 3.0}), load_bands(), load_antennas())
    assert a.gain is not None and a.gain.origin == "inventory"
    assert a.eirp_dbm == 30 and a.limit_dbm == 20 and a.ratio == pytest.approx(10.0)
    lossy = assess(radio, where(antenna_gain_dbi=3.0, cable_loss_db=2.0), load_bands(),
                   load_antennas())  # fmt: skip
    assert lossy.eirp_dbm == 28


def test_a_bare_channel_that_fits_two_bands_is_ambiguous() -> None:
    bands = load_bands()
    placed = bands.place(None, 1, "")
    assert placed.band is None and placed.reason == "band_ambiguous"
    assert sorted(round(f / 1e6) for f in placed.frequencies_hz) == [2412, 5955]
    assert bands.place(None, 1, "ng").band.id == "2400-2483.5"  # type: ignore[union-attr]
    assert bands.place(None, 15, "ng").reason == "frequency_unknown"


def test_model_table_gain_before_the_inventory() -> None:
    radio = RadioInput("1", tx_dbm=20.0, frequency_hz=5.5e9, vendor="MikroTik",
                       model="RBLHG-5nD")  # fmt: skip
    a = assess(radio, where(antenna_gain_dbi=2.0), load_bands(), load_antennas())
    assert a.gain is not None and (a.gain.origin, a.gain.dbi) == ("model", 24.5)
    assert "AREDN" in a.gain.source


def test_bad_radio_config_names_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "sobriety.yaml"
    path.write_text(
        CONFIG.replace("type: micro_antenna_site", "type: school")
        .replace("radio: {distances_m:", "radio: {anfr_level_v_per_m: 0, distances_m:")
    )  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "sites.relais" in text or "relais" in text
    assert "type" in text and "anfr_level_v_per_m" in text


# --- on-time over a simulated week ----------------------------------------------------------


def test_on_time_splits_teaching_and_outside_over_a_week(tmp_path: Path) -> None:
    """A radio on all week, polled every 5 minutes by a manual clock: teaching is exactly the
    calendar's open hours (4 days x 8 h), outside the rest; a radio that goes off books half
    the interval of the change and nothing after; an unknown state books nothing."""
    site = SiteConfig.model_validate(
        {"timezone": "Europe/Paris", "public_holidays": False,
         "opening_hours": {d: ["08:30-16:30"] for d in ("mon", "tue", "thu", "fri")}}
    )  # fmt: skip
    calendar = SiteCalendar(site)
    store = StateStore(tmp_path / "s.sqlite3")
    tracker = OnTimeTracker(store, lambda _: calendar)
    clock = ManualClock(datetime(2026, 3, 8, 23, 0, tzinfo=UTC))  # Monday 00:00 in Paris
    step, week = 300.0, 7 * 86400
    wednesday = datetime(2026, 3, 10, 23, 0, tzinfo=UTC).timestamp()  # 00:00 in Paris
    for _ in range(int(week / step) + 1):
        at = clock.now().timestamp()
        tracker.observe("ap", "on", "ecole", True, at, 900)
        tracker.observe("ap", "mixed", "ecole", at < wednesday, at, 900)
        tracker.observe("ap", "unknown", "ecole", None, at, 900)
        clock.advance(step)
    on = tracker.radios[("ap", "on")]
    assert on.teaching_s == pytest.approx(4 * 8 * 3600)
    assert on.outside_s == pytest.approx(week - 4 * 8 * 3600)
    unknown = tracker.radios[("ap", "unknown")]
    assert unknown.teaching_s == unknown.outside_s == 0
    mixed = tracker.radios[("ap", "mixed")]  # on Monday and Tuesday, off from Wednesday
    assert mixed.teaching_s == pytest.approx(2 * 8 * 3600)
    assert mixed.outside_s == pytest.approx(2 * 86400 - 2 * 8 * 3600 - step / 2)
    for radio in ("on", "mixed", "unknown"):
        tracker.save("ap", radio, "{}")
    store.flush()
    days = {d.day: d for d in store.radio_days() if d.radio == "on"}
    assert sorted(days) == [f"2026-03-{d:02d}" for d in range(9, 16)]
    assert days["2026-03-09"].teaching_s == pytest.approx(8 * 3600)
    assert days["2026-03-11"].teaching_s == 0 and days["2026-03-11"].outside_s == pytest.approx(
        86400
    )
    reloaded = OnTimeTracker(StateStore(tmp_path / "s.sqlite3"), lambda _: calendar)
    assert reloaded.radios[("ap", "on")].teaching_s == pytest.approx(on.teaching_s)


def test_a_gap_longer_than_allowed_is_not_filled(tmp_path: Path) -> None:
    calendar = SiteCalendar(SiteConfig.model_validate({"always_open": True}))
    tracker = OnTimeTracker(StateStore(tmp_path / "s.sqlite3"), lambda _: calendar)
    tracker.observe("ap", "1", "s", True, 0.0, 600)
    tracker.observe("ap", "1", "s", True, 3600.0, 600)  # an hour without a poll
    tracker.observe("ap", "1", "s", False, 3900.0, 600)  # on, then off: half of 300 s
    assert tracker.radios[("ap", "1")].teaching_s == pytest.approx(150.0)


def test_segments_split_at_the_calendar_minute() -> None:
    site = SiteConfig.model_validate({"opening_hours": {"mon": ["08:00-09:00"]}})
    start = datetime(2026, 3, 9, 7, 59, 30, tzinfo=UTC).timestamp()
    pieces = segments(SiteCalendar(site), start, start + 120)
    assert pieces == [(30.0, "outside", "2026-03-09"), (90.0, "teaching", "2026-03-09")]


# --- the daemon on the bundled recordings ----------------------------------------------------

RECORDINGS: dict[str, Recording] = {}


def recorded(target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
    if target.id not in RECORDINGS:
        name = next(ROOT.glob(f"recordings/{target.id}.snmprec*"))
        RECORDINGS[target.id] = load_snmprec(name)
    return RecordedTransport(RECORDINGS[target.id])


def aruba_radios(up: bool) -> None:
    """The Aruba Instant radios as recorded (6 up, 2 down), or all of them down."""
    recording = RECORDINGS.get("aruba-instant")
    if recording is None:
        recording = RECORDINGS["aruba-instant"] = load_snmprec(
            ROOT / "recordings" / "aruba-instant.snmprec"
        )
    for i, oid in enumerate(recording.oids):
        if oid[: len(AI_RADIO_STATUS)] == AI_RADIO_STATUS:
            recorded_values = RECORDED.setdefault(i, recording.values[i])
            recording.values[i] = recorded_values if up else 2


RECORDED: dict[int, object] = {}


@contextlib.asynccontextmanager
async def daemon_at(tmp_path: Path, when: datetime) -> AsyncIterator[tuple[Daemon, ManualClock]]:
    """The daemon on CONFIG and the bundled recordings, with a manual clock at `when`."""
    aruba_radios(True)  # the recording as recorded, whatever a test before left in it
    path = tmp_path / "sobriety.yaml"
    path.write_text(CONFIG)
    clock = ManualClock(when)
    daemon = Daemon(path, World(clock=clock, transport_factory=recorded))
    lifecycle = Lifecycle(daemon)
    await lifecycle.start()
    try:
        yield daemon, clock
    finally:
        await lifecycle.stop()


async def test_recordings_give_the_m5_eirp_and_field_and_the_nanohd_no_eirp(tmp_path: Path) -> None:
    async with daemon_at(tmp_path, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)) as (daemon, _):
        # every Wi-Fi device of the site polled here, not left to the start's scheduled polls
        for target in ("ubiquiti-m5", "cisco_16_switch", "unifi_nanohd", "aruba-instant"):
            result = await daemon.poller.poll(daemon.runtime.collectors[target])
            assert result is not None and result.up
        samples = daemon.samples()
        m5 = {"target": "ubiquiti-m5", "radio": "1"}
        eirp = one(samples, "sobriety_radio_eirp_dbm", **m5)
        assert eirp.value == 43  # 27 dBm conducted + 16 dBi from ubntRadioAntenna
        assert eirp.labels["gain_origin"] == "mib" and eirp.labels["source"] == "estimated"
        watts = one(samples, "sobriety_radio_eirp_watts", **m5).value
        assert watts == pytest.approx(10**4.3 / 1000)
        field = one(samples, "sobriety_radio_field_bound_volts_per_metre", **m5, distance="1")
        assert field.value == pytest.approx(24.5, abs=0.05)
        assert field.labels["source"] == "estimated" and field.labels["validity"] == "unchecked"
        anfr = one(samples, "sobriety_radio_threshold_distance_metres", **m5, level="anfr")
        assert anfr.value == pytest.approx(2.7, abs=0.03)
        decret = one(samples, "sobriety_radio_threshold_distance_metres", **m5, level="decret")
        assert decret.value == pytest.approx(math.sqrt(30 * watts) / 61)
        # 5860 MHz in France: the 25 mW short-range-device maximum; 43 dBm is far above it
        assert one(samples, "sobriety_radio_eirp_limit_dbm", **m5).value == 14
        assert one(samples, "sobriety_radio_eirp_limit_ratio", **m5).value > 1

        nano = [s for s in samples if s.labels.get("target") == "unifi_nanohd"]
        assert not by_name(nano, "sobriety_radio_eirp_dbm")
        assert not by_name(nano, "sobriety_radio_field_bound_volts_per_metre")
        reasons = {(s.labels["radio"], s.labels["fact"], s.labels["reason"])
                   for s in by_name(nano, "sobriety_radio_unknown_info")}  # fmt: skip
        assert {
            ("ng", "eirp", "antenna_gain_unknown"),
            ("na", "eirp", "antenna_gain_unknown"),
        } <= reasons
        # (the Aruba Instant's 6 radios up count too)
        # no radio state in the UniFi MIB walk: its PoE port delivers power, so taken as on
        on = by_name(nano, "sobriety_radio_on")
        assert {(s.labels["radio"], s.labels["basis"], s.value) for s in on} == {
            ("ng", "poe", 1.0),
            ("na", "poe", 1.0),
        }
        radios = one(samples, "sobriety_site_wifi_radios", site="ecole", state="on")
        assert radios.value == 2 + 6 and radios.labels["site_type"] == "ecole_primaire"


async def test_wifi_on_outside_teaching_fires_after_for_and_clears_when_off(tmp_path: Path) -> None:
    async with daemon_at(tmp_path, datetime(2026, 3, 9, 19, 0, tzinfo=UTC)) as (daemon, clock):
        await wifi_alert_cycle(daemon, clock)  # Monday 20:00 in Paris


async def wifi_alert_cycle(daemon: Daemon, clock: ManualClock) -> None:
    sent: list[tuple[str, str, dict[str, str]]] = []
    daemon.dispatcher.submit = lambda changes, only=None: sent.extend(  # type: ignore[method-assign]
        (c.rule.name, c.status, dict(c.labels)) for c in changes
    )
    collector = daemon.runtime.collectors["aruba-instant"]

    async def minute(radios_up: bool) -> None:
        aruba_radios(radios_up)
        await daemon.poller.poll(collector)
        await daemon.evaluate_global()
        clock.advance(60)

    for _ in range(14):
        await minute(True)
    assert not [s for s in sent if s[0] == "WifiOnOutsideTeaching"]  # pending: for 15m
    assert daemon.alerts.states  # pending
    for _ in range(3):
        await minute(True)
    firing = [s for s in sent if s[0] == "WifiOnOutsideTeaching"]
    assert [(f[1], f[2]["site"], f[2]["state"]) for f in firing] == [("firing", "ecole", "on")]
    for _ in range(2):
        await minute(False)
    statuses = [s[1] for s in sent if s[0] == "WifiOnOutsideTeaching"]
    assert statuses == ["firing", "resolved"]
    off = one(daemon.samples(), "sobriety_site_wifi_radios", site="ecole", state="off")
    assert off.value == 8
    # 6 radios on for 16 minutes outside teaching, then the half minute of the change
    on = one(daemon.samples(), "sobriety_site_wifi_on_seconds_total", site="ecole",
             period="outside")  # fmt: skip
    assert on.value == pytest.approx(6 * (16 * 60 + 30))


async def test_the_same_radios_during_teaching_fire_nothing(tmp_path: Path) -> None:
    monday_10h = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # in Paris
    async with daemon_at(tmp_path, monday_10h) as (daemon, clock):
        aruba_radios(True)
        for _ in range(20):
            await daemon.poller.poll(daemon.runtime.collectors["aruba-instant"])
            await daemon.evaluate_global()
            clock.advance(60)
        assert not [s for s in daemon.alerts.states.values() if s.rule == "WifiOnOutsideTeaching"]
        teaching = one(daemon.samples(), "sobriety_site_wifi_on_seconds_total", site="ecole",
                       period="teaching")  # fmt: skip
        assert teaching.value == pytest.approx(6 * 19 * 60)


def test_open_data_rows_leave_an_unknown_eirp_range_empty(tmp_path: Path) -> None:
    from sobriety.reports.radio import radio_opendata_rows
    from sobriety.store import RadioDay

    path = tmp_path / "sobriety.yaml"
    path.write_text(CONFIG)
    config = load_config(path)
    facts = {
        ("unifi_nanohd", "ng"): {"wifi": True, "eirp_dbm": None, "room": "CP-A"},
        ("unifi_nanohd", "na"): {"wifi": True, "eirp_dbm": None},
        ("ubiquiti-m5", "1"): {"wifi": False, "eirp_dbm": 43.0},
        ("gone", "1"): {"wifi": True, "eirp_dbm": 20.0},  # no longer configured: left out
    }
    days = [
        RadioDay("2026-03-09", "unifi_nanohd", "ng", "ecole", 3600.0, 1800.0),
        RadioDay("2026-03-10", "unifi_nanohd", "ng", "ecole", 3600.0, 0.0),
        RadioDay("2026-03-09", "ubiquiti-m5", "1", "relais", 3600.0, 3600.0),  # not Wi-Fi
    ]
    rows = radio_opendata_rows(config, facts, days)
    assert rows == [
        ["ecole", "ecole_primaire", 2, 2, 0, None, None, 2.0, 0.5],
        ["relais", "micro_antenna_site", 1, 0, 1, 43.0, 43.0, 0.0, 0.0],
    ]


def test_the_radio_report_shows_a_user_only_their_organisations(tmp_path: Path) -> None:
    from sobriety.reports.radio import radio_report
    from sobriety.reports.radiopage import render_radio_page

    path = tmp_path / "sobriety.yaml"
    path.write_text(
        "organisations:\n  nord: {name: Nord}\n  sud: {name: Sud}\n"
        "sites:\n  ecole-nord: {organisation: nord, type: ecole_primaire}\n"
        "  ecole-sud: {organisation: sud, type: ecole_primaire}\n"
        "auths:\n  v2: {version: 2c, community: public}\n"
        "targets:\n  - {id: ap-nord, address: 127.0.0.1, auth: v2, site: ecole-nord, room: CP}\n"
        "  - {id: ap-sud, address: 127.0.0.1, auth: v2, site: ecole-sud, room: CE1}\n"
    )
    config = load_config(path)
    facts = {(t, "1"): {"wifi": True, "eirp_dbm": 20.0, "room": r}
             for t, r in (("ap-nord", "CP"), ("ap-sud", "CE1"))}  # fmt: skip
    report = radio_report(config, facts, [], datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    nord = report.of_organisations({"nord"})
    assert set(nord.sites) == {"ecole-nord"} and [line.target for line in nord.lines] == ["ap-nord"]
    page = render_radio_page(nord, {})
    assert "ap-nord" in page and "ap-sud" not in page and "ecole-sud" not in page
    assert "ap-sud" in render_radio_page(report, {})


async def test_a_radio_s_saved_facts_follow_its_state_from_poll_to_poll(tmp_path: Path) -> None:
    """Most polls find a radio's facts unchanged and save the same text again; one whose
    state changed is saved as it is now, and so is a device that stops answering."""
    async with daemon_at(tmp_path, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)) as (daemon, clock):
        collector = daemon.runtime.collectors["aruba-instant"]

        async def saved_states(radios_up: bool) -> list[object]:
            aruba_radios(radios_up)
            await daemon.poller.poll(collector)
            daemon.store.flush()
            clock.advance(60)
            rows = [r for r in daemon.store.radio_rows() if r.target == "aruba-instant"]
            return sorted(str(json.loads(r.facts)["on"]) for r in rows)

        assert await saved_states(True) == ["False"] * 2 + ["True"] * 6
        assert await saved_states(True) == ["False"] * 2 + ["True"] * 6
        assert await saved_states(False) == ["False"] * 8
        assert await saved_states(False) == ["False"] * 8
        assert await saved_states(True) == ["False"] * 2 + ["True"] * 6


async def test_a_radio_whose_device_stops_answering_is_saved_as_unknown(tmp_path: Path) -> None:
    """The UniFi's radios are taken as on from its PoE port; once it stops answering (its
    port still powered) their state is unknown, and the saved facts say so."""
    async with daemon_at(tmp_path, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)) as (daemon, clock):
        await daemon.poller.poll(daemon.runtime.collectors["cisco_16_switch"])

        def saved() -> list[object]:
            daemon.store.flush()
            rows = [r for r in daemon.store.radio_rows() if r.target == "unifi_nanohd"]
            return [json.loads(r.facts)["on"] for r in sorted(rows, key=lambda r: r.radio)]

        for _ in range(2):
            await daemon.poller.poll(daemon.runtime.collectors["unifi_nanohd"])
            clock.advance(60)
        assert saved() == [True, True]
        target = daemon.radio.targets["unifi_nanohd"]
        for _ in range(2):
            daemon.radio.observe(target, CollectResult(target.id, up=False), clock.now())
            clock.advance(60)
            assert saved() == [None, None]

"""Reboots against uptime wraps, power-on time, age sources, warranty, embodied carbon."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.config.load import TargetConfig
from sobriety.energy.classes import load_classes
from sobriety.lifetime.tracker import (
    WRAP_SECONDS,
    LifetimeTracker,
    age_of,
    is_wrap,
    step,
    warranty_end,
)
from sobriety.model import CollectResult, Sample
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmp.types import Tag
from sobriety.store import LifetimeState, StateStore

ROOT = Path(__file__).resolve().parents[2]
PROFILES = load_profiles([builtin_profile_dir()])
FRESH = LifetimeState("t", None, None, 0, 0.0, None, 0)
T0 = 1_767_225_600.0  # 2026-01-01 UTC


def run(polls: list[tuple[float, float | None, float | None]]) -> LifetimeState:
    state = FRESH
    for at, uptime, boots in polls:
        state = step(state, uptime, boots, at, tolerance=30.0)
    return state


def test_a_real_wrap_is_not_a_reboot() -> None:
    old = WRAP_SECONDS - 100  # 497 days and a bit, 100 s before the wrap
    state = run([(T0, old, None), (T0 + 300, 200.0, None)])  # 300 s later: 200 s past 2^32 cs
    assert (state.boots, state.wraps) == (0, 1)
    assert state.power_on_seconds == pytest.approx(300.0)
    assert is_wrap(old, 200.0, 300.0, 30.0)


def test_a_real_reboot_is_one() -> None:
    state = run([(T0, 1_000_000.0, None), (T0 + 300, 50.0, None)])
    assert (state.boots, state.wraps) == (1, 0)
    assert state.power_on_seconds == pytest.approx(50.0)  # up 50 s since the reboot
    # an uptime that drops near the wrap point, but not where the wall clock says: a reboot
    near = run([(T0, WRAP_SECONDS - 100, None), (T0 + 300, 5_000.0, None)])
    assert (near.boots, near.wraps) == (1, 0)


def test_a_timeout_between_two_polls_is_not_a_reboot() -> None:
    state = run([(T0, 1_000.0, 7), (T0 + 60, None, None), (T0 + 120, 1_120.0, 7)])
    assert state.boots == 0
    assert state.power_on_seconds == pytest.approx(120.0)


def test_engine_boots_going_up_is_a_reboot() -> None:
    state = run([(T0, 1_000.0, 7), (T0 + 60, 1_060.0, 8)])  # uptime source kept going
    assert state.boots == 1
    same = run([(T0, 1_000.0, 7), (T0 + 60, 1_060.0, 7)])
    assert same.boots == 0


def test_engine_boots_rising_at_a_wrap_point_is_a_reboot_not_a_wrap() -> None:
    """The uptime falls exactly as a wrap would, but snmpEngineBoots went up: the agent
    restarted (a reboot), and a wrap is not counted on top of it."""
    old = WRAP_SECONDS - 100
    state = run([(T0, old, 7), (T0 + 300, 200.0, 8)])
    assert (state.boots, state.wraps) == (1, 0)
    assert state.power_on_seconds == pytest.approx(200.0)  # up 200 s since the reboot


def test_power_on_after_a_reboot_is_at_most_the_wall_time_elapsed() -> None:
    """After a reboot the device was up for its uptime, but never longer than the time since
    the last poll (an uptime source that kept counting while the engine restarted)."""
    state = run([(T0, 1_000.0, 7), (T0 + 60, 1_060.0, 8)])
    assert state.boots == 1
    assert state.power_on_seconds == pytest.approx(60.0)  # not the 1,060 s of uptime


def test_a_wrap_is_within_the_tolerance_inclusive_and_an_equal_uptime_is_never_one() -> None:
    old = WRAP_SECONDS - 100
    # 300 s later, 200 s past 2^32 cs: 30 s either side is the poll's slack, 30 included
    assert is_wrap(old, 170.0, 300.0, 30.0) and is_wrap(old, 230.0, 300.0, 30.0)
    assert not is_wrap(old, 231.0, 300.0, 30.0) and not is_wrap(old, 169.0, 300.0, 30.0)
    # an uptime that did not move over exactly one wrap period is not a wrap: it did not fall
    assert not is_wrap(1_000.0, 1_000.0, WRAP_SECONDS, 30.0)


def test_power_on_time_and_boots_survive_a_restart(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.sqlite3")
    tracker = LifetimeTracker(store)
    target = TargetConfig(id="t", address="127.0.0.1", auth="a")
    for i, uptime in enumerate([100.0, 400.0, 10.0]):  # a reboot at the third poll
        result = CollectResult("t", True, samples=[
            Sample("sobriety_device_uptime_seconds", {"target": "t"}, uptime)
        ])  # fmt: skip
        tracker.observe(target, None, result, datetime.fromtimestamp(T0 + 300 * i, UTC), T0, 30)
    store.close()
    again = LifetimeTracker(StateStore(tmp_path / "s.sqlite3"))
    assert again.states["t"].boots == 1
    assert again.states["t"].power_on_seconds == pytest.approx(300 + 10)


def collect(
    name: str, edit: dict[tuple[int, ...], tuple[Tag, object]] | None = None
) -> list[Sample]:
    clock = ManualClock()
    recording = load_snmprec(next((ROOT / "recordings").glob(f"{name}.snmprec*")), clock=clock)
    for oid, (tag, value) in (edit or {}).items():
        if oid in recording.oids:
            i = recording.oids.index(oid)
            recording.tags[i], recording.values[i] = tag, value  # type: ignore[assignment]
        else:
            import bisect

            i = bisect.bisect_left(recording.oids, oid)
            recording.oids.insert(i, oid)
            recording.tags.insert(i, tag)
            recording.values.insert(i, value)  # type: ignore[arg-type]
    coll = SnmpCollector(TargetRef(name, "snmp"), RecordedTransport(recording), PROFILES, clock)
    import asyncio

    result = asyncio.run(coll.collect())
    assert result.up
    return result.samples


def test_age_sources_in_order_on_the_recordings() -> None:
    plain = TargetConfig(id="a", address="127.0.0.1", auth="a")
    # arista_eos: entPhysicalMfgDate is all zeros (unknown): first seen is the source
    arista = collect("arista_eos")
    assert age_of(plain, arista, T0).source == "first_seen"  # type: ignore[union-attr]
    assert age_of(plain, arista, None) is None
    # the same device with a chassis date: 2019-03-15 10:00:00 UTC
    made = bytes.fromhex("07e3030f0a000000")
    dated = collect(
        "arista_eos", {(1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 17, 1): (Tag.OCTET_STRING, made)}
    )
    age = age_of(plain, dated, T0)
    assert age is not None and (age.source, age.start) == ("entity_mfg_date", 1552644000.0)
    # the inventory wins over what the device says
    bought = TargetConfig(id="a", address="127.0.0.1", auth="a", purchased=date(2018, 9, 1))
    inventory = age_of(bought, dated, T0)
    assert inventory is not None and inventory.source == "inventory"
    # apc_smx750i carries no date of manufacture; with one (mm/dd/yy) the vendor date counts
    apc = collect("apc_smx750i")
    assert age_of(plain, apc, T0).source == "first_seen"  # type: ignore[union-attr]
    ups = collect(
        "apc_smx750i",
        {(1, 3, 6, 1, 4, 1, 318, 1, 1, 1, 1, 2, 2, 0): (Tag.OCTET_STRING, b"03/15/19")},
    )
    vendor = age_of(plain, ups, T0)
    assert vendor is not None and vendor.source == "manufacturer"
    assert datetime.fromtimestamp(vendor.start, UTC).date() == date(2019, 3, 15)


def test_warranty_and_embodied_carbon() -> None:
    months = TargetConfig(
        id="a", address="127.0.0.1", auth="a", purchased=date(2024, 11, 30), warranty_months=36
    )
    assert datetime.fromtimestamp(warranty_end(months) or 0, UTC).date() == date(2027, 11, 30)
    short = TargetConfig(
        id="a", address="127.0.0.1", auth="a", purchased=date(2024, 1, 31), warranty_months=1
    )
    assert datetime.fromtimestamp(warranty_end(short) or 0, UTC).date() == date(2024, 2, 29)
    dated = TargetConfig(id="a", address="127.0.0.1", auth="a", warranty_end=date(2027, 1, 31))
    assert datetime.fromtimestamp(warranty_end(dated) or 0, UTC).date() == date(2027, 1, 31)
    laptop = load_classes()["laptop"]  # 181 kgCO2e over 5 years (BZ-FAC, ICO2)
    target = TargetConfig.model_validate(
        {
            "id": "a",
            "address": "127.0.0.1",
            "auth": "a",
            "class": "laptop",
            "purchased": "2024-01-01",
        }
    )
    tracker = LifetimeTracker.__new__(LifetimeTracker)
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    at = start + 2.5 * 365.25 * 86_400
    samples = {s.name: s.value for s in tracker.samples(target, laptop, [], FRESH, at, None)}
    assert samples["sobriety_device_embodied_carbon_grams"] == 181_000
    assert samples["sobriety_device_embodied_carbon_amortised_grams"] == pytest.approx(90_500)
    assert samples["sobriety_device_age_seconds"] == pytest.approx(2.5 * 365.25 * 86_400)


def test_a_new_device_starts_with_no_wrap_nor_boot_and_its_engine_boots_count(
    tmp_path: Path,
) -> None:
    tracker = LifetimeTracker(StateStore(tmp_path / "s.sqlite3"))
    device = TargetConfig.model_validate({"id": "t", "address": "127.0.0.1", "auth": "a"})

    def poll(at: float, uptime: float, engine_boots: float) -> dict[str, float]:
        samples = [
            Sample("sobriety_device_uptime_seconds", {"target": "t"}, uptime),
            Sample("sobriety_device_snmp_engine_boots", {"target": "t"}, engine_boots),
        ]
        out = tracker.observe(device, None, CollectResult("t", True, samples=samples),
                              datetime.fromtimestamp(at, UTC), None, 30.0)  # fmt: skip
        return {s.name: s.value for s in out}

    first = poll(T0, 1000.0, 5.0)
    assert first["sobriety_device_uptime_wraps_total"] == 0
    assert first["sobriety_device_boots_total"] == 0
    # uptime goes on rising, but the engine booted again: a reboot (snmpEngineBoots)
    again = poll(T0 + 60, 1060.0, 6.0)
    assert again["sobriety_device_boots_total"] == 1


def test_power_on_time_and_wraps_add_up_over_many_polls() -> None:
    start = WRAP_SECONDS - 100
    polls = [(T0, start, None), (T0 + 300, 200.0, None), (T0 + 600, 500.0, None)]
    later = T0 + 600 + WRAP_SECONDS - 40  # 497 days on, 40 s short of a whole period
    polls += [(later, 460.0, None), (later + 60, 520.0, None)]
    state = run(polls)  # a wrap, a steady poll, a second wrap, a steady poll
    assert (state.boots, state.wraps) == (0, 2)
    assert state.power_on_seconds == pytest.approx(300 + 300 + (WRAP_SECONDS - 40) + 60)


def test_an_uptime_that_did_not_move_is_no_reboot() -> None:
    state = run([(T0, 1_000.0, 7), (T0 + 60, 1_000.0, 7)])  # an agent caching sysUpTime
    assert (state.boots, state.power_on_seconds) == (0, 0.0)


def test_a_poll_dated_before_the_last_adds_no_time_even_after_a_reboot() -> None:
    state = run([(T0, 1_000.0, None), (T0 - 60, 30.0, None)])  # the clock stepped back
    assert (state.boots, state.power_on_seconds) == (1, 0.0)


def test_a_poll_without_uptime_keeps_the_uptime_and_takes_the_engine_boots_it_has() -> None:
    state = run([(T0, 1_000.0, 7), (T0 + 60, None, 8)])
    assert (state.uptime, state.at, state.engine_boots, state.boots) == (1_000.0, T0, 8, 0)
    kept = run([(T0, 1_000.0, 7), (T0 + 60, None, None)])
    assert (kept.uptime, kept.engine_boots) == (1_000.0, 7)


def test_the_tracker_says_age_and_embodied_carbon_of_a_poll_without_uptime(
    tmp_path: Path,
) -> None:
    tracker = LifetimeTracker(StateStore(tmp_path / "s.sqlite3"))
    device = TargetConfig.model_validate({"id": "t", "address": "127.0.0.1", "auth": "a"})
    cls = load_classes()["desktop_pc"]
    out = tracker.observe(device, cls, CollectResult("t", True, samples=[]),
                          datetime.fromtimestamp(T0, UTC), T0 - 86_400, 30.0)  # fmt: skip
    found = {s.name: s for s in out}
    assert found["sobriety_device_embodied_carbon_grams"].value == 204_000  # classes.yaml
    age = found["sobriety_device_age_seconds"]
    assert (age.labels["source"], age.value) == ("first_seen", 86_400)


def test_a_device_s_expected_end_of_life_is_its_start_plus_its_service_life() -> None:
    laptop = load_classes()["laptop"]
    assert laptop.end_of_life is not None
    years = laptop.end_of_life.service_life_years
    assert years is not None
    target = TargetConfig.model_validate(
        {"id": "a", "address": "127.0.0.1", "auth": "a", "purchased": "2024-01-01"}
    )
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    tracker = LifetimeTracker.__new__(LifetimeTracker)
    at = start + 12 * 365.25 * 86_400  # 12 years on: past its 5-year accounting period
    samples = {s.name: s.value for s in tracker.samples(target, laptop, [], FRESH, at, None)}
    expected = samples["sobriety_device_expected_end_of_life_timestamp_seconds"]
    assert expected == start + years * 365.25 * 86_400
    assert samples["sobriety_device_embodied_carbon_amortised_grams"] == 181_000  # all of it
    # bought today: nothing amortised yet, not one second's worth
    fresh = {s.name: s.value for s in tracker.samples(target, laptop, [], FRESH, start, None)}
    assert fresh["sobriety_device_embodied_carbon_amortised_grams"] == 0.0


def test_boots_add_up_over_many_reboots() -> None:
    state = run([(T0, 1_000.0, 7), (T0 + 60, 30.0, 8), (T0 + 120, 20.0, 9)])
    assert state.boots == 2


def test_a_poll_that_lacks_engine_boots_keeps_the_last_known_for_the_next() -> None:
    state = run([(T0, 1_000.0, 7), (T0 + 60, 1_060.0, None), (T0 + 120, 1_120.0, 8)])
    assert (state.boots, state.engine_boots) == (1, 8)  # 7 then 8: the agent restarted


def test_the_tracker_s_samples_name_each_figure_of_a_device() -> None:
    target = TargetConfig.model_validate(
        {"id": "a", "address": "127.0.0.1", "auth": "a", "purchased": "2024-01-01",
         "warranty_months": 36}
    )  # fmt: skip
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    end = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    at = start + 86_400
    state = LifetimeState("a", 100.0, at, 2, 5_000.0, None, 1)
    tracker = LifetimeTracker.__new__(LifetimeTracker)
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value
             for s in tracker.samples(target, None, [], state, at, None)}  # fmt: skip
    me, inventory = (("target", "a"),), (("source", "inventory"), ("target", "a"))
    assert found == {
        ("sobriety_device_boots_total", me): 2.0,
        ("sobriety_device_power_on_seconds_total", me): 5_000.0,
        ("sobriety_device_uptime_wraps_total", me): 1.0,
        ("sobriety_device_age_seconds", inventory): 86_400.0,
        ("sobriety_device_life_start_timestamp_seconds", inventory): start,
        ("sobriety_device_warranty_end_timestamp_seconds", me): end,
        ("sobriety_device_warranty_left_seconds", me): end - at,
    }
    before = {s.name: s.value for s in tracker.samples(target, None, [], state, start - 60, None)}
    assert before["sobriety_device_age_seconds"] == 0.0  # never a negative age


def test_an_age_from_first_seen_gives_no_end_of_life_nor_amortised_carbon() -> None:
    laptop = load_classes()["laptop"]
    target = TargetConfig.model_validate({"id": "a", "address": "127.0.0.1", "auth": "a"})
    tracker = LifetimeTracker.__new__(LifetimeTracker)
    names = {s.name for s in tracker.samples(target, laptop, [], FRESH, T0, T0 - 86_400)}
    assert "sobriety_device_age_seconds" in names  # seen for a day: said, with its source
    assert "sobriety_device_expected_end_of_life_timestamp_seconds" not in names
    assert "sobriety_device_embodied_carbon_amortised_grams" not in names


def test_the_manufacture_date_is_the_chassis_or_stack_s_not_a_module_s() -> None:
    def entity(index: str, cls: str, made: float) -> list[Sample]:
        return [
            Sample("sobriety_entity_info", {"target": "a", "entity": index, "class": cls}, 1.0),
            Sample("sobriety_entity_manufacture_timestamp_seconds",
                   {"target": "a", "entity": index}, made),
        ]  # fmt: skip

    target = TargetConfig.model_validate({"id": "a", "address": "127.0.0.1", "auth": "a"})
    module_first = [*entity("9", "module", T0 - 100), *entity("1", "stack", T0 - 200)]
    age = age_of(target, module_first, None)
    assert age is not None and (age.start, age.source) == (T0 - 200, "entity_mfg_date")
    assert age_of(target, entity("9", "module", T0 - 100), None) is None

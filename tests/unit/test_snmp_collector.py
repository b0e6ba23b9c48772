"""The SNMP collector over the recorded transport: request planning, caching, failures as data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.errors import AuthFailed, TargetTimeout
from sobriety.model import CollectResult
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmp.types import Oid

ROOT = Path(__file__).resolve().parents[2]
PROFILES = load_profiles([builtin_profile_dir()])


def collector(
    name: str, clock: ManualClock, **kwargs: object
) -> tuple[SnmpCollector, RecordedTransport]:
    path = next((ROOT / "recordings").glob(f"{name}.snmprec*"))
    transport = RecordedTransport(load_snmprec(path, clock=clock), **kwargs)  # type: ignore[arg-type]
    return SnmpCollector(
        TargetRef(name, "snmp", "school", "switch_access_48p"), transport, PROFILES, clock
    ), transport


async def test_steady_state_poll_is_one_get_plus_state_walks() -> None:
    clock = ManualClock()
    coll, _ = collector("junos_ex", clock)
    first = await coll.collect()
    assert first.up
    assert (first.stats.get, first.stats.getnext) == (2, 1)  # identify, probes, scalars
    clock.advance(60)
    second = await coll.collect()
    assert second.up
    assert (second.stats.get, second.stats.getnext) == (1, 0)
    assert second.stats.getbulk <= first.stats.getbulk
    # identity values are kept between reads
    info = [s for s in second.samples if s.name == "sobriety_device_info"]
    assert info[0].labels["sysobjectid"] == "1.3.6.1.4.1.2636.1.1.1.4.131.2"
    assert {s.name for s in first.samples} == {s.name for s in second.samples}


async def test_identity_is_reread_after_a_day() -> None:
    clock = ManualClock()
    coll, _ = collector("arista_eos", clock)
    first = await coll.collect()
    clock.advance(3600)
    hour = await coll.collect()
    clock.advance(86_400)
    day = await coll.collect()
    assert hour.stats.getbulk < first.stats.getbulk  # ENTITY table not re-walked
    # a day later it is walked again (remembered table sizes may save a request or two)
    assert day.stats.getbulk > hour.stats.getbulk
    assert day.stats.getbulk >= first.stats.getbulk - 3
    entity = [s for s in hour.samples if s.name == "sobriety_entity_info"]
    assert entity and all(
        s.labels["class"] in {"chassis", "stack", "module", "powerSupply", "battery"}
        for s in entity
    )


async def test_timeout_makes_the_target_down_with_a_reason() -> None:
    clock = ManualClock()
    dead = True

    def fail(kind: str, oids: Sequence[Oid]) -> Exception | None:
        return TargetTimeout("no answer") if dead else None

    coll, _ = collector("junos_ex", clock, fail=fail)
    result = await coll.collect()
    assert not result.up
    assert result.reason == "timeout"
    assert result.samples == []
    assert result.issues[0].code == "timeout"
    dead = False
    clock.advance(60)
    back = await coll.collect()
    assert back.up
    assert back.stats.getnext == 1  # came back from down: re-identified


async def test_auth_failure_mid_poll_is_reported_as_such() -> None:
    clock = ManualClock()

    def fail(kind: str, oids: Sequence[Oid]) -> Exception | None:
        return AuthFailed("wrongDigest") if kind == "getbulk" else None

    coll, _ = collector("eaton-93e-80", clock, fail=fail)
    result = await coll.collect()
    assert (result.up, result.reason) == (False, "auth_failed")


async def test_snmpv1_agent_is_walked_with_getnext() -> None:
    clock = ManualClock()
    coll, _ = collector("junos_ex", clock, version="1")
    result = await coll.collect()
    assert result.up
    assert result.stats.getbulk == 0 and result.stats.getnext > 1
    watts = {
        s.labels["group"]: s.value
        for s in result.samples
        if s.name == "sobriety_poe_consumption_watts"
    }
    assert watts == {"1": 248, "2": 137}


async def test_reboot_triggers_reidentification() -> None:
    clock = ManualClock()
    coll, _ = collector("junos_ex", clock)
    await coll.collect()
    assert coll.state.identity_read_at is not None
    coll.state.last_uptime = 10**12  # pretend the device had been up far longer
    clock.advance(60)
    await coll.collect()
    assert coll.state.identity_read_at is None  # next poll re-reads identity
    clock.advance(60)
    again = await coll.collect()
    assert again.stats.getnext == 1


@pytest.mark.parametrize("name", ["arubaos-cx_6300_vsf_stack", "apc_ap8959eu3"])
async def test_missing_sysuptime_is_not_down(name: str) -> None:
    result = await collector(name, ManualClock())[0].collect()
    assert result.up
    assert not [s for s in result.samples if s.name == "sobriety_device_uptime_seconds"]


async def test_inventory_is_reread_when_entlastchangetime_moves() -> None:
    clock = ManualClock()
    coll, transport = collector("cisco_16_switch", clock)
    entity = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1)

    def entity_walks() -> int:
        return sum(1 for e in transport.log if e.kind == "getbulk" and e.oids[0][:10] == entity)

    await coll.collect()
    first = entity_walks()
    assert first > 0
    clock.advance(60)
    steady = await coll.collect()
    assert entity_walks() == first  # unchanged marker: the inventory is not walked again
    assert any(s.name == "sobriety_entity_info" for s in steady.samples)  # but still shown
    # a module is swapped: the agent's entLastChangeTime moves
    rec = transport.recording
    i = rec.oids.index((1, 3, 6, 1, 2, 1, 47, 1, 4, 1, 0))
    rec.values[i] = int(rec.values[i] or 0) + 500  # type: ignore[call-overload]
    serials = rec.oids.index(
        next(o for o in rec.oids if o[:12] == (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11))
    )
    rec.values[serials] = b"NEWSERIAL1"
    clock.advance(60)
    changed = await coll.collect()
    assert entity_walks() > first
    assert any(
        s.labels.get("serial") == "NEWSERIAL1"
        for s in changed.samples
        if s.name == "sobriety_entity_info"
    )
    clock.advance(60)
    after = await coll.collect()
    walks = entity_walks()
    assert any(s.labels.get("serial") == "NEWSERIAL1" for s in after.samples)
    clock.advance(60)
    await coll.collect()
    assert entity_walks() == walks  # settled again


async def test_sensor_rows_are_read_by_get_between_identity_reads() -> None:
    clock = ManualClock()
    coll, transport = collector("arubaos-cx_6300_vsf_stack", clock)
    sensors = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)
    first = await coll.collect()
    clock.advance(60)
    start = len(transport.log)
    steady = await coll.collect()
    asked = transport.log[start:]
    assert not [e for e in asked if e.kind == "getbulk" and e.oids[0][:10] == sensors]
    got = {o for e in asked if e.kind == "get" for o in e.oids if o[:10] == sensors}
    # value and status of the 12 supply and 6 temperature sensors, none of the 24 others
    assert len(got) == 2 * 18
    assert steady.stats.get == 1  # the whole steady poll: one GET of 38 varbinds
    power = [s for s in steady.samples if s.name == "sobriety_device_power_watts"]
    assert [(s.labels["origin"], s.value) for s in power] == [("entity-sensor", 709.0)]
    assert {s.name for s in steady.samples} == {s.name for s in first.samples}


ENGINE_OIDS = {(1, 3, 6, 1, 6, 3, 10, 2, 1, 2, 0), (1, 3, 6, 1, 6, 3, 10, 2, 1, 3, 0)}


async def test_oids_an_agent_hangs_on_are_split_out_and_dropped_for_a_day() -> None:
    clock = ManualClock()
    asked: list[Oid] = []

    def hang(kind: str, oids: Sequence[Oid]) -> Exception | None:
        asked.extend(oids)
        return TargetTimeout("no answer") if ENGINE_OIDS & set(oids) else None

    coll, _ = collector("junos_ex", clock, fail=hang)
    first = await coll.collect()
    assert first.up  # the first poll already: the hanging OIDs are found and left out
    dropped = [i.detail for i in first.issues if i.code == "oid_dropped"]
    assert [d.split(" ")[0] for d in dropped] == [
        "1.3.6.1.6.3.10.2.1.2.0",
        "1.3.6.1.6.3.10.2.1.3.0",
    ]
    assert "(system/engine_boots): timeout; asked again after " in dropped[0]
    clock.advance(60)
    asked.clear()
    second = await coll.collect()
    assert second.up and second.stats.timeouts == 0
    assert not ENGINE_OIDS & set(asked)
    clock.advance(86_400)  # a day later they are asked again (and still hang)
    asked.clear()
    third = await coll.collect()
    assert third.up
    assert set(asked) >= ENGINE_OIDS
    assert len(coll.state.health.dropped) == 2


async def test_genErr_on_one_oid_costs_only_that_oid() -> None:
    from sobriety.errors import AgentError

    clock = ManualClock()
    uptime = (1, 3, 6, 1, 2, 1, 1, 3, 0)

    def gen_err(kind: str, oids: Sequence[Oid]) -> Exception | None:
        return AgentError("agent error genErr at varbind 1") if uptime in oids else None

    coll, _ = collector("junos_ex", clock, fail=gen_err)
    result = await coll.collect()
    assert result.up
    (dropped,) = [i.detail for i in result.issues if i.code == "oid_dropped"]
    assert dropped.startswith("1.3.6.1.2.1.1.3.0 (system/sysuptime): agent_error")
    (uptime_sample,) = [s for s in result.samples if s.name == "sobriety_device_uptime_seconds"]
    assert uptime_sample.value == 23_761_821.1  # hrSystemUptime, asked beside it, still read


async def test_a_table_walk_that_fails_on_a_live_agent_is_left_out() -> None:
    clock = ManualClock()
    pse = (1, 3, 6, 1, 2, 1, 105, 1, 3, 1, 1)

    def fail_pse(kind: str, oids: Sequence[Oid]) -> Exception | None:
        hit = kind == "getbulk" and any(o[: len(pse)] == pse for o in oids)
        return TargetTimeout("no answer") if hit else None

    coll, _ = collector("junos_ex", clock, fail=fail_pse)
    result = await coll.collect()
    assert result.up
    assert any("pethMainPseTable" in i.detail for i in result.issues if i.code == "oid_dropped")
    assert not [s for s in result.samples if s.name == "sobriety_poe_budget_watts"]
    assert [s for s in result.samples if s.name == "sobriety_device_uptime_seconds"]


async def test_a_device_that_dies_mid_poll_drops_nothing() -> None:
    clock = ManualClock()
    calls = {"n": 0}

    def dies(kind: str, oids: Sequence[Oid]) -> Exception | None:
        calls["n"] += 1
        return TargetTimeout("no answer") if calls["n"] > 2 else None

    coll, _ = collector("junos_ex", clock, fail=dies)
    result = await coll.collect()
    assert (result.up, result.reason) == (False, "timeout")
    assert not coll.state.health.dropped


@pytest.mark.parametrize(
    "name", sorted(p.name.split(".snmprec")[0] for p in (ROOT / "recordings").glob("*.snmprec*"))
)
async def test_steady_polls_from_converted_identity_equal_full_reads(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between identity reads the collector keeps identity columns converted, not raw: a
    steady poll says exactly what a poll reading and converting everything again, without
    any cache, says."""
    from sobriety.collectors import snmp
    from sobriety.collectors.evaluate import evaluate
    from sobriety.collectors.snmp import PollLimits

    async def uncached(coll: SnmpCollector) -> CollectResult:
        with monkeypatch.context() as patch:
            patch.setattr(snmp, "evaluate", lambda p, raw, target, cache: evaluate(p, raw, target))
            return await coll.collect()

    clock = ManualClock()
    cached, _ = collector(name, clock)
    path = next((ROOT / "recordings").glob(f"{name}.snmprec*"))
    rereading = SnmpCollector(
        TargetRef(name, "snmp", "school", "switch_access_48p"),
        RecordedTransport(load_snmprec(path, clock=clock)),
        PROFILES,
        clock,
        PollLimits(identity_ttl=0.0),
    )
    await cached.collect()
    await uncached(rereading)
    assert not cached.state.identity.columns  # identity columns live converted only
    clock.advance(60)
    steady, full = await cached.collect(), await uncached(rereading)
    assert steady.stats.getbulk <= full.stats.getbulk
    assert sorted(map(repr, steady.samples)) == sorted(map(repr, full.samples))
    assert sorted(map(repr, steady.issues)) == sorted(map(repr, full.issues))


async def test_a_moved_marker_rereads_its_table_and_keeps_the_others() -> None:
    clock = ManualClock()
    coll, transport = collector("cisco_16_switch", clock)
    await coll.collect()
    clock.advance(60)
    before = await coll.collect()
    rec = transport.recording
    i = rec.oids.index((1, 3, 6, 1, 2, 1, 47, 1, 4, 1, 0))
    rec.values[i] = int(rec.values[i] or 0) + 500  # type: ignore[call-overload]
    clock.advance(60)
    after = await coll.collect()

    def series(result: CollectResult) -> list[tuple[str, list[tuple[str, str]]]]:
        return sorted((s.name, sorted(s.labels.items())) for s in result.samples)

    # the ENTITY table was walked again; every other table's series (PoE ports with their
    # allocations, sensors, device facts) is still there: none lost its identity data
    assert series(after) == series(before)


async def test_an_identity_read_cut_by_the_budget_is_done_again_next_poll() -> None:
    from sobriety.collectors.snmp import PollLimits

    clock = ManualClock()
    path = next((ROOT / "recordings").glob("arista_eos.snmprec*"))
    transport = RecordedTransport(load_snmprec(path, clock=clock))
    limits = PollLimits(max_varbinds=300)
    coll = SnmpCollector(TargetRef("arista_eos", "snmp"), transport, PROFILES, clock, limits)
    cut = await coll.collect()
    assert cut.up and any(i.code == "varbind_cap" for i in cut.issues)
    assert coll.state.identity_read_at is None  # not a day with half an inventory
    coll.max_varbinds = 100_000
    clock.advance(60)
    again = await coll.collect()
    assert again.stats.getnext == 1  # identified again
    assert not any(i.code == "varbind_cap" for i in again.issues)
    assert coll.state.identity_read_at is not None
    assert any(s.name == "sobriety_entity_info" for s in again.samples)


async def test_two_devices_of_one_model_share_their_cached_index_suffixes_and_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fleet holds one tuple per index suffix and one string per port or part name
    across its devices' cached identity columns; the shared suffixes stay bounded."""
    from sobriety.collectors import evaluate

    clock = ManualClock()
    one, _ = collector("arista_eos", clock)  # 226 cached identity values
    two, _ = collector("arista_eos", clock)
    await one.collect()
    await two.collect()
    columns = one.state.evaluated.columns
    assert columns
    pairs = 0
    for key, mine in columns.items():
        theirs = two.state.evaluated.columns[key]
        for a, b in zip(mine.suffixes, theirs.suffixes, strict=True):
            assert a == b and a is b
            pairs += 1
        for a, b in zip(mine.values, theirs.values, strict=True):
            assert a == b
            if isinstance(a, str):
                assert a is b
    assert pairs
    monkeypatch.setattr(evaluate, "_SUFFIXES", {})
    monkeypatch.setattr(evaluate, "MAX_SHARED_SUFFIXES", 2)
    for n in range(5):
        assert evaluate._shared_suffix((n,)) == (n,)
    assert len(evaluate._SUFFIXES) == 2


async def test_two_devices_of_one_model_share_their_identity_tuples_and_kept_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Equal identity data is held once across the fleet: each column's tuple of suffixes
    and of values, and each table's set of rows kept; the shared objects stay bounded."""
    from sobriety.collectors import evaluate

    clock = ManualClock()
    one, _ = collector("arista_eos", clock)
    two, _ = collector("arista_eos", clock)
    await one.collect()
    await two.collect()
    mine, theirs = one.state.evaluated, two.state.evaluated
    assert mine.columns and mine.kept
    for key, column in mine.columns.items():
        assert column.suffixes is theirs.columns[key].suffixes
        assert column.values is theirs.columns[key].values
    for key, rows in mine.kept.items():
        assert rows.kept is theirs.kept[key].kept
    monkeypatch.setattr(evaluate, "_SHARED", {})
    monkeypatch.setattr(evaluate, "MAX_SHARED_VALUES", 2)
    for n in range(5):
        assert evaluate._shared(("x", float(n))) == ("x", float(n))
    assert len(evaluate._SHARED) == 2


def test_values_that_render_differently_are_not_shared_as_equal() -> None:
    from sobriety.collectors import evaluate

    assert evaluate._same_as_equal(("a", 1.5, 0.0, math.nan))
    assert not evaluate._same_as_equal(("a", -0.0))  # == 0.0, but written -0.0
    column = evaluate.IdentityColumn.of([((1,), -0.0)], ())
    assert math.copysign(1.0, column.values[0]) < 0  # its own tuple, not a shared (0.0,)


async def test_a_series_two_profiles_both_say_is_published_once_with_the_first_profiles_value(
    tmp_path: Path,
) -> None:
    """A vendor profile and a generic one may read the same series: the higher priority's
    value is kept, once, whatever order each profile wrote the labels in."""
    for name, priority, scale, labels in (
        ("vendor", 10, 1, '{group: "1", port: "5"}'),
        ("generic", 0, 2, '{port: "5", group: "1"}'),
    ):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\ntitle: t\nsource: s\npriority: {priority}\n"
            "match: {always: true}\nscalars:\n"
            "  - {name: ticks, oid: 1.3.6.1.2.1.1.3.0, type: int, scale: "
            f"{scale}, metric: sobriety_poe_port_power_watts, const_labels: {labels}}}\n",
            encoding="utf-8",
        )
    clock = ManualClock()
    path = next((ROOT / "recordings").glob("junos_ex.snmprec*"))
    transport = RecordedTransport(load_snmprec(path, clock=clock))
    target = TargetRef("junos_ex", "snmp", "school", "switch_access_48p")
    coll = SnmpCollector(target, transport, load_profiles([tmp_path]), clock)
    result = await coll.collect()
    raw = await RecordedTransport(load_snmprec(path, clock=clock)).get(
        [(1, 3, 6, 1, 2, 1, 1, 3, 0)]
    )
    port = [s for s in result.samples if s.name == "sobriety_poe_port_power_watts"]
    assert len(port) == 1
    assert dict(port[0].labels) == {"target": "junos_ex", "group": "1", "port": "5"}
    assert port[0].value == float(raw[0].value)  # the vendor's (scale 1), not twice it

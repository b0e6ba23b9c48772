"""One test per quirk that recordings/README.md lists: real agents, handled on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.evaluate import clean_text
from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.model import CollectResult, Sample
from sobriety.pollonce import poll_recording
from sobriety.snmp.snmprec import RecordedTransport, Recording, load_snmprec
from sobriety.snmp.types import Tag, VarBind

ROOT = Path(__file__).resolve().parents[2]
PROFILES = load_profiles([builtin_profile_dir()])


def rec(name: str) -> Path:
    return next((ROOT / "recordings").glob(f"{name}.snmprec*"))


async def replay(name: str) -> CollectResult:
    path = rec(name)
    clock = ManualClock()
    transport = RecordedTransport(load_snmprec(path, clock=clock))
    coll = SnmpCollector(TargetRef(name, "snmp"), transport, PROFILES, clock)
    return await coll.collect()


def named(samples: list[Sample], metric: str) -> list[Sample]:
    return [s for s in samples if s.name == metric]


@pytest.mark.parametrize("name", ["arubaos-cx_6300_vsf_stack", "apc_ap8959eu3"])
async def test_missing_sysuptime_is_not_down(name: str) -> None:
    result = await replay(name)
    assert result.up
    assert not named(result.samples, "sobriety_device_uptime_seconds")


async def test_hex_sysdescr_with_newlines_becomes_one_line() -> None:
    raw = load_snmprec(rec("cisco_16_switch")).get((1, 3, 6, 1, 2, 1, 1, 1, 0))
    assert isinstance(raw.value, bytes) and b"\n" in raw.value  # stored as 4x, has newlines
    result = await poll_recording(rec("cisco_16_switch"), PROFILES)
    assert result.up
    # identification read it; labels never carry control characters
    for sample in result.samples:
        for value in sample.labels.values():
            assert "\n" not in value and "\r" not in value


def test_quoted_and_non_utf8_strings() -> None:
    assert clean_text(b'"1d34"') == '"1d34"'  # arubaos-cx sysDescr, quotes kept
    assert clean_text("café".encode("latin-1")) == "café"  # not UTF-8: read as Latin-1
    assert clean_text(b"a\x00b\tc\r\nd") == "a b c d"


def test_comment_first_line_and_trailing_blank_line_lose_no_record() -> None:
    eaton = load_snmprec(rec("eaton-93e-80"))  # first line is "#EATON 93E 80"
    junos = load_snmprec(rec("junos_ex"))  # ends with an empty line
    assert len(eaton) > 0 and len(junos) == 290
    assert not eaton.skipped and not junos.skipped


async def test_ipaddress_and_opaque_float_encodings() -> None:
    path = ROOT / "recordings" / "linux_powermon.snmprec"
    recording = load_snmprec(path)
    ips = [i for i, t in enumerate(recording.tags) if t is Tag.IP_ADDRESS]
    assert ips and all(isinstance(recording.values[i], bytes) for i in ips)
    assert all(len(recording.values[i]) == 4 for i in ips)  # type: ignore[arg-type]


async def test_mac_address_indexes() -> None:
    result = await replay("aruba-instant")
    radios = [s.labels["radio"] for s in named(result.samples, "sobriety_radio_tx_power_dbm")]
    assert radios and all(len(r.split("/")[0].split(":")) == 6 for r in radios)


async def test_nine_digit_entity_indexes_and_group_index_three() -> None:
    arista = await replay("arista_eos")
    entities = {s.labels["entity"] for s in named(arista.samples, "sobriety_entity_info")}
    assert any(len(e) == 9 for e in entities)
    cisco = await replay("cisco_16_switch")
    groups = {s.labels["group"] for s in named(cisco.samples, "sobriety_poe_budget_watts")}
    assert groups == {"3"}


async def test_sysdescr_identifies_agents_with_generic_sysobjectids() -> None:
    result = await replay("unifi_nanohd")  # sysObjectID is net-snmp's 8072.3.2.10
    assert "unifi" in result.profiles


async def test_numeric_variation_changes_over_time_without_randomness() -> None:
    clock = ManualClock()
    recording = load_snmprec(rec("ubiquiti-m5"), clock=clock)
    (index,) = recording.variations
    first = recording.varbind(index).value
    clock.advance(30)
    later = recording.varbind(index).value
    clock.advance(-30)
    assert recording.varbind(index).value == first
    assert later != first


async def test_a_short_walk_is_reported_as_an_issue_not_silently_accepted() -> None:
    """An agent that ends its MIB early (snmpsim on a record it cannot serve) while a later
    column still has rows: the poll says so."""
    table = (1, 3, 6, 1, 2, 1, 105, 1, 3, 1, 1)  # pethMainPseTable
    base = load_snmprec(rec("junos_ex"))
    keep = [i for i, o in enumerate(base.oids) if o[: len(table)] != table]
    oids = [base.oids[i] for i in keep]
    tags = [base.tags[i] for i in keep]
    values = [base.values[i] for i in keep]
    # two rows of budgets and consumptions, but the agent breaks after the first budget
    rows = {(*table, 2, 1): 1764, (*table, 2, 2): 767, (*table, 4, 1): 248, (*table, 4, 2): 137}
    for oid, value in rows.items():
        oids.append(oid)
        tags.append(Tag.GAUGE32)
        values.append(value)
    order = sorted(range(len(oids)), key=lambda i: oids[i])
    recording = Recording(
        Path("junos_ex.snmprec"),
        oids=[oids[i] for i in order],
        tags=[tags[i] for i in order],
        values=[values[i] for i in order],
    )

    class EndsEarly(RecordedTransport):
        async def get_bulk(
            self, oids: list[tuple[int, ...]], max_repetitions: int, non_repeaters: int = 0
        ) -> list[VarBind]:
            answer = await super().get_bulk(oids, max_repetitions, non_repeaters)
            budget = (*table, 2)
            return [
                VarBind(vb.oid, Tag.END_OF_MIB_VIEW, None)
                if vb.oid[: len(budget)] == budget and vb.oid > (*budget, 1)
                else vb
                for vb in answer
            ]

    coll = SnmpCollector(
        TargetRef("junos_ex", "snmp"), EndsEarly(recording), PROFILES, ManualClock()
    )
    result = await coll.collect()
    assert result.up
    assert "walk_truncated" in [i.code for i in result.issues]
    assert result.stats.walk_anomalies.get("truncated", 0) >= 1

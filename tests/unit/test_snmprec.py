"""The .snmprec parser and the recorded transport, on real recordings and hand fixtures."""

from __future__ import annotations

import bz2
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sobriety.clock import ManualClock
from sobriety.snmp.snmprec import RecordedTransport, SnmprecError, load_snmprec
from sobriety.snmp.transport import walk
from sobriety.snmp.types import Tag, VarBind, opaque_float, parse_oid

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = sorted((ROOT / "recordings").glob("*.snmprec*"))


def lines_of(path: Path) -> list[str]:
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    return [
        line
        for line in data.decode("latin-1").splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_every_recording_loads_every_record(path: Path) -> None:
    recording = load_snmprec(path)
    assert len(recording) == len(lines_of(path))
    assert recording.oids == sorted(recording.oids)
    assert not recording.skipped


def test_values_documented_in_the_recordings_readme() -> None:
    junos = load_snmprec(ROOT / "recordings" / "junos_ex.snmprec")
    assert junos.get(parse_oid("1.3.6.1.2.1.105.1.3.1.1.4.1")) == VarBind(
        parse_oid("1.3.6.1.2.1.105.1.3.1.1.4.1"), Tag.GAUGE32, 248
    )
    eaton = load_snmprec(ROOT / "recordings" / "eaton-93e-80.snmprec.bz2")
    assert eaton.get(parse_oid("1.3.6.1.2.1.33.1.4.4.1.4.1")).value == 5100
    cisco = load_snmprec(ROOT / "recordings" / "cisco_16_switch.snmprec.bz2")
    descr = cisco.get(parse_oid("1.3.6.1.2.1.1.1.0")).value
    assert isinstance(descr, bytes)
    assert b"\n" in descr
    assert descr.startswith(b"Cisco IOS Software")


def test_numeric_variation_changes_with_the_clock() -> None:
    clock = ManualClock()
    ubnt = load_snmprec(ROOT / "recordings" / "ubiquiti-m5.snmprec.bz2", clock=clock)
    oid = parse_oid("1.3.6.1.4.1.10002.1.1.1.4.2.1.3.2")
    first = ubnt.get(oid)
    assert first.tag is Tag.GAUGE32
    clock.advance(600)
    assert ubnt.get(oid).value != first.value
    clock.advance(-600)
    assert ubnt.get(oid).value == first.value  # deterministic in time


def test_hand_fixture_encodings(tmp_path: Path) -> None:
    double = struct.pack(">f", 2.5)
    path = tmp_path / "hand.snmprec"
    path.write_bytes(
        b"# a comment\n"
        b"1.3.6.1.2.1.1.1.0|4e|line one\\nline two \\x41\n"
        b"\n"
        b"1.3.6.1.2.1.1.5.0|4|caf\xe9\n"
        b"1.3.6.1.2.1.4.20.1.1.10.0.0.1|64|10.0.0.1\n"
        b"1.3.6.1.2.1.4.20.1.2.10.0.0.1|64x|0a000002\n"
        b"1.3.6.1.4.1.2021.10.1.6.1|68x|9f7804" + double.hex().encode() + b"\n"
        b"1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n"
        b"1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n"
    )
    rec = load_snmprec(path)
    get = lambda text: rec.get(parse_oid(text))  # noqa: E731
    assert get("1.3.6.1.2.1.1.1.0").value == b"line one\nline two A"
    assert get("1.3.6.1.2.1.1.5.0").value == b"caf\xe9"  # not UTF-8: kept as bytes
    assert get("1.3.6.1.2.1.4.20.1.1.10.0.0.1").value == bytes([10, 0, 0, 1])
    assert get("1.3.6.1.2.1.4.20.1.2.10.0.0.1").value == bytes([10, 0, 0, 2])
    opaque = get("1.3.6.1.4.1.2021.10.1.6.1")
    assert opaque.tag is Tag.OPAQUE
    assert isinstance(opaque.value, bytes)
    assert opaque_float(opaque.value) == 2.5
    assert get("1.3.6.1.2.1.1.2.0").value == parse_oid("1.3.6.1.4.1.8072.3.2.10")
    assert get("1.3.6.1.2.1.31.1.1.1.6.1").value == 2**64 - 1
    assert rec.community == "hand"


@pytest.mark.parametrize(
    ("line", "reason", "message"),
    [
        ("1.3.6.1|2|twelve", "bad_value", "is not a number"),
        ("1.3.x.1|2|1", "bad_oid", "not a numeric OID"),
        ("1.3.6.1.2.1.4.20.1.1.10.xx.xx.100|64|10.0.0.1", "bad_oid", "not a numeric OID"),
        ("1.3.6.1|99|1", "unknown_tag", "unknown tag"),
        ("1.3.6.1|2", "not_a_record", "OID|TAG|VALUE"),
        ("1.3.6.1|2|4294967296", "bad_value", "out of range"),
        ("1.3.6.1|2:redis|x", "unsupported_variation", "records no value="),
        ("1.3.6.1|64|", "bad_value", "bad IpAddress"),
        ("1.3.6.1|2|", "bad_value", "is not a number"),
        ("1.3.6.1|4x|zz", "bad_value", "not hex"),
        ("1.3.6.1|2|\xb2", "bad_value", "is not a number"),
        ("1.3.6.1.\xb2|2|1", "bad_oid", "not a numeric OID"),
    ],
)
def test_unusable_lines_are_skipped_with_file_line_and_reason(
    tmp_path: Path, line: str, reason: str, message: str
) -> None:
    path = tmp_path / "bad.snmprec"
    path.write_bytes(f"1.3.6.1.2.1.1.3.0|67|5\n{line}\n".encode("latin-1"))
    recording = load_snmprec(path)  # never aborts
    assert len(recording) == 1
    ((number, why, detail),) = recording.skipped
    assert (number, why) == (2, reason)
    assert message in detail
    assert recording.skipped_by_reason() == {reason: 1}
    with pytest.raises(SnmprecError, match=message) as caught:
        load_snmprec(path, strict=True)  # checking a recording before sharing it
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{path}:2: ")


def test_variations_crlf_raw_ipaddress_and_duplicates(tmp_path: Path) -> None:
    """What the corpus holds: writecache lines, CRLF endings with control bytes inside a
    value (a raw MAC with a form feed), an IpAddress as 4 raw characters, a repeated OID."""
    path = tmp_path / "field.snmprec"
    path.write_bytes(
        b"1.3.6.1.2.1.1.5.0|4:writecache|value=Server 1\\, PS 1,hexvalue=00\r\n"
        b"1.3.6.1.2.1.2.2.1.6.1|4|\xfe\xb7O\x0c\x07\\\r\n"
        b"1.3.6.1.2.1.4.20.1.1.9|64|eEij\r\n"
        b"1.3.6.1.2.1.1.6.0|4:volatilecache|hexvalue=4142\r\n"
        b"1.3.6.1.2.1.1.7.0|2:writecache|value=72\r\n"
        b"1.3.6.1.2.1.1.7.0|2|1\r\n"
    )
    rec = load_snmprec(path)
    get = lambda text: rec.get(parse_oid(text)).value  # noqa: E731
    assert get("1.3.6.1.2.1.1.5.0") == b"Server 1, PS 1"
    assert get("1.3.6.1.2.1.2.2.1.6.1") == b"\xfe\xb7O\x0c\x07\\"
    assert get("1.3.6.1.2.1.4.20.1.1.9") == b"eEij"
    assert get("1.3.6.1.2.1.1.6.0") == b"AB"
    assert get("1.3.6.1.2.1.1.7.0") == 72  # the first record of an OID wins
    assert rec.skipped == [(6, "duplicate_oid", "a second record for this OID")]
    assert rec.lines == 6


async def test_transport_semantics_like_snmpsim() -> None:
    rec = load_snmprec(ROOT / "recordings" / "junos_ex.snmprec")
    transport = RecordedTransport(rec)
    missing = (1, 3, 6, 1, 2, 1, 1, 99, 0)
    (answer,) = await transport.get([missing])
    assert answer.tag is Tag.NO_SUCH_INSTANCE
    (last,) = await transport.get_next([rec.oids[-1]])
    assert last.tag is Tag.END_OF_MIB_VIEW
    bulk = await transport.get_bulk(
        [parse_oid("1.3.6.1.2.1.1.2"), parse_oid("1.3.6.1.2.1.105.1.3.1.1.2")],
        3,
        non_repeaters=1,
    )
    assert bulk[0].oid == parse_oid("1.3.6.1.2.1.1.2.0")
    assert [vb.value for vb in bulk[1:3]] == [1764, 767]
    assert len(bulk) == 4
    assert [e.kind for e in transport.log] == ["get", "getnext", "getbulk"]
    assert (transport.stats.get, transport.stats.getnext, transport.stats.getbulk) == (1, 1, 1)


async def test_walk_request_count_is_exact() -> None:
    rec = load_snmprec(ROOT / "recordings" / "winxp-full-walk.snmprec")
    root = parse_oid("1.3.6.1.2.1.25.6.3.1.1")  # hrSWInstalledIndex: 160 rows
    transport = RecordedTransport(rec)
    rows = await walk(transport, root, max_repetitions=25)
    assert len(rows) == 160
    assert transport.stats.getbulk == 7  # 6 full pages, the 7th crosses the subtree end
    v1 = RecordedTransport(rec, version="1")
    assert await walk(v1, root) == rows
    assert v1.stats.getnext == 161


oid_parts = st.lists(st.integers(0, 5), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    st.sets(st.tuples(*([st.integers(0, 4)] * 3)), min_size=1, max_size=40),
    st.lists(st.integers(0, 4), min_size=0, max_size=2),
    st.integers(1, 7),
)
async def test_walk_returns_exactly_the_subtree(
    suffixes: set[tuple[int, int, int]], prefix: list[int], max_rep: int
) -> None:
    from sobriety.snmp.snmprec import Recording

    base = (1, 3, 6, 1, 4, 1, 99999)
    oids = sorted(base + s for s in suffixes)
    rec = Recording(
        Path("gen.snmprec"),
        oids=oids,
        tags=[Tag.INTEGER] * len(oids),
        values=list(range(len(oids))),
    )
    root = base + tuple(prefix)
    got = await walk(RecordedTransport(rec), root, max_repetitions=max_rep)
    assert [vb.oid for vb in got] == [o for o in oids if o[: len(root)] == root and o != root]

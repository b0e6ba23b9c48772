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
    ("line", "message"),
    [
        ("1.3.6.1|2|twelve", "invalid literal"),
        ("1.3.x.1|2|1", "not a numeric OID"),
        ("1.3.6.1|99|1", "unknown tag"),
        ("1.3.6.1|2", "OID|TAG|VALUE"),
        ("1.3.6.1|2|4294967296", "out of range"),
        ("1.3.6.1|2:redis|x", "unsupported variation"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.snmprec"
    path.write_text(f"1.3.6.1.2.1.1.3.0|67|5\n{line}\n")
    with pytest.raises(SnmprecError, match=message) as caught:
        load_snmprec(path)
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{path}:2: ")
    lenient = load_snmprec(path, strict=False)
    assert len(lenient) == 1
    assert lenient.skipped[0][0] == 2


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

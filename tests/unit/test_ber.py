"""The lean BER codec: identical to pysnmp (the oracle), robust to hostile bytes, no SET."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import encoder
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.api import v2c

from sobriety.errors import MalformedResponse
from sobriety.snmp import ber
from sobriety.snmp.types import Tag
from tests.budget import examples

ROOT = Path(__file__).resolve().parents[2]

arc = st.integers(0, 2**32 - 1)
oids = st.builds(
    lambda first, second, rest: (first, second, *rest),
    st.integers(0, 2),
    st.integers(0, 39),
    st.lists(st.one_of(st.integers(0, 300), arc), min_size=0, max_size=12),
)
request_ids = st.integers(0, 2**31 - 1)

# (our tag, pysnmp value factory, strategy of python values)
VALUE_KINDS = [
    (Tag.INTEGER, v2c.Integer, st.integers(-(2**31), 2**31 - 1)),
    (Tag.OCTET_STRING, v2c.OctetString, st.binary(max_size=300)),
    (Tag.COUNTER32, v2c.Counter32, st.integers(0, 2**32 - 1)),
    (Tag.GAUGE32, v2c.Gauge32, st.integers(0, 2**32 - 1)),
    (Tag.TIMETICKS, v2c.TimeTicks, st.integers(0, 2**32 - 1)),
    (Tag.COUNTER64, v2c.Counter64, st.integers(0, 2**64 - 1)),
    (Tag.IP_ADDRESS, v2c.IpAddress, st.binary(min_size=4, max_size=4)),
    (Tag.OPAQUE, rfc1902.Opaque, st.binary(max_size=40)),
    (Tag.OBJECT_IDENTIFIER, v2c.ObjectIdentifier, oids),
]
EXCEPTIONS = [
    (Tag.NO_SUCH_OBJECT, rfc1905.noSuchObject),
    (Tag.NO_SUCH_INSTANCE, rfc1905.noSuchInstance),
    (Tag.END_OF_MIB_VIEW, rfc1905.endOfMibView),
]


@st.composite
def varbind_values(draw: st.DrawFn) -> tuple[Tag, object, object]:
    if draw(st.integers(0, 9)) == 0:
        tag, pysnmp_value = draw(st.sampled_from(EXCEPTIONS))
        return tag, None, pysnmp_value
    tag, factory, strategy = draw(st.sampled_from(VALUE_KINDS))
    value = draw(strategy)
    return tag, value, factory(value)


def pysnmp_request(
    pdu_class: object,
    version: int,
    community: bytes,
    request_id: int,
    names: list[tuple[int, ...]],
    non_rep: int,
    max_rep: int,
) -> bytes:
    msg = v2c.Message()
    msg.setComponentByPosition(0, version)
    msg.setComponentByPosition(1, community)
    pdu = pdu_class()  # type: ignore[operator]
    api = v2c.apiBulkPDU if pdu_class is v2c.GetBulkRequestPDU else v2c.apiPDU
    api.set_defaults(pdu)
    api.set_request_id(pdu, request_id)
    if pdu_class is v2c.GetBulkRequestPDU:
        api.set_non_repeaters(pdu, non_rep)
        api.set_max_repetitions(pdu, max_rep)
    api.set_varbinds(pdu, [(name, v2c.null) for name in names])
    msg.setComponentByPosition(2)
    msg.getComponentByPosition(2).setComponentByType(pdu.tagSet, pdu)
    return bytes(encoder.encode(msg))


@settings(max_examples=examples(300), deadline=None)
@given(
    st.sampled_from(
        [
            (ber.GET, v2c.GetRequestPDU),
            (ber.GET_NEXT, v2c.GetNextRequestPDU),
            (ber.GET_BULK, v2c.GetBulkRequestPDU),
        ]
    ),
    st.binary(min_size=0, max_size=40),
    request_ids,
    st.lists(oids, min_size=1, max_size=20),
    st.integers(0, 5),
    st.integers(0, 100),
)
def test_requests_encode_exactly_like_pysnmp(
    kinds: tuple[int, object],
    community: bytes,
    request_id: int,
    names: list[tuple[int, ...]],
    non_rep: int,
    max_rep: int,
) -> None:
    ours, theirs = kinds
    assert ber.encode_request("2c", community, ours, request_id, names, non_rep, max_rep) == (
        pysnmp_request(theirs, 1, community, request_id, names, non_rep, max_rep)
    )


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request_ids,
    st.integers(0, 18),
    st.integers(0, 50),
    st.lists(st.tuples(oids, varbind_values()), max_size=30),
    st.sampled_from([0, 1]),
)
def test_responses_built_by_pysnmp_decode_to_the_same_values(
    request_id: int,
    status: int,
    index: int,
    varbinds: list[tuple[tuple[int, ...], tuple[Tag, object, object]]],
    version: int,
) -> None:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, status)
    v2c.apiPDU.set_error_index(pdu, index)
    v2c.apiPDU.set_varbinds(pdu, [(name, value[2]) for name, value in varbinds])
    msg = v2c.Message()
    msg.setComponentByPosition(0, version)
    msg.setComponentByPosition(1, b"c")
    msg.setComponentByPosition(2)
    msg.getComponentByPosition(2).setComponentByType(pdu.tagSet, pdu)
    decoded = ber.decode_message(bytes(encoder.encode(msg)))
    assert (decoded.version, decoded.community) == (version, b"c")
    assert (decoded.pdu.request_id, decoded.pdu.error_status, decoded.pdu.error_index) == (
        request_id,
        status,
        index,
    )
    assert [(vb.oid, vb.tag, vb.value) for vb in decoded.pdu.varbinds] == [
        (name, tag, value) for name, (tag, value, _) in varbinds
    ]


def valid_response() -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 4242)
    v2c.apiPDU.set_varbinds(
        pdu,
        [
            ((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.TimeTicks(12345)),
            ((1, 3, 6, 1, 2, 1, 1, 5, 0), v2c.OctetString(b"sw")),
        ],
    )
    msg = v2c.Message()
    msg.setComponentByPosition(0, 1)
    msg.setComponentByPosition(1, b"public")
    msg.setComponentByPosition(2)
    msg.getComponentByPosition(2).setComponentByType(pdu.tagSet, pdu)
    return bytes(encoder.encode(msg))


VALID = valid_response()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(data) - 1)) if data else 0
        if op == 0 and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == 1:
            data.insert(pos, draw(st.integers(0, 255)))
        elif op == 2 and data:
            del data[pos]
        else:
            data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=examples(2000), deadline=None)
@given(st.one_of(mutated(), st.binary(max_size=200)))
def test_hostile_bytes_only_ever_raise_malformed(data: bytes) -> None:
    message, detail = decode_or_detail(data)
    if message is None:
        assert detail  # a bounded reason for the counter
        return
    for vb in message.pdu.varbinds:  # what decodes is well-formed
        assert all(0 <= a <= 2**32 - 1 for a in vb.oid[1:])


def decode_or_detail(data: bytes) -> tuple[ber.Message | None, str]:
    """Decode, or say why not; any exception other than MalformedResponse propagates."""
    try:
        return ber.decode_message(data), ""
    except MalformedResponse as exc:
        return None, exc.detail


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (VALID[:-1], "truncated"),
        (VALID + b"\x00", "trailing_bytes"),
        (b"\x30\x84\xff\xff\xff\xff", "truncated"),
        (b"\x30\x85\x01\x01\x01\x01\x01", "bad_length"),
        (VALID.replace(b"\x02\x01\x01", b"\x02\x01\x07", 1), "unsupported_version"),
        (VALID.replace(b"\xa2", b"\xa3", 1), "unexpected_pdu"),
        (b"", "truncated"),
    ],
)
def test_specific_malformations(data: bytes, detail: str) -> None:
    with pytest.raises(MalformedResponse) as caught:
        ber.decode_message(data)
    assert caught.value.detail == detail


def test_no_code_path_can_build_a_set_request() -> None:
    with pytest.raises(ValueError, match="only sends GET"):
        ber.encode_request("2c", b"public", 0xA3, 1, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    with pytest.raises(ValueError, match="no GETBULK"):
        ber.encode_request("1", b"public", ber.GET_BULK, 1, [(1, 3, 6)])


def test_nothing_in_the_package_names_a_set_request() -> None:
    """No module imports or names a SET from any SNMP library (read-only by construction)."""
    for path in (ROOT / "sobriety").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not {"set_cmd", "setCmd", "SetRequestPDU", "SET_REQUEST"} & names, path
        consts = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert 0xA3 not in consts or path.name == "ber.py", path


def response_with(value_tlv: bytes, oid_tlv: bytes = b"\x06\x03\x2b\x06\x01") -> bytes:
    """A v2c Response (request-id 7) carrying one varbind, built byte by byte."""
    varbind = ber._tlv(0x30, oid_tlv + value_tlv)
    pdu = ber._tlv(
        0xA2, ber.encode_integer(7) + b"\x02\x01\x00\x02\x01\x00" + ber._tlv(0x30, varbind)
    )
    return ber._tlv(0x30, b"\x02\x01\x01" + ber._tlv(0x04, b"public") + pdu)


@pytest.mark.parametrize(
    ("body", "oid"),
    [
        (b"\x2b\x81\x00", (1, 3, 128)),  # 128: 0x81 0x00, minimal
        (b"\x2b\x8f\xff\xff\xff\x7f", (1, 3, 2**32 - 1)),
        (b"\x2b\x06\x01\x04\x01\x81\x9e\x5e", (1, 3, 6, 1, 4, 1, 20318)),
    ],
)
def test_multi_byte_sub_identifiers_decode(body: bytes, oid: tuple[int, ...]) -> None:
    assert ber.decode_oid(body) == oid
    assert ber.encode_oid(oid)[2:] == body  # and they are what we encode


@pytest.mark.parametrize(
    "body",
    [
        b"\x2b\x80\x01",  # 1 written with a leading 0x80 byte: an alias of 1.3.1
        b"\x2b\x06\x80\x80\x81\x00",  # 128 padded twice
        b"\x80\x2b",  # the first sub-identifier padded
    ],
)
def test_a_non_minimal_sub_identifier_is_malformed(body: bytes) -> None:
    """X.690 8.19.2: a sub-identifier's first byte is never 0x80. Accepting one would let two
    byte strings name one OID (a walk that loops, a row counted twice)."""
    with pytest.raises(MalformedResponse) as caught:
        ber.decode_oid(body)
    assert caught.value.detail == "bad_oid"
    oid_tlv = ber._tlv(0x06, body)
    with pytest.raises(MalformedResponse) as in_message:
        ber.decode_message(response_with(b"\x05\x00", oid_tlv))
    assert in_message.value.detail == "bad_oid"


@pytest.mark.parametrize(
    ("value", "ok"),
    [(2**31 - 1, True), (-(2**31), True), (2**31, False), (-(2**31) - 1, False), (2**39, False)],
)
def test_an_integer_is_an_integer32(value: int, ok: bool) -> None:
    """SNMP's INTEGER is Integer32 (RFC 2578 7.1.1): -2^31..2^31-1; one byte more is malformed,
    not a large number."""
    data = response_with(ber.encode_integer(value))
    if ok:
        (vb,) = ber.decode_message(data).pdu.varbinds
        assert (vb.oid, vb.value) == ((1, 3, 6, 1), value)
        return
    with pytest.raises(MalformedResponse) as caught:
        ber.decode_message(data)
    assert caught.value.detail == "bad_integer"


def sub_identifier(n: int) -> bytes:
    """n in base 128, high bit on every byte but the last (X.690 8.19.2)."""
    out = [n & 0x7F]
    while n := n >> 7:
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


@pytest.mark.parametrize(
    ("body", "oid"),
    [
        (b"\x2b\x06\x01", (1, 3, 6, 1)),  # every arc one byte: the fast path, all arcs kept
        (b"\x27", (0, 39)),
        (b"\x28", (1, 0)),  # 40 is 1.0, 79 is 1.39, 80 is 2.0 (X.690 8.19.4)
        (b"\x4f", (1, 39)),
        (b"\x50", (2, 0)),
        (b"\x50\x81\x00", (2, 0, 128)),  # the same rule past the fast path
        (b"\x4f\x81\x00", (1, 39, 128)),
        (sub_identifier(80 + 2**32 - 1), (2, 2**32 - 1)),  # the largest second arc
        (b"\x2b" + sub_identifier(2**32 - 1), (1, 3, 2**32 - 1)),
        (b"\x2b" + b"\x01" * 511, (1, 3, *[1] * 511)),  # 512 bytes: the longest taken
    ],
)
def test_an_oid_decodes_by_x690(body: bytes, oid: tuple[int, ...]) -> None:
    assert ber.decode_oid(body) == oid


@pytest.mark.parametrize(
    "body",
    [
        b"",  # no sub-identifier at all
        b"\x2b\x81",  # the last byte says more follows
        b"\x2b" + b"\x01" * 512,  # 513 bytes
        b"\x2b" + sub_identifier(2**32),  # a sub-identifier past 32 bits
        sub_identifier(80 + 2**32),  # a second arc past 32 bits
    ],
)
def test_an_oid_out_of_bounds_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponse) as caught:
        ber.decode_oid(body)
    assert caught.value.detail == "bad_oid"


NINE = b"\x00" * 4
OK = "ok"


@pytest.mark.parametrize(
    ("value_tlv", "outcome"),
    [
        (b"\x02\x00", "bad_integer"),  # an INTEGER has at least one byte
        (b"\x02\x09" + b"\x00" * 8 + b"\x05", 5),  # nine bytes, padded: still taken
        (b"\x02\x0a" + b"\x00" * 9 + b"\x05", "bad_integer"),  # ten: refused before decoding
        (b"\x41\x00", "bad_integer"),  # nor is a counter empty
        (b"\x41\x05\x00\xff\xff\xff\xff", 2**32 - 1),  # Counter32 at its top
        (b"\x41\x05\x01\x00\x00\x00\x00", "bad_integer"),  # one past it
        (b"\x42\x09" + NINE + b"\x00\xff\xff\xff\xff", 2**32 - 1),  # Gauge32, nine bytes
        (b"\x42\x09" + NINE + b"\x01\x00\x00\x00\x00", "bad_integer"),
        (b"\x46\x09\x00" + b"\xff" * 8, 2**64 - 1),  # Counter64 at its top
        (b"\x46\x09\x01" + b"\x00" * 8, "bad_integer"),
        (b"\x46\x0a" + b"\x00" * 9 + b"\x01", "bad_integer"),
        (b"\x40\x04\x7f\x00\x00\x01", b"\x7f\x00\x00\x01"),  # IpAddress: four bytes
        (b"\x40\x03\x7f\x00\x01", "bad_ipaddress"),
        (b"\x40\x05\x7f\x00\x00\x00\x01", "bad_ipaddress"),
        (b"\x05\x01\x00", "bad_null"),  # NULL carries nothing
        (b"\x81\x01\x00", "bad_null"),  # nor does noSuchInstance
        (b"\x06\x00", "bad_oid"),  # an OID value is an OID
        (b"\x09\x00", "bad_value_type"),  # REAL is no SNMP type
        (b"\x04\x81\x02ab", b"ab"),  # a long-form length is as good as a short one
    ],
)
def test_each_value_type_has_its_bounds(value_tlv: bytes, outcome: object) -> None:
    message, detail = decode_or_detail(response_with(value_tlv))
    if message is None:
        assert detail == outcome
        return
    (vb,) = message.pdu.varbinds
    assert (vb.oid, vb.value) == ((1, 3, 6, 1), outcome)


def test_each_pdu_field_and_varbind_malformation_has_its_reason() -> None:
    good = response_with(b"\x05\x00")
    assert decode_or_detail(good)[1] == ""
    cases = {
        "bad_pdu": good.replace(b"\x02\x01\x07", b"\x04\x01\x07", 1),  # request-id a string
        "bad_varbinds": good.replace(b"\x30\x09\x30\x07", b"\x31\x09\x30\x07", 1),
        "bad_varbind": good.replace(b"\x30\x09\x30\x07", b"\x30\x09\x31\x07", 1),
        "bad_length": good.replace(b"\x30\x09\x30\x07", b"\x30\x09\x30\x80", 1),  # indefinite
        "truncated": good.replace(b"\x30\x09\x30\x07", b"\x30\x09\x30\x08", 1),
    }
    for reason, data in cases.items():
        assert decode_or_detail(data)[1] == reason, reason
    oid_not_first = good.replace(b"\x06\x03\x2b\x06\x01\x05\x00", b"\x04\x03\x2b\x06\x01\x05\x00")
    assert decode_or_detail(oid_not_first)[1] == "bad_varbind"
    indefinite_oid = good.replace(b"\x06\x03\x2b\x06\x01", b"\x06\x80\x2b\x06\x01")
    assert decode_or_detail(indefinite_oid)[1] == "bad_length"
    varbind = b"\x30\x81\x08" + b"\x06\x81\x03\x2b\x06\x01" + b"\x05\x00"  # long forms
    pdu = ber._tlv(0xA2, b"\x02\x01\x07\x02\x01\x00\x02\x01\x00" + ber._tlv(0x30, varbind))
    long_form = ber._tlv(0x30, b"\x02\x01\x01" + ber._tlv(0x04, b"public") + pdu)
    (vb,) = ber.decode_message(long_form).pdu.varbinds
    assert (vb.oid, vb.value) == ((1, 3, 6, 1), None)


def test_common_varbinds_are_decoded_inline_not_by_the_general_decoders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hot loop's design (bench/: decoding cost): a varbind of short lengths whose value
    is a counter, gauge, timeticks or octet string, under an OID of arcs below 128, is read
    inline; only the message and PDU headers go through `_header`, and no varbind through
    `_value` or `decode_oid`."""
    calls: Counter[str] = Counter()
    for name in ("_header", "_value", "decode_oid"):
        real = getattr(ber, name)
        monkeypatch.setattr(ber, name, counted(calls, name, real))
    values = [(0x41, b"\x01"), (0x42, b"\x00\xff\xff\xff\xff"), (0x43, b"\x01\x02\x03\x04"),
              (0x46, b"\x01\x02\x03\x04\x05\x06\x07\x08"), (0x04, b"sw"), (0x04, b"")]  # fmt: skip

    def decode(count: int) -> list[tuple[tuple[int, ...], object]]:
        varbinds = b"".join(
            ber._tlv(0x30, b"\x06\x08\x2b\x06\x01\x02\x01\x01\x05\x00" + ber._tlv(tag, body))
            for tag, body in values[:count]
        )
        message = message_with_pdu(FIELDS + ber._tlv(0x30, varbinds))
        return [(vb.oid, vb.value) for vb in ber.decode_message(message).pdu.varbinds]

    oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
    assert decode(0) == []
    headers_alone = calls["_header"]
    assert decode(6) == [(oid, 1), (oid, 2**32 - 1), (oid, 0x01020304),
                         (oid, 0x0102030405060708), (oid, b"sw"), (oid, b"")]  # fmt: skip
    assert calls == {"_header": 2 * headers_alone}  # the same headers; nothing per varbind


def test_oids_of_small_arcs_decode_inline_and_the_others_by_decode_oid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: Counter[str] = Counter()
    monkeypatch.setattr(ber, "decode_oid", counted(calls, "decode_oid", ber.decode_oid))
    bodies = (b"\x28\x05", b"\x2b", b"\x27\x01", b"\x50\x01", b"\x28\xc4\x62")
    varbinds = b"".join(ber._tlv(0x30, ber._tlv(0x06, body) + b"\x05\x00") for body in bodies)
    message = message_with_pdu(FIELDS + ber._tlv(0x30, varbinds))
    oids = [vb.oid for vb in ber.decode_message(message).pdu.varbinds]
    assert oids == [(1, 0, 5), (1, 3), (0, 39, 1), (2, 0, 1), (1, 0, 8802)]
    assert calls == {"decode_oid": 2}  # 2.0.1 (first byte 80) and 8802 (two bytes): general


def counted(calls: Counter[str], name: str, real: Callable[..., object]) -> Callable[..., object]:
    def wrapper(*args: object) -> object:
        calls[name] += 1
        return real(*args)

    return wrapper


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "020100"), (127, "02017f"), (128, "02020080"), (-1, "0201ff"), (-128, "020180"),
     (-129, "0202ff7f"), (2**31 - 1, "02047fffffff"), (-(2**31), "020480000000")],
)  # fmt: skip
def test_an_integer_is_encoded_in_its_fewest_bytes(value: int, encoded: str) -> None:
    """X.690 8.3.2: no leading 0x00 or 0xFF byte that the next bit makes redundant."""
    assert ber.encode_integer(value).hex() == encoded


def test_the_requests_sobriety_never_sends_are_refused_saying_so() -> None:
    with pytest.raises(ValueError, match=r"^SNMPv1 has no GETBULK$"):
        ber.encode_request("1", b"public", ber.GET_BULK, 1, [(1, 3)], 0, 10)
    with pytest.raises(
        ValueError, match=r"^sobriety only sends GET, GETNEXT and GETBULK requests$"
    ):
        ber.encode_request("2c", b"public", ber.RESPONSE, 1, [(1, 3)])


def test_a_length_of_128_takes_the_long_form() -> None:
    """X.690 8.1.3: 0..127 in one byte; 128 needs 0x81 0x80 (a lone 0x80 is indefinite)."""
    assert ber._tlv(0x04, bytes(127))[:2] == b"\x04\x7f"
    assert ber._tlv(0x04, bytes(128))[:3] == b"\x04\x81\x80"
    assert ber._tlv(0x04, bytes(256))[:4] == b"\x04\x82\x01\x00"


def message_with_pdu(pdu_body: bytes, community: bytes = b"\x04\x06public") -> bytes:
    return ber._tlv(0x30, b"\x02\x01\x01" + community + ber._tlv(0xA2, pdu_body))


FIELDS = b"\x02\x01\x07\x02\x01\x00\x02\x01\x00"
ONE = b"\x30\x05\x06\x01\x2b\x05\x00"  # 1.3 = NULL


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\x04\x00", "not_a_message"),
        (b"\x30\x03\x04\x01\x01", "bad_version"),
        (ber._tlv(0x30, b"\x02\x01\x01\x02\x01\x00" + ber._tlv(0xA2, b"")), "bad_community"),
        (message_with_pdu(FIELDS + ber._tlv(0x30, ONE) + b"\x05\x00"), "trailing_bytes"),
        (message_with_pdu(FIELDS + ber._tlv(0x30, b"\x30\x05\x06\x05\x2b\x05\x00")), "truncated"),
        (message_with_pdu(FIELDS + ber._tlv(0x30, b"\x30\x07\x06\x01\x2b\x04\x81\x01a")), OK),
        (
            message_with_pdu(FIELDS + ber._tlv(0x30, b"\x30\x08\x06\x01\x2b\x04\x81\x01ab")),
            "bad_value_type",  # a long-form value that ends before its varbind does
        ),
        (message_with_pdu(FIELDS + ber._tlv(0x30, ONE * 10_000)), OK),  # the most taken
        (message_with_pdu(FIELDS + ber._tlv(0x30, ONE * 10_001)), "too_many_varbinds"),
        (  # bytes after the PDU, inside the message
            ber._tlv(
                0x30,
                b"\x02\x01\x01\x04\x06public" + ber._tlv(0xA2, FIELDS + b"\x30\x00") + b"\x05\x00",
            ),
            "trailing_bytes",
        ),
        (  # a short-form value that ends before its varbind does
            message_with_pdu(FIELDS + ber._tlv(0x30, b"\x30\x07\x06\x01\x2b\x04\x01ab")),
            "bad_value_type",
        ),
        (message_with_pdu(FIELDS + ber._tlv(0x30, ONE + b"\x30")), "bad_varbind"),  # one byte
        (b"\x30\x82\x01", "bad_length"),  # two length bytes announced, one there
        (message_with_pdu(FIELDS + ber._tlv(0x30, b"\x30\x04\x06\x00\x05\x00")), "bad_oid"),
        (  # an indefinite length (0x80) is no length, even where 128 bytes would fit
            message_with_pdu(
                FIELDS + ber._tlv(0x30, ber._tlv(0x30, b"\x06\x01\x2b\x04\x80" + bytes(128)))
            ),
            "bad_length",
        ),
        (  # a long-form OID, then a value tag and nothing more
            message_with_pdu(FIELDS + ber._tlv(0x30, ber._tlv(0x30, b"\x06\x81\x01\x2b\x04"))),
            "truncated",
        ),
        (message_with_pdu(FIELDS + ber._tlv(0x30, b"\x30\x01\x06")), "bad_varbind"),  # no OID
    ],
)
def test_each_message_malformation_has_its_reason(data: bytes, detail: str) -> None:
    message, found = decode_or_detail(data)
    assert found == ("" if detail == OK else detail)
    assert (message is None) == (detail != OK)

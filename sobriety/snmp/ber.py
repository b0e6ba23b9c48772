"""A small BER codec for a read-only SNMP manager (v1 and v2c messages).

Encodes GetRequest, GetNextRequest and GetBulkRequest, and nothing else: there is no code
that can build a SetRequest. Decodes Response and Report PDUs. Every decoding problem, of
any kind, is raised as `MalformedResponse` with a short reason from a bounded set, so that a
hostile or broken agent is counted and dropped, never a crash.

Hand-written because the general codecs cost 70-110 µs per varbind (pyasn1) where this one
costs a few microseconds; pysnmp stays the reference it is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sobriety.errors import MalformedResponse
from sobriety.snmp.types import Oid, Tag, Value, VarBind

GET, GET_NEXT, RESPONSE, GET_BULK, REPORT = 0xA0, 0xA1, 0xA2, 0xA5, 0xA8
REQUEST_PDUS = frozenset({GET, GET_NEXT, GET_BULK})
ANSWER_PDUS = frozenset({RESPONSE, REPORT})
VERSIONS = {"1": 0, "2c": 1, "3": 3}

ERROR_STATUS = {
    0: "noError", 1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr",
    6: "noAccess", 7: "wrongType", 8: "wrongLength", 9: "wrongEncoding", 10: "wrongValue",
    11: "noCreation", 12: "inconsistentValue", 13: "resourceUnavailable", 14: "commitFailed",
    15: "undoFailed", 16: "authorizationError", 17: "notWritable", 18: "inconsistentName",
}  # fmt: skip

_UNSIGNED_MAX: dict[int, int] = {Tag.COUNTER32: 2**32 - 1, Tag.GAUGE32: 2**32 - 1,
                                 Tag.TIMETICKS: 2**32 - 1, Tag.COUNTER64: 2**64 - 1}  # fmt: skip
_TAG_OF = {int(t): t for t in Tag}
_UNSIGNED, _BYTES, _OTHER = "unsigned", "bytes", "other"
_KIND: dict[int, str] = {
    int(t): _UNSIGNED if t in _UNSIGNED_MAX else _BYTES if t == Tag.OCTET_STRING else _OTHER
    for t in Tag
}


# --- encoding -------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def encode_integer(value: int) -> bytes:
    """INTEGER in minimal two's complement."""
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return _tlv(0x02, value.to_bytes(size, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    """OBJECT IDENTIFIER TLV (requests reach it through `_request_varbind`'s cache)."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] > 39):
        raise ValueError(f"cannot encode OID {oid}")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = []
        rest = arc
        while rest:
            chunk.append(rest & 0x7F)
            rest >>= 7
        out.extend(b | 0x80 for b in reversed(chunk[1:]))
        out.append(chunk[0])
    return _tlv(0x06, bytes(out))


_NULL = b"\x05\x00"


@lru_cache(maxsize=65_536)
def _request_varbind(oid: Oid) -> bytes:
    """SEQUENCE { OID, NULL }: a request's varbind, made once per OID (a poll asks for the
    same OIDs every time; encoding them was 4 % of the daemon's CPU). The only cache of
    encoded OIDs: bounded, so a fleet of many models does not make it grow without end."""
    return _tlv(0x30, encode_oid(oid) + _NULL)


def encode_pdu(
    pdu_type: int,
    request_id: int,
    oids: Sequence[Oid],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A request PDU. Only GET, GETNEXT and GETBULK can be built."""
    if pdu_type not in REQUEST_PDUS:
        raise ValueError("sobriety only sends GET, GETNEXT and GETBULK requests")
    varbinds = b"".join(map(_request_varbind, oids))
    bulk = pdu_type == GET_BULK
    return _tlv(
        pdu_type,
        encode_integer(request_id)
        + encode_integer(non_repeaters if bulk else 0)
        + encode_integer(max_repetitions if bulk else 0)
        + _tlv(0x30, varbinds),
    )


def encode_request(
    version: str,
    community: bytes,
    pdu_type: int,
    request_id: int,
    oids: Sequence[Oid],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A v1/v2c request message."""
    if pdu_type == GET_BULK and version == "1":
        raise ValueError("SNMPv1 has no GETBULK")
    pdu = encode_pdu(pdu_type, request_id, oids, non_repeaters, max_repetitions)
    return _tlv(0x30, encode_integer(VERSIONS[version]) + _tlv(0x04, community) + pdu)


# --- decoding -------------------------------------------------------------------------------


def _bad(detail: str) -> MalformedResponse:
    return MalformedResponse(detail)


def _header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the TLV at `pos`, bounds-checked."""
    if pos + 2 > end:
        raise _bad("truncated")
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise _bad("bad_length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise _bad("truncated")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, end: int, tag: int, reason: str) -> tuple[int, int]:
    got, start, stop = _header(data, pos, end)
    if got != tag:
        raise _bad(reason)
    return start, stop


def _int(data: bytes, start: int, stop: int) -> int:
    if start == stop or stop - start > 9:
        raise _bad("bad_integer")
    return int.from_bytes(data[start:stop], "big", signed=True)


def decode_oid(body: bytes) -> Oid:
    """Contents of an OBJECT IDENTIFIER to a tuple; MalformedResponse if invalid."""
    if not body or len(body) > 512 or body[-1] & 0x80:
        raise _bad("bad_oid")
    if body.isascii():  # fast path: every sub-identifier below 128, one byte each
        first = body[0]
        if first < 80:
            return (first // 40, first % 40, *body[1:])
        return (2, first - 80, *body[1:])
    arcs: list[int] = []
    value = 0
    fresh = True
    for byte in body:
        if fresh and byte == 0x80:
            raise _bad("bad_oid")  # non-minimal sub-identifier
        value = (value << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            if value > 0xFFFFFFFF and arcs:
                raise _bad("bad_oid")
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    if head[1] > 0xFFFFFFFF:
        raise _bad("bad_oid")
    return (*head, *arcs[1:])


def _value(tag: int, data: bytes, start: int, stop: int) -> Value:
    if tag == Tag.INTEGER:
        value = _int(data, start, stop)
        if not -(2**31) <= value < 2**31:
            raise _bad("bad_integer")
        return value
    if tag in _UNSIGNED_MAX:
        if start == stop or stop - start > 9:
            raise _bad("bad_integer")
        value = int.from_bytes(data[start:stop], "big")
        if value > _UNSIGNED_MAX[tag]:
            raise _bad("bad_integer")
        return value
    if tag in (Tag.OCTET_STRING, Tag.OPAQUE):
        return data[start:stop]
    if tag == Tag.IP_ADDRESS:
        if stop - start != 4:
            raise _bad("bad_ipaddress")
        return data[start:stop]
    if tag == Tag.OBJECT_IDENTIFIER:
        return decode_oid(data[start:stop])
    if stop != start:
        raise _bad("bad_null")
    return None  # NULL, noSuchObject, noSuchInstance, endOfMibView


@dataclass(frozen=True, slots=True)
class Pdu:
    """A decoded answer PDU."""

    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded v1/v2c message."""

    version: int
    community: bytes
    pdu: Pdu


def decode_pdu(data: bytes, pos: int, end: int) -> Pdu:
    """An answer PDU (Response or Report) at `pos`."""
    pdu_type, start, stop = _header(data, pos, end)
    if pdu_type not in ANSWER_PDUS:
        raise _bad("unexpected_pdu")
    fields: list[int] = []
    cursor = start
    for _ in range(3):
        s, e = _expect(data, cursor, stop, 0x02, "bad_pdu")
        fields.append(_int(data, s, e))
        cursor = e
    vb_start, vb_stop = _expect(data, cursor, stop, 0x30, "bad_varbinds")
    varbinds: list[VarBind] = []
    append = varbinds.append
    kinds = _KIND
    cursor = vb_start
    while cursor < vb_stop:
        # The hot loop: SEQUENCE { OID, value }, short lengths and common types inlined;
        # anything unusual goes through the general, bounds-checked `_header`/`_value`.
        if data[cursor] != 0x30 or cursor + 2 > vb_stop:
            raise _bad("bad_varbind")
        length = data[cursor + 1]
        if length < 0x80:
            s, e = cursor + 2, cursor + 2 + length
            if e > vb_stop:
                raise _bad("truncated")
        else:
            s, e = _expect(data, cursor, vb_stop, 0x30, "bad_varbind")
        if s + 2 > e or data[s] != 0x06:
            raise _bad("bad_varbind")
        o_len = data[s + 1]
        if o_len < 0x80:
            o_start, o_stop = s + 2, s + 2 + o_len
            if o_stop + 2 > e:
                raise _bad("truncated")
        else:
            o_start, o_stop = _expect(data, s, e, 0x06, "bad_varbind")
        tag = data[o_stop]
        v_len = data[o_stop + 1] if o_stop + 1 < e else 0x80
        kind = kinds.get(tag)
        if kind is None:
            raise _bad("bad_value_type")
        if v_len < 0x80 and o_stop + 2 + v_len == e:
            v_start = o_stop + 2
            if kind is _UNSIGNED and 0 < v_len < 9:  # counters, gauges, timeticks
                number = int.from_bytes(data[v_start:e], "big")
                if number > _UNSIGNED_MAX[tag]:
                    raise _bad("bad_integer")
                value: Value = number
            elif kind is _BYTES:
                value = data[v_start:e]
            else:
                value = _value(tag, data, v_start, e)
        else:
            _, v_start, v_stop = _header(data, o_stop, e)
            if v_stop != e:
                raise _bad("bad_value_type")
            value = _value(tag, data, v_start, v_stop)
        body = data[o_start:o_stop]
        if 0 < o_len < 0x80 and body.isascii() and (first := body[0]) < 80:  # arcs < 128
            oid: Oid = (first // 40, first % 40, *body[1:])
        else:
            oid = decode_oid(body)
        append(VarBind(oid, _TAG_OF[tag], value))
        cursor = e
    if vb_stop != stop:
        raise _bad("trailing_bytes")
    if len(varbinds) > 10_000:
        raise _bad("too_many_varbinds")
    return Pdu(pdu_type, fields[0], fields[1], fields[2], varbinds)


def decode_message(data: bytes) -> Message:
    """A whole v1/v2c message; MalformedResponse for anything that is not one."""
    if data and data[0] != 0x30:  # garbage is garbage, whatever its second byte claims
        raise _bad("not_a_message")
    try:
        start, stop = _expect(data, 0, len(data), 0x30, "not_a_message")
        if stop != len(data):
            raise _bad("trailing_bytes")
        v_start, v_stop = _expect(data, start, stop, 0x02, "bad_version")
        version = _int(data, v_start, v_stop)
        if version not in (0, 1):
            raise _bad("unsupported_version")
        c_start, c_stop = _expect(data, v_stop, stop, 0x04, "bad_community")
        pdu_end = _header(data, c_stop, stop)[2]
        if pdu_end != stop:
            raise _bad("trailing_bytes")
        pdu = decode_pdu(data, c_stop, stop)
    except MalformedResponse:
        raise
    except (ValueError, IndexError, OverflowError) as exc:  # belt and braces
        raise _bad("undecodable") from exc
    return Message(version, data[c_start:c_stop], pdu)

"""The v3 message codec: round trip, verification, and hostile bytes only raise Malformed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sobriety.errors import MalformedResponse
from sobriety.snmp import ber, usm, v3
from tests.budget import examples

ENGINE = bytes.fromhex("80001f888059dc486145a26322")
KEYS = usm.localized_keys(ENGINE, "sha256", "auth-pass-1", "aes128", "priv-pass-1")
SECURITY = v3.SecurityParameters(ENGINE, 7, 123456, b"monitor")
OID = (1, 3, 6, 1, 2, 1, 1, 5, 0)


def response(keys: usm.UsmKeys, salt: bytes = bytes(8)) -> bytes:
    """A v3 'answer' built by the request encoder with the PDU tag switched to Response.

    Without auth the tag can be switched after encoding; with auth it cannot (the HMAC
    covers it), so authenticated answers come from the real agent in the integration tests.
    """
    message = v3.encode_v3(42, SECURITY, keys, salt, ber.GET, 42, [OID])
    return message.replace(b"\xa0", b"\xa2", 1)


def test_unauthenticated_round_trip() -> None:
    plain = usm.UsmKeys(None, b"", None, b"")
    answer = v3.decode_v3(response(plain), None)
    assert answer.msg_id == 42
    assert answer.security == SECURITY
    assert [vb.oid for vb in answer.pdu.varbinds] == [OID]
    assert v3.peek_msg_id(response(plain)) == 42


def test_authenticated_message_is_verified() -> None:
    message = v3.encode_v3(9, SECURITY, KEYS, bytes(range(8)), ber.GET, 9, [OID])
    with pytest.raises(MalformedResponse) as caught:  # a request is not an answer...
        v3.decode_v3(message, KEYS)
    assert caught.value.detail == "unexpected_pdu"  # ...but its digest and privacy checked out
    tampered = bytearray(message)
    tampered[-3] ^= 0x01
    with pytest.raises(MalformedResponse) as caught:
        v3.decode_v3(bytes(tampered), KEYS)
    assert caught.value.detail == "bad_digest"
    other = usm.localized_keys(ENGINE, "sha256", "another-pass", "aes128", "priv-pass-1")
    with pytest.raises(MalformedResponse, match="bad_digest"):
        v3.decode_v3(message, other)


def test_an_encrypted_answer_gives_its_msg_id_and_its_decrypted_pdu() -> None:
    salt = bytes(range(8))
    parts = [
        tlv(0x04, ENGINE), b"\x02\x01\x07", b"\x02\x03\x01\xe2\x40", tlv(0x04, b"monitor"),
        tlv(0x04, bytes(KEYS.mac_length)), tlv(0x04, salt),
    ]  # fmt: skip
    secret = tlv(0x04, usm.encrypt(KEYS, 7, 123456, salt, SCOPED))
    message = v3_answer(flags=b"\x04\x01\x03", usm_parts=parts, scoped=secret, keys=KEYS)
    answer = v3.decode_v3(message, KEYS)
    assert (answer.msg_id, answer.flags) == (42, 3)  # the msgID, not msgMaxSize's 1500
    assert [(vb.oid, vb.value) for vb in answer.pdu.varbinds] == [(OID, b"sw")]


def test_v1_and_v2c_are_not_v3() -> None:
    assert v3.peek_msg_id(ber.encode_request("2c", b"public", ber.GET, 5, [OID])) is None
    assert v3.peek_msg_id(b"\x30\x03\x02\x01") is None


@settings(max_examples=examples(1500), deadline=None)
@given(st.data())
def test_hostile_v3_bytes_only_raise_malformed(data: st.DataObject) -> None:
    base = data.draw(
        st.sampled_from(
            [
                v3.encode_v3(1, SECURITY, KEYS, bytes(8), ber.GET_BULK, 1, [OID], 0, 10),
                response(usm.UsmKeys(None, b"", None, b"")),
            ]
        )
    )
    mutated = bytearray(base)
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, max(len(mutated) - 1, 0)))
        action = data.draw(st.integers(0, 2))
        if action == 0 and mutated:
            mutated[pos] = data.draw(st.integers(0, 255))
        elif action == 1:
            mutated.insert(pos, data.draw(st.integers(0, 255)))
        else:
            mutated = mutated[:pos]
    v3.peek_msg_id(bytes(mutated))  # never raises
    for keys in (KEYS, None):
        assert decode_detail(bytes(mutated), keys) is not None


def decode_detail(data: bytes, keys: usm.UsmKeys | None) -> str | None:
    """'' if it decodes, the malformation's detail if not; anything else propagates."""
    try:
        v3.decode_v3(data, keys)
    except MalformedResponse as exc:
        return exc.detail or None
    return ""


PLAIN = usm.UsmKeys(None, b"", None, b"")
AUTH_ONLY = usm.localized_keys(ENGINE, "sha256", "auth-pass-1", None, None)


def pysnmp_view(message: bytes) -> tuple[bytes, object, object]:
    """msgFlags, the USM parameters and the message's data, as pysnmp (the oracle) reads them."""
    from pyasn1.codec.ber import decoder
    from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
    from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

    msg, rest = decoder.decode(message, asn1Spec=SNMPv3Message())
    assert not rest
    params, _ = decoder.decode(
        bytes(msg["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters()
    )
    assert msg["msgVersion"] == 3 and msg["msgGlobalData"]["msgMaxSize"] == v3.MAX_SIZE
    return msg["msgGlobalData"]["msgFlags"].asOctets(), params, msg["msgData"]


@pytest.mark.parametrize(
    ("keys", "reportable", "flags"),
    [
        (PLAIN, True, 0x04),
        (PLAIN, False, 0x00),
        (AUTH_ONLY, True, 0x05),
        (AUTH_ONLY, False, 0x01),
        (KEYS, True, 0x07),
    ],
)
def test_the_flags_say_reportable_auth_and_priv(
    keys: usm.UsmKeys, reportable: bool, flags: int
) -> None:
    message = v3.encode_v3(1, SECURITY, keys, bytes(range(8)), ber.GET, 1, [OID],
                           reportable=reportable)  # fmt: skip
    assert pysnmp_view(message)[0] == bytes((flags,))


def test_a_request_carries_the_user_the_engine_and_an_empty_context() -> None:
    message = v3.encode_v3(5, SECURITY, AUTH_ONLY, b"salt", ber.GET, 5, [OID])
    _, params, data = pysnmp_view(message)
    assert params["msgAuthoritativeEngineId"].asOctets() == ENGINE  # type: ignore[index]
    assert params["msgAuthoritativeEngineBoots"] == 7  # type: ignore[index]
    assert params["msgAuthoritativeEngineTime"] == 123456  # type: ignore[index]
    assert params["msgUserName"].asOctets() == b"monitor"  # type: ignore[index]
    assert len(params["msgAuthenticationParameters"]) == AUTH_ONLY.mac_length  # type: ignore[index]
    assert params["msgPrivacyParameters"].asOctets() == b""  # type: ignore[index]
    scoped = data["plaintext"]  # type: ignore[index]
    assert scoped["contextEngineId"].asOctets() == ENGINE
    assert scoped["contextName"].asOctets() == b""
    named = v3.encode_v3(5, SECURITY, PLAIN, b"", ber.GET, 5, [OID], context=b"vlan-10")
    named_scoped = pysnmp_view(named)[2]["plaintext"]  # type: ignore[index]
    assert named_scoped["contextName"].asOctets() == b"vlan-10"


def test_a_getbulk_carries_its_non_repeaters_and_repetitions() -> None:
    message = v3.encode_v3(3, SECURITY, PLAIN, b"", ber.GET_BULK, 3, [OID, OID], 1, 25)
    answer = v3.decode_v3(message.replace(b"\xa5", b"\xa2", 1), None)
    assert (answer.pdu.request_id, answer.pdu.error_status, answer.pdu.error_index) == (3, 1, 25)
    get = v3.encode_v3(3, SECURITY, PLAIN, b"", ber.GET, 3, [OID])
    answer = v3.decode_v3(get.replace(b"\xa0", b"\xa2", 1), None)
    assert (answer.pdu.error_status, answer.pdu.error_index) == (0, 0)


def plain_answer() -> bytes:
    return response(PLAIN)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\x04\x00", "not_a_message"),
        (plain_answer() + b"\x00", "trailing_bytes"),
        (b"\x30\x02\x04\x00", "bad_version"),
        (ber.encode_request("2c", b"public", ber.GET, 5, [OID]), "unsupported_version"),
        (b"\x30\x05\x02\x01\x03\x04\x00", "bad_header"),
        (
            plain_answer().replace(b"\x02\x01\x03\x04", b"\x02\x01\x03\x30", 1),
            "bad_security_parameters",
        ),
        (
            plain_answer().replace(b"\x04\x01\x04\x02\x01\x03", b"\x04\x01\x04\x02\x01\x02", 1),
            "unsupported_security_model",
        ),
    ],
)
def test_each_malformation_says_what_it_is(data: bytes, detail: str) -> None:
    """The detail is the `reason` label of sobriety_snmp_malformed_total: it must be right."""
    assert decode_detail(data, None) == detail


def tlv(tag: int, body: bytes) -> bytes:
    return ber._tlv(tag, body)


ANSWER_PDU = tlv(0xA2, b"\x02\x01\x2a\x02\x01\x00\x02\x01\x00" + tlv(0x30, tlv(0x30,
                 ber.encode_oid(OID) + b"\x04\x02sw")))  # fmt: skip
SCOPED = tlv(0x30, tlv(0x04, ENGINE) + tlv(0x04, b"") + ANSWER_PDU)
OTHER = usm.localized_keys(ENGINE, "sha256", "another-pass", None, None)
HEADER = {"msg_id": b"\x02\x01\x2a", "max_size": b"\x02\x02\x05\xdc", "model": b"\x02\x01\x03"}


def v3_answer(
    flags: bytes = b"\x04\x01\x00",
    header: dict[str, bytes] | None = None,
    usm_parts: list[bytes] | None = None,
    scoped: bytes | None = None,
    keys: usm.UsmKeys | None = None,
) -> bytes:
    """A v3 answer built field by field (RFC 3412 6, RFC 3414 2.4); signed with `keys` when
    its flags carry auth, so that each field can be made wrong alone."""
    h = {**HEADER, **(header or {})}
    mac = bytes(keys.mac_length) if keys is not None else b""
    parts = usm_parts or [
        tlv(0x04, ENGINE), b"\x02\x01\x07", b"\x02\x03\x01\xe2\x40", tlv(0x04, b"monitor"),
        tlv(0x04, mac), tlv(0x04, b""),
    ]  # fmt: skip
    body = (
        b"\x02\x01\x03"
        + tlv(0x30, h["msg_id"] + h["max_size"] + flags + h["model"])
        + tlv(0x04, tlv(0x30, b"".join(parts)))
        + (scoped if scoped is not None else SCOPED)
    )  # fmt: skip
    message = tlv(0x30, body)
    if keys is not None and mac:
        message = message.replace(mac, usm.authenticate(keys, message), 1)
    return message


def test_a_field_built_answer_decodes_to_its_own_fields() -> None:
    answer = v3.decode_v3(v3_answer(), None)
    assert (answer.msg_id, answer.flags) == (42, 0)  # the msgID, not msgMaxSize's 1500
    assert answer.security == v3.SecurityParameters(ENGINE, 7, 123456, b"monitor")
    assert [(vb.oid, vb.value) for vb in answer.pdu.varbinds] == [(OID, b"sw")]
    signed = v3.decode_v3(v3_answer(flags=b"\x04\x01\x01", keys=AUTH_ONLY), AUTH_ONLY)
    assert (signed.msg_id, signed.flags) == (42, 1)
    assert v3.peek_msg_id(v3_answer()) == 42
    assert v3.peek_msg_id(ber.encode_request("2c", b"public", ber.GET, 5, [OID])) is None


def security_parameters_not_a_sequence() -> bytes:
    """A v3 answer whose msgSecurityParameters string holds a SET where RFC 3414 2.4 has the
    UsmSecurityParameters SEQUENCE."""
    message = bytearray(v3_answer())
    at = message.index(tlv(0x04, ENGINE)) - 2  # the SEQUENCE's tag, its length in one byte
    assert message[at] == 0x30
    message[at] = 0x31
    return bytes(message)


@pytest.mark.parametrize(
    ("message", "keys", "detail"),
    [
        (v3_answer(header={"msg_id": b"\x04\x01\x2a"}), None, "bad_header"),
        (v3_answer(header={"max_size": b"\x04\x02\x05\xdc"}), None, "bad_header"),
        (v3_answer(flags=b"\x02\x01\x00"), None, "bad_header"),  # flags an OCTET STRING
        (v3_answer(flags=b"\x04\x02\x00\x00"), None, "bad_header"),  # ... of one byte
        (v3_answer(flags=b"\x04\x00"), None, "bad_header"),
        (v3_answer(header={"model": b"\x04\x01\x03"}), None, "bad_header"),
        (v3_answer(usm_parts=[b"\x02\x01\x07"]), None, "bad_security_parameters"),
        (security_parameters_not_a_sequence(), None, "bad_security_parameters"),
        (v3_answer(flags=b"\x04\x01\x01"), None, "unexpected_auth"),  # auth, no keys
        (v3_answer(flags=b"\x04\x01\x01"), PLAIN, "unexpected_auth"),  # auth, no auth key
        (v3_answer(flags=b"\x04\x01\x01"), AUTH_ONLY, "bad_digest"),  # an empty digest
        (v3_answer(flags=b"\x04\x01\x01", keys=OTHER), AUTH_ONLY, "bad_digest"),  # other key
        (v3_answer(flags=b"\x04\x01\x03", keys=AUTH_ONLY), AUTH_ONLY, "unexpected_priv"),
        (v3_answer(flags=b"\x04\x01\x02"), KEYS, "unexpected_priv"),  # privacy without auth
        (v3_answer(flags=b"\x04\x01\x03", keys=KEYS), KEYS, "bad_encrypted_pdu"),  # plain
        (
            v3_answer(flags=b"\x04\x01\x03", keys=KEYS, scoped=tlv(0x04, bytes(40))),
            KEYS,
            "bad_privacy_parameters",  # no 8-byte salt
        ),
        (v3_answer(scoped=tlv(0x31, b"")), None, "bad_scoped_pdu"),
        (v3_answer(scoped=tlv(0x30, b"\x02\x01\x00")), None, "bad_scoped_pdu"),  # engine id
        (v3_answer(scoped=tlv(0x30, tlv(0x04, ENGINE) + b"\x02\x01\x00")), None, "bad_scoped_pdu"),
        (
            v3_answer(scoped=tlv(0x30, SCOPED[2:] + b"\x05\x00")),  # a NULL after the PDU
            None,
            "trailing_bytes",
        ),
    ],
)  # fmt: skip
def test_each_field_of_a_v3_answer_has_its_malformation(
    message: bytes, keys: usm.UsmKeys | None, detail: str
) -> None:
    """The detail is the `reason` label of sobriety_snmp_malformed_total."""
    assert decode_detail(message, keys) == detail


def test_a_request_is_reportable_unless_told_otherwise() -> None:
    """RFC 3412 7.1: a GET must set reportableFlag, or an agent sends no Report for discovery
    or for a wrong key; the daemon's requests rely on this default."""
    message = v3.encode_v3(1, SECURITY, PLAIN, b"", ber.GET, 1, [OID])
    assert pysnmp_view(message)[0] == b"\x04"

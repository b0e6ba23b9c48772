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

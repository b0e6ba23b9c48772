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

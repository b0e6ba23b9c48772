"""SNMPv3 messages with the User-based Security Model (RFC 3412, 3414), for the lean engine.

`encode_v3` builds a request message (GET, GETNEXT, GETBULK only, like `ber`), signs it and
encrypts its scoped PDU as the user's keys say. `decode_v3` parses an answer, checks its
HMAC over the exact bytes received, and decrypts it. Any problem is `MalformedResponse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sobriety.errors import MalformedResponse
from sobriety.snmp import ber, usm
from sobriety.snmp.types import Oid

FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE = 0x01, 0x02, 0x04
USM_MODEL = 3
MAX_SIZE = 65_507

# usmStats counters a Report names (RFC 3414 §5)
UNSUPPORTED_SEC_LEVELS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 1, 0)
NOT_IN_TIME_WINDOWS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0)
UNKNOWN_USER_NAMES = (1, 3, 6, 1, 6, 3, 15, 1, 1, 3, 0)
UNKNOWN_ENGINE_IDS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0)
WRONG_DIGESTS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 5, 0)
DECRYPTION_ERRORS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 6, 0)


@dataclass(frozen=True, slots=True)
class SecurityParameters:
    """What the authoritative engine says about itself, and the user's parameters."""

    engine_id: bytes
    boots: int
    time: int
    user: bytes


@dataclass(frozen=True, slots=True)
class V3Answer:
    """A decoded, verified, decrypted answer."""

    msg_id: int
    flags: int
    security: SecurityParameters
    pdu: ber.Pdu


def _os(body: bytes) -> bytes:
    return ber._tlv(0x04, body)


def encode_v3(
    msg_id: int,
    security: SecurityParameters,
    keys: usm.UsmKeys,
    salt: bytes,
    pdu_type: int,
    request_id: int,
    oids: Sequence[Oid],
    non_repeaters: int = 0,
    max_repetitions: int = 0,
    context: bytes = b"",
    reportable: bool = True,
) -> bytes:
    """A signed (and encrypted, with a privacy key) v3 request message."""
    pdu = ber.encode_pdu(pdu_type, request_id, oids, non_repeaters, max_repetitions)
    scoped = ber._tlv(0x30, _os(security.engine_id) + _os(context) + pdu)
    flags = FLAG_REPORTABLE if reportable else 0
    priv_params = b""
    if keys.auth_protocol is not None:
        flags |= FLAG_AUTH
    if keys.priv_protocol is not None:
        flags |= FLAG_PRIV
        priv_params = salt
        scoped = _os(usm.encrypt(keys, security.boots, security.time, salt, scoped))
    global_data = ber._tlv(
        0x30,
        ber.encode_integer(msg_id)
        + ber.encode_integer(MAX_SIZE)
        + _os(bytes((flags,)))
        + ber.encode_integer(USM_MODEL),
    )
    mac_len = keys.mac_length
    head = (
        _os(security.engine_id)
        + ber.encode_integer(security.boots)
        + ber.encode_integer(security.time)
        + _os(security.user)
    )
    auth_tlv = _os(bytes(mac_len))
    inner = head + auth_tlv + _os(priv_params)
    params = ber._tlv(0x30, inner)
    sec_tlv = _os(params)
    version = ber.encode_integer(3)
    body = version + global_data + sec_tlv + scoped
    message = ber._tlv(0x30, body)
    if keys.auth_protocol is None:
        return message
    # offset of the zeroed auth parameter: every header and field written before it
    offset = (
        (len(message) - len(body))  # message SEQUENCE header
        + len(version)
        + len(global_data)
        + (len(sec_tlv) - len(params))  # securityParameters OCTET STRING header
        + (len(params) - len(inner))  # UsmSecurityParameters SEQUENCE header
        + len(head)
        + (len(auth_tlv) - mac_len)  # msgAuthenticationParameters header
    )
    mac = usm.authenticate(keys, message)
    return message[:offset] + mac + message[offset + mac_len :]


def peek_msg_id(data: bytes) -> int | None:
    """The msgID of a v3 message (plaintext header), or None if this is not one."""
    try:
        start, stop = ber._expect(data, 0, len(data), 0x30, "not_a_message")
        v_start, v_stop = ber._expect(data, start, stop, 0x02, "bad_version")
        if ber._int(data, v_start, v_stop) != 3:
            return None
        g_start, g_stop = ber._expect(data, v_stop, stop, 0x30, "bad_header")
        i_start, i_stop = ber._expect(data, g_start, g_stop, 0x02, "bad_header")
        return ber._int(data, i_start, i_stop)
    except MalformedResponse:
        return None


def decode_v3(data: bytes, keys: usm.UsmKeys | None) -> V3Answer:
    """Parse a v3 answer; verify and decrypt it with `keys` when its flags say so.

    Reports sent without authentication (discovery, unknown user...) are accepted with
    `keys=None` or when their flags carry no auth.
    """
    start, stop = ber._expect(data, 0, len(data), 0x30, "not_a_message")
    if stop != len(data):
        raise MalformedResponse("trailing_bytes")
    v_start, v_stop = ber._expect(data, start, stop, 0x02, "bad_version")
    if ber._int(data, v_start, v_stop) != 3:
        raise MalformedResponse("unsupported_version")
    g_start, g_stop = ber._expect(data, v_stop, stop, 0x30, "bad_header")
    fields: list[int] = []
    cursor = g_start
    for _ in range(2):
        s, e = ber._expect(data, cursor, g_stop, 0x02, "bad_header")
        fields.append(ber._int(data, s, e))
        cursor = e
    f_start, f_stop = ber._expect(data, cursor, g_stop, 0x04, "bad_header")
    if f_stop - f_start != 1:
        raise MalformedResponse("bad_header")
    flags = data[f_start]
    m_start, m_stop = ber._expect(data, f_stop, g_stop, 0x02, "bad_header")
    if ber._int(data, m_start, m_stop) != USM_MODEL:
        raise MalformedResponse("unsupported_security_model")
    p_start, p_stop = ber._expect(data, g_stop, stop, 0x04, "bad_security_parameters")
    s_start, s_stop = ber._expect(data, p_start, p_stop, 0x30, "bad_security_parameters")
    parts: list[tuple[int, int]] = []
    cursor = s_start
    for tag in (0x04, 0x02, 0x02, 0x04, 0x04, 0x04):
        parts.append(ber._expect(data, cursor, s_stop, tag, "bad_security_parameters"))
        cursor = parts[-1][1]
    engine_id = data[parts[0][0] : parts[0][1]]
    boots = ber._int(data, *parts[1])
    engine_time = ber._int(data, *parts[2])
    user = data[parts[3][0] : parts[3][1]]
    auth_start, auth_stop = parts[4]
    salt = data[parts[5][0] : parts[5][1]]
    security = SecurityParameters(engine_id, boots, engine_time, user)

    if flags & FLAG_AUTH:
        if keys is None or keys.auth_protocol is None:
            raise MalformedResponse("unexpected_auth")
        received = data[auth_start:auth_stop]
        if len(received) != keys.mac_length:
            raise MalformedResponse("bad_digest")
        zeroed = data[:auth_start] + bytes(keys.mac_length) + data[auth_stop:]
        if usm.authenticate(keys, zeroed) != received:
            raise MalformedResponse("bad_digest")
    if flags & FLAG_PRIV:
        if keys is None or keys.priv_protocol is None or not flags & FLAG_AUTH:
            raise MalformedResponse("unexpected_priv")
        e_start, e_stop = ber._expect(data, p_stop, stop, 0x04, "bad_encrypted_pdu")
        try:
            scoped = usm.decrypt(keys, boots, engine_time, salt, data[e_start:e_stop])
        except ValueError:
            raise MalformedResponse("bad_privacy_parameters") from None
        return V3Answer(fields[0], flags, security, _scoped_pdu(scoped, 0, len(scoped)))
    return V3Answer(fields[0], flags, security, _scoped_pdu(data, p_stop, stop))


def _scoped_pdu(data: bytes, pos: int, end: int) -> ber.Pdu:
    start, stop = ber._expect(data, pos, end, 0x30, "bad_scoped_pdu")
    _, c_stop = ber._expect(data, start, stop, 0x04, "bad_scoped_pdu")
    _, n_stop = ber._expect(data, c_stop, stop, 0x04, "bad_scoped_pdu")
    pdu_end = ber._header(data, n_stop, stop)[2]
    if pdu_end != stop:
        raise MalformedResponse("trailing_bytes")
    return ber.decode_pdu(data, n_stop, stop)

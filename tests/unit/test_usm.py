"""USM primitives: RFC 3414 test vectors, and pysnmp as the oracle for SHA-2 and AES."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.type import univ
from pysnmp.proto.secmod.rfc3414 import localkey
from pysnmp.proto.secmod.rfc3826.priv import aes as pysnmp_aes
from pysnmp.proto.secmod.rfc7860.auth import hmacsha2

from sobriety.snmp import usm

ENGINE = bytes.fromhex("000000000000000000000002")  # RFC 3414 A.3


def test_rfc3414_a3_password_to_key_vectors() -> None:
    ku_md5 = usm.password_to_key(b"maplesyrup", "md5")
    assert ku_md5.hex() == "9faf3283884e92834ebc9847d8edd963"
    assert usm.localize_key(ku_md5, ENGINE, "md5").hex() == "526f5eed9fcce26f8964c2930787d82b"
    ku_sha = usm.password_to_key(b"maplesyrup", "sha1")
    assert ku_sha.hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    assert usm.localize_key(ku_sha, ENGINE, "sha1").hex() == (
        "6695febc9288e36282235fc7151f128497b38f3f"
    )


@pytest.mark.parametrize("protocol", ["sha224", "sha256", "sha384", "sha512"])
def test_sha2_keys_match_pysnmp(protocol: str) -> None:
    hash_name = usm.AUTH_PROTOCOLS[protocol][0]
    ours = usm.localize_key(usm.password_to_key(b"bench-auth-pass", hash_name), ENGINE, hash_name)
    theirs = localkey.password_to_key(
        univ.OctetString(b"bench-auth-pass"),
        univ.OctetString(ENGINE),
        getattr(__import__("hashlib"), hash_name),
    )
    assert ours == bytes(theirs)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
def test_aes_matches_pysnmp(plain: bytes, boots: int, engine_time: int) -> None:
    keys = usm.localized_keys(ENGINE, "sha256", "auth-pass-1", "aes128", "priv-pass-1")
    salt = bytes(range(8))
    ours = usm.encrypt(keys, boots, engine_time, salt, plain)
    assert usm.decrypt(keys, boots, engine_time, salt, ours) == plain
    # pysnmp decrypts what we encrypt: msgPrivacyParameters is the salt
    params = (boots, engine_time, univ.OctetString(salt))
    theirs = pysnmp_aes.Aes().decrypt_data(
        univ.OctetString(keys.priv_key), params, univ.OctetString(ours)
    )
    assert bytes(theirs) == plain


@pytest.mark.parametrize(
    ("protocol", "service"),
    [
        ("sha224", hmacsha2.HmacSha2.SHA224_SERVICE_ID),
        ("sha256", hmacsha2.HmacSha2.SHA256_SERVICE_ID),
        ("sha384", hmacsha2.HmacSha2.SAH384_SERVICE_ID),
        ("sha512", hmacsha2.HmacSha2.SHA512_SERVICE_ID),
    ],
)
def test_hmac_sha2_matches_pysnmp(protocol: str, service: tuple[int, ...]) -> None:
    keys = usm.localized_keys(ENGINE, protocol, "auth-pass-1", None, None)
    oracle = hmacsha2.HmacSha2(service)
    zeros = bytes(keys.mac_length)
    message = b"\x30\x40" + bytes(range(20)) + zeros + bytes(range(30))
    signed = bytes(oracle.authenticate_outgoing_message(univ.OctetString(keys.auth_key), message))
    assert signed == message.replace(zeros, usm.authenticate(keys, message))


def test_impossible_combinations_are_refused() -> None:
    with pytest.raises(ValueError, match="needs authentication"):
        usm.localized_keys(ENGINE, None, None, "aes128", "x" * 8)
    with pytest.raises(ValueError, match="needs an auth hash"):
        usm.localized_keys(ENGINE, "md5", "x" * 8, "aes256", "y" * 8)
    with pytest.raises(ValueError, match="no privacy protocol"):
        usm.localized_keys(ENGINE, "sha", "x" * 8, "des", "y" * 8)

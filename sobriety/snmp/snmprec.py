"""snmpsim `.snmprec` recordings: a parser, and a transport that answers from one like an agent.

Format (as snmpsim 1.2.2 reads it): one `OID|TAG|VALUE` record a line, decoded as Latin-1.
TAG is the decimal BER tag, optionally suffixed `x` (value in hex) or `e` (value with Python
escapes); `TAG:module` lines are variations, of which `numeric` is evaluated here without
snmpsim's random deviation so replays are repeatable. `#` lines and blank lines are skipped.

`RecordedTransport` behaves like snmpsim serving the file over SNMPv2c (a missing GET is
noSuchInstance, the end of the data is endOfMibView) and logs every request so tests can
assert what a poll costs. Byte counts are not estimated: they stay 0 for recorded replays.
"""

from __future__ import annotations

import bisect
import bz2
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sobriety.clock import Clock, SystemClock
from sobriety.errors import SobrietyError, TargetTimeout
from sobriety.snmp.transport import RequestStats
from sobriety.snmp.types import Oid, Tag, Value, VarBind, parse_oid

_ESCAPES = {"\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_NUMERIC_MAX = {Tag.COUNTER64: 0xFFFFFFFFFFFFFFFF}
BULK_MAX_VARBINDS = 64  # pysnmp's BulkCommandResponder.max_varbinds, which snmpsim serves


class SnmprecError(SobrietyError, ValueError):
    """A line of a recording cannot be read."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True, slots=True)
class NumericVariation:
    """snmpsim's `numeric` variation: f(t × rate) × scale + offset, clamped to [min, max]."""

    function: Callable[..., float]
    args: tuple[str, ...]
    settings: dict[str, float]

    def value(self, seconds: float, tag: Tag) -> int:
        s = self.settings
        t = seconds * s.get("rate", 1.0)
        args = [t if a == "<time>" else float(a) for a in self.args] or [t]
        v = self.function(*args) * s.get("scale", 1.0) + s.get("offset", 0.0)
        v += s.get("initial", s.get("min", 0.0))
        low = s.get("min", 0.0)
        high = s.get("max", float(_NUMERIC_MAX.get(tag, 0xFFFFFFFF)))
        return int(min(max(v, low), high))


def _numeric(spec: str) -> NumericVariation:
    settings: dict[str, float] = {}
    function: Callable[..., float] = float
    args: tuple[str, ...] = ()
    for item in filter(None, spec.split(",")):
        key, _, raw = item.partition("=")
        if key == "function":
            name, *args_list = raw.split("%")
            found = getattr(math, name, None)
            if not callable(found):
                raise ValueError(f"unknown function {name!r}")
            function, args = found, tuple(args_list)
        elif raw:
            settings[key] = float(raw)
        else:
            settings[key] = 1.0  # flags such as `cumulative`, `wrap`, `atime`
    return NumericVariation(function, args, settings)


def _unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out.append(ord(char) & 0xFF)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise ValueError(f"unknown escape \\{nxt}")
    return bytes(out)


def _decode(tag: Tag, text: str, encoding: str | None) -> Value:
    if encoding == "x":
        raw = bytes.fromhex(text)
    elif encoding == "e":
        raw = _unescape(text)
    else:
        raw = text.encode("latin-1")
    if tag in (Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64):
        value = int(raw.decode("ascii") if encoding else text)
        low, high = (-(2**31), 2**31 - 1) if tag is Tag.INTEGER else (0, 2**32 - 1)
        if tag is Tag.COUNTER64:
            high = 2**64 - 1
        if not low <= value <= high:
            raise ValueError(f"{value} out of range for {tag.name}")
        return value
    if tag is Tag.IP_ADDRESS:
        if encoding:
            if len(raw) != 4:
                raise ValueError("an IpAddress has 4 octets")
            return raw
        parts = [int(p) for p in text.split(".")]
        if len(parts) != 4 or any(not 0 <= p <= 255 for p in parts):
            raise ValueError(f"bad IpAddress {text!r}")
        return bytes(parts)
    if tag is Tag.OBJECT_IDENTIFIER:
        return parse_oid(raw.decode("ascii"))
    if tag is Tag.NULL or tag in (Tag.NO_SUCH_OBJECT, Tag.NO_SUCH_INSTANCE, Tag.END_OF_MIB_VIEW):
        return None
    return raw  # OCTET STRING, Opaque


@dataclass
class Recording:
    """The records of one file, sorted by OID, with bisect lookups."""

    path: Path
    oids: list[Oid] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    variations: dict[int, NumericVariation] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    clock: Clock = field(default_factory=SystemClock)
    started: float = 0.0

    @property
    def community(self) -> str:
        name = self.path.name
        for suffix in (".bz2", ".snmprec"):
            name = name.removesuffix(suffix)
        return name

    def __len__(self) -> int:
        return len(self.oids)

    def varbind(self, i: int) -> VarBind:
        tag, value = self.tags[i], self.values[i]
        variation = self.variations.get(i)
        if variation is not None:
            value = variation.value(self.clock.monotonic() - self.started, tag)
        return VarBind(self.oids[i], tag, value)

    def get(self, oid: Oid) -> VarBind:
        i = bisect.bisect_left(self.oids, oid)
        if i < len(self.oids) and self.oids[i] == oid:
            return self.varbind(i)
        return VarBind(oid, Tag.NO_SUCH_INSTANCE, None)

    def next_after(self, oid: Oid) -> VarBind:
        i = bisect.bisect_right(self.oids, oid)
        if i < len(self.oids):
            return self.varbind(i)
        return VarBind(oid, Tag.END_OF_MIB_VIEW, None)


def load_snmprec(path: Path, clock: Clock | None = None, *, strict: bool = True) -> Recording:
    """Read a `.snmprec` or `.snmprec.bz2` file. Bad lines raise (or are skipped if not strict)."""
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    clock = clock or SystemClock()
    rows: list[tuple[Oid, Tag, Value, NumericVariation | None]] = []
    skipped: list[tuple[int, str]] = []
    for number, raw_line in enumerate(data.decode("latin-1").splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            rows.append(_parse_line(line))
        except (ValueError, KeyError) as exc:
            if strict:
                raise SnmprecError(path, number, str(exc)) from None
            skipped.append((number, str(exc)))
    rows.sort(key=lambda r: r[0])
    recording = Recording(path, skipped=skipped, clock=clock, started=clock.monotonic())
    for i, (oid, tag, value, variation) in enumerate(rows):
        recording.oids.append(oid)
        recording.tags.append(tag)
        recording.values.append(value)
        if variation is not None:
            recording.variations[i] = variation
    return recording


def _parse_line(line: str) -> tuple[Oid, Tag, Value, NumericVariation | None]:
    parts = line.split("|", 2)
    if len(parts) != 3:
        raise ValueError("a record is OID|TAG|VALUE")
    oid_text, tag_text, value_text = parts
    oid = parse_oid(oid_text)
    tag_text, _, module = tag_text.partition(":")
    encoding = tag_text[-1] if tag_text[-1:] in ("x", "e") else None
    number = tag_text[:-1] if encoding else tag_text
    try:
        tag = Tag(int(number))
    except ValueError:
        raise ValueError(f"unknown tag {tag_text!r}") from None
    if module:
        if module != "numeric":
            raise ValueError(f"unsupported variation module {module!r}")
        return oid, tag, 0, _numeric(value_text)
    return oid, tag, _decode(tag, value_text, encoding), None


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One request a recorded transport answered."""

    kind: str
    oids: tuple[Oid, ...]
    max_repetitions: int
    answered: int


FailHook = Callable[[str, Sequence[Oid]], Exception | None]


class RecordedTransport:
    """An SnmpTransport answering from a recording, like snmpsim over SNMPv2c (or v1)."""

    def __init__(
        self, recording: Recording, *, version: str = "2c", fail: FailHook | None = None
    ) -> None:
        self.recording = recording
        self.version = version
        self.fail = fail
        self.stats = RequestStats()
        self.log: list[RequestLogEntry] = []

    @property
    def supports_bulk(self) -> bool:
        return self.version != "1"

    def _check(self, kind: str, oids: Sequence[Oid]) -> None:
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        if self.fail is not None:
            error = self.fail(kind, oids)
            if error is not None:
                if isinstance(error, TargetTimeout):
                    self.stats.timeouts += 1
                raise error

    def _answer(
        self, kind: str, oids: Sequence[Oid], answer: list[VarBind], max_rep: int = 0
    ) -> list[VarBind]:
        self.stats.varbinds += len(answer)
        self.log.append(RequestLogEntry(kind, tuple(oids), max_rep, len(answer)))
        return answer

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        self._check("get", oids)
        return self._answer("get", oids, [self.recording.get(o) for o in oids])

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        self._check("getnext", oids)
        return self._answer("getnext", oids, [self.recording.next_after(o) for o in oids])

    async def get_bulk(
        self, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]:
        if not self.supports_bulk:
            raise TypeError("SNMPv1 has no GETBULK")
        self._check("getbulk", oids)
        answer = [self.recording.next_after(o) for o in oids[:non_repeaters]]
        cursors = list(oids[non_repeaters:])
        if cursors:  # as snmpsim (pysnmp's responder): whole rows, 64 varbinds at most
            max_repetitions = min(max_repetitions, max(1, BULK_MAX_VARBINDS // len(cursors)))
        for _ in range(max_repetitions if cursors else 0):
            row = [self.recording.next_after(c) for c in cursors]
            answer.extend(row)
            cursors = [vb.oid for vb in row]
            if all(vb.tag is Tag.END_OF_MIB_VIEW for vb in row):
                break
        return self._answer("getbulk", oids, answer, max_repetitions)

    async def close(self) -> None:
        return None

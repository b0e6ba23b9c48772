"""snmpsim `.snmprec` recordings: a reader that never aborts, and a transport that answers from one.

Format (as snmpsim 1.2.2 reads it): one `OID|TAG|VALUE` record a line (lines end at `\n`; a
`\r` before it is dropped; other control bytes belong to the value), decoded as Latin-1.
TAG is the decimal BER tag, optionally suffixed `x` (value in hex) or `e` (value with Python
escapes). `TAG:module` lines are variations: `numeric` is evaluated here without snmpsim's
random deviation so replays are repeatable; any other module (`writecache`, `volatilecache`,
`delay`...) is served as the plain value its `value=` (or `hexvalue=`) option records. `#`
lines and blank lines are not records.

A line that cannot be served is skipped and accounted for (`SkippedLine`: its number, a
reason from a bounded set, what was wrong), never fatal: captures from the field carry
redacted OIDs (`10.xx.xx.100`), empty or mistyped values, raw bytes where hex was meant.
An IpAddress recorded as its 4 raw octets (`64|eEij`) is served as those octets, as snmpsim
does. A second record for an OID already read is skipped (`duplicate_oid`); the first wins.

`RecordedTransport` behaves like snmpsim serving the file over SNMPv2c (a missing GET is
noSuchInstance, the end of the data is endOfMibView) and logs every request so tests can
assert what a poll costs. Byte counts are not estimated: they stay 0 for recorded replays.
"""

from __future__ import annotations

import bisect
import bz2
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from sobriety.clock import Clock, SystemClock
from sobriety.errors import SobrietyError, TargetTimeout
from sobriety.snmp.transport import RequestStats
from sobriety.snmp.types import Oid, Tag, Value, VarBind, parse_oid

_ESCAPES = {"\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_NUMERIC_MAX = {Tag.COUNTER64: 0xFFFFFFFFFFFFFFFF}
_INTEGERS = frozenset({Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64})
_EMPTY = frozenset({Tag.NULL, Tag.NO_SUCH_OBJECT, Tag.NO_SUCH_INSTANCE, Tag.END_OF_MIB_VIEW})
BULK_MAX_VARBINDS = 64  # pysnmp's BulkCommandResponder.max_varbinds, which snmpsim serves
_PREFIX_CACHE_MAX = 8192  # parsed OID prefixes kept while reading (rows share their column)

# Why a line was skipped: the bounded set of reasons (the detail says the rest).
SKIP_REASONS = (
    "not_a_record",  # no OID|TAG|VALUE shape
    "bad_oid",  # not a numeric OID (redacted `xx` parts, text)
    "unknown_tag",  # a TAG that is no SNMP type
    "bad_value",  # the value does not read as its TAG says
    "unsupported_variation",  # a variation module with no recorded value to serve
    "duplicate_oid",  # a second record for the same OID
)


class SnmprecError(SobrietyError, ValueError):
    """A line of a recording cannot be read (raised only when reading strictly)."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}")


class RecordingUnusable(SobrietyError, ValueError):
    """Nothing in a recording can be served: every line was skipped (or there were none)."""


class SkippedLine(NamedTuple):
    """A line of a recording that is not served: where, why (a bounded reason), what."""

    line: int
    reason: str
    detail: str


class _LineError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


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
                raise _LineError("bad_value", f"unknown function {name!r}")
            function, args = found, tuple(args_list)
        elif raw:
            try:
                settings[key] = float(raw)
            except ValueError:
                raise _LineError("bad_value", f"numeric setting {key}={raw!r}") from None
        else:
            settings[key] = 1.0  # flags such as `cumulative`, `wrap`, `atime`
    return NumericVariation(function, args, settings)


def _variation_value(module: str, spec: str) -> tuple[str, str | None]:
    """The plain value a non-numeric variation records: its `value=` or `hexvalue=` option.

    snmpsim's modules take `key=value` options separated by commas (a comma inside a value
    is escaped with a backslash); `value=` is what the module serves until it is changed.
    """
    options: dict[str, str] = {}
    key_value = ""
    i = 0
    while i <= len(spec):  # split on unescaped commas
        char = spec[i : i + 1]
        if char == "\\" and spec[i + 1 : i + 2] == ",":
            key_value += ","
            i += 2
            continue
        if char in (",", ""):
            key, sep, raw = key_value.partition("=")
            if sep:
                options.setdefault(key.strip(), raw)
            key_value = ""
        else:
            key_value += char
        i += 1
    if "value" in options:
        return options["value"], None
    if "hexvalue" in options:
        return options["hexvalue"], "x"
    raise _LineError("unsupported_variation", f"variation module {module!r} records no value=")


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
            try:
                out.append(int(text[i + 2 : i + 4], 16))
            except ValueError:
                raise _LineError("bad_value", f"bad escape {text[i : i + 4]!r}") from None
            i += 4
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise _LineError("bad_value", f"unknown escape \\{nxt}")
    return bytes(out)


def _raw(text: str, encoding: str | None) -> bytes:
    if encoding == "x":
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise _LineError("bad_value", f"not hex: {text[:40]!r}") from None
    if encoding == "e":
        return _unescape(text)
    return text.encode("latin-1")


def _decode(tag: Tag, text: str, encoding: str | None) -> Value:
    if tag in _INTEGERS:
        try:
            value = int(_raw(text, encoding).decode("ascii") if encoding else text)
        except (ValueError, UnicodeDecodeError):
            raise _LineError("bad_value", f"{tag.name} {text[:40]!r} is not a number") from None
        low, high = (-(2**31), 2**31 - 1) if tag is Tag.INTEGER else (0, 2**32 - 1)
        if tag is Tag.COUNTER64:
            high = 2**64 - 1
        if not low <= value <= high:
            raise _LineError("bad_value", f"{value} out of range for {tag.name}")
        return value
    if tag is Tag.IP_ADDRESS:
        return _ip_address(text, encoding)
    if tag is Tag.OBJECT_IDENTIFIER:
        try:
            return parse_oid(_raw(text, encoding).decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            raise _LineError("bad_value", f"OBJECT IDENTIFIER {text[:40]!r}") from None
    if tag in _EMPTY:
        return None
    return _raw(text, encoding)  # OCTET STRING, Opaque


def _ip_address(text: str, encoding: str | None) -> bytes:
    """Four octets: from hex, dotted quad, or (as snmpsim serves it) 4 raw characters."""
    if encoding:
        raw = _raw(text, encoding)
        if len(raw) != 4:
            raise _LineError("bad_value", f"an IpAddress has 4 octets, not {len(raw)}")
        return raw
    parts = text.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts):
        return bytes(int(p) for p in parts)
    raw = text.encode("latin-1")
    if len(raw) == 4:
        return raw
    raise _LineError("bad_value", f"bad IpAddress {text[:40]!r}")


@dataclass
class Recording:
    """The records of one file, sorted by OID, with bisect lookups, and what was skipped."""

    path: Path
    oids: list[Oid] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    variations: dict[int, NumericVariation] = field(default_factory=dict)
    skipped: list[SkippedLine] = field(default_factory=list)
    clock: Clock = field(default_factory=SystemClock)
    started: float = 0.0
    lines: int = 0  # lines in the file, records or not

    @property
    def community(self) -> str:
        name = self.path.name
        for suffix in (".bz2", ".snmprec"):
            name = name.removesuffix(suffix)
        return name

    def __len__(self) -> int:
        return len(self.oids)

    def skipped_by_reason(self) -> dict[str, int]:
        """How many lines were skipped for each reason."""
        return dict(sorted(Counter(s.reason for s in self.skipped).items()))

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


def load_snmprec(path: Path, clock: Clock | None = None, *, strict: bool = False) -> Recording:
    """Read a `.snmprec` or `.snmprec.bz2` file; every unusable line is skipped and listed.

    With `strict`, the first unusable line raises `SnmprecError` instead (for checking a
    recording before it is shared). Unreadable files raise OSError as usual.
    """
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    clock = clock or SystemClock()
    lines = data.decode("latin-1").replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    elif lines and lines[-1].endswith("\r"):
        lines[-1] = lines[-1][:-1]  # a CRLF file cut before its last line feed
    recording = Recording(path, clock=clock, started=clock.monotonic(), lines=len(lines))
    parsed = _LineParser().parse_lines(lines, path if strict else None)
    if not parsed.ordered:  # snmpsim files are in OID order; a hand-made one may not be
        parsed.sort()
    skipped = parsed.skipped
    oids, tags, values = recording.oids, recording.tags, recording.values
    for i, oid in enumerate(parsed.oids):
        if oids and oids[-1] == oid:
            number = parsed.numbers[i]
            if strict:
                raise SnmprecError(path, number, "a second record for this OID")
            skipped.append(SkippedLine(number, "duplicate_oid", "a second record for this OID"))
            continue
        variation = parsed.variations.get(i)
        if variation is not None:
            recording.variations[len(oids)] = variation
        oids.append(oid)
        tags.append(parsed.tags[i])
        values.append(parsed.values[i])
    skipped.sort()
    recording.skipped = skipped
    return recording


@dataclass
class _Parsed:
    """Records in file order (parallel lists), their line numbers, and the lines skipped."""

    oids: list[Oid] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    variations: dict[int, NumericVariation] = field(default_factory=dict)
    skipped: list[SkippedLine] = field(default_factory=list)
    ordered: bool = True  # every OID greater than the one before (no sort, no duplicates)

    def sort(self) -> None:
        """Into OID order; stable, so of two records for one OID the first in the file leads."""
        order = sorted(range(len(self.oids)), key=self.oids.__getitem__)
        where = {old: new for new, old in enumerate(order)}
        self.oids = [self.oids[i] for i in order]
        self.tags = [self.tags[i] for i in order]
        self.values = [self.values[i] for i in order]
        self.numbers = [self.numbers[i] for i in order]
        self.variations = {where[i]: v for i, v in self.variations.items()}
        self.ordered = True


class _LineParser:
    """Parses record lines; keeps the OID prefixes and tags it has read (rows share them).

    The loop is the hot path of a replay (a million-line walk): the common cases (a plain
    or hex string, a number, a row of a column already seen) are handled inline.
    """

    def __init__(self) -> None:
        self._prefixes: dict[str, Oid] = {}
        self._tags: dict[str, tuple[Tag, str | None, str]] = {}

    def parse_lines(self, lines: Sequence[str], strict: Path | None) -> _Parsed:
        """Every record line parsed, and the lines skipped; with `strict` (the file's
        path), the first unusable line raises SnmprecError instead."""
        out = _Parsed()
        oids, tags, values, numbers = out.oids, out.tags, out.values, out.numbers
        prefixes, known_tags = self._prefixes, self._tags
        octets, integers = Tag.OCTET_STRING, _INTEGERS
        last_oid: Oid = ()
        for number, line in enumerate(lines, start=1):
            if not line or line[0] == "#" or line.isspace():
                continue
            oid_text, _, rest = line.partition("|")
            tag_text, bar, value_text = rest.partition("|")
            parent, _, last = oid_text.rpartition(".")
            prefix = prefixes.get(parent)
            known = known_tags.get(tag_text)
            try:
                if not bar:
                    raise _LineError("not_a_record", "a record is OID|TAG|VALUE")
                if prefix is None or not last.isdecimal() or len(last) > 9:
                    oid = self._oid(oid_text)
                else:
                    oid = (*prefix, int(last))
                if known is None:
                    known = self._tag(tag_text)
                tag, encoding, module = known
                if module:
                    tag, value, variation = self._variation(tag, encoding, module, value_text)
                    if variation is not None:
                        out.variations[len(oids)] = variation
                elif tag is octets and encoding is None:
                    value = value_text.encode("latin-1")
                elif tag in integers and encoding is None and value_text.isdecimal():
                    value = int(value_text)
                    if value > 0x7FFFFFFF:
                        value = _decode(tag, value_text, encoding)  # range checked there
                else:
                    value = _decode(tag, value_text, encoding)
            except _LineError as exc:
                if strict is not None:
                    raise SnmprecError(strict, number, str(exc)) from None
                out.skipped.append(SkippedLine(number, exc.reason, str(exc)[:160]))
                continue
            if oid <= last_oid:
                out.ordered = False
            last_oid = oid
            oids.append(oid)
            tags.append(tag)
            values.append(value)
            numbers.append(number)
        return out

    def _variation(
        self, tag: Tag, encoding: str | None, module: str, value_text: str
    ) -> tuple[Tag, Value, NumericVariation | None]:
        if module == "numeric":
            return tag, 0, _numeric(value_text)
        plain, hex_value = _variation_value(module, value_text)
        return tag, _decode(tag, plain, hex_value or encoding), None

    def _oid(self, text: str) -> Oid:
        parent, _, last = text.rpartition(".")
        prefix = self._prefixes.get(parent)
        if prefix is None:
            try:
                prefix = parse_oid(parent) if parent.strip(".") else ()
            except ValueError as exc:
                raise _LineError("bad_oid", str(exc)) from None
            if len(self._prefixes) >= _PREFIX_CACHE_MAX:
                self._prefixes.clear()
            self._prefixes[parent] = prefix
        if not last.isdecimal() or int(last) > 0xFFFFFFFF:
            raise _LineError("bad_oid", f"not a numeric OID: {text[:80]!r}")
        oid = (*prefix, int(last))
        if len(oid) < 2:
            raise _LineError("bad_oid", f"not a numeric OID: {text[:80]!r}")
        return oid

    def _tag(self, text: str) -> tuple[Tag, str | None, str]:
        tag_text, _, module = text.partition(":")
        encoding = tag_text[-1] if tag_text[-1:] in ("x", "e") else None
        number = tag_text[:-1] if encoding else tag_text
        try:
            tag = Tag(int(number))
        except ValueError:
            raise _LineError("unknown_tag", f"unknown tag {text[:20]!r}") from None
        self._tags[text] = (tag, encoding, module)
        return tag, encoding, module


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

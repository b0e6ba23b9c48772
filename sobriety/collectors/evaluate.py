"""Turn the raw varbinds a poll read into samples, device facts and role values, per profile."""

from __future__ import annotations

import json
import math
import re
import struct
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Self, TypeVar

from sobriety.collectors.profiles import (
    ColumnSpec,
    FieldSpec,
    Profile,
    RowFilter,
    TableSpec,
    template_fields,
)
from sobriety.errors import ProfileSpecError
from sobriety.model import CollectIssue, Sample, record
from sobriety.snmp.types import (
    BYTES_TAGS,
    INTEGER_TAGS,
    Oid,
    Tag,
    VarBind,
    format_oid,
    opaque_float,
)

MAX_LABEL_CHARS = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

Scalar = float | str


@dataclass(slots=True)
class RawData:
    """Varbinds of one poll: scalars by instance OID, walked columns by column OID."""

    scalars: dict[Oid, VarBind] = field(default_factory=dict)
    columns: dict[Oid, list[VarBind]] = field(default_factory=dict)


@record
class RoleValue:
    """A value whose meaning the energy and lifetime code consumes (uptime, power...)."""

    role: str
    preference: int
    profile: str
    field: str
    value: float
    labels: Mapping[str, str]
    origin: str | None = None
    combine: str = "sum"


@dataclass(slots=True)
class ProfileOutput:
    """What one profile made of the raw data."""

    samples: list[Sample] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)
    info_origin: dict[str, str] = field(default_factory=dict)  # fact -> profile/field
    roles: list[RoleValue] = field(default_factory=list)
    issues: list[CollectIssue] = field(default_factory=list)

    def note_info(self, fact: str, value: str, origin: str) -> None:
        """Keep a device fact (the first one said wins) and where it came from."""
        if fact not in self.info:
            self.info[fact] = value
            self.info_origin[fact] = origin


ColumnKey = tuple[str, str, str]  # profile, table, column


@dataclass(frozen=True, slots=True)
class IdentityColumn:
    """An identity column's converted values by row, kept as two parallel tuples (a pair
    tuple per row would cost 56 bytes a value, tens of thousands a fleet)."""

    suffixes: tuple[Oid, ...]
    values: tuple[Scalar, ...]
    issues: tuple[CollectIssue, ...]

    @classmethod
    def of(cls, pairs: Iterable[tuple[Oid, Scalar]], issues: tuple[CollectIssue, ...]) -> Self:
        """From (suffix, value) pairs, each suffix the fleet's shared tuple."""
        kept = list(pairs)
        suffixes = _shared(tuple(_shared_suffix(s) for s, _ in kept))
        values = tuple(v for _, v in kept)
        return cls(suffixes, _shared(values) if _same_as_equal(values) else values, issues)


@dataclass(frozen=True, slots=True)
class KeptRows:
    """A table's rows kept by its identity filters, and what deciding them noticed (rows
    whose index does not decode)."""

    kept: frozenset[Oid]
    issues: tuple[CollectIssue, ...]


@dataclass(slots=True)
class EvaluationCache:
    """What holds for one target between two reads of its identity data, so that a poll
    does not convert it again: the output of tables that are all identity data, and the
    converted rows of identity columns in tables that also read state."""

    tables: dict[tuple[str, str], ProfileOutput] = field(default_factory=dict)
    columns: dict[ColumnKey, IdentityColumn] = field(default_factory=dict)
    kept: dict[tuple[str, str], KeptRows] = field(default_factory=dict)

    def clear(self) -> None:
        self.tables.clear()
        self.columns.clear()
        self.kept.clear()

    def keep_only(self, profile: str, table: str, rows: frozenset[Oid]) -> None:
        """Drop a table's cached identity values of rows its filters left out; the rows
        kept share one index tuple across columns."""
        one = {suffix: suffix for suffix in rows}
        for key, known in list(self.columns.items()):
            if key[0] == profile and key[1] == table:
                pairs = zip(known.suffixes, known.values, strict=True)
                self.columns[key] = IdentityColumn.of(
                    ((one[s], v) for s, v in pairs if s in one), known.issues
                )

    def forget_table(self, profile: str, table: str) -> None:
        """Drop one table's entries (its identity data was read again)."""
        self.tables.pop((profile, table), None)
        self.kept.pop((profile, table), None)
        for key in [k for k in self.columns if k[0] == profile and k[1] == table]:
            del self.columns[key]


def clean_text(raw: bytes) -> str:
    """Bytes of an OCTET STRING to a single-line label value (UTF-8, else Latin-1),
    interned: devices of one model name their ports, sensors and parts alike, and a fleet
    then holds each name once."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    text = _CONTROL.sub(" ", text).strip()
    return sys.intern(" ".join(text.split())[:MAX_LABEL_CHARS])


def evaluate(
    profile: Profile,
    raw: RawData,
    target: str,
    cache: EvaluationCache | None = None,
) -> ProfileOutput:
    """Evaluate every scalar and table of `profile` against `raw`.

    With `cache`, a table whose every column is identity data is evaluated once and its
    output reused until the caller clears the cache (at the next identity read): the
    ENTITY inventory of a chassis does not change between two polls. Identity columns of
    other tables are converted once the same way; `raw` then needs only the state data.
    """
    out = ProfileOutput()
    for scalar in profile.scalars:
        vb = raw.scalars.get(scalar.oid_tuple)
        if vb is None or vb.is_exception:
            continue
        value = _convert(scalar, vb, out, profile.name)
        if value is None:
            continue
        _emit(scalar, value, {"target": target}, out, profile.name)
        if scalar.info and isinstance(value, str) and value:
            out.note_info(scalar.info, value, f"{profile.name}/{scalar.name}")
    for table in profile.tables:
        static = all(table.column_cadence(c) == "identity" for c in table.columns)
        if cache is None or not static:
            _evaluate_table(profile.name, table, raw, target, out, cache)
            continue
        key = (profile.name, table.name)
        part = cache.tables.get(key)
        if part is None:
            part = cache.tables[key] = ProfileOutput()
            _evaluate_table(profile.name, table, raw, target, part)
        out.samples.extend(part.samples)
        out.roles.extend(part.roles)
        out.issues.extend(part.issues)
        for fact, value in part.info.items():
            out.note_info(fact, value, part.info_origin[fact])
    if profile.vendor:
        out.note_info("vendor", profile.vendor, f"profile:{profile.name}")
    return out


def _evaluate_table(
    profile: str,
    table: TableSpec,
    raw: RawData,
    target: str,
    out: ProfileOutput,
    cache: EvaluationCache | None = None,
) -> None:
    rows = _rows(profile, table, raw, out, cache)
    if table.identity_filters:
        rows = _kept_by_identity(profile, table, rows, out, cache)
    fields = _decoded_indexes(profile, table, rows, out)
    if table.state_filters:
        present = _present(rows, fields)
        filters = table.state_filters
        rows = {
            idx: row
            for idx, row in rows.items()
            if _passes_all(filters, {**fields[idx], **row}, present)
        }
    hidden = {p.name for p in table.index if not p.expose}
    # each row's labels: the target and its exposed index parts, one mapping shared by the
    # row's samples (read-only from here on)
    row_labels: dict[Oid, Mapping[str, str]]
    if hidden:
        row_labels = {
            idx: {"target": target, **{k: v for k, v in fields[idx].items() if k not in hidden}}
            for idx in rows
        }
    else:
        row_labels = {idx: {"target": target, **fields[idx]} for idx in rows}
    for col in table.columns:
        if col.metric is not None or col.role is not None:
            _emit_column(profile, col, rows, fields, row_labels, target, out)
    if table.emit_info is not None:
        for suffix, row in rows.items():
            labels = dict(row_labels[suffix])
            for label, source in table.emit_info.labels.items():
                labels[label] = _label_from(source, row, fields[suffix])
            labels.update(table.emit_info.const_labels)
            out.samples.append(Sample(table.emit_info.metric, labels, 1.0))
    if table.device_row:
        _device_row_info(profile, table, rows, fields, out)


def _kept_by_identity(
    profile: str,
    table: TableSpec,
    rows: dict[Oid, dict[str, Scalar]],
    out: ProfileOutput,
    cache: EvaluationCache | None,
) -> dict[Oid, dict[str, Scalar]]:
    """The rows that pass the filters on identity data. With `cache` they are decided once
    per identity read (rows appear and go with identity data), and the table's cached
    identity columns keep only those rows, one index tuple a row."""
    key = (profile, table.name)
    known = cache.kept.get(key) if cache is not None else None
    if known is None:
        known = _decide_rows(profile, table, rows)
        if cache is not None:
            cache.kept[key] = known
            cache.keep_only(profile, table.name, known.kept)
    out.issues.extend(known.issues)
    return {idx: row for idx, row in rows.items() if idx in known.kept}


def _decide_rows(profile: str, table: TableSpec, rows: dict[Oid, dict[str, Scalar]]) -> KeptRows:
    found = ProfileOutput()
    candidates = dict(rows)
    fields = _decoded_indexes(profile, table, candidates, found)
    present = _present(candidates, fields)
    kept = _shared(  # the fleet's shared index tuples: the cache holds them between reads
        frozenset(
            _shared_suffix(idx)
            for idx, row in candidates.items()
            if all(_passes(f, {**fields[idx], **row}, present) for f in table.identity_filters)
        )
    )
    return KeptRows(kept, tuple(found.issues))


def _decoded_indexes(
    profile: str, table: TableSpec, rows: dict[Oid, dict[str, Scalar]], out: ProfileOutput
) -> dict[Oid, Mapping[str, str]]:
    """Each row's index parts (exposed or not); rows whose index does not decode are dropped."""
    fields: dict[Oid, Mapping[str, str]] = {}
    for suffix in list(rows):
        decoded = _index_labels(table.index_shape, suffix)
        if decoded is None:
            out.issues.append(
                CollectIssue("bad_index", f"{profile}/{table.name}: {format_oid(suffix)}")
            )
            del rows[suffix]
        else:
            fields[suffix] = decoded
    return fields


def _emit_column(
    profile: str,
    col: ColumnSpec,
    rows: Mapping[Oid, Mapping[str, Scalar]],
    fields: Mapping[Oid, Mapping[str, str]],
    row_labels: Mapping[Oid, Mapping[str, str]],
    target: str,
    out: ProfileOutput,
) -> None:
    """One column's samples: a sample per row, or one aggregated value for the table."""
    values: list[float] = []
    name = col.name
    aggregate = col.aggregate
    own_labels = col.labels
    plain, metric, samples = col.plain_sample, col.metric, out.samples
    for suffix, row in rows.items():
        value = row.get(name)
        if value is None:
            continue
        if aggregate is not None:
            if isinstance(value, float):
                values.append(value)
            elif aggregate == "count":
                values.append(1.0)
            continue
        labels = row_labels[suffix]
        if own_labels:
            labels = {**labels}
            for label, source in own_labels.items():
                labels[label] = _label_from(source, row, fields[suffix])
        if plain and type(value) is float:  # most of a poll's samples
            samples.append(Sample(metric, labels, value))  # type: ignore[arg-type]
        else:
            _emit(col, value, labels, out, profile)
    if col.aggregate is not None and col.metric is not None and (values or rows):
        aggregated = _aggregate(col, values)
        if aggregated is not None:
            out.samples.append(Sample(col.metric, {"target": target}, aggregated))


def _device_row_info(
    profile: str,
    table: TableSpec,
    rows: Mapping[Oid, Mapping[str, Scalar]],
    fields: Mapping[Oid, Mapping[str, str]],
    out: ProfileOutput,
) -> None:
    """Identity facts (vendor, model, serial...) from the row that is the device: the first
    row of the first `device_row` alternative that finds one."""
    for alternative in table.device_row:
        for idx, row in rows.items():
            if all(_passes(rule, {**fields[idx], **row}) for rule in alternative):
                for col in table.columns:
                    value = row.get(col.name)
                    if col.info and isinstance(value, str) and value:
                        out.note_info(col.info, value, f"{profile}/{col.name}")
                return


def identity_rows(table: TableSpec, raw: RawData) -> list[Oid]:
    """Index suffixes of the rows that pass the table's filters on identity columns."""
    static = {c.name for c in table.columns if table.column_cadence(c) == "identity"}
    static |= {p.name for p in table.index}
    tests = [f for f in table.filter if f.field in static]
    kept = []
    rows = _rows("", table, raw, ProfileOutput())
    present = {name for row in rows.values() for name in row} | {p.name for p in table.index}
    for idx, row in rows.items():
        decoded = _index_labels(table.index_shape, idx)
        if decoded is not None and all(_passes(f, {**decoded, **row}, present) for f in tests):
            kept.append(idx)
    return kept


def _rows(
    profile: str,
    table: TableSpec,
    raw: RawData,
    out: ProfileOutput,
    cache: EvaluationCache | None = None,
) -> dict[Oid, dict[str, Scalar]]:
    """Columns joined into rows by index suffix, in index order; values converted. Only
    the rows the identity filters kept (cached) are joined again."""
    decided = cache.kept.get((profile, table.name)) if cache is not None else None
    rows = _joined(profile, table, raw, out, cache, decided.kept if decided else None)
    for col in table.columns:  # a position in a list first: what it picks may be scaled
        if col.pick_from is not None:
            _combine(rows, col.name, col.pick_from, _pick, picks=True)
        if col.pick_among:
            _pick_among(rows, col.name, col.pick_among)
        if col.to_dbm:
            _to_dbm(rows, col.name)
    # every product first, then every ratio, then the powers of ten: a ratio's divisor may
    # itself be a product
    for col in table.columns:
        if col.multiply_by is not None:
            _combine(rows, col.name, col.multiply_by, lambda v, f: v * f)
    for col in table.columns:
        if col.divide_by is not None:  # no positive divisor, no honest ratio
            _combine(rows, col.name, col.divide_by, lambda v, d: v / d if d > 0 else None)
    for col in table.columns:
        if col.exponent_from:
            _scale_by_exponent(rows, col)
    return dict(sorted(rows.items()))


def _joined(
    profile: str,
    table: TableSpec,
    raw: RawData,
    out: ProfileOutput,
    cache: EvaluationCache | None,
    kept: frozenset[Oid] | None,
) -> dict[Oid, dict[str, Scalar]]:
    """Columns joined into rows by index suffix, values converted; with `kept`, only those
    rows (a row the identity filters left out is not even converted)."""
    rows: dict[Oid, dict[str, Scalar]] = {}
    for col in table.columns:
        name = col.name
        if cache is not None and table.column_cadence(col) == "identity":
            for suffix, value in _identity_values(profile, table, col, raw, out, cache):
                if kept is None or suffix in kept:
                    rows.setdefault(suffix, {})[name] = value
            continue
        col_oid = table.column_oid(col)
        depth = len(col_oid)
        for vb in raw.columns.get(col_oid, ()):  # the hot loop of a poll's evaluation
            suffix = vb.oid[depth:]
            if kept is not None and suffix not in kept:
                continue  # a row the identity filters left out: not even converted
            converted = _convert(col, vb, out, profile)
            if converted is not None:
                row = rows.get(suffix)
                if row is None:
                    rows[suffix] = {name: converted}
                else:
                    row[name] = converted
    return rows


def _identity_values(
    profile: str,
    table: TableSpec,
    col: ColumnSpec,
    raw: RawData,
    out: ProfileOutput,
    cache: EvaluationCache,
) -> Iterable[tuple[Oid, Scalar]]:
    """An identity column's values, converted at its first evaluation after a read."""
    key = (profile, table.name, col.name)
    known = cache.columns.get(key)
    if known is None:
        found = ProfileOutput()
        values = list(_column_values(profile, table, col, raw, found))
        known = cache.columns[key] = IdentityColumn.of(values, tuple(found.issues))
    out.issues.extend(known.issues)
    return zip(known.suffixes, known.values, strict=True)


_SUFFIXES: dict[Oid, Oid] = {}  # fleet-wide: (1,), (2,)... index most devices' rows
MAX_SHARED_SUFFIXES = 100_000


_Frozen = TypeVar("_Frozen", bound=Hashable)
_SHARED: dict[object, object] = {}  # fleet-wide: equal identity tuples and row sets
MAX_SHARED_VALUES = 50_000


def _shared(value: _Frozen) -> _Frozen:
    """One object for equal identity data across the fleet's caches: devices of one model
    name their ports, sensors and parts alike and keep the same rows (a school's fleet is
    bought by the hundred), and each would otherwise hold its own tuples and sets."""
    found = _SHARED.get(value)
    if found is not None:
        return found  # type: ignore[return-value]  # equal, hence of the same type
    if len(_SHARED) < MAX_SHARED_VALUES:
        _SHARED[value] = value
    return value


def _same_as_equal(values: tuple[Scalar, ...]) -> bool:
    """Whether a tuple equal to `values` renders the same: strings, and floats but a -0.0
    (equal to 0.0, written otherwise)."""
    return all(
        type(v) is str or (type(v) is float and (v != 0.0 or math.copysign(1.0, v) > 0))
        for v in values
    )


def _shared_suffix(suffix: Oid) -> Oid:
    """One tuple for an index suffix across the fleet's cached identity columns."""
    found = _SUFFIXES.get(suffix)
    if found is not None:
        return found
    if len(_SUFFIXES) < MAX_SHARED_SUFFIXES:
        _SUFFIXES[suffix] = suffix
    return suffix


def _column_values(
    profile: str, table: TableSpec, col: ColumnSpec, raw: RawData, out: ProfileOutput
) -> Iterator[tuple[Oid, Scalar]]:
    """A column's usable values by index suffix."""
    col_oid = table.column_oid(col)
    depth = len(col_oid)
    for vb in raw.columns.get(col_oid, ()):
        value = _convert(col, vb, out, profile)
        if value is not None:
            yield vb.oid[depth:], value


def _pick_among(rows: Mapping[Oid, dict[str, Scalar]], name: str, among: Sequence[str]) -> None:
    """Each row's `name` (a 1-based position) replaced by the number of that field."""
    for row in rows.values():
        position = row.get(name)
        if not isinstance(position, float):
            continue
        chosen = (
            among[int(position) - 1]
            if position.is_integer() and 1 <= position <= len(among)
            else None
        )
        picked = row.get(chosen) if chosen else None
        if isinstance(picked, float):
            row[name] = picked
        else:
            del row[name]  # a level the device does not describe: no value


def _to_dbm(rows: Mapping[Oid, dict[str, Scalar]], name: str) -> None:
    """Milliwatts to dBm; 0 (or less) milliwatts has no dBm and is dropped."""
    for row in rows.values():
        value = row.get(name)
        if isinstance(value, float):
            if value > 0:
                row[name] = round(10 * math.log10(value), 3)
            else:
                del row[name]


def _pick(position: float, listed: Scalar) -> float | None:
    """The number at a 1-based position of a comma-separated list ("17,14,11,8"), if any."""
    items = str(listed).split(",")
    if not position.is_integer() or not 1 <= position <= len(items):
        return None
    try:
        return float(items[int(position) - 1].strip())
    except ValueError:
        return None


def _combine(
    rows: Mapping[Oid, dict[str, Scalar]],
    name: str,
    other: str,
    how: Callable[[float, Any], float | None],
    *,
    picks: bool = False,
) -> None:
    """Each row's `name` combined with its `other` field (a number, or with `picks` the text
    it picks from); without a usable other, the value is dropped."""
    for row in rows.values():
        value, operand = row.get(name), row.get(other)
        if not isinstance(value, float):
            continue
        usable = isinstance(operand, str) if picks else isinstance(operand, float)
        combined = how(value, operand) if usable else None
        if combined is None:
            del row[name]  # no factor, no honest value
        else:
            row[name] = combined


def _scale_by_exponent(rows: Mapping[Oid, dict[str, Scalar]], col: ColumnSpec) -> None:
    """Each row's value times the power of ten its other fields give (Raritan's digits)."""
    for row in rows.values():
        value = row.get(col.name)
        if not isinstance(value, float):
            continue
        exponent = _exponent(col, row)
        if exponent is None:
            del row[col.name]  # no scale, no honest value
        else:
            row[col.name] = value * 10.0**exponent if exponent >= 0 else value / 10**-exponent


def _exponent(col: ColumnSpec, row: Mapping[str, Scalar]) -> int | None:
    """The power of ten a row's other fields give this column, or None if one is missing."""
    total = 0
    for term in col.exponent_from:
        source = row.get(term.field)
        if not isinstance(source, float):
            return None
        number = max(int(source), 0) if term.positive_only else int(source)
        total += term.times * number + term.offset
    return total


def _convert(spec: FieldSpec, vb: VarBind, out: ProfileOutput, profile: str) -> Scalar | None:
    """Raw value to float (numbers) or str (text, enum state); None if unusable."""
    raw = vb.value
    if type(raw) is int and spec.plain_number and vb.tag in INTEGER_TAGS:
        return spec.apply_scale(float(raw))  # most values of a poll: a number, scaled
    return _convert_other(spec, vb, out, profile)


def _convert_other(spec: FieldSpec, vb: VarBind, out: ProfileOutput, profile: str) -> Scalar | None:
    """What is not a plain number: patterns, maps, enums, text, JSON, dates."""
    if vb.is_exception or vb.value is None:
        return None
    kind = spec.type
    if kind in ("int", "float", "enum"):
        number = _pattern_number(spec, vb) if spec.pattern_re is not None else _number(vb)
        if number is None:
            if spec.pattern_re is None:  # a pattern that finds no number: no value, as on text
                out.issues.append(
                    CollectIssue("bad_value", f"{profile}/{spec.name}: {format_oid(vb.oid)}")
                )
            return None
        if number in spec.drop_values:
            return None
        if kind == "enum":
            return spec.states.get(int(number), str(int(number)))
        if spec.value_map:
            mapped = spec.value_map.get(int(number))
            return None if mapped is None else float(mapped)
        return spec.apply_scale(number)
    if kind == "oid":
        return format_oid(vb.value) if isinstance(vb.value, tuple) else None
    if kind in ("json", "date", "dateandtime"):
        number = _decoded_number(spec, vb.value)
        if number is None and kind != "dateandtime":  # an unset DateAndTime is just unknown
            out.issues.append(
                CollectIssue("bad_value", f"{profile}/{spec.name}: {format_oid(vb.oid)}")
            )
        if number is None or number in spec.drop_values:
            return None
        return spec.apply_scale(number)
    text = _text(spec, vb.value)
    if spec.text_map and text is not None:
        return spec.text_map.get(text)
    return text


def _text(spec: FieldSpec, value: object) -> str | None:
    """An OCTET STRING (or an integer read as string) as label text; `hex` as octets."""
    if isinstance(value, bytes):
        return value.hex(":") if spec.type == "hex" else _extract(spec, clean_text(value))
    if spec.type == "string" and isinstance(value, int):
        return _extract(spec, str(value))
    return None


def _extract(spec: FieldSpec, text: str) -> str | None:
    """A text value, or the part of it the field's `pattern` finds (None if it finds none)."""
    pattern = spec.pattern_re
    if pattern is None:
        return text
    found = pattern.search(text)
    if found is None:
        return None
    if "value" in pattern.groupindex:
        part = found.group("value")
    else:
        part = found.group(1) if pattern.groups else found.group(0)
    return part.strip() if part else None


def _decoded_number(spec: FieldSpec, value: object) -> float | None:
    """A number out of a JSON document, a date text or an SNMP DateAndTime; None if not."""
    if not isinstance(value, bytes):
        return None
    if spec.type == "dateandtime":
        return date_and_time(value)
    try:
        text = value.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if spec.type == "date":
        if spec.date_format is None:
            raise ProfileSpecError(f"{spec.name}: type date without date_format")
        try:
            parsed = datetime.strptime(text, spec.date_format)  # noqa: DTZ007 - made aware below
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC).timestamp()
    if spec.json_key is None:
        raise ProfileSpecError(f"{spec.name}: type json without json_key")
    try:
        node: object = json.loads(text)
    except ValueError:
        return None
    for key in spec.json_key.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


def date_and_time(octets: bytes) -> float | None:
    """SNMPv2-TC DateAndTime (8 or 11 octets) to a POSIX timestamp; None if unset or bad.

    Without the 3 offset octets the time is taken as UTC. All zeros (ENTITY-MIB's "unknown")
    and impossible dates are None.
    """
    if len(octets) not in (8, 11) or not any(octets):
        return None
    year, month, day, hour, minute, second, decis = struct.unpack(">HBBBBBB", octets[:8])
    zone = UTC
    if len(octets) == 11:
        sign = {43: 1, 45: -1}.get(octets[8])  # '+' or '-'
        if sign is None or octets[9] > 14 or octets[10] > 59:
            return None
        zone = timezone(sign * timedelta(hours=octets[9], minutes=octets[10]))
    try:
        when = datetime(year, month, day, hour, minute, min(second, 59), decis * 100_000, zone)
    except ValueError:
        return None
    return when.timestamp()


def _pattern_number(spec: FieldSpec, vb: VarBind) -> float | None:
    """A number read out of a text with the field's pattern (None: no match, not a number)."""
    text = _extract(spec, clean_text(vb.value)) if isinstance(vb.value, bytes) else None
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _number(vb: VarBind) -> float | None:
    if vb.tag in INTEGER_TAGS and isinstance(vb.value, int):
        return float(vb.value)
    if vb.tag is Tag.OPAQUE and isinstance(vb.value, bytes):
        return opaque_float(vb.value)
    if vb.tag in BYTES_TAGS and isinstance(vb.value, bytes):
        try:
            return float(vb.value.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            return None
    return None


def _emit(
    spec: FieldSpec,
    value: Scalar,
    labels: Mapping[str, str],
    out: ProfileOutput,
    profile: str,
) -> None:
    if spec.metric is not None and spec.aggregate is None:
        metric_labels = {**labels, **spec.const_labels} if spec.const_labels else labels
        if spec.type == "enum":
            out.samples.append(Sample(spec.metric, {**metric_labels, "state": str(value)}, 1.0))
        elif isinstance(value, float):
            out.samples.append(Sample(spec.metric, metric_labels, value))
    if spec.role is not None and isinstance(value, float):
        out.roles.append(
            RoleValue(
                spec.role,
                spec.preference,
                profile,
                spec.name,
                value,
                labels,
                spec.origin,
                spec.combine,
            )
        )


AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {
    "sum": lambda v: float(sum(v)),
    "mean": lambda v: float(sum(v) / len(v)),
    "max": lambda v: float(max(v)),
    "min": lambda v: float(min(v)),
}


def _aggregate(col: ColumnSpec, values: Sequence[float]) -> float | None:
    """One value for a table column; None when no row gave a value (count: 0)."""
    if col.aggregate == "count":
        return float(len(values))
    if col.aggregate not in AGGREGATES:
        raise ProfileSpecError(f"{col.name}: unknown aggregate {col.aggregate!r}")
    return AGGREGATES[col.aggregate](values) if values else None


def _present(
    rows: Mapping[Oid, Mapping[str, Scalar]], fields: Mapping[Oid, Mapping[str, str]]
) -> set[str]:
    """The fields at least one row of the table has (what the agent implements)."""
    present = {name for row in rows.values() for name in row}
    return present.union(*fields.values()) if fields else present


def _passes_all(
    rules: Sequence[RowFilter], row: Mapping[str, Scalar], present: set[str] | None
) -> bool:
    return all(_passes(rule, row, present) for rule in rules)


def _passes(rule: RowFilter, row: Mapping[str, Scalar], present: set[str] | None = None) -> bool:
    value: Scalar | None
    if "{" in rule.field:  # a template: the row's fields written into it, missing ones empty
        parts = template_fields(rule.field)
        value = "".join(_label_value(row.get(name, "")) for name in parts) or None
    else:
        value = row.get(rule.field)
    if rule.if_implemented and present is not None and rule.field not in present:
        return True  # the agent has no such field at all: nothing to test
    if rule.absent:
        return value is None
    if value is None:  # a missing field fails a positive test, not a negative one
        return not (rule.values or rule.match)
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if rule.values and text not in {str(v) for v in rule.values}:
        return False
    if rule.not_in and text in {str(v) for v in rule.not_in}:
        return False
    if rule.match_re is not None and not rule.match_re.search(text):
        return False
    return not (rule.not_match_re is not None and rule.not_match_re.search(text))


def _label_from(source: str, row: Mapping[str, Scalar], fields: Mapping[str, str]) -> str:
    """A label value: one field of the row or index, or a template of several."""
    if "{" not in source:
        return _label_value(row.get(source, fields.get(source, "")))
    values = {name: _label_value(row.get(name, fields.get(name, ""))) for name in fields}
    values.update((name, _label_value(v)) for name, v in row.items())
    try:
        return source.format_map(values)[:MAX_LABEL_CHARS]
    except (KeyError, ValueError, IndexError):
        return ""


def _label_value(value: Scalar | str) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


@lru_cache(maxsize=8192)
def _index_labels(parts: tuple[tuple[str, str], ...], suffix: Oid) -> Mapping[str, str] | None:
    """Decode an index suffix into labels (`parts`: the table's `index_shape`); None if its
    shape does not fit. Targets of one model share their indexes (ports 1..48): decodings
    are kept in a bounded cache shared by the fleet (read-only mappings)."""
    labels: dict[str, str] = {}
    pos = 0
    for i, (name, form) in enumerate(parts):
        if form == "int":
            if pos >= len(suffix):
                return None
            labels[name] = str(suffix[pos])
            pos += 1
        elif form == "mac_string":  # an OCTET STRING index: length 6, then a MAC
            chunk = suffix[pos : pos + 7]
            if len(chunk) != 7 or chunk[0] != 6 or any(x > 255 for x in chunk):
                return None
            labels[name] = ":".join(f"{x:02x}" for x in chunk[1:])
            pos += 7
        elif form in ("mac", "ipv4"):
            width = 6 if form == "mac" else 4
            chunk = suffix[pos : pos + width]
            if len(chunk) != width or any(x > 255 for x in chunk):
                return None
            labels[name] = (
                ":".join(f"{x:02x}" for x in chunk) if form == "mac" else ".".join(map(str, chunk))
            )
            pos += width
        elif form == "string":
            if pos >= len(suffix):
                return None
            length = suffix[pos]
            chunk = suffix[pos + 1 : pos + 1 + length]
            if len(chunk) != length or any(x > 255 for x in chunk):
                return None
            labels[name] = clean_text(bytes(chunk))
            pos += 1 + length
        else:  # rest: must be last
            if i != len(parts) - 1:
                return None
            labels[name] = format_oid(suffix[pos:])
            pos = len(suffix)
    return labels if pos == len(suffix) or not parts else None

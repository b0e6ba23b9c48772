"""Device profiles: declarative SNMP knowledge loaded from `collectors/snmp/*.yaml`.

A profile says which devices it applies to (`match`), which scalars to GET and which table
columns to walk, how to turn the raw values into samples of catalogue metrics, which values
describe the device (`info`) and what role a value plays for the energy and lifetime code.
Everything is validated when loaded; an unknown key, metric or label is an error that names
the file, the entry and the field.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sobriety.config.types import load_yaml
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.metrics import BY_NAME
from sobriety.snmp.types import Oid, parse_oid

ValueType = Literal["int", "float", "string", "enum", "oid", "hex", "json", "date", "dateandtime"]
Role = Literal[
    "power",  # electrical power the device itself draws
    "supply",  # power the device delivers to others (UPS output, PDU outlet, PoE)
    "input",  # power drawn upstream including what is passed on (UPS input, PDU inlet)
    "energy",
    "uptime",
    "boots",  # restarts counted by the device (snmpEngineBoots)
    "manufactured",  # when the device or a part of it was made (a timestamp)
    "wear",
    "identity",
    "status",
    "radio",
    "load",
    "capacity",
    "inventory",
]
Cadence = Literal["state", "identity"]
InfoKey = Literal["vendor", "model", "serial", "firmware"]
Aggregate = Literal["sum", "mean", "max", "min", "count"]
IndexFormat = Literal["int", "mac", "mac_string", "ipv4", "string", "rest"]

_NAME = r"^[a-z][a-z0-9_-]*$"
_FIELD = r"^[a-z][a-z0-9_]*$"
_ORIGIN = r"^[a-z][a-z0-9_-]*$"
# Roles whose values are power in watts, and must say where they come from.
POWER_ROLES = frozenset({"power", "supply", "input"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _oid(value: object) -> Oid:
    if isinstance(value, int | float):  # YAML reads "1.3" as a float: refuse clearly
        raise ValueError("write OIDs as quoted strings or with at least three parts")
    if not isinstance(value, str):
        raise ValueError("an OID is a dotted string such as 1.3.6.1.2.1.1.3.0")
    return parse_oid(value)


OidField = Annotated[str, Field(pattern=r"^\.?\d+(\.\d+)+$")]


class Match(_Strict):
    """Which devices a profile applies to. Positive criteria are OR-ed; exclusions win."""

    always: bool = False
    sysobjectid: tuple[OidField, ...] = ()
    sysdescr: tuple[str, ...] = ()
    probe: tuple[OidField, ...] = ()
    exclude_sysobjectid: tuple[OidField, ...] = ()
    exclude_sysdescr: tuple[str, ...] = ()

    @field_validator("sysdescr", "exclude_sysdescr")
    @classmethod
    def _regexes_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _has_a_criterion(self) -> Self:
        if not (self.always or self.sysobjectid or self.sysdescr or self.probe):
            raise ValueError("give at least one of always, sysobjectid, sysdescr, probe")
        return self

    @cached_property
    def sysobjectid_oids(self) -> tuple[Oid, ...]:
        return tuple(_oid(o) for o in self.sysobjectid)

    @cached_property
    def exclude_sysobjectid_oids(self) -> tuple[Oid, ...]:
        return tuple(_oid(o) for o in self.exclude_sysobjectid)

    @cached_property
    def probe_oids(self) -> tuple[Oid, ...]:
        return tuple(_oid(o) for o in self.probe)

    @cached_property
    def sysdescr_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.sysdescr)

    @cached_property
    def exclude_sysdescr_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.exclude_sysdescr)


class ExponentTerm(_Strict):
    """A power of ten read from another field of the row: 10^(times × value + offset).

    ENTITY-SENSOR scale: `{field: scale, times: 3, offset: -27}`; its precision (decimal
    places when positive): `{field: precision, times: -1, positive_only: true}`; Raritan
    decimal digits: `{field: digits, times: -1}`; RFC 7460 eoPowerUnitMultiplier: `{field:
    multiplier}`.
    """

    field: str = Field(pattern=_FIELD)
    times: int = 1
    offset: int = 0
    positive_only: bool = False  # a source value below zero counts as zero


class FieldSpec(_Strict):
    """How to read one value and what it means. Shared by scalars and table columns."""

    name: str = Field(pattern=_FIELD)
    type: ValueType = "int"
    description: str = ""
    scale: float = 1.0
    multiply_by: str | None = Field(default=None, pattern=_FIELD)
    divide_by: str | None = Field(default=None, pattern=_FIELD)
    pick_among: tuple[str, ...] = Field(
        default=(),
        description="the value is a 1-based position among these fields of the row, and "
        "that field's number is the value (IEEE802dot11-MIB dot11CurrentTxPowerLevel among "
        "dot11TxPowerLevel1..8)",
    )
    to_dbm: bool = Field(
        default=False,
        description="the value is milliwatts: shown in dBm, 10·log10(mW) (no dBm for 0 mW)",
    )
    pick_from: str | None = Field(
        default=None,
        pattern=_FIELD,
        description="the value is a 1-based position in another field's comma-separated list "
        "of numbers, and the number there is the value (Cisco's tx power level 1..8 in the "
        "radio's own list of dBm values); out of the list, no value",
    )
    exponent_from: tuple[ExponentTerm, ...] = ()
    drop_values: tuple[float, ...] = ()
    value_map: Mapping[int, float] = Field(
        default_factory=dict,
        description="raw integer to number (TruthValue 1/2 to 1/0, PoE class1..5 to 0..4); "
        "a value not in the map is dropped",
    )
    text_map: Mapping[str, float] = Field(
        default_factory=dict,
        description="a text value to a number (Ruckus 'Connect' to 1, 'Disconnect' to 0); a "
        "text not in the map is dropped",
    )
    states: Mapping[int, str] = Field(default_factory=dict)
    json_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
    date_format: str | None = None
    metric: str | None = None
    labels: Mapping[str, str] = Field(default_factory=dict)
    const_labels: Mapping[str, str] = Field(default_factory=dict)
    role: Role | None = None
    origin: str | None = Field(default=None, pattern=_ORIGIN)
    combine: Literal["sum", "max"] = Field(
        default="sum",
        description="how the device's power is made of this field's rows: the sum (the "
        "supplies of a chassis) or the largest (energy objects that include each other)",
    )
    preference: int = 0
    info: InfoKey | None = None
    pattern: str | None = Field(
        default=None,
        description="a regular expression searched in a text value: its group `value` (or "
        "its first group, or the whole match) is the value; no match, no value (a model "
        "read out of sysDescr; with type int or float, a number read out of a text: "
        "airOS's antenna 'Combined - 16 dB')",
    )
    aggregate: Aggregate | None = None
    unit: str = ""

    @cached_property
    def pattern_re(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern is not None else None

    @cached_property
    def plain_sample(self) -> bool:
        """A number that becomes one sample with the row's labels and nothing else (no
        role, no state label, no constant labels, not aggregated)."""
        return (
            self.metric is not None
            and self.aggregate is None
            and self.role is None
            and self.type != "enum"
            and not self.const_labels
        )

    @cached_property
    def plain_number(self) -> bool:
        """A number read as it comes, then scaled: no pattern, no dropped or mapped values
        (most fields; the evaluator takes a short path for them)."""
        return (
            self.type in ("int", "float")
            and self.pattern is None
            and not self.drop_values
            and not self.value_map
        )

    @cached_property
    def scale_divisor(self) -> int | None:
        """N when the scale is 1/N, which is applied as a division: decided once."""
        if 0 < self.scale < 1:
            inverse = round(1 / self.scale)
            if abs(inverse * self.scale - 1) < 1e-12:
                return inverse
        return None

    def apply_scale(self, number: float) -> float:
        """Scale a raw number; a scale of 1/N divides by N (0.01 gives 674237.32, not ...01)."""
        divisor = self.scale_divisor
        return number / divisor if divisor is not None else number * self.scale

    @field_validator("metric")
    @classmethod
    def _in_catalogue(cls, metric: str | None) -> str | None:
        if metric is not None and metric not in BY_NAME:
            raise ValueError(f"metric {metric!r} is not in the catalogue (sobriety.metrics)")
        return metric

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type == "enum" and not self.states:
            raise ValueError("an enum needs `states`")
        if self.states and self.type != "enum":
            raise ValueError("`states` only goes with type: enum")
        if self.metric is None and (self.labels or self.aggregate):
            raise ValueError("`labels` and `aggregate` only go with a `metric`")
        if self.info is not None and self.type not in ("string", "hex", "oid", "int", "enum"):
            raise ValueError("`info` needs a string, hex, oid, int or enum field")
        if (self.type == "json") != (self.json_key is not None):
            raise ValueError("type: json needs `json_key` (a dotted path), and only it")
        if (self.type == "date") != (self.date_format is not None):
            raise ValueError("type: date needs `date_format` (strptime), and only it")
        if self.role in POWER_ROLES and self.origin is None:
            raise ValueError(f"role {self.role} needs an `origin` (which MIB object it is)")
        if self.metric is None and self.const_labels:
            raise ValueError("`const_labels` only go with a `metric`")
        if self.text_map and self.type != "string":
            raise ValueError("`text_map` only goes with type: string")
        if self.pattern is not None:
            if self.type not in ("string", "int", "float"):
                raise ValueError("`pattern` only goes with type: string, int or float")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {self.pattern!r}: {exc}") from None
        return self


class ScalarSpec(FieldSpec):
    """A single instance read with GET."""

    oid: OidField
    cadence: Cadence = "state"

    @cached_property
    def oid_tuple(self) -> Oid:
        return _oid(self.oid)


class ColumnSpec(FieldSpec):
    """A table column. `entry` reads it from another table with the same index (a sensor's
    entPhysicalDescr beside its entPhySensorValue; Raritan's decimal digits)."""

    column: int = Field(ge=1)
    entry: OidField | None = None
    cadence: Cadence | None = Field(
        default=None,
        description="identity: read with the table's identity data only (a sensor's type, "
        "scale and name), kept between reads; default: the table's cadence",
    )


class IndexPart(_Strict):
    """One component of a table index, turned into a label (or, with `expose: false`, only
    into a field that filters and `labels` can read: Raritan's pduId and sensor type)."""

    name: str = Field(pattern=_FIELD)
    format: IndexFormat = "int"
    expose: bool = True


def _index_part(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


class RowFilter(_Strict):
    """Keep only rows whose field passes: one of `in`, none of `not_in`, and matching the
    regular expression `match` and not `not_match` (searched, on the field as text); or,
    with `absent: true`, rows that have no such field at all. With `if_implemented`, a
    table none of whose rows has the field passes the test. `field` may be a template of
    several fields ("{serial}{model}": the row has one or the other)."""

    field: str = Field(pattern=r"^([a-z][a-z0-9_]*|(\{[a-z][a-z0-9_]*\})+)$")
    values: tuple[int | str, ...] = Field(default=(), alias="in")
    not_in: tuple[int | str, ...] = ()
    match: str | None = None
    not_match: str | None = None
    absent: bool = False
    if_implemented: bool = Field(
        default=False,
        description="the test applies only where the agent implements the field: when no "
        "row of the table has it, every row passes (ENTITY agents that leave out "
        "entPhysicalClass)",
    )

    @model_validator(mode="after")
    def _one_test_at_least(self) -> Self:
        tests = (self.values, self.not_in, self.match, self.not_match)
        if self.absent and any(tests):
            raise ValueError("absent: true tests that the field is missing, and nothing else")
        if not (self.absent or any(tests)):
            raise ValueError("give at least one of in, not_in, match, not_match, absent")
        for pattern in (self.match, self.not_match):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return self

    @cached_property
    def match_re(self) -> re.Pattern[str] | None:
        return re.compile(self.match) if self.match else None

    @cached_property
    def not_match_re(self) -> re.Pattern[str] | None:
        return re.compile(self.not_match) if self.not_match else None


def template_fields(source: str) -> tuple[str, ...]:
    """Fields a label source reads: itself, or the `{name}`s of a template like
    "{ap}/{radio}"."""
    if "{" not in source:
        return (source,)
    try:
        return tuple(name for _, name, _, _ in string.Formatter().parse(source) if name)
    except ValueError:
        return (source,)


def _filters(value: object) -> object:
    return (value,) if isinstance(value, dict) else value


class InfoEmit(_Strict):
    """Emit one info metric per row, with labels from the row's fields (and fixed ones)."""

    metric: str
    labels: Mapping[str, str]
    const_labels: Mapping[str, str] = Field(default_factory=dict)

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        if metric not in BY_NAME or BY_NAME[metric].kind != "info":
            raise ValueError(f"{metric!r} is not an info metric of the catalogue")
        return metric


class TableSpec(_Strict):
    """A conceptual table: the entry OID, how its index reads, the columns wanted."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    oid: OidField
    index: tuple[IndexPart, ...] = ()
    cadence: Cadence = "state"
    reread_when: str | None = Field(
        default=None,
        pattern=_FIELD,
        description="a state scalar of the profile whose change means this identity table "
        "changed (entLastChangeTime): the table is then re-read at once, not just daily",
    )
    filter: tuple[RowFilter, ...] = Field(default=(), description="every filter must pass")
    get_rows: bool = Field(
        default=False,
        description="between identity reads, GET the state columns of the rows that pass the "
        "filters on identity columns instead of walking the whole table (sensor tables: a "
        "few supplies among hundreds of optics)",
    )
    device_row: tuple[tuple[RowFilter, ...], ...] = Field(
        default=(),
        description="the row that describes the device itself: a filter, or a list of "
        "alternatives tried in order (each a filter or a list of filters that must all "
        "pass); the first alternative that finds a row gives the device's facts",
    )
    emit_info: InfoEmit | None = None
    columns: tuple[ColumnSpec, ...] = Field(min_length=1)

    @field_validator("filter", mode="before")
    @classmethod
    def _one_or_many_filters(cls, value: object) -> object:
        return _filters(value)

    @field_validator("device_row", mode="before")
    @classmethod
    def _device_row_alternatives(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, dict):
            return ((value,),)
        if isinstance(value, list | tuple):
            return tuple(_filters(alternative) for alternative in value)
        return value

    @field_validator("index", mode="before")
    @classmethod
    def _index_shorthand(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(_index_part(v) for v in value)
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        names = {c.name for c in self.columns}
        index_names = {p.name for p in self.index}
        if len(names) != len(self.columns):
            raise ValueError("column names must be unique within a table")
        if self.get_rows and all(self.column_cadence(c) == "state" for c in self.columns):
            raise ValueError("get_rows needs identity columns to choose the rows by")
        refs = [(name, "filter.field") for f in self.filter for name in template_fields(f.field)]
        refs += [(name, "device_row.field") for a in self.device_row for f in a for name in
                 template_fields(f.field)]  # fmt: skip
        for ref, what in refs:
            if ref not in names | index_names:
                raise ValueError(f"{what}: no column or index part named {ref!r}")
        for col in self.columns:
            if col.multiply_by is not None and col.multiply_by not in names:
                raise ValueError(f"column {col.name}: multiply_by names no column")
            if col.divide_by is not None and col.divide_by not in names:
                raise ValueError(f"column {col.name}: divide_by names no column")
            if col.pick_from is not None and col.pick_from not in names:
                raise ValueError(f"column {col.name}: pick_from names no column")
            if not set(col.pick_among) <= names:
                raise ValueError(f"column {col.name}: pick_among names a field that is no column")
            for term in col.exponent_from:
                if term.field not in names:
                    raise ValueError(f"column {col.name}: exponent_from names no column")
            for label, source in col.labels.items():
                unknown = set(template_fields(source)) - names - index_names
                if unknown:
                    raise ValueError(
                        f"column {col.name}: label {label} reads unknown {sorted(unknown)}"
                    )
        if self.emit_info:
            for label, source in self.emit_info.labels.items():
                if source not in names | index_names:
                    raise ValueError(f"emit_info: label {label} reads unknown {source!r}")
        return self

    @cached_property
    def entry_oid(self) -> Oid:
        return _oid(self.oid)

    def column_cadence(self, column: ColumnSpec) -> Cadence:
        """identity if the table or the column says so, else state."""
        return "identity" if self.cadence == "identity" else column.cadence or "state"

    @cached_property
    def identity_filters(self) -> tuple[RowFilter, ...]:
        """The filters that test only identity data and index parts: decided once per
        identity read."""
        static = {p.name for p in self.index}
        static |= {c.name for c in self.columns if self.column_cadence(c) == "identity"}
        return tuple(f for f in self.filter if set(template_fields(f.field)) <= static)

    @cached_property
    def state_filters(self) -> tuple[RowFilter, ...]:
        """The filters that test state data: decided every poll."""
        return tuple(f for f in self.filter if f not in self.identity_filters)

    @cached_property
    def index_shape(self) -> tuple[tuple[str, str], ...]:
        """The index parts' names and formats (a hashable key for decoded indexes)."""
        return tuple((part.name, part.format) for part in self.index)

    @cached_property
    def _column_oids(self) -> dict[str, Oid]:
        oids = {}
        for column in self.columns:
            entry = _oid(column.entry) if column.entry is not None else self.entry_oid
            oids[column.name] = (*entry, column.column)
        return oids

    def column_oid(self, column: ColumnSpec) -> Oid:
        """The column's OID (one tuple per column, made once: every target shares it)."""
        return self._column_oids[column.name]

    @cached_property
    def state_column_oids(self) -> tuple[Oid, ...]:
        """The OIDs of the columns read every poll, in column order (made once)."""
        return tuple(self.column_oid(c) for c in self.columns if self.column_cadence(c) == "state")

    @cached_property
    def identity_column_oids(self) -> tuple[Oid, ...]:
        """The OIDs of the columns read with identity data, in column order (made once)."""
        return tuple(
            self.column_oid(c) for c in self.columns if self.column_cadence(c) == "identity"
        )


class Profile(_Strict):
    """Everything sobriety knows about one device family or one MIB."""

    name: str = Field(pattern=_NAME)
    title: str
    source: str = Field(min_length=1, description="where the OIDs and units come from")
    priority: int = 0
    vendor: str | None = Field(default=None, description="the maker, where no object says it")
    match: Match
    scalars: tuple[ScalarSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()

    @model_validator(mode="after")
    def _markers_resolve(self) -> Self:
        state_scalars = {s.name for s in self.scalars if s.cadence == "state"}
        for table in self.tables:
            if table.reread_when is None:
                continue
            if table.cadence != "identity" and all(c.cadence != "identity" for c in table.columns):
                raise ValueError(
                    f"table {table.name}: reread_when needs identity data (table or columns)"
                )
            if table.reread_when not in state_scalars:
                raise ValueError(
                    f"table {table.name}: reread_when names no state scalar of this profile"
                )
        return self

    def scalar(self, name: str) -> ScalarSpec:
        """The scalar called `name` (KeyError if none)."""
        for scalar in self.scalars:
            if scalar.name == name:
                return scalar
        raise KeyError(name)

    @model_validator(mode="after")
    def _labels_fit_catalogue(self) -> Self:
        for scalar in self.scalars:
            _check_labels(scalar, index_names=(), where=f"scalar {scalar.name}")
        for table in self.tables:
            index_names = tuple(p.name for p in table.index if p.expose)
            for col in table.columns:
                _check_labels(col, index_names, where=f"table {table.name} column {col.name}")
            if table.emit_info:
                wanted = set(BY_NAME[table.emit_info.metric].labels)
                got = {"target", *index_names, *table.emit_info.labels}
                got |= set(table.emit_info.const_labels)
                if got != wanted:
                    raise ValueError(
                        f"table {table.name}: emit_info labels {sorted(got)} do not match "
                        f"the catalogue's {sorted(wanted)}"
                    )
        return self


def _check_labels(field: FieldSpec, index_names: Sequence[str], where: str) -> None:
    if field.metric is None:
        return
    spec = BY_NAME[field.metric]
    got = {"target", *field.labels, *field.const_labels}
    if field.aggregate is None:
        got |= set(index_names)
    if field.type == "enum":
        got.add("state")
    if got != set(spec.labels):
        raise ValueError(
            f"{where}: metric {field.metric} would carry labels {sorted(got)}, "
            f"the catalogue declares {sorted(spec.labels)}"
        )


@dataclass(frozen=True)
class LoadedProfile:
    """A profile and the file it came from."""

    profile: Profile
    path: Path


@dataclass(frozen=True)
class DeviceFacts:
    """What identification needs: the system group as the agent reported it."""

    sysobjectid: Oid | None
    sysdescr: str


class ProfileSet:
    """All profiles in force, in a stable order (priority, then name)."""

    def __init__(self, profiles: Iterable[LoadedProfile]) -> None:
        self.loaded = sorted(profiles, key=lambda lp: (-lp.profile.priority, lp.profile.name))
        self.by_name = {lp.profile.name: lp.profile for lp in self.loaded}

    def __len__(self) -> int:
        return len(self.loaded)

    @property
    def profiles(self) -> list[Profile]:
        return [lp.profile for lp in self.loaded]

    @cached_property
    def object_names(self) -> dict[Oid, str]:
        """Every OID the profiles read, named `profile/field` (`profile/table.column` for
        columns): how issues say which object was left out. Made once, shared by targets."""
        names: dict[Oid, str] = {
            (1, 3, 6, 1, 2, 1, 1, 1, 0): "sysDescr",  # the identification GET's own two
            (1, 3, 6, 1, 2, 1, 1, 2, 0): "sysObjectID",
        }
        for profile in self.profiles:
            for scalar in profile.scalars:
                names.setdefault(scalar.oid_tuple, f"{profile.name}/{scalar.name}")
            for table in profile.tables:
                for column in table.columns:
                    names.setdefault(
                        table.column_oid(column), f"{profile.name}/{table.name}.{column.name}"
                    )
        return names

    def decide(self, facts: DeviceFacts) -> tuple[list[Profile], list[Profile]]:
        """Split profiles into (matched now, to probe) from sysObjectID and sysDescr."""
        matched: list[Profile] = []
        to_probe: list[Profile] = []
        for profile in self.profiles:
            verdict = _verdict(profile.match, facts)
            if verdict is True:
                matched.append(profile)
            elif verdict is None:
                to_probe.append(profile)
        return matched, to_probe


def _verdict(match: Match, facts: DeviceFacts) -> bool | None:
    """True (applies), False (does not), None (only a probe can tell)."""
    oid = facts.sysobjectid
    if oid is not None and any(oid[: len(p)] == p for p in match.exclude_sysobjectid_oids):
        return False
    if any(r.search(facts.sysdescr) for r in match.exclude_sysdescr_res):
        return False
    if match.always:
        return True
    if oid is not None and any(oid[: len(p)] == p for p in match.sysobjectid_oids):
        return True
    if any(r.search(facts.sysdescr) for r in match.sysdescr_res):
        return True
    return None if match.probe else False


# --- loading --------------------------------------------------------------------------------


def builtin_profile_dir() -> Path:
    """The profiles shipped with sobriety (inside the wheel, or the source checkout)."""
    from sobriety.resources import data_dir

    return data_dir("collectors") / "snmp"


def load_profiles(dirs: Sequence[Path]) -> ProfileSet:
    """Load and validate every `*.yaml` in the folders; raise ConfigError with all problems."""
    problems: list[ConfigProblem] = []
    loaded: list[LoadedProfile] = []
    seen: dict[str, Path] = {}
    for folder in dirs:
        if not folder.is_dir():
            problems.append(ConfigProblem(str(folder), "-", "-", "not a folder"))
            continue
        for path in sorted(folder.glob("*.yaml")):
            profile, file_problems = load_profile_file(path)
            problems.extend(file_problems)
            if profile is None:
                continue
            if profile.name in seen:
                problems.append(
                    ConfigProblem(
                        str(path),
                        f"profile {profile.name}",
                        "name",
                        f"duplicate profile name (first in {seen[profile.name]})",
                    )
                )
                continue
            seen[profile.name] = path
            loaded.append(LoadedProfile(profile, path))
    if problems:
        raise ConfigError(problems)
    return ProfileSet(loaded)


def load_profile_file(path: Path) -> tuple[Profile | None, list[ConfigProblem]]:
    """Parse one profile file; return the profile or the problems found in it."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigProblem(str(path), "-", "-", f"cannot read: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "-"
        return None, [ConfigProblem(str(path), where, "-", f"YAML syntax: {exc}")]
    if not isinstance(raw, dict):
        return None, [ConfigProblem(str(path), "-", "-", "a profile file holds one mapping")]
    entry = f"profile {raw.get('name', path.stem)}"
    try:
        return Profile.model_validate(raw), []
    except ValidationError as exc:
        return None, [
            ConfigProblem(str(path), entry, _loc(err["loc"], raw), err["msg"])
            for err in exc.errors()
        ]


def _loc(loc: tuple[int | str, ...], raw: object) -> str:
    """Pydantic location to a readable path, naming list items by their `name` when known."""
    parts: list[str] = []
    node: object = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and "name" in node:
                    label = f"[{node['name']}]"
            else:
                node = None
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
        else:
            node = node.get(item) if isinstance(node, dict) else None
            parts.append(item)
    return ".".join(parts) or "-"

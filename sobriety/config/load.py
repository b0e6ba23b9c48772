"""The configuration: strict models loaded from YAML, with every problem reported at once.

A main file holds `settings`, `auths`, `sites`, `targets` and may `include` other files whose
`auths`, `sites` and `targets` are merged in. Each entry is validated on its own, so one bad
target does not hide the problems of the others; cross references (auth and site names,
duplicate ids) are checked last, on the raw entries, even when some failed. Problems name the
file, the entry and the field, sorted by file then by line. Secrets come from literals,
`{env: NAME}` or `{file: PATH}` and never appear in a message or a repr.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from sobriety.config.inventory import AssetRecord, DisposalBatch, DisposalRecord, batch_problems
from sobriety.config.organisations import ORGANISATION_ID, OrganisationConfig, share_problems
from sobriety.config.radio import SiteRadio, SiteType, TargetRadio
from sobriety.config.types import (
    ConfigPath,
    Duration,
    FieldProblems,
    IsoDate,
    Loc,
    Problems,
    Secret,
    SecretResolver,
    check_address,
    dotted,
    parse_hours,
    parse_yaml,
    reveal,
    split_listen,
    yaml_error_message,
)
from sobriety.energy.classes import ClassOverride, PowerFigures, load_classes
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.snmp.credentials import Credentials

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Set by sobriety itself or by Prometheus; the device_info ones would be silently dropped.
RESERVED_LABELS = frozenset(
    {"target", "site", "class", "source", "job", "instance"}
    | {"kind", "vendor", "model", "serial", "firmware", "sysobjectid"}
    | {"organisation", "building", "room"}
)
DEFAULT_SITE = "default"
SECRET_FIELDS = ("community", "auth_password", "priv_password")
SECTIONS = ("settings", "include", "organisations", "auths", "sites", "targets", "disposals")
INCLUDED_SECTIONS = ("organisations", "auths", "sites", "targets", "disposals")
_TARGET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_AUTH_ID = re.compile(r"[A-Za-z0-9_.-]+")
_SITE_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_LABEL = re.compile(r"[a-z_][a-z0-9_]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MailRouteConfig(_Strict):
    """Recipients for the alerts whose labels match (first match wins unless `continue`)."""

    match: Mapping[str, str | tuple[str, ...]] = Field(
        min_length=1, description="label = value or [values]: site, severity, alertname..."
    )
    to: tuple[str, ...] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")

    def values(self) -> dict[str, tuple[str, ...]]:
        """Each matcher as a tuple of accepted values."""
        return {k: (v,) if isinstance(v, str) else v for k, v in self.match.items()}


class EmailConfig(_Strict):
    """SMTP delivery of alert notifications."""

    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    tls: Literal["none", "starttls", "implicit"] | None = Field(
        default=None, description="default: implicit on port 465, starttls if set, else none"
    )
    starttls: bool = False
    ca_file: ConfigPath | None = Field(default=None, description="the relay's private CA")
    username: str | None = None
    password: Secret = None
    sender: str = Field(min_length=3, alias="from")
    to: tuple[str, ...] = Field(default=(), description="recipients of alerts no route takes")
    routes: tuple[MailRouteConfig, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: Problems = []
        if self.starttls and self.tls not in (None, "starttls"):
            problems.append((("starttls",), f"contradicts tls: {self.tls}"))
        if not self.to and not self.routes:
            problems.append((("to",), "give recipients (to) or routes"))
        if self.password is not None and not self.username:
            problems.append((("username",), "a password is given without a username"))
        if problems:
            raise FieldProblems(problems)
        return self

    @property
    def security(self) -> Literal["none", "starttls", "implicit"]:
        """How the connection is protected, defaults applied."""
        if self.tls is not None:
            return self.tls
        if self.starttls:
            return "starttls"
        return "implicit" if self.port == 465 else "none"


class AlertingConfig(_Strict):
    """Which alert rules run in the daemon, and where their notifications go."""

    shipped_rules: bool = Field(default=True, description="collectors/alerts.yaml")
    rule_files: tuple[ConfigPath, ...] = ()
    alertmanager: str | None = Field(default=None, pattern=r"^https?://")
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    email: EmailConfig | None = None
    log: bool = True
    evaluate_every: Duration = Field(default=15.0, ge=1.0)
    resend: Duration = Field(default=60.0, ge=5.0, description="Alertmanager resend period")


class Settings(_Strict):
    """How this daemon runs."""

    listen: str = "127.0.0.1:9471"
    data_dir: ConfigPath = Field(default=Path("var"), validate_default=True)
    interval: Duration = Field(default=300.0, ge=1.0)
    off_hours_interval: Duration | None = Field(default=None, ge=1.0)
    timeout: Duration = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=5)
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    max_concurrent_polls: int = Field(default=64, ge=1, le=10_000)
    self_metrics: Literal["aggregate", "per_target"] = Field(
        default="aggregate",
        description="polling's own cost (polls, requests, bytes, varbinds, retries, errors, "
        "issues) summed over targets, or per target (about 17 more series a device)",
    )
    poll_deadline_ratio: float = Field(
        default=0.8,
        gt=0,
        le=1.0,
        description="a poll stops walking at this fraction of its interval; the target "
        "stays up and a `deadline` issue says what was cut",
    )
    max_poll_varbinds: int = Field(
        default=100_000,
        ge=100,
        description="a poll stops walking once it has received this many values "
        "(`varbind_cap` issue): an agent whose tables never end costs one poll's worth",
    )
    profile_dirs: tuple[ConfigPath, ...] = ()
    shard: str = Field(default="1/1", pattern=r"^\d+/\d+$")
    shard_by: Literal["target", "site", "organisation"] = Field(
        default="target",
        description="what the shard hash is taken of: a target's power chain (a device with "
        "the switch, PDU or UPS feeding it), its site, or its site's organisation",
    )
    web_admins: tuple[str, ...] = Field(
        default=(), description="web users who see every organisation's reports"
    )
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    eol_policy: ConfigPath | None = Field(
        default=None, description="a site's end-of-life rules (default: collectors/eol-policy.yaml)"
    )
    self_watts_per_cpu: float = Field(
        default=5.0,
        gt=0,
        le=100,
        description="watts one busy CPU of this host draws, for the daemon's own energy",
    )
    eol_advice_every: Duration = Field(
        default=900.0,
        ge=0.0,
        le=86_400.0,
        description="how often a device's end-of-life facts and recommendation are worked out "
        "again (at once after a reboot or a reload; 0: at every poll)",
    )
    energy_max_gap_intervals: float = Field(
        default=3.0,
        ge=1.0,
        le=100.0,
        description="readings further apart than this many poll intervals are a gap: "
        "no energy is made up for it",
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("shard")
    @classmethod
    def _shard(cls, value: str) -> str:
        k, n = (int(x) for x in value.split("/"))
        if not 1 <= k <= n:
            raise ValueError(f"shard K/N needs 1 <= K <= N, not {value!r}")
        return value

    @property
    def listen_host(self) -> str:
        """The host (or IP literal, without brackets) to listen on."""
        return split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        """The TCP port to listen on."""
        return split_listen(self.listen)[1]


class AuthConfig(_Strict):
    """Credentials for SNMP v1/v2c (community) or v3 (USM user), checked per version."""

    version: Literal["1", "2c", "3"]
    community: Secret = None
    user: str | None = Field(default=None, min_length=1, max_length=32)
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] | None = None
    auth_password: Secret = None
    priv_protocol: Literal["des", "aes128", "aes192", "aes256"] | None = None
    priv_password: Secret = None
    context: str = ""
    engine: Literal["lean", "pysnmp"] = "lean"

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        if isinstance(value, bool):
            return value
        aliases: dict[object, str] = {1: "1", 2: "2c", "2": "2c", 3: "3"}
        return aliases.get(value, value)

    @model_validator(mode="after")
    def _per_version(self) -> Self:
        problems: Problems = []
        if self.version in ("1", "2c"):
            if self.community is None:
                problems.append((("community",), f"v{self.version} needs a community"))
            elif not self.community.get_secret_value():
                problems.append((("community",), "must not be empty"))
            v3_only = ("user", "auth_protocol", "auth_password", "priv_protocol", "priv_password")
            problems += [((f,), "only for version 3") for f in v3_only if getattr(self, f)]
            if self.context:
                problems.append((("context",), "only for version 3"))
        else:
            problems += self._v3_problems()
        if problems:
            raise FieldProblems(problems)
        return self

    def credentials(self) -> Credentials:
        """What a transport needs, secrets revealed (`Credentials` keeps them out of repr)."""
        if self.version == "3":
            return Credentials.usm(
                self.user or "", self.auth_protocol, reveal(self.auth_password),
                self.priv_protocol, reveal(self.priv_password), self.context,
            )  # fmt: skip
        return Credentials(self.version, reveal(self.community) or "")

    def _v3_problems(self) -> Problems:
        problems: Problems = []
        if self.community is not None:
            problems.append((("community",), "v3 uses a user, not a community"))
        if not self.user:
            problems.append((("user",), "v3 needs a user"))
        if self.auth_protocol and self.auth_password is None:
            problems.append((("auth_password",), "v3 with auth_protocol needs auth_password"))
        if self.auth_password is not None and not self.auth_protocol:
            problems.append((("auth_protocol",), "auth_password given without auth_protocol"))
        if self.priv_protocol and not self.auth_protocol:
            problems.append((("priv_protocol",), "v3 privacy (priv_protocol) needs auth_protocol"))
        if self.priv_protocol and self.priv_password is None:
            problems.append((("priv_password",), "v3 with priv_protocol needs priv_password"))
        if self.priv_password is not None and not self.priv_protocol:
            problems.append((("priv_protocol",), "priv_password given without priv_protocol"))
        for name in ("auth_password", "priv_password"):
            secret: SecretStr | None = getattr(self, name)
            if secret is not None and len(secret.get_secret_value()) < 8:
                problems.append(((name,), "must have at least 8 characters (RFC 3414)"))
        return problems

    @property
    def security_level(self) -> str:
        """community, noAuthNoPriv, authNoPriv or authPriv."""
        if self.version != "3":
            return "community"
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    def describe(self) -> dict[str, str]:
        """For printing: every set field, secrets shown as <secret>."""
        out: dict[str, str] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            out[name] = "<secret>" if name in SECRET_FIELDS else str(value)
        return out


class SiteConfig(_Strict):
    """A place: its clock, opening hours, grid carbon intensity and electricity price."""

    name: str = ""
    timezone: str = "UTC"
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    opening_hours: Mapping[str, tuple[tuple[time, time], ...]] = Field(default_factory=dict)
    grid_gco2e_per_kwh: float = Field(
        default=46.1, ge=0, description="ADEME Base Empreinte, France 2025 consumption mix"
    )
    price_per_kwh: float = Field(default=0.20, ge=0, description="TRVE base, Feb 2025, rounded")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    holidays_ics: ConfigPath | None = Field(
        default=None, description="an iCalendar file of the site's closures (school holidays)"
    )
    public_holidays: bool = Field(
        default=True, description="the country's public holidays count as closed (needs country)"
    )
    school_zone: Literal["A", "B", "C"] | None = Field(
        default=None,
        description="French school-holiday zone: its holidays close the site (needs FR)",
    )
    subdivision: str | None = Field(
        default=None,
        description="the country's subdivision for public holidays (FR: 57, 67, 68 for "
        "Alsace-Moselle, 971-976 overseas...; the holidays package's codes)",
    )
    always_open: bool = Field(
        default=False,
        description='open day and night, every day (a server room); `opening_hours: "24/7"`',
    )
    classes: Mapping[str, ClassOverride] = Field(
        default_factory=dict, description="this site's figures for device classes"
    )
    # the radio part (config/radio.py): what kind of place it is, where its field is bounded
    type: SiteType | None = Field(
        default=None, description="ecole_primaire, college, lycee, creche, office, ..."
    )
    radio: SiteRadio = Field(default_factory=SiteRadio, description="radio exposure figures")
    # --- who owns it and who pays for it (organisations) ---
    organisation: str | None = Field(
        default=None, pattern=rf"^{ORGANISATION_ID.pattern}$", description="who owns the site"
    )
    shares: Mapping[str, float] = Field(
        default_factory=dict,
        description="a shared site's keys: organisation -> share of its energy, carbon and "
        "cost (sum 1)",
    )

    @field_validator("shares")
    @classmethod
    def _shares(cls, shares: Mapping[str, float]) -> Mapping[str, float]:
        problems = share_problems(shares)
        if problems:
            raise FieldProblems([((), p) for p in problems])
        return shares

    def keys(self) -> dict[str, float]:
        """Who pays for the site, by share: its declared keys, else all to its owner."""
        if self.shares:
            return dict(self.shares)
        return {self.organisation: 1.0} if self.organisation else {}

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _calendar_places(self) -> Self:
        problems: Problems = []
        if self.school_zone is not None and self.country != "FR":
            problems.append((("school_zone",), "school zones are French: set country: FR"))
        if self.subdivision is not None:
            known = holidays.list_supported_countries().get(self.country or "", [])
            if self.country is None:
                problems.append((("subdivision",), "a subdivision needs its country"))
            elif self.subdivision not in known:
                shown = ", ".join(s for s in known if not s.startswith("Zone"))
                problems.append(
                    (("subdivision",), f"unknown in {self.country} (known: {shown or 'none'})")
                )
        if problems:
            raise FieldProblems(problems)
        return self

    @model_validator(mode="before")
    @classmethod
    def _round_the_clock(cls, data: object) -> object:
        """`opening_hours: "24/7"` is `always_open: true`."""
        if isinstance(data, Mapping) and data.get("opening_hours") in ("24/7", "24x7"):
            return {**data, "opening_hours": {}, "always_open": True}
        return data

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> object:
        if not isinstance(value, Mapping):
            return value
        parsed: dict[str, tuple[tuple[time, time], ...]] = {}
        problems: Problems = []
        for day, spans in value.items():
            if day not in WEEKDAYS:
                problems.append(((str(day),), f"not a weekday (use {', '.join(WEEKDAYS)})"))
            elif not isinstance(spans, list | tuple):
                problems.append(((day,), 'a list of "HH:MM-HH:MM"'))
            else:
                parsed[day] = ()
                for i, span in enumerate(spans):
                    try:
                        parsed[day] += (_span(span),)
                    except ValueError as exc:
                        problems.append(((day, i), str(exc)))
        if problems:
            raise FieldProblems(problems)
        return parsed

    @property
    def zone(self) -> ZoneInfo:
        """The site's timezone."""
        return ZoneInfo(self.timezone)

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (aware) falls within the site's opening hours, in its own timezone."""
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        if self.always_open:
            return True
        local = at.astimezone(self.zone)
        spans = self.opening_hours.get(WEEKDAYS[local.weekday()], ())
        now = local.time()
        return any(start <= now < end for start, end in spans)


def _span(span: object) -> tuple[time, time]:
    """A parsed (start, end) pair as it is, else "HH:MM-HH:MM" parsed."""
    if isinstance(span, tuple) and len(span) == 2 and all(isinstance(t, time) for t in span):
        start, end = span
        if start < end:
            return start, end
    return parse_hours(str(span))


class PoeFeed(_Strict):
    """The PoE port a powered device hangs from: its watts are the device's, measured."""

    switch: str = Field(pattern=rf"^{_TARGET_ID.pattern}$")
    group: str = "1"
    port: str = Field(min_length=1)


class OutletFeed(_Strict):
    """The metered PDU outlet a device is plugged into."""

    pdu: str = Field(pattern=rf"^{_TARGET_ID.pattern}$")
    outlet: str = Field(min_length=1)


_GIVEN_FIELDS: dict[frozenset[str], set[str]] = {}  # bounded: subsets of TargetConfig's fields


class TargetConfig(_Strict):
    """One device to poll (kind snmp) or the local host (kind host)."""

    id: str = Field(pattern=rf"^{_TARGET_ID.pattern}$", max_length=128)
    kind: Literal["snmp", "host"] = "snmp"
    address: str | None = None
    port: int = Field(default=161, ge=1, le=65535)
    auth: str | None = None
    site: str = DEFAULT_SITE
    building: str | None = Field(default=None, min_length=1, max_length=64)
    room: str | None = Field(default=None, min_length=1, max_length=64)
    device_class: str | None = Field(default=None, alias="class", pattern=r"^[a-z0-9_]+$")
    interval: Duration | None = Field(default=None, ge=1.0)
    labels: Mapping[str, str] = Field(default_factory=dict)
    purchased: IsoDate | None = None
    commissioned: IsoDate | None = None
    warranty_end: IsoDate | None = None
    warranty_months: int | None = Field(default=None, ge=1, le=600)
    nameplate_watts: float | None = Field(default=None, gt=0)
    power: PowerFigures | None = Field(
        default=None, description="this device's own idle/typical/max watts (datasheet)"
    )
    poe: PoeFeed | None = Field(default=None, description="the switch port that powers it")
    outlet: OutletFeed | None = Field(default=None, description="the metered PDU outlet")
    outlets: tuple[OutletFeed, ...] = Field(
        default=(), description="every metered outlet it is plugged into (A and B feeds)"
    )
    fed_by: tuple[str, ...] = Field(
        default=(),
        description="the feeders (UPS, PDU, meter) whose measured output includes this device",
    )
    ups_topology: Literal["double_conversion", "line_interactive", "standby"] | None = Field(
        default=None, description="for a UPS: its topology, when its model does not tell"
    )
    virtual: Literal["share", "not_counted"] = Field(
        default="share",
        description="for a virtual machine or container: book its share of a host (share), "
        "or nothing when the physical host is monitored too (not_counted)",
    )
    disposed: DisposalRecord | None = Field(
        default=None, description="handed over: no longer polled, listed in end-of-life exports"
    )
    asset: AssetRecord | None = Field(
        default=None, description="what the asset register knows: tag, faults, software, mass"
    )
    radio: TargetRadio | None = Field(
        default=None, description="its antennas as the inventory knows them (config/radio.py)"
    )
    disabled: bool = False

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)

    @field_validator("auth", "site", "device_class")
    @classmethod
    def _shared_text(cls, value: str | None) -> str | None:
        """Interned: thousands of targets name the same few auths, sites and classes."""
        return None if value is None else sys.intern(value)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: Mapping[str, str]) -> Mapping[str, str]:
        problems: Problems = []
        if len(labels) > 8:
            problems.append(((), f"at most 8 labels, not {len(labels)}"))
        for key, value in labels.items():
            if not _LABEL.fullmatch(key) or key.startswith("__"):
                problems.append(((key,), "label names are a-z, 0-9 and _, not starting __"))
            elif key in ("building", "room"):
                problems.append(((key,), f"{key} is a target field: write `{key}:` beside "
                                 "`site:`, not among the labels"))  # fmt: skip
            elif key in RESERVED_LABELS:
                problems.append(((key,), f"label name {key!r} is reserved"))
            if len(value) > 128:
                problems.append(((key,), "at most 128 characters"))
        if problems:
            raise FieldProblems(problems)
        return {sys.intern(key): sys.intern(value) for key, value in labels.items()}

    @model_validator(mode="after")
    def _per_kind(self) -> Self:
        problems: Problems = []
        if self.kind == "snmp":
            for name in ("address", "auth"):
                if getattr(self, name) is None and self.disposed is None:  # not polled once gone
                    problems.append(((name,), f"an snmp target needs an {name}"))
        else:
            for name in ("address", "auth"):
                if getattr(self, name) is not None:
                    problems.append(((name,), "a host target takes none (it is this machine)"))
        if self.warranty_end is not None and self.warranty_months is not None:
            problems.append((("warranty_months",), "give warranty_end or warranty_months"))
        if self.outlet is not None and self.outlets:
            problems.append((("outlets",), "give outlet or outlets, not both"))
        if self.id in self.fed_by:
            problems.append((("fed_by",), "a device cannot feed itself"))
        if problems:
            raise FieldProblems(problems)
        # the names of the fields given, one set shared by the targets given the same ones
        # (~700 bytes a target otherwise); safe because the model is frozen: pydantic
        # changes this set only when a field is assigned, and copies it for model_copy
        given = frozenset(self.__pydantic_fields_set__)
        shared = _GIVEN_FIELDS.get(given)
        if shared is None:
            shared = _GIVEN_FIELDS[given] = self.__pydantic_fields_set__
        object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self

    @property
    def all_outlets(self) -> tuple[OutletFeed, ...]:
        """Every metered outlet the device is plugged into."""
        return (self.outlet, *self.outlets) if self.outlet is not None else self.outlets

    @property
    def feeders(self) -> tuple[str, ...]:
        """Every feeder whose measurement includes this device: outlets' PDUs and fed_by."""
        return tuple(dict.fromkeys([*(o.pdu for o in self.all_outlets), *self.fed_by]))


class Config(_Strict):
    """Everything the daemon was told."""

    settings: Settings
    auths: Mapping[str, AuthConfig]
    sites: Mapping[str, SiteConfig]
    targets: tuple[TargetConfig, ...]
    source_files: tuple[Path, ...]
    base_dir: Path
    disposals: Mapping[str, DisposalBatch] = Field(default_factory=dict)
    organisations: Mapping[str, OrganisationConfig] = Field(default_factory=dict)
    inherited: Mapping[str, tuple[str, ...]] = Field(
        default_factory=dict, description="site -> electricity figures taken from its owner"
    )

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems: Problems = []
        for i, target in enumerate(self.targets):
            if target.auth is not None and target.auth not in self.auths:
                problems.append((("targets", i, "auth"), f"unknown auth {target.auth!r}"))
            if target.site not in self.sites:
                problems.append((("targets", i, "site"), f"unknown site {target.site!r}"))
        if problems:
            raise FieldProblems(problems)
        return self

    def auth_for(self, target: TargetConfig) -> AuthConfig:
        """The credentials of an snmp target (KeyError for a host target)."""
        if target.auth is None:
            raise KeyError(f"target {target.id} has no auth")
        return self.auths[target.auth]

    def site_for(self, target: TargetConfig) -> SiteConfig:
        """The site a target belongs to."""
        return self.sites[target.site]

    def interval_for(self, target: TargetConfig) -> float:
        """The target's poll interval in seconds: its own, else the default."""
        return target.interval if target.interval is not None else self.settings.interval

    def organisation_of(self, target: TargetConfig) -> str:
        """The organisation that owns a target's site ("" when none is said)."""
        site = self.sites.get(target.site)
        return (site.organisation if site is not None else None) or ""


# --- loading ----------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


@dataclass
class _Doc:
    """One YAML file as read: its name as given, its data and the line of every key."""

    label: str
    order: int
    data: dict[str, Any] = field(default_factory=dict)
    lines: dict[Loc, int] = field(default_factory=dict)


@dataclass
class _Report:
    """Problems collected so far, each with where it sorts (file order, line, arrival)."""

    items: list[tuple[int, int, int, ConfigProblem]] = field(default_factory=list)

    def add(self, doc: _Doc, loc: Loc, message: str) -> None:
        entry, where = _locate(doc, loc)
        line = next((doc.lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in doc.lines), 0)
        problem = ConfigProblem(doc.label, entry, where, message)
        self.items.append((doc.order, line, len(self.items), problem))

    def problems(self) -> list[ConfigProblem]:
        """Sorted by file, then line, then arrival."""
        return [item[3] for item in sorted(self.items, key=lambda item: item[:3])]


def _locate(doc: _Doc, loc: Loc) -> tuple[str, str]:
    """(entry, field) of a location in a file: `targets[3] (id=sw1)`, `labels.Room`."""
    if loc[:1] == ("settings",) and len(loc) > 1:
        return "settings", dotted(loc[1:])
    if loc[:1] in (("auths",), ("sites",), ("disposals",), ("organisations",)) and len(loc) > 1:
        return f"{loc[0]}.{loc[1]}", dotted(loc[2:])
    if loc[:1] == ("targets",) and len(loc) > 1 and isinstance(loc[1], int):
        entries = doc.data.get("targets")
        raw = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        tid = raw.get("id") if isinstance(raw, dict) else None
        label = f"targets[{loc[1]}]" + (f" (id={tid})" if isinstance(tid, str) else "")
        return label, dotted(loc[2:])
    return "(top)", dotted(loc)


def _read(path: Path, label: str, order: int, report: _Report) -> _Doc | None:
    """Parse one file, noting the line of every key and reporting duplicate keys."""
    doc = _Doc(label, order)
    try:
        data, doc.lines, duplicates = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        report.add(doc, (), f"cannot read: {getattr(exc, 'strerror', None) or 'not UTF-8'}")
        return None
    except yaml.YAMLError as exc:
        report.add(doc, (), yaml_error_message(exc))
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        report.add(doc, (), "a configuration file holds one mapping of sections")
        return None
    doc.data = data
    for loc, message in duplicates:
        report.add(doc, loc, message)
    return doc


def _validate(
    report: _Report, doc: _Doc, loc: Loc, model: type[M], raw: object, context: dict[str, Any]
) -> M | None:
    """Validate one entry; on failure report each error at its own field."""
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        for err in exc.errors():
            error = err.get("ctx", {}).get("error")
            if isinstance(error, FieldProblems):
                for sub, message in error.items:
                    report.add(doc, (*loc, *err["loc"], *sub), message)
            else:
                report.add(doc, (*loc, *err["loc"]), _message(err, model))
        return None


def _message(err: ErrorDetails, model: type[BaseModel]) -> str:
    """A short human message; the input is echoed only for non-secret choice/pattern fields."""
    kind, loc = err["type"], err["loc"]
    if kind == "extra_forbidden":
        names = [f.alias or n for n, f in model.model_fields.items()]
        return _unknown_key(str(loc[-1]), names)
    if kind == "missing":
        return "required"
    if kind in ("model_type", "dict_type"):
        return "must be a mapping"
    message = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    secret = bool(loc) and loc[0] in SECRET_FIELDS
    if (
        kind in ("literal_error", "string_pattern_mismatch")
        and isinstance(value, str)
        and not secret
    ):
        message += f", not {value[:80]!r}"
    return message


def _unknown_key(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate a configuration; raise ConfigError listing every problem found."""
    report = _Report()
    base_dir = path.parent.resolve()
    context: dict[str, Any] = {
        "base_dir": base_dir,
        "secrets": SecretResolver(os.environ if env is None else env, base_dir),
    }
    main = _read(path, str(path), 0, report)
    if main is None:
        raise ConfigError(report.problems())
    for key in main.data:
        if key not in SECTIONS:
            report.add(main, (str(key),), _unknown_key(str(key), SECTIONS))
    docs = [main, *_includes(main, path, report)]

    raw_settings = main.data.get("settings")
    raw_settings = {} if raw_settings is None else raw_settings
    settings = _validate(report, main, ("settings",), Settings, raw_settings, context)
    auths = _named(report, docs, "auths", _AUTH_ID, AuthConfig, context)
    organisations = _named(
        report, docs, "organisations", ORGANISATION_ID, OrganisationConfig, context
    )
    sites = _named(report, docs, "sites", _SITE_ID, SiteConfig, context)
    sites.setdefault(DEFAULT_SITE, SiteConfig())
    _check_organisations(report, docs, _defined(docs, "organisations"), settings)
    inherited = _inherit(sites, organisations)
    targets = _targets(report, docs, context)
    disposals = _named(report, docs, "disposals", _BATCH_ID, DisposalBatch, context)
    _cross_check(report, docs, _defined(docs, "auths"), _defined(docs, "sites") | {DEFAULT_SITE})
    _check_energy_refs(report, docs)
    _check_disposals(report, docs, disposals, _defined(docs, "disposals"))
    if report.items or settings is None:
        raise ConfigError(report.problems())
    return Config(
        settings=settings,
        auths=auths,
        sites=sites,
        targets=tuple(targets),
        source_files=tuple(Path(doc.label).resolve() for doc in docs),
        base_dir=base_dir,
        disposals=disposals,
        organisations=organisations,
        inherited=inherited,
    )


def _check_organisations(
    report: _Report, docs: list[_Doc], defined: set[str], settings: Settings | None
) -> None:
    """Sites name known owners and sharers; a web user is an admin or an organisation's."""
    known = ", ".join(sorted(defined)) or "none defined"
    for doc in docs:
        entries = doc.data.get("sites")
        for name, body in entries.items() if isinstance(entries, dict) else []:
            if not isinstance(body, dict):
                continue
            owner = body.get("organisation")
            if isinstance(owner, str) and owner not in defined:
                report.add(doc, ("sites", name, "organisation"),
                           f"unknown organisation {owner!r} (known: {known})")  # fmt: skip
            shares = body.get("shares")
            for org in shares if isinstance(shares, dict) else []:
                if str(org) not in defined:
                    report.add(doc, ("sites", name, "shares", str(org)),
                               f"unknown organisation {org!r} (known: {known})")  # fmt: skip
    admins = set(settings.web_admins) if settings is not None else set()
    for doc in docs:
        entries = doc.data.get("organisations")
        for name, body in entries.items() if isinstance(entries, dict) else []:
            users = body.get("users") if isinstance(body, dict) else None
            for i, user in enumerate(users if isinstance(users, list) else []):
                if user in admins:
                    report.add(doc, ("organisations", name, "users", i),
                               f"{user!r} is in settings.web_admins: an admin sees every "
                               "organisation already")  # fmt: skip


def _inherit(
    sites: dict[str, SiteConfig], organisations: Mapping[str, OrganisationConfig]
) -> dict[str, tuple[str, ...]]:
    """Sites take their owner's electricity figures where they set none; returns, per site,
    the fields so taken (reports say where a price or an intensity comes from)."""
    inherited: dict[str, tuple[str, ...]] = {}
    for name, site in sites.items():
        owner = organisations.get(site.organisation or "")
        if owner is None:
            continue
        contract = owner.electricity.model_dump(exclude_none=True)
        update = {k: v for k, v in contract.items() if k not in site.model_fields_set}
        if update:
            sites[name] = site.model_copy(update=update)
            inherited[name] = tuple(sorted(update))
    return inherited


def _includes(main: _Doc, path: Path, report: _Report) -> list[_Doc]:
    """Read the included files, reporting missing ones against the main file's `include`."""
    names = main.data.get("include") or []
    if not isinstance(names, list):
        report.add(main, ("include",), "a list of file names")
        return []
    docs: list[_Doc] = []
    seen = {path.resolve()}
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            report.add(main, ("include", i), "a file name")
            continue
        inc = Path(name).expanduser()
        inc = inc if inc.is_absolute() else path.parent / inc
        if not inc.is_file():
            report.add(main, ("include", i), f"included file not found: {inc}")
            continue
        if inc.resolve() in seen:
            report.add(main, ("include", i), f"{name} is already part of the configuration")
            continue
        seen.add(inc.resolve())
        doc = _read(inc, str(inc), len(docs) + 1, report)
        if doc is None:
            continue
        for key in doc.data:
            if key not in INCLUDED_SECTIONS:
                report.add(doc, (str(key),), "an included file holds only auths, sites, targets")
        docs.append(doc)
    return docs


def _named(
    report: _Report,
    docs: list[_Doc],
    section: Literal["auths", "sites", "disposals", "organisations"],
    pattern: re.Pattern[str],
    model: type[M],
    context: dict[str, Any],
) -> dict[str, M]:
    """Validate a mapping section across files; names are checked and unique across files."""
    out: dict[str, M] = {}
    first: dict[str, str] = {}
    for doc in docs:
        entries = doc.data.get(section) or {}
        if not isinstance(entries, dict):
            report.add(doc, (section,), "a mapping of name to settings")
            continue
        for key, raw in entries.items():
            name = str(key)
            if not pattern.fullmatch(name):
                report.add(doc, (section, name), f"not a valid name (must match {pattern.pattern})")
            if name in first:
                what = section.removesuffix("s")
                report.add(
                    doc, (section, name), f"duplicate {what} {name!r} (first in {first[name]})"
                )
            first.setdefault(name, doc.label)
            obj = _validate(report, doc, (section, name), model, raw, context)
            if obj is not None:
                out.setdefault(name, obj)
    return out


def _targets(report: _Report, docs: list[_Doc], context: dict[str, Any]) -> list[TargetConfig]:
    """Validate every target of every file, each on its own; there must be at least one."""
    out: list[TargetConfig] = []
    given = False
    for doc in docs:
        entries = doc.data.get("targets") or []
        if not isinstance(entries, list):
            report.add(doc, ("targets",), "a list of targets")
            given = True
            continue
        given = given or bool(entries)
        for i, raw in enumerate(entries):
            target = _validate(report, doc, ("targets", i), TargetConfig, raw, context)
            if target is not None:
                out.append(target)
    if not given:
        report.add(docs[0], ("targets",), "no target to poll: give at least one")
    return out


def _defined(docs: list[_Doc], section: str) -> set[str]:
    """Names defined in a section, valid or not (a bad entry is reported on its own)."""
    names: set[str] = set()
    for doc in docs:
        entries = doc.data.get(section)
        if isinstance(entries, dict):
            names |= {str(n) for n in entries}
    return names


def _cross_check(report: _Report, docs: list[_Doc], auths: set[str], sites: set[str]) -> None:
    """Auth and site references and unique target ids, on the raw entries."""
    first: dict[str, tuple[_Doc, str]] = {}
    for doc in docs:
        entries = doc.data.get("targets")
        for i, raw in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(raw, dict):
                continue
            tid, auth, site = raw.get("id"), raw.get("auth"), raw.get("site", DEFAULT_SITE)
            if isinstance(tid, str):
                if tid in first:
                    where_doc, where = first[tid]
                    at = where if where_doc is doc else f"{where_doc.label} {where}"
                    report.add(
                        doc, ("targets", i, "id"), f"duplicate target id {tid!r} (first at {at})"
                    )
                else:
                    first[tid] = (doc, f"targets[{i}]")
            if raw.get("kind") != "host" and isinstance(auth, str) and auth not in auths:
                known = ", ".join(sorted(auths)) or "none defined"
                report.add(doc, ("targets", i, "auth"), f"unknown auth {auth!r} (known: {known})")
            if isinstance(site, str) and site not in sites:
                known = ", ".join(sorted(sites))
                report.add(doc, ("targets", i, "site"), f"unknown site {site!r} (known: {known})")


def _check_energy_refs(report: _Report, docs: list[_Doc]) -> None:
    """Device classes exist; PoE and outlet feeds name configured targets."""
    classes = set(load_classes())
    ids = {
        raw.get("id")
        for doc in docs
        for raw in (doc.data.get("targets") or [])
        if isinstance(raw, dict)
    }
    for doc in docs:
        sites = doc.data.get("sites")
        for site, body in sites.items() if isinstance(sites, dict) else []:
            overrides = body.get("classes") if isinstance(body, dict) else None
            for name in overrides if isinstance(overrides, dict) else []:
                if name not in classes:
                    report.add(doc, ("sites", site, "classes", name), _unknown_class(name, classes))
        entries = doc.data.get("targets")
        for i, raw in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(raw, dict):
                continue
            name = raw.get("class")
            if isinstance(name, str) and re.fullmatch(r"[a-z0-9_]+", name) and name not in classes:
                report.add(doc, ("targets", i, "class"), _unknown_class(name, classes))
            for loc, ref in _feed_refs(raw):
                if ref not in ids:
                    report.add(doc, ("targets", i, *loc), f"no target {ref!r}")
                elif ref == raw.get("id"):
                    report.add(doc, ("targets", i, *loc), "a device cannot feed itself")


def _feed_refs(raw: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Every target a raw target entry names as what feeds it, with where it names it."""
    refs: list[tuple[Loc, str]] = []
    for feed, key in (("poe", "switch"), ("outlet", "pdu")):
        body = raw.get(feed)
        ref = body.get(key) if isinstance(body, dict) else None
        if isinstance(ref, str):
            refs.append(((feed, key), ref))
    outlets = raw.get("outlets")
    for j, body in enumerate(outlets if isinstance(outlets, list) else []):
        ref = body.get("pdu") if isinstance(body, dict) else None
        if isinstance(ref, str):
            refs.append((("outlets", j, "pdu"), ref))
    fed_by = raw.get("fed_by")
    for j, ref in enumerate(fed_by if isinstance(fed_by, list) else []):
        if isinstance(ref, str):
            refs.append((("fed_by", j), ref))
    return refs


def _check_disposals(
    report: _Report, docs: list[_Doc], batches: Mapping[str, DisposalBatch], defined: set[str]
) -> None:
    """Disposal records name a known batch and a route the batch allows."""
    for doc in docs:
        entries = doc.data.get("targets")
        for i, raw in enumerate(entries if isinstance(entries, list) else []):
            body = raw.get("disposed") if isinstance(raw, dict) else None
            if not isinstance(body, dict):
                continue
            try:
                record = DisposalRecord.model_validate(body)
            except ValidationError:
                continue  # reported with the target
            if record.batch in defined and record.batch not in batches:
                continue  # the batch itself is invalid, and reported
            for field_name, message in batch_problems(record, batches):
                report.add(doc, ("targets", i, "disposed", field_name), message)


def _unknown_class(name: str, classes: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(classes), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else " (see collectors/classes.yaml)"
    return f"unknown device class {name!r}{hint}"


def format_problems(problems: Iterable[ConfigProblem]) -> str:
    """One problem a line, `FILE: ENTRY: FIELD: message`, as `check-config` prints them."""
    return "\n".join(str(p) for p in problems)

"""The configuration: strict models loaded from YAML, with every problem reported at once.

A main file holds `settings`, `auths`, `sites`, `targets` and may `include` other files whose
`auths`, `sites` and `targets` are merged in. Each entry is validated on its own, so one bad
target does not hide the problems of the others; cross references (auth and site names,
duplicate ids) are checked last. Problems name the file, the entry and the field. Secrets come
from literals, `{env: NAME}` or `{file: PATH}` and never appear in a message or a repr.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

from sobriety.config_types import (
    Duration,
    SecretResolver,
    check_address,
    parse_hours,
    split_listen,
)
from sobriety.errors import ConfigError, ConfigProblem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESERVED_LABELS = frozenset({"target", "site", "class", "source", "job", "instance"})
DEFAULT_SITE = "default"
SECRET_FIELDS = ("community", "auth_password", "priv_password")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Settings(_Strict):
    """How this daemon runs."""

    listen: str = "127.0.0.1:9471"
    data_dir: Path = Path("var")
    interval: Duration = Field(default=300.0, ge=1.0)
    off_hours_interval: Duration | None = Field(default=None, ge=1.0)
    timeout: Duration = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=5)
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    max_concurrent_polls: int = Field(default=64, ge=1, le=10_000)
    profile_dirs: tuple[Path, ...] = ()
    shard: str = Field(default="1/1", pattern=r"^\d+/\d+$")

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
            raise ValueError(f"shard K/N needs 1 <= K <= N, not {value}")
        return value

    @property
    def listen_host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return split_listen(self.listen)[1]


class AuthConfig(_Strict):
    """Credentials for SNMP v1/v2c (community) or v3 (USM user)."""

    version: Literal["1", "2c", "3"]
    community: SecretStr | None = None
    user: str | None = Field(default=None, min_length=1, max_length=32)
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] | None = None
    auth_password: SecretStr | None = None
    priv_protocol: Literal["des", "aes128", "aes192", "aes256"] | None = None
    priv_password: SecretStr | None = None
    context: str = ""
    engine: Literal["lean", "pysnmp"] = "lean"

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        aliases: dict[object, str] = {1: "1", 2: "2c", "2": "2c", 3: "3", "v1": "1", "v2c": "2c"}
        aliases["v3"] = "3"
        return aliases.get(value, value)

    @model_validator(mode="after")
    def _per_version(self) -> Self:
        if self.version in ("1", "2c"):
            if self.community is None:
                raise ValueError(f"v{self.version} needs a community")
            extra = [f for f in ("user", "auth_protocol", "priv_protocol") if getattr(self, f)]
            if extra:
                raise ValueError(f"{', '.join(extra)} only go with version 3")
            return self
        if self.community is not None:
            raise ValueError("v3 uses a user, not a community")
        if not self.user:
            raise ValueError("v3 needs a user")
        if self.auth_protocol and self.auth_password is None:
            raise ValueError("v3 with auth_protocol needs auth_password")
        if self.priv_protocol and not self.auth_protocol:
            raise ValueError("v3 privacy (priv_protocol) needs auth_protocol too")
        if self.priv_protocol and self.priv_password is None:
            raise ValueError("v3 with priv_protocol needs priv_password")
        for name in ("auth_password", "priv_password"):
            secret = getattr(self, name)
            if secret is not None and len(secret.get_secret_value()) < 8:
                raise ValueError(f"{name} must have at least 8 characters (RFC 3414)")
        return self

    @property
    def security_level(self) -> str:
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

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        parsed: dict[str, tuple[tuple[time, time], ...]] = {}
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            if not isinstance(spans, list):
                raise ValueError(f"{day}: a list of HH:MM-HH:MM")
            parsed[day] = tuple(parse_hours(str(s)) for s in spans)
        return parsed

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (aware) falls within the site's opening hours, in its own timezone."""
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        local = at.astimezone(self.zone)
        spans = self.opening_hours.get(WEEKDAYS[local.weekday()], ())
        now = local.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in spans)


class TargetConfig(_Strict):
    """One device to poll (kind snmp) or the local host (kind host)."""

    id: str = Field(pattern=_ID, max_length=128)
    kind: Literal["snmp", "host"] = "snmp"
    address: str | None = None
    port: int = Field(default=161, ge=1, le=65535)
    auth: str | None = None
    site: str = DEFAULT_SITE
    device_class: str | None = Field(default=None, alias="class", pattern=r"^[a-z0-9_]+$")
    interval: Duration | None = Field(default=None, ge=1.0)
    labels: Mapping[str, str] = Field(default_factory=dict)
    purchased: date | None = None
    commissioned: date | None = None
    warranty_end: date | None = None
    warranty_months: int | None = Field(default=None, ge=1, le=600)
    nameplate_watts: float | None = Field(default=None, gt=0)
    disabled: bool = False

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: Mapping[str, str]) -> Mapping[str, str]:
        import re

        if len(labels) > 8:
            raise ValueError("at most 8 labels")
        for key, value in labels.items():
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", key) or key.startswith("__"):
                raise ValueError(f"label name {key!r}: lower case, digits and _, not __")
            if key in RESERVED_LABELS:
                raise ValueError(f"label name {key!r} is reserved")
            if len(value) > 128:
                raise ValueError(f"label {key!r}: at most 128 characters")
        return labels

    @model_validator(mode="after")
    def _per_kind(self) -> Self:
        if self.kind == "snmp":
            missing = [f for f in ("address", "auth") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"an snmp target needs {' and '.join(missing)}")
        elif self.address is not None or self.auth is not None:
            raise ValueError("a host target takes no address or auth (it is this machine)")
        if self.warranty_end is not None and self.warranty_months is not None:
            raise ValueError("give warranty_end or warranty_months, not both")
        return self


class Config(_Strict):
    """Everything the daemon was told."""

    settings: Settings
    auths: Mapping[str, AuthConfig]
    sites: Mapping[str, SiteConfig]
    targets: tuple[TargetConfig, ...]
    source_files: tuple[Path, ...]
    base_dir: Path

    def auth_for(self, target: TargetConfig) -> AuthConfig:
        if target.auth is None:
            raise KeyError(f"target {target.id} has no auth")
        return self.auths[target.auth]

    def site_for(self, target: TargetConfig) -> SiteConfig:
        return self.sites[target.site]

    def interval_for(self, target: TargetConfig) -> float:
        return target.interval if target.interval is not None else self.settings.interval


# --- loading ----------------------------------------------------------------------------------


class _Loader:
    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.main = path
        self.base_dir = path.parent.resolve()
        self.secrets = SecretResolver(env, self.base_dir)
        self.problems: list[ConfigProblem] = []
        self.files: list[Path] = []

    def problem(self, file: Path, entry: str, field: str, message: str) -> None:
        self.problems.append(ConfigProblem(str(file), entry, field, message))

    def read(self, path: Path) -> dict[str, Any] | None:
        self.files.append(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            self.problem(path, "-", "-", f"cannot read: {exc.strerror}")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "-"
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(path, where, "-", f"YAML syntax: {reason}")
            return None
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(path, "(top)", "-", "a configuration file holds one mapping")
            return None
        return raw

    def validate(
        self, model: type[BaseModel], raw: object, file: Path, entry: str
    ) -> BaseModel | None:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                self.problem(file, entry, _field(err["loc"]), _message(err, model))
            return None


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "-"


def _message(err: Mapping[str, Any], model: type[BaseModel]) -> str:
    if err["type"] == "extra_forbidden":
        names = [n for n, f in model.model_fields.items() if f.alias is None]
        names += [f.alias for f in model.model_fields.values() if f.alias]
        close = difflib.get_close_matches(str(err["loc"][-1]), names, n=1)
        return "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    return str(err["msg"]).removeprefix("Value error, ")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate a configuration; raise ConfigError listing every problem."""
    loader = _Loader(path, os.environ if env is None else env)
    main = loader.read(path)
    if main is None:
        raise ConfigError(loader.problems)
    allowed = {"settings", "include", "auths", "sites", "targets"}
    for key in main:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            loader.problem(path, "(top)", str(key), f"unknown key{hint}")

    documents: list[tuple[Path, dict[str, Any]]] = [(path, main)]
    includes = main.get("include") or []
    if not isinstance(includes, list):
        loader.problem(path, "(top)", "include", "a list of file names")
        includes = []
    for name in includes:
        inc_path = loader.base_dir / str(name)
        doc = loader.read(inc_path)
        if doc is None:
            if not inc_path.exists():
                loader.problems[-1] = ConfigProblem(
                    str(path), "(top)", "include", f"included file not found: {inc_path}"
                )
            continue
        for key in doc:
            if key not in ("auths", "sites", "targets"):
                loader.problem(
                    inc_path,
                    "(top)",
                    str(key),
                    "an included file holds only auths, sites and targets",
                )
        documents.append((inc_path, doc))

    settings = _settings(loader, path, main.get("settings") or {})
    auths = _named(loader, documents, "auths", AuthConfig, secrets=True)
    sites = _named(loader, documents, "sites", SiteConfig)
    targets = _targets(loader, documents)
    sites.setdefault(DEFAULT_SITE, (path, SiteConfig()))
    _cross_check(
        loader, targets, _defined(documents, "auths"), _defined(documents, "sites") | set(sites)
    )
    if loader.problems or settings is None:
        raise ConfigError(loader.problems)
    return Config(
        settings=settings,
        auths={k: v for k, (_, v) in auths.items()},
        sites={k: v for k, (_, v) in sites.items()},
        targets=tuple(t for _, _, t in targets if t is not None),
        source_files=tuple(loader.files),
        base_dir=loader.base_dir,
    )


def _settings(loader: _Loader, path: Path, raw: object) -> Settings | None:
    if not isinstance(raw, dict):
        loader.problem(path, "settings", "-", "a mapping")
        return None
    raw = dict(raw)
    for key in ("data_dir",):
        if isinstance(raw.get(key), str):
            raw[key] = _under(loader.base_dir, raw[key])
    if isinstance(raw.get("profile_dirs"), list):
        raw["profile_dirs"] = [_under(loader.base_dir, str(p)) for p in raw["profile_dirs"]]
    raw.setdefault("data_dir", loader.base_dir / "var")
    settings = loader.validate(Settings, raw, path, "settings")
    return settings if isinstance(settings, Settings) else None


def _under(base: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return (candidate if candidate.is_absolute() else base / candidate).resolve()


def _named(
    loader: _Loader,
    documents: list[tuple[Path, dict[str, Any]]],
    section: str,
    model: type[AuthConfig] | type[SiteConfig],
    secrets: bool = False,
) -> dict[str, tuple[Path, Any]]:
    import re

    out: dict[str, tuple[Path, Any]] = {}
    first: dict[str, Path] = {}
    for file, doc in documents:
        entries = doc.get(section) or {}
        if not isinstance(entries, dict):
            loader.problem(file, section, "-", "a mapping of name to settings")
            continue
        for name, given in entries.items():
            entry = f"{section}.{name}"
            if not re.fullmatch(_ID, str(name)):
                loader.problem(file, entry, "-", "names use letters, digits, _ . -")
            if name in first:
                loader.problem(file, entry, "-", f"duplicate name (first in {first[name]})")
                continue
            first[name] = file
            if not isinstance(given, dict):
                loader.problem(file, entry, "-", "a mapping")
                continue
            raw = dict(given)
            if secrets:
                for field in SECRET_FIELDS:
                    if field in raw:
                        try:
                            raw[field] = loader.secrets.resolve(raw[field])
                        except ValueError as exc:
                            loader.problem(file, entry, field, str(exc))
                            raw[field] = SecretStr("<unresolved>")
            model_obj = loader.validate(model, raw, file, entry)
            if model_obj is not None:
                out[str(name)] = (file, model_obj)
    return out


def _targets(
    loader: _Loader, documents: list[tuple[Path, dict[str, Any]]]
) -> list[tuple[Path, str, TargetConfig | None]]:
    out: list[tuple[Path, str, TargetConfig | None]] = []
    first: dict[str, str] = {}
    for file, doc in documents:
        entries = doc.get("targets") or []
        if not isinstance(entries, list):
            loader.problem(file, "targets", "-", "a list of targets")
            continue
        for i, item in enumerate(entries):
            raw = item
            tid = raw.get("id") if isinstance(raw, dict) else None
            entry = f"targets[{i}]" + (f" (id={tid})" if isinstance(tid, str) else "")
            if not isinstance(raw, dict):
                loader.problem(file, entry, "-", "a mapping")
                continue
            if isinstance(tid, str):
                if tid in first:
                    loader.problem(
                        file, entry, "id", f"duplicate target id {tid!r} (first at {first[tid]})"
                    )
                    continue
                first[tid] = entry if file == loader.main else f"{file.name}: {entry}"
            target = loader.validate(TargetConfig, raw, file, entry)
            out.append((file, entry, target if isinstance(target, TargetConfig) else None))
    if not any(t for _, _, t in out) and not loader.problems:
        loader.problem(loader.main, "targets", "-", "no target to poll")
    return out


def _defined(documents: list[tuple[Path, dict[str, Any]]], section: str) -> set[str]:
    """Names defined in a section, valid or not (a bad entry is reported on its own)."""
    names: set[str] = set()
    for _, doc in documents:
        entries = doc.get(section)
        if isinstance(entries, dict):
            names |= {str(n) for n in entries}
    return names


def _cross_check(
    loader: _Loader,
    targets: list[tuple[Path, str, TargetConfig | None]],
    auths: set[str],
    sites: set[str],
) -> None:
    for file, entry, target in targets:
        if target is None:
            continue
        if target.auth is not None and target.auth not in auths:
            known = ", ".join(sorted(auths)) or "none defined"
            loader.problem(file, entry, "auth", f"unknown auth {target.auth!r} (known: {known})")
        if target.site not in sites:
            known = ", ".join(sorted(sites))
            loader.problem(file, entry, "site", f"unknown site {target.site!r} (known: {known})")


def format_problems(problems: list[ConfigProblem]) -> str:
    """One problem a line, as `check-config` prints them."""
    return "\n".join(str(p) for p in problems)

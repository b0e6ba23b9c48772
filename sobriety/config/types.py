"""Helpers of the configuration: value types (durations, dates, secrets, paths, addresses,
hours), the problem-carrying error of validators, and YAML parsing that keeps line numbers."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import yaml
from pydantic import AfterValidator, BeforeValidator, SecretStr, ValidationInfo

from sobriety.errors import ConfigError, ConfigProblem

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


Loc = tuple[str | int, ...]
Problems = list[tuple[Loc, str]]


class FieldProblems(ValueError):
    """Several problems found by one validator, each at a location relative to where it ran.

    The loader turns each item into its own ConfigProblem, so a model-level check can name the
    field at fault (`priv_password`) rather than the whole entry.
    """

    def __init__(self, items: Problems) -> None:
        self.items = items
        super().__init__("; ".join(f"{dotted(loc)}: {message}" for loc, message in items))


def dotted(loc: Loc) -> str:
    """('opening_hours', 'mon', 1) to 'opening_hours.mon[1]'; () to '-'."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "-"


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as "30s", "5m", "1h30m"."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 30s, 5m, 1h")
    seconds: float | None = None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        match = _DURATION.match(text)
        if text and match and any(match.groups()):
            h, m, s = (float(g) if g else 0.0 for g in match.groups())
            seconds = h * 3600 + m * 60 + s
        elif re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
    if seconds is None or not math.isfinite(seconds):
        raise ValueError(f"not a duration: {value!r} (use seconds or 30s, 5m, 1h30m)")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def parse_date(value: object) -> date:
    """A YAML date or an ISO string; not a date-time, not a number (2019 is not a date)."""
    if isinstance(value, datetime):
        raise ValueError("a date like 2019-09-01, without a time of day")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")


IsoDate = Annotated[date, BeforeValidator(parse_date)]


def check_address(value: str) -> str:
    """An IPv4 or IPv6 literal or an RFC 1123 host name."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return value
    if re.fullmatch(r"[\d.]+", value) or not _HOSTNAME.match(value):
        raise ValueError(f"not a valid IPv4/IPv6 address or host name: {value!r}")
    return value


def split_listen(listen: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' to (host, port)."""
    if listen.startswith("["):
        host, sep, port = listen[1:].partition("]:")
    else:
        host, sep, port = listen.rpartition(":")
        if ":" in host:
            sep = ""  # a bare IPv6 literal needs brackets
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen must be HOST:PORT or [IPv6]:PORT, not {listen!r}")
    check_address(host)
    return host, int(port)


def parse_hours(value: str) -> tuple[time, time]:
    """'08:00-12:00' to (start, end), start before end; '24:00' ends at midnight."""
    match = _HOURS.fullmatch(value.strip())
    if not match:
        raise ValueError(f"opening hours are HH:MM-HH:MM, not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start = time(h1, m1)
        end = time.max if (h2, m2) == (24, 0) else time(h2, m2)
    except ValueError:
        raise ValueError(f"not a time of day in {value!r}") from None
    if start >= end:
        raise ValueError(f"{value!r}: the start must come before the end")
    return start, end


class SecretResolver:
    """Turns a literal, `{env: NAME}` or `{file: PATH}` into a SecretStr, never echoing it."""

    def __init__(self, env: Mapping[str, str], base_dir: Path) -> None:
        self.env = env
        self.base_dir = base_dir

    def resolve(self, value: object) -> SecretStr:
        if isinstance(value, SecretStr):
            return value
        if isinstance(value, str):
            return SecretStr(value)
        if isinstance(value, dict) and len(value) == 1:
            ((kind, ref),) = value.items()
            if kind == "env" and isinstance(ref, str):
                if ref not in self.env:
                    raise ValueError(f"environment variable {ref} is not set")
                return SecretStr(self.env[ref])
            if kind == "file" and isinstance(ref, str):
                path = under(self.base_dir, Path(ref))
                try:
                    return SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n"))
                except (OSError, UnicodeDecodeError) as exc:
                    reason = getattr(exc, "strerror", None) or "not UTF-8 text"
                    raise ValueError(f"cannot read secret file {path}: {reason}") from None
        raise ValueError("a secret is a quoted string, {env: NAME} or {file: PATH}")


def _secret(value: object, info: ValidationInfo) -> object:
    if value is None:
        return None
    context = info.context if isinstance(info.context, Mapping) else {}
    resolver = context.get("secrets")
    if isinstance(resolver, SecretResolver):
        return resolver.resolve(value)
    if isinstance(value, str | SecretStr):
        return value
    raise ValueError("{env: NAME} and {file: PATH} secrets need load_config")


Secret = Annotated[SecretStr | None, BeforeValidator(_secret)]


def reveal(secret: SecretStr | None) -> str | None:
    """A secret's text, for the one place that must send it (a transport, an SMTP login)."""
    return None if secret is None else secret.get_secret_value()


def under(base: Path, path: Path) -> Path:
    """`path` made absolute: `~` expanded, relative paths taken from `base`."""
    path = path.expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _config_path(path: Path, info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, Mapping) else {}
    base = context.get("base_dir")
    return under(base, path) if isinstance(base, Path) else path


ConfigPath = Annotated[Path, AfterValidator(_config_path)]
"""A path in the configuration: relative to the main file's folder when loaded."""


# libyaml's parser where PyYAML was built with it: a 10,000-target file parses in a second
# instead of fifteen (the pure-Python scanner is most of a large fleet's start)
if TYPE_CHECKING:
    _SafeBase = yaml.SafeLoader
else:
    _SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YamlLoader(_SafeBase):
    """SafeLoader whose bad dates are YAML errors with a line, not bare ValueErrors."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> date | datetime:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, "not a valid date (fix it or quote it)", node.start_mark
            ) from None


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _YamlLoader.construct_yaml_timestamp)


def load_yaml(text: str) -> object:
    """`yaml.safe_load`, through libyaml where present (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader


def parse_yaml(text: str) -> tuple[object, dict[Loc, int], Problems]:
    """Data, the line of every key and list item, and duplicate keys (which YAML hides).

    Raises yaml.YAMLError; describe it with `yaml_error_message`.
    """
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: dict[Loc, int] = {}
        duplicates = _walk(node, (), lines, set())
        return loader.construct_document(node), lines, duplicates
    finally:
        loader.dispose()


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], seen: set[int]) -> Problems:
    if id(node) in seen:  # an alias: walked already (and maybe recursive)
        return []
    seen.add(id(node))
    problems: Problems = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in first:  # YAML keeps the last one: report it, then read it
                problems.append(
                    ((*loc, key), f"duplicate key {key!r} (first at line {first[key]})")
                )
            first.setdefault(key, line)
            lines[(*loc, key)] = line
            problems += _walk(value_node, (*loc, key), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            problems += _walk(item, (*loc, i), lines, seen)
    return problems


def yaml_error_message(exc: yaml.YAMLError) -> str:
    """Where and what, without the source snippet (it could hold a secret)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    message = f"YAML syntax error{where}: {getattr(exc, 'problem', None) or 'unreadable'}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark and (mark is None or context_mark.line != mark.line):
        message += f" ({context} at line {context_mark.line + 1})"
    return message


def read_section(path: Path, key: str) -> object:
    """`key` of a small YAML data file (classes, policy, alert rules); ConfigError naming the
    file when it cannot be read or parsed. None when the file has no such key."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([ConfigProblem(str(path), "-", "-", f"cannot read: {exc}")]) from None
    return raw.get(key) if isinstance(raw, dict) else None

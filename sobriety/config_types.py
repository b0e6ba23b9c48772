"""Small value types of the configuration: durations, secrets, addresses, opening hours."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, SecretStr

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as "30s", "5m", "1h30m"."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 30s, 5m, 1h")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        match = _DURATION.match(text)
        if text and match and any(match.groups()):
            h, m, s = (float(g) if g else 0.0 for g in match.groups())
            return h * 3600 + m * 60 + s
        try:
            return float(text)
        except ValueError:
            pass
    raise ValueError(f"not a duration: {value!r} (use seconds or 30s, 5m, 1h30m)")


Duration = Annotated[float, BeforeValidator(parse_duration)]


def check_address(value: str) -> str:
    """An IPv4 or IPv6 literal or an RFC 1123 host name."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", value) or not _HOSTNAME.match(value):
        raise ValueError(f"not a valid IPv4/IPv6 address or host name: {value!r}")
    return value


def split_listen(listen: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' to (host, port)."""
    if listen.startswith("["):
        host, sep, port = listen[1:].partition("]:")
    else:
        host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen must be HOST:PORT or [IPv6]:PORT, not {listen!r}")
    check_address(host)
    return host, int(port)


def parse_hours(value: str) -> tuple[time, time]:
    """'08:00-12:00' to (start, end), start before end."""
    match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", value.strip())
    if not match:
        raise ValueError(f"opening hours are HH:MM-HH:MM, not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h2 == 24 and m2 == 0:
        h2, m2 = 23, 59
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValueError(f"not a time of day in {value!r}") from None
    if start >= end:
        raise ValueError(f"{value!r}: the start must come before the end")
    return start, end


class SecretResolver:
    """Turns `literal`, `{env: NAME}` or `{file: PATH}` into a SecretStr."""

    def __init__(self, env: Mapping[str, str], base_dir: Path) -> None:
        self.env = env
        self.base_dir = base_dir

    def resolve(self, value: object) -> SecretStr:
        if isinstance(value, str):
            return SecretStr(value)
        if isinstance(value, dict) and len(value) == 1:
            ((kind, ref),) = value.items()
            if kind == "env" and isinstance(ref, str):
                if ref not in self.env:
                    raise ValueError(f"environment variable {ref} is not set")
                return SecretStr(self.env[ref])
            if kind == "file" and isinstance(ref, str):
                path = Path(ref) if Path(ref).is_absolute() else self.base_dir / ref
                try:
                    return SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n"))
                except OSError as exc:
                    raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
        raise ValueError("a secret is a string, {env: NAME} or {file: PATH}")

"""`--web.config.file`: TLS, basic auth, headers and rate limit in exporter-toolkit's format.

The file is the one every Prometheus exporter reads (`tls_server_config`,
`http_server_config`, `basic_auth_users`, `rate_limit`), so a site's existing file works
here. Relative paths are taken from the file's folder. Every problem is reported at once
as `FILE: SECTION: FIELD: message`. What Python's TLS cannot do is refused by name rather
than ignored: `RequestClientCert` and `RequireAnyClientCert` (Python verifies every client
certificate it asks for) and `curve_preferences`. HTTP/2 is not served (`http2` is
accepted; clients fall back to HTTP/1.1).

Unlike the toolkit, which re-reads the file on each request, the daemon reads it at start
and on every reload (SIGHUP, `POST /-/reload`); a file that no longer loads keeps the old
settings, and certificates renewed in place are picked up by the same reload.
"""

from __future__ import annotations

import os
import re
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

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

from sobriety.config.types import Duration, FieldProblems, Problems, dotted, load_yaml
from sobriety.errors import ConfigError, ConfigProblem

TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
_VERSIONS: Mapping[str, ssl.TLSVersion] = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# Go's cipher suite names (crypto/tls CipherSuites(), TLS 1.0 to 1.2) and OpenSSL's.
CIPHERS: Mapping[str, str] = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
}
# The headers the toolkit lets a site set, and the values it accepts (None: any).
HEADERS: Mapping[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}
_BCRYPT = re.compile(r"^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$")
SECTIONS = ("tls_server_config", "http_server_config", "basic_auth_users", "rate_limit")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsServerConfig(_Strict):
    """`tls_server_config`: the server's certificate, client certificates, versions."""

    cert: str | None = None
    key: SecretStr | None = None
    client_ca: str | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    client_auth_type: Literal[
        "NoClientCert",
        "RequestClientCert",
        "RequireAnyClientCert",
        "VerifyClientCertIfGiven",
        "RequireAndVerifyClientCert",
    ] = "NoClientCert"
    client_ca_file: Path | None = None
    client_allowed_sans: tuple[str, ...] = ()
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    cipher_suites: tuple[str, ...] = ()
    prefer_server_cipher_suites: bool = True
    curve_preferences: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: Problems = []
        for inline, path, name in (("cert", "cert_file", "cert"), ("key", "key_file", "key")):
            given = [f for f in (inline, path) if getattr(self, f) is not None]
            if not given:
                problems.append(((path,), f"missing one of {name} or {path}"))
            elif len(given) == 2:
                problems.append(((inline,), f"give {inline} or {path}, not both"))
        if self.client_ca is not None and self.client_ca_file is not None:
            problems.append((("client_ca",), "give client_ca or client_ca_file, not both"))
        has_ca = self.client_ca is not None or self.client_ca_file is not None
        if self.client_auth_type in ("RequestClientCert", "RequireAnyClientCert"):
            problems.append(
                (
                    ("client_auth_type",),
                    f"{self.client_auth_type} is not supported: Python's TLS verifies every "
                    "client certificate it asks for (use VerifyClientCertIfGiven or "
                    "RequireAndVerifyClientCert with a client CA)",
                )
            )
        elif self.client_auth_type == "NoClientCert" and has_ca:
            problems.append(
                (("client_auth_type",), "client CAs are configured without a client auth policy")
            )
        elif self.client_auth_type != "NoClientCert" and not has_ca:
            problems.append(((("client_ca_file",)), f"{self.client_auth_type} needs a client CA"))
        if _VERSIONS[self.min_version] > _VERSIONS[self.max_version]:
            problems.append((("min_version",), "above max_version"))
        problems += [
            (("cipher_suites", i), f"unknown cipher suite {name!r}")
            for i, name in enumerate(self.cipher_suites)
            if name not in CIPHERS
        ]
        if self.curve_preferences:
            problems.append(
                (
                    ("curve_preferences",),
                    "not supported (Python's ssl module cannot set a curve list); remove it "
                    "to use OpenSSL's defaults",
                )
            )
        if problems:
            raise FieldProblems(problems)
        return self


class HttpServerConfig(_Strict):
    """`http_server_config`: HTTP/2 (not served here) and extra response headers."""

    http2: bool = True
    headers: Mapping[str, str] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _headers(cls, headers: Mapping[str, str]) -> Mapping[str, str]:
        problems: Problems = []
        for name, value in headers.items():
            allowed = HEADERS.get(name, ())
            if allowed == ():
                problems.append(((name,), f"HTTP header {name!r} can not be configured"))
            elif allowed is not None and value not in allowed:
                problems.append(((name,), f"expected one of {list(allowed)}, not {value!r}"))
        if problems:
            raise FieldProblems(problems)
        return headers


class RateLimit(_Strict):
    """`rate_limit`: a token bucket over every request (interval 0: no limit)."""

    interval: Duration = Field(ge=0)
    burst: int = Field(ge=1)


class WebConfig(_Strict):
    """The whole file. An empty file (or none) means plain HTTP with no authentication."""

    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = Field(default_factory=HttpServerConfig)
    basic_auth_users: Mapping[str, SecretStr] = Field(default_factory=dict)
    rate_limit: RateLimit | None = None

    @field_validator("basic_auth_users")
    @classmethod
    def _hashes(cls, users: Mapping[str, SecretStr]) -> Mapping[str, SecretStr]:
        problems: Problems = [
            ((name,), "not a bcrypt hash (make one with `htpasswd -nBC 10 '' | tr -d ':\\n'`)")
            for name, digest in users.items()
            if not _BCRYPT.match(digest.get_secret_value())
        ]
        if problems:
            raise FieldProblems(problems)
        return users

    @property
    def tls(self) -> bool:
        return self.tls_server_config is not None

    @property
    def auth(self) -> bool:
        return bool(self.basic_auth_users)


def load_web_config(path: Path | None) -> WebConfig:
    """Read and check a web config file (None: the defaults); ConfigError with every problem.

    The TLS context is built here too, so a certificate that does not load is a problem of
    this file, found before anything is swapped in.
    """
    if path is None:
        return WebConfig()
    label = str(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError([ConfigProblem(label, "-", "-", f"cannot read: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(label, "-", "-", f"not YAML: {exc}")]) from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(label, "-", "-", "a mapping of sections")])
    try:
        config = WebConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_problems(label, exc)) from None
    config = _resolved(config, path.parent.resolve())
    tls_context(config, label)  # raises ConfigError if the files do not load
    return config


def _problems(label: str, exc: ValidationError) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        section, rest = (str(loc[0]), loc[1:]) if loc else ("-", ())
        error = err.get("ctx", {}).get("error")
        if isinstance(error, FieldProblems):
            for sub, message in error.items:
                out.append(ConfigProblem(label, section, dotted((*rest, *sub)) or "-", message))
            continue
        if err["type"] == "extra_forbidden":
            message = "unknown key" + (f" (known: {', '.join(SECTIONS)})" if len(loc) == 1 else "")
        elif err["type"] == "missing":
            message = "required"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        out.append(ConfigProblem(label, section, dotted(rest) or "-", message))
    return out


def _resolved(config: WebConfig, base: Path) -> WebConfig:
    """Relative file names taken from the web config's own folder, as the toolkit does."""
    tls = config.tls_server_config
    if tls is None:
        return config
    paths = {
        name: base / value
        for name in ("cert_file", "key_file", "client_ca_file")
        if isinstance(value := getattr(tls, name), Path) and not value.is_absolute()
    }
    return config.model_copy(update={"tls_server_config": tls.model_copy(update=paths)})


def tls_context(config: WebConfig, label: str = "web config") -> ssl.SSLContext | None:
    """The server's TLS context (None without `tls_server_config`); ConfigError if a
    certificate, key or CA does not load."""
    if config.tls_server_config is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    apply_tls(context, config.tls_server_config, label)
    return context


def apply_tls(context: ssl.SSLContext, tls: TlsServerConfig, label: str = "web config") -> None:
    """Set `tls` on a context, new or serving: what it sets holds for the next handshakes
    (a renewed certificate, versions, ciphers, client policy). Client CAs add to those
    loaded before; removing one takes a restart."""
    problems = [
        ConfigProblem(label, "tls_server_config", name, why)
        for name in ("cert_file", "key_file", "client_ca_file")
        if (why := _unreadable(getattr(tls, name))) is not None
    ]
    if problems:
        raise ConfigError(problems)
    try:
        _load_chain(context, tls)
    except (OSError, ssl.SSLError, ValueError) as exc:
        problems.append(ConfigProblem(label, "tls_server_config", "cert_file", _why(exc)))
    try:
        if tls.client_ca_file is not None:
            context.load_verify_locations(cafile=str(tls.client_ca_file))
        elif tls.client_ca is not None:
            context.load_verify_locations(cadata=tls.client_ca)
    except (OSError, ssl.SSLError, ValueError) as exc:
        problems.append(ConfigProblem(label, "tls_server_config", "client_ca_file", _why(exc)))
    if problems:
        raise ConfigError(problems)
    context.minimum_version = _VERSIONS[tls.min_version]
    context.maximum_version = _VERSIONS[tls.max_version]
    if tls.cipher_suites:
        context.set_ciphers(":".join(CIPHERS[name] for name in tls.cipher_suites))
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    context.verify_mode = {
        "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
        "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
    }.get(tls.client_auth_type, ssl.CERT_NONE)


def _load_chain(context: ssl.SSLContext, tls: TlsServerConfig) -> None:
    """Certificate and key from files, or from inline PEM through a private temporary file."""
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        return
    with tempfile.TemporaryDirectory(prefix="sobriety-tls-") as folder:
        os.chmod(folder, 0o700)
        cert = Path(folder) / "cert.pem"
        key = Path(folder) / "key.pem"
        cert.write_text(tls.cert or _read(tls.cert_file), encoding="utf-8")
        key.touch(mode=0o600)
        key.write_text(
            tls.key.get_secret_value() if tls.key is not None else _read(tls.key_file),
            encoding="utf-8",
        )
        context.load_cert_chain(str(cert), str(key))


def _read(path: Path | None) -> str:
    if path is None:  # the model makes sure one of the two is given
        raise ValueError("no certificate or key given")
    return path.read_text(encoding="utf-8")


def _unreadable(path: Path | None) -> str | None:
    """Why a configured file cannot be read, or None."""
    if path is None:
        return None
    try:
        with path.open("rb"):
            return None
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"cannot read {exc.filename}: {exc.strerror}"
    if isinstance(exc, ssl.SSLError):
        return f"does not load: {exc.reason or exc}"
    return f"does not load: {exc}"


@dataclass(frozen=True, slots=True)
class PeerNames:
    """The Subject Alternative Names of a client certificate, as `getpeercert()` gives them."""

    values: tuple[str, ...]

    @classmethod
    def of(cls, peercert: object) -> PeerNames:
        names: list[str] = []
        if isinstance(peercert, dict):
            for _kind, value in peercert.get("subjectAltName", ()):
                names.append(str(value).rstrip("\n"))
        return cls(tuple(names))

    def allowed(self, wanted: tuple[str, ...]) -> bool:
        return not wanted or any(name in wanted for name in self.values)
